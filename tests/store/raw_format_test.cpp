// The raw sample layout of schema version 2 without SQLite: packing a series' points into
// fixed-slot chunk rows, the JSON object of one tick, and bucketing.

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "store/raw_format.hpp"

namespace boxmon::store::detail {
namespace {

constexpr std::int64_t k_base = 1'790'000'040'000;  // a minute boundary, ms

std::vector<RawPoint> every_minute(int n, std::int64_t from = k_base, double v0 = 1) {
    std::vector<RawPoint> out;
    for (int i = 0; i < n; ++i) out.push_back({from + i * 60'000, v0 + i});
    return out;
}

std::vector<RawPoint> unpack(const std::vector<Chunk>& rows) {
    std::vector<RawPoint> out;
    for (const Chunk& c : rows) c.for_each([&](const RawPoint& p) { out.push_back(p); });
    return out;
}

TEST(RawFormat, RegularMinutesFillRowsOfSixtySlots) {
    const auto points = every_minute(150);
    const Packed p = pack_points(std::nullopt, points);
    ASSERT_EQ(p.rows.size(), 3u);
    EXPECT_FALSE(p.last_changed);
    EXPECT_EQ(p.rows[0].first_ts, k_base);
    EXPECT_EQ(p.rows[0].step_ms, 60'000);
    EXPECT_EQ(p.rows[0].used, 60);
    EXPECT_EQ(p.rows[1].first_ts, k_base + 60 * 60'000);
    EXPECT_EQ(p.rows[2].used, 30);
    EXPECT_EQ(p.rows[2].count, 30);
    EXPECT_EQ(unpack(p.rows), points);
}

TEST(RawFormat, MissedTicksBecomeHolesNotNewRows) {
    std::vector<RawPoint> points = every_minute(10);
    points.erase(points.begin() + 8);                      // minute 8 missing
    points.erase(points.begin() + 3, points.begin() + 6);  // and minutes 3, 4, 5
    const Packed p = pack_points(std::nullopt, points);
    ASSERT_EQ(p.rows.size(), 1u);
    EXPECT_EQ(p.rows[0].step_ms, 60'000) << "the second point sets the step of a new series";
    EXPECT_EQ(p.rows[0].used, 10);
    EXPECT_EQ(p.rows[0].count, 6);
    EXPECT_TRUE(std::isnan(p.rows[0].slots[4]));
    EXPECT_EQ(unpack(p.rows), points);
}

TEST(RawFormat, ARowOfOnePointTakesThePreviousStepWhenTheNextPointIsOnItsGrid) {
    Chunk last;
    last.first_ts = k_base;
    last.step_ms = 60'000;
    for (int i = 0; i < 60; ++i) last.slots[static_cast<std::size_t>(i)] = i;
    last.used = last.count = 60;
    // The next row starts at minute 60; minute 61 is missing.
    std::vector<RawPoint> points{{k_base + 60 * 60'000, 1}, {k_base + 62 * 60'000, 2}, {k_base + 63 * 60'000, 3}};
    const Packed p = pack_points(last, points);
    ASSERT_EQ(p.rows.size(), 1u);
    EXPECT_FALSE(p.last_changed) << "a full row takes nothing more";
    EXPECT_EQ(p.rows[0].step_ms, 60'000);
    EXPECT_EQ(p.rows[0].used, 4);
    EXPECT_EQ(p.rows[0].count, 3);
    EXPECT_EQ(unpack(p.rows), points);
}

TEST(RawFormat, PointsAfterAPartialRowExtendItAndSaySo) {
    const auto first = every_minute(20);
    Packed a = pack_points(std::nullopt, first);
    ASSERT_EQ(a.rows.size(), 1u);
    const auto more = every_minute(50, k_base + 20 * 60'000, 100);
    Packed b = pack_points(a.rows[0], more);
    ASSERT_EQ(b.rows.size(), 2u);
    EXPECT_TRUE(b.last_changed);
    EXPECT_EQ(b.rows[0].first_ts, k_base);
    EXPECT_EQ(b.rows[0].used, 60);
    EXPECT_EQ(b.rows[1].used, 10);
    std::vector<RawPoint> all = first;
    all.insert(all.end(), more.begin(), more.end());
    EXPECT_EQ(unpack(b.rows), all);
}

TEST(RawFormat, OffGridPointsGapsOverAnHourAndLongSpansStartNewRows) {
    std::vector<RawPoint> points{
        {k_base, 1},
        {k_base + 60'000, 2},
        {k_base + 90'001, 3},                   // off the 60 s grid
        {k_base + 90'001 + 2 * 3'600'000, 4},   // two hours later: no step that wide
        {k_base + 90'001 + 3 * 3'600'000, 5},   // one hour after that: step 1 h
    };
    for (int i = 1; i <= 8; ++i) points.push_back({k_base + 90'001 + (3 + i) * 3'600'000LL, 5.0 + i});
    const Packed p = pack_points(std::nullopt, points);
    EXPECT_EQ(unpack(p.rows), points);
    for (const Chunk& c : p.rows) {
        EXPECT_LE(c.last_ts() - c.first_ts, k_max_chunk_span_ms);
        EXPECT_LE(c.step_ms, k_max_chunk_step_ms);
    }
    ASSERT_GE(p.rows.size(), 4u);
    EXPECT_EQ(p.rows[0].count, 2);
    EXPECT_EQ(p.rows[1].count, 1);
    EXPECT_EQ(p.rows[2].step_ms, 3'600'000);
    EXPECT_EQ(p.rows[2].count, 7) << "an hourly row spans at most 6 hours";
}

TEST(RawFormat, RandomPointsAlwaysUnpackToThemselves) {
    std::mt19937_64 rng(7);
    for (int round = 0; round < 200; ++round) {
        std::vector<RawPoint> points;
        std::int64_t ts = k_base;
        const int n = static_cast<int>(rng() % 300) + 1;
        for (int i = 0; i < n; ++i) {
            const std::int64_t gaps[] = {60'000, 60'000, 60'000, 120'000, 1'000, 7'000, 3'600'000, 86'400'000};
            ts += gaps[rng() % 8] + (rng() % 10 == 0 ? static_cast<std::int64_t>(rng() % 1000) : 0);
            std::uint64_t bits = rng();
            double v = 0;
            std::memcpy(&v, &bits, sizeof v);
            if (!std::isfinite(v)) v = static_cast<double>(i);
            points.push_back({ts, v});
        }
        const std::size_t split = static_cast<std::size_t>(rng() % points.size());
        Packed a = pack_points(std::nullopt, std::span(points).first(split));
        std::vector<Chunk> rows = a.rows;
        std::optional<Chunk> last;
        if (!rows.empty()) {
            last = rows.back();
            rows.pop_back();
        }
        Packed b = pack_points(last, std::span(points).subspan(split));
        if (last && !b.last_changed) rows.push_back(*last);
        rows.insert(rows.end(), b.rows.begin(), b.rows.end());
        ASSERT_EQ(unpack(rows), points) << "round " << round;
        for (std::size_t i = 1; i < rows.size(); ++i)
            ASSERT_LT(rows[i - 1].last_ts(), rows[i].first_ts) << "rows never overlap";
    }
}

TEST(RawFormat, TickValuesRoundTripExactly) {
    std::vector<std::pair<std::int64_t, double>> values{
        {1, 0.1}, {2, 1.0 / 3}, {3, 8e9}, {17, -2.5e-300}, {18, 5e-324}, {123456, 1.7976931348623157e308},
        {7, 47.382719283741234}, {8, -0.0}, {9, 123456789012345678.0}};
    const std::string json = encode_tick_values(values);
    EXPECT_EQ(json.substr(0, 18), "{\"1\":0.1,\"2\":0.333");
    auto back = decode_tick_values(json);
    ASSERT_TRUE(back) << back.error().message;
    ASSERT_EQ(back->size(), values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
        EXPECT_EQ((*back)[i].first, values[i].first);
        EXPECT_EQ(std::memcmp(&(*back)[i].second, &values[i].second, sizeof(double)), 0) << json;
        auto one = find_tick_value(json, values[i].first);
        ASSERT_TRUE(one.has_value()) << values[i].first;
        EXPECT_EQ(*one, values[i].second);
    }
    EXPECT_FALSE(find_tick_value(json, 12).has_value()) << "\"12\" is not a prefix match of 123456";
    EXPECT_FALSE(find_tick_value(json, 4).has_value());
    EXPECT_EQ(encode_tick_values({}), "{}");
    auto empty = decode_tick_values("{}");
    ASSERT_TRUE(empty);
    EXPECT_TRUE(empty->empty());
}

TEST(RawFormat, MalformedTickValuesAreAnErrorNamingTheOffset) {
    for (const char* bad : {"", "{", "{\"1\":}", "{\"x\":1}", "{\"1\":1,}", "{\"1\":1} ", "[1]",
                            "{\"1\":nan}", "{\"1\":1\"2\":2}"}) {
        auto r = decode_tick_values(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_NE(r.error().message.find("malformed tick values at byte"), std::string::npos) << bad;
    }
}

TEST(RawFormat, BucketsAccumulateMinAvgMaxCountInTimeOrder) {
    const std::vector<RawPoint> points{{0, 4}, {60'000, 1}, {240'000, 7}, {300'000, 2}, {-1, 9}};
    std::vector<RawPoint> sorted = points;
    std::sort(sorted.begin(), sorted.end(), [](auto& a, auto& b) { return a.ts < b.ts; });
    const auto b = bucketize(sorted, 300'000);
    ASSERT_EQ(b.size(), 3u);
    EXPECT_EQ(b[0].start, -300'000) << "floor, not truncation, for negative times";
    EXPECT_EQ(b[1].start, 0);
    EXPECT_EQ(b[1].count, 3);
    EXPECT_EQ(b[1].min, 1);
    EXPECT_EQ(b[1].max, 7);
    EXPECT_EQ(b[1].avg(), 4);
    EXPECT_EQ(b[2].count, 1);
}

}  // namespace
}  // namespace boxmon::store::detail
