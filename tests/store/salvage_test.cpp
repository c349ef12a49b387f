// `boxmon db salvage` (store::salvage): what a damaged database still holds goes into the one
// boxmon writes, value for value; what sits on a damaged page is lost and counted, never
// invented (RELIABILITY S4). Real files: two days of three series folded into sample_chunks, one
// leaf page of that table overwritten.
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "store/store.hpp"
#include "store_test_util.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon::store {
namespace {

namespace fs = std::filesystem;
using boxmon::test::TempDir;
using std::chrono::hours;
using std::chrono::minutes;
using test::make_tick;
using test::open_ok;
using test::options_for;
using test::t0;

constexpr int k_ticks = 48 * 60;  // two days at 60 s
constexpr int k_series = 3;

// Two days of ticks, folded into hourly chunk rows as maintenance does.
void write_history(const fs::path& db) {
    auto o = options_for(db);
    o.unsafe_no_sync = true;
    auto s = open_ok(o);
    ASSERT_TRUE(s);
    for (int i = 0; i < k_ticks; ++i) ASSERT_TRUE(s->commit_tick(make_tick(i, k_series)));
    const WallTime now = t0() + minutes(k_ticks) + hours(2);
    for (int step = 0; step < 10'000; ++step) {
        auto more = s->maintenance_step(now);
        ASSERT_TRUE(more) << more.error().message;
        if (!*more) break;
    }
}

// Every value of `store`, by (series text, Unix ms).
std::map<std::pair<std::string, std::int64_t>, double> all_values(Store& store) {
    std::map<std::pair<std::string, std::int64_t>, double> out;
    auto series = store.series();
    EXPECT_TRUE(series);
    for (const auto& si : series ? *series : std::vector<SeriesInfo>{}) {
        auto points = store.query(si.key, t0() - hours(1), t0() + minutes(k_ticks) + hours(1));
        EXPECT_TRUE(points) << points.error().message;
        for (const auto& p : points ? *points : std::vector<HistoryPoint>{})
            out[{si.key.to_string(), to_unix_ms(p.ts)}] = p.value;
    }
    return out;
}

TEST(Salvage, AnUndamagedCopyComesBackWholeAndTicksAlreadyThereAreKept) {
    TempDir dir;
    const fs::path from = dir / "boxmon.db.corrupt-20261202T000000Z";
    write_history(from);
    auto into = open_ok(options_for(dir / "boxmon.db"));
    ASSERT_TRUE(into);
    // The new database already holds the last tick, with another value: it is kept.
    auto newer = make_tick(k_ticks - 1, k_series);
    for (auto& p : newer.sample.points) p.value = -1;
    ASSERT_TRUE(into->commit_tick(newer));

    auto r = salvage(from, *into);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->series, static_cast<std::size_t>(k_series));
    EXPECT_EQ(r->values, static_cast<std::size_t>(k_ticks * k_series));
    EXPECT_EQ(r->ticks_written, static_cast<std::size_t>(k_ticks - 1));
    EXPECT_EQ(r->unreadable_hours, 0u);
    ASSERT_TRUE(r->first && r->last);
    EXPECT_EQ(*r->first, t0());
    EXPECT_EQ(*r->last, t0() + minutes(k_ticks - 1));

    const auto got = all_values(*into);
    ASSERT_EQ(got.size(), static_cast<std::size_t>(k_ticks * k_series));
    for (const auto& [key, value] : got) {
        const int i = static_cast<int>((key.second - to_unix_ms(t0())) / 60'000);
        const int k = key.first[key.first.find('"') + 1] - '0';
        EXPECT_EQ(value, i == k_ticks - 1 ? -1.0 : static_cast<double>(i + k)) << key.first << " " << i;
    }
    // A second run finds every tick there and writes none.
    auto again = salvage(from, *into);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->ticks_written, 0u);
}

TEST(Salvage, ADamagedPageLosesItsRowsAndNothingElseIsWrong) {
    TempDir dir;
    const fs::path from = dir / "boxmon.db.corrupt-20261202T000000Z";
    write_history(from);

    // The third leaf of sample_chunks and the rows on it: leaves in b-tree order (dbstat's
    // path) hold the rows in key order, so its rows are those after the cells of the leaves
    // before it.
    sqlite3* c = nullptr;
    ASSERT_EQ(sqlite3_open(from.c_str(), &c), SQLITE_OK);
    ASSERT_EQ(sqlite3_wal_checkpoint_v2(c, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr), SQLITE_OK);
    std::vector<std::pair<std::int64_t, int>> leaves;  // (page, cells)
    {
        sqlite3_stmt* s = nullptr;
        ASSERT_EQ(sqlite3_prepare_v2(c, "SELECT pageno, ncell FROM dbstat WHERE name = 'sample_chunks' AND "
                                        "pagetype = 'leaf' ORDER BY path",
                                     -1, &s, nullptr),
                  SQLITE_OK)
            << sqlite3_errmsg(c);
        while (sqlite3_step(s) == SQLITE_ROW) leaves.emplace_back(sqlite3_column_int64(s, 0), sqlite3_column_int(s, 1));
        sqlite3_finalize(s);
    }
    ASSERT_GE(leaves.size(), 5u) << "the history should span several leaves";
    int before = 0;
    for (int i = 0; i < 2; ++i) before += leaves[static_cast<std::size_t>(i)].second;
    const auto [page, cells] = leaves[2];
    std::set<std::pair<std::string, std::int64_t>> lost;  // (series, first_ts) of the rows on it
    std::size_t lost_values = 0;
    {
        sqlite3_stmt* s = nullptr;
        ASSERT_EQ(sqlite3_prepare_v2(c, "SELECT s.key, c.first_ts, c.n FROM sample_chunks c JOIN series s ON "
                                        "s.id = c.series_id ORDER BY c.series_id, c.first_ts LIMIT ?2 OFFSET ?1",
                                     -1, &s, nullptr),
                  SQLITE_OK);
        sqlite3_bind_int(s, 1, before);
        sqlite3_bind_int(s, 2, cells);
        while (sqlite3_step(s) == SQLITE_ROW) {
            lost.emplace(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), sqlite3_column_int64(s, 1));
            lost_values += static_cast<std::size_t>(sqlite3_column_int(s, 2));
        }
        sqlite3_finalize(s);
    }
    ASSERT_EQ(lost.size(), static_cast<std::size_t>(cells));
    const std::int64_t page_size = std::stoll(test::sql_text(from, "PRAGMA page_size"));
    sqlite3_close(c);
    const int fd = ::open(from.c_str(), O_WRONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    const std::string junk(static_cast<std::size_t>(page_size), '\xa5');
    ASSERT_EQ(::pwrite(fd, junk.data(), junk.size(), (page - 1) * page_size), static_cast<ssize_t>(junk.size()));
    ::close(fd);
    ASSERT_NE(test::sql_text(from, "SELECT count(*) FROM samples").rfind("ERROR", 0), std::string::npos)
        << "the damage is visible to a plain query";

    auto into = open_ok(options_for(dir / "boxmon.db"));
    ASSERT_TRUE(into);
    auto r = salvage(from, *into);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_GE(r->unreadable_hours, lost.size());
    const auto got = all_values(*into);
    EXPECT_EQ(got.size(), r->values);
    // Nothing on the damaged page came back, and no value is other than it was.
    for (const auto& [key, value] : got) {
        const int i = static_cast<int>((key.second - to_unix_ms(t0())) / 60'000);
        const int k = key.first[key.first.find('"') + 1] - '0';
        EXPECT_EQ(value, static_cast<double>(i + k)) << key.first << " " << i;
        const std::int64_t hour = key.second - key.second % 3'600'000;
        EXPECT_FALSE(lost.count({key.first, hour})) << key.first << " at " << key.second << " was on the damaged page";
    }
    // What else is lost is at most the hour on each side of a lost row, in the same series (a
    // range scan that starts or ends on the damaged page).
    const std::size_t total = static_cast<std::size_t>(k_ticks * k_series);
    EXPECT_LE(got.size(), total - lost_values);
    EXPECT_GE(got.size(), total - 3 * lost_values) << "lost " << total - got.size() << " of " << total;
}

}  // namespace
}  // namespace boxmon::store
