#include "collector/linux/parse_diskstats.hpp"

#include <charconv>

#include "collector/linux/parse_proc.hpp"  // parse_u64
#include "collector/linux/text_scan.hpp"

namespace boxmon::collector::kernel {

namespace {

// Returns what is wrong with the line, or "".
std::string parse_line(const std::vector<std::string_view>& f, DiskStats& d) {
    // major minor name, then 11+ counters (or 4 on old partition lines).
    if (f.size() != 7 && f.size() < 14)
        return fmt::format("expected 11 or more counters after the device name, found {}",
                           f.size() < 3 ? 0 : f.size() - 3);
    const auto major = parse_u64(f[0]);
    const auto minor = parse_u64(f[1]);
    if (!major || !minor || *major > 0xffffffffu || *minor > 0xffffffffu)
        return fmt::format("device number \"{} {}\" is not two unsigned numbers", f[0].substr(0, 32),
                           f[1].substr(0, 32));
    const std::size_t counters = f.size() == 7 ? 4 : 11;
    std::uint64_t v[11] = {};
    for (std::size_t i = 0; i < counters; ++i) {
        const auto n = parse_u64(f[3 + i]);
        if (!n)
            return fmt::format("counter {} of \"{}\" is not an unsigned 64-bit number: \"{}\"", i + 1,
                               f[2].substr(0, 64), f[3 + i].substr(0, 32));
        v[i] = *n;
    }
    d.major = static_cast<std::uint32_t>(*major);
    d.minor = static_cast<std::uint32_t>(*minor);
    d.name = std::string(f[2]);
    if (counters == 4) {  // reads, sectors read, writes, sectors written
        d.reads = v[0];
        d.sectors_read = v[1];
        d.writes = v[2];
        d.sectors_written = v[3];
        d.io_ms.reset();
    } else {
        d.reads = v[0];
        d.sectors_read = v[2];
        d.writes = v[4];
        d.sectors_written = v[6];
        d.io_ms = v[9];
    }
    return {};
}

}  // namespace

Result<Diskstats> parse_diskstats(std::string_view text) {
    Diskstats out;
    std::vector<std::string_view> f;
    LineReader lines(text);
    std::string_view line;
    while (lines.next(line)) {
        const int lineno = lines.number();
        split_fields(line, f);
        if (f.empty()) continue;
        DiskStats d;
        auto problem = parse_line(f, d);
        if (problem.empty())
            out.devices.push_back(std::move(d));
        else
            out.problems.push_back(fmt::format("line {}: {}", lineno, problem));
    }
    // An empty file is valid: a container or a diskless VM may have no block devices.
    if (out.devices.empty() && !out.problems.empty())
        return fail("no valid device line; {}", out.problems.front());
    return out;
}

bool is_memory_or_loop_device(std::string_view name) {
    return name.starts_with("loop") || name.starts_with("ram") || name.starts_with("zram");
}

}  // namespace boxmon::collector::kernel
