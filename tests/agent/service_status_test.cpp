// The services section of `boxmon status`, read from a real SQLite store written tick by tick.
#include "agent/service_status.hpp"

#include <gtest/gtest.h>

#include "tests/support/test_support.hpp"

namespace boxmon::agent {
namespace {

using namespace std::chrono_literals;

store::HistoryPoint at(std::int64_t s, double v) {
    store::HistoryPoint p;
    p.ts = from_unix_seconds(s);
    p.value = v;
    return p;
}

TEST(ValueSince, IsTheFirstPointOfTheLastRunOfEqualValues) {
    EXPECT_FALSE(value_since({}).has_value());
    const auto one = value_since({at(60, 1)});
    ASSERT_TRUE(one);
    EXPECT_EQ(one->first, from_unix_seconds(60));
    EXPECT_TRUE(one->second) << "the run reaches back to the first point read";
    const auto changed = value_since({at(60, 1), at(120, 0), at(180, 1), at(240, 1)});
    ASSERT_TRUE(changed);
    EXPECT_EQ(changed->first, from_unix_seconds(180));
    EXPECT_FALSE(changed->second);
}

class ServiceStatus : public ::testing::Test {
protected:
    void SetUp() override {
        store::StoreOptions o;
        o.path = m_dir / "boxmon.db";
        auto s = store::Store::open(o);
        ASSERT_TRUE(s) << s.error().message;
        m_db = std::move(*s);

        ServiceConfig chat;
        chat.name = "chat";
        chat.match = "chat-server";
        chat.memory_limit = 24ull << 30;
        CheckConfig health;
        health.name = "health";
        chat.checks.push_back(health);
        ServiceConfig embed;
        embed.name = "embed";
        embed.match = "embed-server";
        ServiceConfig later;
        later.name = "later";  // configured after the last tick: no points yet
        later.match = "x";
        m_config.services = {chat, embed, later};
    }

    // One tick at `s` seconds: chat up or down, embed always up.
    void tick(std::int64_t s, bool chat_up) {
        store::TickWrite w;
        w.sample.ts = from_unix_seconds(s);
        const std::vector<Label> chat = {{"service", "chat"}};
        const std::vector<Label> embed = {{"service", "embed"}};
        w.sample.add(SeriesKey("service_up", chat), chat_up ? 1 : 0);
        w.sample.add(SeriesKey("service_processes", chat), chat_up ? 3 : 0);
        if (chat_up) {
            w.sample.add(SeriesKey("service_rss_bytes", chat), 3.0 * (1ull << 30));
            w.sample.add(SeriesKey("service_cpu_percent", chat), 150);
            w.sample.add(SeriesKey("service_gpu_memory_bytes", chat), 20.0 * (1ull << 30));
        }
        w.sample.add(SeriesKey("check_up", {{"check", "health"}, {"service", "chat"}}), chat_up ? 1 : 0);
        w.sample.add(SeriesKey("check_latency_seconds", {{"check", "health"}, {"service", "chat"}}),
                     chat_up ? 0.012 : 5.0);
        w.sample.add(SeriesKey("service_up", embed), 1);
        w.sample.add(SeriesKey("service_processes", embed), 1);
        auto r = m_db->commit_tick(w);
        ASSERT_TRUE(r) << r.error().message;
    }

    test::TempDir m_dir;
    std::unique_ptr<store::Store> m_db;
    Config m_config;
};

TEST_F(ServiceStatus, SaysUpOrDownSinceTheLastChangeWithUsageAndChecks) {
    const std::int64_t t0 = 1'795'450'200;
    for (int i = 0; i < 5; ++i) tick(t0 + 60 * i, true);
    tick(t0 + 300, false);
    tick(t0 + 360, false);
    const WallTime last = from_unix_seconds(t0 + 360);
    auto states = read_service_states(m_config, *m_db, last, 7 * 24h);
    ASSERT_TRUE(states) << states.error().message;
    ASSERT_EQ(states->size(), 3u);

    const auto& chat = (*states)[0];
    EXPECT_EQ(chat.up, false);
    EXPECT_EQ(chat.since, from_unix_seconds(t0 + 300));
    EXPECT_FALSE(chat.since_at_least);
    ASSERT_EQ(chat.checks.size(), 1u);
    EXPECT_EQ(chat.checks[0].up, false);
    EXPECT_EQ(chat.checks[0].latency_seconds, 5.0);
    EXPECT_FALSE(chat.rss_bytes.has_value()) << "no RSS while down";

    const auto& embed = (*states)[1];
    EXPECT_EQ(embed.up, true);
    EXPECT_EQ(embed.since, from_unix_seconds(t0));
    EXPECT_TRUE(embed.since_at_least);
    EXPECT_FALSE((*states)[2].up.has_value());

    const std::string text = render_service_states(*states, last + 60s);
    EXPECT_EQ(text,
              "\nSERVICES\n"
              "  chat      DOWN for 2m (since 2026-11-23T16:15:00Z)\n"
              "            check health: FAILING in 5 s\n"
              "  embed     up for at least 7m (since 2026-11-23T16:10:00Z)\n"
              "            1 process\n"
              "  later     unknown (not in the last sample)\n");

    // Back up: usage shows, with the configured limit.
    tick(t0 + 420, true);
    states = read_service_states(m_config, *m_db, from_unix_seconds(t0 + 420), 7 * 24h);
    ASSERT_TRUE(states);
    const std::string up = render_service_states(*states, from_unix_seconds(t0 + 420));
    EXPECT_NE(up.find("  chat      up for 0s (since 2026-11-23T16:17:00Z)\n"
                      "            3 processes, RSS 3.0 GiB of 24.0 GiB limit, CPU 150.0%, GPU memory 20.0 GiB\n"
                      "            check health: ok in 0.012 s\n"),
              std::string::npos)
        << up;
    const auto j = service_states_to_json(*states);
    EXPECT_EQ(j[0]["name"], "chat");
    EXPECT_EQ(j[0]["up"], true);
    EXPECT_EQ(j[0]["gpu_memory_bytes"], 20.0 * (1ull << 30));
    EXPECT_EQ(j[0]["checks"][0]["latency_seconds"], 0.012);
    EXPECT_TRUE(j[2]["up"].is_null());
}

TEST(ServiceStatusRender, IsEmptyWithoutServices) { EXPECT_EQ(render_service_states({}, WallTime{}), ""); }

}  // namespace
}  // namespace boxmon::agent
