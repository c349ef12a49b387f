#include "core/redact.hpp"

#include <gtest/gtest.h>

#include <string>

namespace boxmon {
namespace {

struct RedactCase {
    const char* name;
    const char* input;
    const char* expected;
};

class BuiltinRedaction : public ::testing::TestWithParam<RedactCase> {};

TEST_P(BuiltinRedaction, masks_the_secret_and_keeps_the_rest) {
    const Redactor r;
    EXPECT_EQ(r.redact(GetParam().input), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BuiltinRedaction,
    ::testing::Values(
        RedactCase{"plain", "GET /v1/chat 200 12ms", "GET /v1/chat 200 12ms"},
        RedactCase{"authorization_header", "Authorization: Basic dXNlcjpwYXNz",
                   "Authorization: [REDACTED]"},
        RedactCase{"bearer", "upstream sent bearer abc.DEF-123 to 10.0.0.2",
                   "upstream sent bearer [REDACTED] to 10.0.0.2"},
        RedactCase{"password_kv", "login password=hunter2 user=bob", "login password=[REDACTED] user=bob"},
        RedactCase{"json_token", R"({"token": "s3cr3t", "n": 1})", R"({"token": [REDACTED], "n": 1})"},
        RedactCase{"api_key_mixed_case", "API_KEY: xyz123", "API_KEY: [REDACTED]"},
        RedactCase{"openai_key", "key sk-abcdefghijklmnopqrstuvwx used", "key [REDACTED] used"},
        RedactCase{"aws_key", "id AKIAABCDEFGHIJKLMNOP ok", "id [REDACTED] ok"},
        RedactCase{"jwt", "jwt eyJhbGciOi.eyJzdWIiOiIx.SflKxwRJSMeKKF2QT4",
                   "jwt [REDACTED]"},
        RedactCase{"url_userinfo", "fetching https://bob:pw@example.org/x",
                   "fetching https://[REDACTED]@example.org/x"},
        RedactCase{"private_key", "-----BEGIN RSA PRIVATE KEY-----", "[REDACTED]"},
        RedactCase{"two_secrets", "password=a token=b", "password=[REDACTED] token=[REDACTED]"}),
    [](const ::testing::TestParamInfo<RedactCase>& tp) { return std::string(tp.param.name); });

TEST(Redactor, applies_configured_patterns_after_the_builtins) {
    auto r = Redactor::with_patterns({"customer-[0-9]+"});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->redact("order for customer-4411 failed"), "order for [REDACTED] failed");
}

TEST(Redactor, refuses_a_bad_pattern_naming_it) {
    auto r = Redactor::with_patterns({"token=[a-z"});
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("token=[a-z"), std::string::npos) << r.error().message;
}

TEST(Redactor, an_empty_match_pattern_does_not_loop) {
    auto r = Redactor::with_patterns({"x*"});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->redact("abc"), "abc");
    EXPECT_EQ(r->redact("axxb"), "a[REDACTED]b");
}

TEST(Redactor, a_secret_behind_a_nul_byte_is_still_masked) {
    const Redactor r;
    const std::string line = std::string("x\0y password=p", 14);
    EXPECT_EQ(r.redact(line), "x y password=[REDACTED]");
}

TEST(Redactor, a_long_line_is_handled) {
    const Redactor r;
    std::string line(64 * 1024, 'a');
    line += " token=zzz";
    const auto out = r.redact(line);
    EXPECT_EQ(out.substr(out.size() - 16), "token=[REDACTED]");
}

}  // namespace
}  // namespace boxmon
