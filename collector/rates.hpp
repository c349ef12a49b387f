#pragma once
// RateTracker: the one place counters become rates (STYLE rule 9). It compares each raw counter
// with the previous snapshot (persisted by the store, so one-shot runs see the daemon's) and
// refuses a rate when it would be wrong: first reading, a new boot, a counter that went
// backwards (wrap, reset, reboot), or an elapsed time too short or too long.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/sample.hpp"

namespace boxmon::collector {

// Elapsed times outside [k_min_rate_elapsed, max_rate_elapsed(interval)] give no rate.
inline constexpr Nanos k_min_rate_elapsed = std::chrono::milliseconds(500);
// 2.5 intervals, and at least interval + 10 s: a missed timer firing still yields a rate, a
// suspend or a sample three days later does not.
Nanos max_rate_elapsed(std::chrono::milliseconds interval);

class RateTracker {
public:
    // `previous` may be null (nothing persisted yet). `boot_id` and `boottime` describe now.
    RateTracker(const CounterSnapshot* previous, std::string boot_id, Nanos boottime, WallTime wall,
                std::chrono::milliseconds interval);

    // Records `value` under `key` (e.g. "net/eth0/rx_bytes") and returns its per-second rate
    // since the previous snapshot, or nullopt when there is no trustworthy rate this tick.
    std::optional<double> rate(const std::string& key, std::uint64_t value);
    // Records a counter without asking for a rate; returns the previous raw value of the same
    // boot, if any (for collectors that need a plain delta, e.g. CPU jiffies).
    std::optional<std::uint64_t> record(const std::string& key, std::uint64_t value);
    // Seconds since the previous snapshot, or nullopt when rates are refused for this tick
    // (first reading, new boot, elapsed out of bounds).
    std::optional<double> elapsed_seconds() const { return m_elapsed; }
    // Why rates are refused this tick ("" when they are not).
    std::string_view no_rate_reason() const { return m_reason; }

    // The snapshot to persist: every counter recorded this tick.
    const CounterSnapshot& snapshot() const { return m_next; }
    CounterSnapshot take_snapshot() { return std::move(m_next); }

private:
    const CounterSnapshot* m_previous;
    CounterSnapshot m_next;
    std::optional<double> m_elapsed;
    std::string m_reason;
};

}  // namespace boxmon::collector
