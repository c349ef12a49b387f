#include "store/store.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_map>

#include "core/fs.hpp"
#include "store/schema.hpp"
#include "store/store_impl.hpp"

namespace boxmon::store {

namespace fs = std::filesystem;
using detail::is_busy;
using detail::is_corrupt;
using detail::floor_to;
using detail::ResetGuard;
using detail::Stmt;

namespace {

// series.last_seen is refreshed at most this often per series: an UPDATE per point per tick
// would cost more than the sample insert itself. series() reports the exact value.
constexpr std::int64_t kLastSeenRefreshMs = 10 * 60 * 1000;
// A tick appends one row to recent_samples and one to ticks, both at the right edge of their
// B-trees, so it dirties two or three pages whatever the page size; 4 KiB suits the chunk rows
// (about 560 bytes each).
constexpr const char* kPageSizePragma = "PRAGMA page_size=4096";
// Pages given back per maintenance step; small so the step stays short.
constexpr int kVacuumPagesPerStep = 256;

fs::path with_suffix(const fs::path& p, std::string_view suffix) {
    return fs::path(p.string() + std::string(suffix));
}

// "20261123T120300Z": a file-name friendly UTC stamp.
std::string file_stamp() {
    std::string iso = format_iso8601(std::chrono::floor<Millis>(std::chrono::system_clock::now()));
    std::string out;
    for (char c : iso)
        if (c != '-' && c != ':') out.push_back(c);
    return out;
}

std::string owner_and_mode(const struct stat& st) {
    std::string user = std::to_string(st.st_uid);
    std::string grp_name = std::to_string(st.st_gid);
    if (const passwd* pw = getpwuid(st.st_uid)) user = pw->pw_name;
    if (const struct group* gr = getgrgid(st.st_gid)) grp_name = gr->gr_name;
    return fmt::format("owned by {}:{} mode {:04o}", user, grp_name, st.st_mode & 07777);
}

std::string current_user() {
    if (const passwd* pw = getpwuid(geteuid())) return pw->pw_name;
    return std::to_string(geteuid());
}

std::string json_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    for (char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) out += fmt::format("\\u{:04x}", static_cast<int>(c));
                else out.push_back(c);
        }
    }
    return out;
}

std::string labels_json(const SeriesKey& key) {
    std::string out = "{";
    bool first = true;
    for (const Label& l : key.labels()) {
        if (!first) out += ',';
        first = false;
        out += '"' + json_escape(l.name) + "\":\"" + json_escape(l.value) + '"';
    }
    out += '}';
    return out;
}

// Creates missing directories of `dir` with mode 0700 (whatever the umask).
Result<void> ensure_directory(const fs::path& dir) {
    std::error_code ec;
    if (fs::is_directory(dir, ec)) return ok();
    if (fs::exists(dir, ec))
        return fail("state directory {} exists but is not a directory; move it away or choose "
                    "another [storage] path", dir.string());
    if (dir.has_parent_path() && dir.parent_path() != dir) BOXMON_CHECK(ensure_directory(dir.parent_path()));
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        return fail_errno(errno, "cannot create state directory {} (mode 0700)", dir.string());
    if (::chmod(dir.c_str(), 0700) != 0)
        return fail_errno(errno, "cannot set mode 0700 on state directory {}", dir.string());
    return ok();
}

// Refuses a symbolic link at a path boxmon writes: a planted link could redirect the database
// onto another file (X10).
Result<void> refuse_symlink(const fs::path& p) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
        return fail("refusing to open {}: it is a symbolic link (boxmon never follows links at its "
                    "database path); remove the link or point [storage] path at the real file",
                    p.string());
    return ok();
}

// Fails with the owner, mode and the fix when this process cannot open `p` read-write (S8).
Result<void> check_writable(const fs::path& p, const fs::path& db) {
    int fd = ::open(p.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        ::close(fd);
        return ok();
    }
    const int err = errno;
    if (err == ENOENT) return ok();
    struct stat st {};
    std::string who = ::stat(p.c_str(), &st) == 0 ? owner_and_mode(st) : "(owner unknown)";
    if (err == EROFS)
        return fail_errno(err, "cannot open {} for writing: read-only file system; remount it "
                               "read-write or move the state directory", p.string());
    return fail_errno(err, "cannot open {}: {}; run `chown {}: {}*` and `chmod 0600 {}*`",
                      p.string(), who, current_user(), db.string(), db.string());
}

// Why the first bytes of an existing database file are not a SQLite header, or "" when they
// are (or the file is empty, which SQLite initialises).
std::string header_problem(const fs::path& p) {
    int fd = ::open(p.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return {};  // reported by check_writable / sqlite3_open
    std::array<char, 100> buf{};
    ssize_t n = ::read(fd, buf.data(), buf.size());
    ::close(fd);
    if (n <= 0) return {};
    static constexpr char kMagic[] = "SQLite format 3";  // followed by NUL: 16 bytes
    if (static_cast<std::size_t>(n) < 16 || std::memcmp(buf.data(), kMagic, 16) != 0)
        return "the file does not start with the SQLite header (file is not a database)";
    if (n < 100) return fmt::format("the file is truncated inside its 100-byte header ({} bytes)", n);
    return {};
}

// Databases this process has open for writing, with how many connections. POSIX record locks
// belong to the process and are all dropped when *any* descriptor of the file is closed, so a
// second connection (the daemon's dispatcher) must not open and close the database, -wal or -shm
// files itself to probe them: that would silently drop the first connection's locks, and another
// process could then reset the -shm under it (SIGBUS in the WAL writer). The first connection
// probes; later ones in the same process go straight to SQLite, which shares one set of
// descriptors per file within a process.
std::mutex g_open_mutex;
std::map<std::string, int> g_open_writers;

bool register_writer(const fs::path& p) {
    std::lock_guard lock(g_open_mutex);
    return g_open_writers[fs::absolute(p).lexically_normal().string()]++ == 0;
}

void unregister_writer(const fs::path& p) {
    std::lock_guard lock(g_open_mutex);
    auto it = g_open_writers.find(fs::absolute(p).lexically_normal().string());
    if (it != g_open_writers.end() && --it->second <= 0) g_open_writers.erase(it);
}

}  // namespace

// ---------------------------------------------------------------------------------------------


void Store::Impl::close() {
    close_connection();
    if (registered) unregister_writer(options.path);
    registered = false;
}

Result<void> Store::Impl::open_connection(int flags) {
    close_connection();
    int rc = sqlite3_open_v2(options.path.c_str(), &db, flags | SQLITE_OPEN_NOFOLLOW, nullptr);
    if (rc != SQLITE_OK) {
        auto e = error(rc, "opening the database");
        close_connection();
        return e;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, static_cast<int>(options.busy_timeout.count()));
    if ((flags & SQLITE_OPEN_READWRITE) != 0) {
        // Keep -wal and -shm when the last connection closes: a one-shot sample then neither
        // unlinks them at exit nor recreates them (and fsyncs the directory) at its commit, and
        // readers without write access to the directory can still open the database.
        int persist = 1;
        sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
        if (!options.checkpoint_on_close) sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
        sqlite3_wal_autocheckpoint(db, options.wal_autocheckpoint_pages);
    }
    return ok();
}

Result<std::string> Store::Impl::quick_check() {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &raw, nullptr);
    if (rc != SQLITE_OK) {
        if (is_corrupt(rc)) return std::string(sqlite3_errmsg(db));
        return error(rc, "checking the database (quick_check)");
    }
    std::string problems;
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
        const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(raw, 0));
        std::string line = t ? t : "";
        if (line != "ok") {
            if (!problems.empty()) problems += "; ";
            problems += line;
            if (problems.size() > 400) break;
        }
    }
    sqlite3_finalize(raw);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        if (is_corrupt(rc)) return std::string(sqlite3_errstr(rc));
        return error(rc, "checking the database (quick_check)");
    }
    if (!problems.empty()) return "quick_check: " + problems;
    return std::string();
}

Result<std::string> Store::Impl::light_check() {
    int rc = sqlite3_exec(db, "SELECT count(*) FROM sqlite_schema", nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) return std::string();
    if (is_corrupt(rc)) return std::string(sqlite3_errmsg(db));
    return error(rc, "reading the schema");
}

// A crash between the renames of a move-aside leaves -wal/-shm without their database (C8):
// they belong with the newest <name>.corrupt-* that lacks them, never with a new database.
void Store::Impl::recover_interrupted_move() {
    const fs::path& p = options.path;
    std::error_code ec;
    if (fs::symlink_status(p, ec).type() != fs::file_type::not_found) return;
    const fs::path wal = with_suffix(p, "-wal");
    const fs::path shm = with_suffix(p, "-shm");
    const bool has_wal = fs::exists(fs::symlink_status(wal, ec));
    const bool has_shm = fs::exists(fs::symlink_status(shm, ec));
    if (!has_wal && !has_shm) return;
    const std::string prefix = p.filename().string() + ".corrupt-";
    fs::path newest;
    for (const auto& entry : fs::directory_iterator(p.parent_path().empty() ? "." : p.parent_path(), ec)) {
        std::string name = entry.path().filename().string();
        if (name.rfind(prefix, 0) != 0) continue;
        if (name.ends_with("-wal") || name.ends_with("-shm")) continue;
        if (newest.empty() || name > newest.filename().string()) newest = entry.path();
    }
    if (newest.empty()) newest = with_suffix(p, ".orphan-" + file_stamp());
    for (const auto& [from, suffix] : {std::pair{wal, "-wal"}, std::pair{shm, "-shm"}}) {
        if (!fs::exists(fs::symlink_status(from, ec))) continue;
        fs::path to = with_suffix(newest, suffix);
        if (fs::exists(fs::symlink_status(to, ec))) to = with_suffix(to, "." + file_stamp());
        fs::rename(from, to, ec);
        if (!ec) spdlog::warn("moved {} left by an interrupted move-aside to {}", from.string(), to.string());
    }
}

Result<void> Store::Impl::move_aside(const std::string& reason) {
    close_connection();
    const fs::path& p = options.path;
    fs::path target = with_suffix(p, ".corrupt-" + file_stamp());
    std::error_code ec;
    for (int i = 1; fs::exists(fs::symlink_status(target, ec)); ++i)
        target = with_suffix(p, fmt::format(".corrupt-{}-{}", file_stamp(), i));
    // The database first: a crash after it leaves only -wal/-shm, which the next open moves
    // after it (recover_interrupted_move), so no new database ever adopts a corrupt one's WAL.
    if (::rename(p.c_str(), target.c_str()) != 0)
        return fail_errno(errno, "database {} is corrupt ({}) but cannot be moved aside to {}",
                          p.string(), reason, target.string());
    for (const char* suffix : {"-wal", "-shm"}) {
        const fs::path from = with_suffix(p, suffix);
        if (::rename(from.c_str(), with_suffix(target, suffix).c_str()) != 0 && errno != ENOENT)
            return fail_errno(errno, "cannot move {} aside to {}", from.string(),
                              with_suffix(target, suffix).string());
    }
    report.moved_aside = target;
    report.corruption = reason;
    spdlog::error("database {} was corrupt ({}); moved aside to {} and started a new one",
                  p.string(), reason, target.string());
    return ok();
}

Result<void> Store::Impl::open_writer() {
    const fs::path& p = options.path;
    if (p.empty()) return fail_as(ErrorKind::config, "no database path configured ([storage] path)");
    const fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
    BOXMON_CHECK(ensure_directory(dir));
    for (const char* suffix : {"", "-wal", "-shm"}) BOXMON_CHECK(refuse_symlink(with_suffix(p, suffix)));
    registered = true;
    if (!register_writer(p)) {
        // Another connection of this process has the file open and probed it (see
        // g_open_writers): only SQLite may touch the files now.
        BOXMON_CHECK(open_connection(SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX));
        return configure_and_migrate();
    }
    recover_interrupted_move();

    std::string corrupt;
    struct stat st {};
    if (::lstat(p.c_str(), &st) == 0) {
        if (!S_ISREG(st.st_mode))
            return fail("database path {} is not a regular file; move it away", p.string());
        for (const char* suffix : {"", "-wal", "-shm"}) BOXMON_CHECK(check_writable(with_suffix(p, suffix), p));
        corrupt = header_problem(p);
        // Damage a query met mid-run (S4e): judged by the caller, not by the checks here.
        if (corrupt.empty() && st.st_size > 0) corrupt = options.move_aside_reason;
    }

    for (int attempt = 0; attempt < 2; ++attempt) {
        if (!corrupt.empty()) {
            BOXMON_CHECK(move_aside(corrupt));
            corrupt.clear();
        }
        if (::lstat(p.c_str(), &st) != 0) {
            // Created here with 0600 whatever the umask: SQLite gives -wal and -shm the
            // database file's mode.
            int fd = ::open(p.c_str(), O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0600);
            if (fd < 0 && errno != EEXIST) {
                const int err = errno;
                struct stat dst {};
                std::string who = ::stat(dir.c_str(), &dst) == 0 ? owner_and_mode(dst) : "(owner unknown)";
                return fail_errno(err, "cannot create database {} in {} ({}); make the directory "
                                       "writable for {} or choose another [storage] path",
                                  p.string(), dir.string(), who, current_user());
            }
            if (fd >= 0) {
                const int rc = ::fchmod(fd, 0600);
                ::close(fd);
                if (rc != 0) return fail_errno(errno, "cannot set mode 0600 on {}", p.string());
                report.created = true;
            }
        } else if (st.st_size == 0) {
            report.created = true;  // zero-length: initialised in place (S4 d)
        }
        BOXMON_CHECK(open_connection(SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX));
        BOXMON_TRY(problem, options.quick_check ? quick_check() : light_check());
        if (problem.empty()) return configure_and_migrate();
        corrupt = problem;
    }
    return fail("database {} is still corrupt after moving the old one aside ({}); check the disk",
                p.string(), corrupt);
}

Result<void> Store::Impl::configure_and_migrate() {
    // page_size and auto_vacuum only take effect before the first table exists, so they go
    // first (no-ops on an existing database).
    BOXMON_CHECK(exec(kPageSizePragma, "setting page_size"));
    // Setting auto_vacuum writes the header (a transaction, three fsyncs) even when it already
    // holds the value, so it is set only on a database that does not have it yet.
    BOXMON_TRY(auto_vacuum, scalar_int("PRAGMA auto_vacuum", 0));
    if (auto_vacuum != 2) BOXMON_CHECK(exec("PRAGMA auto_vacuum=INCREMENTAL", "setting auto_vacuum"));
    {
        sqlite3_stmt* raw = nullptr;
        int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &raw, nullptr);
        if (rc == SQLITE_OK) rc = sqlite3_step(raw);
        std::string mode = rc == SQLITE_ROW
                               ? reinterpret_cast<const char*>(sqlite3_column_text(raw, 0))
                               : "";
        sqlite3_finalize(raw);
        if (rc != SQLITE_ROW) return error(rc, "switching to WAL mode");
        if (mode != "wal")
            return fail("database {} could not switch to WAL mode (journal_mode is {}); the state "
                        "directory must be on a local filesystem", options.path.string(), mode);
    }
    BOXMON_CHECK(exec(options.unsafe_no_sync ? "PRAGMA synchronous=OFF" : "PRAGMA synchronous=FULL",
                      "setting synchronous"));
    BOXMON_CHECK(exec("PRAGMA foreign_keys=ON", "enabling foreign keys"));
    BOXMON_CHECK(exec(fmt::format("PRAGMA cache_size=-{}", std::max(options.cache_kib, 64)).c_str(),
                      "setting the page cache size"));
    // After a checkpoint that a long reader had held back, shrink -wal back to 64 MiB (S7).
    BOXMON_CHECK(exec("PRAGMA journal_size_limit=67108864", "limiting the WAL size"));

    BOXMON_TRY(version, scalar_int("PRAGMA user_version", 0));
    if (version > detail::kSchemaVersion)
        return fail("database {} has schema version {}, newer than this boxmon understands ({}): "
                    "it was written by a newer boxmon. Upgrade boxmon, or point [storage] path at "
                    "another file; boxmon never downgrades a database",
                    options.path.string(), version, detail::kSchemaVersion);
    for (const detail::Migration& m : detail::kMigrations) {
        if (m.version <= version) continue;
        BOXMON_CHECK(exec("BEGIN IMMEDIATE", "starting a schema migration"));
        // Another process may have migrated while we waited for the write lock.
        auto now_version = scalar_int("PRAGMA user_version", 0);
        if (!now_version) {
            rollback_if_open();
            return fail(std::move(now_version).error());
        }
        if (*now_version >= m.version) {
            rollback_if_open();
            version = *now_version;
            continue;
        }
        auto applied = exec(m.sql, fmt::format("migrating to schema version {}", m.version));
        // Version 2 moves the raw samples into their new tables (convert_v1_samples).
        if (applied && m.version == 2) applied = convert_v1_samples();
        if (applied && m.sql_after)
            applied = exec(m.sql_after, fmt::format("migrating to schema version {}", m.version));
        if (applied) {
            std::string bump = fmt::format("PRAGMA user_version={}", m.version);
            applied = exec(bump.c_str(), "recording the schema version");
        }
        if (applied) applied = exec("COMMIT", "committing a schema migration");
        if (!applied) {
            rollback_if_open();
            return applied;
        }
        if (report.migrated_from < 0) report.migrated_from = static_cast<int>(version);
        version = m.version;
    }
    return ok();
}

Result<void> Store::Impl::open_read_only() {
    const fs::path& p = options.path;
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0)
        return fail_as(ErrorKind::not_found,
                       "no database at {}; `boxmon run` or `boxmon sample` creates it", p.string());
    BOXMON_CHECK(refuse_symlink(p));
    if (st.st_size == 0)
        return fail_as(ErrorKind::not_found, "database {} is empty; `boxmon run` or `boxmon sample` "
                                             "initialises it", p.string());
    BOXMON_CHECK(open_connection(SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX));
    auto version = scalar_int("PRAGMA user_version", 0);
    if (!version) return fail(std::move(version).error());
    if (*version > detail::kSchemaVersion)
        return fail("database {} has schema version {}, newer than this boxmon understands ({}); "
                    "upgrade boxmon to read it", p.string(), *version, detail::kSchemaVersion);
    if (*version < detail::kSchemaVersion)
        return fail_as(ErrorKind::not_found,
                       "database {} has schema version {} (this boxmon writes {}); run `boxmon "
                       "sample` once to migrate it", p.string(), *version, detail::kSchemaVersion);
    return ok();
}

// ---- writes ---------------------------------------------------------------------------------

namespace sql {
constexpr const char* kUpsertSeries =
    "INSERT INTO series(name, key, labels_json, first_seen, last_seen) VALUES(?1, ?2, ?3, ?4, ?4) "
    "ON CONFLICT(key) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen) RETURNING id";
constexpr const char* kTouchSeries = "UPDATE series SET last_seen = max(last_seen, ?2) WHERE id = ?1";
constexpr const char* kInsertTick =
    "INSERT OR REPLACE INTO ticks(ts, gap_before, collectors_ok, collectors_failed, points, errors) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6)";
constexpr const char* kSaveCounters =
    "INSERT OR REPLACE INTO counters(id, boot_id, boottime_ns, wall) VALUES(1, ?1, ?2, ?3)";
constexpr const char* kClearCounterValues = "DELETE FROM counter_values";
constexpr const char* kInsertCounterValue =
    "INSERT OR REPLACE INTO counter_values(name, value) VALUES(?1, ?2)";
constexpr const char* kUpsertRuleState =
    "INSERT INTO rule_states(rule, series, state, updated) VALUES(?1, ?2, ?3, ?4) "
    "ON CONFLICT(rule, series) DO UPDATE SET state = excluded.state, updated = excluded.updated";
constexpr const char* kDeleteRuleState = "DELETE FROM rule_states WHERE rule = ?1 AND series = ?2";
constexpr const char* kUpsertIncident =
    "INSERT INTO incidents(id, rule, series, kind, severity, peak_severity, start, \"end\", "
    "peak_value, last_value) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
    "ON CONFLICT(id) DO UPDATE SET rule = excluded.rule, series = excluded.series, "
    "kind = excluded.kind, severity = excluded.severity, peak_severity = excluded.peak_severity, "
    "start = excluded.start, \"end\" = excluded.\"end\", peak_value = excluded.peak_value, "
    "last_value = excluded.last_value";
constexpr const char* kInsertOutbox =
    "INSERT INTO outbox(channel, incident_id, idempotency_key, kind, payload, created, state, "
    "attempts, next_attempt) VALUES(?1, ?2, ?3, ?4, ?5, ?6, 'pending', 0, ?6) "
    "ON CONFLICT(channel, idempotency_key) DO NOTHING";
// A refresh (core/outbox.hpp): one row per incident and channel. A pending one takes the new
// payload and keeps its schedule and attempts (the backoff goes on); a finished one is re-armed.
// SET expressions read the row as it was.
constexpr const char* kUpsertRefresh =
    "INSERT INTO outbox(channel, incident_id, idempotency_key, kind, payload, created, state, "
    "attempts, next_attempt) VALUES(?1, ?2, ?3, ?4, ?5, ?6, 'pending', 0, ?6) "
    "ON CONFLICT(channel, idempotency_key) DO UPDATE SET payload = excluded.payload, "
    "created = CASE WHEN state = 'pending' THEN created ELSE excluded.created END, "
    "next_attempt = CASE WHEN state = 'pending' THEN next_attempt ELSE excluded.next_attempt END, "
    "attempts = CASE WHEN state = 'pending' THEN attempts ELSE 0 END, "
    "last_error = CASE WHEN state = 'pending' THEN last_error ELSE '' END, "
    "finished = NULL, state = 'pending'";
}  // namespace sql

Result<void> Store::Impl::preload_series() {
    series_preloaded = true;
    // Newest first and bounded: a table grown by label churn is only partly cached, and the
    // rest is upserted as before.
    static constexpr const char* q = "SELECT id, key, last_seen FROM series ORDER BY id DESC LIMIT 4096";
    BOXMON_TRY(s, stmt(q));
    ResetGuard g(*s);
    int rc;
    while ((rc = s->step()) == SQLITE_ROW) {
        auto key = SeriesKey::parse(s->text(1));
        if (key) series_cache.emplace(std::move(*key), CachedSeries{s->int64(0), s->int64(2)});
    }
    if (rc != SQLITE_DONE) return error(rc, "reading the series");
    return ok();
}

Result<std::int64_t> Store::Impl::series_id_for_write(const SeriesKey& key, std::int64_t ts) {
    if (!series_preloaded && series_cache.empty()) BOXMON_CHECK(preload_series());
    auto it = series_cache.find(key);
    if (it != series_cache.end()) {
        if (ts - it->second.last_seen_written >= kLastSeenRefreshMs) {
            BOXMON_TRY(s, stmt(sql::kTouchSeries));
            s->bind(1, it->second.id);
            s->bind(2, ts);
            BOXMON_CHECK(run(*s, "updating series.last_seen"));
            it->second.last_seen_written = ts;
        }
        return it->second.id;
    }
    BOXMON_TRY(s, stmt(sql::kUpsertSeries));
    ResetGuard g(*s);
    const std::string text = key.to_string();
    s->bind(1, std::string_view(key.name()));
    s->bind(2, std::string_view(text));
    const std::string labels = labels_json(key);
    s->bind(3, std::string_view(labels));
    s->bind(4, ts);
    int rc = s->step();
    if (rc != SQLITE_ROW) return error(rc, fmt::format("adding series {}", text));
    const std::int64_t id = s->int64(0);
    series_cache.emplace(key, CachedSeries{id, ts});
    return id;
}

Result<void> Store::Impl::write_tick(const TickWrite& tick) {
    const std::int64_t ts = to_unix_ms(tick.sample.ts);
    std::vector<std::pair<std::int64_t, double>> values;
    values.reserve(tick.sample.points.size());
    for (const Point& p : tick.sample.points) {
        if (!std::isfinite(p.value)) continue;
        BOXMON_TRY(id, series_id_for_write(p.key, ts));
        // -0.0 is stored as 0, as a REAL column always stored it.
        values.emplace_back(id, p.value == 0 ? 0.0 : p.value);
    }
    BOXMON_TRY(points, write_recent(ts, std::move(values)));
    // No rollup work here: hourly buckets are written when maintenance folds their hour, and
    // until then (like 5-minute buckets inside the raw window) computed when read.

    {
        BOXMON_TRY(s, stmt(sql::kInsertTick));
        std::int64_t ok_count = 0;
        std::int64_t failed = 0;
        std::string errors;
        for (const CollectorStatus& c : tick.sample.collectors) {
            if (c.ok) {
                ++ok_count;
                continue;
            }
            ++failed;
            if (!errors.empty()) errors += '\n';
            errors += c.name + ": " + c.error;
        }
        s->bind(1, ts);
        s->bind(2, tick.gap_before ? 1 : 0);
        s->bind(3, ok_count);
        s->bind(4, failed);
        s->bind(5, points);
        if (errors.empty()) s->bind_null(6);
        else s->bind(6, std::string_view(errors));
        BOXMON_CHECK(run(*s, "recording the tick"));
    }

    if (tick.counters) {
        const CounterSnapshot& c = *tick.counters;
        BOXMON_TRY(save, stmt(sql::kSaveCounters));
        save->bind(1, std::string_view(c.boot_id));
        save->bind(2, static_cast<std::int64_t>(c.boottime.count()));
        save->bind(3, to_unix_ms(c.wall));
        BOXMON_CHECK(run(*save, "saving counters"));
        BOXMON_TRY(clear, stmt(sql::kClearCounterValues));
        BOXMON_CHECK(run(*clear, "saving counters"));
        BOXMON_TRY(val, stmt(sql::kInsertCounterValue));
        for (const auto& [name, value] : c.values) {
            val->bind(1, std::string_view(name));
            // Stored as the two's-complement int64 of the uint64; read back exactly.
            val->bind(2, static_cast<std::int64_t>(value));
            BOXMON_CHECK(run(*val, "saving counters"));
        }
    }

    if (!tick.rule_states.empty()) {
        BOXMON_TRY(s, stmt(sql::kUpsertRuleState));
        for (const RuleStateRecord& r : tick.rule_states) {
            s->bind(1, std::string_view(r.rule));
            s->bind(2, std::string_view(r.series));
            s->bind(3, std::string_view(r.state));
            s->bind(4, to_unix_ms(r.updated));
            BOXMON_CHECK(run(*s, "saving rule state"));
        }
    }
    if (!tick.rule_states_removed.empty()) {
        BOXMON_TRY(s, stmt(sql::kDeleteRuleState));
        for (const auto& [rule, series] : tick.rule_states_removed) {
            s->bind(1, std::string_view(rule));
            s->bind(2, std::string_view(series));
            BOXMON_CHECK(run(*s, "removing rule state"));
        }
    }
    if (!tick.incidents.empty()) {
        BOXMON_TRY(s, stmt(sql::kUpsertIncident));
        for (const Incident& i : tick.incidents) {
            const std::string series = i.series.to_string();
            s->bind(1, std::string_view(i.id));
            s->bind(2, std::string_view(i.rule));
            s->bind(3, std::string_view(series));
            s->bind(4, to_string(i.kind));
            s->bind(5, to_string(i.severity));
            s->bind(6, to_string(i.peak_severity));
            s->bind(7, to_unix_ms(i.start));
            if (i.end) s->bind(8, to_unix_ms(*i.end));
            else s->bind_null(8);
            s->bind(9, i.peak_value);
            s->bind(10, i.last_value);
            BOXMON_CHECK(run(*s, "saving an incident"));
        }
    }
    return insert_outbox(tick.outbox);
}


Result<std::int64_t> Store::Impl::meta_int(const char* key, std::int64_t fallback) {
    static constexpr const char* q = "SELECT CAST(value AS INTEGER) FROM meta WHERE key = ?1";
    BOXMON_TRY(s, stmt(q));
    ResetGuard g(*s);
    s->bind(1, std::string_view(key));
    const int rc = s->step();
    if (rc == SQLITE_ROW) return s->int64(0);
    if (rc == SQLITE_DONE) return fallback;
    return error(rc, fmt::format("reading meta {}", key));
}

Result<void> Store::Impl::set_meta_int(const char* key, std::int64_t value) {
    static constexpr const char* q = "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)";
    BOXMON_TRY(s, stmt(q));
    s->bind(1, std::string_view(key));
    const std::string text = std::to_string(value);
    s->bind(2, std::string_view(text));
    return run(*s, fmt::format("writing meta {}", key));
}










Result<void> Store::Impl::insert_outbox(const std::vector<OutboxItem>& items) {
    if (items.empty()) return ok();
    BOXMON_TRY(insert, stmt(sql::kInsertOutbox));
    BOXMON_TRY(upsert, stmt(sql::kUpsertRefresh));
    for (const OutboxItem& it : items) {
        auto* s = it.kind == to_string(NotificationKind::refresh) ? upsert : insert;
        s->bind(1, std::string_view(it.channel));
        s->bind(2, std::string_view(it.incident_id));
        s->bind(3, std::string_view(it.idempotency_key));
        s->bind(4, std::string_view(it.kind));
        s->bind(5, std::string_view(it.payload));
        s->bind(6, to_unix_ms(it.created));
        BOXMON_CHECK(run(*s, "queueing a notification in the outbox"));
    }
    return ok();
}

// ---- the outbox on this connection ------------------------------------------------------------

namespace {

constexpr const char* kOutboxColumns =
    "id, channel, incident_id, idempotency_key, kind, payload, created, state, attempts, "
    "next_attempt, last_error, finished";

Result<OutboxRow> outbox_row(const Stmt& s) {
    OutboxRow r;
    r.id = s.int64(0);
    r.item.channel = s.text(1);
    r.item.incident_id = s.text(2);
    r.item.idempotency_key = s.text(3);
    r.item.kind = s.text(4);
    r.item.payload = s.text(5);
    r.item.created = from_unix_ms(s.int64(6));
    BOXMON_TRY(state, parse_outbox_state(s.text(7)));
    r.state = state;
    r.attempts = static_cast<int>(s.int64(8));
    r.next_attempt = from_unix_ms(s.int64(9));
    r.last_error = s.text(10);
    if (!s.is_null(11)) r.finished = from_unix_ms(s.int64(11));
    return r;
}

// The receiver's error text is kept to 1 KiB (on a UTF-8 boundary).
std::string_view clip_error(std::string_view e) {
    if (e.size() <= 1024) return e;
    std::size_t n = 1024;
    while (n > 0 && (static_cast<unsigned char>(e[n]) & 0xC0) == 0x80) --n;
    return e.substr(0, n);
}

}  // namespace

class SqliteOutbox final : public OutboxStore {
public:
    explicit SqliteOutbox(Store::Impl& impl) : m(impl) {}

    Result<std::vector<OutboxRow>> due(WallTime now, std::size_t limit) override {
        static const std::string q = fmt::format(
            "SELECT {} FROM outbox WHERE state = 'pending' AND next_attempt <= ?1 ORDER BY id "
            "LIMIT ?2", kOutboxColumns);
        std::lock_guard lock(m.mutex);
        BOXMON_TRY(s, m.stmt(q.c_str()));
        s->bind(1, to_unix_ms(now));
        s->bind(2, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
        return rows(*s);
    }

    Result<std::optional<WallTime>> next_due() override {
        static constexpr const char* q = "SELECT min(next_attempt) FROM outbox WHERE state = 'pending'";
        std::lock_guard lock(m.mutex);
        BOXMON_TRY(s, m.stmt(q));
        ResetGuard g(*s);
        int rc = s->step();
        if (rc != SQLITE_ROW) return m.error(rc, "reading the outbox");
        if (s->is_null(0)) return std::optional<WallTime>();
        return std::optional<WallTime>(from_unix_ms(s->int64(0)));
    }

    Result<void> mark_delivered(std::int64_t id, WallTime at) override {
        static constexpr const char* q =
            "UPDATE outbox SET state = 'delivered', finished = ?2, attempts = attempts + 1, "
            "last_error = '' WHERE id = ?1";
        return update(q, id, [&](Stmt& s) { s.bind(2, to_unix_ms(at)); });
    }

    Result<void> mark_retry(std::int64_t id, WallTime next_attempt, std::string_view error,
                            bool charge) override {
        static constexpr const char* q =
            "UPDATE outbox SET next_attempt = ?2, last_error = ?3, attempts = attempts + ?4 "
            "WHERE id = ?1 AND state = 'pending'";
        return update(q, id, [&](Stmt& s) {
            s.bind(2, to_unix_ms(next_attempt));
            s.bind(3, clip_error(error));
            s.bind(4, charge ? 1 : 0);
        });
    }

    Result<void> mark_dead(std::int64_t id, WallTime at, std::string_view reason) override {
        static constexpr const char* q =
            "UPDATE outbox SET state = 'dead', finished = ?2, last_error = ?3 WHERE id = ?1";
        return update(q, id, [&](Stmt& s) {
            s.bind(2, to_unix_ms(at));
            s.bind(3, clip_error(reason));
        });
    }

    Result<void> insert(const std::vector<OutboxItem>& items) override {
        if (items.empty()) return ok();
        std::lock_guard lock(m.mutex);
        BOXMON_CHECK(m.exec("BEGIN IMMEDIATE", "starting an outbox write"));
        auto r = m.insert_outbox(items);
        if (r) r = m.exec("COMMIT", "committing outbox rows");
        if (!r) m.rollback_if_open();
        return r;
    }

    Result<OutboxCounts> counts() override {
        static constexpr const char* q =
            "SELECT state, count(*), min(created) FROM outbox GROUP BY state";
        std::lock_guard lock(m.mutex);
        BOXMON_TRY(s, m.stmt(q));
        ResetGuard g(*s);
        OutboxCounts c;
        int rc;
        while ((rc = s->step()) == SQLITE_ROW) {
            const std::string state = s->text(0);
            const std::int64_t n = s->int64(1);
            if (state == "pending") {
                c.pending = n;
                if (!s->is_null(2)) c.oldest_pending = from_unix_ms(s->int64(2));
            } else if (state == "dead") {
                c.dead = n;
            } else if (state == "delivered") {
                c.delivered = n;
            }
        }
        if (rc != SQLITE_DONE) return m.error(rc, "counting the outbox");
        return c;
    }

    Result<std::vector<OutboxRow>> recent(WallTime since, std::size_t limit) override {
        static const std::string q = fmt::format(
            "SELECT {} FROM outbox WHERE created >= ?1 ORDER BY created DESC, id DESC LIMIT ?2",
            kOutboxColumns);
        std::lock_guard lock(m.mutex);
        BOXMON_TRY(s, m.stmt(q.c_str()));
        s->bind(1, to_unix_ms(since));
        s->bind(2, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
        return rows(*s);
    }

private:
    Result<std::vector<OutboxRow>> rows(Stmt& s) {
        ResetGuard g(s);
        std::vector<OutboxRow> out;
        int rc;
        while ((rc = s.step()) == SQLITE_ROW) {
            BOXMON_TRY(row, outbox_row(s));
            out.push_back(std::move(row));
        }
        if (rc != SQLITE_DONE) return m.error(rc, "reading the outbox");
        return out;
    }

    template <class Bind>
    Result<void> update(const char* q, std::int64_t id, Bind&& bind) {
        std::lock_guard lock(m.mutex);
        BOXMON_TRY(s, m.stmt(q));
        s->bind(1, id);
        bind(*s);
        return m.run(*s, "updating the outbox");
    }

    Store::Impl& m;
};

// ---- Store ------------------------------------------------------------------------------------

Store::Store(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {
    m_impl->outbox = std::make_unique<SqliteOutbox>(*m_impl);
}

Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::open(const StoreOptions& options) {
    auto impl = std::make_unique<Impl>(options);
    auto opened = options.read_only ? impl->open_read_only() : impl->open_writer();
    if (!opened) return fail(std::move(opened).error());
    std::unique_ptr<Store> store(new Store(std::move(impl)));
    if (const auto& r = store->m_impl->report; r.moved_aside) {
        // The new database remembers it, for `status`, the report and the one-an-hour limit.
        const std::string at = std::to_string(to_unix_ms(std::chrono::floor<Millis>(std::chrono::system_clock::now())));
        for (const auto& [key, value] : {std::pair<const char*, std::string>{"moved_aside_to", r.moved_aside->string()},
                                         {"moved_aside_reason", r.corruption},
                                         {"moved_aside_at", at}})
            if (auto w = store->set_meta(key, value); !w)
                spdlog::warn("cannot note the move-aside in the new database: {}", w.error().message);
    }
    if (!options.read_only) {
        // S9: said once per database (a timer's one-shot runs would repeat it every minute).
        const fs::path dir = options.path.parent_path().empty() ? fs::path(".") : options.path.parent_path();
        if (const std::string_view type = network_filesystem_of(dir); !type.empty()) {
            auto said = store->meta("network_filesystem_said");
            if (!said || !*said || **said != type) {
                store->m_impl->report.network_filesystem = std::string(type);
                (void)store->set_meta("network_filesystem_said", type);
            }
        }
    }
    return store;
}

const OpenReport& Store::open_report() const { return m_impl->report; }

std::optional<std::string> Store::corruption() const {
    std::lock_guard lock(m_impl->corruption_mutex);
    if (m_impl->corruption_seen.empty()) return std::nullopt;
    return m_impl->corruption_seen;
}

Result<std::optional<MoveAside>> Store::last_move_aside() {
    BOXMON_TRY(to, meta("moved_aside_to"));
    if (!to) return std::optional<MoveAside>();
    BOXMON_TRY(reason, meta("moved_aside_reason"));
    BOXMON_TRY(at, meta("moved_aside_at"));
    MoveAside m;
    m.to = *to;
    m.reason = reason.value_or("");
    if (at) {
        std::int64_t ms = 0;
        auto [end, ec] = std::from_chars(at->data(), at->data() + at->size(), ms);
        if (ec == std::errc() && end == at->data() + at->size()) m.at = from_unix_ms(ms);
    }
    return std::optional<MoveAside>(std::move(m));
}

std::optional<WallTime> newest_move_aside(const std::filesystem::path& database) {
    // <name>.corrupt-YYYYMMDDTHHMMSSZ, maybe with -N, -wal or -shm after it (file_stamp).
    const std::string prefix = database.filename().string() + ".corrupt-";
    const fs::path dir = database.parent_path().empty() ? fs::path(".") : database.parent_path();
    std::optional<WallTime> newest;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind(prefix, 0) != 0 || name.size() < prefix.size() + 16) continue;
        const std::string_view s = std::string_view(name).substr(prefix.size(), 16);
        const std::string iso = fmt::format("{}-{}-{}T{}:{}:{}Z", s.substr(0, 4), s.substr(4, 2), s.substr(6, 2),
                                            s.substr(9, 2), s.substr(11, 2), s.substr(13, 2));
        if (s[8] != 'T' || s[15] != 'Z') continue;
        if (auto t = parse_iso8601(iso); t && (!newest || *t > *newest)) newest = *t;
    }
    return newest;
}
const std::filesystem::path& Store::path() const { return m_impl->options.path; }
OutboxStore& Store::outbox() { return *m_impl->outbox; }

Result<void> Store::commit_tick(const TickWrite& tick) {
    Impl& m = *m_impl;
    std::lock_guard lock(m.mutex);
    if (m.options.read_only)
        return fail("database {} was opened read-only; cannot write a tick", m.options.path.string());
    BOXMON_CHECK(m.exec("BEGIN IMMEDIATE", "starting the tick's transaction"));
    auto r = m.write_tick(tick);
    if (r) r = m.exec("COMMIT", "committing the tick");
    if (!r) {
        m.rollback_if_open();
        // Series added inside the failed transaction do not exist; forget every cached id
        // rather than track which ones.
        m.series_cache.clear();
        m.series_preloaded = false;
    }
    return r;
}

Result<std::size_t> Store::import_ticks(const std::vector<Sample>& samples) {
    Impl& m = *m_impl;
    std::lock_guard lock(m.mutex);
    if (m.options.read_only)
        return fail("database {} was opened read-only; cannot import ticks", m.options.path.string());
    BOXMON_CHECK(m.exec("BEGIN IMMEDIATE", "starting the import's transaction"));
    std::size_t written = 0;
    auto r = [&]() -> Result<void> {
        static constexpr const char* q = "SELECT 1 FROM ticks WHERE ts = ?1";
        for (const Sample& sample : samples) {
            BOXMON_TRY(s, m.stmt(q));
            ResetGuard g(*s);
            s->bind(1, to_unix_ms(sample.ts));
            const int rc = s->step();
            if (rc == SQLITE_ROW) continue;  // this database has the tick: its values are newer
            if (rc != SQLITE_DONE) return m.error(rc, "looking up a tick");
            TickWrite tick;
            tick.sample = sample;
            BOXMON_CHECK(m.write_tick(tick));
            ++written;
        }
        return m.exec("COMMIT", "committing the import");
    }();
    if (!r) {
        m.rollback_if_open();
        m.series_cache.clear();
        m.series_preloaded = false;
        return fail(std::move(r).error());
    }
    return written;
}

// Deletes at most `budget` rows older than `cutoff` from a (series_id, <ts_column>) table,
// oldest first within each series; returns how many went.
Result<std::int64_t> Store::Impl::delete_oldest(const char* table, const char* ts_column,
                                                std::int64_t cutoff, std::int64_t budget) {
    // Statements are cached by address, so build each table's text once.
    struct Texts {
        std::string ids;
        std::string del;
    };
    static std::mutex texts_mutex;
    static std::unordered_map<const char*, Texts> texts;
    const Texts* t = nullptr;
    {
        std::lock_guard lock(texts_mutex);
        auto [it, inserted] = texts.try_emplace(table);
        if (inserted) {
            it->second.ids = fmt::format(
                "SELECT id FROM series WHERE EXISTS (SELECT 1 FROM {0} WHERE series_id = series.id "
                "AND {1} < ?1) ORDER BY id", table, ts_column);
            it->second.del = fmt::format(
                "DELETE FROM {0} WHERE series_id = ?1 AND {1} < ?2 AND {1} <= (SELECT max({1}) FROM "
                "(SELECT {1} FROM {0} WHERE series_id = ?1 AND {1} < ?2 ORDER BY {1} LIMIT ?3))",
                table, ts_column);
        }
        t = &it->second;
    }
    std::vector<std::int64_t> ids;
    {
        BOXMON_TRY(s, stmt(t->ids.c_str()));
        ResetGuard g(*s);
        s->bind(1, cutoff);
        int rc;
        while ((rc = s->step()) == SQLITE_ROW) ids.push_back(s->int64(0));
        if (rc != SQLITE_DONE) return error(rc, fmt::format("finding old rows in {}", table));
    }
    std::int64_t deleted = 0;
    BOXMON_TRY(del, stmt(t->del.c_str()));
    for (std::size_t i = 0; i < ids.size() && deleted < budget; ++i) {
        // Share the budget so every series makes progress in the same step.
        const std::int64_t left = budget - deleted;
        const std::int64_t share = std::max<std::int64_t>(1, left / static_cast<std::int64_t>(ids.size() - i));
        del->bind(1, ids[i]);
        del->bind(2, cutoff);
        del->bind(3, share);
        BOXMON_CHECK(run(*del, fmt::format("deleting old rows from {}", table)));
        deleted += sqlite3_changes(db);
    }
    return deleted;
}

void Store::Impl::watch_wal() {
    if (options.read_only || options.wal_warn_bytes == 0) return;
    const fs::path wal = with_suffix(options.path, "-wal");
    struct stat st {};
    if (::stat(wal.c_str(), &st) != 0) return;
    const auto size = static_cast<std::uint64_t>(st.st_size);
    const double mib = static_cast<double>(size) / (1024.0 * 1024.0);
    if (size <= options.wal_warn_bytes) {
        if (wal_warned) spdlog::info("the write-ahead log {} is back to {:.1f} MiB", wal.string(), mib);
        wal_warned = false;
        return;
    }
    // Copy every page back and truncate the file, but never wait for a reader: the tick loop
    // must not stall behind someone's open transaction.
    int log_pages = 0;
    int copied = 0;
    sqlite3_busy_timeout(db, 0);
    const int rc = sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_TRUNCATE, &log_pages, &copied);
    sqlite3_busy_timeout(db, static_cast<int>(options.busy_timeout.count()));
    if (rc == SQLITE_OK) {
        if (wal_warned)
            spdlog::info("the reader has let go: the write-ahead log {} was checkpointed and truncated "
                         "(it had reached {:.1f} MiB)", wal.string(), mib);
        wal_warned = false;
        return;
    }
    if (wal_warned) return;
    wal_warned = true;
    spdlog::warn("the write-ahead log {} has grown to {:.1f} MiB: checkpoints are blocked by a "
                 "long-running reader (a connection holding a read transaction open, e.g. an "
                 "interactive sqlite3 left inside BEGIN; {} of {} pages could be copied back). "
                 "Writes go on; end that transaction and the log is truncated at the next tick",
                 wal.string(), mib, copied, log_pages);
}

Result<bool> Store::maintenance_step(WallTime now, std::size_t max_rows) {
    Impl& m = *m_impl;
    std::lock_guard lock(m.mutex);
    if (m.options.read_only) return false;
    BOXMON_TRY(newest, m.scalar_int("SELECT max(ts) FROM ticks", INT64_MIN));
    if (newest == INT64_MIN) return false;  // nothing stored yet
    const std::int64_t now_ms = to_unix_ms(now);
    const std::int64_t raw_ms = m.options.retention_raw.count();
    if (now_ms - newest > 2 * raw_ms) {
        // The clock jumped far ahead of the data (bad RTC, a typo): deleting now would erase
        // history that is in fact recent (K3). Wait for a sane clock.
        if (!m.retention_paused_logged)
            spdlog::warn("system clock looks wrong ({}, newest sample {}); retention paused",
                         format_iso8601(now), format_iso8601(from_unix_ms(newest)));
        m.retention_paused_logged = true;
        return false;
    }
    m.retention_paused_logged = false;

    std::int64_t budget = static_cast<std::int64_t>(std::min<std::size_t>(max_rows, INT32_MAX));
    bool more = false;
    Impl::Quiet quiet = m.quiet;
    m.written = {INT64_MAX, INT64_MAX, INT64_MAX};
    BOXMON_CHECK(m.exec("BEGIN IMMEDIATE", "starting retention"));
    auto step = [&]() -> Result<void> {
        const std::int64_t raw_cutoff = now_ms - raw_ms;
        // Completed hours of recent ticks (and any already past the retention) into chunks.
        const std::int64_t hour_in_progress = floor_to(newest, detail::k_one_hour_ms);
        BOXMON_TRY(folded, m.fold_step(std::max(hour_in_progress, raw_cutoff), budget, hour_in_progress));
        budget -= folded.samples;
        more = more || folded.more;
        if (budget <= 0) {
            more = true;
            return ok();
        }
        if (raw_cutoff > quiet.chunks) {
            BOXMON_TRY(expired, m.expire_chunks(raw_cutoff, budget, floor_to(newest, detail::k_five_minutes_ms),
                                                now_ms - m.options.retention_5m.count()));
            budget -= expired.samples;
            more = more || expired.more;
            quiet.chunks = INT64_MIN;
            if (!expired.more) {
                static constexpr const char* q =
                    "SELECT min((SELECT first_ts + (n - 1) * step_ms FROM sample_chunks WHERE "
                    "series_id = series.id ORDER BY first_ts LIMIT 1)) FROM series";
                BOXMON_TRY(oldest_end, m.scalar_int(q, INT64_MAX));
                quiet.chunks = oldest_end;
            }
        }
        struct Target {
            const char* table;
            std::int64_t cutoff;
            std::int64_t* quiet;
            const char* oldest;
        };
        const Target targets[] = {
            {"rollup_5m", now_ms - m.options.retention_5m.count(), &quiet.r5m,
             "SELECT min((SELECT min(bucket_ts) FROM rollup_5m WHERE series_id = series.id)) FROM series"},
            {"rollup_1h", now_ms - m.options.retention_1h.count(), &quiet.r1h,
             "SELECT min((SELECT min(bucket_ts) FROM rollup_1h WHERE series_id = series.id)) FROM series"},
        };
        for (const Target& t : targets) {
            if (budget <= 0) {
                more = true;
                return ok();
            }
            if (t.cutoff <= *t.quiet) continue;
            BOXMON_TRY(n, m.delete_oldest(t.table, "bucket_ts", t.cutoff, budget));
            budget -= n;
            *t.quiet = INT64_MIN;
            if (budget > 0) {
                BOXMON_TRY(oldest, m.scalar_int(t.oldest, INT64_MAX));
                *t.quiet = oldest;
            }
        }
        // Bookkeeping rows: ticks as long as raw samples; finished outbox rows and closed
        // incidents as long as the hourly rollups.
        static constexpr const char* kTicks =
            "DELETE FROM ticks WHERE ts IN (SELECT ts FROM ticks WHERE ts < ?1 ORDER BY ts LIMIT ?2)";
        static constexpr const char* kOutbox =
            "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE state != 'pending' AND "
            "finished < ?1 ORDER BY id LIMIT ?2)";
        static constexpr const char* kIncidents =
            "DELETE FROM incidents WHERE id IN (SELECT id FROM incidents WHERE \"end\" < ?1 "
            "ORDER BY \"end\" LIMIT ?2)";
        const std::pair<const char*, std::int64_t> others[] = {
            {kTicks, now_ms - raw_ms},
            {kOutbox, now_ms - m.options.retention_1h.count()},
            {kIncidents, now_ms - m.options.retention_1h.count()},
        };
        for (const auto& [q, cutoff] : others) {
            if (budget <= 0) {
                more = true;
                return ok();
            }
            BOXMON_TRY(s, m.stmt(q));
            s->bind(1, cutoff);
            s->bind(2, budget);
            BOXMON_CHECK(m.run(*s, "deleting old rows"));
            budget -= sqlite3_changes(m.db);
        }
        if (budget <= 0) more = true;
        return ok();
    };
    auto r = step();
    if (r) r = m.exec("COMMIT", "committing retention");
    if (!r) {
        m.rollback_if_open();
        m.quiet = {};
        return fail(std::move(r).error());
    }
    // What this step wrote may expire before what was there.
    m.quiet.chunks = std::min(quiet.chunks, m.written.chunks);
    m.quiet.r5m = std::min(quiet.r5m, m.written.r5m);
    m.quiet.r1h = std::min(quiet.r1h, m.written.r1h);
    // Give freed pages back to the filesystem a little at a time (auto_vacuum=INCREMENTAL).
    BOXMON_TRY(free_pages, m.scalar_int("PRAGMA freelist_count", 0));
    if (free_pages > 0) {
        static const std::string vacuum = fmt::format("PRAGMA incremental_vacuum({})", kVacuumPagesPerStep);
        BOXMON_CHECK(m.exec(vacuum.c_str(), "returning free pages (incremental_vacuum)"));
        if (free_pages > kVacuumPagesPerStep) more = true;
    }
    m.watch_wal();
    return more;
}

// ---- reads ----------------------------------------------------------------------------------

Result<std::optional<CounterSnapshot>> Store::load_counters() {
    Impl& m = *m_impl;
    std::lock_guard lock(m.mutex);
    static constexpr const char* kHead = "SELECT boot_id, boottime_ns, wall FROM counters WHERE id = 1";
    static constexpr const char* kValues = "SELECT name, value FROM counter_values";
    CounterSnapshot c;
    {
        BOXMON_TRY(s, m.stmt(kHead));
        ResetGuard g(*s);
        int rc = s->step();
        if (rc == SQLITE_DONE) return std::optional<CounterSnapshot>();
        if (rc != SQLITE_ROW) return m.error(rc, "loading counters");
        c.boot_id = s->text(0);
        c.boottime = Nanos{s->int64(1)};
        c.wall = from_unix_ms(s->int64(2));
    }
    BOXMON_TRY(s, m.stmt(kValues));
    ResetGuard g(*s);
    int rc;
    while ((rc = s->step()) == SQLITE_ROW)
        c.values[s->text(0)] = static_cast<std::uint64_t>(s->int64(1));
    if (rc != SQLITE_DONE) return m.error(rc, "loading counters");
    return std::optional<CounterSnapshot>(std::move(c));
}

Result<std::vector<RuleStateRecord>> Store::load_rule_states() {
    Impl& m = *m_impl;
    std::lock_guard lock(m.mutex);
    static constexpr const char* q = "SELECT rule, series, state, updated FROM rule_states ORDER BY rule, series";
    BOXMON_TRY(s, m.stmt(q));
    ResetGuard g(*s);
    std::vector<RuleStateRecord> out;
    int rc;
    while ((rc = s->step()) == SQLITE_ROW)
        out.push_back({s->text(0), s->text(1), s->text(2), from_unix_ms(s->int64(3))});
    if (rc != SQLITE_DONE) return m.error(rc, "loading rule states");
    return out;
}

Result<std::optional<WallTime>> Store::last_tick() {
    Impl& m = *m_impl;
    std::lock_guard lock(m.mutex);
    BOXMON_TRY(v, m.scalar_int("SELECT max(ts) FROM ticks", INT64_MIN));
    if (v == INT64_MIN) return std::optional<WallTime>();
    return std::optional<WallTime>(from_unix_ms(v));
}

Result<std::vector<SeriesInfo>> Store::series_table() {
    Impl& m = *m_impl;
    std::lock_guard lock(m.mutex);
    static constexpr const char* q = "SELECT id, key, first_seen, last_seen FROM series ORDER BY key";
    BOXMON_TRY(s, m.stmt(q));
    ResetGuard g(*s);
    std::vector<SeriesInfo> out;
    int rc;
    while ((rc = s->step()) == SQLITE_ROW) {
        auto key = SeriesKey::parse(s->text(1));
        if (!key) continue;  // a damaged row: the others still count
        SeriesInfo info;
        info.id = s->int64(0);
        info.key = std::move(*key);
        info.first_seen = from_unix_ms(s->int64(2));
        info.last_seen = from_unix_ms(s->int64(3));
        out.push_back(std::move(info));
    }
    if (rc != SQLITE_DONE) return m.error(rc, "listing series");
    return out;
}

Result<std::vector<SeriesInfo>> Store::series() {
    Impl& m = *m_impl;
    std::lock_guard lock(m.mutex);
    ReadSnapshot snapshot(m.db);
    // last_seen in the table is refreshed lazily (every 10 minutes); the newest sample makes
    // it exact: the end of the series' newest chunk (rows never overlap), or a recent tick.
    static constexpr const char* q =
        "SELECT id, key, first_seen, last_seen, (SELECT first_ts + (n - 1) * step_ms FROM "
        "sample_chunks WHERE series_id = series.id ORDER BY first_ts DESC LIMIT 1) FROM series "
        "ORDER BY key";
    static constexpr const char* k_recent_newest_first =
        "SELECT ts, vals FROM recent_samples ORDER BY ts DESC";
    std::vector<SeriesInfo> out;
    {
        BOXMON_TRY(s, m.stmt(q));
        ResetGuard g(*s);
        int rc;
        while ((rc = s->step()) == SQLITE_ROW) {
            SeriesInfo info;
            info.id = s->int64(0);
            auto key = SeriesKey::parse(s->text(1));
            if (!key) return fail("database {}: series {} has an unreadable key \"{}\": {}",
                                  m.options.path.string(), info.id, s->text(1), key.error().message);
            info.key = std::move(*key);
            info.first_seen = from_unix_ms(s->int64(2));
            std::int64_t last = s->int64(3);
            if (!s->is_null(4)) last = std::max(last, s->int64(4));
            info.last_seen = from_unix_ms(last);
            out.push_back(std::move(info));
        }
        if (rc != SQLITE_DONE) return m.error(rc, "listing series");
    }
    // Newest recent ticks first; a series is settled by the first tick that carries it or by
    // reaching what is already known of it.
    std::vector<std::size_t> open(out.size());
    for (std::size_t i = 0; i < open.size(); ++i) open[i] = i;
    BOXMON_TRY(s, m.stmt(k_recent_newest_first));
    ResetGuard g(*s);
    int rc = SQLITE_DONE;
    while (!open.empty() && (rc = s->step()) == SQLITE_ROW) {
        const std::int64_t ts = s->int64(0);
        const std::string_view vals = s->text_view(1);
        std::erase_if(open, [&](std::size_t i) {
            if (ts <= to_unix_ms(*out[i].last_seen)) return true;
            if (!detail::find_tick_value(vals, out[i].id)) return false;
            out[i].last_seen = from_unix_ms(ts);
            return true;
        });
    }
    if (!open.empty() && rc != SQLITE_DONE) return m.error(rc, "listing series");
    return out;
}

Result<std::optional<std::int64_t>> Store::Impl::series_id(const SeriesKey& key) {
    auto it = series_cache.find(key);
    if (it != series_cache.end()) return std::optional<std::int64_t>(it->second.id);
    static constexpr const char* q = "SELECT id FROM series WHERE key = ?1";
    BOXMON_TRY(s, stmt(q));
    ResetGuard g(*s);
    const std::string text = key.to_string();
    s->bind(1, std::string_view(text));
    int rc = s->step();
    if (rc == SQLITE_DONE) return std::optional<std::int64_t>();
    if (rc != SQLITE_ROW) return error(rc, "looking up a series");
    return std::optional<std::int64_t>(s->int64(0));
}





Result<std::vector<HistoryPoint>> Store::query(const SeriesKey& key, WallTime since, WallTime until,
                                               Resolution resolution) {
    Impl& m = *m_impl;
    std::lock_guard lock(m.mutex);
    ReadSnapshot snapshot(m.db);
    BOXMON_TRY(id, m.series_id(key));
    if (!id) return std::vector<HistoryPoint>();
    return m.query_id(*id, since, until, resolution);
}

Result<std::vector<std::pair<SeriesKey, std::vector<HistoryPoint>>>> Store::query_metric(
    std::string_view metric, WallTime since, WallTime until, Resolution resolution) {
    Impl& m = *m_impl;
    std::lock_guard lock(m.mutex);
    ReadSnapshot snapshot(m.db);
    static constexpr const char* q = "SELECT id, key FROM series WHERE name = ?1 ORDER BY key";
    std::vector<std::pair<std::int64_t, SeriesKey>> ids;
    {
        BOXMON_TRY(s, m.stmt(q));
        ResetGuard g(*s);
        s->bind(1, metric);
        int rc;
        while ((rc = s->step()) == SQLITE_ROW) {
            auto key = SeriesKey::parse(s->text(1));
            if (!key) return fail("database {}: unreadable series key \"{}\": {}",
                                  m.options.path.string(), s->text(1), key.error().message);
            ids.emplace_back(s->int64(0), std::move(*key));
        }
        if (rc != SQLITE_DONE) return m.error(rc, "listing series");
    }
    std::vector<std::pair<SeriesKey, std::vector<HistoryPoint>>> out;
    for (auto& [id, key] : ids) {
        BOXMON_TRY(points, m.query_id(id, since, until, resolution));
        out.emplace_back(std::move(key), std::move(points));
    }
    return out;
}

Result<std::vector<Incident>> Store::incidents(WallTime since, WallTime until, bool open_only) {
    Impl& m = *m_impl;
    std::lock_guard lock(m.mutex);
    static constexpr const char* kCols =
        "SELECT id, rule, series, kind, severity, peak_severity, start, \"end\", peak_value, "
        "last_value FROM incidents ";
    static const std::string kOpen = std::string(kCols) + "WHERE \"end\" IS NULL ORDER BY start, id";
    static const std::string kRange = std::string(kCols) +
        "WHERE start <= ?2 AND (\"end\" IS NULL OR \"end\" >= ?1) ORDER BY start, id";
    BOXMON_TRY(s, m.stmt(open_only ? kOpen.c_str() : kRange.c_str()));
    ResetGuard g(*s);
    if (!open_only) {
        s->bind(1, to_unix_ms(since));
        s->bind(2, to_unix_ms(until));
    }
    std::vector<Incident> out;
    int rc;
    while ((rc = s->step()) == SQLITE_ROW) {
        Incident i;
        i.id = s->text(0);
        i.rule = s->text(1);
        auto key = SeriesKey::parse(s->text(2));
        if (!key) return fail("database {}: incident {} has an unreadable series \"{}\"",
                              m.options.path.string(), i.id, s->text(2));
        i.series = std::move(*key);
        BOXMON_TRY(kind, parse_incident_kind(s->text(3)));
        BOXMON_TRY(sev, parse_severity(s->text(4)));
        BOXMON_TRY(peak, parse_severity(s->text(5)));
        i.kind = kind;
        i.severity = sev;
        i.peak_severity = peak;
        i.start = from_unix_ms(s->int64(6));
        if (!s->is_null(7)) i.end = from_unix_ms(s->int64(7));
        i.peak_value = s->real(8);
        i.last_value = s->real(9);
        out.push_back(std::move(i));
    }
    if (rc != SQLITE_DONE) return m.error(rc, "reading incidents");
    return out;
}

Result<std::vector<std::pair<WallTime, bool>>> Store::ticks(WallTime since, WallTime until) {
    Impl& m = *m_impl;
    std::lock_guard lock(m.mutex);
    static constexpr const char* q =
        "SELECT ts, gap_before FROM ticks WHERE ts BETWEEN ?1 AND ?2 ORDER BY ts";
    BOXMON_TRY(s, m.stmt(q));
    ResetGuard g(*s);
    s->bind(1, to_unix_ms(since));
    s->bind(2, to_unix_ms(until));
    std::vector<std::pair<WallTime, bool>> out;
    int rc;
    while ((rc = s->step()) == SQLITE_ROW) out.emplace_back(from_unix_ms(s->int64(0)), s->int64(1) != 0);
    if (rc != SQLITE_DONE) return m.error(rc, "reading ticks");
    return out;
}

Result<std::optional<std::string>> Store::meta(std::string_view key) {
    Impl& m = *m_impl;
    std::lock_guard lock(m.mutex);
    static constexpr const char* q = "SELECT value FROM meta WHERE key = ?1";
    BOXMON_TRY(s, m.stmt(q));
    ResetGuard g(*s);
    s->bind(1, key);
    int rc = s->step();
    if (rc == SQLITE_DONE) return std::optional<std::string>();
    if (rc != SQLITE_ROW) return m.error(rc, "reading meta");
    return std::optional<std::string>(s->text(0));
}

Result<void> Store::set_meta(std::string_view key, std::string_view value) {
    Impl& m = *m_impl;
    std::lock_guard lock(m.mutex);
    static constexpr const char* q = "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)";
    BOXMON_TRY(s, m.stmt(q));
    s->bind(1, key);
    s->bind(2, value);
    return m.run(*s, "writing meta");
}

Result<SalvageReport> salvage(const std::filesystem::path& damaged, Store& into) {
    std::error_code ec;
    if (fs::equivalent(damaged, into.path(), ec))
        return fail_as(ErrorKind::usage, "{} is the database boxmon writes; name the damaged copy "
                                         "(<name>.corrupt-<stamp>) to salvage from", damaged.string());
    StoreOptions o;
    o.path = damaged;
    o.read_only = true;
    o.quick_check = false;
    BOXMON_TRY(from, Store::open(o));
    auto series = from->series_table();
    if (!series)
        return fail("cannot read the series of {} ({}); nothing can be salvaged from it", damaged.string(),
                    series.error().message);
    SalvageReport report;
    report.series = series->size();
    std::optional<std::int64_t> lo, hi;
    for (const auto& si : *series) {
        if (si.first_seen) lo = std::min(lo.value_or(INT64_MAX), to_unix_ms(*si.first_seen));
        if (si.last_seen) hi = std::max(hi.value_or(INT64_MIN), to_unix_ms(*si.last_seen));
    }
    if (!lo || !hi) return report;
    constexpr std::int64_t k_day = 24 * detail::k_one_hour_ms;
    // last_seen is refreshed every 10 minutes: the newest values may lie a little after it.
    const std::int64_t end = *hi + detail::k_one_hour_ms;
    for (std::int64_t day = *lo - (*lo % k_day); day <= end; day += k_day) {
        std::map<std::int64_t, Sample> ticks;
        auto take = [&](const SeriesKey& key, const std::vector<HistoryPoint>& points) {
            for (const auto& p : points) {
                Sample& t = ticks[to_unix_ms(p.ts)];
                t.ts = p.ts;
                t.points.push_back(Point{key, p.value});
                ++report.values;
                if (!report.first || p.ts < *report.first) report.first = p.ts;
                if (!report.last || p.ts > *report.last) report.last = p.ts;
            }
        };
        for (const auto& si : *series) {
            const auto in_day = [&](std::int64_t a, std::int64_t b) {
                return from->query(si.key, from_unix_ms(a), from_unix_ms(b - 1));
            };
            if (auto points = in_day(day, day + k_day)) {
                take(si.key, *points);
                continue;
            }
            for (std::int64_t h = day; h < day + k_day; h += detail::k_one_hour_ms) {
                if (auto points = in_day(h, h + detail::k_one_hour_ms)) take(si.key, *points);
                else ++report.unreadable_hours;
            }
        }
        if (ticks.empty()) continue;
        std::vector<Sample> batch;
        batch.reserve(ticks.size());
        for (auto& [ts, t] : ticks) batch.push_back(std::move(t));
        BOXMON_TRY(written, into.import_ticks(batch));
        report.ticks_written += written;
    }
    return report;
}

Resolution resolution_for(std::chrono::milliseconds window) {
    if (window <= std::chrono::hours(48)) return Resolution::raw;
    if (window <= std::chrono::hours(24 * 60)) return Resolution::five_minutes;
    return Resolution::one_hour;
}

}  // namespace boxmon::store
