#include "collector/linux/parse_net.hpp"

#include <array>
#include <charconv>
#include <optional>

#include "collector/linux/parse_proc.hpp"  // parse_u64
#include "collector/linux/text_scan.hpp"

namespace boxmon::collector::kernel {

namespace {

// Receive: bytes packets errs drop fifo frame compressed multicast; transmit: bytes packets errs
// drop fifo colls carrier compressed.
constexpr std::size_t k_counters = 16;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

// Fills `out` from one "name: counters..." line; returns what is wrong with it, or "".
std::string parse_line(std::string_view line, NetDevCounters& out) {
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return "no \"name:\" prefix";
    const auto name = trim(line.substr(0, colon));
    if (name.empty()) return "empty interface name";
    std::array<std::uint64_t, k_counters> v{};
    std::size_t n = 0;
    std::string_view rest = line.substr(colon + 1);
    while (true) {
        while (!rest.empty() && is_space(rest.front())) rest.remove_prefix(1);
        if (rest.empty()) break;
        std::size_t len = 0;
        while (len < rest.size() && !is_space(rest[len])) ++len;
        const auto field = rest.substr(0, len);
        rest.remove_prefix(len);
        if (n == k_counters) break;  // newer kernels may append counters; ignore them
        const auto value = parse_u64(field);
        if (!value)
            return fmt::format("counter {} of \"{}\" is not an unsigned 64-bit number: \"{}\"", n + 1,
                               name, field.substr(0, 32));
        v[n++] = *value;
    }
    if (n < k_counters)
        return fmt::format("expected {} counters after \"{}:\", found {}", k_counters, name, n);
    out.name = std::string(name);
    out.rx_bytes = v[0];
    out.rx_packets = v[1];
    out.rx_errors = v[2];
    out.rx_drops = v[3];
    out.tx_bytes = v[8];
    out.tx_packets = v[9];
    out.tx_errors = v[10];
    out.tx_drops = v[11];
    return {};
}

}  // namespace

Result<NetDev> parse_net_dev(std::string_view text) {
    if (trim(text).empty()) return fail("empty file; expected the /proc/net/dev header and one line per interface");
    NetDev out;
    LineReader lines(text);
    std::string_view line;
    while (lines.next(line)) {
        const int lineno = lines.number();
        // The two header lines are the only ones with '|'.
        if (trim(line).empty() || line.find('|') != std::string_view::npos) continue;
        NetDevCounters c;
        auto problem = parse_line(line, c);
        if (problem.empty())
            out.interfaces.push_back(std::move(c));
        else
            out.problems.push_back(fmt::format("line {}: {}", lineno, problem));
    }
    if (out.interfaces.empty() && !out.problems.empty())
        return fail("no valid interface line; {}", out.problems.front());
    return out;
}

}  // namespace boxmon::collector::kernel
