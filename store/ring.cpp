#include "store/ring.hpp"

#include <algorithm>

namespace boxmon::store {

Ring::Ring(std::size_t capacity) : m_capacity(std::max<std::size_t>(capacity, 1)) {}

void Ring::append(const Sample& sample) {
    for (const Point& p : sample.points) append(p.key, sample.ts, p.value);
}

void Ring::append(const SeriesKey& key, WallTime ts, double value) {
    Series& s = m_series[key];
    if (s.points.size() < m_capacity) {
        // Not full yet: points are in order from index 0 and head stays 0. The whole window is
        // reserved at once: its pages become resident only as points are written, and no series
        // leaves a trail of outgrown buffers behind (growing by doubling in step, every series
        // freed buffers too small for the next round: RSS rose about three times the points).
        if (s.points.capacity() < m_capacity) s.points.reserve(m_capacity);
        s.points.push_back({ts, value});
        return;
    }
    s.points[s.head] = {ts, value};
    s.head = (s.head + 1) % s.points.size();
}

namespace {

// Calls f(point) for the points of `s` oldest first.
template <class Series, class F>
void for_each_in_order(const Series& s, F&& f) {
    const std::size_t n = s.points.size();
    for (std::size_t i = 0; i < n; ++i) f(s.points[(s.head + i) % n]);
}

}  // namespace

std::vector<WindowPoint> Ring::window(const SeriesKey& key, WallTime since) const {
    std::vector<WindowPoint> out;
    auto it = m_series.find(key);
    if (it == m_series.end()) return out;
    for_each_in_order(it->second, [&](const WindowPoint& p) {
        if (p.ts >= since) out.push_back(p);
    });
    return out;
}

std::optional<WindowPoint> Ring::latest(const SeriesKey& key) const {
    auto it = m_series.find(key);
    if (it == m_series.end() || it->second.points.empty()) return std::nullopt;
    const Series& s = it->second;
    const std::size_t n = s.points.size();
    return s.points[(s.head + n - 1) % n];
}

std::vector<SeriesKey> Ring::keys() const {
    std::vector<SeriesKey> out;
    out.reserve(m_series.size());
    for (const auto& [key, s] : m_series) out.push_back(key);
    std::sort(out.begin(), out.end());
    return out;
}

void Ring::set_capacity(std::size_t capacity) {
    capacity = std::max<std::size_t>(capacity, 1);
    for (auto& [key, s] : m_series) {
        std::vector<WindowPoint> ordered;
        ordered.reserve(std::min(capacity, s.points.size()));
        const std::size_t n = s.points.size();
        const std::size_t skip = n > capacity ? n - capacity : 0;
        for (std::size_t i = skip; i < n; ++i) ordered.push_back(s.points[(s.head + i) % n]);
        s.points = std::move(ordered);
        s.head = 0;
    }
    m_capacity = capacity;
}

std::size_t Ring::memory_bytes() const {
    // Node, bucket and the key's strings are counted roughly; the points written exactly (the
    // rest of a reserved window is address space whose pages nothing has touched yet).
    std::size_t bytes = m_series.bucket_count() * sizeof(void*);
    for (const auto& [key, s] : m_series) {
        bytes += sizeof(std::pair<const SeriesKey, Series>) + 2 * sizeof(void*);
        bytes += key.name().capacity();
        for (const Label& l : key.labels())
            bytes += sizeof(Label) + l.name.capacity() + l.value.capacity();
        bytes += s.points.size() * sizeof(WindowPoint);
    }
    return bytes;
}

}  // namespace boxmon::store
