#include "core/series.hpp"

#include <gtest/gtest.h>

namespace boxmon {
namespace {

TEST(SeriesKey, sorts_labels_by_name_and_prints_the_prometheus_form) {
    SeriesKey k("disk_used_percent", {{"mount", "/"}, {"device", "vda"}});
    EXPECT_EQ(k.to_string(), R"(disk_used_percent{device="vda",mount="/"})");
    ASSERT_NE(k.label("mount"), nullptr);
    EXPECT_EQ(*k.label("mount"), "/");
    EXPECT_EQ(k.label("gpu"), nullptr);
}

TEST(SeriesKey, a_key_without_labels_is_just_the_name) {
    EXPECT_EQ(SeriesKey("cpu_percent").to_string(), "cpu_percent");
}

TEST(SeriesKey, escapes_quotes_backslashes_and_newlines_in_values) {
    SeriesKey k("service_up", {{"service", "a\"b\\c\nd"}});
    EXPECT_EQ(k.to_string(), R"(service_up{service="a\"b\\c\nd"})");
    auto back = SeriesKey::parse(k.to_string());
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(*back, k);
}

TEST(SeriesKey, a_repeated_label_keeps_the_last_value) {
    SeriesKey k("x", {{"a", "1"}, {"a", "2"}});
    ASSERT_EQ(k.labels().size(), 1u);
    EXPECT_EQ(k.labels()[0].value, "2");
}

TEST(SeriesKey, parses_its_own_text_form) {
    for (const char* text : {"cpu_percent", R"(net_rx_bytes_per_second{iface="eth0"})",
                             R"(gpu_util_percent{gpu="0",name="NVIDIA H100"})", "x{}"}) {
        auto k = SeriesKey::parse(text);
        ASSERT_TRUE(k) << text << ": " << k.error().message;
        EXPECT_EQ(SeriesKey::parse(k->to_string()).value(), *k) << text;
    }
}

struct BadKey {
    const char* name;
    const char* text;
    const char* message;
};

class SeriesKeyParseErrors : public testing::TestWithParam<BadKey> {};

TEST_P(SeriesKeyParseErrors, say_what_is_wrong_and_where) {
    auto k = SeriesKey::parse(GetParam().text);
    ASSERT_FALSE(k);
    EXPECT_EQ(k.error().message, GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, SeriesKeyParseErrors,
    testing::Values(
        BadKey{"empty", "", R"(invalid series "" at offset 0: a series starts with a metric name)"},
        BadKey{"digit_start", "1abc", R"(invalid series "1abc" at offset 0: a series starts with a metric name)"},
        BadKey{"unterminated_value", R"(a{b="c)", R"(invalid series "a{b="c" at offset 6: unterminated label value)"},
        BadKey{"missing_equals", "a{b}", R"(invalid series "a{b}" at offset 3: expected '=')"},
        BadKey{"trailing_text", R"(a{b="c"}x)", R"(invalid series "a{b="c"}x" at offset 8: unexpected text after '}')"},
        BadKey{"bad_escape", R"(a{b="\t"})", R"(invalid series "a{b="\t"}" at offset 7: unknown escape)"}),
    [](const auto& tp) { return std::string(tp.param.name); });

TEST(SeriesKey, hash_agrees_with_equality) {
    SeriesKeyHash h;
    EXPECT_EQ(h(SeriesKey("a", {{"x", "1"}, {"y", "2"}})), h(SeriesKey("a", {{"y", "2"}, {"x", "1"}})));
    EXPECT_NE(h(SeriesKey("a", {{"x", "1"}})), h(SeriesKey("a", {{"x", "2"}})));
}

}  // namespace
}  // namespace boxmon
