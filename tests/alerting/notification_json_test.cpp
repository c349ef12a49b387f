// The outbox payload: Notification -> JSON -> Notification is lossless.
#include "alerting/notification_json.hpp"

#include <cmath>
#include <cstring>
#include <limits>

#include <gtest/gtest.h>

namespace boxmon::alerting {
namespace {

Notification full() {
    Notification n;
    n.incident_id = "inc-42";
    n.sequence = 3;
    n.kind = NotificationKind::escalated;
    n.incident_kind = IncidentKind::threshold;
    n.severity = Severity::critical;
    n.rule = "cpu_high";
    n.description = "CPU busy above 90%";
    n.series = SeriesKey("cpu_percent", {{"cpu", "total"}, {"host", "a \"b\"\n"}});
    n.op = ">=";
    n.value = 97.123456789012345;
    n.threshold = 90;
    n.for_samples = 3;
    n.at = from_unix_ms(1'700'000'123'456);
    n.since = from_unix_ms(1'700'000'000'001);
    n.ended = from_unix_ms(1'700'000'999'999);
    n.peak = 0.1 + 0.2;  // not exactly representable: the round trip must keep every bit
    n.reason = "severity_up";
    n.host = "web-1";
    n.channels = {"mail", "slack"};
    n.logs = {"nginx", "sshd"};
    n.window = {{from_unix_ms(1'700'000'000'000), 1.5},
                {from_unix_ms(1'700'000'060'000), std::numeric_limits<double>::quiet_NaN()},
                {from_unix_ms(1'700'000'120'000), std::numeric_limits<double>::infinity()},
                {from_unix_ms(1'700'000'180'000), -std::numeric_limits<double>::infinity()}};
    n.tails = {LogTail{"nginx", "/var/log/nginx/error.log", {"line one", "ünïcode ✓", ""}, "(from rotated file)"},
               LogTail{"sshd", "journal:ssh.service", {}, "journalctl not found"}};
    return n;
}

bool same_double(double a, double b) {
    if (std::isnan(a)) return std::isnan(b);
    return std::memcmp(&a, &b, sizeof a) == 0;
}

void expect_same(const Notification& a, const Notification& b) {
    EXPECT_EQ(a.incident_id, b.incident_id);
    EXPECT_EQ(a.sequence, b.sequence);
    EXPECT_EQ(a.kind, b.kind);
    EXPECT_EQ(a.incident_kind, b.incident_kind);
    EXPECT_EQ(a.severity, b.severity);
    EXPECT_EQ(a.rule, b.rule);
    EXPECT_EQ(a.description, b.description);
    EXPECT_EQ(a.series, b.series);
    EXPECT_EQ(a.op, b.op);
    EXPECT_TRUE(same_double(a.value, b.value)) << a.value << " vs " << b.value;
    EXPECT_TRUE(same_double(a.threshold, b.threshold));
    EXPECT_EQ(a.for_samples, b.for_samples);
    EXPECT_EQ(a.at, b.at);
    EXPECT_EQ(a.since, b.since);
    EXPECT_EQ(a.ended, b.ended);
    EXPECT_TRUE(same_double(a.peak, b.peak));
    EXPECT_EQ(a.reason, b.reason);
    EXPECT_EQ(a.host, b.host);
    EXPECT_EQ(a.channels, b.channels);
    EXPECT_EQ(a.logs, b.logs);
    ASSERT_EQ(a.window.size(), b.window.size());
    for (std::size_t i = 0; i < a.window.size(); ++i) {
        EXPECT_EQ(a.window[i].ts, b.window[i].ts);
        EXPECT_TRUE(same_double(a.window[i].value, b.window[i].value)) << i;
    }
    ASSERT_EQ(a.tails.size(), b.tails.size());
    for (std::size_t i = 0; i < a.tails.size(); ++i) {
        EXPECT_EQ(a.tails[i].name, b.tails[i].name);
        EXPECT_EQ(a.tails[i].source, b.tails[i].source);
        EXPECT_EQ(a.tails[i].lines, b.tails[i].lines);
        EXPECT_EQ(a.tails[i].note, b.tails[i].note);
    }
    EXPECT_EQ(a.idempotency_key(), b.idempotency_key());
}

TEST(NotificationJson, RoundTripIsLossless) {
    const Notification n = full();
    auto back = notification_from_json(notification_to_json(n));
    ASSERT_TRUE(back.has_value()) << back.error().message;
    expect_same(n, *back);
}

TEST(NotificationJson, RoundTripOfADefaultNotification) {
    Notification n;  // NaN values, no ended, empty lists
    auto back = notification_from_json(notification_to_json(n));
    ASSERT_TRUE(back.has_value()) << back.error().message;
    expect_same(n, *back);
    EXPECT_FALSE(back->ended.has_value());
}

// Outbox rows written before notifications carried the rule's description still deliver.
TEST(NotificationJson, ARowWithoutADescriptionReadsAsOneWithoutIt) {
    std::string json = notification_to_json(full());
    const std::string field = "\"description\":\"CPU busy above 90%\",";
    const auto pos = json.find(field);
    ASSERT_NE(pos, std::string::npos) << json;
    json.erase(pos, field.size());
    auto back = notification_from_json(json);
    ASSERT_TRUE(back.has_value()) << back.error().message;
    EXPECT_EQ(back->description, "");
    EXPECT_EQ(back->rule, "cpu_high");
}

TEST(NotificationJson, IsOneLineOfJson) {
    const std::string json = notification_to_json(full());
    EXPECT_EQ(json.find('\n'), std::string::npos);
    EXPECT_NE(json.find("\"incident_id\":\"inc-42\""), std::string::npos) << json;
}

TEST(NotificationJson, InvalidUtf8BecomesReplacementCharacters) {
    Notification n = full();
    n.tails[0].lines = {"bad \xff\xfe end"};
    const std::string json = notification_to_json(n);
    auto back = notification_from_json(json);
    ASSERT_TRUE(back.has_value()) << back.error().message;
    EXPECT_EQ(back->tails[0].lines[0], "bad \xEF\xBF\xBD\xEF\xBF\xBD end");
}

TEST(NotificationJson, BadInputFailsWithTheField) {
    auto not_json = notification_from_json("{nope");
    ASSERT_FALSE(not_json.has_value());
    EXPECT_NE(not_json.error().message.find("not valid JSON"), std::string::npos);

    auto not_object = notification_from_json("[1,2]");
    ASSERT_FALSE(not_object.has_value());
    EXPECT_EQ(not_object.error().message, "notification JSON: not an object");

    std::string json = notification_to_json(full());
    const auto pos = json.find("\"sequence\":3");
    ASSERT_NE(pos, std::string::npos);
    json.replace(pos, 12, "\"sequence\":\"3\"");
    auto bad = notification_from_json(json);
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error().message, "notification JSON: field \"sequence\" missing or not an integer");

    std::string bad_kind = notification_to_json(full());
    const auto kpos = bad_kind.find("\"escalated\"");
    bad_kind.replace(kpos, 11, "\"exploded\"");
    auto k = notification_from_json(bad_kind);
    ASSERT_FALSE(k.has_value());
    EXPECT_NE(k.error().message.find("exploded"), std::string::npos);

    auto empty = notification_from_json("");
    EXPECT_FALSE(empty.has_value());
}

}  // namespace
}  // namespace boxmon::alerting
