#include "core/units.hpp"

#include <cctype>
#include <cmath>
#include <limits>

namespace boxmon {

namespace {

struct DurationUnit {
    std::string_view name;
    std::int64_t ms;
};

constexpr DurationUnit k_duration_units[] = {
    {"ms", 1},          {"s", 1000},          {"m", 60'000},
    {"h", 3'600'000},   {"d", 86'400'000},    {"w", 604'800'000},
    {"y", 31'536'000'000},
};

}  // namespace

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
    const auto bad = [&](std::string_view why) {
        return fail_as(ErrorKind::usage,
                       "invalid duration \"{}\": {}; write it like \"90s\", \"30m\" or \"1h30m\"",
                       text, why);
    };
    if (text.empty()) return bad("it is empty");
    if (text[0] == '-') return bad("it is negative");
    std::size_t i = 0;
    long double total_ms = 0;
    while (i < text.size()) {
        const std::size_t num_start = i;
        while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
            ++i;
        if (i == num_start) return bad("expected a number");
        const std::string number(text.substr(num_start, i - num_start));
        if (number.find('.') != number.rfind('.')) return bad("malformed number");
        const std::size_t unit_start = i;
        while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
        const std::string_view unit = text.substr(unit_start, i - unit_start);
        if (unit.empty()) return bad("a unit is missing (ms, s, m, h, d, w or y)");
        const DurationUnit* found = nullptr;
        for (const auto& u : k_duration_units)
            if (u.name == unit) found = &u;
        if (found == nullptr) return bad(fmt::format("unknown unit \"{}\"", unit));
        long double value = 0;
        try {
            value = std::stold(number);
        } catch (const std::exception&) {
            return bad("malformed number");
        }
        total_ms += value * static_cast<long double>(found->ms);
        if (total_ms > static_cast<long double>(k_max_duration.count()))
            return bad("it is longer than the limit of 100y");
    }
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(total_ms)));
}

Result<std::uint64_t> parse_size(std::string_view text) {
    const auto bad = [&](std::string_view why) {
        return fail_as(ErrorKind::usage,
                       "invalid size \"{}\": {}; write it like \"512m\", \"2g\" or \"1.5GiB\"", text,
                       why);
    };
    std::size_t i = 0;
    while (i < text.size() && text[i] == ' ') ++i;
    const std::size_t num_start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
        ++i;
    if (i == num_start) return bad(text.empty() ? "it is empty" : "expected a number");
    long double value = 0;
    try {
        value = std::stold(std::string(text.substr(num_start, i - num_start)));
    } catch (const std::exception&) {
        return bad("malformed number");
    }
    while (i < text.size() && text[i] == ' ') ++i;
    std::string unit(text.substr(i));
    long double mult = 1;
    std::string lower;
    for (char c : unit) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower.empty() || lower == "b") mult = 1;
    else if (lower == "k" || lower == "kib") mult = 1024.0L;
    else if (lower == "m" || lower == "mib") mult = 1024.0L * 1024;
    else if (lower == "g" || lower == "gib") mult = 1024.0L * 1024 * 1024;
    else if (lower == "t" || lower == "tib") mult = 1024.0L * 1024 * 1024 * 1024;
    else if (lower == "kb") mult = 1e3L;
    else if (lower == "mb") mult = 1e6L;
    else if (lower == "gb") mult = 1e9L;
    else if (lower == "tb") mult = 1e12L;
    else return bad(fmt::format("unknown unit \"{}\"", unit));
    const long double bytes = value * mult;
    if (bytes > static_cast<long double>(std::numeric_limits<std::int64_t>::max()))
        return bad("it is too large");
    return static_cast<std::uint64_t>(std::llround(bytes));
}

std::string format_duration(std::chrono::milliseconds d) {
    std::int64_t ms = d.count();
    if (ms == 0) return "0s";
    std::string out;
    if (ms < 0) {
        out = "-";
        ms = -ms;
    }
    if (ms < 1000) return out + fmt::format("{}ms", ms);
    std::int64_t s = ms / 1000;
    const std::int64_t rest_ms = ms % 1000;
    const std::int64_t days = s / 86400;
    s %= 86400;
    const std::int64_t hours = s / 3600;
    s %= 3600;
    const std::int64_t minutes = s / 60;
    s %= 60;
    if (days) out += fmt::format("{}d", days);
    if (hours) out += fmt::format("{}h", hours);
    if (minutes) out += fmt::format("{}m", minutes);
    if (s || rest_ms) {
        if (rest_ms) out += fmt::format("{}.{:03}s", s, rest_ms);
        else out += fmt::format("{}s", s);
    }
    return out;
}

std::string format_bytes(double bytes) {
    static constexpr const char* k_units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    if (!std::isfinite(bytes)) return "n/a";
    int u = 0;
    double v = bytes;
    while (std::fabs(v) >= 1024.0 && u < 5) {
        v /= 1024.0;
        ++u;
    }
    if (u == 0) return fmt::format("{:.0f} B", v);
    return fmt::format("{:.1f} {}", v, k_units[u]);
}

}  // namespace boxmon
