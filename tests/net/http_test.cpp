// net::http_request against a real cpp-httplib receiver on 127.0.0.1 (RELIABILITY D5-D8, X2, X4),
// and against sockets that never accept or never speak TLS (D6).

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "net/http.hpp"
#include "tests/servers/http_receiver.hpp"
#include "tests/servers/test_pki.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon::net {
namespace {

using namespace std::chrono_literals;
using test::HttpReceiver;

TransferOptions quick() {
    TransferOptions o;
    o.connect_timeout = 2s;
    o.timeout = 2s;
    return o;
}

HttpRequest post(const std::string& url, std::string body = R"({"a":1})") {
    HttpRequest r;
    r.url = Secret(url);
    r.body = std::move(body);
    return r;
}

TEST(TlsSettings, verify_peer_and_host_are_on_unless_explicitly_skipped) {
    TransferOptions o;
    EXPECT_EQ(tls_settings(o).verify_peer, 1);
    EXPECT_EQ(tls_settings(o).verify_host, 2);
    o.ca_file = "/some/ca.pem";
    EXPECT_EQ(tls_settings(o).verify_peer, 1);
    EXPECT_EQ(tls_settings(o).verify_host, 2);
    o.tls_skip_verify = true;
    EXPECT_EQ(tls_settings(o).verify_peer, 0);
    EXPECT_EQ(tls_settings(o).verify_host, 0);
    EXPECT_EQ(tls_settings(o).min_version, CURL_SSLVERSION_TLSv1_2);  // skipping never lowers the floor
}

TEST(RetryAfter, parses_seconds_and_http_dates_and_rejects_junk) {
    const long long now = 1'700'000'000;  // 2023-11-14T22:13:20Z
    EXPECT_EQ(parse_retry_after("7", now), std::chrono::seconds{7});
    EXPECT_EQ(parse_retry_after("  120 ", now), std::chrono::seconds{120});
    EXPECT_EQ(parse_retry_after("0", now), std::chrono::seconds{0});
    EXPECT_EQ(parse_retry_after("99999999999999999999999", now), std::chrono::seconds{86400});
    EXPECT_EQ(parse_retry_after("Tue, 14 Nov 2023 22:14:00 GMT", now), std::chrono::seconds{40});
    EXPECT_EQ(parse_retry_after("Tue, 14 Nov 2023 22:00:00 GMT", now), std::chrono::seconds{0});
    EXPECT_EQ(parse_retry_after("", now), std::nullopt);
    EXPECT_EQ(parse_retry_after("-5", now), std::nullopt);
    EXPECT_EQ(parse_retry_after("soon", now), std::nullopt);
}

TEST(Scrub, masks_url_tokens_user_info_and_header_values) {
    const Secret url("https://bob:hunter2pass@hooks.example.org/services/T000/B000/XXXXSECRETXXXX?token=abcd1234");
    const Secret header("Bearer canary-token-42");
    const std::string text =
        "failed https://bob:hunter2pass@hooks.example.org/services/T000/B000/XXXXSECRETXXXX?token=abcd1234 "
        "and XXXXSECRETXXXX alone, %68unter2pass? hunter2pass, abcd1234, Bearer canary-token-42";
    const std::string out = scrub(text, {&url, &header});
    EXPECT_EQ(out.find("hunter2pass"), std::string::npos) << out;
    EXPECT_EQ(out.find("XXXXSECRETXXXX"), std::string::npos) << out;
    EXPECT_EQ(out.find("abcd1234"), std::string::npos) << out;
    EXPECT_EQ(out.find("canary-token-42"), std::string::npos) << out;
    EXPECT_NE(out.find("<secret>"), std::string::npos) << out;
}

TEST(Scrub, leaves_short_words_of_a_url_path_alone_but_not_short_tokens) {
    const Secret url("http://127.0.0.1:9/hook/alert?key=ab12");
    const std::string out =
        scrub("channel \"hook\": alert 7 failed; POST http://127.0.0.1:9/hook/alert?key=ab12; ab12", {&url});
    EXPECT_EQ(out, "channel \"hook\": alert 7 failed; POST http://127.0.0.1:9; <secret>") << out;
}

TEST(Excerpt, makes_answers_safe_one_line_and_short) {
    EXPECT_EQ(excerpt("bad\r\nthing \xff"), "bad\\r\\nthing \xEF\xBF\xBD");
    EXPECT_LE(excerpt(std::string(5000, 'x')).size(), 200u);
    EXPECT_EQ(excerpt("Authorization: Bearer abcdefghijklmnop").find("abcdefghijklmnop"), std::string::npos);
}

TEST(HttpRequest, posts_the_body_and_headers_and_returns_the_status) {
    HttpReceiver rx;
    ASSERT_TRUE(rx.valid());
    rx.set_reply(HttpReceiver::answer(201, "created"));
    HttpRequest req = post(rx.url("/hook"));
    req.headers.push_back({"Authorization", Secret("Bearer t0k3n")});
    auto r = http_request(req, quick());
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 201);
    EXPECT_EQ(r->body, "created");
    ASSERT_EQ(rx.count(), 1u);
    const auto got = rx.requests()[0];
    EXPECT_EQ(got.method, "POST");
    EXPECT_EQ(got.path, "/hook");
    EXPECT_EQ(got.body, R"({"a":1})");
    EXPECT_EQ(got.header("Authorization"), "Bearer t0k3n");
    EXPECT_EQ(got.header("Content-Type"), "application/json");
}

TEST(HttpRequest, reads_retry_after_of_a_429) {
    HttpReceiver rx;
    rx.set_reply(HttpReceiver::answer(429, "slow down", {{"Retry-After", "7"}}));
    auto r = http_request(post(rx.url()), quick());
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 429);
    EXPECT_EQ(r->retry_after, std::chrono::seconds{7});
}

TEST(HttpRequest, connection_refused_is_a_runtime_error_naming_host_and_port) {
    const int port = test::free_port();
    auto r = http_request(post("http://127.0.0.1:" + std::to_string(port) + "/x"), quick());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::runtime);
    EXPECT_NE(r.error().message.find("POST http://127.0.0.1:" + std::to_string(port) + ": could not connect"),
              std::string::npos)
        << r.error().message;
}

TEST(HttpRequest, a_hanging_receiver_ends_by_the_total_timeout) {
    HttpReceiver rx;
    rx.set_reply(HttpReceiver::hang(10s));
    TransferOptions o = quick();
    o.timeout = 1s;
    const auto start = std::chrono::steady_clock::now();
    auto r = http_request(post(rx.url()), o);
    const auto took = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::timeout) << r.error().message;
    EXPECT_NE(r.error().message.find("timed out"), std::string::npos) << r.error().message;
    EXPECT_LT(took, 4s);
}

// A TCP listener on 127.0.0.1 that never accepts; `fill` also fills its accept queue so that the
// kernel drops further SYNs (a receiver that never answers the connect). Closed on destruction.
class Blackhole {
public:
    explicit Blackhole(bool fill) {
        m_listener = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (m_listener < 0 || ::bind(m_listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::listen(m_listener, 0) != 0)
            return;
        socklen_t len = sizeof addr;
        ::getsockname(m_listener, reinterpret_cast<sockaddr*>(&addr), &len);
        m_port = ntohs(addr.sin_port);
        // With a backlog of 0 the queue holds one connection; two make sure it is full.
        for (int i = 0; fill && i < 2; ++i) {
            const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
            (void)::connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
            m_fillers.push_back(c);
        }
        if (fill) std::this_thread::sleep_for(100ms);  // let the handshakes land in the queue
    }
    ~Blackhole() {
        for (int c : m_fillers) ::close(c);
        if (m_listener >= 0) ::close(m_listener);
    }
    Blackhole(const Blackhole&) = delete;
    Blackhole& operator=(const Blackhole&) = delete;
    int port() const { return m_port; }

private:
    int m_listener = -1;
    int m_port = 0;
    std::vector<int> m_fillers;
};

// RELIABILITY D6 (a): the connect itself never completes: over by the connect timeout, well
// before the total one.
TEST(HttpRequest, a_connect_that_never_completes_ends_by_the_connect_timeout) {
    Blackhole hole(/*fill=*/true);
    ASSERT_GT(hole.port(), 0);
    TransferOptions o;
    o.connect_timeout = 1s;
    o.timeout = 10s;
    const auto start = std::chrono::steady_clock::now();
    auto r = http_request(post("http://127.0.0.1:" + std::to_string(hole.port()) + "/x"), o);
    const auto took = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::timeout) << r.error().message;
    EXPECT_NE(r.error().message.find("timed out (connect timeout 1s"), std::string::npos) << r.error().message;
    EXPECT_LT(took, 1s + 5s);
}

// RELIABILITY D6 (d): TCP connects but the ClientHello is never answered: the TLS handshake is
// inside the connect timeout.
TEST(HttpRequest, a_tls_port_that_never_answers_the_client_hello_ends_by_the_connect_timeout) {
    Blackhole hole(/*fill=*/false);
    ASSERT_GT(hole.port(), 0);
    TransferOptions o;
    o.connect_timeout = 1s;
    o.timeout = 10s;
    const auto start = std::chrono::steady_clock::now();
    auto r = http_request(post("https://127.0.0.1:" + std::to_string(hole.port()) + "/x"), o);
    const auto took = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::timeout) << r.error().message;
    EXPECT_LT(took, 1s + 5s) << r.error().message;
}

// RELIABILITY D6 (c): a receiver that sends its headers, then the body a byte at a time: the
// trickle keeps the connection "alive" but the transfer still ends by the total timeout.
TEST(HttpRequest, a_receiver_trickling_its_body_ends_by_the_total_timeout) {
    const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(listener, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(listener, 1), 0);
    ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
    std::atomic<bool> stop{false};
    std::atomic<int> sent{0};
    std::thread server([&] {
        const int c = ::accept(listener, nullptr, nullptr);
        if (c < 0) return;
        char buf[4096];
        (void)::recv(c, buf, sizeof buf, 0);
        const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
        (void)::send(c, head.data(), head.size(), MSG_NOSIGNAL);
        while (!stop && sent < 100) {
            std::this_thread::sleep_for(300ms);
            if (::send(c, "x", 1, MSG_NOSIGNAL) != 1) break;
            ++sent;
        }
        ::close(c);
    });
    TransferOptions o = quick();
    o.timeout = 2s;
    const auto start = std::chrono::steady_clock::now();
    auto r = http_request(post("http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/hook"), o);
    const auto took = std::chrono::steady_clock::now() - start;
    stop = true;
    server.join();
    ::close(listener);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::timeout) << r.error().message;
    EXPECT_GE(sent.load(), 3) << "the receiver must have trickled for a while";
    EXPECT_GE(took, 1900ms);
    EXPECT_LT(took, 2s + 5s);
}

TEST(HttpRequest, the_abort_flag_stops_a_transfer_at_once) {
    HttpReceiver rx;
    rx.set_reply(HttpReceiver::hang(10s));
    std::atomic<bool> abort{false};
    TransferOptions o = quick();
    o.timeout = 8s;
    o.abort = &abort;
    std::thread stopper([&] {
        std::this_thread::sleep_for(300ms);
        abort = true;
    });
    const auto start = std::chrono::steady_clock::now();
    auto r = http_request(post(rx.url()), o);
    stopper.join();
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("aborted"), std::string::npos) << r.error().message;
    EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
}

TEST(HttpRequest, an_endless_body_is_capped_and_the_status_kept) {
    HttpReceiver rx;
    rx.set_reply(HttpReceiver::endless_body(500));
    auto r = http_request(post(rx.url()), quick());
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 500);
    EXPECT_TRUE(r->body_truncated);
    EXPECT_EQ(r->body.size(), k_response_body_max);
}

TEST(HttpRequest, redirects_are_not_followed) {
    HttpReceiver target;
    HttpReceiver rx;
    rx.set_reply(HttpReceiver::answer(302, "", {{"Location", target.url("/collect")}}));
    auto r = http_request(post(rx.url()), quick());
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 302);
    ASSERT_NE(r->header("location"), nullptr);
    EXPECT_EQ(target.count(), 0u);
}

TEST(HttpRequest, schemes_other_than_http_are_config_errors) {
    auto r = http_request(post("file:///etc/passwd"), quick());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::config) << r.error().message;
    auto g = http_request(post("gopher://127.0.0.1:1/"), quick());
    ASSERT_FALSE(g);
    EXPECT_EQ(g.error().kind, ErrorKind::config) << g.error().message;
}

TEST(HttpRequest, errors_never_show_url_tokens_or_passwords) {
    const int port = test::free_port();
    HttpRequest req = post("http://bob:CANARYPASS9@127.0.0.1:" + std::to_string(port) + "/hook/CANARYTOKEN9?k=CANARYQ9");
    req.headers.push_back({"Authorization", Secret("Bearer CANARYHDR9")});
    auto r = http_request(req, quick());
    ASSERT_FALSE(r);
    for (const char* canary : {"CANARYPASS9", "CANARYTOKEN9", "CANARYQ9", "CANARYHDR9"}) {
        EXPECT_EQ(r.error().message.find(canary), std::string::npos) << r.error().message;
    }
}

// X4: the TLS matrix over a real HTTPS receiver with the test CA.
class HttpsTest : public ::testing::Test {
protected:
    void SetUp() override {
        m_pki = test::TestPki::get();
        if (m_pki == nullptr) GTEST_SKIP() << "python3-trustme could not make the test CA";
    }
    // A POST to `rx` trusting the test CA.
    Result<HttpResponse> post_trusting_the_ca(const HttpReceiver& rx) const {
        TransferOptions o = quick();
        o.ca_file = m_pki->ca();
        return http_request(post(rx.url()), o);
    }
    const test::TestPki* m_pki = nullptr;
};

TEST_F(HttpsTest, a_server_from_an_unknown_ca_is_refused_without_ca_file) {
    HttpReceiver rx(m_pki->cert("server"), m_pki->key("server"));
    ASSERT_TRUE(rx.valid());
    auto r = http_request(post(rx.url()), quick());
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("TLS certificate verification failed"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("set ca_file"), std::string::npos) << r.error().message;
    EXPECT_EQ(rx.count(), 0u);
}

TEST_F(HttpsTest, the_configured_ca_file_makes_it_trusted) {
    HttpReceiver rx(m_pki->cert("server"), m_pki->key("server"));
    auto r = post_trusting_the_ca(rx);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(rx.count(), 1u);
}

TEST_F(HttpsTest, a_certificate_for_another_host_is_refused_even_from_the_right_ca) {
    HttpReceiver rx(m_pki->cert("wrong"), m_pki->key("wrong"));
    auto r = post_trusting_the_ca(rx);
    ASSERT_FALSE(r);
    EXPECT_EQ(rx.count(), 0u);
}

TEST_F(HttpsTest, a_certificate_from_another_ca_is_refused_with_ca_file) {
    HttpReceiver rx(m_pki->cert("rogue"), m_pki->key("rogue"));
    auto r = post_trusting_the_ca(rx);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("check that ca_file holds"), std::string::npos) << r.error().message;
    EXPECT_EQ(rx.count(), 0u);
}

TEST_F(HttpsTest, an_expired_certificate_is_refused_with_the_box_clock_in_the_advice) {
    HttpReceiver rx(m_pki->cert("expired"), m_pki->key("expired"));
    auto r = post_trusting_the_ca(rx);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("certificate has expired"), std::string::npos) << r.error().message;
    EXPECT_NE(
        r.error().message.find("renew the receiver's certificate, or check this box's clock (it reads 20"),
        std::string::npos)
        << r.error().message;
    EXPECT_EQ(rx.count(), 0u);
}

TEST_F(HttpsTest, a_certificate_not_yet_valid_is_refused_with_the_box_clock_in_the_advice) {
    HttpReceiver rx(m_pki->cert("future"), m_pki->key("future"));
    auto r = post_trusting_the_ca(rx);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("certificate is not yet valid"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("check this box's clock"), std::string::npos) << r.error().message;
    EXPECT_EQ(rx.count(), 0u);
}

TEST_F(HttpsTest, a_tls_1_0_only_receiver_is_refused_even_with_verification_skipped) {
    HttpReceiver rx(m_pki->cert("server"), m_pki->key("server"), HttpReceiver::Protocols::tls1_0_only);
    ASSERT_TRUE(rx.valid());
    // The receiver does complete a TLS 1.0 handshake with a client that allows it.
    const char* const openssl = "/usr/bin/openssl";
    if (std::filesystem::exists(openssl)) {
        test::RunOptions quiet;
        quiet.stdin_data = "";
        quiet.timeout = 10s;
        const auto hello =
            test::run_process({openssl, "s_client", "-connect", "127.0.0.1:" + std::to_string(rx.port()),
                               "-tls1", "-cipher", "DEFAULT:@SECLEVEL=0", "-brief"},
                              quiet);
        EXPECT_NE((hello.out + hello.err).find("Protocol version: TLSv1\n"), std::string::npos)
            << hello.out << hello.err;
    } else {
        std::cout << "[ INFO ] " << openssl << " missing (Debian package openssl): the receiver's TLS 1.0 "
                  << "handshake is not cross-checked\n";
    }
    for (const bool skip : {false, true}) {
        TransferOptions o = quick();
        o.ca_file = m_pki->ca();
        o.tls_skip_verify = skip;
        auto r = http_request(post(rx.url()), o);
        ASSERT_FALSE(r) << "skip_verify=" << skip;
        EXPECT_NE(r.error().message.find("TLS handshake failed"), std::string::npos) << r.error().message;
        EXPECT_NE(r.error().message.find("TLS 1.2 or newer"), std::string::npos) << r.error().message;
    }
    EXPECT_EQ(rx.count(), 0u);
}

TEST_F(HttpsTest, skip_verify_accepts_anything_only_when_asked) {
    HttpReceiver rx(m_pki->cert("rogue"), m_pki->key("rogue"));
    TransferOptions o = quick();
    o.tls_skip_verify = true;
    auto r = http_request(post(rx.url()), o);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 200);
}

TEST_F(HttpsTest, a_missing_ca_file_is_a_config_error) {
    HttpReceiver rx(m_pki->cert("server"), m_pki->key("server"));
    TransferOptions o = quick();
    o.ca_file = "/nonexistent/ca.pem";
    auto r = http_request(post(rx.url()), o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::config) << r.error().message;
    EXPECT_NE(r.error().message.find("/nonexistent/ca.pem"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace boxmon::net
