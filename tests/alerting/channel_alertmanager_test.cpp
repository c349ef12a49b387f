// The alertmanager channel against a real Prometheus Alertmanager (Debian's
// prometheus-alertmanager) on loopback: what boxmon pushed shows in GET /api/v2/alerts, and the
// resolution takes it out.

#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "alerting/channel.hpp"
#include "net/http.hpp"
#include "tests/alerting/channel_fixtures.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon::alerting {
namespace {

using Kind = SendOutcome::Kind;
constexpr const char* k_alertmanager = "/usr/bin/prometheus-alertmanager";

class AlertmanagerTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (!std::filesystem::exists(k_alertmanager)) {
            GTEST_SKIP() << k_alertmanager << " is not installed (Debian package prometheus-alertmanager)";
        }
        m_port = test::free_port();
        test::write_file(m_dir / "alertmanager.yml", "route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n");
        m_process = std::make_unique<test::Process>(std::vector<std::string>{
            k_alertmanager, "--config.file=" + (m_dir / "alertmanager.yml").string(),
            "--storage.path=" + (m_dir / "data").string(), "--web.listen-address=" + address(),
            "--cluster.listen-address="});
        const bool ready = test::wait_until(
            [&] {
                net::HttpRequest r;
                r.method = "GET";
                r.url = Secret(base() + "/-/ready");
                auto res = net::http_request(r, net::TransferOptions{});
                return res && res->status == 200;
            },
            std::chrono::seconds(30));
        ASSERT_TRUE(ready) << "alertmanager did not become ready: " << m_process->err();
    }
    std::string address() const { return "127.0.0.1:" + std::to_string(m_port); }
    std::string base() const { return "http://" + address(); }
    nlohmann::json alerts() const {
        net::HttpRequest r;
        r.method = "GET";
        r.url = Secret(base() + "/api/v2/alerts");
        auto res = net::http_request(r, net::TransferOptions{});
        if (!res || res->status != 200) return nlohmann::json::array();
        return nlohmann::json::parse(res->body);
    }

    test::TempDir m_dir;
    int m_port = 0;
    std::unique_ptr<test::Process> m_process;
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
    // Firing alerts end a few intervals ahead (4 x 60 s) unless boxmon sends again.
    auto ends = parse_iso8601(alert.at("endsAt").get<std::string>());
    ASSERT_TRUE(ends) << alert.dump();
    EXPECT_GE(*ends - now, std::chrono::minutes(3));
    EXPECT_LE(*ends - now, std::chrono::minutes(5));

    Notification r = n;
    r.kind = NotificationKind::resolved;
    r.sequence = 2;
    r.ended = now;
    const SendOutcome resolved = (*ch)->send(r, {});
    ASSERT_EQ(resolved.kind, Kind::delivered) << resolved.detail;
    EXPECT_TRUE(test::wait_until([&] { return alerts().empty(); }, std::chrono::seconds(10))) << alerts().dump();
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
