#pragma once
// The SQLite store: one database file in WAL mode with synchronous=FULL, a versioned schema,
// one BEGIN IMMEDIATE transaction per tick, rollups and bounded retention. docs/SCHEMA.md
// documents every table for people who open the file with sqlite3.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/incident.hpp"
#include "core/outbox.hpp"
#include "core/result.hpp"
#include "core/sample.hpp"

namespace boxmon::store {

struct StoreOptions {
    std::filesystem::path path;                         // the database file
    std::chrono::milliseconds busy_timeout{5000};
    std::chrono::milliseconds retention_raw = std::chrono::hours(24 * 30);
    std::chrono::milliseconds retention_5m = std::chrono::hours(24 * 180);
    std::chrono::milliseconds retention_1h = std::chrono::hours(24 * 730);
    bool read_only = false;  // status/query/export: never create, migrate or write
    // Runs PRAGMA quick_check at open (reads the whole file: ~0.1 s for 28 MB on dev-2c). The
    // daemon keeps it; a one-shot `sample` every minute may turn it off and rely on the header
    // and schema checks (corruption deeper in the file then surfaces as a query error).
    bool quick_check = true;
    // Benchmarks and history generators only: PRAGMA synchronous=OFF, so a power cut may lose
    // or corrupt recent ticks. Never set by boxmon itself.
    bool unsafe_no_sync = false;
    // A -wal larger than this means a reader is holding back checkpoints: logged once, and the
    // log is truncated when the reader lets go (RELIABILITY S7). 0 turns the watch off.
    std::uint64_t wal_warn_bytes = 64ull * 1024 * 1024;
    // One-shot samples turn this off: the log is then checkpointed by a later commit once it
    // holds `wal_autocheckpoint_pages`, not at every exit (a checkpoint at close costs two
    // fsyncs and a truncation, and the next commit a new log header, its fsync and the
    // directory's). A committed tick is as durable either way.
    bool checkpoint_on_close = true;
    int wal_autocheckpoint_pages = 1000;  // SQLite's default
    // SQLite's page cache per connection (PRAGMA cache_size). SQLite's default, 2 MiB, filled
    // over hours of ticks and left each of the daemon's two connections that much resident;
    // a tick touches a few pages and maintenance reads sequentially, so a small cache serves
    // (the OS page cache holds the file either way).
    int cache_kib = 512;
    // Set: the database is known to be corrupt (a query met the damage mid-run) and is moved
    // aside as at open, for this reason, before a new one is started (RELIABILITY S4e). Only
    // when no other connection of this process has the file open.
    std::string move_aside_reason;
};

// Everything one tick persists, written in one transaction.
struct TickWrite {
    Sample sample;                               // sample.ts is the tick's timestamp
    std::optional<CounterSnapshot> counters;     // replaces the stored snapshot when set
    std::vector<RuleStateRecord> rule_states;    // upserted by (rule, series)
    std::vector<std::pair<std::string, std::string>> rule_states_removed;  // (rule, series)
    std::vector<Incident> incidents;             // upserted by id
    std::vector<OutboxItem> outbox;              // inserted (duplicates by key ignored)
    bool gap_before = false;  // the previous tick is more than 2 intervals back (suspend, downtime)
};

// One point of a history query: raw samples, or a rollup bucket (min/avg/max over `count`).
struct HistoryPoint {
    WallTime ts{};
    double value = 0;  // the raw value, or the bucket's average
    double min = 0;
    double max = 0;
    std::int64_t count = 1;
};

enum class Resolution { raw, five_minutes, one_hour };

struct SeriesInfo {
    std::int64_t id = 0;
    SeriesKey key;
    std::optional<WallTime> first_seen;
    std::optional<WallTime> last_seen;
};

// What open() found and did, for logging, status and the report.
struct OpenReport {
    bool created = false;                          // a new database file
    int migrated_from = -1;                        // schema version before migration (-1: none ran)
    std::optional<std::filesystem::path> moved_aside;  // a corrupt database moved here
    std::string corruption;                        // why it was judged corrupt
    // The database's directory is on this network or FUSE filesystem (network_filesystem_name);
    // set at the first open there of this database, empty after (meta network_filesystem_said).
    std::string network_filesystem;
};

// A corrupt database moved aside: where to, why, and when.
struct MoveAside {
    std::filesystem::path to;
    std::string reason;
    WallTime at{};
};

// When a corrupt database was last moved aside from `database` (the stamp in the newest
// <name>.corrupt-<stamp> beside it), whatever the databases themselves still say; nullopt when
// none is there.
std::optional<WallTime> newest_move_aside(const std::filesystem::path& database);

class Store {
public:
    // Opens (creating the directory with mode 0700 and the file with 0600 when missing) and
    // migrates the database. A database that fails quick_check is moved aside with its -wal and
    // -shm as <name>.corrupt-<stamp> (never deleted) and a new one started; open_report() says so.
    // A zero-length file is initialised in place. Fails with a message naming the path, the
    // owner and mode, and the fix, when the file cannot be opened or written.
    static Result<std::unique_ptr<Store>> open(const StoreOptions& options);
    ~Store();

    const OpenReport& open_report() const;
    const std::filesystem::path& path() const;
    // The first error of this connection that said the file is corrupt (SQLITE_CORRUPT,
    // SQLITE_NOTADB), or nullopt. The writer moves such a database aside (S4e).
    std::optional<std::string> corruption() const;
    // The last time a corrupt database was moved aside and started anew here, as the new
    // database recorded it (meta `moved_aside`), or nullopt.
    Result<std::optional<MoveAside>> last_move_aside();

    // Writes one tick in one BEGIN IMMEDIATE transaction; on any failure nothing of it is kept.
    // Errors carry kind busy (locked past the busy timeout) or runtime (disk full, read-only,
    // I/O) with the SQLite code in the message.
    Result<void> commit_tick(const TickWrite& tick);

    // Writes the raw values of ticks this database does not hold (`boxmon db salvage`), in one
    // transaction, each with its ticks row; a tick already here is left as it is. Maintenance
    // folds and rolls them up as it does late ticks. Returns how many ticks were written.
    Result<std::size_t> import_ticks(const std::vector<Sample>& samples);

    // One bounded step of retention and rollups (at most `max_rows` rows touched); returns true
    // when more work remains. Never deletes anything when `now` is more than twice the raw
    // retention ahead of the newest sample (a clock that jumped years forward).
    Result<bool> maintenance_step(WallTime now, std::size_t max_rows = 2000);

    // Reads for one-shot mode, status, query, export, backtest, report.
    Result<std::optional<CounterSnapshot>> load_counters();
    Result<std::vector<RuleStateRecord>> load_rule_states();
    Result<std::optional<WallTime>> last_tick();
    Result<std::vector<SeriesInfo>> series();
    // The series table alone, reading no samples (last_seen as lazily refreshed, up to 10
    // minutes behind): what salvage can still list when sample pages are damaged.
    Result<std::vector<SeriesInfo>> series_table();
    // Points of one series in [since, until], at the given resolution. Rollup resolutions hold
    // completed buckets only (the bucket in progress is written when the next one begins).
    Result<std::vector<HistoryPoint>> query(const SeriesKey& key, WallTime since, WallTime until,
                                            Resolution resolution = Resolution::raw);
    // Every series whose name is `metric` (all labels) in [since, until].
    Result<std::vector<std::pair<SeriesKey, std::vector<HistoryPoint>>>> query_metric(
        std::string_view metric, WallTime since, WallTime until, Resolution resolution = Resolution::raw);
    // Incidents that overlap [since, until], or every open one when `open_only`.
    Result<std::vector<Incident>> incidents(WallTime since, WallTime until, bool open_only = false);
    // Tick timestamps in [since, until] with their gap flag (for backtests and status).
    Result<std::vector<std::pair<WallTime, bool>>> ticks(WallTime since, WallTime until);

    // The outbox on this connection (the daemon's dispatcher opens its own Store).
    OutboxStore& outbox();

    // A key/value of boxmon's own (schema notes, last corruption, storage state).
    Result<std::optional<std::string>> meta(std::string_view key);
    Result<void> set_meta(std::string_view key, std::string_view value);

    class Impl;

private:
    explicit Store(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

// What `boxmon db salvage` got back from a damaged database.
struct SalvageReport {
    std::size_t series = 0;            // series the damaged file still names
    std::size_t values = 0;            // raw values read from it
    std::size_t ticks_written = 0;     // ticks written into the database (those it lacked)
    std::size_t unreadable_hours = 0;  // (series, hour) pieces whose pages could not be read
    std::optional<WallTime> first;     // the oldest and newest value read
    std::optional<WallTime> last;
};

// Copies the raw values that can still be read from the database at `damaged` (typically a
// corrupt one moved aside) into `into`: every series, a day at a time, an hour at a time where a
// day's pages fail, skipping what cannot be read and counting it. Each day is one transaction
// (Store::import_ticks), so an interrupted salvage keeps the days it wrote and a second run adds
// only the rest. Fails when the damaged file's series table cannot be read at all.
Result<SalvageReport> salvage(const std::filesystem::path& damaged, Store& into);

// Chooses the resolution for a window: raw up to 2 days, 5-minute rollups up to 60 days, hourly
// rollups beyond.
Resolution resolution_for(std::chrono::milliseconds window);

}  // namespace boxmon::store
