#include "store/raw_format.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace boxmon::store::detail {

std::int64_t floor_to(std::int64_t ts, std::int64_t step) {
    std::int64_t q = ts / step;
    if (ts % step != 0 && ts < 0) --q;
    return q * step;
}

bool Chunk::try_append(const RawPoint& p) {
    if (used == 0) return false;
    const std::int64_t offset = p.ts - first_ts;
    if (offset <= static_cast<std::int64_t>(used - 1) * step_ms || offset > k_max_chunk_span_ms) return false;
    if (count == 1 && used == 1 &&
        (step_ms <= 0 || offset % step_ms != 0 || offset / step_ms >= k_chunk_slots)) {
        // A row of one point keeps the step it was given (the series' previous one) when the
        // second point lies on that grid, a missed tick becoming a hole; otherwise the second
        // point sets the step.
        if (offset > k_max_chunk_step_ms) return false;
        step_ms = offset;
    }
    if (step_ms <= 0 || offset % step_ms != 0) return false;
    const std::int64_t slot = offset / step_ms;
    if (slot >= k_chunk_slots) return false;
    slots[static_cast<std::size_t>(slot)] = p.value;
    used = static_cast<int>(slot) + 1;
    ++count;
    return true;
}

Packed pack_points(std::optional<Chunk> last, std::span<const RawPoint> points) {
    Packed out;
    std::optional<Chunk> cur = std::move(last);
    bool cur_is_last = cur.has_value();
    for (const RawPoint& p : points) {
        if (cur && cur->try_append(p)) {
            if (cur_is_last) out.last_changed = true;
            continue;
        }
        std::int64_t step = cur ? cur->step_ms : 0;
        if (cur && (cur_is_last ? out.last_changed : true)) out.rows.push_back(*cur);
        cur_is_last = false;
        cur.emplace();
        cur->first_ts = p.ts;
        cur->step_ms = step;  // provisional until the second point
        cur->slots[0] = p.value;
        cur->used = 1;
        cur->count = 1;
    }
    if (cur && (cur_is_last ? out.last_changed : true)) out.rows.push_back(*cur);
    return out;
}

std::string encode_tick_values(std::span<const std::pair<std::int64_t, double>> values) {
    std::string out;
    out.reserve(values.size() * 24 + 2);
    out.push_back('{');
    char buf[64];
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i != 0) out.push_back(',');
        out.push_back('"');
        auto [p1, e1] = std::to_chars(buf, buf + sizeof buf, values[i].first);
        (void)e1;
        out.append(buf, p1);
        out.append("\":");
        // Shortest representation that parses back to the same double (std::to_chars).
        auto [p2, e2] = std::to_chars(buf, buf + sizeof buf, values[i].second);
        (void)e2;
        out.append(buf, p2);
    }
    out.push_back('}');
    return out;
}

namespace {

Unexpected<Error> malformed(std::string_view json, std::size_t at) {
    return fail("malformed tick values at byte {} of \"{:.80}\"", at, json);
}

}  // namespace

Result<std::vector<std::pair<std::int64_t, double>>> decode_tick_values(std::string_view json) {
    std::vector<std::pair<std::int64_t, double>> out;
    const char* const begin = json.data();
    const char* const end = begin + json.size();
    const char* p = begin;
    auto at = [&] { return static_cast<std::size_t>(p - begin); };
    if (p == end || *p != '{') return malformed(json, at());
    ++p;
    if (p != end && *p == '}') {
        if (p + 1 != end) return malformed(json, at() + 1);
        return out;
    }
    while (true) {
        if (p == end || *p != '"') return malformed(json, at());
        ++p;
        std::int64_t id = 0;
        auto [q, ec] = std::from_chars(p, end, id);
        if (ec != std::errc() || q == end || *q != '"') return malformed(json, at());
        p = q + 1;
        if (p == end || *p != ':') return malformed(json, at());
        ++p;
        double v = 0;
        auto [r, ec2] = std::from_chars(p, end, v);
        if (ec2 != std::errc() || !std::isfinite(v)) return malformed(json, at());
        p = r;
        out.emplace_back(id, v);
        if (p == end) return malformed(json, at());
        if (*p == '}') {
            if (p + 1 != end) return malformed(json, at() + 1);
            return out;
        }
        if (*p != ',') return malformed(json, at());
        ++p;
    }
}

std::optional<double> find_tick_value(std::string_view json, std::int64_t series_id) {
    char key[32];
    key[0] = '"';
    auto [p, ec] = std::to_chars(key + 1, key + sizeof key - 2, series_id);
    (void)ec;
    *p++ = '"';
    *p++ = ':';
    const std::string_view needle(key, static_cast<std::size_t>(p - key));
    const std::size_t at = json.find(needle);
    if (at == std::string_view::npos) return std::nullopt;
    const char* start = json.data() + at + needle.size();
    double v = 0;
    auto [q, ec2] = std::from_chars(start, json.data() + json.size(), v);
    (void)q;
    if (ec2 != std::errc()) return std::nullopt;
    return v;
}

void Bucket::add(double v) {
    if (count == 0) {
        min = max = v;
    } else {
        min = std::min(min, v);
        max = std::max(max, v);
    }
    sum += v;
    ++count;
}

std::vector<Bucket> bucketize(std::span<const RawPoint> points, std::int64_t step_ms) {
    std::vector<Bucket> out;
    for (const RawPoint& p : points) {
        const std::int64_t b = floor_to(p.ts, step_ms);
        if (out.empty() || out.back().start != b) {
            out.emplace_back();
            out.back().start = b;
        }
        out.back().add(p.value);
    }
    return out;
}

}  // namespace boxmon::store::detail
