#pragma once
// Process discovery for the services collector: which processes belong to a configured service
// (a systemd unit's cgroup, a pidfile, or a command-line match) and what they use. Parsers are
// pure; readers take a RootFs so tests run on hand-made /proc trees (tests/fixtures/services/).

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "core/fs.hpp"
#include "core/result.hpp"

namespace boxmon::collector::services {

// The fields of /proc/<pid>/stat the collector uses.
// https://man7.org/linux/man-pages/man5/proc_pid_stat.5.html
struct PidStat {
    pid_t pid = 0;
    std::string comm;
    char state = '?';
    pid_t ppid = 0;
    std::uint32_t flags = 0;      // the kernel's PF_* flags (field 9)
    std::uint64_t utime = 0;      // clock ticks (USER_HZ)
    std::uint64_t stime = 0;      // clock ticks
    std::uint64_t starttime = 0;  // clock ticks after boot

    // PF_KTHREAD: a kernel thread, which has no command line and lives in the root cgroup,
    // so it is never part of a service (most of a big server's processes are these).
    bool kernel_thread() const { return (flags & 0x00200000U) != 0; }
};

// Parses /proc/<pid>/stat. The comm field may hold spaces and ')' so fields are counted after
// the last ')'. Fails with what was wrong when a needed field is missing or not a number.
Result<PidStat> parse_pid_stat(std::string_view text);

// VmRSS of /proc/<pid>/status in bytes; nullopt when absent (kernel threads, zombies).
std::optional<std::uint64_t> parse_status_rss(std::string_view text);

// /proc/<pid>/cmdline (NUL-separated argv) as one line with spaces.
std::string parse_cmdline(std::string_view text);

// True when a /proc/<pid>/cgroup text places the process in `unit` (or below it): some line's
// path has a component equal to the unit name, e.g. "0::/system.slice/nginx.service".
bool cgroup_contains_unit(std::string_view cgroup_text, std::string_view unit);

// One live process as the scan saw it.
struct ProcessEntry {
    PidStat stat;
    // Filled only when asked for (a service matches on command lines, or names a unit), and
    // never for kernel threads, whose files are not read.
    std::string cmdline;
    std::string cgroup;
};

struct ScanOptions {
    bool cmdlines = false;
    bool cgroups = false;
};

// Every process under root's proc directory. Processes that vanish during the scan are left
// out; fails only when the proc directory itself cannot be listed.
Result<std::vector<ProcessEntry>> scan_processes(const RootFs& root, const ScanOptions& options);

// The processes of one service: the processes found by its unit, pidfile or match, plus all
// their descendants, sorted by PID. `self` (the caller's own PID, 0 for none) never matches a
// command line, nor does a child of `self` whose command line is one of `own_commands` (the
// command checks, argv joined by spaces), so boxmon finds neither itself nor its checks. Fails when a pidfile cannot be read or holds
// no PID (with the path); a PID that is not running is an empty result, not a failure.
Result<std::vector<pid_t>> find_service_pids(const ServiceConfig& service,
                                             const std::vector<ProcessEntry>& processes,
                                             pid_t self = 0,
                                             const std::vector<std::string>& own_commands = {});

// The main PID of a service: its pidfile's PID when it has one, otherwise the oldest process
// whose parent is not part of the service (lowest PID on a tie); 0 for no processes.
pid_t main_pid(const ServiceConfig& service, const std::vector<pid_t>& pids,
               const std::vector<ProcessEntry>& processes);

// What a service's processes use right now.
struct ServiceUsage {
    std::size_t processes = 0;
    std::uint64_t rss_bytes = 0;
    std::uint64_t cpu_ticks = 0;  // utime + stime of all processes
    std::optional<std::uint64_t> open_files;  // nullopt when no fd directory was readable
};

// Sums usage over `pids` (RSS from status, CPU from the scanned stat, fds from <pid>/fd).
// Processes that exited since the scan are skipped.
ServiceUsage measure_usage(const RootFs& root, const std::vector<pid_t>& pids,
                           const std::vector<ProcessEntry>& processes);

}  // namespace boxmon::collector::services
