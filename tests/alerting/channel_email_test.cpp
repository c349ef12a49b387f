// The smtp channel against a real aiosmtpd server with STARTTLS and AUTH under the test CA
// (RELIABILITY D1, D2, D3, D4, B8, X2): classification by reply code, one message per alert whose
// decoded body is the intended text, a stalled server bounded by the timeout, no password in any
// outcome.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "alerting/channel.hpp"
#include "alerting/channels/channel_kit.hpp"
#include "alerting/channels/message.hpp"
#include "alerting/channels/render.hpp"
#include "tests/alerting/channel_fixtures.hpp"
#include "tests/servers/smtp_server.hpp"
#include "tests/servers/test_pki.hpp"

namespace boxmon::alerting {
namespace {

using Kind = SendOutcome::Kind;
constexpr const char* k_canary = "CANARY-mail-pw-2718";

std::string base64_decode(std::string_view in) {
    static const std::string chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    unsigned buf = 0;
    int bits = 0;
    for (char c : in) {
        const auto pos = chars.find(c);
        if (pos == std::string::npos) continue;
        buf = (buf << 6) | static_cast<unsigned>(pos);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((buf >> bits) & 0xff));
        }
    }
    return out;
}

class EmailChannelTest : public ::testing::Test {
protected:
    void SetUp() override {
        m_pki = test::TestPki::get();
        if (m_pki == nullptr) GTEST_SKIP() << "python3-trustme could not make the test CA";
    }
    std::vector<std::string> server_args(std::vector<std::string> extra = {}) const {
        std::vector<std::string> a = {"--cert", m_pki->cert("server").string(), "--key", m_pki->key("server").string(),
                                      "--auth", std::string("alerts:") + k_canary};
        a.insert(a.end(), extra.begin(), extra.end());
        return a;
    }
    std::unique_ptr<Channel> channel(const test::SmtpServer& s, const std::string& password = k_canary) const {
        ChannelConfig c;
        c.name = "mail";
        c.type = ChannelType::smtp;
        c.url.source = SecretRef::Source::inline_value;
        c.url.value = Secret(s.url());
        c.ca_file = m_pki->ca();
        c.from = "boxmon@example.org";
        c.to = {"ops@example.org", "oncall@example.org"};
        c.username = "alerts";
        c.password.source = SecretRef::Source::file;
        c.password.value = Secret(password);
        c.connect_timeout = std::chrono::seconds(5);
        c.timeout = std::chrono::seconds(10);
        auto made = make_channel(c, Config{});
        EXPECT_TRUE(made) << made.error().message;
        return made ? std::move(made).value() : nullptr;
    }
    const test::TestPki* m_pki = nullptr;
};

TEST_F(EmailChannelTest, delivers_exactly_one_message_whose_body_is_the_intended_text) {
    test::SmtpServer server(server_args());
    ASSERT_TRUE(server.ready()) << server.why();
    auto ch = channel(server);
    Notification n = test::cpu_notification();
    n.tails[0].lines = {"a\n.\nb", "c\r\n.\r\nMAIL FROM:<x@y>\r\n", "d\n.\r\n", std::string(5000, 'x'), "From me",
                        "é€ \xff"};
    test::LogCapture logs;
    const SendOutcome out = ch->send(n, {});
    ASSERT_EQ(out.kind, Kind::delivered) << out.detail;
    EXPECT_NE(out.detail.find("accepted the message for 2 recipient(s) (reply 250)"), std::string::npos) << out.detail;
    const auto messages = server.messages();
    ASSERT_EQ(messages.size(), 1u) << server.commands();
    const std::string& m = messages[0];
    EXPECT_NE(m.find("Subject: [CRITICAL] cpu_percent 97.1% > 90% for 3 samples on web1"), std::string::npos) << m;
    const auto split = m.find("\r\n\r\n");
    ASSERT_NE(split, std::string::npos);
    EXPECT_EQ(base64_decode(m.substr(split + 4)), detail::normalize_crlf(render_body(n)));
    EXPECT_EQ(out.detail.find(k_canary), std::string::npos);
    EXPECT_EQ(logs.text().find(k_canary), std::string::npos);
    EXPECT_EQ(m.find(k_canary), std::string::npos);
}

TEST_F(EmailChannelTest, a_temporary_refusal_is_retried) {
    test::SmtpServer server(server_args({"--rcpt-reply", "451 4.3.0 try later"}));
    ASSERT_TRUE(server.ready()) << server.why();
    const SendOutcome out = channel(server)->send(test::cpu_notification(), {});
    EXPECT_EQ(out.kind, Kind::retry) << out.detail;
    EXPECT_NE(out.detail.find("451"), std::string::npos) << out.detail;
}

TEST_F(EmailChannelTest, a_permanent_refusal_is_dead_with_the_code) {
    test::SmtpServer server(server_args({"--data-reply", "554 5.7.1 rejected"}));
    ASSERT_TRUE(server.ready()) << server.why();
    const SendOutcome out = channel(server)->send(test::cpu_notification(), {});
    EXPECT_EQ(out.kind, Kind::dead) << out.detail;
    EXPECT_NE(out.detail.find("554"), std::string::npos) << out.detail;
    EXPECT_TRUE(server.messages().empty());
}

// RELIABILITY D2: the outcome by reply code, over the whole range (like Alertmanager's
// TestWebhookRetry for HTTP).
TEST(ClassifySmtp, replies_4xx_retry_5xx_are_dead_and_no_reply_goes_by_the_transfer_error) {
    for (long code = 200; code < 600; ++code) {
        net::SmtpResult r;
        r.code = code;
        r.error = Error{fmt::format("SMTP smtp://mx:25: refused (last SMTP reply {})", code), ErrorKind::runtime, 0};
        const SendOutcome out = detail::classify_smtp(r);
        const Kind expected = code >= 500 ? Kind::dead : Kind::retry;
        EXPECT_EQ(out.kind, expected) << code;
        EXPECT_NE(out.detail.find(std::to_string(code)), std::string::npos) << out.detail;
    }
    net::SmtpResult ok;
    ok.delivered = true;
    ok.code = 250;
    EXPECT_EQ(detail::classify_smtp(ok).kind, Kind::delivered);
    net::SmtpResult timeout;
    timeout.error = Error{"SMTP smtp://mx:25: timed out", ErrorKind::timeout, 0};
    EXPECT_EQ(detail::classify_smtp(timeout).kind, Kind::retry);
    net::SmtpResult stripped;
    stripped.code = 250;  // EHLO answered, without STARTTLS
    stripped.error = Error{"SMTP smtp://mx:25: server did not offer STARTTLS", ErrorKind::config, 0};
    EXPECT_EQ(detail::classify_smtp(stripped).kind, Kind::dead);
}

// The same through a real server scripted per phase.
struct Refusal {
    const char* option;
    const char* reply;
    Kind expected;
};

std::string refusal_name(const ::testing::TestParamInfo<Refusal>& p) {
    return std::string(p.param.option + 2).substr(0, 4) + "_" + std::string(p.param.reply).substr(0, 3);
}

class EmailRefusalTest : public EmailChannelTest, public ::testing::WithParamInterface<Refusal> {};

TEST_P(EmailRefusalTest, the_reply_code_decides_retry_or_dead_and_nothing_is_delivered) {
    const Refusal r = GetParam();
    test::SmtpServer server(server_args({r.option, r.reply}));
    ASSERT_TRUE(server.ready()) << server.why();
    const SendOutcome out = channel(server)->send(test::cpu_notification(), {});
    EXPECT_EQ(out.kind, r.expected) << out.detail;
    EXPECT_NE(out.detail.find(std::string(r.reply).substr(0, 3)), std::string::npos) << out.detail;
    EXPECT_TRUE(server.messages().empty());
}

INSTANTIATE_TEST_SUITE_P(
    D2, EmailRefusalTest,
    ::testing::Values(Refusal{"--greeting-reply", "421 4.3.2 service not available", Kind::retry},
                      Refusal{"--rcpt-reply", "421 4.7.0 closing connection", Kind::retry},
                      Refusal{"--rcpt-reply", "550 5.1.1 no such user", Kind::dead},
                      Refusal{"--rcpt-reply", "553 5.1.3 bad recipient address syntax", Kind::dead},
                      Refusal{"--data-reply", "452 4.3.1 insufficient system storage", Kind::retry}),
    refusal_name);

// RELIABILITY D3: a server that stalls after the message ends by the total timeout, retried.
TEST_F(EmailChannelTest, a_server_that_stalls_after_data_is_retried_after_the_timeout) {
    test::SmtpServer server(server_args({"--data-delay", "600"}));
    ASSERT_TRUE(server.ready()) << server.why();
    ChannelConfig c;
    c.name = "mail";
    c.type = ChannelType::smtp;
    c.url.source = SecretRef::Source::inline_value;
    c.url.value = Secret(server.url());
    c.ca_file = m_pki->ca();
    c.from = "boxmon@example.org";
    c.to = {"ops@example.org"};
    c.username = "alerts";
    c.password.source = SecretRef::Source::file;
    c.password.value = Secret(k_canary);
    c.connect_timeout = std::chrono::seconds(5);
    c.timeout = std::chrono::seconds(2);
    auto ch = make_channel(c, Config{});
    ASSERT_TRUE(ch) << ch.error().message;
    const auto start = std::chrono::steady_clock::now();
    const SendOutcome out = (*ch)->send(test::cpu_notification(), {});
    EXPECT_EQ(out.kind, Kind::retry) << out.detail;
    EXPECT_NE(out.detail.find("timed out"), std::string::npos) << out.detail;
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2 + 5));
    EXPECT_NE(server.commands().find("DATA"), std::string::npos) << "it stalled after DATA: " << server.commands();
}

TEST_F(EmailChannelTest, a_wrong_password_is_dead_and_never_shown) {
    test::SmtpServer server(server_args());
    ASSERT_TRUE(server.ready()) << server.why();
    test::LogCapture logs;
    const SendOutcome out = channel(server, "CANARY-wrong-3141")->send(test::cpu_notification(), {});
    EXPECT_EQ(out.kind, Kind::dead) << out.detail;
    EXPECT_NE(out.detail.find("SMTP authentication failed for \"alerts\" at smtp://127.0.0.1:" +
                              std::to_string(server.port()) + " (reply 535)"),
              std::string::npos)
        << out.detail;
    EXPECT_EQ(out.detail.find("CANARY"), std::string::npos) << out.detail;
    EXPECT_EQ(logs.text().find("CANARY"), std::string::npos);
}

TEST_F(EmailChannelTest, stripped_starttls_is_dead_before_auth_and_data) {
    test::SmtpServer server({"--auth", std::string("alerts:") + k_canary});
    ASSERT_TRUE(server.ready()) << server.why();
    const SendOutcome out = channel(server)->send(test::cpu_notification(), {});
    EXPECT_EQ(out.kind, Kind::dead) << out.detail;
    EXPECT_NE(out.detail.find("server did not offer STARTTLS"), std::string::npos) << out.detail;
    EXPECT_EQ(server.commands().find("AUTH"), std::string::npos) << server.commands();
    EXPECT_EQ(server.commands().find("DATA"), std::string::npos) << server.commands();
}

TEST_F(EmailChannelTest, a_server_that_is_down_is_retried) {
    ChannelConfig c;
    c.name = "mail";
    c.type = ChannelType::smtp;
    c.url.source = SecretRef::Source::inline_value;
    c.url.value = Secret("smtp://127.0.0.1:" + std::to_string(test::free_port()));
    c.from = "boxmon@example.org";
    c.to = {"ops@example.org"};
    auto ch = make_channel(c, Config{});
    ASSERT_TRUE(ch) << ch.error().message;
    const SendOutcome out = (*ch)->send(test::cpu_notification(), {});
    EXPECT_EQ(out.kind, Kind::retry) << out.detail;
    EXPECT_NE(out.detail.find("could not connect"), std::string::npos) << out.detail;
}

TEST_F(EmailChannelTest, a_server_that_never_greets_is_retried_after_the_timeout) {
    // A listening socket nobody accepts on: the kernel completes the handshake, no 220 comes.
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(fd, 4), 0);
    socklen_t len = sizeof addr;
    ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    ChannelConfig c;
    c.name = "mail";
    c.type = ChannelType::smtp;
    c.url.source = SecretRef::Source::inline_value;
    c.url.value = Secret("smtp://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)));
    c.from = "boxmon@example.org";
    c.to = {"ops@example.org"};
    c.timeout = std::chrono::seconds(1);
    auto ch = make_channel(c, Config{});
    ASSERT_TRUE(ch) << ch.error().message;
    const auto start = std::chrono::steady_clock::now();
    const SendOutcome out = (*ch)->send(test::cpu_notification(), {});
    ::close(fd);
    EXPECT_EQ(out.kind, Kind::retry) << out.detail;
    EXPECT_NE(out.detail.find("timed out"), std::string::npos) << out.detail;
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(6));
}

}  // namespace
}  // namespace boxmon::alerting
