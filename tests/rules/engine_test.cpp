// The engine beyond one series: matchers, independence of series, built-in rules, status text,
// restore, reboots.

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/config_load.hpp"
#include "rules/engine.hpp"
#include "rules_harness.hpp"

namespace boxmon::rules::test {
namespace {

// Status texts are in local time; the tests fix the zone.
class LocalTimeIsUtc : public ::testing::Environment {
public:
    void SetUp() override {
        ::setenv("TZ", "UTC", 1);
        ::tzset();
    }
};
const auto* const k_utc_env = ::testing::AddGlobalTestEnvironment(new LocalTimeIsUtc);

RuleConfig disk_rule() {
    RuleConfig r;
    r.name = "disk_full";
    r.metric = "disk_used_percent";
    r.op = ">";
    r.critical = 90;
    r.for_samples = 3;
    r.cooldown = 30min;
    return r;
}

SeriesKey mount(const std::string& m) { return SeriesKey("disk_used_percent", {{"mount", m}}); }

std::vector<RuleConfig> builtin_rules() {
    std::vector<RuleConfig> rules = default_config().rules;
    // Guard against a loader that stops generating them.
    EXPECT_GE(rules.size(), 5U);
    return rules;
}

// The default series set: ~60 series of the built-in metrics.
std::vector<Point> quiet_host(double cpu) {
    std::vector<Point> points;
    points.push_back({SeriesKey("cpu_percent"), cpu});
    points.push_back({SeriesKey("mem_used_percent"), 40});
    points.push_back({mount("/"), 50});
    points.push_back({mount("/home"), 60});
    points.push_back({SeriesKey("net_rx_bytes_per_second"), 1e6});
    points.push_back({SeriesKey("net_tx_bytes_per_second"), 1e6});
    points.push_back({SeriesKey("net_rx_bytes_per_second", {{"iface", "eth0"}}), 1e6});
    return points;
}

TEST(Engine, a_rule_without_matchers_watches_each_mount_separately) {
    Driver run({disk_rule()});
    for (int i = 0; i < 3; ++i) run.tick({{mount("/"), 95}, {mount("/home"), 50}});
    ASSERT_EQ(run.notifications.size(), 1U);
    EXPECT_EQ(run.notifications[0].series, mount("/"));
    EXPECT_EQ(run.notifications[0].idempotency_key(), run.notifications[0].incident_id + "#1");
    // /home rising later has its own streak and its own incident; / stays quiet.
    for (int i = 0; i < 3; ++i) run.tick({{mount("/"), 95}, {mount("/home"), 97}});
    ASSERT_EQ(run.notifications.size(), 2U);
    EXPECT_EQ(run.notifications[1].series, mount("/home"));
    EXPECT_NE(run.notifications[0].incident_id, run.notifications[1].incident_id);
    EXPECT_EQ(run.incidents.size(), 2U);
}

TEST(Engine, a_matcher_selects_series_and_an_empty_value_means_the_label_is_absent) {
    RuleConfig total;
    total.name = "rx_total";
    total.metric = "net_rx_bytes_per_second";
    total.labels = {{"iface", ""}};
    total.critical = 100;
    total.for_samples = 1;
    total.absent = false;  // the series come and go on purpose here
    RuleConfig eth0 = total;
    eth0.name = "rx_eth0";
    eth0.labels = {{"iface", "eth0"}};
    Driver run({total, eth0});
    run.tick({{SeriesKey("net_rx_bytes_per_second", {{"iface", "wlan0"}}), 500}});
    EXPECT_TRUE(run.notifications.empty());
    run.tick({{SeriesKey("net_rx_bytes_per_second", {{"iface", "eth0"}}), 500}});
    ASSERT_EQ(run.notifications.size(), 1U);
    EXPECT_EQ(run.notifications[0].rule, "rx_eth0");
    run.tick({{SeriesKey("net_rx_bytes_per_second"), 500}});
    ASSERT_EQ(run.notifications.size(), 2U);
    EXPECT_EQ(run.notifications[1].rule, "rx_total");
}

// The "done when" of the issue: built-in rules, no config.
TEST(Engine, builtin_cpu_rule_fires_once_stays_quiet_through_the_cooldown_and_resolves_once) {
    Driver run(builtin_rules());
    for (int i = 0; i < 3; ++i) run.tick(quiet_host(97));
    ASSERT_EQ(run.notifications.size(), 1U);
    const Notification first = run.notifications[0];
    EXPECT_EQ(first.rule, "cpu_high");
    EXPECT_EQ(first.description, "CPU busy above 90%") << "the rule's sentence travels with its alerts";
    EXPECT_EQ(first.kind, NotificationKind::firing);
    EXPECT_EQ(first.severity, Severity::critical);
    EXPECT_EQ(first.threshold, 90);
    EXPECT_EQ(first.value, 97);
    EXPECT_EQ(first.host, "box");
    EXPECT_EQ(first.at, k_t0 + 2min);
    for (int i = 0; i < 20; ++i) run.tick(quiet_host(99));  // held high: nothing more
    ASSERT_EQ(run.notifications.size(), 1U);
    for (int i = 0; i < 3; ++i) run.tick(quiet_host(10));
    ASSERT_EQ(run.notifications.size(), 2U);
    const Notification resolved = run.notifications[1];
    EXPECT_EQ(resolved.kind, NotificationKind::resolved);
    EXPECT_EQ(resolved.incident_id, first.incident_id);
    EXPECT_EQ(resolved.sequence, 2);
    EXPECT_EQ(resolved.peak, 99);
    ASSERT_TRUE(resolved.ended.has_value());
    EXPECT_EQ(*resolved.ended - resolved.since, 23min);
    // Inside the 30 min cooldown a new breach opens an incident but stays quiet.
    for (int i = 0; i < 10; ++i) run.tick(quiet_host(97));
    for (int i = 0; i < 3; ++i) run.tick(quiet_host(10));
    EXPECT_EQ(run.notifications.size(), 2U);
    EXPECT_EQ(run.incidents.size(), 2U);
    for (const auto& [id, inc] : run.incidents) EXPECT_TRUE(inc.end.has_value()) << id;
}

TEST(Engine, builtin_rules_survive_a_restart_in_the_middle_without_a_second_notification) {
    Driver run(builtin_rules());
    run.tick(quiet_host(97));
    run.tick(quiet_host(97));
    ASSERT_TRUE(run.restart().empty());
    run.tick(quiet_host(97));  // the third breach still counts
    ASSERT_EQ(run.notifications.size(), 1U);
    ASSERT_TRUE(run.restart().empty());
    for (int i = 0; i < 5; ++i) run.tick(quiet_host(97));
    ASSERT_TRUE(run.restart().empty());
    for (int i = 0; i < 3; ++i) run.tick(quiet_host(10));
    ASSERT_EQ(run.notifications.size(), 2U);
    EXPECT_EQ(run.notifications[1].kind, NotificationKind::resolved);
    EXPECT_EQ(run.notifications[1].incident_id, run.notifications[0].incident_id);
    ASSERT_TRUE(run.restart().empty());
    for (int i = 0; i < 3; ++i) run.tick(quiet_host(97));  // inside the cooldown: quiet
    EXPECT_EQ(run.notifications.size(), 2U);
}

TEST(Engine, status_says_ok_pending_firing_and_cooldown_in_local_time) {
    RuleConfig r = disk_rule();
    r.cooldown = 30min;
    Driver run({r});
    run.tick({{mount("/"), 50}});
    auto st = run.engine().status(run.ctx);
    ASSERT_EQ(st.size(), 1U);
    EXPECT_EQ(st[0].text, "ok");
    run.tick({{mount("/"), 95}});
    run.tick({{mount("/"), 95}});
    st = run.engine().status(run.ctx);
    EXPECT_EQ(st[0].text, "pending 2 of 3");
    EXPECT_EQ(st[0].phase, "pending");
    EXPECT_EQ(st[0].streak, 2);
    run.tick({{mount("/"), 95}});  // fires at 12:03
    st = run.engine().status(run.ctx);
    EXPECT_EQ(st[0].text, "firing critical since 12:03");
    EXPECT_FALSE(st[0].incident_id.empty());
    for (int i = 0; i < 3; ++i) run.tick({{mount("/"), 10}});  // resolved at 12:06
    st = run.engine().status(run.ctx);
    EXPECT_EQ(st[0].text, "in cooldown until 12:36");
    // A wall clock step does not move the end of the cooldown (boot time measures it).
    run.step_wall(-1h);
    st = run.engine().status(run.ctx);
    EXPECT_EQ(st[0].text, "in cooldown until 11:36");
    run.step_wall(1h);
    run.advance(40min);
    st = run.engine().status(run.ctx);
    EXPECT_EQ(st[0].text, "ok");
}

TEST(Engine, status_says_absent_for_a_series_that_stopped_arriving) {
    Driver run({disk_rule()});
    run.tick({{mount("/"), 50}, {mount("/usb"), 50}});
    for (int i = 0; i < 3; ++i) run.tick({{mount("/"), 50}});  // /usb absent at 12:03
    const auto st = run.engine().status(run.ctx);
    ASSERT_EQ(st.size(), 2U);
    EXPECT_EQ(st[0].text, "ok");
    EXPECT_EQ(st[1].series, mount("/usb"));
    EXPECT_EQ(st[1].phase, "absent");
    EXPECT_EQ(st[1].text, "absent since 12:03");
    ASSERT_EQ(run.notifications.size(), 1U);
    EXPECT_EQ(run.notifications[0].incident_kind, IncidentKind::absent);
    EXPECT_TRUE(std::isnan(run.notifications[0].value));
}

TEST(Engine, status_lists_series_sorted_by_rule_then_series) {
    RuleConfig a = disk_rule();
    RuleConfig b = disk_rule();
    b.name = "a_disk";
    Driver run({a, b});
    run.tick({{mount("/var"), 1}, {mount("/"), 1}});
    const auto st = run.engine().status(run.ctx);
    ASSERT_EQ(st.size(), 4U);
    EXPECT_EQ(st[0].rule, "a_disk");
    EXPECT_EQ(st[0].series, mount("/"));
    EXPECT_EQ(st[1].series, mount("/var"));
    EXPECT_EQ(st[3].rule, "disk_full");
}

TEST(Engine, after_a_reboot_the_cooldown_is_measured_on_wall_time) {
    RuleConfig r = disk_rule();
    r.for_samples = 1;
    Driver run({r});
    run.tick({{mount("/"), 95}});
    run.tick({{mount("/"), 50}});  // resolved: cooldown 30 min from here
    ASSERT_EQ(run.notifications.size(), 2U);
    ASSERT_TRUE(run.restart().empty());
    run.reboot(5min);  // boot time starts again near zero; wall time says 6 min later
    run.tick({{mount("/"), 95}}, true);
    EXPECT_EQ(run.notifications.size(), 2U) << "inside the cooldown across the reboot";
    run.tick({{mount("/"), 50}});
    run.advance(30min);
    run.tick({{mount("/"), 95}});
    EXPECT_EQ(run.notifications.size(), 3U) << "after the cooldown";
}

TEST(Engine, restore_ignores_states_of_rules_that_no_longer_exist_and_reports_bad_ones) {
    Engine engine({disk_rule()});
    const std::vector<RuleStateRecord> records = {
        {"gone_rule", "disk_used_percent{mount=\"/\"}", R"({"v":1,"phase":"ok"})", k_t0},
        {"disk_full", "disk_used_percent{mount=\"/\"}", "{not json", k_t0},
        {"disk_full", "disk_used_percent{mount=\"/a\"}", R"({"v":1,"phase":"firing"})", k_t0},
        {"disk_full", "disk_used_percent{mount=\"/b\"}", R"({"v":1,"phase":"pending","streak":"2"})", k_t0},
        {"disk_full", "disk_used_percent{mount=\"/c\"}", R"({"v":1,"phase":"pending","streak":2,"seen":{"wall_ms":1,"boot_ns":2,"boot_id":"x"}})", k_t0},
    };
    const auto errors = engine.restore(records);
    ASSERT_EQ(errors.size(), 3U);
    EXPECT_EQ(errors[0],
              "rule state of \"disk_full\" for disk_used_percent{mount=\"/\"}: not valid JSON; the "
              "state is dropped and the rule starts again from ok for this series");
    EXPECT_NE(errors[1].find("phase is firing but no incident"), std::string::npos) << errors[1];
    EXPECT_NE(errors[2].find("field \"streak\" is not an integer"), std::string::npos) << errors[2];
    TickContext ctx;
    ctx.ts = k_t0;
    const auto st = engine.status(ctx);
    ASSERT_EQ(st.size(), 1U);
    EXPECT_EQ(st[0].text, "pending 2 of 3");
    // The dropped and ignored states are removed from the store on the next tick, except one
    // written again in that tick (its series arrived).
    Sample sample;
    sample.add(SeriesKey("disk_used_percent", {{"mount", "/a"}}), 10);
    const auto ev = engine.evaluate(sample, ctx);
    ASSERT_EQ(ev.removed.size(), 3U);
    for (const auto& removed : ev.removed) EXPECT_NE(removed.second, "disk_used_percent{mount=\"/a\"}");
    const bool written = std::any_of(ev.states.begin(), ev.states.end(), [](const RuleStateRecord& rec) {
        return rec.series == "disk_used_percent{mount=\"/a\"}";
    });
    EXPECT_TRUE(written);
    EXPECT_TRUE(engine.evaluate(sample, ctx).removed.empty());
}

// A restart at any point of a long, varied run (two rules, three series, missing points, NaN,
// gaps) gives exactly the events of the uninterrupted run.
TEST(Engine, restore_then_continue_gives_the_same_events_as_an_uninterrupted_run) {
    RuleConfig a = disk_rule();
    a.warning = 80;
    a.cooldown = 7min;
    a.repeat = 4min;
    RuleConfig b = disk_rule();
    b.name = "disk_fast";
    b.for_samples = 2;
    b.clear = 70;
    b.cooldown = 3min;
    std::mt19937 rng(42);
    std::uniform_real_distribution<double> value(60, 100);
    std::vector<std::vector<Point>> ticks;
    std::vector<bool> gaps;
    for (int i = 0; i < 120; ++i) {
        std::vector<Point> pts;
        for (const char* m : {"/", "/home", "/var"}) {
            const double v = value(rng);
            if (v < 63) continue;  // missing
            pts.push_back({mount(m), v > 99.5 ? NAN : v});
        }
        ticks.push_back(pts);
        gaps.push_back(rng() % 40 == 0);
    }
    Driver straight({a, b});
    for (std::size_t i = 0; i < ticks.size(); ++i) straight.tick(ticks[i], gaps[i]);
    ASSERT_GT(straight.notifications.size(), 5U);

    for (std::size_t cut = 1; cut < ticks.size(); cut += 7) {
        Driver restarted({a, b});
        for (std::size_t i = 0; i < ticks.size(); ++i) {
            if (i == cut) {
                ASSERT_TRUE(restarted.restart().empty());
            }
            restarted.tick(ticks[i], gaps[i]);
        }
        EXPECT_EQ(restarted.summary(), straight.summary()) << "cut at " << cut;
        EXPECT_EQ(restarted.reasons(), straight.reasons()) << "cut at " << cut;
    }
}

TEST(Engine, states_are_written_when_they_change_and_not_otherwise) {
    Driver run({disk_rule()});
    auto ev = run.tick({{mount("/"), 50}});
    EXPECT_EQ(ev.states.size(), 1U) << "a new series is recorded once";
    ev = run.tick({{mount("/"), 50}});
    EXPECT_TRUE(ev.states.empty());
    ev = run.tick({{mount("/"), 95}});
    ASSERT_EQ(ev.states.size(), 1U);
    EXPECT_NE(ev.states[0].state.find("\"streak\":1"), std::string::npos) << ev.states[0].state;
    ev = run.tick({{mount("/"), 95}});
    ASSERT_EQ(ev.states.size(), 1U);
    EXPECT_NE(ev.states[0].state.find("\"streak\":2"), std::string::npos) << ev.states[0].state;
}

TEST(Engine, notifications_carry_the_rule_channels_logs_and_increasing_sequences) {
    RuleConfig r = disk_rule();
    r.warning = 80;
    r.channels = {"ops_mail", "slack"};
    r.logs = {"chat"};
    Driver run({r});
    for (double v : {85.0, 85.0, 85.0, 95.0, 50.0, 50.0, 50.0}) run.tick({{mount("/"), v}});
    ASSERT_EQ(run.notifications.size(), 3U);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(run.notifications[i].sequence, i + 1);
        EXPECT_EQ(run.notifications[i].channels, r.channels);
        EXPECT_EQ(run.notifications[i].logs, r.logs);
        EXPECT_EQ(run.notifications[i].incident_id, run.notifications[0].incident_id);
        EXPECT_EQ(run.notifications[i].op, ">");
        EXPECT_EQ(run.notifications[i].for_samples, 3);
    }
    EXPECT_EQ(run.notifications[0].threshold, 80);
    EXPECT_EQ(run.notifications[1].threshold, 90);
    EXPECT_EQ(run.notifications[2].severity, Severity::critical);
    const Incident& inc = run.incidents.begin()->second;
    EXPECT_EQ(inc.peak_severity, Severity::critical);
    EXPECT_EQ(inc.peak_value, 95);
    EXPECT_EQ(inc.start, k_t0 + 2min);
    EXPECT_EQ(inc.end, k_t0 + 6min);
}

TEST(Engine, a_repeated_point_in_one_sample_counts_once) {
    Driver run({disk_rule()});
    run.tick({{mount("/"), 95}, {mount("/"), 95}, {mount("/"), 95}});
    EXPECT_TRUE(run.notifications.empty());
    EXPECT_EQ(run.reasons(), "0:first_breach");
}

// The rules a service with one health check brings, as the loader generates them.
std::vector<RuleConfig> service_rules() {
    auto loaded = parse_config(
        "[rule_defaults]\nbuiltin = false\n"
        "[[services]]\nname = \"chat\"\nmatch = \"chat-server\"\n"
        "[[services.checks]]\nname = \"health\"\ntype = \"http\"\nurl = \"http://127.0.0.1:8080/health\"\n",
        "test.toml");
    EXPECT_TRUE(loaded) << loaded.error().message;
    if (!loaded) return {};
    return loaded->config.rules;
}

std::vector<Point> chat(bool up, bool healthy) {
    return {{SeriesKey("service_up", {{"service", "chat"}}), up ? 1.0 : 0.0},
            {SeriesKey("check_up", {{"check", "health"}, {"service", "chat"}}), healthy ? 1.0 : 0.0}};
}

TEST(Engine, a_failing_check_of_a_service_that_is_down_is_inhibited_and_resolves_silently) {
    const auto rules = service_rules();
    ASSERT_EQ(rules.size(), 2U);
    EXPECT_EQ(rules[1].name, "check_failed.chat.health");
    EXPECT_EQ(rules[1].inhibited_by, "service_down.chat");
    Driver run(rules);
    run.tick(chat(true, true));
    for (int i = 0; i < 6; ++i) run.tick(chat(false, false));
    for (int i = 0; i < 3; ++i) run.tick(chat(true, true));
    EXPECT_EQ(run.summary(), "3:firing/critical/fired#1 9:resolved/critical/resolved#2");
    ASSERT_EQ(run.notifications.size(), 2U);
    EXPECT_EQ(run.notifications[0].rule, "service_down.chat");
    EXPECT_NE(run.reasons().find("3:inhibited"), std::string::npos) << run.reasons();
    EXPECT_EQ(run.incidents.size(), 2U) << "the check's incident is recorded, only not notified";
}

TEST(Engine, a_check_that_starts_failing_while_its_service_is_pending_down_stays_inhibited) {
    Driver run(service_rules());
    run.tick(chat(true, true));
    run.tick(chat(true, false));  // the check notices first (the process died mid-tick)
    run.tick(chat(false, false));
    run.tick(chat(false, false));  // check: 3rd failure, service: 2nd of 3 (pending)
    run.tick(chat(false, false));  // service fires
    EXPECT_EQ(run.summary(), "4:firing/critical/fired#1");
    EXPECT_EQ(run.notifications.at(0).rule, "service_down.chat");
}

TEST(Engine, an_inhibited_check_speaks_once_its_service_is_back_but_the_check_still_fails) {
    Driver run(service_rules());
    for (int i = 0; i < 4; ++i) run.tick(chat(false, false));
    for (int i = 0; i < 3; ++i) run.tick(chat(true, false));  // up again, still unhealthy
    // service_down fires at 2 and resolves at 6 (3 good samples); the check speaks at 6, when
    // its inhibitor is no longer pending or firing.
    EXPECT_EQ(run.summary(),
              "2:firing/critical/fired#1 6:resolved/critical/resolved#2 6:firing/critical/uninhibited#1");
    // ... and survives a restart without a second notification.
    run.restart();
    for (int i = 0; i < 3; ++i) run.tick(chat(true, false));
    EXPECT_EQ(run.notifications.size(), 3U);
    for (int i = 0; i < 3; ++i) run.tick(chat(true, true));
    EXPECT_EQ(run.notifications.size(), 4U);
    EXPECT_EQ(run.notifications.back().kind, NotificationKind::resolved);
    EXPECT_EQ(run.notifications.back().rule, "check_failed.chat.health");
}

}  // namespace
}  // namespace boxmon::rules::test
