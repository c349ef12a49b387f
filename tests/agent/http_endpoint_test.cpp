// The /metrics endpoint in-process against real sockets on 127.0.0.1: what it serves, the token,
// odd and oversized requests (RELIABILITY X8), idle, crowding and slow-loris clients (L8), and
// that publish() never waits for a scrape.
#include "agent/http_endpoint.hpp"

#include <httplib.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "tests/support/test_support.hpp"

namespace boxmon::agent {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

// A TCP connection to 127.0.0.1:port, closed on destruction.
class Client {
public:
    explicit Client(int port) {
        m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<std::uint16_t>(port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(m_fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            ::close(m_fd);
            m_fd = -1;
        }
    }
    ~Client() {
        if (m_fd >= 0) ::close(m_fd);
    }
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;
    Client(Client&& o) noexcept : m_fd(o.m_fd) { o.m_fd = -1; }

    bool ok() const { return m_fd >= 0; }
    // Sends all of `data` within `deadline`; false when the peer stops taking it.
    bool send(std::string_view data, std::chrono::milliseconds deadline = 2s) {
        const auto until = Steady::now() + deadline;
        std::size_t done = 0;
        while (done < data.size()) {
            pollfd p{m_fd, POLLOUT, 0};
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(until - Steady::now()).count();
            if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
            const ssize_t n =
                ::send(m_fd, data.data() + done, data.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n < 0 && errno != EAGAIN) return false;
            if (n > 0) done += static_cast<std::size_t>(n);
        }
        return true;
    }
    // Everything the server sends until it closes, or nullopt when it does not close within
    // `deadline`. A reset after some bytes returns what came.
    std::optional<std::string> read_to_close(std::chrono::milliseconds deadline) {
        const auto until = Steady::now() + deadline;
        std::string out;
        char buf[65536];
        while (true) {
            pollfd p{m_fd, POLLIN, 0};
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(until - Steady::now()).count();
            if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) return std::nullopt;
            const ssize_t n = ::recv(m_fd, buf, sizeof buf, 0);
            if (n <= 0) return out;
            out.append(buf, static_cast<std::size_t>(n));
        }
    }

private:
    int m_fd = -1;
};

HttpConfig loopback(std::string token = {}) {
    HttpConfig c;
    c.listen = "127.0.0.1:0";
    if (!token.empty()) {
        c.bearer_token.source = SecretRef::Source::file;
        c.bearer_token.value = Secret(std::move(token));
    }
    return c;
}

std::unique_ptr<HttpEndpoint> start(const HttpConfig& c, EndpointLimits limits = {}) {
    auto e = HttpEndpoint::start(c, limits);
    if (!e) ADD_FAILURE() << e.error().message;
    return e ? std::move(*e) : nullptr;
}

httplib::Result get(int port, const std::string& path, httplib::Headers headers = {}) {
    httplib::Client client("127.0.0.1", port);
    client.set_connection_timeout(2, 0);
    client.set_read_timeout(2, 0);
    return client.Get(path.c_str(), headers);
}

TEST(HttpEndpoint, serves_the_published_text_as_prometheus_exposition) {
    auto e = start(loopback());
    ASSERT_TRUE(e);
    e->publish("# TYPE boxmon_up gauge\nboxmon_up 1\n");
    auto r = get(e->port(), "/metrics");
    ASSERT_TRUE(r) << httplib::to_string(r.error());
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "# TYPE boxmon_up gauge\nboxmon_up 1\n");
    EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    e->publish("boxmon_up 2\n");
    auto again = get(e->port(), "/metrics");
    ASSERT_TRUE(again);
    EXPECT_EQ(again->body, "boxmon_up 2\n");
}

TEST(HttpEndpoint, answers_503_before_anything_is_published) {
    auto e = start(loopback());
    ASSERT_TRUE(e);
    auto r = get(e->port(), "/metrics");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 503);
}

TEST(HttpEndpoint, binds_the_loopback_address_it_is_given) {
    auto e = start(loopback());
    ASSERT_TRUE(e);
    EXPECT_EQ(e->address(), "127.0.0.1:" + std::to_string(e->port()));
    EXPECT_GT(e->port(), 0);
}

TEST(HttpEndpoint, binds_ipv6_loopback_in_brackets) {
    HttpConfig c;
    c.listen = "[::1]:0";
    auto e = HttpEndpoint::start(c);
    if (!e && e.error().message.find("Cannot assign requested address") != std::string::npos)
        GTEST_SKIP() << "no IPv6 loopback here: " << e.error().message;
    ASSERT_TRUE(e) << e.error().message;
    EXPECT_EQ((*e)->address(), "[::1]:" + std::to_string((*e)->port()));
    (*e)->publish("boxmon_up 1\n");
    httplib::Client client("::1", (*e)->port());
    client.set_connection_timeout(2, 0);
    auto r = client.Get("/metrics");
    ASSERT_TRUE(r) << httplib::to_string(r.error());
    EXPECT_EQ(r->body, "boxmon_up 1\n");
}

TEST(HttpEndpoint, a_port_in_use_fails_naming_the_address_and_what_to_do) {
    auto first = start(loopback());
    ASSERT_TRUE(first);
    HttpConfig c;
    c.listen = "127.0.0.1:" + std::to_string(first->port());
    auto second = HttpEndpoint::start(c);
    ASSERT_FALSE(second);
    EXPECT_EQ(
        second.error().message,
        "cannot listen on " + c.listen +
            " ([http] listen); stop the program that holds the port (ss -ltnp) or choose another address: "
            "Address already in use");
}

TEST(HttpEndpoint, with_a_token_refuses_requests_without_it_with_401) {
    auto e = start(loopback("s3cr3t-token"));
    ASSERT_TRUE(e);
    e->publish("boxmon_up 1\n");
    auto none = get(e->port(), "/metrics");
    ASSERT_TRUE(none);
    EXPECT_EQ(none->status, 401);
    EXPECT_EQ(none->get_header_value("WWW-Authenticate"), "Bearer realm=\"boxmon\"");
    EXPECT_EQ(none->body.find("boxmon_up"), std::string::npos);
    EXPECT_EQ(none->body.find("s3cr3t"), std::string::npos);
    auto wrong = get(e->port(), "/metrics", {{"Authorization", "Bearer s3cr3t-tokeN"}});
    ASSERT_TRUE(wrong);
    EXPECT_EQ(wrong->status, 401);
    auto basic = get(e->port(), "/metrics", {{"Authorization", "Basic s3cr3t-token"}});
    ASSERT_TRUE(basic);
    EXPECT_EQ(basic->status, 401);
    auto right = get(e->port(), "/metrics", {{"Authorization", "Bearer s3cr3t-token"}});
    ASSERT_TRUE(right);
    EXPECT_EQ(right->status, 200);
    EXPECT_EQ(right->body, "boxmon_up 1\n");
    EXPECT_EQ(e->stats().unauthorized, 3u);
}

TEST(HttpEndpoint, bearer_matches_only_the_exact_token_with_the_scheme_in_any_case) {
    EXPECT_TRUE(bearer_matches("Bearer abc", "abc"));
    EXPECT_TRUE(bearer_matches("bearer abc", "abc"));
    EXPECT_TRUE(bearer_matches("BEARER abc", "abc"));
    EXPECT_FALSE(bearer_matches("Bearer abcd", "abc"));
    EXPECT_FALSE(bearer_matches("Bearer ab", "abc"));
    EXPECT_FALSE(bearer_matches("Bearer  abc", "abc"));
    EXPECT_FALSE(bearer_matches("Bearerabc", "abc"));
    EXPECT_FALSE(bearer_matches("abc", "abc"));
    EXPECT_FALSE(bearer_matches("", "abc"));
    EXPECT_FALSE(bearer_matches("Bearer ", ""));
}

TEST(HttpEndpoint, other_methods_get_405_and_other_paths_404) {
    auto e = start(loopback());
    ASSERT_TRUE(e);
    e->publish("boxmon_up 1\n");
    httplib::Client client("127.0.0.1", e->port());
    auto post = client.Post("/metrics", "x=1", "application/x-www-form-urlencoded");
    ASSERT_TRUE(post) << httplib::to_string(post.error());
    EXPECT_EQ(post->status, 405);
    EXPECT_EQ(post->get_header_value("Allow"), "GET, HEAD");
    auto del = client.Delete("/metrics");
    ASSERT_TRUE(del);
    EXPECT_EQ(del->status, 405);
    auto head = client.Head("/metrics");
    ASSERT_TRUE(head);
    EXPECT_EQ(head->status, 200);
    EXPECT_TRUE(head->body.empty());
    for (const char* path :
         {"/metrics/", "/config", "/../etc/passwd", "/%2e%2e/metrics", "/metrics/../metrics2"}) {
        Client raw(e->port());
        ASSERT_TRUE(raw.ok());
        ASSERT_TRUE(raw.send(std::string("GET ") + path + " HTTP/1.1\r\nHost: x\r\n\r\n"));
        auto reply = raw.read_to_close(2s);
        ASSERT_TRUE(reply) << path;
        EXPECT_TRUE(reply->starts_with("HTTP/1.1 404")) << path << ": " << reply->substr(0, 40);
        EXPECT_EQ(reply->find("boxmon_up"), std::string::npos) << path;
    }
}

TEST(HttpEndpoint, a_huge_request_head_is_rejected_and_the_endpoint_keeps_serving) {
    EndpointLimits limits;
    limits.head_max = 8192;
    auto e = start(loopback(), limits);
    ASSERT_TRUE(e);
    e->publish("boxmon_up 1\n");
    {
        Client big(e->port());
        ASSERT_TRUE(big.ok());
        // 1 MiB of headers: the endpoint reads 8 KiB of it, answers 400 and closes, so the rest
        // may not be taken.
        std::string head = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
        while (head.size() < (1u << 20)) head += "X-Filler: " + std::string(100, 'a') + "\r\n";
        head += "\r\n";
        big.send(head, 2s);
        auto reply = big.read_to_close(3s);
        ASSERT_TRUE(reply) << "the connection was not closed";
        if (!reply->empty()) {
            EXPECT_TRUE(reply->starts_with("HTTP/1.1 400")) << reply->substr(0, 40);
        }
        EXPECT_EQ(reply->find("boxmon_up"), std::string::npos);
    }
    {
        Client long_line(e->port());
        ASSERT_TRUE(long_line.ok());
        long_line.send("GET /" + std::string(20000, 'a') + " HTTP/1.1\r\n\r\n", 2s);
        auto reply = long_line.read_to_close(3s);
        ASSERT_TRUE(reply);
        EXPECT_EQ(reply->find("200 OK"), std::string::npos);
    }
    EXPECT_EQ(e->stats().too_large, 2u);
    auto r = get(e->port(), "/metrics");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
}

TEST(HttpEndpoint, a_body_beyond_the_limit_is_refused) {
    auto e = start(loopback());
    ASSERT_TRUE(e);
    e->publish("boxmon_up 1\n");
    Client c(e->port());
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c.send("GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n" +
                       std::string(1000, 'b')));
    auto reply = c.read_to_close(3s);
    ASSERT_TRUE(reply);
    // Answered before the body is read, or refused for it: never a wait for 10 MB.
    EXPECT_TRUE(reply->starts_with("HTTP/1.1 200") || reply->starts_with("HTTP/1.1 413"))
        << reply->substr(0, 40);
}

TEST(HttpEndpoint, idle_connections_are_dropped_after_the_read_timeout) {
    EndpointLimits limits;
    limits.read_timeout = 300ms;
    auto e = start(loopback(), limits);
    ASSERT_TRUE(e);
    std::vector<Client> idle;
    for (int i = 0; i < 20; ++i) idle.emplace_back(e->port());
    const auto t0 = Steady::now();
    for (auto& c : idle) {
        ASSERT_TRUE(c.ok());
        auto r = c.read_to_close(3s);
        ASSERT_TRUE(r) << "an idle connection stayed open";
        EXPECT_TRUE(r->empty());
    }
    const auto took = Steady::now() - t0;
    EXPECT_GE(took, 250ms);
    EXPECT_LT(took, 2s);
    EXPECT_TRUE(test::wait_until([&] { return e->stats().timed_out == 20; }, 2s)) << e->stats().timed_out;
}

TEST(HttpEndpoint, a_full_table_drops_the_longest_waiting_and_a_fresh_scrape_still_answers_within_1s) {
    EndpointLimits limits;
    limits.max_connections = 16;
    limits.read_timeout = 30s;  // no connection leaves by timeout during the test
    auto e = start(loopback(), limits);
    ASSERT_TRUE(e);
    e->publish("boxmon_up 1\n");
    std::vector<Client> idle;
    for (int i = 0; i < 200; ++i) {
        idle.emplace_back(e->port());
        ASSERT_TRUE(idle.back().ok());
    }
    ASSERT_TRUE(test::wait_until([&] { return e->stats().accepted == 200; }, 5s)) << e->stats().accepted;
    const auto t0 = Steady::now();
    auto r = get(e->port(), "/metrics");
    const auto took = Steady::now() - t0;
    ASSERT_TRUE(r) << httplib::to_string(r.error());
    EXPECT_EQ(r->status, 200);
    EXPECT_LT(took, 1s);
    EXPECT_GE(e->stats().evicted, 185u);
    // The first ones were dropped (they read EOF at once), the last ones still wait.
    EXPECT_TRUE(idle.front().read_to_close(1s).has_value());
    EXPECT_FALSE(idle.back().read_to_close(200ms).has_value());
}

TEST(HttpEndpoint, slow_loris_clients_are_cut_at_the_deadline_and_never_hold_the_workers) {
    EndpointLimits limits;
    limits.read_timeout = 1s;
    limits.workers = 1;
    auto e = start(loopback(), limits);
    ASSERT_TRUE(e);
    e->publish("boxmon_up 1\n");
    std::vector<Client> slow;
    for (int i = 0; i < 30; ++i) {
        slow.emplace_back(e->port());
        ASSERT_TRUE(slow.back().ok());
    }
    const std::string head = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    std::atomic<bool> stop{false};
    std::thread trickle([&] {
        // One byte per client every 100 ms: never a complete head.
        for (std::size_t k = 0; !stop && k < 100; ++k) {
            for (auto& c : slow) c.send(std::string(1, k < head.size() ? head[k] : 'z'), 50ms);
            std::this_thread::sleep_for(100ms);
        }
    });
    std::this_thread::sleep_for(300ms);
    const auto t0 = Steady::now();
    auto r = get(e->port(), "/metrics");
    const auto took = Steady::now() - t0;
    ASSERT_TRUE(r) << httplib::to_string(r.error());
    EXPECT_EQ(r->status, 200);
    EXPECT_LT(took, 1s);
    EXPECT_TRUE(test::wait_until([&] { return e->stats().timed_out >= 30; }, 3s)) << e->stats().timed_out;
    stop = true;
    trickle.join();
}

TEST(HttpEndpoint, publish_never_waits_for_a_scrape_in_progress) {
    EndpointLimits limits;
    limits.workers = 2;
    limits.write_timeout = 3s;
    auto e = start(loopback(), limits);
    ASSERT_TRUE(e);
    // 32 MiB: more than the loopback socket buffers take, so the workers sit in send() for
    // clients that ask and never read.
    e->publish(std::string(32u << 20, 'x'));
    std::vector<Client> stuck;
    for (int i = 0; i < 2; ++i) {
        stuck.emplace_back(e->port());
        ASSERT_TRUE(stuck.back().send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
    }
    std::this_thread::sleep_for(200ms);
    auto worst = Steady::duration::zero();
    for (int i = 0; i < 200; ++i) {
        std::string text = "boxmon_up " + std::to_string(i) + "\n";
        const auto t0 = Steady::now();
        e->publish(std::move(text));
        worst = std::max(worst, Steady::now() - t0);
    }
    // Waiting for a worker would take up to the write timeout (3 s); a pointer swap takes
    // microseconds, and a loaded machine's preemption stays far below 500 ms.
    EXPECT_LT(worst, 500ms);
}

TEST(HttpEndpoint, stopping_closes_every_connection_promptly) {
    auto e = start(loopback());
    ASSERT_TRUE(e);
    std::vector<Client> idle;
    for (int i = 0; i < 10; ++i) idle.emplace_back(e->port());
    ASSERT_TRUE(test::wait_until([&] { return e->stats().accepted == 10; }, 2s));
    const auto t0 = Steady::now();
    e.reset();
    EXPECT_LT(Steady::now() - t0, 1s);
    for (auto& c : idle) EXPECT_TRUE(c.read_to_close(1s).has_value());
}

}  // namespace
}  // namespace boxmon::agent
