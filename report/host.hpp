#pragma once
// Host facts for the report's first section and for `boxmon sysinfo`: read from the proc and
// sys roots (fixture trees in tests) and /etc/os-release. Parsers are pure; the gatherer is thin.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/fs.hpp"
#include "core/result.hpp"

namespace boxmon::report {

struct DiskFacts {
    std::string mount;
    std::string device;
    std::string fs_type;
    std::optional<std::uint64_t> size_bytes;  // absent when statvfs failed or timed out
};

struct GpuFacts {
    std::string name;
    std::string driver;  // "nvidia 550.54.14", "amdgpu"
};

struct HostFacts {
    std::string hostname;
    std::string os_name;      // PRETTY_NAME, or NAME
    std::string os_version;   // VERSION_ID
    std::string kernel;       // kernel release
    std::string cpu_model;
    int cpu_cores = 0;        // logical CPUs
    std::optional<std::uint64_t> mem_total_bytes;
    std::optional<std::uint64_t> swap_total_bytes;
    std::optional<std::chrono::seconds> uptime;
    std::string primary_interface;  // the default route's interface
    std::string primary_ip;         // its first IPv4 address
    std::vector<DiskFacts> disks;
    std::vector<GpuFacts> gpus;
    std::string boxmon_version;
    std::string config_path;  // "built-in defaults" when none
    std::vector<std::string> boxmon_notes;  // boxmon's own history worth knowing (a database moved aside)
    std::vector<std::string> notes;  // facts that could not be read, and why
};

struct HostOptions {
    std::filesystem::path os_release = "/etc/os-release";
    bool statvfs_disks = true;  // false in tests on fixture trees (sizes of the real host)
};

// Parsers of the files host facts come from (pure, for tests).
std::string parse_cpu_model(std::string_view cpuinfo);
int parse_cpu_count(std::string_view cpuinfo);
// MemTotal and SwapTotal in bytes.
std::pair<std::optional<std::uint64_t>, std::optional<std::uint64_t>> parse_mem_totals(std::string_view meminfo);
std::optional<std::chrono::seconds> parse_uptime(std::string_view uptime);
// PRETTY_NAME (or NAME) and VERSION_ID, quotes removed.
std::pair<std::string, std::string> parse_os_release(std::string_view text);
// The interface of the default IPv4 route in /proc/net/route; empty when none.
std::string parse_default_route_interface(std::string_view route);
// Real filesystems from /proc/mounts (device under /dev, or zfs/btrfs), mount points unescaped.
std::vector<DiskFacts> parse_mounts(std::string_view mounts);

// Reads every fact it can; a fact that cannot be read is left empty and named in `notes`.
// Fails only when nothing at all could be read (the proc root is wrong).
Result<HostFacts> gather_host_facts(const RootFs& root, const HostOptions& options = {});

// The facts as KEY=VALUE lines a shell can source: keys fixed, values single-quoted with
// control characters escaped, so no value can run a command or add a line.
std::string render_sysinfo(const HostFacts& facts);
// A value quoted for a POSIX shell: 'it'\''s'.
std::string shell_quote(std::string_view value);

}  // namespace boxmon::report
