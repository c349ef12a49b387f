#pragma once
// Pure parser for /proc/diskstats (STYLE rule 3) and the choice of which block devices get disk
// I/O series. Field meanings: https://docs.kernel.org/admin-guide/iostats.html

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace boxmon::collector::kernel {

// Sectors in /proc/diskstats are always 512 bytes, whatever the device's sector size.
inline constexpr std::uint64_t k_diskstats_sector_bytes = 512;

// The counters of one block device or partition that boxmon uses.
struct DiskStats {
    std::uint32_t major = 0;
    std::uint32_t minor = 0;
    std::string name;
    std::uint64_t reads = 0;            // reads completed
    std::uint64_t sectors_read = 0;
    std::uint64_t writes = 0;           // writes completed
    std::uint64_t sectors_written = 0;
    std::optional<std::uint64_t> io_ms;  // milliseconds spent doing I/O; absent on the old
                                         // 4-counter partition lines (before Linux 2.6.25)
};

struct Diskstats {
    std::vector<DiskStats> devices;      // in file order
    std::vector<std::string> problems;   // one per malformed line that was skipped
};

// Parses /proc/diskstats. Accepts the 11-counter lines of every kernel since 2.6, with the 4
// discard (4.18) and 2 flush (5.5) counters or anything after them ignored, and the old
// 4-counter partition lines. An empty text is valid (no block devices: some containers). Fails
// when every line is malformed; a malformed line is skipped and described in `problems`.
Result<Diskstats> parse_diskstats(std::string_view text);

// True for devices whose I/O is not disk I/O: loop devices (their I/O lands on the filesystem
// holding the image, counted there), RAM disks and zram (compressed memory).
bool is_memory_or_loop_device(std::string_view name);

}  // namespace boxmon::collector::kernel
