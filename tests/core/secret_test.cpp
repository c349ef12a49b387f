#include "core/secret.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <sstream>

#include <gtest/gtest.h>

#include "tests/support/test_support.hpp"

namespace boxmon {
namespace {

using test::TempDir;
using test::write_file;

TEST(Secret, prints_as_a_mask_everywhere) {
    Secret s("hunter2-canary");
    EXPECT_EQ(fmt::format("{}", s), "<secret>");
    EXPECT_EQ(fmt::format("pw={:>10}", s), "pw=  <secret>");
    std::ostringstream out;
    out << s;
    EXPECT_EQ(out.str(), "<secret>");
    EXPECT_EQ(s.reveal(), "hunter2-canary");
}

TEST(SecretFile, a_private_file_is_read_without_its_trailing_newline) {
    TempDir d;
    write_file(d / "pw", "s3cret\n", 0600);
    auto s = read_secret_file(d / "pw");
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s->reveal(), "s3cret");
}

TEST(SecretFile, a_read_only_owner_file_is_accepted) {
    TempDir d;
    write_file(d / "pw", "s3cret", 0400);
    EXPECT_TRUE(read_secret_file(d / "pw"));
}

struct ModeCase {
    const char* name;
    unsigned mode;
};

class SecretFileModes : public testing::TestWithParam<ModeCase> {};

TEST_P(SecretFileModes, a_file_others_can_read_is_refused_with_the_fix) {
    TempDir d;
    const auto path = d / "pw";
    write_file(path, "s3cret", GetParam().mode);
    auto s = read_secret_file(path);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().kind, ErrorKind::config);
    EXPECT_NE(s.error().message.find(fmt::format("secret file {} can be read by others (mode {:04o}",
                                                 path.string(), GetParam().mode)),
              std::string::npos)
        << s.error().message;
    EXPECT_NE(s.error().message.find("run `chmod 600 " + path.string() + "`"), std::string::npos);
    EXPECT_EQ(s.error().message.find("s3cret"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Cases, SecretFileModes,
                         testing::Values(ModeCase{"world_readable", 0644}, ModeCase{"group_readable", 0640},
                                         ModeCase{"group_writable", 0620}),
                         [](const auto& tp) { return std::string(tp.param.name); });

TEST(SecretFile, a_symlink_to_a_readable_file_is_judged_by_its_target) {
    TempDir d;
    write_file(d / "target", "s3cret", 0644);
    std::filesystem::create_symlink(d / "target", d / "link");
    auto s = read_secret_file(d / "link");
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().message.find("can be read by others"), std::string::npos);
}

TEST(SecretFile, a_fifo_is_refused_without_blocking) {
    TempDir d;
    ASSERT_EQ(::mkfifo((d / "fifo").c_str(), 0600), 0);
    auto s = read_secret_file(d / "fifo");
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().message, "secret file " + (d / "fifo").string() + " is not a regular file; point to a file");
}

TEST(SecretFile, a_file_owned_by_another_user_is_refused) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a file to another user";
    TempDir d;
    write_file(d / "pw", "s3cret", 0600);
    ASSERT_EQ(::chown((d / "pw").c_str(), 65534, 65534), 0);
    auto s = read_secret_file(d / "pw");
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().message.find("belongs to another user"), std::string::npos) << s.error().message;
    EXPECT_NE(s.error().message.find("run `chown 0 "), std::string::npos) << s.error().message;
}

TEST(SecretFile, an_empty_file_is_refused) {
    TempDir d;
    write_file(d / "pw", "\n", 0600);
    auto s = read_secret_file(d / "pw");
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().message, "secret file " + (d / "pw").string() + " is empty");
}

TEST(SecretEnv, reads_a_set_variable_and_refuses_an_unset_one) {
    ::setenv("BOXMON_TEST_SECRET", "from-env", 1);
    auto s = read_secret_env("BOXMON_TEST_SECRET");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->reveal(), "from-env");
    ::unsetenv("BOXMON_TEST_SECRET");
    auto missing = read_secret_env("BOXMON_TEST_SECRET");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().message, "environment variable BOXMON_TEST_SECRET is not set or empty");
}

TEST(RedactUrl, keeps_only_scheme_and_host) {
    EXPECT_EQ(redact_url("https://hooks.slack.com/services/T000/B000/XXXX"), "https://hooks.slack.com");
    EXPECT_EQ(redact_url("https://user:pw@example.org:8443/path?token=abc"), "https://example.org:8443");
    EXPECT_EQ(redact_url("smtp://mail.example.org:587"), "smtp://mail.example.org:587");
    EXPECT_EQ(redact_url("http://[::1]:9093/api/v2/alerts"), "http://[::1]:9093");
    EXPECT_EQ(redact_url("not a url with secret"), "<redacted>");
}

}  // namespace
}  // namespace boxmon
