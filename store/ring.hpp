#pragma once
// The in-memory ring: a fixed window of recent values per series, for rules, sparklines, status
// and the values attached to alerts. In one-shot mode it is rebuilt from SQLite for the window
// that is needed.

#include <cstddef>
#include <optional>
#include <unordered_map>
#include <vector>

#include "core/incident.hpp"
#include "core/sample.hpp"

namespace boxmon::store {

class Ring {
public:
    // Keeps at most `capacity` points per series (the oldest are overwritten).
    explicit Ring(std::size_t capacity);

    // Appends every point of the sample at sample.ts.
    void append(const Sample& sample);
    // Appends one point (rebuilding from history); points must come in time order per series.
    void append(const SeriesKey& key, WallTime ts, double value);
    // The points of `key` at or after `since`, oldest first.
    std::vector<WindowPoint> window(const SeriesKey& key, WallTime since) const;
    std::optional<WindowPoint> latest(const SeriesKey& key) const;
    std::vector<SeriesKey> keys() const;
    std::size_t capacity() const { return m_capacity; }
    // Changes the capacity, keeping the newest points.
    void set_capacity(std::size_t capacity);
    // Approximate heap bytes in use (for the RSS budget).
    std::size_t memory_bytes() const;

private:
    struct Series {
        std::vector<WindowPoint> points;  // circular once full
        std::size_t head = 0;             // index of the oldest point when full
    };
    std::size_t m_capacity;
    std::unordered_map<SeriesKey, Series, SeriesKeyHash> m_series;
};

}  // namespace boxmon::store
