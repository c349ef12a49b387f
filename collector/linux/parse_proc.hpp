#pragma once
// Pure parsers for the /proc files of the cpu, memory, pressure, load and uptime collectors
// (STYLE rule 3: read and parse are separate). They take the file's text and never touch the
// filesystem, so table tests and fuzz targets drive them directly. Error messages name the line
// and what was wrong; the collector prefixes the path.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace boxmon::collector::kernel {

// One "cpu" or "cpuN" line of /proc/stat, in USER_HZ ticks (jiffies).
// https://docs.kernel.org/filesystems/proc.html#miscellaneous-kernel-statistics-in-proc-stat
struct CpuTimes {
    std::uint64_t user = 0;
    std::uint64_t nice = 0;
    std::uint64_t system = 0;
    std::uint64_t idle = 0;
    std::uint64_t iowait = 0;  // since 2.5.41
    std::uint64_t irq = 0;
    std::uint64_t softirq = 0;
    std::uint64_t steal = 0;       // since 2.6.11
    std::uint64_t guest = 0;       // since 2.6.24; already counted in user
    std::uint64_t guest_nice = 0;  // since 2.6.33; already counted in nice
    int fields = 0;                // how many of the above the line had (4..10)

    bool has_iowait() const { return fields >= 5; }
    bool has_steal() const { return fields >= 8; }
    // All time the CPUs spent: guest and guest_nice are left out because the kernel already
    // counts them in user and nice (counting them again is the classic double-count trap).
    std::uint64_t total() const;
    // Time not busy: idle plus iowait (a CPU waiting for I/O could have run something else).
    std::uint64_t idle_all() const { return idle + iowait; }
};

struct PerCpuTimes {
    unsigned cpu = 0;  // the N of "cpuN"
    CpuTimes times;
};

struct ProcStat {
    CpuTimes all;                   // the aggregate "cpu" line
    std::vector<PerCpuTimes> cpus;  // one per online CPU, in file order (offline CPUs have no line)
    std::string problem;            // first per-CPU line skipped as malformed ("" when none)
};

// Parses /proc/stat into `out`, reusing its buffers. Fails when the aggregate "cpu" line is
// missing or malformed; a malformed "cpuN" line is skipped and described in out.problem.
Result<void> parse_proc_stat(std::string_view text, ProcStat& out);
// The same, returning a fresh ProcStat.
Result<ProcStat> parse_proc_stat(std::string_view text);

// The /proc/meminfo fields boxmon uses, in bytes (the file says kB, meaning KiB).
struct Meminfo {
    std::uint64_t mem_total = 0;
    std::optional<std::uint64_t> mem_free;
    std::optional<std::uint64_t> mem_available;  // absent before Linux 3.14
    std::optional<std::uint64_t> buffers;
    std::optional<std::uint64_t> cached;
    std::optional<std::uint64_t> swap_total;
    std::optional<std::uint64_t> swap_free;
    std::string problem;  // first malformed line among the fields above ("" when none)
};

// Parses /proc/meminfo. Fails when MemTotal is missing, malformed or zero; another malformed
// field is left absent and described in problem. Unknown lines are ignored.
Result<Meminfo> parse_meminfo(std::string_view text);

// One line ("some" or "full") of a /proc/pressure file.
// https://docs.kernel.org/accounting/psi.html
struct PressureLine {
    double avg10 = 0;     // percent of time stalled over the last 10 s
    double avg60 = 0;     // ... 60 s
    double avg300 = 0;    // ... 300 s
    std::uint64_t total = 0;  // microseconds stalled since boot
};

struct Pressure {
    std::optional<PressureLine> some;
    std::optional<PressureLine> full;  // absent in /proc/pressure/cpu before Linux 5.13
};

// Parses /proc/pressure/{cpu,memory,io}. Fails when the file has no "some" line, or a line is
// malformed (an unknown key, a value that is not a number, an average outside 0..100).
Result<Pressure> parse_pressure(std::string_view text);

// /proc/loadavg: "0.52 0.58 0.59 2/345 12345".
struct LoadAvg {
    double load1 = 0;
    double load5 = 0;
    double load15 = 0;
    std::optional<std::uint32_t> running;  // runnable tasks now
    std::optional<std::uint32_t> tasks;    // tasks in total
};

// Parses /proc/loadavg. Fails when one of the three averages is missing, not a number or
// negative; a malformed "running/total" field is left absent.
Result<LoadAvg> parse_loadavg(std::string_view text);

// /proc/uptime: "350735.47 234388.90" (seconds since boot; idle seconds summed over CPUs).
struct Uptime {
    double uptime_seconds = 0;
    std::optional<double> idle_seconds;
};

// Parses /proc/uptime. Fails when the first number is missing, not a number or negative.
Result<Uptime> parse_uptime(std::string_view text);

// Parses an unsigned decimal integer that is the whole of `text` (no sign, no spaces); nullopt
// on anything else, including values above 2^64-1. Shared with hwmon.cpp.
std::optional<std::uint64_t> parse_u64(std::string_view text);
// Parses a signed decimal integer that is the whole of `text` (sysfs millidegrees can be < 0).
std::optional<std::int64_t> parse_i64(std::string_view text);
// Parses a finite decimal number that is the whole of `text`; nullopt otherwise.
std::optional<double> parse_double(std::string_view text);

}  // namespace boxmon::collector::kernel
