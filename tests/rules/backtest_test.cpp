// The backtest replays recorded history through the engine and gives exactly what the live
// engine gave, tick by tick.

#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "rules/backtest.hpp"
#include "rules_harness.hpp"

namespace boxmon::rules::test {
namespace {

std::string describe(const Notification& n) {
    return fmt::format("{} {} {} {} {} v={} thr={} at={} since={} ended={} peak={} {}",
                       n.idempotency_key(), to_string(n.kind), to_string(n.incident_kind),
                       to_string(n.severity), n.rule, n.value, n.threshold, to_unix_ms(n.at),
                       to_unix_ms(n.since), n.ended ? to_unix_ms(*n.ended) : -1, n.peak,
                       n.series.to_string());
}

std::string describe(const Incident& i) {
    return fmt::format("{} {} {} {} {} {} start={} end={} peak={} last={}", i.id, i.rule,
                       i.series.to_string(), to_string(i.kind), to_string(i.severity),
                       to_string(i.peak_severity), to_unix_ms(i.start),
                       i.end ? to_unix_ms(*i.end) : -1, i.peak_value, i.last_value);
}

std::vector<RuleConfig> rules() {
    RuleConfig disk;
    disk.name = "disk_full";
    disk.metric = "disk_used_percent";
    disk.warning = 85;
    disk.critical = 95;
    disk.cooldown = 10min;
    disk.repeat = 15min;
    RuleConfig cpu;
    cpu.name = "cpu_high";
    cpu.metric = "cpu_percent";
    cpu.critical = 90;
    cpu.clear = 60;
    cpu.cooldown = 5min;
    return {disk, cpu};
}

TEST(Backtest, reproduces_the_live_run_exactly) {
    // A live run over recorded, varied data: flapping values, a mount that vanishes and comes
    // back, a restart in the middle and a downtime gap.
    Driver live(rules());
    std::vector<std::pair<WallTime, bool>> ticks;
    std::map<SeriesKey, SeriesHistory> history;
    std::mt19937 rng(7);
    std::normal_distribution<double> noise(0, 6);
    for (int i = 0; i < 600; ++i) {
        bool gap = false;
        if (i == 300) {
            ASSERT_TRUE(live.restart().empty());
            live.advance(20min);  // the daemon was down
            gap = true;
        }
        std::vector<Point> points;
        const double base = 80 + 12 * std::sin(i / 15.0);
        points.push_back({SeriesKey("cpu_percent"), base + noise(rng)});
        points.push_back({SeriesKey("disk_used_percent", {{"mount", "/"}}), base + 5 + noise(rng)});
        if (i < 100 || i > 130) {
            points.push_back({SeriesKey("disk_used_percent", {{"mount", "/usb"}}), 90 + noise(rng)});
        }
        ticks.emplace_back(live.ctx.ts, gap);
        for (const Point& p : points) {
            auto& h = history[p.key];
            h.key = p.key;
            h.points.emplace_back(live.ctx.ts, p.value);
        }
        live.tick(points, gap);
    }
    ASSERT_GT(live.notifications.size(), 10U);

    std::vector<SeriesHistory> series;
    for (auto& [key, h] : history) series.push_back(h);
    const auto replay_ticks = group_into_ticks(ticks, series);
    ASSERT_EQ(replay_ticks.size(), ticks.size());
    BacktestOptions options;
    options.host = "box";
    const BacktestResult result = backtest(rules(), replay_ticks, options);
    EXPECT_EQ(result.ticks, ticks.size());
    EXPECT_TRUE(result.errors.empty());

    // Notifications: the same, in the same order per tick (the replay adds points in key order,
    // which is also how the live samples were built here).
    ASSERT_EQ(result.notifications.size(), live.notifications.size());
    for (std::size_t i = 0; i < result.notifications.size(); ++i) {
        EXPECT_EQ(describe(result.notifications[i]), describe(live.notifications[i])) << i;
    }
    // Incidents: each as it last stood.
    ASSERT_EQ(result.incidents.size(), live.incidents.size());
    for (const Incident& inc : result.incidents) {
        const auto it = live.incidents.find(inc.id);
        ASSERT_NE(it, live.incidents.end()) << inc.id;
        EXPECT_EQ(describe(inc), describe(it->second));
    }
    bool absent_seen = false;
    for (const Incident& inc : result.incidents) absent_seen |= inc.kind == IncidentKind::absent;
    EXPECT_TRUE(absent_seen) << "the vanished mount opened an absent-data incident";
    std::size_t live_decisions = 0;
    for (const auto& ev : live.evaluations) live_decisions += ev.decisions.size();
    EXPECT_EQ(result.decisions.size(), live_decisions);
}

TEST(Backtest, group_into_ticks_places_points_on_their_ticks_and_keeps_gap_flags) {
    const WallTime t0 = k_t0;
    const std::vector<std::pair<WallTime, bool>> ticks = {
        {t0, false}, {t0 + 1min, false}, {t0 + 10min, true}};
    std::vector<SeriesHistory> series = {
        {SeriesKey("b"), {{t0, 1}, {t0 + 30s, 99}, {t0 + 10min, 3}}},
        {SeriesKey("a"), {{t0 + 1min, 2}}},
    };
    const auto out = group_into_ticks(ticks, series);
    ASSERT_EQ(out.size(), 3U);
    ASSERT_EQ(out[0].sample.points.size(), 1U);
    EXPECT_EQ(out[0].sample.points[0].value, 1);
    ASSERT_EQ(out[1].sample.points.size(), 1U);
    EXPECT_EQ(out[1].sample.points[0].key, SeriesKey("a"));
    ASSERT_EQ(out[2].sample.points.size(), 1U);
    EXPECT_EQ(out[2].sample.points[0].value, 3);
    EXPECT_TRUE(out[2].gap_before);
    EXPECT_FALSE(out[1].gap_before);
    EXPECT_EQ(out[2].sample.ts, t0 + 10min);
}

TEST(Backtest, builtin_like_cpu_incident_is_reproduced_from_history) {
    RuleConfig cpu;
    cpu.name = "cpu_high";
    cpu.metric = "cpu_percent";
    cpu.critical = 90;
    std::vector<BacktestTick> ticks;
    for (int i = 0; i < 60; ++i) {
        BacktestTick t;
        t.sample.ts = k_t0 + std::chrono::minutes(i);
        t.sample.add(SeriesKey("cpu_percent"), (i >= 10 && i < 20) || (i >= 30 && i < 35) ? 97 : 20);
        ticks.push_back(std::move(t));
    }
    const auto result = backtest({cpu}, ticks);
    ASSERT_EQ(result.incidents.size(), 2U);
    EXPECT_EQ(result.incidents[0].start, k_t0 + 12min);
    EXPECT_EQ(result.incidents[0].end, k_t0 + 22min);
    EXPECT_EQ(result.incidents[1].start, k_t0 + 32min);  // inside the 30 min cooldown
    ASSERT_EQ(result.notifications.size(), 2U) << "the second incident is silent";
    EXPECT_EQ(result.notifications[0].kind, NotificationKind::firing);
    EXPECT_EQ(result.notifications[1].kind, NotificationKind::resolved);
}

}  // namespace
}  // namespace boxmon::rules::test
