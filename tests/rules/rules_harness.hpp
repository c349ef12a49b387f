#pragma once
// A tick-by-tick driver for the rule engine in tests: it owns the clocks (wall, boot time,
// boot id), keeps every notification and decision, and can save and restore the states the
// store would hold.

#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/clock.hpp"
#include "core/incident.hpp"
#include "rules/engine.hpp"

namespace boxmon::rules::test {

using namespace std::chrono_literals;

// 2026-11-23T12:00:00Z
inline const WallTime k_t0 = from_unix_seconds(1'795'435'200);

class Driver {
public:
    explicit Driver(std::vector<RuleConfig> rules) : m_rules(rules), m_engine(std::move(rules)) {
        ctx.ts = k_t0;
        ctx.boottime = 1000s;
        ctx.boot_id = "boot-a";
        ctx.interval = 60s;
        ctx.host = "box";
    }

    // Evaluates one tick with `points`, then moves every clock on by one interval.
    Evaluation tick(std::vector<Point> points, bool gap_before = false) {
        Sample s;
        s.ts = ctx.ts;
        s.points = std::move(points);
        Evaluation ev = m_engine.evaluate(s, ctx, gap_before);
        for (const auto& n : ev.notifications) {
            notifications.push_back(n);
            m_summary.push_back(fmt::format("{}:{}{}/{}/{}#{}", m_index,
                                            n.incident_kind == IncidentKind::absent ? "absent " : "",
                                            to_string(n.kind), to_string(n.severity), n.reason,
                                            n.sequence));
        }
        for (const auto& d : ev.decisions) m_reasons.push_back(fmt::format("{}:{}", m_index, d.reason));
        for (const auto& inc : ev.incidents) incidents[inc.id] = inc;
        for (const auto& [rule, series] : ev.removed) m_states.erase({rule, series});
        for (const auto& st : ev.states) m_states[{st.rule, st.series}] = st;
        evaluations.push_back(ev);
        ++m_index;
        advance(ctx.interval);
        return ev;
    }

    void advance(Millis d) {
        ctx.ts += d;
        ctx.boottime += d;
    }
    void step_wall(Millis d) { ctx.ts += d; }
    void reboot(Millis downtime) {
        ctx.ts += downtime;
        ctx.boottime = 20s;
        ctx.boot_id = "boot-b";
    }

    // The states the store would hold now.
    std::vector<RuleStateRecord> saved_states() const {
        std::vector<RuleStateRecord> out;
        for (const auto& [key, rec] : m_states) out.push_back(rec);
        return out;
    }

    // A new engine over the same rules, restored from the saved states (a restart).
    std::vector<std::string> restart() {
        m_engine = Engine(m_rules);
        return m_engine.restore(saved_states());
    }

    std::string summary() const { return fmt::format("{}", fmt::join(m_summary, " ")); }
    std::string reasons() const { return fmt::format("{}", fmt::join(m_reasons, " ")); }
    int index() const { return m_index; }
    Engine& engine() { return m_engine; }

    TickContext ctx;
    std::vector<Notification> notifications;
    std::vector<Evaluation> evaluations;
    std::map<std::string, Incident> incidents;

private:
    std::vector<RuleConfig> m_rules;
    Engine m_engine;
    int m_index = 0;
    std::vector<std::string> m_summary;
    std::vector<std::string> m_reasons;
    std::map<std::pair<std::string, std::string>, RuleStateRecord> m_states;
};

}  // namespace boxmon::rules::test
