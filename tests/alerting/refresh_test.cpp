// Refresh notifications on the delivery side: they go only to alertmanager channels, carry no
// log tails or window, and coalesce to one outbox row per incident and channel -- on the SQLite
// outbox and on the in-memory one used while the store is down -- so a receiver that is down
// for hours finds one refresh waiting, not hundreds.
#include <gtest/gtest.h>

#include <algorithm>

#include "alerting/alerting.hpp"
#include "alerting/notification_json.hpp"
#include "store/store.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon::alerting {
namespace {

using namespace std::chrono_literals;

const WallTime k_t0 = from_unix_seconds(1'795'435'200);

ChannelConfig channel(std::string name, ChannelType type) {
    ChannelConfig c;
    c.name = std::move(name);
    c.type = type;
    return c;
}

Notification refresh_of(std::string incident, WallTime at, double value) {
    Notification n;
    n.incident_id = std::move(incident);
    n.sequence = 1;
    n.kind = NotificationKind::refresh;
    n.severity = Severity::critical;
    n.rule = "cpu_high";
    n.series = SeriesKey("cpu_percent");
    n.value = value;
    n.at = at;
    n.since = k_t0;
    n.host = "h1";
    return n;
}

Config two_channel_config(const test::TempDir& dir) {
    Config config;
    config.channels = {channel("mail", ChannelType::smtp), channel("am", ChannelType::alertmanager),
                       channel("slack", ChannelType::slack)};
    test::write_file(dir / "app.log", "one\ntwo\n");
    LogSourceConfig log;
    log.name = "app";
    log.path = dir / "app.log";
    config.logs = {log};
    config.rule_defaults.logs = {"app"};
    return config;
}

TEST(RefreshPeriod, is_the_resend_delay_at_least_the_interval_and_only_with_an_alertmanager_channel) {
    Config config;
    config.general.interval = 10s;
    EXPECT_FALSE(refresh_period(config).has_value()) << "no alertmanager channel: nothing expires";
    config.channels = {channel("am", ChannelType::alertmanager)};
    EXPECT_EQ(refresh_period(config), std::optional<std::chrono::milliseconds>(60s));
    EXPECT_EQ(alertmanager_ends_ahead(config), 4min);
    config.general.interval = 5min;
    EXPECT_EQ(refresh_period(config), std::optional<std::chrono::milliseconds>(5min));
    EXPECT_EQ(alertmanager_ends_ahead(config), 20min);
    config.general.interval = 1s;
    config.alerting.alertmanager_resend = 2s;
    EXPECT_EQ(refresh_period(config), std::optional<std::chrono::milliseconds>(2s));
    EXPECT_EQ(alertmanager_ends_ahead(config), 8s);
}

TEST(Preparer, a_refresh_goes_only_to_alertmanager_channels_without_tails_or_window) {
    test::TempDir dir;
    Config config = two_channel_config(dir);
    RuleConfig rule;
    rule.name = "cpu_high";
    rule.metric = "cpu_percent";
    rule.builtin = true;
    config.rules = {rule};
    auto p = Preparer::create(config);
    ASSERT_TRUE(p.has_value());

    Notification n = refresh_of("inc-1", k_t0 + 2min, 97);
    n.window = {{k_t0, 95.0}, {k_t0 + 1min, 97.0}};
    auto items = p->prepare(n, n.at);
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].channel, "am");
    EXPECT_EQ(items[0].kind, "refresh");
    EXPECT_EQ(items[0].idempotency_key, "inc-1#refresh");
    auto decoded = notification_from_json(items[0].payload);
    ASSERT_TRUE(decoded.has_value()) << decoded.error().message;
    EXPECT_EQ(decoded->kind, NotificationKind::refresh);
    EXPECT_TRUE(decoded->tails.empty());
    EXPECT_TRUE(decoded->window.empty());

    // The firing notification of the same rule still goes everywhere, with its log.
    Notification firing = refresh_of("inc-1", k_t0 + 2min, 97);
    firing.kind = NotificationKind::firing;
    auto all = p->prepare(firing, firing.at);
    EXPECT_EQ(all.size(), 3u);
    ASSERT_EQ(firing.tails.size(), 1u);
    EXPECT_EQ(firing.tails[0].lines, (std::vector<std::string>{"one", "two"}));

    // A rule routed to people only gets no refresh rows at all.
    config.rules[0].channels = {"mail", "slack"};
    auto people = Preparer::create(config);
    ASSERT_TRUE(people.has_value());
    Notification again = refresh_of("inc-1", k_t0 + 4min, 97);
    EXPECT_TRUE(people->prepare(again, again.at).empty());
}

std::vector<OutboxItem> refresh_items(Preparer& p, const std::string& incident, WallTime at, double value) {
    Notification n = refresh_of(incident, at, value);
    return p.prepare(n, at);
}

TEST(Outbox, refreshes_coalesce_to_one_row_per_incident_and_channel_that_keeps_its_backoff) {
    test::TempDir dir;
    Config config = two_channel_config(dir);
    auto p = Preparer::create(config);
    ASSERT_TRUE(p.has_value());
    store::StoreOptions options;
    options.path = dir / "boxmon.db";
    auto opened = store::Store::open(options);
    ASSERT_TRUE(opened) << opened.error().message;
    store::Store& db = **opened;
    OutboxStore& ob = db.outbox();

    // The receiver is down: refreshes of one incident keep arriving, one per period.
    store::TickWrite tick;
    tick.sample.ts = k_t0;
    tick.outbox = refresh_items(*p, "inc-1", k_t0, 91);
    ASSERT_TRUE(db.commit_tick(tick));
    auto rows = ob.due(k_t0, 10);
    ASSERT_TRUE(rows && rows->size() == 1u);
    const std::int64_t id = (*rows)[0].id;
    ASSERT_TRUE(ob.mark_retry(id, k_t0 + 5min, "Alertmanager is down", true));
    for (int i = 1; i <= 30; ++i) {
        store::TickWrite later;
        later.sample.ts = k_t0 + i * 1min;
        later.outbox = refresh_items(*p, "inc-1", later.sample.ts, 91 + i * 0.1);
        ASSERT_TRUE(db.commit_tick(later));
    }
    ASSERT_TRUE(ob.insert(refresh_items(*p, "inc-2", k_t0 + 31min, 50)));  // another incident: its own row
    auto all = ob.recent(WallTime{}, 100);
    ASSERT_TRUE(all);
    ASSERT_EQ(all->size(), 2u);
    const OutboxRow& one = all->back();
    EXPECT_EQ(one.id, id);
    EXPECT_EQ(one.state, OutboxState::pending);
    EXPECT_EQ(one.attempts, 1) << "the backoff goes on";
    EXPECT_EQ(one.next_attempt, k_t0 + 5min);
    EXPECT_EQ(one.item.created, k_t0) << "dead_after counts from the first refresh that waited";
    auto payload = notification_from_json(one.item.payload);
    ASSERT_TRUE(payload.has_value());
    EXPECT_EQ(payload->at, k_t0 + 30min) << "the newest refresh is what will be sent";
    EXPECT_DOUBLE_EQ(payload->value, 94);

    // Delivered, then the next refresh re-arms the same row.
    ASSERT_TRUE(ob.mark_delivered(id, k_t0 + 31min));
    ASSERT_TRUE(ob.insert(refresh_items(*p, "inc-1", k_t0 + 32min, 99)));
    all = ob.recent(WallTime{}, 100);
    ASSERT_TRUE(all);
    ASSERT_EQ(all->size(), 2u);
    const auto rearmed = std::find_if(all->begin(), all->end(), [&](const OutboxRow& r) { return r.id == id; });
    ASSERT_NE(rearmed, all->end());
    EXPECT_EQ(rearmed->state, OutboxState::pending);
    EXPECT_EQ(rearmed->attempts, 0);
    EXPECT_EQ(rearmed->item.created, k_t0 + 32min);
    EXPECT_EQ(rearmed->next_attempt, k_t0 + 32min);
    EXPECT_FALSE(rearmed->finished.has_value());
    EXPECT_TRUE(rearmed->last_error.empty());
}

TEST(Outbox, refreshes_kept_in_memory_while_the_store_is_down_coalesce_too) {
    test::TempDir dir;
    Config config = two_channel_config(dir);
    auto p = Preparer::create(config);
    ASSERT_TRUE(p.has_value());
    store::StoreOptions options;
    options.path = dir / "boxmon.db";
    auto opened = store::Store::open(options);
    ASSERT_TRUE(opened) << opened.error().message;
    FakeClock clock{k_t0};
    Dispatcher dispatcher(config, (*opened)->outbox(), clock);  // not started: rows stay in memory
    for (int i = 0; i < 20; ++i) dispatcher.submit_unpersisted(refresh_items(*p, "inc-1", k_t0 + i * 1min, 90 + i));
    const auto rows = dispatcher.take_unpersisted();
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].item.kind, "refresh");
    auto payload = notification_from_json(rows[0].item.payload);
    ASSERT_TRUE(payload.has_value());
    EXPECT_EQ(payload->at, k_t0 + 19min);
}

}  // namespace
}  // namespace boxmon::alerting
