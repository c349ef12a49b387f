#include "core/result.hpp"

#include <gtest/gtest.h>

namespace boxmon {
namespace {

Result<int> half(int v) {
    if (v % 2 != 0) return fail_as(ErrorKind::usage, "{} is odd", v);
    return v / 2;
}

Result<int> quarter(int v) {
    BOXMON_TRY(h, half(v));
    BOXMON_TRY(q, half(h));
    return q;
}

Result<void> check_even(int v) {
    BOXMON_CHECK(half(v));
    return ok();
}

TEST(Result, carries_a_value_when_it_succeeds) {
    auto r = half(8);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(*r, 4);
    EXPECT_EQ(r.value_or(-1), 4);
}

TEST(Result, carries_the_error_message_and_kind_when_it_fails) {
    auto r = half(3);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "3 is odd");
    EXPECT_EQ(r.error().kind, ErrorKind::usage);
    EXPECT_EQ(r.value_or(-1), -1);
}

TEST(Result, try_macro_passes_the_first_error_up) {
    EXPECT_EQ(*quarter(8), 2);
    auto r = quarter(6);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "3 is odd");
}

TEST(Result, void_results_report_success_and_failure) {
    EXPECT_TRUE(check_even(4));
    auto r = check_even(5);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "5 is odd");
}

TEST(Result, fail_errno_appends_the_system_message_and_keeps_errno) {
    Result<int> r = fail_errno(ENOENT, "open {}", "/nowhere");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "open /nowhere: No such file or directory");
    EXPECT_EQ(r.error().sys_errno, ENOENT);
}

}  // namespace
}  // namespace boxmon
