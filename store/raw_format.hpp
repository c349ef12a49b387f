#pragma once
// How raw samples are laid out in boxmon.db (schema version 2; docs/SCHEMA.md, ARCHITECTURE
// "Raw samples: a tick-major recent table folded into per-series chunks"). Pure functions, no
// SQLite: the JSON object of one tick in `recent_samples`, and the packing of one series' points
// into the fixed-slot rows of `sample_chunks`. Internal to store/.

#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace boxmon::store::detail {

// Value slots per chunk row (columns v0 .. v59). Part of schema version 2: never change it.
inline constexpr int k_chunk_slots = 60;
// A chunk's step is at most an hour (the longest interval): a wider gap starts a new row.
inline constexpr std::int64_t k_max_chunk_step_ms = 60 * 60 * 1000;
// A chunk spans at most 6 hours from its first slot to its last, so a range query looks no
// further back than this for the row that holds its first point.
inline constexpr std::int64_t k_max_chunk_span_ms = 6 * 60 * 60 * 1000;

// One raw sample of one series.
struct RawPoint {
    std::int64_t ts = 0;  // Unix ms
    double value = 0;
    bool operator==(const RawPoint& o) const = default;
};

// One row of sample_chunks: the values at first_ts + i * step_ms for i < used; NaN where a tick
// carried no value (stored as NULL).
struct Chunk {
    std::int64_t first_ts = 0;
    std::int64_t step_ms = 0;
    int used = 0;   // the `n` column: the last occupied slot + 1
    int count = 0;  // occupied slots
    std::array<double, k_chunk_slots> slots;

    Chunk() { slots.fill(NAN); }
    // The timestamp of the last occupied slot.
    std::int64_t last_ts() const { return first_ts + static_cast<std::int64_t>(used - 1) * step_ms; }
    // Appends a point later than last_ts() when it falls on this row's grid and within its
    // slots and span; returns false (and changes nothing) otherwise.
    bool try_append(const RawPoint& p);
    // Calls f(RawPoint) for the occupied slots, oldest first.
    template <class F>
    void for_each(F&& f) const {
        for (int i = 0; i < used; ++i)
            if (!std::isnan(slots[static_cast<std::size_t>(i)]))
                f(RawPoint{first_ts + static_cast<std::int64_t>(i) * step_ms, slots[static_cast<std::size_t>(i)]});
    }
};

// Packs points (sorted by ts, no two with the same ts, all later than last->last_ts()) after the
// series' last stored row. Returns the rows to write: `last` extended (first, when it took any
// point) and the new rows; `last_changed` says whether the first returned row replaces `last`.
struct Packed {
    std::vector<Chunk> rows;
    bool last_changed = false;
};
Packed pack_points(std::optional<Chunk> last, std::span<const RawPoint> points);

// The JSON object of one tick's values, {"<series id>":<value>,...}, numbers in the shortest
// form that reads back as the same double.
std::string encode_tick_values(std::span<const std::pair<std::int64_t, double>> values);
// Parses encode_tick_values' output; fails naming the offset of the first malformed byte.
Result<std::vector<std::pair<std::int64_t, double>>> decode_tick_values(std::string_view json);
// The value of one series in such an object, without parsing the rest.
std::optional<double> find_tick_value(std::string_view json, std::int64_t series_id);

// Summary of raw points in one rollup bucket, accumulated oldest first (as SQL's avg did).
struct Bucket {
    std::int64_t start = 0;
    double min = 0;
    double max = 0;
    double sum = 0;
    std::int64_t count = 0;
    void add(double v);
    double avg() const { return sum / static_cast<double>(count); }
};

// The buckets of `step_ms` that sorted points fall in, oldest first.
std::vector<Bucket> bucketize(std::span<const RawPoint> points, std::int64_t step_ms);

// floor(ts / step) * step, also for negative timestamps.
std::int64_t floor_to(std::int64_t ts, std::int64_t step);

}  // namespace boxmon::store::detail
