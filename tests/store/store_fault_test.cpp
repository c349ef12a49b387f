// Storage faults with real filesystems and real processes: a full tmpfs (S1), a read-only
// mount (S3/S9), a foreign-owned database (S8), and kill -9 at random moments while ticks
// commit (C1). Mounts are made in a private mount namespace of the test process, so they
// vanish with it; without the privilege for that the tests skip and say why.

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fmt/format.h>
#include <sqlite3.h>

#include <chrono>
#include <csignal>
#include <iostream>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "core/fs.hpp"
#include "store/sqlite_util.hpp"
#include "store/store.hpp"
#include "store_test_util.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon::store {
namespace {

namespace fs = std::filesystem;
using boxmon::test::TempDir;
using test::make_tick;
using test::open_ok;
using test::options_for;
using test::sql_text;

// Mounts a tmpfs of `size` at `where` inside a private mount namespace; "" on success, or why
// it could not (to skip with).
std::string private_tmpfs(const fs::path& where, const std::string& size) {
    if (::geteuid() != 0) return "needs root to mount a tmpfs (CI runs the tests as root)";
    static bool unshared = false;
    if (!unshared) {
        if (::unshare(CLONE_NEWNS) != 0) return std::string("unshare(CLONE_NEWNS): ") + std::strerror(errno);
        if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
            return std::string("making / private: ") + std::strerror(errno);
        unshared = true;
    }
    fs::create_directories(where);
    const std::string opts = "size=" + size + ",mode=0700";
    if (::mount("tmpfs", where.c_str(), "tmpfs", 0, opts.c_str()) != 0)
        return std::string("mount tmpfs: ") + std::strerror(errno);
    return {};
}

// Unmounts on destruction, before the TempDir holding the mount point is removed.
class Unmount {
public:
    explicit Unmount(fs::path where) : m_where(std::move(where)) {}
    ~Unmount() { ::umount2(m_where.c_str(), MNT_DETACH); }
    Unmount(const Unmount&) = delete;
    Unmount& operator=(const Unmount&) = delete;

private:
    fs::path m_where;
};

// Fills the filesystem holding `dir` with a file until ENOSPC.
void fill(const fs::path& file) {
    int fd = ::open(file.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    std::string chunk(4096, 'f');
    while (::write(fd, chunk.data(), chunk.size()) > 0) {
    }
    ::close(fd);
}

TEST(StoreFaults, DiskFullFailsTheTickCleanlyAndWritingResumesWhenSpaceReturns) {
    TempDir dir;
    const fs::path state = dir / "state";
    if (auto why = private_tmpfs(state, "2m"); !why.empty()) GTEST_SKIP() << why;
    Unmount unmount(state);
    auto store = open_ok(options_for(state / "boxmon.db"));
    ASSERT_TRUE(store);
    std::vector<int> committed;
    for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(store->commit_tick(make_tick(i, 60)));
        committed.push_back(i);
    }
    fill(state / "filler");
    int failed_at = -1;
    Error error;
    for (int i = 5; i < 5000; ++i) {
        auto r = store->commit_tick(make_tick(i, 60));
        if (!r) {
            failed_at = i;
            error = r.error();
            break;
        }
        committed.push_back(i);
    }
    ASSERT_GE(failed_at, 0) << "the filesystem never filled up";
    EXPECT_EQ(error.kind, ErrorKind::runtime);
    EXPECT_NE(error.message.find("full"), std::string::npos) << error.message;
    EXPECT_NE(error.message.find("boxmon.db"), std::string::npos) << error.message;

    fs::remove(state / "filler");
    auto again = store->commit_tick(make_tick(failed_at, 60));
    ASSERT_TRUE(again) << again.error().message;
    committed.push_back(failed_at);
    store.reset();

    EXPECT_EQ(sql_text(state / "boxmon.db", "PRAGMA integrity_check"), "ok");
    EXPECT_EQ(sql_text(state / "boxmon.db", "SELECT count(*) FROM ticks"), std::to_string(committed.size()));
    EXPECT_EQ(sql_text(state / "boxmon.db", "SELECT count(*) FROM samples"),
              std::to_string(committed.size() * 60)) << "no tick half-written";
}

TEST(StoreFaults, ReadOnlyMountGivesAClearErrorAndWorksAgainWhenWritable) {
    TempDir dir;
    const fs::path state = dir / "state";
    if (auto why = private_tmpfs(state, "4m"); !why.empty()) GTEST_SKIP() << why;
    Unmount unmount(state);
    {
        auto store = open_ok(options_for(state / "boxmon.db"));
        ASSERT_TRUE(store && store->commit_tick(make_tick(0)));
    }
    ASSERT_EQ(::mount(nullptr, state.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr), 0)
        << std::strerror(errno);
    auto s = Store::open(options_for(state / "boxmon.db"));
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().message.find("read-only file system"), std::string::npos) << s.error().message;
    EXPECT_NE(s.error().message.find("boxmon.db"), std::string::npos) << s.error().message;

    // A write failing mid-run (the kernel refuses remount,ro while the database is open for
    // writing, so the error is made here as SQLite reports it): the mount is named read-only.
    EXPECT_TRUE(read_only_filesystem(state));
    auto mid_run = detail::sql_error(nullptr, SQLITE_IOERR_WRITE, "writing a tick", state / "boxmon.db");
    EXPECT_NE(mid_run.error().message.find("read-only file system: " + state.string() + " is on a filesystem "
                                           "mounted read-only; remount it read-write"),
              std::string::npos)
        << mid_run.error().message;

    // A missing database on a read-only directory: the same clear error, nothing created.
    auto fresh = Store::open(options_for(state / "other.db"));
    ASSERT_FALSE(fresh);
    EXPECT_NE(fresh.error().message.find("Read-only file system"), std::string::npos)
        << fresh.error().message;

    ASSERT_EQ(::mount(nullptr, state.c_str(), nullptr, MS_REMOUNT, nullptr), 0) << std::strerror(errno);
    EXPECT_FALSE(read_only_filesystem(state));
    EXPECT_NE(detail::sql_error(nullptr, SQLITE_IOERR_WRITE, "writing a tick", state / "boxmon.db")
                  .error()
                  .message.find("I/O error; check the disk"),
              std::string::npos);
    auto store = open_ok(options_for(state / "boxmon.db"));
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->commit_tick(make_tick(1)));
    EXPECT_EQ(sql_text(state / "boxmon.db", "SELECT count(*) FROM ticks"), "2");
}

// S8: a database left owned by root (sqlite3 run as root) and opened by the service user.
TEST(StoreFaults, ForeignOwnedDatabaseNamesOwnerModeAndTheFix) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to create a file another user cannot open";
    TempDir dir;
    const fs::path state = dir / "state";
    {
        auto store = open_ok(options_for(state / "boxmon.db"));
        ASSERT_TRUE(store && store->commit_tick(make_tick(0)));
    }
    // Let the unprivileged user reach the directory, not the file.
    ::chmod(dir.path().c_str(), 0755);
    ::chmod(state.c_str(), 0777);
    auto r = boxmon::test::run_process({BOXMON_STORE_HELPER, "open-as-nobody", (state / "boxmon.db").string()});
    if (r.exit_code == 3) GTEST_SKIP() << "cannot drop privileges here: " << r.err;
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("owned by root:root mode 0600"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("chown"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find((state / "boxmon.db").string()), std::string::npos) << r.err;
}

TEST(StoreFaults, UnwritableStateDirectoryNamesOwnerAndMode) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to make a directory another user cannot write";
    TempDir dir;
    ::chmod(dir.path().c_str(), 0755);
    fs::create_directories(dir / "state");
    ::chmod((dir / "state").c_str(), 0755);
    auto r = boxmon::test::run_process({BOXMON_STORE_HELPER, "open-as-nobody", (dir / "state/boxmon.db").string()});
    if (r.exit_code == 3) GTEST_SKIP() << "cannot drop privileges here: " << r.err;
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("owned by root:root mode 0755"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir / "state/boxmon.db"));
}

// C1 at the store level: a child commits ticks in a loop and is SIGKILLed at random moments;
// after every kill the database is intact and holds every tick the child reported committed.
TEST(StoreFaults, KillNineAtRandomMomentsLosesNoCommittedTick) {
    TempDir dir;
    const fs::path db = dir / "boxmon.db";
    std::mt19937 rng(20261123);
    std::uniform_int_distribution<int> delay_ms(5, 120);
    std::set<std::int64_t> committed;
    int kills = 0;
    for (int round = 0; round < 30; ++round) {
        boxmon::test::Process child({BOXMON_STORE_HELPER, "commit", db.string(), "100000"});
        // Half the kills count from the start (open, creation, migration), half from the first
        // commit (mid-stream), so a slow start (sanitizers) still leaves ticks to check.
        if (round % 2 == 1) child.wait_for_out("committed", std::chrono::seconds(10));
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
        child.signal(SIGKILL);
        auto result = child.wait(std::chrono::seconds(10));
        kills += result.signal == SIGKILL;
        ASSERT_TRUE(result.signal == SIGKILL || result.exit_code == 0) << result.err;
        std::istringstream lines(result.out);
        std::string word, state;
        std::int64_t ts = 0;
        while (lines >> word >> ts >> state)
            if (word == "tick" && state == "committed") committed.insert(ts);

        if (!fs::exists(db)) {
            ASSERT_TRUE(committed.empty()) << "round " << round << ": the database vanished";
            continue;  // killed before it created the file
        }
        ASSERT_EQ(sql_text(db, "PRAGMA integrity_check"), "ok") << "round " << round;
    }
    EXPECT_GE(kills, 25);
    ASSERT_GT(committed.size(), 10u) << "the child never got to commit; nothing was tested";
    // Every reported tick is there with all its 60 samples; nothing else half-written.
    for (std::int64_t ts : committed) {
        ASSERT_EQ(sql_text(db, "SELECT count(*) FROM ticks WHERE ts = " + std::to_string(ts)), "1") << ts;
        ASSERT_EQ(sql_text(db, "SELECT count(*) FROM samples WHERE ts = " + std::to_string(ts)), "60") << ts;
        ASSERT_EQ(sql_text(db, "SELECT count(*) FROM outbox WHERE idempotency_key = '" + std::to_string(ts) + "'"), "1");
    }
    EXPECT_EQ(sql_text(db, "SELECT count(*) FROM ticks t WHERE (SELECT count(*) FROM samples s "
                           "WHERE s.ts = t.ts) != 60"), "0");
    // Every completed 5-minute and hourly bucket (computed from the raw samples until
    // maintenance writes it) counts each sample once.
    StoreOptions ro = options_for(db);
    ro.read_only = true;
    auto reader = open_ok(ro);
    ASSERT_TRUE(reader);
    for (const auto& [resolution, step] : {std::pair{Resolution::five_minutes, 300000},
                                           std::pair{Resolution::one_hour, 3600000}}) {
        auto buckets = reader->query(SeriesKey("m", {{"k", "7"}}), from_unix_ms(*committed.begin()),
                                     from_unix_ms(*committed.rbegin()), resolution);
        ASSERT_TRUE(buckets) << buckets.error().message;
        std::int64_t counted = 0;
        for (const HistoryPoint& b : *buckets) counted += b.count;
        EXPECT_EQ(std::to_string(counted),
                  sql_text(db, fmt::format("SELECT count(*) FROM samples WHERE series_id = 8 AND ts < "
                                           "(SELECT max(ts) / {0} * {0} FROM ticks)", step)))
            << step;
    }
}

// A schema version 1 database of `series` series over `ticks` one-minute ticks, as the previous
// boxmon left it (C4's fixture: large enough that its migration takes a while).
void write_v1_database(const fs::path& db, int series, int ticks) {
    sqlite3* c = nullptr;
    ASSERT_EQ(sqlite3_open(db.c_str(), &c), SQLITE_OK);
    auto exec = [&](const std::string& q) { test::exec_ok(c, q); };
    test::begin_v1_database(c);
    const std::int64_t start = to_unix_ms(test::t0());
    const std::int64_t end = start + (ticks - 1) * 60'000;
    for (int k = 1; k <= series; ++k)
        exec(fmt::format("INSERT INTO series(id, name, key, labels_json, first_seen, last_seen) VALUES "
                         "({0}, 'm', 'm{{k=\"{0}\"}}', '{{\"k\":\"{0}\"}}', {1}, {2})",
                         k, start, end));
    sqlite3_stmt* tick = nullptr;
    sqlite3_stmt* sample = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(c, "INSERT INTO ticks(ts, collectors_ok, points) VALUES(?1, 1, ?2)", -1, &tick,
                                 nullptr),
              SQLITE_OK);
    ASSERT_EQ(sqlite3_prepare_v2(c, "INSERT INTO samples VALUES(?1, ?2, ?3)", -1, &sample, nullptr), SQLITE_OK);
    for (int i = 0; i < ticks; ++i) {
        const std::int64_t ts = start + i * 60'000;
        sqlite3_bind_int64(tick, 1, ts);
        sqlite3_bind_int(tick, 2, series);
        ASSERT_EQ(sqlite3_step(tick), SQLITE_DONE);
        sqlite3_reset(tick);
        for (int k = 1; k <= series; ++k) {
            sqlite3_bind_int(sample, 1, k);
            sqlite3_bind_int64(sample, 2, ts);
            sqlite3_bind_double(sample, 3, k * 0.5 + i);
            ASSERT_EQ(sqlite3_step(sample), SQLITE_DONE);
            sqlite3_reset(sample);
        }
    }
    sqlite3_finalize(tick);
    sqlite3_finalize(sample);
    exec("COMMIT");
    ASSERT_EQ(sqlite3_close(c), SQLITE_OK);
}

// C4: a child migrating a large version 1 database is SIGKILLed at random moments. After every
// kill the database is intact and either still version 1 with every v1 row (the migration rolls
// back whole) or version 2 with every sample readable; user_version always matches the layout.
// A kill that left uncommitted migration pages in the WAL proves one landed mid-migration.
TEST(StoreFaults, KillNineDuringTheSchemaMigrationLeavesVersionOneWholeOrVersionTwoComplete) {
    TempDir dir;
    constexpr int kSeries = 60;
    constexpr int kTicks = 4000;
    const std::string total = std::to_string(kSeries * kTicks);
    const fs::path fixture = dir / "v1.db";
    write_v1_database(fixture, kSeries, kTicks);
    ASSERT_FALSE(fs::exists(dir / "v1.db-wal")) << "the fixture closed with its WAL checkpointed";
    const fs::path db = dir / "boxmon.db";

    // How long a whole migration takes here, to spread the kills over it.
    fs::copy_file(fixture, db);
    const auto started = std::chrono::steady_clock::now();
    const auto whole = boxmon::test::run_process({BOXMON_STORE_HELPER, "commit", db.string(), "0"});
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    ASSERT_EQ(whole.exit_code, 0) << whole.err;
    ASSERT_EQ(sql_text(db, "PRAGMA user_version"), "2");
    ASSERT_EQ(sql_text(db, "SELECT count(*) FROM samples"), total);
    std::cout << "[ INFO ] migrating " << total << " samples took " << took.count() << " ms\n";

    std::mt19937 rng(4);
    std::uniform_int_distribution<long> delay_ms(0, std::max<long>(1, took.count()));
    int mid_migration = 0;
    int completed = 0;
    // Twelve rounds, and more (up to forty) until one has landed inside the migration.
    for (int round = 0; round < 12 || (mid_migration == 0 && round < 40); ++round) {
        for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db.string() + suffix);
        fs::copy_file(fixture, db);
        boxmon::test::Process child({BOXMON_STORE_HELPER, "commit", db.string(), "0"});
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
        child.signal(SIGKILL);
        const auto result = child.wait(std::chrono::seconds(10));
        ASSERT_TRUE(result.signal == SIGKILL || result.exit_code == 0) << result.err;
        std::error_code ec;
        const auto wal_bytes = fs::file_size(db.string() + "-wal", ec);
        const bool wal_had_pages = !ec && wal_bytes > 0;

        ASSERT_EQ(sql_text(db, "PRAGMA integrity_check"), "ok") << "round " << round;
        const std::string version = sql_text(db, "PRAGMA user_version");
        const std::string samples_type = sql_text(db, "SELECT type FROM sqlite_master WHERE name = 'samples'");
        const std::string chunks = sql_text(db, "SELECT count(*) FROM sqlite_master WHERE name = 'sample_chunks'");
        if (version == "1") {
            EXPECT_EQ(samples_type, "table") << "round " << round;
            EXPECT_EQ(chunks, "0") << "round " << round << ": a version 1 database with version 2 tables";
            mid_migration += wal_had_pages && result.signal == SIGKILL;
        } else {
            ASSERT_EQ(version, "2") << "round " << round;
            EXPECT_EQ(samples_type, "view") << "round " << round;
            EXPECT_EQ(chunks, "1") << "round " << round;
            ++completed;
        }
        EXPECT_EQ(sql_text(db, "SELECT count(*) FROM samples"), total) << "round " << round << ", version " << version;
    }
    std::cout << "[ INFO ] " << mid_migration << " kills mid-migration, " << completed << " after it\n";
    EXPECT_GT(mid_migration, 0) << "no kill landed inside the migration; nothing was tested";

    // The next start finishes what the kill interrupted, and every answer is the same.
    auto store = open_ok(options_for(db));
    ASSERT_TRUE(store);
    EXPECT_EQ(sql_text(db, "PRAGMA user_version"), "2");
    auto points = store->query(SeriesKey("m", {{"k", "7"}}), test::t0(), test::t0() + std::chrono::minutes(kTicks));
    ASSERT_TRUE(points) << points.error().message;
    ASSERT_EQ(points->size(), static_cast<std::size_t>(kTicks));
    EXPECT_EQ(points->back().value, 7 * 0.5 + (kTicks - 1));
}

// Reads the 5-minute buckets of the last 2 hours (the 5-minute retention the helper uses) for
// one series of make_tick(i, 20): 23 complete buckets of 5 samples, 5 minutes apart.
void expect_five_minute_buckets_unbroken(const fs::path& db, WallTime now, int round) {
    StoreOptions ro = options_for(db);
    ro.read_only = true;
    auto reader = open_ok(ro);
    ASSERT_TRUE(reader);
    // now - 2h + 1 min is a bucket boundary (t0 is 4 minutes into one).
    auto buckets = reader->query(SeriesKey("cpu_percent", {{"cpu", "3"}}), now - std::chrono::minutes(119),
                                 now, Resolution::five_minutes);
    ASSERT_TRUE(buckets) << buckets.error().message;
    ASSERT_EQ(buckets->size(), 23u) << "round " << round;
    for (std::size_t i = 0; i < buckets->size(); ++i) {
        ASSERT_EQ((*buckets)[i].count, 5) << "round " << round << " bucket " << i;
        if (i > 0) {
            ASSERT_EQ((*buckets)[i].ts - (*buckets)[i - 1].ts, std::chrono::minutes(5)) << "round " << round;
        }
    }
}

// C5: kill -9 during retention, repeatedly: nothing younger than the retention is deleted, every
// rollup bucket stays complete, and retention finishes on a later run.
TEST(StoreFaults, KillNineDuringRetentionDeletesNothingYoungAndKeepsRollupsComplete) {
    TempDir dir;
    const fs::path db = dir / "boxmon.db";
    {
        StoreOptions o = options_for(db);
        o.unsafe_no_sync = true;  // setup only: 6 hours of 20 series
        auto store = open_ok(o);
        ASSERT_TRUE(store);
        for (int i = 0; i < 360; ++i) ASSERT_TRUE(store->commit_tick(make_tick(i, 20)));
        // Fold the completed hours (writing their hourly rollups) under the default retention.
        for (int i = 0; i < 100; ++i) {
            auto more = store->maintenance_step(test::t0() + std::chrono::minutes(360), 5000);
            ASSERT_TRUE(more);
            if (!*more) break;
        }
    }
    const WallTime now = test::t0() + std::chrono::minutes(360);
    const std::string hourly_cutoff = std::to_string(to_unix_ms(now - std::chrono::hours(4)));
    const std::string hourly_kept =
        sql_text(db, "SELECT sum(count) FROM rollup_1h WHERE bucket_ts >= " + hourly_cutoff);
    const std::int64_t cutoff = to_unix_ms(now - std::chrono::hours(1));
    const std::string now_ms = std::to_string(to_unix_ms(now));
    std::mt19937 rng(5);
    std::uniform_int_distribution<int> delay_ms(0, 15);
    int finished_runs = 0;
    int killed_mid_way = 0;
    for (int round = 0; round < 20; ++round) {
        boxmon::test::Process child({BOXMON_STORE_HELPER, "maintain", db.string(), now_ms, "1"});
        // Kill between or inside steps once retention is under way.
        child.wait_for_out("step", std::chrono::seconds(10));
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
        child.signal(SIGKILL);
        auto result = child.wait(std::chrono::seconds(10));
        finished_runs += result.exit_code == 0;
        killed_mid_way += result.signal == SIGKILL && result.out.find("step") != std::string::npos;
        ASSERT_TRUE(result.signal == SIGKILL || result.exit_code == 0) << result.err;
        ASSERT_EQ(sql_text(db, "PRAGMA integrity_check"), "ok") << "round " << round;
        ASSERT_EQ(sql_text(db, "SELECT count(*) FROM samples WHERE ts >= " + std::to_string(cutoff)),
                  std::to_string(60 * 20)) << "round " << round;
        // The 5-minute buckets written as raw samples expire are complete (5 samples each), and
        // no bucket is lost or counted twice between them and the raw samples left.
        ASSERT_EQ(sql_text(db, "SELECT count(*) FROM rollup_5m WHERE count != 5"), "0") << "round " << round;
        expect_five_minute_buckets_unbroken(db, now, round);
    }
    auto r = boxmon::test::run_process({BOXMON_STORE_HELPER, "maintain", db.string(), now_ms, "1"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(sql_text(db, "SELECT count(*) FROM samples WHERE ts < " + std::to_string(cutoff)), "0");
    EXPECT_EQ(sql_text(db, "SELECT count(*) FROM samples"), std::to_string(60 * 20));
    EXPECT_EQ(sql_text(db, "SELECT sum(count) FROM rollup_1h"), hourly_kept)
        << "hourly buckets younger than their 4 h retention are untouched, older ones gone";
    EXPECT_NE(sql_text(db, "SELECT count(*) FROM rollup_5m"), "0") << "expired samples left their buckets";
    expect_five_minute_buckets_unbroken(db, now, -1);
    EXPECT_EQ(sql_text(db, "PRAGMA integrity_check"), "ok");
    EXPECT_GE(killed_mid_way, 1) << "no kill landed between retention steps; nothing was tested";
    std::printf("retention runs: %d killed mid-way, %d finished\n", killed_mid_way, finished_runs);
}

}  // namespace
}  // namespace boxmon::store
