// The in-memory ring: per-series circular windows.

#include <gtest/gtest.h>

#include "store/ring.hpp"

namespace boxmon::store {
namespace {

const SeriesKey kCpu("cpu_percent");
const SeriesKey kMem("mem_used_percent");

WallTime at(int s) { return from_unix_seconds(1'790'000'000 + s); }

TEST(Ring, KeepsTheNewestCapacityPointsOldestFirst) {
    Ring ring(3);
    for (int i = 0; i < 5; ++i) ring.append(kCpu, at(i), i * 10.0);
    auto w = ring.window(kCpu, WallTime{});
    ASSERT_EQ(w.size(), 3u);
    EXPECT_EQ(w[0].ts, at(2));
    EXPECT_DOUBLE_EQ(w[0].value, 20);
    EXPECT_EQ(w[2].ts, at(4));
    auto last = ring.latest(kCpu);
    ASSERT_TRUE(last);
    EXPECT_DOUBLE_EQ(last->value, 40);
}

TEST(Ring, WindowStartsAtSinceAndUnknownSeriesAreEmpty) {
    Ring ring(10);
    for (int i = 0; i < 6; ++i) ring.append(kCpu, at(i), i);
    auto w = ring.window(kCpu, at(4));
    ASSERT_EQ(w.size(), 2u);
    EXPECT_EQ(w[0].ts, at(4));
    EXPECT_TRUE(ring.window(kMem, WallTime{}).empty());
    EXPECT_FALSE(ring.latest(kMem).has_value());
}

TEST(Ring, AppendsEveryPointOfASample) {
    Ring ring(4);
    Sample s;
    s.ts = at(60);
    s.add(kCpu, 1);
    s.add(kMem, 2);
    ring.append(s);
    auto keys = ring.keys();
    ASSERT_EQ(keys.size(), 2u);
    EXPECT_EQ(keys[0], kCpu);
    EXPECT_EQ(ring.latest(kMem)->ts, at(60));
}

TEST(Ring, SetCapacityKeepsTheNewestPointsInOrder) {
    Ring ring(5);
    for (int i = 0; i < 7; ++i) ring.append(kCpu, at(i), i);  // wrapped: holds 2..6
    ring.set_capacity(3);
    auto w = ring.window(kCpu, WallTime{});
    ASSERT_EQ(w.size(), 3u);
    EXPECT_DOUBLE_EQ(w[0].value, 4);
    EXPECT_DOUBLE_EQ(w[2].value, 6);
    ring.set_capacity(4);
    ring.append(kCpu, at(7), 7);
    ring.append(kCpu, at(8), 8);
    w = ring.window(kCpu, WallTime{});
    ASSERT_EQ(w.size(), 4u);
    EXPECT_DOUBLE_EQ(w[0].value, 5);
    EXPECT_DOUBLE_EQ(w[3].value, 8);
    EXPECT_EQ(ring.capacity(), 4u);
}

TEST(Ring, MemoryGrowsWithPointsAndIsBoundedByCapacity) {
    Ring ring(100);
    const std::size_t empty = ring.memory_bytes();
    for (int i = 0; i < 100; ++i) ring.append(kCpu, at(i), i);
    const std::size_t full = ring.memory_bytes();
    EXPECT_GE(full, empty + 100 * sizeof(WindowPoint));
    for (int i = 100; i < 1000; ++i) ring.append(kCpu, at(i), i);
    EXPECT_EQ(ring.memory_bytes(), full);
}

}  // namespace
}  // namespace boxmon::store
