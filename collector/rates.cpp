#include "collector/rates.hpp"

#include <algorithm>

namespace boxmon::collector {

Nanos max_rate_elapsed(std::chrono::milliseconds interval) {
    const Nanos scaled = std::chrono::duration_cast<Nanos>(interval) * 5 / 2;
    const Nanos padded = std::chrono::duration_cast<Nanos>(interval + std::chrono::seconds(10));
    return std::max(scaled, padded);
}

RateTracker::RateTracker(const CounterSnapshot* previous, std::string boot_id, Nanos boottime,
                         WallTime wall, std::chrono::milliseconds interval)
    : m_previous(previous) {
    m_next.boot_id = std::move(boot_id);
    m_next.boottime = boottime;
    m_next.wall = wall;
    if (previous == nullptr || previous->empty()) {
        m_reason = "first reading";
        m_previous = nullptr;
        return;
    }
    if (previous->boot_id != m_next.boot_id) {
        m_reason = "the host rebooted since the previous reading";
        m_previous = nullptr;
        return;
    }
    const Nanos elapsed = boottime - previous->boottime;
    if (elapsed < k_min_rate_elapsed) {
        m_reason = "the previous reading is too recent";
        return;
    }
    if (elapsed > max_rate_elapsed(interval)) {
        m_reason = "the previous reading is too old";
        return;
    }
    m_elapsed = std::chrono::duration<double>(elapsed).count();
}

std::optional<std::uint64_t> RateTracker::record(const std::string& key, std::uint64_t value) {
    m_next.values[key] = value;
    if (m_previous == nullptr) return std::nullopt;
    const auto it = m_previous->values.find(key);
    if (it == m_previous->values.end()) return std::nullopt;
    return it->second;
}

std::optional<double> RateTracker::rate(const std::string& key, std::uint64_t value) {
    const auto prev = record(key, value);
    if (!prev || !m_elapsed) return std::nullopt;
    // A counter that went backwards was reset, wrapped or replaced: no rate this tick.
    if (value < *prev) return std::nullopt;
    return static_cast<double>(value - *prev) / *m_elapsed;
}

}  // namespace boxmon::collector
