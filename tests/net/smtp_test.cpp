// net::smtp_send against a real aiosmtpd server with STARTTLS and AUTH under the test CA
// (RELIABILITY D1, D2, D4, X2, X4).

#include <gtest/gtest.h>

#include "net/smtp.hpp"
#include "tests/servers/smtp_server.hpp"
#include "tests/servers/test_pki.hpp"

namespace boxmon::net {
namespace {

using namespace std::chrono_literals;

const char* const k_message =
    "From: boxmon@example.org\r\nTo: ops@example.org\r\nSubject: hello\r\n\r\nbody line\r\n";

class SmtpTest : public ::testing::Test {
protected:
    void SetUp() override {
        m_pki = test::TestPki::get();
        if (m_pki == nullptr) GTEST_SKIP() << "python3-trustme could not make the test CA";
    }
    SmtpRequest request(const test::SmtpServer& s, const char* scheme = "smtp") const {
        SmtpRequest r;
        r.url = Secret(s.url(scheme));
        r.username = "bob";
        r.password = Secret("CANARY-smtp-pw-77");
        r.from = "boxmon@example.org";
        r.to = {"ops@example.org", "oncall@example.org"};
        r.message = k_message;
        return r;
    }
    TransferOptions options() const {
        TransferOptions o;
        o.connect_timeout = 5s;
        o.timeout = 10s;
        o.ca_file = m_pki->ca();
        return o;
    }
    std::vector<std::string> tls_auth() const {
        return {"--cert", m_pki->cert("server").string(), "--key", m_pki->key("server").string(), "--auth",
                "bob:CANARY-smtp-pw-77"};
    }
    const test::TestPki* m_pki = nullptr;
};

TEST_F(SmtpTest, delivers_over_starttls_with_auth_to_several_recipients) {
    test::SmtpServer server(tls_auth());
    ASSERT_TRUE(server.ready()) << server.why();
    const SmtpResult r = smtp_send(request(server), options());
    ASSERT_TRUE(r.delivered) << r.error.message;
    EXPECT_EQ(r.code, 250);
    const auto messages = server.messages();
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_NE(messages[0].find("body line"), std::string::npos);
    EXPECT_NE(server.commands().find("RCPT oncall@example.org"), std::string::npos) << server.commands();
    EXPECT_NE(server.commands().find("AUTH"), std::string::npos);
}

TEST_F(SmtpTest, delivers_over_smtps) {
    auto args = tls_auth();
    args.push_back("--smtps");
    test::SmtpServer server(args);
    ASSERT_TRUE(server.ready()) << server.why();
    const SmtpResult r = smtp_send(request(server, "smtps"), options());
    ASSERT_TRUE(r.delivered) << r.error.message;
    EXPECT_EQ(server.messages().size(), 1u);
}

TEST_F(SmtpTest, a_server_without_starttls_gets_no_auth_and_no_data) {
    test::SmtpServer server({"--auth", "bob:CANARY-smtp-pw-77"});
    ASSERT_TRUE(server.ready()) << server.why();
    const SmtpResult r = smtp_send(request(server), options());
    ASSERT_FALSE(r.delivered);
    EXPECT_EQ(r.error.kind, ErrorKind::config);
    EXPECT_NE(r.error.message.find("server did not offer STARTTLS"), std::string::npos) << r.error.message;
    EXPECT_EQ(server.commands().find("AUTH"), std::string::npos) << server.commands();
    EXPECT_EQ(server.commands().find("DATA"), std::string::npos) << server.commands();
    EXPECT_TRUE(server.messages().empty());
}

TEST_F(SmtpTest, a_wrong_password_is_an_authentication_failure_without_the_password) {
    test::SmtpServer server(tls_auth());
    ASSERT_TRUE(server.ready()) << server.why();
    SmtpRequest req = request(server);
    req.password = Secret("CANARY-wrong-pw-88");
    const SmtpResult r = smtp_send(req, options());
    ASSERT_FALSE(r.delivered);
    EXPECT_EQ(r.code, 535);
    EXPECT_EQ(r.error.kind, ErrorKind::config);
    EXPECT_NE(r.error.message.find("SMTP authentication failed for \"bob\" at smtp://127.0.0.1:"),
              std::string::npos)
        << r.error.message;
    EXPECT_EQ(r.error.message.find("CANARY"), std::string::npos) << r.error.message;
    EXPECT_TRUE(server.messages().empty());
}

TEST_F(SmtpTest, a_temporary_refusal_reports_the_4xx_code) {
    auto args = tls_auth();
    args.insert(args.end(), {"--rcpt-reply", "451 4.3.0 try later"});
    test::SmtpServer server(args);
    ASSERT_TRUE(server.ready()) << server.why();
    const SmtpResult r = smtp_send(request(server), options());
    ASSERT_FALSE(r.delivered);
    EXPECT_EQ(r.code, 451) << r.error.message;
}

TEST_F(SmtpTest, a_permanent_refusal_reports_the_5xx_code) {
    auto args = tls_auth();
    args.insert(args.end(), {"--data-reply", "554 5.7.1 rejected"});
    test::SmtpServer server(args);
    ASSERT_TRUE(server.ready()) << server.why();
    const SmtpResult r = smtp_send(request(server), options());
    ASSERT_FALSE(r.delivered);
    EXPECT_EQ(r.code, 554) << r.error.message;
}

TEST_F(SmtpTest, a_server_from_an_unknown_ca_is_refused_before_auth) {
    test::SmtpServer server({"--cert", m_pki->cert("rogue").string(), "--key", m_pki->key("rogue").string(),
                             "--auth", "bob:CANARY-smtp-pw-77"});
    ASSERT_TRUE(server.ready()) << server.why();
    const SmtpResult r = smtp_send(request(server), options());
    ASSERT_FALSE(r.delivered);
    EXPECT_NE(r.error.message.find("TLS certificate verification failed"), std::string::npos) << r.error.message;
    EXPECT_EQ(server.commands().find("AUTH"), std::string::npos) << server.commands();
}

TEST_F(SmtpTest, an_expired_certificate_is_refused_before_auth_over_starttls_and_smtps) {
    for (const char* scheme : {"smtp", "smtps"}) {
        std::vector<std::string> args{"--cert", m_pki->cert("expired").string(),
                                      "--key",  m_pki->key("expired").string(),
                                      "--auth", "bob:CANARY-smtp-pw-77"};
        if (std::string(scheme) == "smtps") args.push_back("--smtps");
        test::SmtpServer server(args);
        ASSERT_TRUE(server.ready()) << server.why();
        const SmtpResult r = smtp_send(request(server, scheme), options());
        ASSERT_FALSE(r.delivered) << scheme;
        EXPECT_NE(r.error.message.find("certificate has expired"), std::string::npos) << r.error.message;
        EXPECT_NE(r.error.message.find("check this box's clock"), std::string::npos) << r.error.message;
        EXPECT_EQ(server.commands().find("AUTH"), std::string::npos) << server.commands();
    }
}

TEST_F(SmtpTest, a_closed_port_is_a_connect_failure) {
    SmtpRequest r;
    r.url = Secret("smtp://127.0.0.1:" + std::to_string(test::free_port()));
    r.from = "a@example.org";
    r.to = {"b@example.org"};
    r.message = k_message;
    const SmtpResult res = smtp_send(r, options());
    ASSERT_FALSE(res.delivered);
    EXPECT_EQ(res.error.kind, ErrorKind::runtime);
    EXPECT_NE(res.error.message.find("could not connect"), std::string::npos) << res.error.message;
}

}  // namespace
}  // namespace boxmon::net
