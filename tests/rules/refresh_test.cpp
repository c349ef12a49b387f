// Refreshes (TickContext::refresh): an incident still firing is pushed again every refresh
// period so that Alertmanager, which resolves an alert once its endsAt passes, keeps it active.
// The decision is the engine's, from persisted state, so restarts and one-shot runs refresh on
// the same ticks as an uninterrupted daemon.

#include <gtest/gtest.h>

#include "rules/engine.hpp"
#include "rules_harness.hpp"

namespace boxmon::rules::test {
namespace {

RuleConfig disk_rule() {
    RuleConfig r;
    r.name = "disk_full";
    r.metric = "disk_used_percent";
    r.op = ">";
    r.warning = 80;
    r.critical = 90;
    r.for_samples = 3;
    r.cooldown = 30min;
    return r;
}

SeriesKey root() { return SeriesKey("disk_used_percent", {{"mount", "/"}}); }

Driver refreshing(std::vector<RuleConfig> rules, Millis period = 2min) {
    Driver d(std::move(rules));
    d.ctx.refresh = period;
    return d;
}

TEST(Refresh, a_firing_incident_is_pushed_again_every_period_until_it_resolves) {
    Driver run = refreshing({disk_rule()});
    for (int i = 0; i < 9; ++i) run.tick({{root(), 95}});    // fires at 2, refreshes at 4, 6, 8
    for (int i = 0; i < 3; ++i) run.tick({{root(), 50}});    // recovering at 9, 10 (refresh), resolved at 11
    for (int i = 0; i < 4; ++i) run.tick({{root(), 50}});    // nothing after the resolution
    EXPECT_EQ(run.summary(),
              "2:firing/critical/fired#1 4:refresh/critical/refresh#1 6:refresh/critical/refresh#1 "
              "8:refresh/critical/refresh#1 10:refresh/critical/refresh#1 11:resolved/critical/resolved#2");
    const Notification& refresh = run.notifications[1];
    EXPECT_EQ(refresh.incident_id, run.notifications[0].incident_id);
    EXPECT_EQ(refresh.idempotency_key(), refresh.incident_id + "#refresh");
    EXPECT_EQ(refresh.since, run.notifications[0].since);
    EXPECT_EQ(refresh.value, 95);
    EXPECT_EQ(refresh.threshold, 90);
    EXPECT_EQ(run.notifications.back().idempotency_key(), refresh.incident_id + "#2");
}

TEST(Refresh, without_a_period_nothing_is_refreshed) {
    Driver run({disk_rule()});
    for (int i = 0; i < 12; ++i) run.tick({{root(), 95}});
    EXPECT_EQ(run.summary(), "2:firing/critical/fired#1");
}

TEST(Refresh, a_period_of_one_interval_refreshes_every_tick_despite_jitter) {
    Driver run = refreshing({disk_rule()}, 60s);
    for (int i = 0; i < 3; ++i) run.tick({{root(), 95}});
    run.advance(-200ms);  // the next tick comes a little early
    run.tick({{root(), 95}});
    run.tick({{root(), 95}});
    EXPECT_EQ(run.summary(), "2:firing/critical/fired#1 3:refresh/critical/refresh#1 4:refresh/critical/refresh#1");
}

TEST(Refresh, any_notification_counts_as_a_push_and_the_refresh_keeps_the_notified_severity) {
    RuleConfig r = disk_rule();
    r.repeat = 3min;
    Driver run = refreshing({r});
    for (int i = 0; i < 3; ++i) run.tick({{root(), 85}});  // fires warning at 2
    run.tick({{root(), 95}});                              // escalated at 3: a push
    run.tick({{root(), 85}});                              // severity_down at 4: quiet, no refresh yet
    run.tick({{root(), 85}});                              // 5: refresh, still "critical" (what was notified)
    run.tick({{root(), 85}});                              // 6: reminder (3 min after 3), a push
    run.tick({{root(), 85}});                              // 7: nothing
    EXPECT_EQ(run.summary(),
              "2:firing/warning/fired#1 3:escalated/critical/severity_up#2 5:refresh/critical/refresh#2 "
              "6:reminder/warning/reminder#3");
}

TEST(Refresh, a_silent_incident_opened_inside_the_cooldown_is_not_refreshed) {
    Driver run = refreshing({disk_rule()});
    for (int i = 0; i < 3; ++i) run.tick({{root(), 95}});
    for (int i = 0; i < 3; ++i) run.tick({{root(), 50}});  // recovering (refresh at 4), resolved at 5
    for (int i = 0; i < 8; ++i) run.tick({{root(), 95}});  // silent incident from 8
    EXPECT_EQ(run.summary(),
              "2:firing/critical/fired#1 4:refresh/critical/refresh#1 5:resolved/critical/resolved#2");
}

TEST(Refresh, a_restart_neither_repeats_nor_skips_a_refresh) {
    Driver straight = refreshing({disk_rule()});
    for (int i = 0; i < 10; ++i) straight.tick({{root(), 95}});
    Driver restarted = refreshing({disk_rule()});
    for (int i = 0; i < 10; ++i) {
        if (i == 3 || i == 4 || i == 7) {
            ASSERT_TRUE(restarted.restart().empty());
        }
        restarted.tick({{root(), 95}});
    }
    EXPECT_EQ(restarted.summary(), straight.summary());
    EXPECT_EQ(straight.summary(),
              "2:firing/critical/fired#1 4:refresh/critical/refresh#1 6:refresh/critical/refresh#1 "
              "8:refresh/critical/refresh#1");
}

TEST(Refresh, an_absent_data_incident_is_refreshed_until_the_series_returns) {
    Driver run = refreshing({disk_rule()});
    run.tick({{root(), 50}});
    for (int i = 0; i < 7; ++i) run.tick({});  // absent at 3, refreshes at 5, 7
    run.tick({{root(), 50}});                  // returned at 8
    run.tick({});
    EXPECT_EQ(run.summary(),
              "3:absent firing/warning/absent#1 5:absent refresh/warning/refresh#1 "
              "7:absent refresh/warning/refresh#1 8:absent resolved/warning/returned#2");
}

}  // namespace
}  // namespace boxmon::rules::test
