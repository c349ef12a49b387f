// The raw sample tables of schema version 2 (docs/SCHEMA.md, ARCHITECTURE "Raw samples"): a
// tick's values go to recent_samples as one row; maintenance folds completed hours into the
// per-series rows of sample_chunks (writing their hourly rollups) and, as the rows expire,
// writes their 5-minute rollups. Reads merge both tables.

#include "store/store_impl.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace boxmon::store {

using detail::Chunk;
using detail::floor_to;
using detail::k_five_minutes_ms;
using detail::k_meta_folded_until;
using detail::k_one_hour_ms;
using detail::RawPoint;
using detail::ResetGuard;
using detail::Stmt;

namespace {
namespace sql {

constexpr const char* kInsertRecent =
    "INSERT INTO recent_samples(ts, vals) VALUES(?1, ?2) ON CONFLICT(ts) DO NOTHING";
constexpr const char* kRecentAt = "SELECT vals FROM recent_samples WHERE ts = ?1";
constexpr const char* kUpdateRecent = "UPDATE recent_samples SET vals = ?2 WHERE ts = ?1";
constexpr const char* kRecentRange =
    "SELECT ts, vals FROM recent_samples WHERE ts BETWEEN ?1 AND ?2 ORDER BY ts";
constexpr const char* kRecentToFold =
    "SELECT ts, vals FROM recent_samples WHERE ts < ?1 ORDER BY ts";
constexpr const char* kDeleteFolded = "DELETE FROM recent_samples WHERE ts <= ?1";
// A bucket, written when it is complete (idempotent: a late tick rewrites it).
constexpr const char* kUpsert1h =
    "INSERT OR REPLACE INTO rollup_1h(series_id, bucket_ts, min, avg, max, count) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6)";
// 5-minute buckets are written only as their raw samples expire; one written while a neighbour
// chunk still held part of it is complete and stays.
constexpr const char* kInsert5m =
    "INSERT OR IGNORE INTO rollup_5m(series_id, bucket_ts, min, avg, max, count) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6)";
constexpr const char* kSeriesIds = "SELECT id FROM series ORDER BY id";
constexpr const char* kDeleteChunk = "DELETE FROM sample_chunks WHERE series_id = ?1 AND first_ts = ?2";
constexpr const char* kDeleteChunks =
    "DELETE FROM sample_chunks WHERE series_id = ?1 AND first_ts BETWEEN ?2 AND ?3";
constexpr const char* kSeriesWithOldChunks =
    "SELECT id FROM series WHERE EXISTS (SELECT 1 FROM sample_chunks WHERE series_id = series.id "
    "AND first_ts < ?1) ORDER BY id";

// "v0, v1, ..., v59"
const std::string& value_columns() {
    static const std::string cols = [] {
        std::string out;
        for (int i = 0; i < detail::k_chunk_slots; ++i) out += fmt::format("{}v{}", i ? ", " : "", i);
        return out;
    }();
    return cols;
}
// The columns chunk_from() reads: first_ts, step_ms, n, v0 .. v59.
const char* chunk_range() {
    static const std::string q = fmt::format(
        "SELECT first_ts, step_ms, n, {} FROM sample_chunks WHERE series_id = ?1 AND first_ts "
        "BETWEEN ?2 AND ?3 ORDER BY first_ts", value_columns());
    return q.c_str();
}
// The row before `first_ts` ?2: the only one starting earlier that can reach into a range.
const char* chunk_before() {
    static const std::string q = fmt::format(
        "SELECT first_ts, step_ms, n, {} FROM sample_chunks WHERE series_id = ?1 AND first_ts < ?2 "
        "ORDER BY first_ts DESC LIMIT 1", value_columns());
    return q.c_str();
}
const char* last_chunk() {
    static const std::string q = fmt::format(
        "SELECT first_ts, step_ms, n, {} FROM sample_chunks WHERE series_id = ?1 ORDER BY "
        "first_ts DESC LIMIT 1", value_columns());
    return q.c_str();
}
const char* oldest_chunks() {
    static const std::string q = fmt::format(
        "SELECT first_ts, step_ms, n, {} FROM sample_chunks WHERE series_id = ?1 AND first_ts < ?2 "
        "ORDER BY first_ts LIMIT 64", value_columns());
    return q.c_str();
}
const char* upsert_chunk() {
    static const std::string q = [] {
        std::string params;
        for (int i = 0; i < detail::k_chunk_slots; ++i) params += fmt::format(", ?{}", i + 5);
        return fmt::format("INSERT OR REPLACE INTO sample_chunks(series_id, first_ts, step_ms, n, {}) "
                           "VALUES(?1, ?2, ?3, ?4{})", value_columns(), params);
    }();
    return q.c_str();
}
}  // namespace sql

// A chunk row from the columns first_ts, step_ms, n, v0 .. v59 starting at `col`.
Chunk chunk_from(const Stmt& s, int col) {
    Chunk c;
    c.first_ts = s.int64(col);
    c.step_ms = s.int64(col + 1);
    c.used = static_cast<int>(std::clamp<std::int64_t>(s.int64(col + 2), 0, detail::k_chunk_slots));
    for (int i = 0; i < c.used; ++i) {
        const double v = s.real(col + 3 + i);
        c.slots[static_cast<std::size_t>(i)] = v;
        if (!std::isnan(v)) ++c.count;
    }
    return c;
}

// Merges two sorted point lists; on equal timestamps the point of `kept` stays.
std::vector<RawPoint> merge_points(std::span<const RawPoint> kept, std::span<const RawPoint> added) {
    std::vector<RawPoint> out;
    out.reserve(kept.size() + added.size());
    std::size_t i = 0;
    std::size_t j = 0;
    while (i < kept.size() || j < added.size()) {
        if (j == added.size() || (i < kept.size() && kept[i].ts <= added[j].ts)) {
            if (j < added.size() && kept[i].ts == added[j].ts) ++j;
            out.push_back(kept[i++]);
        } else {
            out.push_back(added[j++]);
        }
    }
    return out;
}

}  // namespace

// One row per tick, appended at the right edge of recent_samples: the tick dirties one or two
// pages there instead of one page per series (sample_chunks is written by maintenance).
Result<std::int64_t> Store::Impl::write_recent(std::int64_t ts,
                                               std::vector<std::pair<std::int64_t, double>> values) {
    // A series listed twice in one sample keeps its first value.
    std::vector<std::pair<std::int64_t, double>> unique;
    unique.reserve(values.size());
    for (const auto& v : values)
        if (std::none_of(unique.begin(), unique.end(), [&](const auto& u) { return u.first == v.first; }))
            unique.push_back(v);
    if (unique.empty()) return std::int64_t{0};
    BOXMON_TRY(ins, stmt(sql::kInsertRecent));
    ins->bind(1, ts);
    const std::string json = detail::encode_tick_values(unique);
    ins->bind(2, std::string_view(json));
    BOXMON_CHECK(run(*ins, "writing the tick's samples"));
    if (sqlite3_changes(db) > 0) return static_cast<std::int64_t>(unique.size());

    // The same tick again (a replayed backlog): values already stored are kept as they were,
    // series it did not have are added.
    std::vector<std::pair<std::int64_t, double>> stored;
    {
        BOXMON_TRY(s, stmt(sql::kRecentAt));
        ResetGuard g(*s);
        s->bind(1, ts);
        const int rc = s->step();
        if (rc != SQLITE_ROW) return error(rc, "reading a stored tick");
        BOXMON_TRY(parsed, detail::decode_tick_values(s->text(0)));
        stored = std::move(parsed);
    }
    std::int64_t added = 0;
    for (const auto& v : unique) {
        if (std::any_of(stored.begin(), stored.end(), [&](const auto& o) { return o.first == v.first; })) continue;
        stored.push_back(v);
        ++added;
    }
    if (added == 0) return std::int64_t{0};
    BOXMON_TRY(up, stmt(sql::kUpdateRecent));
    up->bind(1, ts);
    const std::string merged = detail::encode_tick_values(stored);
    up->bind(2, std::string_view(merged));
    BOXMON_CHECK(run(*up, "writing the tick's samples"));
    return added;
}

// Hourly buckets are written once, when maintenance has folded the whole hour (an upsert per
// point dirtied a page per series per tick); a late tick folded later rewrites its bucket.
Result<void> Store::Impl::roll_up_hours(const std::set<std::int64_t>& hours) {
    if (hours.empty()) return ok();
    std::vector<std::int64_t> ids;
    {
        BOXMON_TRY(s, stmt(sql::kSeriesIds));
        ResetGuard g(*s);
        int rc;
        while ((rc = s->step()) == SQLITE_ROW) ids.push_back(s->int64(0));
        if (rc != SQLITE_DONE) return error(rc, "listing series for rollups");
    }
    BOXMON_TRY(up, stmt(sql::kUpsert1h));
    for (std::int64_t id : ids) {
        for (std::int64_t hour : hours) {
            BOXMON_TRY(points, read_raw(id, hour, hour + k_one_hour_ms - 1));
            if (points.empty()) continue;
            written.r1h = std::min(written.r1h, hour);
            detail::Bucket b;
            for (const RawPoint& p : points) b.add(p.value);
            up->bind(1, id);
            up->bind(2, hour);
            up->bind(3, b.min);
            up->bind(4, b.avg());
            up->bind(5, b.max);
            up->bind(6, b.count);
            BOXMON_CHECK(run(*up, "writing an hourly rollup"));
        }
    }
    return ok();
}

Result<std::optional<Chunk>> Store::Impl::last_chunk(std::int64_t id) {
    BOXMON_TRY(s, stmt(sql::last_chunk()));
    ResetGuard g(*s);
    s->bind(1, id);
    const int rc = s->step();
    if (rc == SQLITE_DONE) return std::optional<Chunk>();
    if (rc != SQLITE_ROW) return error(rc, "reading the newest chunk of a series");
    return std::optional<Chunk>(chunk_from(*s, 0));
}

Result<void> Store::Impl::write_chunk(std::int64_t id, const Chunk& c) {
    written.chunks = std::min(written.chunks, c.last_ts());
    BOXMON_TRY(s, stmt(sql::upsert_chunk()));
    s->bind(1, id);
    s->bind(2, c.first_ts);
    s->bind(3, c.step_ms);
    s->bind(4, static_cast<std::int64_t>(c.used));
    for (int i = 0; i < detail::k_chunk_slots; ++i) s->bind(5 + i, c.slots[static_cast<std::size_t>(i)]);
    return run(*s, "writing a chunk of samples");
}

Result<void> Store::Impl::fold_series(std::int64_t id, std::span<const RawPoint> points) {
    BOXMON_TRY(last, last_chunk(id));
    if (!last || points.front().ts > last->last_ts()) {
        // The usual case: the points follow the series' newest row.
        const detail::Packed packed = detail::pack_points(std::move(last), points);
        for (const Chunk& c : packed.rows) BOXMON_CHECK(write_chunk(id, c));
        return ok();
    }
    // Late points (a tick older than ones already folded): rewrite the rows they fall among.
    // Rows never overlap, and none reaching points.front() starts more than a span before it.
    const std::int64_t lo = points.front().ts - detail::k_max_chunk_span_ms;
    const std::int64_t hi = points.back().ts;
    std::vector<RawPoint> stored;
    {
        BOXMON_TRY(s, stmt(sql::chunk_range()));
        ResetGuard g(*s);
        s->bind(1, id);
        s->bind(2, lo);
        s->bind(3, hi);
        int rc;
        while ((rc = s->step()) == SQLITE_ROW)
            chunk_from(*s, 0).for_each([&](const RawPoint& p) { stored.push_back(p); });
        if (rc != SQLITE_DONE) return error(rc, "reading chunks to merge late samples");
    }
    const std::vector<RawPoint> merged = merge_points(stored, points);
    BOXMON_TRY(del, stmt(sql::kDeleteChunks));
    del->bind(1, id);
    del->bind(2, lo);
    del->bind(3, hi);
    BOXMON_CHECK(run(*del, "rewriting chunks"));
    for (const Chunk& c : detail::pack_points(std::nullopt, merged).rows) BOXMON_CHECK(write_chunk(id, c));
    return ok();
}

Result<StepWork> Store::Impl::fold_step(std::int64_t limit, std::int64_t budget,
                                        std::int64_t complete_before) {
    std::map<std::int64_t, std::vector<RawPoint>> by_series;
    std::int64_t points = 0;
    std::int64_t last_ts = INT64_MIN;
    std::set<std::int64_t> hours;
    StepWork work;
    {
        BOXMON_TRY(s, stmt(sql::kRecentToFold));
        ResetGuard g(*s);
        s->bind(1, limit);
        int rc = SQLITE_DONE;
        // The budget counts rows touched: each tick read here, and the chunk rows written (the
        // last row of every series, and one more for every 60 samples).
        std::int64_t ticks_read = 0;
        auto touched = [&] {
            return ticks_read + static_cast<std::int64_t>(by_series.size()) + points / detail::k_chunk_slots;
        };
        while (touched() < budget && (rc = s->step()) == SQLITE_ROW) {
            ++ticks_read;
            last_ts = s->int64(0);
            hours.insert(floor_to(last_ts, k_one_hour_ms));
            BOXMON_TRY(values, detail::decode_tick_values(s->text(1)));
            for (const auto& [id, v] : values) by_series[id].push_back({last_ts, v});
            points += static_cast<std::int64_t>(values.size());
        }
        if (rc != SQLITE_DONE && rc != SQLITE_ROW) return error(rc, "reading ticks to fold");
        work.more = touched() >= budget;
        work.samples = touched();
    }
    if (last_ts == INT64_MIN) return work;
    for (const auto& [id, series_points] : by_series) BOXMON_CHECK(fold_series(id, series_points));
    BOXMON_TRY(del, stmt(sql::kDeleteFolded));
    del->bind(1, last_ts);
    BOXMON_CHECK(run(*del, "removing folded ticks"));
    BOXMON_TRY(folded_until, meta_int(k_meta_folded_until, INT64_MIN));
    if (last_ts + 1 > folded_until) BOXMON_CHECK(set_meta_int(k_meta_folded_until, last_ts + 1));
    // The hours now folded whole get their hourly bucket, once complete (a later tick exists:
    // the hour in progress is folded early only when retention takes it).
    BOXMON_TRY(next, scalar_int("SELECT min(ts) FROM recent_samples", INT64_MAX));
    std::erase_if(hours, [&](std::int64_t h) { return h + k_one_hour_ms > next || h >= complete_before; });
    BOXMON_CHECK(roll_up_hours(hours));
    work.samples += static_cast<std::int64_t>(hours.size() * by_series.size());
    return work;
}

Result<StepWork> Store::Impl::expire_chunks(std::int64_t cutoff, std::int64_t budget,
                                            std::int64_t complete_before, std::int64_t oldest_5m) {
    std::vector<std::int64_t> ids;
    {
        BOXMON_TRY(s, stmt(sql::kSeriesWithOldChunks));
        ResetGuard g(*s);
        s->bind(1, cutoff);
        int rc;
        while ((rc = s->step()) == SQLITE_ROW) ids.push_back(s->int64(0));
        if (rc != SQLITE_DONE) return error(rc, "finding expired samples");
    }
    std::int64_t deleted = 0;
    bool any_row = false;
    StepWork work;
    for (std::int64_t id : ids) {
        if (work.more) break;
        std::vector<Chunk> expired;
        {
            BOXMON_TRY(s, stmt(sql::oldest_chunks()));
            ResetGuard g(*s);
            s->bind(1, id);
            s->bind(2, cutoff);
            int rc = SQLITE_DONE;
            while ((rc = s->step()) == SQLITE_ROW) {
                Chunk c = chunk_from(*s, 0);
                // A row goes when all of it is past the retention.
                if (c.used == 0 || c.last_ts() >= cutoff) break;
                if (any_row && deleted + c.count > budget) {
                    work.more = true;
                    break;
                }
                deleted += c.count;
                any_row = true;
                expired.push_back(std::move(c));
            }
            if (rc != SQLITE_DONE && rc != SQLITE_ROW) return error(rc, "reading expired samples");
            if (expired.size() == 64) work.more = true;  // the statement's LIMIT
        }
        for (const Chunk& c : expired) {
            // The 5-minute buckets of the samples about to go, from every raw sample in them
            // (a bucket may reach into the next row).
            std::int64_t first = c.last_ts();
            c.for_each([&](const RawPoint& p) { first = std::min(first, p.ts); });
            const std::int64_t lo = floor_to(first, k_five_minutes_ms);
            const std::int64_t hi = floor_to(c.last_ts(), k_five_minutes_ms) + k_five_minutes_ms - 1;
            BOXMON_TRY(points, read_raw(id, lo, hi));
            BOXMON_TRY(ins, stmt(sql::kInsert5m));
            for (const detail::Bucket& b : detail::bucketize(points, k_five_minutes_ms)) {
                if (b.start >= complete_before || b.start < oldest_5m) continue;
                written.r5m = std::min(written.r5m, b.start);
                ins->bind(1, id);
                ins->bind(2, b.start);
                ins->bind(3, b.min);
                ins->bind(4, b.avg());
                ins->bind(5, b.max);
                ins->bind(6, b.count);
                BOXMON_CHECK(run(*ins, "writing a 5-minute rollup"));
            }
            BOXMON_TRY(del, stmt(sql::kDeleteChunk));
            del->bind(1, id);
            del->bind(2, c.first_ts);
            BOXMON_CHECK(run(*del, "deleting expired samples"));
        }
    }
    work.samples = deleted;
    return work;
}

// Schema version 2: the v1 samples table, read in key order, packed into chunk rows.
Result<void> Store::Impl::convert_v1_samples() {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v2(db, "SELECT series_id, ts, value FROM samples ORDER BY series_id, ts",
                                -1, &raw, nullptr);
    if (rc != SQLITE_OK) return error(rc, "reading the version 1 samples");
    std::int64_t current = INT64_MIN;
    std::int64_t newest = INT64_MIN;
    // A series at a 1 s interval has millions of rows: packed a few thousand at a time, the
    // last (unfinished) row carried into the next batch.
    constexpr std::size_t k_batch = 4096;
    std::vector<RawPoint> points;
    std::optional<Chunk> carry;
    auto pack = [&](bool series_done) -> Result<void> {
        const std::optional<Chunk> unwritten = carry;
        detail::Packed packed = detail::pack_points(std::move(carry), points);
        std::vector<Chunk> rows = std::move(packed.rows);
        if (unwritten && !packed.last_changed) rows.insert(rows.begin(), *unwritten);
        carry.reset();
        points.clear();
        if (!series_done && !rows.empty()) {
            carry = rows.back();
            rows.pop_back();
        }
        for (const Chunk& c : rows) BOXMON_CHECK(write_chunk(current, c));
        return ok();
    };
    Result<void> r = ok();
    while (r && (rc = sqlite3_step(raw)) == SQLITE_ROW) {
        const std::int64_t id = sqlite3_column_int64(raw, 0);
        if (id != current) {
            if (current != INT64_MIN) r = pack(true);
            current = id;
        }
        const std::int64_t ts = sqlite3_column_int64(raw, 1);
        newest = std::max(newest, ts);
        if (sqlite3_column_type(raw, 2) != SQLITE_NULL) points.push_back({ts, sqlite3_column_double(raw, 2)});
        if (r && points.size() >= k_batch) r = pack(false);
    }
    sqlite3_finalize(raw);
    if (!r) return r;
    if (rc != SQLITE_DONE) return error(rc, "converting the version 1 samples");
    if (current != INT64_MIN) BOXMON_CHECK(pack(true));
    if (newest != INT64_MIN) BOXMON_CHECK(set_meta_int(k_meta_folded_until, newest + 1));
    return ok();
}

Result<std::vector<RawPoint>> Store::Impl::read_raw(std::int64_t id, std::int64_t lo, std::int64_t hi) {
    std::vector<RawPoint> out;
    // A series' rows never overlap: the rows starting in [lo, hi], and the one before lo.
    {
        BOXMON_TRY(s, stmt(sql::chunk_before()));
        ResetGuard g(*s);
        s->bind(1, id);
        s->bind(2, lo);
        const int rc = s->step();
        if (rc == SQLITE_ROW) {
            const Chunk c = chunk_from(*s, 0);
            if (c.last_ts() >= lo)
                c.for_each([&](const RawPoint& p) {
                    if (p.ts >= lo && p.ts <= hi) out.push_back(p);
                });
        } else if (rc != SQLITE_DONE) {
            return error(rc, "reading raw samples");
        }
    }
    {
        BOXMON_TRY(s, stmt(sql::chunk_range()));
        ResetGuard g(*s);
        s->bind(1, id);
        s->bind(2, lo);
        s->bind(3, hi);
        int rc;
        while ((rc = s->step()) == SQLITE_ROW) {
            chunk_from(*s, 0).for_each([&](const RawPoint& p) {
                if (p.ts >= lo && p.ts <= hi) out.push_back(p);
            });
        }
        if (rc != SQLITE_DONE) return error(rc, "reading raw samples");
    }
    const std::size_t from_chunks = out.size();
    {
        BOXMON_TRY(s, stmt(sql::kRecentRange));
        ResetGuard g(*s);
        s->bind(1, lo);
        s->bind(2, hi);
        int rc;
        while ((rc = s->step()) == SQLITE_ROW)
            if (auto v = detail::find_tick_value(s->text_view(1), id)) out.push_back({s->int64(0), *v});
        if (rc != SQLITE_DONE) return error(rc, "reading recent samples");
    }
    // Late ticks not folded yet can interleave with chunked ones; a sample in a chunk was stored
    // first and wins.
    if (from_chunks > 0 && from_chunks < out.size() && out[from_chunks].ts <= out[from_chunks - 1].ts) {
        std::stable_sort(out.begin(), out.end(), [](const RawPoint& a, const RawPoint& b) { return a.ts < b.ts; });
        out.erase(std::unique(out.begin(), out.end(),
                              [](const RawPoint& a, const RawPoint& b) { return a.ts == b.ts; }),
                  out.end());
    }
    return out;
}

Result<std::vector<HistoryPoint>> Store::Impl::five_minute_buckets(std::int64_t id, std::int64_t lo,
                                                                   std::int64_t hi) {
    static constexpr const char* k5m =
        "SELECT bucket_ts, avg, min, max, count FROM rollup_5m WHERE series_id = ?1 AND "
        "bucket_ts BETWEEN ?2 AND ?3 ORDER BY bucket_ts";
    // Buckets that start before the newest tick's bucket are complete, as they were when
    // written at the first tick of a later bucket.
    BOXMON_TRY(newest, scalar_int("SELECT max(ts) FROM ticks", INT64_MIN));
    // No tick left (all past retention): only written buckets remain.
    const std::int64_t complete_before = newest == INT64_MIN ? INT64_MIN : floor_to(newest, k_five_minutes_ms);
    std::vector<HistoryPoint> stored;
    {
        BOXMON_TRY(s, stmt(k5m));
        ResetGuard g(*s);
        s->bind(1, id);
        s->bind(2, lo);
        s->bind(3, hi);
        int rc;
        while ((rc = s->step()) == SQLITE_ROW) {
            HistoryPoint p;
            p.ts = from_unix_ms(s->int64(0));
            p.value = s->real(1);
            p.min = s->real(2);
            p.max = s->real(3);
            p.count = s->int64(4);
            stored.push_back(p);
        }
        if (rc != SQLITE_DONE) return error(rc, "reading history");
    }
    const std::int64_t raw_hi = complete_before == INT64_MIN ? INT64_MIN : std::min(hi, complete_before - 1);
    std::vector<HistoryPoint> computed;
    if (raw_hi >= lo) {
        BOXMON_TRY(buckets, computed_buckets(id, lo, raw_hi, k_five_minutes_ms));
        computed = std::move(buckets);
    }
    if (computed.empty()) return stored;
    if (stored.empty()) return computed;
    // A written bucket (its raw samples expired, or were about to) wins over one computed from
    // what is left of them.
    std::vector<HistoryPoint> out;
    out.reserve(stored.size() + computed.size());
    std::size_t i = 0;
    std::size_t j = 0;
    while (i < stored.size() || j < computed.size()) {
        if (j == computed.size() || (i < stored.size() && stored[i].ts <= computed[j].ts)) {
            if (j < computed.size() && stored[i].ts == computed[j].ts) ++j;
            out.push_back(stored[i++]);
        } else {
            out.push_back(computed[j++]);
        }
    }
    return out;
}

Result<std::vector<HistoryPoint>> Store::Impl::query_id(std::int64_t id, WallTime since,
                                                        WallTime until, Resolution resolution) {
    static constexpr const char* k1h =
        "SELECT bucket_ts, avg, min, max, count FROM rollup_1h WHERE series_id = ?1 AND "
        "bucket_ts BETWEEN ?2 AND ?3 ORDER BY bucket_ts";
    const std::int64_t hi = to_unix_ms(until);
    if (resolution == Resolution::raw) {
        BOXMON_TRY(points, read_raw(id, to_unix_ms(since), hi));
        std::vector<HistoryPoint> out;
        out.reserve(points.size());
        for (const RawPoint& r : points) {
            HistoryPoint p;
            p.ts = from_unix_ms(r.ts);
            p.value = p.min = p.max = r.value;
            out.push_back(p);
        }
        return out;
    }
    // A bucket whose start is before `since` still holds points inside the window.
    if (resolution == Resolution::five_minutes)
        return five_minute_buckets(id, floor_to(to_unix_ms(since), k_five_minutes_ms), hi);
    const std::int64_t lo = floor_to(to_unix_ms(since), k_one_hour_ms);
    std::vector<HistoryPoint> stored;
    {
        BOXMON_TRY(s, stmt(k1h));
        ResetGuard g(*s);
        s->bind(1, id);
        s->bind(2, lo);
        s->bind(3, hi);
        int rc;
        while ((rc = s->step()) == SQLITE_ROW) {
            HistoryPoint p;
            p.ts = from_unix_ms(s->int64(0));
            p.value = s->real(1);
            p.min = s->real(2);
            p.max = s->real(3);
            p.count = s->int64(4);
            stored.push_back(p);
        }
        if (rc != SQLITE_DONE) return error(rc, "reading history");
    }
    // Completed hours that maintenance has not folded yet have no row: computed from the raw
    // samples, as the row will be.
    BOXMON_TRY(newest, scalar_int("SELECT max(ts) FROM ticks", INT64_MIN));
    BOXMON_TRY(folded_until, meta_int(k_meta_folded_until, INT64_MIN));
    if (newest == INT64_MIN) return stored;
    const std::int64_t from =
        folded_until == INT64_MIN ? lo : std::max(lo, floor_to(folded_until, k_one_hour_ms));
    const std::int64_t to = std::min(hi, floor_to(newest, k_one_hour_ms) - 1);
    if (from > to) return stored;
    BOXMON_TRY(computed, computed_buckets(id, from, to, k_one_hour_ms));
    std::erase_if(stored, [&](const HistoryPoint& p) {
        const std::int64_t t = to_unix_ms(p.ts);
        return t >= from && t <= to;
    });
    stored.insert(stored.end(), computed.begin(), computed.end());
    std::sort(stored.begin(), stored.end(), [](const HistoryPoint& a, const HistoryPoint& b) { return a.ts < b.ts; });
    return stored;
}

Result<std::vector<HistoryPoint>> Store::Impl::computed_buckets(std::int64_t id, std::int64_t from,
                                                                std::int64_t to, std::int64_t step) {
    BOXMON_TRY(points, read_raw(id, from, floor_to(to, step) + step - 1));
    std::vector<HistoryPoint> out;
    for (const detail::Bucket& b : detail::bucketize(points, step)) {
        if (b.start < from || b.start > to) continue;
        HistoryPoint p;
        p.ts = from_unix_ms(b.start);
        p.value = b.avg();
        p.min = b.min;
        p.max = b.max;
        p.count = b.count;
        out.push_back(p);
    }
    return out;
}

}  // namespace boxmon::store
