#pragma once
// The store's connection state and the operations on it, shared by store.cpp (opening,
// migrations, ticks, the outbox, retention, reads) and raw_samples.cpp (the raw sample tables:
// recent ticks, chunk rows, rollups computed from them). Internal to store/.

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/raw_format.hpp"
#include "store/sqlite_util.hpp"
#include "store/store.hpp"

namespace boxmon::store {

namespace detail {

inline constexpr std::int64_t k_five_minutes_ms = 5 * 60 * 1000;
inline constexpr std::int64_t k_one_hour_ms = 60 * 60 * 1000;
// meta key (Unix ms): maintenance has folded every tick before it into sample_chunks (late
// ticks aside), so the hours from the one holding it on have no rollup_1h row yet.
inline constexpr const char* k_meta_folded_until = "raw_folded_until";

}  // namespace detail

// What one bounded piece of maintenance did.
struct StepWork {
    std::int64_t samples = 0;  // the budget used: rows touched (folding) or samples deleted
    bool more = false;         // work of this kind remains
};

class Store::Impl {
public:
    explicit Impl(StoreOptions o) : options(std::move(o)) {}
    ~Impl() { close(); }
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    StoreOptions options;
    OpenReport report;
    sqlite3* db = nullptr;
    std::mutex mutex;  // one user of the connection at a time (the outbox may be on another thread)
    std::unique_ptr<OutboxStore> outbox;
    bool retention_paused_logged = false;
    bool wal_warned = false;  // the -wal passed options.wal_warn_bytes; logged once (S7)

    // Retention's memory, so that a step with nothing to delete costs no per-series probes:
    // nothing in sample_chunks / rollup_5m / rollup_1h expires while its cutoff is at or below
    // the value (the oldest chunk end, the oldest bucket start). INT64_MIN: not known, probe.
    struct Quiet {
        std::int64_t chunks = INT64_MIN;
        std::int64_t r5m = INT64_MIN;
        std::int64_t r1h = INT64_MIN;
    };
    Quiet quiet;
    Quiet written;  // the oldest chunk end and bucket starts written by the step in progress

    struct CachedSeries {
        std::int64_t id = 0;
        std::int64_t last_seen_written = 0;
    };
    std::unordered_map<SeriesKey, CachedSeries, SeriesKeyHash> series_cache;
    // The series table is read into series_cache once, at the first write with a cold cache
    // (a one-shot process's only tick): one query instead of an upsert per series.
    bool series_preloaded = false;
    Result<void> preload_series();
    std::unordered_map<const char*, detail::Stmt> statements;

    bool registered = false;  // counted in g_open_writers

    // The connection only; this process still counts as the file's writer (g_open_writers).
    void close_connection() {
        statements.clear();
        if (db) sqlite3_close_v2(db);
        db = nullptr;
    }

    // The connection, and this process's count as the file's writer.
    void close();

    // Every failed call comes through here: the first corruption it reports is remembered for
    // Store::corruption() (RELIABILITY S4e).
    Unexpected<Error> error(int rc, std::string_view what) const {
        if (detail::is_corrupt(rc)) {
            std::lock_guard lock(corruption_mutex);
            if (corruption_seen.empty())
                corruption_seen = fmt::format("{} (SQLite {}) {}", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), rc, what);
        }
        return detail::sql_error(db, rc, what, options.path);
    }
    mutable std::mutex corruption_mutex;
    mutable std::string corruption_seen;

    // A prepared statement kept for the life of the connection, keyed by the SQL's address
    // (every caller passes a static string).
    Result<detail::Stmt*> stmt(const char* sql) {
        auto it = statements.find(sql);
        if (it != statements.end()) return &it->second;
        int rc = SQLITE_OK;
        detail::Stmt s(db, sql, &rc);
        if (rc != SQLITE_OK) return error(rc, fmt::format("preparing \"{:.60}\"", sql));
        return &statements.emplace(sql, std::move(s)).first->second;
    }

    Result<void> exec(const char* sql, std::string_view what) {
        char* msg = nullptr;
        int rc = sqlite3_exec(db, sql, nullptr, nullptr, &msg);
        sqlite3_free(msg);
        if (rc != SQLITE_OK) return error(rc, what);
        return ok();
    }

    // Runs a statement that returns no rows; binds were done by the caller.
    Result<void> run(detail::Stmt& s, std::string_view what) {
        detail::ResetGuard g(s);
        int rc = s.step();
        if (rc != SQLITE_DONE && rc != SQLITE_ROW) return error(rc, what);
        return ok();
    }

    void rollback_if_open() {
        if (db && sqlite3_get_autocommit(db) == 0) {
            sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
        }
    }

    Result<std::int64_t> scalar_int(const char* sql, std::int64_t fallback) {
        BOXMON_TRY(s, stmt(sql));
        detail::ResetGuard g(*s);
        int rc = s->step();
        if (rc == SQLITE_ROW) return s->is_null(0) ? fallback : s->int64(0);
        if (rc == SQLITE_DONE) return fallback;
        return error(rc, "reading");
    }

    // ---- open ----

    Result<void> open_writer();
    Result<void> open_read_only();
    Result<void> open_connection(int flags);
    Result<void> move_aside(const std::string& reason);
    void recover_interrupted_move();
    Result<void> configure_and_migrate();
    // "" when the database passes quick_check; the reason otherwise. Errors other than
    // corruption (busy, I/O) are returned as errors.
    Result<std::string> quick_check();
    // The cheap variant: the header and the schema page only.
    Result<std::string> light_check();

    // ---- writes ----
    Result<std::int64_t> series_id_for_write(const SeriesKey& key, std::int64_t ts);
    Result<void> write_tick(const TickWrite& tick);
    // Stores one tick's values in recent_samples; returns how many were new.
    Result<std::int64_t> write_recent(std::int64_t ts, std::vector<std::pair<std::int64_t, double>> values);
    // Writes the hourly buckets starting at `hours` from the raw samples of every series.
    Result<void> roll_up_hours(const std::set<std::int64_t>& hours);
    Result<void> insert_outbox(const std::vector<OutboxItem>& items);
    Result<std::int64_t> delete_oldest(const char* table, const char* ts_column,
                                       std::int64_t cutoff, std::int64_t budget);
    Result<std::int64_t> meta_int(const char* key, std::int64_t fallback);
    Result<void> set_meta_int(const char* key, std::int64_t value);

    // ---- raw samples: recent_samples folded into sample_chunks ----
    Result<std::optional<detail::Chunk>> last_chunk(std::int64_t id);
    Result<void> write_chunk(std::int64_t id, const detail::Chunk& c);
    // Folds the oldest ticks before `limit` out of recent_samples (about `budget` rows touched,
    // at least one tick), writing the hourly buckets of the hours now folded whole that start
    // before `complete_before`; `samples` in the result counts the rows touched.
    Result<StepWork> fold_step(std::int64_t limit, std::int64_t budget, std::int64_t complete_before);
    Result<void> fold_series(std::int64_t id, std::span<const detail::RawPoint> points);
    // Deletes chunk rows wholly older than `cutoff` (about `budget` samples, at least one row),
    // first writing the 5-minute buckets they held; returns how many samples went.
    Result<StepWork> expire_chunks(std::int64_t cutoff, std::int64_t budget,
                                   std::int64_t complete_before, std::int64_t oldest_5m);
    Result<void> convert_v1_samples();
    // Warns once when the -wal has grown past options.wal_warn_bytes (a reader is holding back
    // checkpoints) and truncates it once the checkpoint can complete (S7).
    void watch_wal();

    // ---- reads ----
    Result<std::optional<std::int64_t>> series_id(const SeriesKey& key);
    Result<std::vector<HistoryPoint>> query_id(std::int64_t id, WallTime since, WallTime until,
                                               Resolution resolution);
    // Raw samples of one series in [lo, hi] (Unix ms), oldest first, from both tables.
    Result<std::vector<detail::RawPoint>> read_raw(std::int64_t id, std::int64_t lo, std::int64_t hi);
    // 5-minute buckets of one series starting in [lo, hi]: computed from raw samples where
    // they exist, from rollup_5m before that; only buckets that start before `complete_before`.
    Result<std::vector<HistoryPoint>> five_minute_buckets(std::int64_t id, std::int64_t lo,
                                                          std::int64_t hi);
    // Buckets of `step` starting in [from, to], computed from the raw samples.
    Result<std::vector<HistoryPoint>> computed_buckets(std::int64_t id, std::int64_t from,
                                                       std::int64_t to, std::int64_t step);
};

// A read transaction for the reads of one call, so that they see one snapshot: a fold
// committed by the writer between two statements would otherwise move samples from one table
// to the other in between. A no-op inside a transaction already open.
class ReadSnapshot {
public:
    explicit ReadSnapshot(sqlite3* db) : m_db(db) {
        if (m_db && sqlite3_get_autocommit(m_db) != 0)
            m_open = sqlite3_exec(m_db, "BEGIN", nullptr, nullptr, nullptr) == SQLITE_OK;
    }
    ~ReadSnapshot() {
        if (!m_open || sqlite3_get_autocommit(m_db) != 0) return;
        // Never leave it open: the next write's BEGIN IMMEDIATE would fail.
        if (sqlite3_exec(m_db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK)
            sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    ReadSnapshot(const ReadSnapshot&) = delete;
    ReadSnapshot& operator=(const ReadSnapshot&) = delete;

private:
    sqlite3* m_db;
    bool m_open = false;
};

}  // namespace boxmon::store
