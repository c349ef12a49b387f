// Table tests: a timed sequence of samples of one series through one rule, and the exact
// notifications and reasons the engine gives.

#include <cmath>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "rules/engine.hpp"
#include "rules_harness.hpp"

namespace boxmon::rules::test {
namespace {

RuleConfig cpu_rule() {
    RuleConfig r;
    r.name = "cpu_hot";
    r.metric = "cpu_percent";
    r.op = ">";
    r.warning = 80;
    r.critical = 90;
    r.for_samples = 3;
    r.cooldown = 5min;
    r.channels = {"log"};
    return r;
}

struct Case {
    std::string name;
    // Space-separated steps, one per tick: a value, "nan", "-" (the series is missing), each
    // optionally prefixed by "gap:" (the tick has gap_before), "back:" (the wall clock stepped
    // back 1 h before it), "fwd:" (the wall clock jumped 2 h forward), "sleep:" (the host was
    // suspended 2 h: wall and boot time moved), "wait:" (10 min passed without ticks).
    std::string steps;
    std::string notifications;  // "tick:[absent ]kind/severity/reason#sequence ..."
    std::string reasons;        // "tick:reason ..."; empty: not checked
    void (*tune)(RuleConfig&) = nullptr;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

void run_case(const Case& c, Driver& run) {
    std::istringstream in(c.steps);
    std::string step;
    while (in >> step) {
        bool gap = false;
        for (;;) {
            const auto colon = step.find(':');
            if (colon == std::string::npos) break;
            const std::string prefix = step.substr(0, colon);
            step = step.substr(colon + 1);
            if (prefix == "gap") {
                gap = true;
            } else if (prefix == "back") {
                run.step_wall(-1h);
            } else if (prefix == "fwd") {
                run.step_wall(2h);
            } else if (prefix == "sleep") {
                run.advance(2h);
            } else if (prefix == "wait") {
                run.advance(10min);
            } else {
                FAIL() << "bad prefix " << prefix;
            }
        }
        std::vector<Point> points;
        if (step == "nan") {
            points.push_back({SeriesKey("cpu_percent"), NAN});
        } else if (step != "-") {
            points.push_back({SeriesKey("cpu_percent"), std::stod(step)});
        }
        run.tick(std::move(points), gap);
    }
}

class EngineTable : public ::testing::TestWithParam<Case> {};

TEST_P(EngineTable, gives_the_expected_notifications_and_reasons) {
    const Case& c = GetParam();
    RuleConfig rule = cpu_rule();
    if (c.tune != nullptr) c.tune(rule);
    Driver run({rule});
    run_case(c, run);
    EXPECT_EQ(run.summary(), c.notifications);
    if (!c.reasons.empty()) {
        EXPECT_EQ(run.reasons(), c.reasons);
    }
}

// The same sequence, restarted (states saved and restored) after every tick, gives exactly the
// same notifications and reasons: a restart neither loses a count nor notifies twice.
TEST_P(EngineTable, gives_the_same_events_when_restarted_after_every_tick) {
    const Case& c = GetParam();
    RuleConfig rule = cpu_rule();
    if (c.tune != nullptr) c.tune(rule);
    Driver straight({rule});
    run_case(c, straight);

    Driver restarted({rule});
    std::istringstream in(c.steps);
    std::string step;
    std::vector<std::string> all;
    while (in >> step) all.push_back(step);
    for (const std::string& s : all) {
        Case one = c;
        one.steps = s;
        run_case(one, restarted);
        const auto errors = restarted.restart();
        ASSERT_TRUE(errors.empty()) << errors.front();
    }
    EXPECT_EQ(restarted.summary(), straight.summary());
    EXPECT_EQ(restarted.reasons(), straight.reasons());
}

const Case k_cases[] = {
    {"fires_on_the_third_consecutive_breach", "95 95 95 95", "2:firing/critical/fired#1",
     "0:first_breach 1:pending 2:fired"},
    {"a_broken_streak_never_fires", "95 95 50 95 95 50", "",
     "0:first_breach 1:pending 2:streak_broken 3:first_breach 4:pending 5:streak_broken"},
    {"resolves_after_three_good_samples", "95 95 95 50 50 50 50",
     "2:firing/critical/fired#1 5:resolved/critical/resolved#2",
     "0:first_breach 1:pending 2:fired 3:recovering 4:recovering 5:resolved"},
    {"flapping_while_firing_restarts_the_recovery_count", "95 95 95 50 95 50 50 50",
     "2:firing/critical/fired#1 7:resolved/critical/resolved#2",
     "0:first_breach 1:pending 2:fired 3:recovering 4:breach_again 5:recovering 6:recovering "
     "7:resolved"},
    {"warning_to_critical_notifies_at_once", "85 85 85 95",
     "2:firing/warning/fired#1 3:escalated/critical/severity_up#2",
     "0:first_breach 1:pending 2:fired 3:severity_up"},
    {"de_escalation_is_quiet_and_re_escalation_to_a_notified_severity_too", "95 95 95 85 85 95",
     "2:firing/critical/fired#1", "0:first_breach 1:pending 2:fired 3:severity_down 5:severity_up"},
    {"re_firing_inside_the_cooldown_is_silent", "95 95 95 50 50 50 95 95 95 50 50 50",
     "2:firing/critical/fired#1 5:resolved/critical/resolved#2",
     "0:first_breach 1:pending 2:fired 3:recovering 4:recovering 5:resolved 6:first_breach "
     "7:pending 8:in_cooldown 9:recovering 10:recovering 11:resolved"},
    {"escalation_inside_the_cooldown_notifies", "85 85 85 50 50 50 85 85 85 95",
     "2:firing/warning/fired#1 5:resolved/warning/resolved#2 9:firing/critical/severity_up#1", ""},
    {"a_higher_severity_inside_the_cooldown_notifies", "85 85 85 50 50 50 95 95 95",
     "2:firing/warning/fired#1 5:resolved/warning/resolved#2 8:firing/critical/fired#1", ""},
    {"a_silent_incident_speaks_when_the_cooldown_is_over", "95 95 95 50 50 50 95 95 95 95 95",
     "2:firing/critical/fired#1 5:resolved/critical/resolved#2 10:firing/critical/cooldown_over#1",
     ""},
    {"after_the_cooldown_a_new_incident_notifies", "95 95 95 50 50 50 wait:95 95 95",
     "2:firing/critical/fired#1 5:resolved/critical/resolved#2 8:firing/critical/fired#1",
     "0:first_breach 1:pending 2:fired 3:recovering 4:recovering 5:resolved 6:cooldown_over "
     "6:first_breach 7:pending 8:fired"},
    {"a_gap_flag_breaks_the_streak", "95 95 gap:95 95 95", "4:firing/critical/fired#1",
     "0:first_breach 1:pending 2:gap 2:first_breach 3:pending 4:fired"},
    {"two_missing_ticks_break_the_streak", "95 95 - - 95 95 95", "6:firing/critical/fired#1",
     "0:first_breach 1:pending 2:missing 3:missing 4:gap 4:first_breach 5:pending 6:fired"},
    {"one_missing_tick_does_not_break_the_streak", "95 95 - 95", "3:firing/critical/fired#1",
     "0:first_breach 1:pending 2:missing 3:fired"},
    {"a_gap_breaks_the_recovery_count", "95 95 95 50 50 gap:50 50 50",
     "2:firing/critical/fired#1 7:resolved/critical/resolved#2", ""},
    {"nan_never_breaches_and_breaks_the_streak", "95 95 nan 95 95 95", "5:firing/critical/fired#1",
     "0:first_breach 1:pending 2:nan 3:first_breach 4:pending 5:fired"},
    {"nan_never_resolves_an_incident", "95 95 95 nan nan nan nan", "2:firing/critical/fired#1", ""},
    {"a_wall_clock_step_back_does_not_break_the_streak", "95 back:95 95", "2:firing/critical/fired#1",
     "0:first_breach 1:pending 2:fired"},
    {"a_wall_clock_jump_forward_does_not_break_the_streak", "95 fwd:95 95",
     "2:firing/critical/fired#1", "0:first_breach 1:pending 2:fired"},
    {"a_wall_clock_jump_forward_does_not_end_the_cooldown", "95 95 95 50 50 50 fwd:95 95 95",
     "2:firing/critical/fired#1 5:resolved/critical/resolved#2", ""},
    {"a_wall_clock_step_back_does_not_restart_the_cooldown", "95 95 95 50 50 50 back:50 50 50 50 95 95 95",
     "2:firing/critical/fired#1 5:resolved/critical/resolved#2 12:firing/critical/fired#1", ""},
    {"a_suspend_breaks_the_streak", "95 95 sleep:95 95", "", ""},
    {"absent_data_opens_its_own_incident_and_its_return_resolves_it", "50 50 - - - - 50",
     "4:absent firing/warning/absent#1 6:absent resolved/warning/returned#2",
     "2:missing 3:missing 4:absent 6:returned"},
    {"absent_data_is_ignored_when_the_rule_says_so", "50 50 - - - - 50", "", "",
     [](RuleConfig& r) { r.absent = false; }},
    {"hysteresis_holds_the_incident_until_past_clear", "95 95 95 75 75 75 75 65",
     "2:firing/critical/fired#1 7:resolved/critical/resolved#2",
     "0:first_breach 1:pending 2:fired 7:resolved", [](RuleConfig& r) { r.clear = 70; }},
    {"repeat_sends_reminders_while_firing", "95 95 95 95 95 95 95",
     "2:firing/critical/fired#1 4:reminder/critical/reminder#2 6:reminder/critical/reminder#3", "",
     [](RuleConfig& r) { r.repeat = 2min; }},
    {"for_one_fires_on_the_first_breach", "95 50", "0:firing/critical/fired#1 1:resolved/critical/resolved#2",
     "0:fired 1:resolved", [](RuleConfig& r) { r.for_samples = 1; }},
    {"below_rules_breach_below_the_threshold", "5 5 5", "2:firing/warning/fired#1", "",
     [](RuleConfig& r) {
         r.op = "<";
         r.warning = 10;
         r.critical.reset();
     }},
    {"a_rule_with_only_a_critical_threshold_ignores_lower_values", "85 85 85 85", "", "",
     [](RuleConfig& r) { r.warning.reset(); }},
};

INSTANTIATE_TEST_SUITE_P(Cases, EngineTable, ::testing::ValuesIn(k_cases),
                         [](const ::testing::TestParamInfo<Case>& tp) { return tp.param.name; });

}  // namespace
}  // namespace boxmon::rules::test
