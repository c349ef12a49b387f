#include "agent/oneshot.hpp"
#include "agent/scheduler.hpp"

#include <gtest/gtest.h>

namespace boxmon::agent {
namespace {

using namespace std::chrono_literals;

WallTime at(std::int64_t ms) { return WallTime(std::chrono::milliseconds(ms)); }

TEST(OneShotStamp, rounds_to_the_nearest_boundary) {
    EXPECT_EQ(one_shot_stamp(at(120'000), 60s), at(120'000));
    EXPECT_EQ(one_shot_stamp(at(120'400), 60s), at(120'000));  // a timer a little late
    EXPECT_EQ(one_shot_stamp(at(179'900), 60s), at(180'000));  // a little early
    EXPECT_EQ(one_shot_stamp(at(149'999), 60s), at(120'000));
    EXPECT_EQ(one_shot_stamp(at(150'000), 60s), at(180'000));
    EXPECT_EQ(one_shot_stamp(at(10'300), 1s), at(10'000));
}

TEST(NextTick, lands_on_wall_clock_multiples_of_the_interval) {
    const auto n = next_tick(at(125'500), 60s);
    EXPECT_EQ(n.boundary, at(180'000));
    EXPECT_EQ(n.delay, std::chrono::duration_cast<Nanos>(54'500ms));
}

TEST(TickStamper, never_repeats_a_timestamp_when_the_wall_clock_steps_back) {
    TickStamper s(60s);
    const auto a = s.stamp(at(600'000), Nanos(std::chrono::seconds(100)));
    EXPECT_EQ(a.ts, at(600'000));
    // the wall clock went back ten minutes; boot time moved on by one interval
    const auto b = s.stamp(at(60'000), Nanos(std::chrono::seconds(160)));
    EXPECT_GT(b.ts, a.ts);
    EXPECT_TRUE(b.held);
    ASSERT_TRUE(b.gap);
    EXPECT_EQ(*b.gap, Nanos(std::chrono::seconds(60)));
}

TEST(TickStamper, a_suspend_shows_as_a_gap_in_boot_time) {
    TickStamper s(60s);
    (void)s.stamp(at(600'000), Nanos(std::chrono::seconds(100)));
    const auto b = s.stamp(at(4'200'000), Nanos(std::chrono::seconds(3700)));
    ASSERT_TRUE(b.gap);
    EXPECT_GT(*b.gap, Nanos(std::chrono::seconds(120)));
    EXPECT_EQ(b.ts, at(4'200'000));  // one tick after the resume, not sixty catch-up ticks
    EXPECT_FALSE(b.wall_jump) << "a suspend moves both clocks: not a clock step";
}

TEST(TickStamper, a_forward_step_of_the_wall_clock_is_flagged_once_with_its_size_and_no_gap) {
    TickStamper s(60s);
    (void)s.stamp(at(600'000), Nanos(std::chrono::seconds(100)));
    // Two hours later on the wall, one interval later on boot time (plus scheduling jitter).
    const auto b = s.stamp(at(600'000 + 7'260'000), Nanos(std::chrono::milliseconds(160'400)));
    ASSERT_TRUE(b.wall_jump);
    EXPECT_EQ(*b.wall_jump, Nanos(std::chrono::milliseconds(7'260'000 - 60'400)));
    ASSERT_TRUE(b.gap);
    EXPECT_EQ(*b.gap, Nanos(std::chrono::milliseconds(60'400))) << "boot time, not the wall, says one interval";
    EXPECT_EQ(b.ts, at(600'000 + 7'260'000)) << "timestamps follow the wall clock forward";
    const auto c = s.stamp(at(600'000 + 7'320'000), Nanos(std::chrono::milliseconds(220'100)));
    EXPECT_FALSE(c.wall_jump) << "said once, at the step";
    // Ordinary ticks, a little late or early on the wall, are never a step.
    const auto d = s.stamp(at(600'000 + 7'440'000), Nanos(std::chrono::milliseconds(279'000)));
    EXPECT_FALSE(d.wall_jump);
}

}  // namespace
}  // namespace boxmon::agent
