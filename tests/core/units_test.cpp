#include "core/units.hpp"

#include <gtest/gtest.h>

namespace boxmon {
namespace {

using std::chrono::milliseconds;

struct DurationCase {
    const char* name;
    const char* text;
    long long ms;
};

class Durations : public testing::TestWithParam<DurationCase> {};

TEST_P(Durations, parse_to_milliseconds) {
    auto d = parse_duration(GetParam().text);
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->count(), GetParam().ms);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, Durations,
    testing::Values(DurationCase{"seconds", "90s", 90'000}, DurationCase{"minutes", "30m", 1'800'000},
                    DurationCase{"hours", "1h", 3'600'000}, DurationCase{"combined", "1h30m", 5'400'000},
                    DurationCase{"millis", "500ms", 500}, DurationCase{"days", "30d", 2'592'000'000},
                    DurationCase{"weeks", "2w", 1'209'600'000}, DurationCase{"years", "2y", 63'072'000'000},
                    DurationCase{"fraction", "1.5s", 1'500}, DurationCase{"zero", "0s", 0}),
    [](const auto& tp) { return std::string(tp.param.name); });

struct BadCase {
    const char* name;
    const char* text;
    const char* message;
};

class BadDurations : public testing::TestWithParam<BadCase> {};

TEST_P(BadDurations, are_refused_with_the_reason) {
    auto d = parse_duration(GetParam().text);
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error().message, GetParam().message);
    EXPECT_EQ(d.error().kind, ErrorKind::usage);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadDurations,
    testing::Values(
        BadCase{"empty", "", R"(invalid duration "": it is empty; write it like "90s", "30m" or "1h30m")"},
        BadCase{"no_unit", "60", R"(invalid duration "60": a unit is missing (ms, s, m, h, d, w or y); write it like "90s", "30m" or "1h30m")"},
        BadCase{"word", "sixty", R"(invalid duration "sixty": expected a number; write it like "90s", "30m" or "1h30m")"},
        BadCase{"negative", "-5m", R"(invalid duration "-5m": it is negative; write it like "90s", "30m" or "1h30m")"},
        BadCase{"unknown_unit", "5x", R"(invalid duration "5x": unknown unit "x"; write it like "90s", "30m" or "1h30m")"},
        BadCase{"too_long", "1000000y", R"(invalid duration "1000000y": it is longer than the limit of 100y; write it like "90s", "30m" or "1h30m")"},
        BadCase{"huge_number", "99999999999999999999999s", R"(invalid duration "99999999999999999999999s": it is longer than the limit of 100y; write it like "90s", "30m" or "1h30m")"}),
    [](const auto& tp) { return std::string(tp.param.name); });

TEST(Sizes, parse_binary_and_decimal_units) {
    EXPECT_EQ(*parse_size("512m"), 512ull << 20);
    EXPECT_EQ(*parse_size("2g"), 2ull << 30);
    EXPECT_EQ(*parse_size("1.5GiB"), 3ull << 29);
    EXPECT_EQ(*parse_size("10MB"), 10'000'000ull);
    EXPECT_EQ(*parse_size("4096"), 4096ull);
    EXPECT_EQ(*parse_size("24.0 GiB"), 24ull << 30);
}

TEST(Sizes, refuse_bad_text_with_the_reason) {
    auto a = parse_size("lots");
    ASSERT_FALSE(a);
    EXPECT_EQ(a.error().message, R"(invalid size "lots": expected a number; write it like "512m", "2g" or "1.5GiB")");
    auto b = parse_size("5q");
    ASSERT_FALSE(b);
    EXPECT_EQ(b.error().message, R"(invalid size "5q": unknown unit "q"; write it like "512m", "2g" or "1.5GiB")");
    EXPECT_FALSE(parse_size("99999999999t"));
}

TEST(Display, durations_read_naturally) {
    EXPECT_EQ(format_duration(milliseconds(90'000)), "1m30s");
    EXPECT_EQ(format_duration(milliseconds(3'600'000)), "1h");
    EXPECT_EQ(format_duration(milliseconds(250)), "250ms");
    EXPECT_EQ(format_duration(milliseconds(0)), "0s");
    EXPECT_EQ(format_duration(milliseconds(2'592'000'000)), "30d");
    EXPECT_EQ(format_duration(milliseconds(1'500)), "1.500s");
}

TEST(Display, durations_round_trip_through_the_parser) {
    for (long long ms : {1'000LL, 90'000LL, 5'400'000LL, 63'072'000'000LL, 86'400'000LL + 1'000}) {
        auto back = parse_duration(format_duration(milliseconds(ms)));
        ASSERT_TRUE(back) << back.error().message;
        EXPECT_EQ(back->count(), ms);
    }
}

TEST(Display, bytes_use_binary_units) {
    EXPECT_EQ(format_bytes(512), "512 B");
    EXPECT_EQ(format_bytes(1536), "1.5 KiB");
    EXPECT_EQ(format_bytes(2.0 * (1ull << 30)), "2.0 GiB");
}

}  // namespace
}  // namespace boxmon
