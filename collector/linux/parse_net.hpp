#pragma once
// Pure parser for /proc/net/dev (STYLE rule 3): text in, counters out, no filesystem access, so
// table tests and the fuzz target drive it directly. Messages name the line; the collector
// prefixes the path.
// Format: two header lines, then "<name>: <8 receive counters> <8 transmit counters>" per
// interface. https://docs.kernel.org/networking/statistics.html#procfs

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace boxmon::collector::kernel {

// The counters of one interface that boxmon uses (monotonic since the interface was created).
struct NetDevCounters {
    std::string name;
    std::uint64_t rx_bytes = 0;
    std::uint64_t rx_packets = 0;
    std::uint64_t rx_errors = 0;
    std::uint64_t rx_drops = 0;
    std::uint64_t tx_bytes = 0;
    std::uint64_t tx_packets = 0;
    std::uint64_t tx_errors = 0;
    std::uint64_t tx_drops = 0;
};

struct NetDev {
    std::vector<NetDevCounters> interfaces;  // in file order
    std::vector<std::string> problems;       // one per malformed line that was skipped
};

// Parses /proc/net/dev. Fails when the text is empty or holds no interface line at all while it
// had malformed ones; a malformed interface line (fewer than 16 counters, a counter that is not
// an unsigned 64-bit number, an empty name) is skipped and described in `problems`, so one bad
// line does not hide the other interfaces. Extra trailing counters (newer kernels) are ignored.
Result<NetDev> parse_net_dev(std::string_view text);

}  // namespace boxmon::collector::kernel
