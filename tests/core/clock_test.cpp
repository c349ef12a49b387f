#include "core/clock.hpp"

#include <cstdlib>

#include <gtest/gtest.h>

namespace boxmon {
namespace {

using namespace std::chrono_literals;

TEST(FakeClock, advance_moves_all_three_clocks) {
    FakeClock c;
    const auto before = c.now();
    c.advance(60s);
    const auto after = c.now();
    EXPECT_EQ(after.wall - before.wall, 60s);
    EXPECT_EQ(after.monotonic - before.monotonic, 60s);
    EXPECT_EQ(after.boottime - before.boottime, 60s);
}

TEST(FakeClock, a_wall_step_moves_only_the_wall_clock) {
    FakeClock c;
    const auto before = c.now();
    c.step_wall(-1h);
    const auto after = c.now();
    EXPECT_EQ(after.wall - before.wall, -1h);
    EXPECT_EQ(after.monotonic, before.monotonic);
    EXPECT_EQ(after.boottime, before.boottime);
}

TEST(FakeClock, suspend_stops_monotonic_but_not_boottime) {
    FakeClock c;
    const auto before = c.now();
    c.suspend(2h);
    const auto after = c.now();
    EXPECT_EQ(after.monotonic, before.monotonic);
    EXPECT_EQ(after.boottime - before.boottime, 2h);
    EXPECT_EQ(after.wall - before.wall, 2h);
}

TEST(SystemClock, boottime_is_never_behind_monotonic) {
    const auto& c = SystemClock::instance();
    const auto m = c.monotonic();
    const auto b = c.boottime();
    EXPECT_GE(b + 1ms, m);
    EXPECT_GT(c.wall().time_since_epoch().count(), 1'600'000'000'000LL);
}

TEST(Iso8601, formats_and_parses_utc) {
    const WallTime t = from_unix_seconds(1'700'000'040);
    EXPECT_EQ(format_iso8601(t), "2023-11-14T22:14:00Z");
    EXPECT_EQ(format_iso8601_ms(t + 250ms), "2023-11-14T22:14:00.250Z");
    EXPECT_EQ(*parse_iso8601("2023-11-14T22:14:00Z"), t);
    EXPECT_EQ(*parse_iso8601("2023-11-14T23:14:00+01:00"), t);
    EXPECT_EQ(*parse_iso8601("2023-11-14T22:14:00.250Z"), t + 250ms);
}

TEST(Iso8601, refuses_other_text) {
    auto r = parse_iso8601("yesterday");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message,
              R"(invalid time "yesterday"; expected ISO 8601 UTC such as 2026-11-23T12:03:00Z)");
}

TEST(LocalTime, follows_TZ) {
    const char* before = std::getenv("TZ");
    const std::string saved = before ? before : "";
    ::setenv("TZ", "Asia/Tokyo", 1);  // UTC+9, no daylight saving
    EXPECT_EQ(format_local(from_unix_seconds(1'795'435'389), "%Y-%m-%d %H:%M:%S %Z"), "2026-11-23 21:03:09 JST");
    ::setenv("TZ", "UTC", 1);
    EXPECT_EQ(format_local(from_unix_seconds(1'795'435'389), "%H:%M"), "12:03");
    if (before)
        ::setenv("TZ", saved.c_str(), 1);
    else
        ::unsetenv("TZ");
    ::tzset();
}

TEST(LocalTime, formats_with_the_requested_pattern) {
    const std::string s = format_local(from_unix_seconds(1'700'000'040), "%Y%m%d-%H%M%S");
    ASSERT_EQ(s.size(), 15u);
    EXPECT_EQ(s.substr(0, 6), "202311");
}

}  // namespace
}  // namespace boxmon
