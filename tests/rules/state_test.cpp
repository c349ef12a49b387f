// The persisted state's JSON form: round trips, and exact messages for bad input.

#include <string>

#include <gtest/gtest.h>

#include "rules/rule_state.hpp"

namespace boxmon::rules::detail {
namespace {

TEST(RuleState, a_full_state_round_trips) {
    PersistedState s;
    s.phase = Phase::firing;
    s.good = 2;
    s.seen = Stamp{1'795'435'200'000, 123'456'789'000, "boot-a"};
    OpenIncident i;
    i.id = "1795435200-00000000deadbeef";
    i.start_ms = 1'795'435'200'000;
    i.severity = Severity::warning;
    i.peak_severity = Severity::critical;
    i.notified = Severity::critical;
    i.sequence = 3;
    i.peak = 97.25;
    i.notified_at = Stamp{1, 2, "boot-a"};
    i.pushed_at = Stamp{3, 4, "boot-a"};
    s.incident = i;
    s.cooldown = Cooldown{Stamp{5, 6, "boot-0"}, Severity::warning};
    s.missing = 1;
    s.absence = OpenAbsence{"x-1", 7, 1, Stamp{8, 9, "boot-b"}};
    const std::string text = to_json(s);
    const auto back = from_json(text);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_TRUE(*back == s) << text;
    EXPECT_EQ(to_json(*back), text);
}

TEST(RuleState, an_idle_state_is_small) {
    EXPECT_EQ(to_json(PersistedState{}), R"({"phase":"ok","v":1})");
    const auto back = from_json(R"({"phase":"ok","v":1})");
    ASSERT_TRUE(back);
    EXPECT_TRUE(back->idle());
}

struct Bad {
    const char* name;
    const char* text;
    const char* message;
};

class RuleStateBad : public ::testing::TestWithParam<Bad> {};

TEST_P(RuleStateBad, is_refused_with_a_message_naming_the_field) {
    const auto r = from_json(GetParam().text);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, RuleStateBad,
    ::testing::Values(
        Bad{"empty", "", "not valid JSON"},
        Bad{"truncated", R"({"v":1,"phase":"ok")", "not valid JSON"},
        Bad{"array", "[1,2]", "not a JSON object"},
        Bad{"no_version", R"({"phase":"ok"})", "missing field \"v\""},
        Bad{"future_version", R"({"v":9,"phase":"ok"})", "state version 9 is not 1"},
        Bad{"bad_phase", R"({"v":1,"phase":"burning"})", "field \"phase\" is not ok, pending or firing"},
        Bad{"negative", R"({"v":1,"phase":"pending","streak":-1})", "a count is negative"},
        Bad{"incident_without_id", R"({"v":1,"phase":"firing","incident":{}})",
            "missing field \"incident.id\""},
        Bad{"bad_severity",
            R"({"v":1,"phase":"firing","incident":{"id":"a","start_ms":1,"severity":"huge"}})",
            "field \"incident.severity\" is not ok, warning or critical"},
        Bad{"seen_not_object", R"({"v":1,"phase":"ok","seen":3})", "field \"seen\" is not an object"},
        Bad{"cooldown_without_at", R"({"v":1,"phase":"ok","cooldown":{"severity":"warning"}})",
            "missing field \"cooldown.at\""},
        Bad{"incident_while_ok",
            R"({"v":1,"phase":"ok","incident":{"id":"a","start_ms":1,"severity":"warning","peak_severity":"warning","notified":"ok","sequence":0,"peak":1}})",
            "an incident is open but phase is not firing"}),
    [](const ::testing::TestParamInfo<Bad>& tp) { return std::string(tp.param.name); });

}  // namespace
}  // namespace boxmon::rules::detail
