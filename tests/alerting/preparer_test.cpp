// Preparer: channel choice, log tails captured at prepare time, one outbox item per channel.
#include <gtest/gtest.h>

#include "alerting/alerting.hpp"
#include "alerting/notification_json.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon::alerting {
namespace {

ChannelConfig channel(std::string name, ChannelType type = ChannelType::webhook) {
    ChannelConfig c;
    c.name = std::move(name);
    c.type = type;
    return c;
}

RuleConfig rule(std::string name, std::vector<std::string> channels = {}, std::vector<std::string> logs = {}) {
    RuleConfig r;
    r.name = std::move(name);
    r.metric = "cpu_percent";
    r.channels = std::move(channels);
    r.logs = std::move(logs);
    return r;
}

Notification notification(std::string rule_name) {
    Notification n;
    n.incident_id = "inc-1";
    n.sequence = 2;
    n.kind = NotificationKind::firing;
    n.rule = std::move(rule_name);
    n.series = SeriesKey("cpu_percent");
    n.at = from_unix_seconds(1'700'000'000);
    n.since = n.at;
    n.host = "h1";
    return n;
}

TEST(Preparer, ChannelsComeFromTheRuleThenDefaultsThenAllThenLog) {
    Config config;
    auto p0 = Preparer::create(config);
    ASSERT_TRUE(p0.has_value());
    EXPECT_EQ(p0->channels_for(notification("any")), (std::vector<std::string>{"log"}));

    config.channels = {channel("mail", ChannelType::smtp), channel("hook")};
    auto p1 = Preparer::create(config);
    ASSERT_TRUE(p1.has_value());
    EXPECT_EQ(p1->channels_for(notification("any")), (std::vector<std::string>{"mail", "hook"}));

    config.alerting.default_channels = {"hook"};
    config.rules = {rule("own", {"mail"}), rule("plain")};
    auto p2 = Preparer::create(config);
    ASSERT_TRUE(p2.has_value());
    EXPECT_EQ(p2->channels_for(notification("own")), (std::vector<std::string>{"mail"}));
    EXPECT_EQ(p2->channels_for(notification("plain")), (std::vector<std::string>{"hook"}));
    EXPECT_EQ(p2->channels_for(notification("unknown-rule")), (std::vector<std::string>{"hook"}));
}

TEST(Preparer, BadRedactPatternIsAConfigError) {
    Config config;
    config.alerting.redact = {"(unclosed"};
    auto p = Preparer::create(config);
    ASSERT_FALSE(p.has_value());
    EXPECT_EQ(p.error().kind, ErrorKind::config);
    EXPECT_NE(p.error().message.find("(unclosed"), std::string::npos) << p.error().message;
}

TEST(Preparer, OneItemPerChannelWithTheNotificationAsPayload) {
    test::TempDir dir;
    test::write_file(dir / "app.log", "one\ntwo token=s3cr3t\nthree\nfour\n");
    Config config;
    config.channels = {channel("mail", ChannelType::smtp), channel("hook")};
    config.rules = {rule("cpu", {}, {"app", "ghost"})};
    config.alerting.log_lines = 2;
    LogSourceConfig log;
    log.name = "app";
    log.path = dir / "app.log";
    config.logs = {log};
    auto p = Preparer::create(config);
    ASSERT_TRUE(p.has_value());

    Notification n = notification("cpu");
    const WallTime now = from_unix_seconds(1'700'000'005);
    auto items = p->prepare(n, now);
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(n.channels, (std::vector<std::string>{"mail", "hook"}));
    EXPECT_EQ(items[0].channel, "mail");
    EXPECT_EQ(items[1].channel, "hook");
    for (const auto& item : items) {
        EXPECT_EQ(item.incident_id, "inc-1");
        EXPECT_EQ(item.idempotency_key, "inc-1#2");
        EXPECT_EQ(item.kind, "firing");
        EXPECT_EQ(item.created, now);
    }
    auto decoded = notification_from_json(items[0].payload);
    ASSERT_TRUE(decoded.has_value()) << decoded.error().message;
    ASSERT_EQ(decoded->tails.size(), 2u);
    EXPECT_EQ(decoded->tails[0].name, "app");
    EXPECT_EQ(decoded->tails[0].lines, (std::vector<std::string>{"three", "four"}));
    EXPECT_EQ(decoded->tails[1].name, "ghost");
    EXPECT_TRUE(decoded->tails[1].lines.empty());
    EXPECT_EQ(decoded->tails[1].note, "log \"ghost\" is not configured under [logs]");

    // The tail is what the log held at prepare time, redacted.
    config.alerting.log_lines = 3;
    auto p3 = Preparer::create(config);
    ASSERT_TRUE(p3.has_value());
    Notification n3 = notification("cpu");
    auto items3 = p3->prepare(n3, now);
    ASSERT_FALSE(items3.empty());
    EXPECT_EQ(n3.tails[0].lines[0].find("s3cr3t"), std::string::npos) << n3.tails[0].lines[0];
    EXPECT_EQ(items3[0].payload.find("s3cr3t"), std::string::npos);
}

TEST(Preparer, WindowIsCutToTheConfiguredSpan) {
    Config config;
    config.alerting.window = std::chrono::minutes(10);
    auto p = Preparer::create(config);
    ASSERT_TRUE(p.has_value());
    Notification n = notification("x");
    for (int m = 30; m >= 0; m -= 5) n.window.push_back({n.at - std::chrono::minutes(m), static_cast<double>(m)});
    (void)p->prepare(n, n.at);
    ASSERT_EQ(n.window.size(), 3u);  // 10, 5 and 0 minutes back
    EXPECT_EQ(n.window.front().value, 10.0);
    EXPECT_EQ(n.window.back().value, 0.0);
}

TEST(Preparer, HostIsFilledWhenTheEngineLeftItEmpty) {
    Config config;
    config.general.hostname = "configured-host";
    auto p = Preparer::create(config);
    ASSERT_TRUE(p.has_value());
    Notification n = notification("x");
    n.host.clear();
    (void)p->prepare(n, n.at);
    EXPECT_EQ(n.host, "configured-host");
}

}  // namespace
}  // namespace boxmon::alerting
