#pragma once
// Sample: everything one tick collected. Points are (series, value); collectors report their
// own health beside them. CounterSnapshot carries the raw counters that rates are computed
// from, so they can be persisted and a one-shot run computes the same rate as the daemon.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.hpp"
#include "core/series.hpp"

namespace boxmon {

struct Point {
    SeriesKey key;
    double value = 0;
};

// How one collector did in one tick.
struct CollectorStatus {
    std::string name;
    bool ok = true;
    std::chrono::microseconds duration{0};
    std::string error;  // empty when ok; what failed and where otherwise
};

struct Sample {
    WallTime ts{};        // the tick's wall time, aligned to the interval boundary
    Instant taken{};      // when the collection actually ran (all three clocks)
    std::vector<Point> points;
    std::vector<CollectorStatus> collectors;

    // Appends a point; NaN and infinities are never stored (callers skip them).
    void add(SeriesKey key, double value) { points.push_back({std::move(key), value}); }
    // The value of an exact series, if present.
    std::optional<double> find(const SeriesKey& key) const;
};

// Raw counter values at one instant, keyed by a collector-chosen name such as
// "net/eth0/rx_bytes". Rates are computed against the previous snapshot of the same boot.
struct CounterSnapshot {
    std::string boot_id;  // /proc/sys/kernel/random/boot_id; a new boot invalidates all counters
    Nanos boottime{};     // CLOCK_BOOTTIME when the counters were read
    WallTime wall{};
    std::unordered_map<std::string, std::uint64_t> values;

    bool empty() const { return values.empty() && boot_id.empty(); }
};

// Persistence of counter snapshots across processes (implemented by store/).
class CounterStore {
public:
    virtual ~CounterStore() = default;
    // The last saved snapshot, or nullopt when none was ever saved.
    virtual Result<std::optional<CounterSnapshot>> load_counters() = 0;
};

}  // namespace boxmon
