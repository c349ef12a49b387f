// The sendmail channel against a fake MTA that records its argv and stdin and exits as scripted
// (RELIABILITY D11, X5), and one that reads only part of it.

#include <gtest/gtest.h>

#include <filesystem>

#include "alerting/channel.hpp"
#include "tests/alerting/channel_fixtures.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon::alerting {
namespace {

using Kind = SendOutcome::Kind;

class SendmailChannelTest : public ::testing::Test {
protected:
    // A fake sendmail that writes its arguments one per line and its stdin, then runs `tail`.
    std::unique_ptr<Channel> channel(const std::string& tail, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        const auto script = m_dir / "sendmail";
        test::write_file(script,
                         "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > " + (m_dir / "argv").string() +
                             "\ncat > " + (m_dir / "stdin").string() + "\n" + tail + "\n",
                         0755);
        ChannelConfig c;
        c.name = "mta";
        c.type = ChannelType::sendmail;
        c.sendmail_path = script;
        c.from = "boxmon@example.org";
        c.to = {"ops@example.org"};
        c.timeout = timeout;
        auto made = make_channel(c, Config{});
        EXPECT_TRUE(made) << made.error().message;
        return made ? std::move(made).value() : nullptr;
    }
    std::string argv() const { return test::read_file(m_dir / "argv"); }
    std::string stdin_text() const { return test::read_file(m_dir / "stdin"); }
    test::TempDir m_dir;
};

TEST_F(SendmailChannelTest, exit_0_delivers_with_fixed_argv_and_the_message_on_stdin) {
    Notification n = test::cpu_notification();
    n.host = "web1; touch /tmp/boxmon-pwned-$(id -u)";
    const SendOutcome out = channel("exit 0")->send(n, {});
    EXPECT_EQ(out.kind, Kind::delivered) << out.detail;
    EXPECT_EQ(argv(), "-t\n-oi\n-f\nboxmon@example.org\n");
    const std::string in = stdin_text();
    EXPECT_NE(in.find("To: ops@example.org\n"), std::string::npos) << in;
    EXPECT_EQ(in.find('\r'), std::string::npos) << "sendmail takes local line endings";
    EXPECT_FALSE(std::filesystem::exists("/tmp/boxmon-pwned-0"));
}

TEST_F(SendmailChannelTest, ex_tempfail_is_retried) {
    const SendOutcome out = channel("echo 'queue full' >&2; exit 75")->send(test::cpu_notification(), {});
    EXPECT_EQ(out.kind, Kind::retry) << out.detail;
    EXPECT_NE(out.detail.find("exited with 75: queue full"), std::string::npos) << out.detail;
}

TEST_F(SendmailChannelTest, ex_nouser_is_dead) {
    const SendOutcome out = channel("exit 67")->send(test::cpu_notification(), {});
    EXPECT_EQ(out.kind, Kind::dead) << out.detail;
    EXPECT_NE(out.detail.find("exited with 67 (permanent failure)"), std::string::npos) << out.detail;
}

TEST_F(SendmailChannelTest, a_hanging_mta_is_killed_and_retried) {
    const auto start = std::chrono::steady_clock::now();
    const SendOutcome out = channel("sleep 30", std::chrono::seconds(1))->send(test::cpu_notification(), {});
    EXPECT_EQ(out.kind, Kind::retry) << out.detail;
    EXPECT_NE(out.detail.find("was killed"), std::string::npos) << out.detail;
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

// RELIABILITY D11: an MTA that reads part of the message and exits 0 has accepted it (sendmail's
// contract); boxmon delivers it, survives the broken pipe, and warns once.
TEST_F(SendmailChannelTest, exit_0_after_reading_part_of_the_message_is_delivered_with_a_warning) {
    test::LogCapture logs;
    // The huge notification's mail (about 1 MiB) is far more than a pipe holds.
    const SendOutcome out = channel("exit 0")->send(test::huge_notification(), {});
    EXPECT_EQ(out.kind, Kind::delivered) << out.detail;
    EXPECT_EQ(out.detail.find("without reading all of it"), std::string::npos) << "cat read it all: " << out.detail;

    const auto script = m_dir / "half-sendmail";
    test::write_file(script, "#!/bin/sh\nhead -c 4096 > " + (m_dir / "stdin").string() + "\nexit 0\n", 0755);
    ChannelConfig c;
    c.name = "mta";
    c.type = ChannelType::sendmail;
    c.sendmail_path = script;
    c.from = "boxmon@example.org";
    c.to = {"ops@example.org"};
    auto half = make_channel(c, Config{});
    ASSERT_TRUE(half) << half.error().message;
    const SendOutcome cut = (*half)->send(test::huge_notification(), {});
    EXPECT_EQ(cut.kind, Kind::delivered) << cut.detail;
    EXPECT_NE(cut.detail.find("accepted the message without reading all of it"), std::string::npos) << cut.detail;
    EXPECT_EQ(stdin_text().size(), 4096u);
    EXPECT_NE(logs.text().find("exited 0 without reading the whole message (notification inc-0001#1)"),
              std::string::npos)
        << logs.text();
}

TEST_F(SendmailChannelTest, a_missing_program_is_dead_and_says_what_to_do) {
    ChannelConfig c;
    c.name = "mta";
    c.type = ChannelType::sendmail;
    c.sendmail_path = m_dir / "no-such-sendmail";
    c.from = "boxmon@example.org";
    c.to = {"ops@example.org"};
    auto ch = make_channel(c, Config{});
    ASSERT_TRUE(ch) << ch.error().message;
    const SendOutcome out = (*ch)->send(test::cpu_notification(), {});
    EXPECT_EQ(out.kind, Kind::dead) << out.detail;
    EXPECT_NE(out.detail.find("install an MTA or set sendmail_path"), std::string::npos) << out.detail;
}

}  // namespace
}  // namespace boxmon::alerting
