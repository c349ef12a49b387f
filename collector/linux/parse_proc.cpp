#include "collector/linux/parse_proc.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>

#include "core/text.hpp"
#include "collector/linux/text_scan.hpp"

namespace boxmon::collector::kernel {

namespace {

constexpr std::size_t k_max_quoted = 40;  // how much of a bad token a message shows
// Far above any real machine (the kernel's NR_CPUS limit is 8192); a bigger index is garbage.
constexpr std::uint64_t k_max_cpu_index = 65535;

bool is_space(char c) { return is_field_space(c); }

// Walks the whitespace-separated fields of one line.
class Fields {
public:
    explicit Fields(std::string_view line) : m_rest(line) {}
    bool next(std::string_view& field) {
        std::size_t i = 0;
        while (i < m_rest.size() && is_space(m_rest[i])) ++i;
        if (i == m_rest.size()) {
            m_rest = {};
            return false;
        }
        std::size_t j = i;
        while (j < m_rest.size() && !is_space(m_rest[j])) ++j;
        field = m_rest.substr(i, j - i);
        m_rest = m_rest.substr(j);
        return true;
    }

private:
    std::string_view m_rest;
};

// A bad token as it appears in a message: quoted, control characters escaped, cut short.
std::string quoted(std::string_view token) {
    // fmt rather than "\"" + s: g++ 12 -O3 warns falsely (-Wrestrict) on operator+ (GCC bug 105651).
    return fmt::format("\"{}\"", truncate_utf8(escape_control(token), k_max_quoted));
}

std::string first_line(std::string_view text) { return std::string(text.substr(0, text.find('\n'))); }

// Parses the numbers after "cpu"/"cpuN"; fails on a non-number or fewer than 4 of them.
Result<CpuTimes> parse_cpu_fields(Fields& fields) {
    std::array<std::uint64_t, 10> v{};
    int n = 0;
    std::string_view f;
    while (fields.next(f)) {
        const auto value = parse_u64(f);
        if (!value) return fail("field {} {} is not a non-negative integer below 2^64", n + 2, quoted(f));
        // Later kernels may add columns; the ten known ones are all boxmon needs.
        if (n < static_cast<int>(v.size())) v[static_cast<std::size_t>(n)] = *value;
        ++n;
    }
    if (n < 4) return fail("{} numbers where at least 4 (user nice system idle) are needed", n);
    CpuTimes t;
    t.user = v[0];
    t.nice = v[1];
    t.system = v[2];
    t.idle = v[3];
    t.iowait = v[4];
    t.irq = v[5];
    t.softirq = v[6];
    t.steal = v[7];
    t.guest = v[8];
    t.guest_nice = v[9];
    t.fields = std::min(n, 10);
    return t;
}

// Sums without wrapping: a sum past 2^64 is reported as such rather than as a small number.
bool add_checked(std::uint64_t& sum, std::uint64_t v) {
    if (sum > std::numeric_limits<std::uint64_t>::max() - v) return false;
    sum += v;
    return true;
}

// "1234 kB" -> bytes.
std::optional<std::uint64_t> parse_kb(std::string_view rest) {
    Fields fields(rest);
    std::string_view number, unit, extra;
    if (!fields.next(number)) return std::nullopt;
    const auto value = parse_u64(number);
    if (!value) return std::nullopt;
    if (!fields.next(unit)) return *value;  // HugePages_Total and friends have no unit
    if (unit != "kB" || fields.next(extra)) return std::nullopt;
    if (*value > std::numeric_limits<std::uint64_t>::max() / 1024) return std::nullopt;
    return *value * 1024;
}

Result<PressureLine> parse_pressure_fields(Fields& fields) {
    PressureLine out;
    bool seen[4] = {false, false, false, false};
    std::string_view f;
    while (fields.next(f)) {
        const auto eq = f.find('=');
        if (eq == std::string_view::npos) return fail("{} is not key=value", quoted(f));
        const std::string_view key = f.substr(0, eq);
        const std::string_view value = f.substr(eq + 1);
        if (key == "total") {
            const auto total = parse_u64(value);
            if (!total) return fail("total={} is not a non-negative integer below 2^64", quoted(value));
            out.total = *total;
            seen[3] = true;
            continue;
        }
        double* avg = key == "avg10" ? &out.avg10 : key == "avg60" ? &out.avg60 : key == "avg300" ? &out.avg300 : nullptr;
        if (avg == nullptr) return fail("unknown key {}", quoted(key));
        const auto d = parse_double(value);
        if (!d || *d < 0 || *d > 100) return fail("{}={} is not a percentage", key, quoted(value));
        *avg = *d;
        seen[key == "avg10" ? 0 : key == "avg60" ? 1 : 2] = true;
    }
    if (!seen[3]) return fail("no total= field");
    return out;
}

}  // namespace

std::optional<std::uint64_t> parse_u64(std::string_view text) {
    if (text.empty() || text[0] < '0' || text[0] > '9') return std::nullopt;
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return v;
}

std::optional<std::int64_t> parse_i64(std::string_view text) {
    if (text.empty()) return std::nullopt;
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return v;
}

std::optional<double> parse_double(std::string_view text) {
    if (text.empty()) return std::nullopt;
    double v = 0;
    // fixed: the kernel writes plain decimals; "inf", "nan" and exponents are not its output.
    const auto [end, ec] =
        std::from_chars(text.data(), text.data() + text.size(), v, std::chars_format::fixed);
    if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(v)) return std::nullopt;
    return v;
}

std::uint64_t CpuTimes::total() const {
    std::uint64_t sum = 0;
    for (const std::uint64_t v : {user, nice, system, idle, iowait, irq, softirq, steal}) {
        if (!add_checked(sum, v)) return std::numeric_limits<std::uint64_t>::max();
    }
    return sum;
}

Result<void> parse_proc_stat(std::string_view text, ProcStat& out) {
    out.cpus.clear();
    out.problem.clear();
    bool have_all = false;
    LineReader lines(text);
    std::string_view line;
    while (lines.next(line)) {
        Fields fields(line);
        std::string_view name;
        if (!fields.next(name) || name.substr(0, 3) != "cpu") continue;
        if (name == "cpu") {
            if (have_all) return fail("line {}: a second aggregate \"cpu\" line", lines.number());
            auto t = parse_cpu_fields(fields);
            if (!t) return fail("line {}: cpu: {}", lines.number(), t.error().message);
            out.all = *t;
            have_all = true;
            continue;
        }
        const auto index = parse_u64(name.substr(3));
        auto t = parse_cpu_fields(fields);
        std::string why;
        if (!index || *index > k_max_cpu_index) why = "not a CPU number";
        else if (!t) why = t.error().message;
        // A line cut short at a field boundary would still parse; every line of one kernel has
        // as many columns as the aggregate line.
        else if (have_all && t->fields != out.all.fields)
            why = fmt::format("{} numbers where the \"cpu\" line has {}", t->fields, out.all.fields);
        if (!why.empty()) {
            if (out.problem.empty()) out.problem = fmt::format("line {}: {}: {}", lines.number(), quoted(name), why);
            continue;
        }
        out.cpus.push_back({static_cast<unsigned>(*index), *t});
    }
    if (!have_all) {
        return fail("no aggregate \"cpu\" line (the file starts {}); is this /proc/stat?",
                    quoted(first_line(text)));
    }
    // The kernel writes the aggregate line first; a "cpuN" line before it was not checked above.
    const auto mismatched = std::remove_if(out.cpus.begin(), out.cpus.end(), [&](const PerCpuTimes& c) {
        if (c.times.fields == out.all.fields) return false;
        if (out.problem.empty())
            out.problem = fmt::format("\"cpu{}\": {} numbers where the \"cpu\" line has {}", c.cpu, c.times.fields,
                                      out.all.fields);
        return true;
    });
    out.cpus.erase(mismatched, out.cpus.end());
    return ok();
}

Result<ProcStat> parse_proc_stat(std::string_view text) {
    ProcStat out;
    BOXMON_CHECK(parse_proc_stat(text, out));
    return out;
}

Result<Meminfo> parse_meminfo(std::string_view text) {
    Meminfo out;
    std::optional<std::uint64_t> total;
    LineReader lines(text);
    std::string_view line;
    while (lines.next(line)) {
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        const std::string_view key = line.substr(0, colon);
        std::optional<std::uint64_t>* field = nullptr;
        if (key == "MemTotal") field = &total;
        else if (key == "MemFree") field = &out.mem_free;
        else if (key == "MemAvailable") field = &out.mem_available;
        else if (key == "Buffers") field = &out.buffers;
        else if (key == "Cached") field = &out.cached;
        else if (key == "SwapTotal") field = &out.swap_total;
        else if (key == "SwapFree") field = &out.swap_free;
        else continue;
        const std::string_view rest = line.substr(colon + 1);
        const auto value = parse_kb(rest);
        if (!value) {
            const std::string message =
                fmt::format("line {}: {}: {} is not a size in kB", lines.number(), key, quoted(rest));
            if (key == "MemTotal") return fail("{}", message);
            if (out.problem.empty()) out.problem = message;
            continue;
        }
        *field = *value;
    }
    if (!total) {
        return fail("no MemTotal line (the file starts {}); is this /proc/meminfo?", quoted(first_line(text)));
    }
    if (*total == 0) return fail("MemTotal is 0");
    out.mem_total = *total;
    return out;
}

Result<Pressure> parse_pressure(std::string_view text) {
    Pressure out;
    LineReader lines(text);
    std::string_view line;
    while (lines.next(line)) {
        Fields fields(line);
        std::string_view kind;
        if (!fields.next(kind)) continue;
        std::optional<PressureLine>* slot = kind == "some" ? &out.some : kind == "full" ? &out.full : nullptr;
        if (slot == nullptr) return fail("line {}: {} is neither \"some\" nor \"full\"", lines.number(), quoted(kind));
        if (slot->has_value()) return fail("line {}: a second \"{}\" line", lines.number(), kind);
        auto parsed = parse_pressure_fields(fields);
        if (!parsed) return fail("line {}: {}: {}", lines.number(), kind, parsed.error().message);
        *slot = *parsed;
    }
    if (!out.some) return fail("no \"some\" line (the file starts {})", quoted(first_line(text)));
    return out;
}

Result<LoadAvg> parse_loadavg(std::string_view text) {
    Fields fields(text.substr(0, text.find('\n')));
    LoadAvg out;
    const char* names[] = {"1-minute", "5-minute", "15-minute"};
    double* slots[] = {&out.load1, &out.load5, &out.load15};
    for (int i = 0; i < 3; ++i) {
        std::string_view f;
        if (!fields.next(f)) return fail("the {} load average is missing (the file is {})", names[i], quoted(text));
        const auto v = parse_double(f);
        if (!v || *v < 0) return fail("the {} load average {} is not a non-negative number", names[i], quoted(f));
        *slots[i] = *v;
    }
    std::string_view tasks;
    if (fields.next(tasks)) {
        const auto slash = tasks.find('/');
        if (slash != std::string_view::npos) {
            const auto running = parse_u64(tasks.substr(0, slash));
            const auto total = parse_u64(tasks.substr(slash + 1));
            if (running && total && *running <= 0xffffffffu && *total <= 0xffffffffu) {
                out.running = static_cast<std::uint32_t>(*running);
                out.tasks = static_cast<std::uint32_t>(*total);
            }
        }
    }
    return out;
}

Result<Uptime> parse_uptime(std::string_view text) {
    Fields fields(text.substr(0, text.find('\n')));
    Uptime out;
    std::string_view f;
    if (!fields.next(f)) return fail("empty; expected \"<seconds since boot> <idle seconds>\"");
    const auto up = parse_double(f);
    if (!up || *up < 0) return fail("the uptime {} is not a non-negative number of seconds", quoted(f));
    out.uptime_seconds = *up;
    if (fields.next(f)) {
        const auto idle = parse_double(f);
        if (idle && *idle >= 0) out.idle_seconds = *idle;
    }
    return out;
}

}  // namespace boxmon::collector::kernel
