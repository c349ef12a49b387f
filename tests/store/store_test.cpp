// The SQLite store on real database files: schema, round trips, rollups, retention, corruption
// handling, file modes and symlinks, locks, read-only opens and the outbox.

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "store/store.hpp"
#include "store_test_util.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon::store {
namespace {

namespace fs = std::filesystem;
using boxmon::test::TempDir;
using boxmon::test::write_file;
using test::make_tick;
using test::open_ok;
using test::options_for;
using test::sql_text;
using test::t0;
using std::chrono::hours;
using std::chrono::minutes;

unsigned mode_of(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
    return st.st_mode & 07777;
}

TEST(Store, CreatesDirectory0700AndDatabase0600EvenUnderUmask000) {
    TempDir dir;
    const mode_t old = ::umask(0);
    auto store = open_ok(options_for(dir / "state/sub/boxmon.db"));
    ::umask(old);
    ASSERT_TRUE(store);
    EXPECT_TRUE(store->open_report().created);
    ASSERT_TRUE(store->commit_tick(make_tick(0)));
    EXPECT_EQ(mode_of(dir / "state"), 0700u);
    EXPECT_EQ(mode_of(dir / "state/sub"), 0700u);
    EXPECT_EQ(mode_of(dir / "state/sub/boxmon.db"), 0600u);
    EXPECT_EQ(mode_of(dir / "state/sub/boxmon.db-wal"), 0600u);
    EXPECT_EQ(mode_of(dir / "state/sub/boxmon.db-shm"), 0600u);
}

TEST(Store, UsesWalFullSyncIncrementalVacuumAndRecordsTheSchemaVersion) {
    TempDir dir;
    auto store = open_ok(options_for(dir / "boxmon.db"));
    ASSERT_TRUE(store);
    EXPECT_EQ(sql_text(dir / "boxmon.db", "PRAGMA journal_mode"), "wal");
    EXPECT_EQ(sql_text(dir / "boxmon.db", "PRAGMA auto_vacuum"), "2");
    EXPECT_EQ(sql_text(dir / "boxmon.db", "PRAGMA user_version"), "2");
    EXPECT_EQ(store->open_report().migrated_from, 0);
    for (const char* table : {"series", "samples", "recent_samples", "sample_chunks", "chunk_slots",
                              "rollup_5m", "rollup_1h", "ticks", "counters", "counter_values",
                              "rule_states", "incidents", "outbox", "meta"})
        EXPECT_EQ(sql_text(dir / "boxmon.db",
                           std::string("SELECT count(*) FROM sqlite_schema WHERE name='") + table + "'"),
                  "1") << table;
    store.reset();
    auto again = open_ok(options_for(dir / "boxmon.db"));
    ASSERT_TRUE(again);
    EXPECT_FALSE(again->open_report().created);
    EXPECT_EQ(again->open_report().migrated_from, -1);
}

TEST(Store, CommittedTickRoundTripsThroughQueryAndTicks) {
    TempDir dir;
    auto store = open_ok(options_for(dir / "boxmon.db"));
    ASSERT_TRUE(store);
    for (int i = 0; i < 10; ++i) {
        TickWrite t = make_tick(i);
        t.gap_before = (i == 5);
        ASSERT_TRUE(store->commit_tick(t));
    }
    const SeriesKey cpu1("cpu_percent", {{"cpu", "1"}});
    auto points = store->query(cpu1, t0(), t0() + minutes(9));
    ASSERT_TRUE(points) << points.error().message;
    ASSERT_EQ(points->size(), 10u);
    EXPECT_EQ((*points)[3].ts, t0() + minutes(3));
    EXPECT_DOUBLE_EQ((*points)[3].value, 4.0);

    auto last = store->last_tick();
    ASSERT_TRUE(last);
    EXPECT_EQ(**last, t0() + minutes(9));
    auto ticks = store->ticks(t0(), t0() + hours(1));
    ASSERT_TRUE(ticks);
    ASSERT_EQ(ticks->size(), 10u);
    EXPECT_TRUE((*ticks)[5].second);
    EXPECT_FALSE((*ticks)[4].second);

    auto series = store->series();
    ASSERT_TRUE(series);
    ASSERT_EQ(series->size(), 3u);
    EXPECT_EQ((*series)[1].key, cpu1);
    EXPECT_EQ((*series)[1].first_seen, t0());
    EXPECT_EQ((*series)[1].last_seen, t0() + minutes(9));

    auto all = store->query_metric("cpu_percent", t0(), t0() + minutes(1));
    ASSERT_TRUE(all);
    ASSERT_EQ(all->size(), 3u);
    EXPECT_EQ((*all)[2].first, SeriesKey("cpu_percent", {{"cpu", "2"}}));
    EXPECT_EQ((*all)[2].second.size(), 2u);
    EXPECT_EQ(sql_text(dir / "boxmon.db", "SELECT labels_json FROM series WHERE id=1"), "{\"cpu\":\"0\"}");
}

// A new process (a one-shot sample) reads the series table once instead of upserting each
// series: a row's last_seen is then written only when it is 10 minutes old, as in the daemon.
// Series with labels round-trip through their stored key text to the same ids.
TEST(Store, AColdStoreReusesTheSeriesRowsAndRefreshesLastSeenOnlyWhenStale) {
    TempDir dir;
    const auto db = dir / "boxmon.db";
    auto tick_with_labels = [](int i) {
        TickWrite t = make_tick(i);
        t.sample.add(SeriesKey("disk_used_percent", {{"mount", "/mnt/scratch disk"}}), 40.0 + i);
        return t;
    };
    {
        auto store = open_ok(options_for(db));
        ASSERT_TRUE(store && store->commit_tick(tick_with_labels(0)));
    }
    const std::string first = std::to_string(to_unix_ms(t0()));
    const std::string last_seen = "SELECT group_concat(last_seen) FROM (SELECT last_seen FROM series ORDER BY id)";
    const std::string ids = "SELECT group_concat(id) FROM (SELECT id FROM series ORDER BY id)";
    const std::string ids_before = sql_text(db, ids);
    ASSERT_EQ(sql_text(db, last_seen), first + "," + first + "," + first + "," + first);
    {
        auto store = open_ok(options_for(db));  // cold: as a new `boxmon sample` process
        ASSERT_TRUE(store && store->commit_tick(tick_with_labels(1)));
    }
    EXPECT_EQ(sql_text(db, last_seen), first + "," + first + "," + first + "," + first)
        << "a minute later no series row is rewritten";
    EXPECT_EQ(sql_text(db, ids), ids_before);
    {
        auto store = open_ok(options_for(db));
        ASSERT_TRUE(store && store->commit_tick(tick_with_labels(11)));
    }
    const std::string later = std::to_string(to_unix_ms(t0() + minutes(11)));
    EXPECT_EQ(sql_text(db, last_seen), later + "," + later + "," + later + "," + later);
    EXPECT_EQ(sql_text(db, ids), ids_before);
    EXPECT_EQ(sql_text(db, "SELECT count(*) FROM series"), "4");
}

TEST(Store, NonFiniteValuesAreNeverStored) {
    TempDir dir;
    auto store = open_ok(options_for(dir / "boxmon.db"));
    ASSERT_TRUE(store);
    TickWrite t = make_tick(0, 1);
    t.sample.add(SeriesKey("bad"), NAN);
    t.sample.add(SeriesKey("worse"), INFINITY);
    ASSERT_TRUE(store->commit_tick(t));
    EXPECT_EQ(sql_text(dir / "boxmon.db", "SELECT count(*) FROM samples"), "1");
    EXPECT_EQ(sql_text(dir / "boxmon.db", "SELECT points FROM ticks"), "1");
}

TEST(Store, CompletedBucketsHoldMinAvgMaxCountAndATickWrittenTwiceCountsOnce) {
    TempDir dir;
    auto store = open_ok(options_for(dir / "boxmon.db"));
    ASSERT_TRUE(store);
    const SeriesKey key("load1");
    const WallTime base = from_unix_seconds(1'790'000'100);  // a 5-minute boundary
    ASSERT_EQ(to_unix_seconds(base) % 300, 0);
    const double values[] = {4, 1, 7, 2, 6};
    auto commit = [&](WallTime ts, double v) {
        TickWrite t;
        t.sample.ts = ts;
        t.sample.add(key, v);
        auto r = store->commit_tick(t);
        ASSERT_TRUE(r) << r.error().message;
    };
    for (int i = 0; i < 5; ++i) {
        commit(base + minutes(i), values[i]);
        if (i == 2) commit(base + minutes(i), 100);  // the same tick again (a replayed backlog)
    }
    auto open_bucket = store->query(key, base, base + minutes(4), Resolution::five_minutes);
    ASSERT_TRUE(open_bucket);
    EXPECT_TRUE(open_bucket->empty()) << "a bucket is written when it is complete";

    commit(base + minutes(5), 50);  // the next bucket begins
    auto b = store->query(key, base, base + minutes(4), Resolution::five_minutes);
    ASSERT_TRUE(b) << b.error().message;
    ASSERT_EQ(b->size(), 1u);
    EXPECT_EQ((*b)[0].ts, base);
    EXPECT_DOUBLE_EQ((*b)[0].min, 1);
    EXPECT_DOUBLE_EQ((*b)[0].max, 7);
    EXPECT_DOUBLE_EQ((*b)[0].value, 4);
    EXPECT_EQ((*b)[0].count, 5);

    // A late tick inside the completed bucket recomputes it.
    commit(base + std::chrono::seconds(150), 10);
    b = store->query(key, base, base + minutes(4), Resolution::five_minutes);
    ASSERT_TRUE(b);
    ASSERT_EQ(b->size(), 1u);
    EXPECT_EQ((*b)[0].count, 6);
    EXPECT_DOUBLE_EQ((*b)[0].max, 10);

    // The hour completes when a tick lands in the next hour.
    const WallTime next_hour = from_unix_seconds((to_unix_seconds(base) / 3600 + 1) * 3600);
    commit(next_hour, 1);
    auto h = store->query(key, base - hours(1), base + minutes(59), Resolution::one_hour);
    ASSERT_TRUE(h);
    ASSERT_EQ(h->size(), 1u);
    EXPECT_EQ((*h)[0].count, 7);
    EXPECT_DOUBLE_EQ((*h)[0].max, 50);
}

TEST(Store, ResolutionForFollowsTheWindowLength) {
    EXPECT_EQ(resolution_for(hours(6)), Resolution::raw);
    EXPECT_EQ(resolution_for(hours(48)), Resolution::raw);
    EXPECT_EQ(resolution_for(hours(49)), Resolution::five_minutes);
    EXPECT_EQ(resolution_for(hours(24 * 60)), Resolution::five_minutes);
    EXPECT_EQ(resolution_for(hours(24 * 61)), Resolution::one_hour);
}

TEST(Store, CountersRuleStatesIncidentsAndMetaRoundTrip) {
    TempDir dir;
    {
        auto store = open_ok(options_for(dir / "boxmon.db"));
        ASSERT_TRUE(store);
        auto none = store->load_counters();
        ASSERT_TRUE(none);
        EXPECT_FALSE(none->has_value());

        TickWrite t = make_tick(0);
        CounterSnapshot c;
        c.boot_id = "b00t";
        c.boottime = Nanos{123456789012};
        c.wall = t.sample.ts;
        c.values["net/eth0/rx_bytes"] = 18'446'744'073'709'551'000ULL;  // above INT64_MAX
        c.values["cpu/user"] = 42;
        t.counters = c;
        t.rule_states.push_back({"cpu_high", "cpu_percent", R"({"pending":2})", t.sample.ts});
        t.rule_states.push_back({"disk", "disk_used_percent{mount=\"/\"}", "{}", t.sample.ts});
        Incident open;
        open.id = "inc-1";
        open.rule = "cpu_high";
        open.series = SeriesKey("cpu_percent");
        open.severity = Severity::critical;
        open.peak_severity = Severity::critical;
        open.start = t.sample.ts;
        open.peak_value = 99.5;
        open.last_value = 97;
        Incident absent = open;
        absent.id = "inc-2";
        absent.kind = IncidentKind::absent;
        absent.severity = Severity::warning;
        absent.end = t.sample.ts + minutes(5);
        absent.peak_value = NAN;
        absent.last_value = NAN;
        t.incidents = {open, absent};
        ASSERT_TRUE(store->commit_tick(t));

        TickWrite t2 = make_tick(1);
        t2.rule_states_removed.push_back({"disk", "disk_used_percent{mount=\"/\"}"});
        ASSERT_TRUE(store->commit_tick(t2));
        ASSERT_TRUE(store->set_meta("note", "hello"));
    }
    auto store = open_ok(options_for(dir / "boxmon.db"));
    ASSERT_TRUE(store);
    auto c = store->load_counters();
    ASSERT_TRUE(c);
    ASSERT_TRUE(c->has_value());
    EXPECT_EQ((*c)->boot_id, "b00t");
    EXPECT_EQ((*c)->boottime, Nanos{123456789012});
    EXPECT_EQ((*c)->values.at("net/eth0/rx_bytes"), 18'446'744'073'709'551'000ULL);
    EXPECT_EQ((*c)->values.at("cpu/user"), 42u);

    auto rs = store->load_rule_states();
    ASSERT_TRUE(rs);
    ASSERT_EQ(rs->size(), 1u);
    EXPECT_EQ((*rs)[0].rule, "cpu_high");
    EXPECT_EQ((*rs)[0].state, R"({"pending":2})");

    auto open_only = store->incidents(WallTime{}, WallTime{}, true);
    ASSERT_TRUE(open_only);
    ASSERT_EQ(open_only->size(), 1u);
    EXPECT_EQ((*open_only)[0].id, "inc-1");
    EXPECT_EQ((*open_only)[0].severity, Severity::critical);
    EXPECT_DOUBLE_EQ((*open_only)[0].peak_value, 99.5);

    auto all = store->incidents(t0(), t0() + hours(1));
    ASSERT_TRUE(all);
    ASSERT_EQ(all->size(), 2u);
    EXPECT_EQ((*all)[1].kind, IncidentKind::absent);
    EXPECT_TRUE(std::isnan((*all)[1].peak_value));
    ASSERT_TRUE((*all)[1].end.has_value());
    auto later = store->incidents(t0() + hours(2), t0() + hours(3));
    ASSERT_TRUE(later);
    EXPECT_EQ(later->size(), 1u) << "only the open incident overlaps a later window";

    auto note = store->meta("note");
    ASSERT_TRUE(note);
    EXPECT_EQ(note->value_or(""), "hello");
}

OutboxItem item(std::string key, WallTime created) {
    OutboxItem i;
    i.channel = "ops";
    i.incident_id = "inc-1";
    i.idempotency_key = std::move(key);
    i.kind = "firing";
    i.payload = R"({"x":1})";
    i.created = created;
    return i;
}

TEST(Store, OutboxRowsAreStoredWithTheTickAndDeduplicatedByKey) {
    TempDir dir;
    auto store = open_ok(options_for(dir / "boxmon.db"));
    ASSERT_TRUE(store);
    TickWrite t = make_tick(0);
    t.outbox = {item("inc-1#1", t.sample.ts), item("inc-1#1", t.sample.ts)};
    ASSERT_TRUE(store->commit_tick(t));
    OutboxStore& ob = store->outbox();
    ASSERT_TRUE(ob.insert({item("inc-1#1", t.sample.ts), item("inc-1#2", t.sample.ts + minutes(1))}));

    auto counts = ob.counts();
    ASSERT_TRUE(counts);
    EXPECT_EQ(counts->pending, 2);
    EXPECT_EQ(counts->oldest_pending, t.sample.ts);

    auto due = ob.due(t.sample.ts, 10);
    ASSERT_TRUE(due);
    ASSERT_EQ(due->size(), 1u) << "the second row is not due until its created time";
    EXPECT_EQ((*due)[0].item.idempotency_key, "inc-1#1");
    EXPECT_EQ((*due)[0].item.payload, R"({"x":1})");
    const std::int64_t id = (*due)[0].id;

    ASSERT_TRUE(ob.mark_retry(id, t.sample.ts + minutes(10), std::string(5000, 'e'), true));
    ASSERT_TRUE(ob.mark_retry(id, t.sample.ts + minutes(10), "shutdown", false));
    auto next = ob.next_due();
    ASSERT_TRUE(next);
    EXPECT_EQ(next->value(), t.sample.ts + minutes(1));
    auto rows = ob.recent(WallTime{}, 10);
    ASSERT_TRUE(rows);
    ASSERT_EQ(rows->size(), 2u);
    EXPECT_EQ((*rows)[1].id, id);
    EXPECT_EQ((*rows)[1].attempts, 1) << "an uncharged retry does not count";
    EXPECT_EQ((*rows)[1].last_error, "shutdown");

    ASSERT_TRUE(ob.mark_delivered(id, t.sample.ts + minutes(11)));
    ASSERT_TRUE(ob.mark_dead((*rows)[0].id, t.sample.ts + minutes(12), "HTTP 400"));
    counts = ob.counts();
    ASSERT_TRUE(counts);
    EXPECT_EQ(counts->pending, 0);
    EXPECT_EQ(counts->delivered, 1);
    EXPECT_EQ(counts->dead, 1);
    EXPECT_FALSE(counts->oldest_pending.has_value());
    next = ob.next_due();
    ASSERT_TRUE(next);
    EXPECT_FALSE(next->has_value());
}

TEST(Store, OutboxOnItsOwnStoreWorksFromAnotherThreadWhileTicksCommit) {
    TempDir dir;
    // The daemon's busy timeout: the two connections take turns at the write lock.
    StoreOptions o = options_for(dir / "boxmon.db");
    o.busy_timeout = std::chrono::seconds(5);
    auto writer = open_ok(o);
    auto dispatcher = open_ok(o);
    ASSERT_TRUE(writer && dispatcher);
    std::atomic<bool> failed{false};
    std::atomic<int> delivered{0};
    std::string why;
    std::thread worker([&] {
        OutboxStore& ob = dispatcher->outbox();
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (delivered < 50 && std::chrono::steady_clock::now() < deadline) {
            auto due = ob.due(t0() + hours(10), 5);
            if (!due) {
                why = due.error().message;
                failed = true;
                return;
            }
            for (const OutboxRow& r : *due) {
                auto d = ob.mark_delivered(r.id, t0());
                if (!d) {
                    why = d.error().message;
                    failed = true;
                    return;
                }
                ++delivered;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    });
    for (int i = 0; i < 50; ++i) {
        TickWrite t = make_tick(i);
        t.outbox = {item("inc-1#" + std::to_string(i), t.sample.ts)};
        auto r = writer->commit_tick(t);
        ASSERT_TRUE(r) << r.error().message;
        // Real ticks are seconds apart; a writer that never lets go would starve the other.
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    worker.join();
    EXPECT_FALSE(failed) << why;
    EXPECT_EQ(delivered.load(), 50);
    EXPECT_EQ(sql_text(dir / "boxmon.db", "SELECT count(*) FROM outbox WHERE state='delivered'"), "50");
}

// S1/S5 at the store level: another process holds the write lock past the busy timeout.
TEST(Store, LockedPastTheBusyTimeoutFailsWithKindBusyAndWritesNothing) {
    TempDir dir;
    auto store = open_ok(options_for(dir / "boxmon.db"));
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->commit_tick(make_tick(0)));

    sqlite3* other = nullptr;
    ASSERT_EQ(sqlite3_open((dir / "boxmon.db").c_str(), &other), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);

    TickWrite t = make_tick(1, 5);  // two series the store has not seen yet
    const auto start = std::chrono::steady_clock::now();
    auto r = store->commit_tick(t);
    const auto waited = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::busy);
    EXPECT_NE(r.error().message.find("locked"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("boxmon.db"), std::string::npos) << r.error().message;
    EXPECT_GE(waited, std::chrono::milliseconds(150)) << "the busy timeout is honoured";

    ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(other);
    EXPECT_EQ(sql_text(dir / "boxmon.db", "SELECT count(*) FROM ticks"), "1");
    EXPECT_EQ(sql_text(dir / "boxmon.db", "SELECT count(*) FROM series"), "3");

    // The next attempt writes the held tick and the new series.
    auto again = store->commit_tick(t);
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(sql_text(dir / "boxmon.db", "SELECT count(*) FROM series"), "5");
    EXPECT_EQ(sql_text(dir / "boxmon.db", "SELECT count(*) FROM samples"), "8");
}

TEST(Store, ReadOnlyOpenOfAMissingDatabaseIsNotFoundAndCreatesNothing) {
    TempDir dir;
    StoreOptions o = options_for(dir / "state/boxmon.db");
    o.read_only = true;
    auto s = Store::open(o);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().kind, ErrorKind::not_found);
    EXPECT_NE(s.error().message.find("state/boxmon.db"), std::string::npos) << s.error().message;
    EXPECT_FALSE(fs::exists(dir / "state"));
}

TEST(Store, ReadOnlyOpenReadsButNeverWrites) {
    TempDir dir;
    {
        auto w = open_ok(options_for(dir / "boxmon.db"));
        ASSERT_TRUE(w && w->commit_tick(make_tick(0)));
    }
    StoreOptions o = options_for(dir / "boxmon.db");
    o.read_only = true;
    auto r = open_ok(o);
    ASSERT_TRUE(r);
    auto pts = r->query(SeriesKey("cpu_percent", {{"cpu", "0"}}), t0(), t0());
    ASSERT_TRUE(pts);
    EXPECT_EQ(pts->size(), 1u);
    auto w = r->commit_tick(make_tick(1));
    EXPECT_FALSE(w);
    EXPECT_EQ(sql_text(dir / "boxmon.db", "SELECT count(*) FROM ticks"), "1");
}

TEST(Store, ReadOnlyOpenSeesTicksTheRunningWriterCommits) {
    TempDir dir;
    auto writer = open_ok(options_for(dir / "boxmon.db"));
    ASSERT_TRUE(writer && writer->commit_tick(make_tick(0)));
    StoreOptions o = options_for(dir / "boxmon.db");
    o.read_only = true;
    auto reader = open_ok(o);
    ASSERT_TRUE(reader);
    ASSERT_TRUE(writer->commit_tick(make_tick(1)));
    auto last = reader->last_tick();
    ASSERT_TRUE(last) << last.error().message;
    EXPECT_EQ(last->value_or(WallTime{}), t0() + minutes(1));
    auto points = reader->query(SeriesKey("cpu_percent", {{"cpu", "2"}}), t0(), t0() + hours(1));
    ASSERT_TRUE(points);
    EXPECT_EQ(points->size(), 2u);
}

TEST(Store, DatabaseFromANewerBoxmonIsRefusedNeverDowngraded) {
    TempDir dir;
    {
        auto w = open_ok(options_for(dir / "boxmon.db"));
        ASSERT_TRUE(w);
    }
    sqlite3* c = nullptr;
    ASSERT_EQ(sqlite3_open((dir / "boxmon.db").c_str(), &c), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(c, "PRAGMA user_version=99", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(c);
    auto s = Store::open(options_for(dir / "boxmon.db"));
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().message.find("newer"), std::string::npos) << s.error().message;
    EXPECT_EQ(sql_text(dir / "boxmon.db", "PRAGMA user_version"), "99");
    StoreOptions ro = options_for(dir / "boxmon.db");
    ro.read_only = true;
    EXPECT_FALSE(Store::open(ro));
}

TEST(Store, SymlinkAtTheDatabasePathIsRefusedAndItsTargetUntouched) {
    TempDir dir;
    write_file(dir / "canary", "precious", 0644);
    fs::create_symlink(dir / "canary", dir / "boxmon.db");
    auto s = Store::open(options_for(dir / "boxmon.db"));
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().message.find("symbolic link"), std::string::npos) << s.error().message;
    EXPECT_EQ(boxmon::test::read_file(dir / "canary"), "precious");

    // A link planted at the -wal name is refused too.
    fs::remove(dir / "boxmon.db");
    fs::create_symlink(dir / "canary", dir / "boxmon.db-wal");
    EXPECT_FALSE(Store::open(options_for(dir / "boxmon.db")));
    EXPECT_EQ(boxmon::test::read_file(dir / "canary"), "precious");
}

// S4: corrupt databases at open are moved aside (with -wal and -shm), a new one starts.
void expect_moved_aside(const TempDir& dir, const Store& store, std::string_view old_content) {
    const OpenReport& r = store.open_report();
    ASSERT_TRUE(r.moved_aside.has_value());
    EXPECT_FALSE(r.corruption.empty());
    EXPECT_NE(r.moved_aside->filename().string().find("boxmon.db.corrupt-"), std::string::npos);
    EXPECT_EQ(r.moved_aside->parent_path(), dir.path());
    if (!old_content.empty()) {
        EXPECT_EQ(boxmon::test::read_file(*r.moved_aside), old_content);
    }
    EXPECT_TRUE(r.created);
    EXPECT_EQ(sql_text(dir / "boxmon.db", "PRAGMA integrity_check"), "ok");
}

TEST(Store, GarbageHeaderIsMovedAsideAndANewDatabaseStarted) {
    TempDir dir;
    const std::string text(8192, 'x');
    write_file(dir / "boxmon.db", text, 0600);
    write_file(dir / "boxmon.db-wal", "junk wal", 0600);
    auto store = open_ok(options_for(dir / "boxmon.db"));
    ASSERT_TRUE(store);
    expect_moved_aside(dir, *store, text);
    EXPECT_EQ(boxmon::test::read_file(fs::path(store->open_report().moved_aside->string() + "-wal")),
              "junk wal");
    EXPECT_TRUE(store->commit_tick(make_tick(0)));
}

TEST(Store, WithoutQuickCheckAGarbageHeaderIsStillMovedAside) {
    TempDir dir;
    write_file(dir / "boxmon.db", std::string(8192, 'x'), 0600);
    StoreOptions o = options_for(dir / "boxmon.db");
    o.quick_check = false;
    auto store = open_ok(o);
    ASSERT_TRUE(store);
    expect_moved_aside(dir, *store, std::string(8192, 'x'));
}

TEST(Store, TruncatedDatabaseIsMovedAside) {
    TempDir dir;
    {
        auto w = open_ok(options_for(dir / "boxmon.db"));
        ASSERT_TRUE(w);
        for (int i = 0; i < 300; ++i) ASSERT_TRUE(w->commit_tick(make_tick(i, 20)));
    }
    const auto size = fs::file_size(dir / "boxmon.db");
    ASSERT_GT(size, 40000u);
    fs::resize_file(dir / "boxmon.db", size / 2);
    auto store = open_ok(options_for(dir / "boxmon.db"));
    ASSERT_TRUE(store);
    expect_moved_aside(dir, *store, "");
    EXPECT_EQ(fs::file_size(*store->open_report().moved_aside), size / 2);
}

TEST(Store, GarbledPagesInsideTheFileAreMovedAside) {
    TempDir dir;
    {
        auto w = open_ok(options_for(dir / "boxmon.db"));
        ASSERT_TRUE(w);
        for (int i = 0; i < 300; ++i) ASSERT_TRUE(w->commit_tick(make_tick(i, 20)));
    }
    {
        // dd if=/dev/urandom bs=4096 seek=2 count=2 conv=notrunc, with fixed bytes.
        std::fstream f(dir / "boxmon.db", std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(2 * 4096);
        std::string junk(2 * 4096, '\0');
        for (std::size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<char>((i * 131 + 7) % 251);
        f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
    }
    auto store = open_ok(options_for(dir / "boxmon.db"));
    ASSERT_TRUE(store);
    expect_moved_aside(dir, *store, "");
}

TEST(Store, ZeroLengthFileIsInitialisedInPlaceNotMovedAside) {
    TempDir dir;
    write_file(dir / "boxmon.db", "", 0600);
    auto store = open_ok(options_for(dir / "boxmon.db"));
    ASSERT_TRUE(store);
    EXPECT_FALSE(store->open_report().moved_aside.has_value());
    EXPECT_TRUE(store->open_report().created);
    EXPECT_TRUE(store->commit_tick(make_tick(0)));
    int corrupt_files = 0;
    for (const auto& e : fs::directory_iterator(dir.path()))
        corrupt_files += e.path().filename().string().find("corrupt") != std::string::npos;
    EXPECT_EQ(corrupt_files, 0);
}

// C8: a crash after moving the database but before its -wal/-shm: the next open completes the
// move so the three files end up together, and the new database starts clean.
TEST(Store, InterruptedMoveAsideIsCompletedAtTheNextOpen) {
    TempDir dir;
    write_file(dir / "boxmon.db.corrupt-20261123T100000Z", std::string(8192, 'x'), 0600);
    write_file(dir / "boxmon.db-wal", "old wal", 0600);
    write_file(dir / "boxmon.db-shm", "old shm", 0600);
    auto store = open_ok(options_for(dir / "boxmon.db"));
    ASSERT_TRUE(store);
    EXPECT_EQ(boxmon::test::read_file(dir / "boxmon.db.corrupt-20261123T100000Z-wal"), "old wal");
    EXPECT_EQ(boxmon::test::read_file(dir / "boxmon.db.corrupt-20261123T100000Z-shm"), "old shm");
    ASSERT_TRUE(store->commit_tick(make_tick(0)));
    EXPECT_EQ(sql_text(dir / "boxmon.db", "PRAGMA integrity_check"), "ok");
    EXPECT_EQ(sql_text(dir / "boxmon.db", "SELECT count(*) FROM ticks"), "1");
}

// Retention: bounded work per step, oldest first, nothing younger than the retention deleted.
// Raw samples go a chunk row (here an hour of one series) at a time, once all of it is past
// the retention; their 5-minute buckets are written to rollup_5m as they go.
TEST(Store, MaintenanceDeletesOldRowsInBoundedStepsOldestFirst) {
    TempDir dir;
    StoreOptions o = options_for(dir / "boxmon.db");
    o.retention_raw = hours(1);
    o.retention_5m = hours(2);
    o.retention_1h = hours(24);
    auto store = open_ok(o);
    ASSERT_TRUE(store);
    for (int i = 0; i < 180; ++i) ASSERT_TRUE(store->commit_tick(make_tick(i, 4)));  // 3 hours
    const WallTime now = t0() + minutes(180);
    const std::string db = (dir / "boxmon.db").string();
    ASSERT_EQ(sql_text(db, "SELECT count(*) FROM samples"), "720");
    const SeriesKey cpu0("cpu_percent", {{"cpu", "0"}});
    auto before = store->query(cpu0, t0() - hours(1), now);
    ASSERT_TRUE(before);

    int steps = 0;
    int deleting_steps = 0;
    std::int64_t samples = 720;
    for (; steps < 200; ++steps) {
        auto more = store->maintenance_step(now, 50);
        ASSERT_TRUE(more) << more.error().message;
        const std::int64_t left = std::stoll(sql_text(db, "SELECT count(*) FROM samples"));
        // At most max_rows samples per step, or one chunk row when a row holds more.
        EXPECT_LE(samples - left, 60) << "step " << steps;
        if (left < samples) {
            ++deleting_steps;
            // Oldest first: what is left of every series is still one unbroken run of minutes.
            EXPECT_EQ(sql_text(db, "SELECT count(*) FROM (SELECT count(*) AS n, (max(ts) - min(ts)) / "
                                   "60000 + 1 AS span FROM samples GROUP BY series_id) WHERE n != span"),
                      "0") << "step " << steps;
        }
        samples = left;
        if (!*more) break;
    }
    EXPECT_LT(steps, 200);
    EXPECT_EQ(deleting_steps, 8) << "two hours of four series, one chunk row per step";
    const std::int64_t cutoff = to_unix_ms(now - hours(1));
    EXPECT_EQ(sql_text(db, "SELECT count(*) FROM samples WHERE ts < " + std::to_string(cutoff)), "0");
    EXPECT_EQ(sql_text(db, "SELECT count(*) FROM samples"), std::to_string(4 * 60));
    EXPECT_EQ(sql_text(db, "SELECT count(*) FROM recent_samples"), "14")
        << "the ticks of the hour in progress are not folded yet";
    EXPECT_EQ(sql_text(db, "SELECT count(*) FROM ticks"), "60");
    EXPECT_EQ(sql_text(db, "SELECT count(*) FROM rollup_5m WHERE bucket_ts < " +
                               std::to_string(to_unix_ms(now - hours(2)))), "0");
    EXPECT_NE(sql_text(db, "SELECT count(*) FROM rollup_1h"), "0") << "hourly rollups are kept a day";
    EXPECT_EQ(sql_text(db, "PRAGMA integrity_check"), "ok");

    // What is left reads back as before, and the 5-minute buckets run on without a gap or a
    // double count from the written ones (expired raw samples) into the computed ones.
    auto after = store->query(cpu0, now - hours(1), now);
    ASSERT_TRUE(after);
    ASSERT_EQ(after->size(), 60u);
    EXPECT_EQ(after->front().ts, before->at(120).ts);
    EXPECT_EQ(after->back().value, before->back().value);
    auto buckets = store->query(cpu0, now - hours(2) + minutes(1), now, Resolution::five_minutes);
    ASSERT_TRUE(buckets) << buckets.error().message;
    ASSERT_EQ(buckets->size(), 23u);
    for (std::size_t i = 0; i < buckets->size(); ++i) {
        EXPECT_EQ((*buckets)[i].count, 5) << i;
        if (i > 0) {
            EXPECT_EQ((*buckets)[i].ts - (*buckets)[i - 1].ts, minutes(5)) << i;
        }
    }
    EXPECT_EQ(sql_text(db, "SELECT count(*) FROM rollup_5m WHERE series_id = 1"), "12")
        << "the buckets of the expired hour younger than the 5-minute retention were written";
}

TEST(Store, MaintenanceGivesFreePagesBackIncrementally) {
    TempDir dir;
    StoreOptions o = options_for(dir / "boxmon.db");
    o.retention_raw = hours(1);
    auto store = open_ok(o);
    ASSERT_TRUE(store);
    for (int i = 0; i < 600; ++i) ASSERT_TRUE(store->commit_tick(make_tick(i, 30)));
    const WallTime now = t0() + minutes(600);
    for (int i = 0; i < 1000; ++i) {
        auto more = store->maintenance_step(now, 5000);
        ASSERT_TRUE(more);
        if (!*more) break;
    }
    EXPECT_EQ(sql_text(dir / "boxmon.db", "PRAGMA freelist_count"), "0");
}

// K3: a clock far ahead of the newest sample never triggers deletion.
TEST(Store, MaintenanceNeverDeletesWhenTheClockIsFarAheadOfTheData) {
    TempDir dir;
    auto store = open_ok(options_for(dir / "boxmon.db"));  // 30 days raw retention
    ASSERT_TRUE(store);
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(store->commit_tick(make_tick(i)));
    const WallTime year_2040 = from_unix_seconds(2'208'988'800);
    store::test::LogCapture log;
    for (int step = 0; step < 3; ++step) {  // the daemon runs a step each tick
        auto r = store->maintenance_step(year_2040, 1000);
        ASSERT_TRUE(r);
        EXPECT_FALSE(*r);
    }
    // K3: said once, with the clock's reading, however many steps it holds back.
    const std::string said = log.text();
    const std::string warning = "system clock looks wrong (2040-01-01T00:00:00Z, newest sample ";
    ASSERT_NE(said.find(warning), std::string::npos) << said;
    EXPECT_EQ(said.find(warning, said.find(warning) + 1), std::string::npos) << "said more than once:\n" << said;
    EXPECT_NE(said.find("); retention paused"), std::string::npos) << said;
    EXPECT_EQ(sql_text(dir / "boxmon.db", "SELECT count(*) FROM samples"), "30");
    EXPECT_EQ(sql_text(dir / "boxmon.db", "SELECT count(*) FROM ticks"), "10");
    auto buckets = store->query(SeriesKey("cpu_percent", {{"cpu", "1"}}), t0() - hours(1), t0() + hours(1),
                                Resolution::five_minutes);
    ASSERT_TRUE(buckets);
    EXPECT_EQ(buckets->size(), 2u) << "the two completed 5-minute buckets";
    // A sane clock 31 days later does delete.
    auto sane = store->maintenance_step(t0() + hours(24 * 31), 1000);
    ASSERT_TRUE(sane);
    EXPECT_EQ(sql_text(dir / "boxmon.db", "SELECT count(*) FROM samples"), "0");
}

TEST(Store, MaintenanceOnAnEmptyDatabaseDoesNothing) {
    TempDir dir;
    auto store = open_ok(options_for(dir / "boxmon.db"));
    ASSERT_TRUE(store);
    auto r = store->maintenance_step(t0());
    ASSERT_TRUE(r);
    EXPECT_FALSE(*r);
}

}  // namespace
}  // namespace boxmon::store
