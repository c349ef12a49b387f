// Raw samples in schema version 2 on real database files: recent ticks and chunk rows give the
// same answers, values read back bit for bit, late ticks, the migration of a version 1
// database, and the warning about a -wal that a reader keeps from being checkpointed (S7).

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "store/schema.hpp"
#include "store/store.hpp"
#include "store_test_util.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon::store {
namespace {

namespace fs = std::filesystem;
using boxmon::test::TempDir;
using test::LogCapture;
using test::open_ok;
using test::options_for;
using test::sql_text;
using test::t0;
using std::chrono::hours;
using std::chrono::minutes;

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// A finite double from random bits (NaN and infinities replaced), with some integral and
// "round" values mixed in as real collectors produce them.
double random_value(std::mt19937_64& rng) {
    switch (rng() % 4) {
        case 0: return static_cast<double>(rng() % 100'000'000'000ULL);
        case 1: return static_cast<double>(rng() % 10'000) / 100.0;
        default: {
            const std::uint64_t bits = rng();
            double v = 0;
            std::memcpy(&v, &bits, sizeof v);
            return std::isfinite(v) ? v : 1.5;
        }
    }
}

void drain_maintenance(Store& s, WallTime now) {
    for (int i = 0; i < 10'000; ++i) {
        auto more = s.maintenance_step(now, 2000);
        ASSERT_TRUE(more) << more.error().message;
        if (!*more) return;
    }
    FAIL() << "maintenance never finished";
}

struct Snapshot {
    std::vector<std::vector<HistoryPoint>> raw, five, hourly;
    std::vector<SeriesInfo> series;
};

Snapshot snapshot(Store& s, const std::vector<SeriesKey>& keys, WallTime since, WallTime until) {
    Snapshot out;
    for (const SeriesKey& k : keys) {
        out.raw.push_back(s.query(k, since, until).value());
        out.five.push_back(s.query(k, since, until, Resolution::five_minutes).value());
        out.hourly.push_back(s.query(k, since, until, Resolution::one_hour).value());
    }
    out.series = s.series().value();
    return out;
}

void expect_same_points(const std::vector<HistoryPoint>& a, const std::vector<HistoryPoint>& b,
                        const std::string& what) {
    ASSERT_EQ(a.size(), b.size()) << what;
    for (std::size_t i = 0; i < a.size(); ++i) {
        ASSERT_EQ(a[i].ts, b[i].ts) << what << " #" << i;
        ASSERT_TRUE(same_bits(a[i].value, b[i].value)) << what << " #" << i << ": " << a[i].value << " vs " << b[i].value;
        ASSERT_TRUE(same_bits(a[i].min, b[i].min)) << what << " #" << i;
        ASSERT_TRUE(same_bits(a[i].max, b[i].max)) << what << " #" << i;
        ASSERT_EQ(a[i].count, b[i].count) << what << " #" << i;
    }
}

void expect_same(const Snapshot& a, const Snapshot& b) {
    for (std::size_t k = 0; k < a.raw.size(); ++k) {
        expect_same_points(a.raw[k], b.raw[k], "raw " + std::to_string(k));
        expect_same_points(a.five[k], b.five[k], "5m " + std::to_string(k));
        expect_same_points(a.hourly[k], b.hourly[k], "1h " + std::to_string(k));
    }
    ASSERT_EQ(a.series.size(), b.series.size());
    for (std::size_t i = 0; i < a.series.size(); ++i) {
        EXPECT_EQ(a.series[i].key, b.series[i].key);
        EXPECT_EQ(a.series[i].first_seen, b.series[i].first_seen);
        EXPECT_EQ(a.series[i].last_seen, b.series[i].last_seen) << a.series[i].key.to_string();
    }
}

TEST(StoreRaw, ValuesReadBackBitForBitFromRecentTicksAndFromChunks) {
    TempDir dir;
    auto store = open_ok(options_for(dir / "boxmon.db"));
    ASSERT_TRUE(store);
    std::mt19937_64 rng(42);
    std::vector<SeriesKey> keys;
    for (int k = 0; k < 8; ++k) keys.emplace_back("m", std::vector<Label>{{"k", std::to_string(k)}});
    std::vector<std::vector<double>> written(keys.size());
    for (int i = 0; i < 150; ++i) {
        TickWrite t;
        t.sample.ts = t0() + minutes(i);
        for (std::size_t k = 0; k < keys.size(); ++k) {
            const double v = random_value(rng);
            t.sample.add(keys[k], v);
            written[k].push_back(v);
        }
        ASSERT_TRUE(store->commit_tick(t));
    }
    auto check = [&](const char* where) {
        for (std::size_t k = 0; k < keys.size(); ++k) {
            auto points = store->query(keys[k], t0(), t0() + hours(3));
            ASSERT_TRUE(points) << points.error().message;
            ASSERT_EQ(points->size(), written[k].size()) << where;
            for (std::size_t i = 0; i < points->size(); ++i)
                ASSERT_TRUE(same_bits((*points)[i].value, written[k][i]))
                    << where << ": series " << k << " tick " << i << " wrote " << written[k][i] << " read "
                    << (*points)[i].value;
        }
    };
    check("recent ticks");
    drain_maintenance(*store, t0() + minutes(150));
    ASSERT_NE(sql_text(dir / "boxmon.db", "SELECT count(*) FROM sample_chunks"), "0");
    check("chunks and recent ticks");
    // The samples view (plain SQL, any SQLite client) reads the same doubles.
    EXPECT_EQ(sql_text(dir / "boxmon.db", "SELECT count(*) FROM samples"), std::to_string(150 * keys.size()));
    const std::string v = sql_text(dir / "boxmon.db",
                                   "SELECT printf('%!.17g', value) FROM samples WHERE series_id = 3 AND ts = " +
                                       std::to_string(to_unix_ms(t0() + minutes(7))));
    EXPECT_TRUE(same_bits(std::stod(v), written[2][7])) << v;
    // -0.0 is stored as 0, as a REAL column always stored it.
    TickWrite t;
    t.sample.ts = t0() + minutes(150);
    t.sample.add(keys[0], -0.0);
    ASSERT_TRUE(store->commit_tick(t));
    auto zero = store->query(keys[0], t.sample.ts, t.sample.ts);
    ASSERT_TRUE(zero);
    ASSERT_EQ(zero->size(), 1u);
    EXPECT_TRUE(same_bits((*zero)[0].value, 0.0));
}

TEST(StoreRaw, FoldingAndExpiringChangeNoAnswer) {
    TempDir dir;
    StoreOptions o = options_for(dir / "boxmon.db");
    o.unsafe_no_sync = true;
    o.retention_raw = hours(3);
    o.retention_5m = hours(48);
    auto store = open_ok(o);
    ASSERT_TRUE(store);
    std::mt19937_64 rng(3);
    std::vector<SeriesKey> keys{SeriesKey("load1"), SeriesKey("gpu_util"), SeriesKey("disk", {{"mount", "/"}})};
    for (int i = 0; i < 300; ++i) {
        TickWrite t;
        t.sample.ts = t0() + minutes(i);
        t.sample.add(keys[0], random_value(rng));
        if (i % 7 != 3) t.sample.add(keys[1], static_cast<double>(i % 100));  // misses some ticks
        if (i < 200) t.sample.add(keys[2], 40.0 + i * 0.01);                  // goes away
        ASSERT_TRUE(store->commit_tick(t));
    }
    const WallTime now = t0() + minutes(299);
    // Everything but the raw samples older than 3 hours, which retention removes.
    const WallTime since = now - hours(3) + minutes(1);
    Snapshot before = snapshot(*store, keys, since - hours(2), now);
    drain_maintenance(*store, now);
    EXPECT_NE(sql_text(dir / "boxmon.db", "SELECT count(*) FROM rollup_5m"), "0");
    Snapshot after = snapshot(*store, keys, since - hours(2), now);
    // Raw samples older than the retention went a whole chunk row at a time; compare the rest.
    for (std::size_t k = 0; k < keys.size(); ++k) {
        ASSERT_LT(before.raw[k].front().ts, since);
        ASSERT_LT(after.raw[k].size(), before.raw[k].size()) << "retention removed old samples";
        for (Snapshot* s : {&before, &after})
            std::erase_if(s->raw[k], [&](const HistoryPoint& p) { return p.ts < since; });
    }
    expect_same(before, after);
}

TEST(StoreRaw, ALateTickIntoAFoldedHourIsMergedAndTheFirstValueOfATickWins) {
    TempDir dir;
    auto store = open_ok(options_for(dir / "boxmon.db"));
    ASSERT_TRUE(store);
    const SeriesKey key("load1");
    auto commit = [&](WallTime ts, double v) {
        TickWrite t;
        t.sample.ts = ts;
        t.sample.add(key, v);
        auto r = store->commit_tick(t);
        ASSERT_TRUE(r) << r.error().message;
    };
    for (int i = 0; i < 180; i += 2) commit(t0() + minutes(i), i);  // every other minute
    drain_maintenance(*store, t0() + minutes(180));
    ASSERT_NE(sql_text(dir / "boxmon.db", "SELECT count(*) FROM sample_chunks"), "0");
    commit(t0() + minutes(31), 1000);       // late, into a folded hour, off the 2-minute grid
    commit(t0() + minutes(40), 2000);       // late, a minute already stored
    commit(t0() + minutes(181), 3000);      // on time
    auto check = [&](const char* where) {
        auto p = store->query(key, t0(), t0() + hours(4));
        ASSERT_TRUE(p) << p.error().message;
        ASSERT_EQ(p->size(), 92u) << where;
        int seen = 0;
        for (const auto& h : *p) {
            if (h.ts == t0() + minutes(31)) {
                EXPECT_EQ(h.value, 1000) << where;
                ++seen;
            }
            if (h.ts == t0() + minutes(40)) {
                EXPECT_EQ(h.value, 40) << where << ": the stored value stays";
                ++seen;
            }
        }
        EXPECT_EQ(seen, 2) << where;
        for (std::size_t i = 1; i < p->size(); ++i) ASSERT_LT((*p)[i - 1].ts, (*p)[i].ts) << where;
    };
    check("before the late ticks are folded");
    drain_maintenance(*store, t0() + minutes(300));
    check("after");
    // The hourly bucket of the late tick was rewritten with it.
    auto h = store->query(key, t0(), t0() + minutes(45), Resolution::one_hour);
    ASSERT_TRUE(h);
    ASSERT_FALSE(h->empty());
    EXPECT_EQ(h->front().max, 1000);
    EXPECT_EQ(sql_text(dir / "boxmon.db", "SELECT max(max) FROM rollup_1h"), "1000.0");
    EXPECT_EQ(sql_text(dir / "boxmon.db", "SELECT count(*) FROM samples"), "92");
    EXPECT_EQ(sql_text(dir / "boxmon.db", "SELECT count(*) FROM (SELECT ts FROM samples GROUP BY ts HAVING count(*) > 1)"),
              "0");
}

TEST(StoreRaw, WrittenBucketsOutliveTheTicksAndSamplesTheyCameFrom) {
    TempDir dir;
    auto store = open_ok(options_for(dir / "boxmon.db"));  // 30 days raw, 180 days of 5-minute buckets
    ASSERT_TRUE(store);
    for (int i = 0; i < 120; ++i) ASSERT_TRUE(store->commit_tick(test::make_tick(i)));
    const SeriesKey key("cpu_percent", {{"cpu", "1"}});
    auto before = store->query(key, t0() - hours(1), t0() + hours(3), Resolution::five_minutes);
    ASSERT_TRUE(before);
    ASSERT_EQ(before->size(), 24u);
    // A month later (the daemon was stopped): raw samples and ticks expire, the buckets stay.
    drain_maintenance(*store, t0() + hours(24 * 31));
    EXPECT_EQ(sql_text(dir / "boxmon.db", "SELECT count(*) FROM ticks"), "0");
    EXPECT_EQ(sql_text(dir / "boxmon.db", "SELECT count(*) FROM samples"), "0");
    auto after = store->query(key, t0() - hours(1), t0() + hours(3), Resolution::five_minutes);
    ASSERT_TRUE(after) << after.error().message;
    expect_same_points(*before, *after, "5-minute buckets");
    auto hourly = store->query(key, t0() - hours(1), t0() + hours(3), Resolution::one_hour);
    ASSERT_TRUE(hourly);
    EXPECT_EQ(hourly->size(), 2u) << "the two hours folded before the samples expired";
}

// A database written by schema version 1: samples(series_id, ts, value) with its rollups, as the
// previous boxmon left it (5-minute rollups for every completed bucket, older ones kept after
// retention removed their raw rows).
TEST(StoreRaw, AVersion1DatabaseIsMigratedAndGivesTheSameAnswers) {
    TempDir dir;
    const fs::path db = dir / "boxmon.db";
    const WallTime start = t0() + minutes(2);  // a minute into a 5-minute bucket (t0 is 4 in)
    std::mt19937_64 rng(1);
    std::vector<std::vector<double>> values(3);
    {
        sqlite3* c = nullptr;
        ASSERT_EQ(sqlite3_open(db.c_str(), &c), SQLITE_OK);
        auto exec = [&](const std::string& q) { test::exec_ok(c, q); };
        test::begin_v1_database(c);
        exec("INSERT INTO series(id, name, key, labels_json, first_seen, last_seen) VALUES "
             "(1, 'cpu_percent', 'cpu_percent', '{}', 0, 0), (2, 'load1', 'load1', '{}', 0, 0), "
             "(3, 'disk_used_percent', 'disk_used_percent{mount=\"/\"}', '{\"mount\":\"/\"}', 0, 0)");
        sqlite3_stmt* ins = nullptr;
        ASSERT_EQ(sqlite3_prepare_v2(c, "INSERT INTO samples VALUES(?1, ?2, ?3)", -1, &ins, nullptr), SQLITE_OK);
        for (int i = 0; i < 200; ++i) {
            const std::int64_t ts = to_unix_ms(start + minutes(i));
            exec("INSERT INTO ticks(ts, collectors_ok, points) VALUES(" + std::to_string(ts) + ", 1, 3)");
            for (int k = 0; k < 3; ++k) {
                if (k == 2 && i % 10 == 5) continue;  // a series that misses ticks
                const double v = random_value(rng);
                values[static_cast<std::size_t>(k)].push_back(v);
                sqlite3_bind_int64(ins, 1, k + 1);
                sqlite3_bind_int64(ins, 2, ts);
                sqlite3_bind_double(ins, 3, v);
                ASSERT_EQ(sqlite3_step(ins), SQLITE_DONE);
                sqlite3_reset(ins);
            }
        }
        sqlite3_finalize(ins);
        exec("UPDATE series SET first_seen = " + std::to_string(to_unix_ms(start)) + ", last_seen = " +
             std::to_string(to_unix_ms(start + minutes(190))));
        // The completed buckets, as the version 1 code computed them.
        for (const auto& [table, step] : {std::pair{"rollup_5m", 300000}, std::pair{"rollup_1h", 3600000}})
            exec(fmt::format("INSERT INTO {0} SELECT series_id, ts / {1} * {1}, min(value), avg(value), "
                             "max(value), count(*) FROM samples WHERE ts < (SELECT max(ts) / {1} * {1} FROM ticks) "
                             "GROUP BY series_id, ts / {1}", table, step));
        // The first bucket had 5 samples before retention removed 2 of them: its row stays.
        exec(fmt::format("UPDATE rollup_5m SET count = 5, min = -1 WHERE bucket_ts = {}",
                         to_unix_ms(start) / 300000 * 300000));
        // Older buckets whose raw samples are gone.
        exec(fmt::format("INSERT INTO rollup_5m VALUES(1, {0}, 1, 2, 3, 5), (1, {1}, 4, 5, 6, 5)",
                         to_unix_ms(start) / 300000 * 300000 - 600000, to_unix_ms(start) / 300000 * 300000 - 300000));
        exec("COMMIT");
        sqlite3_close(c);
    }
    const std::string old_5m = sql_text(db, "SELECT count(*) FROM rollup_5m");
    const std::string old_1h = sql_text(db, "SELECT group_concat(printf('%d %!.17g %d', bucket_ts, avg, count)) FROM rollup_1h");
    ASSERT_EQ(old_5m, std::to_string(3 * 40 + 2));

    StoreOptions o = options_for(db);
    auto store = open_ok(o);
    ASSERT_TRUE(store);
    EXPECT_EQ(store->open_report().migrated_from, 1);
    EXPECT_EQ(sql_text(db, "PRAGMA user_version"), "2");
    EXPECT_EQ(sql_text(db, "SELECT type FROM sqlite_schema WHERE name = 'samples'"), "view");
    EXPECT_EQ(sql_text(db, "SELECT count(*) FROM samples"), std::to_string(200 * 3 - 20));
    EXPECT_EQ(sql_text(db, "SELECT count(*) FROM rollup_5m"), "5")
        << "only the buckets the raw samples no longer cover in full stay written";
    EXPECT_EQ(sql_text(db, "SELECT group_concat(printf('%d %!.17g %d', bucket_ts, avg, count)) FROM rollup_1h"), old_1h);
    EXPECT_EQ(sql_text(db, "PRAGMA integrity_check"), "ok");

    const std::vector<SeriesKey> keys{SeriesKey("cpu_percent"), SeriesKey("load1"),
                                      SeriesKey("disk_used_percent", {{"mount", "/"}})};
    for (std::size_t k = 0; k < 3; ++k) {
        auto raw = store->query(keys[k], start - hours(1), start + hours(5));
        ASSERT_TRUE(raw) << raw.error().message;
        ASSERT_EQ(raw->size(), values[k].size());
        for (std::size_t i = 0; i < raw->size(); ++i) ASSERT_TRUE(same_bits((*raw)[i].value, values[k][i])) << k << " " << i;
        auto five = store->query(keys[k], start - hours(1), start + hours(5), Resolution::five_minutes);
        ASSERT_TRUE(five);
        ASSERT_EQ(five->size(), k == 0 ? 42u : 40u) << "the older buckets of series 1 are still there";
        const HistoryPoint& first = (*five)[k == 0 ? 2 : 0];
        EXPECT_EQ(first.count, 5) << "the partly expired bucket keeps its written row";
        EXPECT_EQ(first.min, -1);
        // Past the migration every bucket is computed from the raw samples, as v1 wrote it.
        const HistoryPoint& b = (*five)[k == 0 ? 10 : 8];
        double mn = INFINITY, mx = -INFINITY, sum = 0;
        std::int64_t n = 0;
        for (const HistoryPoint& p : *raw) {
            if (p.ts < b.ts || p.ts >= b.ts + minutes(5)) continue;
            mn = std::min(mn, p.value);
            mx = std::max(mx, p.value);
            sum += p.value;
            ++n;
        }
        EXPECT_EQ(b.count, n);
        EXPECT_TRUE(same_bits(b.min, mn));
        EXPECT_TRUE(same_bits(b.max, mx));
        EXPECT_TRUE(same_bits(b.value, sum / static_cast<double>(n)));
    }
    auto series = store->series();
    ASSERT_TRUE(series);
    ASSERT_EQ(series->size(), 3u);
    EXPECT_EQ((*series)[0].last_seen, start + minutes(199)) << "the newest sample makes last_seen exact";

    // The migrated database takes ticks and maintenance as a new one does.
    TickWrite t;
    t.sample.ts = start + minutes(200);
    t.sample.add(keys[0], 1.25);
    ASSERT_TRUE(store->commit_tick(t));
    drain_maintenance(*store, start + minutes(260));
    auto last = store->query(keys[0], start + minutes(199), start + minutes(200));
    ASSERT_TRUE(last);
    ASSERT_EQ(last->size(), 2u);
    EXPECT_EQ(last->back().value, 1.25);
}


// A series with more version 1 rows than the migration packs at a time (a 1 s interval).
TEST(StoreRaw, AVersion1SeriesOfManyRowsIsMigratedWhole) {
    TempDir dir;
    const fs::path db = dir / "boxmon.db";
    std::vector<std::pair<std::int64_t, double>> rows;
    {
        sqlite3* c = nullptr;
        ASSERT_EQ(sqlite3_open(db.c_str(), &c), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(c, "BEGIN", nullptr, nullptr, nullptr), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(c, detail::kSchemaV1, nullptr, nullptr, nullptr), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(c, "PRAGMA user_version=1; INSERT INTO series VALUES(1, 'load1', 'load1', '{}', 0, 0)",
                               nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_stmt* ins = nullptr;
        ASSERT_EQ(sqlite3_prepare_v2(c, "INSERT INTO samples VALUES(1, ?1, ?2)", -1, &ins, nullptr), SQLITE_OK);
        std::int64_t ts = to_unix_ms(t0());
        // Twice the migration's batch: the last batch ends with the series, so its unfinished
        // row is written by itself.
        for (int i = 0; i < 8192; ++i) {
            ts += (i % 997 == 0) ? 7'000 : 1'000;  // a 1 s interval with a few gaps
            rows.emplace_back(ts, i * 0.5);
            sqlite3_bind_int64(ins, 1, ts);
            sqlite3_bind_double(ins, 2, i * 0.5);
            ASSERT_EQ(sqlite3_step(ins), SQLITE_DONE);
            sqlite3_reset(ins);
        }
        sqlite3_finalize(ins);
        ASSERT_EQ(sqlite3_exec(c, ("INSERT INTO ticks(ts) VALUES(" + std::to_string(ts) + ")").c_str(), nullptr,
                               nullptr, nullptr), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(c, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(c);
    }
    auto store = open_ok(options_for(db));
    ASSERT_TRUE(store);
    auto points = store->query(SeriesKey("load1"), t0(), t0() + hours(10));
    ASSERT_TRUE(points) << points.error().message;
    ASSERT_EQ(points->size(), rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
        ASSERT_EQ(to_unix_ms((*points)[i].ts), rows[i].first) << i;
        ASSERT_EQ((*points)[i].value, rows[i].second) << i;
    }
    EXPECT_EQ(sql_text(db, "SELECT count(*) FROM samples"), "8192");
}

// S7: a reader that holds a read transaction stops checkpoints and the -wal grows; boxmon says
// so once, goes on writing, and truncates the log once the reader lets go.
TEST(StoreRaw, AWalHeldBackByAReaderIsReportedOnceAndTruncatedWhenItEnds) {
    TempDir dir;
    const fs::path db = dir / "boxmon.db";
    StoreOptions o = options_for(db);
    o.wal_warn_bytes = 256 * 1024;
    auto store = open_ok(o);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->commit_tick(test::make_tick(0, 60)));

    sqlite3* reader = nullptr;
    ASSERT_EQ(sqlite3_open_v2(db.c_str(), &reader, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(reader, "BEGIN; SELECT count(*) FROM ticks;", nullptr, nullptr, nullptr), SQLITE_OK);

    LogCapture log;
    const std::string wal = db.string() + "-wal";
    int i = 1;
    for (; i < 3000 && fs::file_size(wal) <= o.wal_warn_bytes; ++i) {
        ASSERT_TRUE(store->commit_tick(test::make_tick(i, 60)));
        ASSERT_TRUE(store->maintenance_step(t0() + minutes(i)));
    }
    ASSERT_GT(fs::file_size(wal), o.wal_warn_bytes) << "the reader did not hold the log back";
    for (int more = 0; more < 50; ++more, ++i) {
        ASSERT_TRUE(store->commit_tick(test::make_tick(i, 60))) << "writes go on";
        ASSERT_TRUE(store->maintenance_step(t0() + minutes(i)));
    }
    const std::string text = log.text();
    const std::string warning = "checkpoints are blocked by a long-running reader";
    ASSERT_NE(text.find(warning), std::string::npos) << text;
    EXPECT_EQ(text.find(warning), text.rfind(warning)) << "warned once: " << text;
    EXPECT_NE(text.find(wal), std::string::npos) << "the message names the file: " << text;

    ASSERT_EQ(sqlite3_exec(reader, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(reader);
    ASSERT_TRUE(store->commit_tick(test::make_tick(i, 60)));
    ASSERT_TRUE(store->maintenance_step(t0() + minutes(i)));
    EXPECT_EQ(fs::file_size(wal), 0u) << "truncated once the reader ended";
    EXPECT_NE(log.text().find("checkpointed and truncated"), std::string::npos) << log.text();
    EXPECT_EQ(sql_text(db, "SELECT count(*) FROM ticks"), std::to_string(i + 1));
}

}  // namespace
}  // namespace boxmon::store
