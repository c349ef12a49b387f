// The alertmanager channel against a real Prometheus Alertmanager (Debian's
// prometheus-alertmanager) on loopback: what boxmon pushed shows in GET /api/v2/alerts, and the
// resolution takes it out.

#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "alerting/channel.hpp"
#include "net/http.hpp"
#include "tests/alerting/channel_fixtures.hpp"
#include "tests/servers/alertmanager.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon::alerting {
namespace {

using Kind = SendOutcome::Kind;

class AlertmanagerTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (!test::Alertmanager::installed()) {
            GTEST_SKIP() << test::Alertmanager::k_binary << " is not installed (Debian package prometheus-alertmanager)";
        }
        m_am = std::make_unique<test::Alertmanager>();
        ASSERT_TRUE(m_am->ready()) << "alertmanager did not become ready: " << m_am->why();
    }
    std::string base() const { return m_am->base(); }
    nlohmann::json alerts() const { return m_am->alerts(); }

    std::unique_ptr<test::Alertmanager> m_am;
};

TEST_F(AlertmanagerTest, a_pushed_alert_shows_with_its_labels_and_the_resolution_ends_it) {
    ChannelConfig c = test::http_channel(ChannelType::alertmanager, base());
    c.labels = {{"team", "ops"}};
    Config config;
    config.general.interval = std::chrono::seconds(60);
    auto ch = make_channel(c, config);
    ASSERT_TRUE(ch) << ch.error().message;

    Notification n = test::cpu_notification();
    const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    n.at = now;
    n.since = now - std::chrono::minutes(5);
    const SendOutcome fired = (*ch)->send(n, {});
    ASSERT_EQ(fired.kind, Kind::delivered) << fired.detail;

    nlohmann::json got;
    ASSERT_TRUE(test::wait_until([&] { return (got = alerts()).size() == 1; }, std::chrono::seconds(10)))
        << got.dump();
    const auto& alert = got.at(0);
    EXPECT_EQ(alert.at("labels").at("alertname"), "cpu_high");
    EXPECT_EQ(alert.at("labels").at("severity"), "critical");
    EXPECT_EQ(alert.at("labels").at("instance"), "web1");
    EXPECT_EQ(alert.at("labels").at("team"), "ops");
    EXPECT_EQ(alert.at("annotations").at("incident_id"), "inc-0001");
    EXPECT_EQ(alert.at("status").at("state"), "active");
    // Firing alerts end four refresh periods ahead (4 x max(1 min resend, 60 s interval)) unless
    // boxmon pushes them again.
    auto ends = parse_iso8601(alert.at("endsAt").get<std::string>());
    ASSERT_TRUE(ends) << alert.dump();
    EXPECT_EQ(*ends - now, std::chrono::minutes(4));

    Notification r = n;
    r.kind = NotificationKind::resolved;
    r.sequence = 2;
    r.ended = now;
    const SendOutcome resolved = (*ch)->send(r, {});
    ASSERT_EQ(resolved.kind, Kind::delivered) << resolved.detail;
    EXPECT_TRUE(test::wait_until([&] { return alerts().empty(); }, std::chrono::seconds(10))) << alerts().dump();
}

TEST_F(AlertmanagerTest, ends_at_counts_from_the_push_so_a_late_delivery_lands_active) {
    ChannelConfig c = test::http_channel(ChannelType::alertmanager, base());
    Config config;
    config.general.interval = std::chrono::seconds(60);
    auto ch = make_channel(c, config);
    ASSERT_TRUE(ch) << ch.error().message;

    // Raised ten minutes ago, while Alertmanager was down: endsAt from the raise would be past.
    const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    Notification n = test::cpu_notification();
    n.at = now - std::chrono::minutes(10);
    n.since = n.at;
    SendContext ctx;
    ctx.now = now;
    const SendOutcome sent = (*ch)->send(n, ctx);
    ASSERT_EQ(sent.kind, Kind::delivered) << sent.detail;
    nlohmann::json got;
    ASSERT_TRUE(test::wait_until([&] { return (got = alerts()).size() == 1; }, std::chrono::seconds(10)))
        << got.dump();
    EXPECT_EQ(got.at(0).at("status").at("state"), "active");
    auto ends = parse_iso8601(got.at(0).at("endsAt").get<std::string>());
    ASSERT_TRUE(ends) << got.dump();
    EXPECT_EQ(*ends - now, std::chrono::minutes(4));
    auto starts = parse_iso8601(got.at(0).at("startsAt").get<std::string>());
    ASSERT_TRUE(starts) << got.dump();
    EXPECT_EQ(*starts, n.since) << "startsAt stays the incident's start";
}

TEST_F(AlertmanagerTest, an_invalid_alert_is_dead_with_alertmanagers_reason) {
    ChannelConfig c = test::http_channel(ChannelType::alertmanager, base());
    auto ch = make_channel(c, Config{});
    ASSERT_TRUE(ch) << ch.error().message;
    Notification n = test::cpu_notification();
    n.since = n.at + std::chrono::hours(1);  // startsAt after endsAt, which Alertmanager refuses
    n.kind = NotificationKind::resolved;
    n.ended = n.at;
    const SendOutcome out = (*ch)->send(n, {});
    EXPECT_EQ(out.kind, Kind::dead) << out.detail;
    EXPECT_NE(out.detail.find("HTTP 400"), std::string::npos) << out.detail;
}

}  // namespace
}  // namespace boxmon::alerting
