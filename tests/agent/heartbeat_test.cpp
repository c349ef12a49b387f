// The heartbeat against a real HTTP receiver on 127.0.0.1: one GET per beat, beats during a ping
// in flight coalesce, a hanging receiver is cut at the timeout without holding the caller, and a
// failure is logged once per distinct error (and the recovery once).
#include "agent/heartbeat.hpp"

#include <sstream>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include "tests/servers/http_receiver.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon::agent {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

// Captures what spdlog's default logger writes while it lives; read it after the heartbeat stopped.
class LogCapture {
public:
    LogCapture() : m_previous(spdlog::default_logger()) {
        auto logger = std::make_shared<spdlog::logger>(
            "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(m_out));
        logger->set_level(spdlog::level::trace);
        spdlog::set_default_logger(logger);
    }
    ~LogCapture() { spdlog::set_default_logger(m_previous); }
    std::string text() {
        spdlog::default_logger()->flush();
        return m_out.str();
    }

private:
    std::ostringstream m_out;
    std::shared_ptr<spdlog::logger> m_previous;
};

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

HeartbeatConfig to(const std::string& url, std::chrono::milliseconds timeout = 2s) {
    HeartbeatConfig c;
    c.url.source = SecretRef::Source::inline_value;
    c.url.value = Secret(url);
    c.timeout = timeout;
    return c;
}

TEST(Heartbeat, each_beat_is_one_get_of_the_configured_url) {
    test::HttpReceiver receiver;
    ASSERT_TRUE(receiver.valid());
    Heartbeat hb(to(receiver.url("/ping/5f1e-canary")));
    ASSERT_TRUE(hb.enabled());
    hb.beat();
    ASSERT_TRUE(test::wait_until([&] { return receiver.count() == 1; }, 5s));
    hb.beat();
    ASSERT_TRUE(test::wait_until([&] { return receiver.count() == 2; }, 5s));
    hb.stop(2s);
    const auto requests = receiver.requests();
    ASSERT_EQ(requests.size(), 2u);
    for (const auto& r : requests) {
        EXPECT_EQ(r.method, "GET");
        EXPECT_EQ(r.path, "/ping/5f1e-canary");
        EXPECT_TRUE(r.body.empty());
    }
    EXPECT_EQ(hb.stats().sent, 2u);
    EXPECT_EQ(hb.stats().failed, 0u);
}

TEST(Heartbeat, beats_while_a_ping_is_in_flight_are_sent_once_after_it) {
    test::HttpReceiver receiver;
    ASSERT_TRUE(receiver.valid());
    receiver.set_reply(test::HttpReceiver::hang(400ms));
    Heartbeat hb(to(receiver.url("/ping")));
    hb.beat();
    ASSERT_TRUE(test::wait_until([&] { return receiver.count() == 1; }, 5s));
    for (int i = 0; i < 10; ++i) hb.beat();
    hb.stop(5s);
    EXPECT_EQ(receiver.count(), 2u);
    EXPECT_EQ(hb.stats().sent, 2u);
}

TEST(Heartbeat, a_hanging_receiver_is_cut_at_the_timeout_and_beat_returns_at_once) {
    test::HttpReceiver receiver;
    ASSERT_TRUE(receiver.valid());
    receiver.set_reply(test::HttpReceiver::hang(10s));
    LogCapture log;
    Heartbeat hb(to(receiver.url("/ping/5f1e-canary"), 1s));
    const auto t0 = Steady::now();
    hb.beat();
    hb.beat();
    EXPECT_LT(Steady::now() - t0, 50ms);
    ASSERT_TRUE(test::wait_until([&] { return hb.stats().failed >= 1; }, 5s));
    EXPECT_LT(Steady::now() - t0, 3s);
    hb.stop(0ms);
    const auto text = log.text();
    EXPECT_NE(text.find("heartbeat failed"), std::string::npos) << text;
    EXPECT_EQ(text.find("5f1e-canary"), std::string::npos) << text;
}

TEST(Heartbeat, a_failure_is_logged_once_per_distinct_error_and_the_recovery_once) {
    test::HttpReceiver receiver;
    ASSERT_TRUE(receiver.valid());
    receiver.set_reply(test::HttpReceiver::answer(500, "down"));
    LogCapture log;
    Heartbeat hb(to(receiver.url("/ping/5f1e-canary")));
    for (std::size_t i = 1; i <= 3; ++i) {
        hb.beat();
        ASSERT_TRUE(test::wait_until([&] { return hb.stats().sent == i; }, 5s));
    }
    receiver.set_reply(test::HttpReceiver::answer(404, "gone"));
    hb.beat();
    ASSERT_TRUE(test::wait_until([&] { return hb.stats().sent == 4; }, 5s));
    receiver.set_reply(test::HttpReceiver::answer(200));
    for (std::size_t i = 5; i <= 6; ++i) {
        hb.beat();
        ASSERT_TRUE(test::wait_until([&] { return hb.stats().sent == i; }, 5s));
    }
    hb.stop(2s);
    const auto text = log.text();
    EXPECT_EQ(count(text, "heartbeat failed"), 2u) << text;
    EXPECT_EQ(count(text, "HTTP 500"), 1u) << text;
    EXPECT_EQ(count(text, "HTTP 404"), 1u) << text;
    EXPECT_EQ(count(text, "heartbeat: delivered again"), 1u) << text;
    EXPECT_EQ(text.find("5f1e-canary"), std::string::npos) << text;
    EXPECT_EQ(hb.stats().failed, 4u);
    EXPECT_TRUE(hb.stats().last_error.empty());
}

TEST(Heartbeat, a_refused_connection_is_a_logged_failure) {
    const int port = test::free_port();
    LogCapture log;
    Heartbeat hb(to("http://127.0.0.1:" + std::to_string(port) + "/ping"));
    hb.beat();
    ASSERT_TRUE(test::wait_until([&] { return hb.stats().sent == 1; }, 5s));
    hb.stop(0ms);
    EXPECT_EQ(hb.stats().failed, 1u);
    EXPECT_NE(log.text().find("heartbeat failed"), std::string::npos) << log.text();
}

TEST(Heartbeat, without_a_url_beat_does_nothing) {
    Heartbeat hb(HeartbeatConfig{});
    EXPECT_FALSE(hb.enabled());
    hb.beat();
    hb.stop(100ms);
    EXPECT_EQ(hb.stats().sent, 0u);
}

}  // namespace
}  // namespace boxmon::agent
