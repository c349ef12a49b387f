#include "rules/engine.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <tuple>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

#include "rules/rule_state.hpp"

namespace boxmon::rules {

using detail::Cooldown;
using detail::OpenAbsence;
using detail::OpenIncident;
using detail::PersistedState;
using detail::Phase;
using detail::Stamp;

namespace {

enum class Op { gt, ge, lt, le, invalid };

Op parse_op(std::string_view op) {
    if (op == ">") return Op::gt;
    if (op == ">=") return Op::ge;
    if (op == "<") return Op::lt;
    if (op == "<=") return Op::le;
    return Op::invalid;  // the loader rejects it; here such a rule simply never breaches
}

// Whether `value` is past `threshold` in the rule's direction.
bool past(Op op, double value, double threshold) {
    switch (op) {
        case Op::gt: return value > threshold;
        case Op::ge: return value >= threshold;
        case Op::lt: return value < threshold;
        case Op::le: return value <= threshold;
        case Op::invalid: return false;
    }
    return false;
}

bool upward(Op op) { return op == Op::gt || op == Op::ge; }

// Whether a is further into the breaching direction than b.
bool more_extreme(Op op, double a, double b) { return upward(op) ? a > b : a < b; }

// The severity a value reaches; NaN never breaches.
Severity severity_of(const RuleConfig& r, Op op, double value) {
    if (std::isnan(value)) return Severity::ok;
    if (r.critical && past(op, value, *r.critical)) return Severity::critical;
    if (r.warning && past(op, value, *r.warning)) return Severity::warning;
    return Severity::ok;
}

// Hysteresis: a firing incident resolves at once when the value is beyond `clear` (below it for
// > and >=, above it for < and <=); between `clear` and the threshold it still counts as breaching.
bool past_clear(const RuleConfig& r, Op op, double value) {
    return upward(op) ? value < *r.clear : value > *r.clear;
}

double threshold_of(const RuleConfig& r, Severity s) {
    if (s == Severity::critical && r.critical) return *r.critical;
    if (r.warning) return *r.warning;
    if (r.critical) return *r.critical;
    return NAN;
}

bool matches(const RuleConfig& r, const SeriesKey& key) {
    if (key.name() != r.metric) return false;
    for (const Label& m : r.labels) {
        const std::string* v = key.label(m.name);
        if (m.value.empty()) {
            if (v != nullptr && !v->empty()) return false;  // "" means: label absent
        } else if (v == nullptr || *v != m.value) {
            return false;
        }
    }
    return true;
}

// A stable incident id: the same rule, series, kind and start always give the same id, so a
// restarted engine or a backtest names an incident exactly as the live run did.
std::string make_incident_id(std::string_view rule, std::string_view series, IncidentKind kind,
                             std::int64_t start_ms) {
    std::uint64_t h = 1469598103934665603ULL;  // FNV-1a 64
    const auto feed = [&h](std::string_view s) {
        for (const char c : s) {
            h ^= static_cast<unsigned char>(c);
            h *= 1099511628211ULL;
        }
        h ^= 0x1f;
        h *= 1099511628211ULL;
    };
    feed(rule);
    feed(series);
    feed(to_string(kind));
    feed(std::to_string(start_ms));
    return fmt::format("{}-{:016x}", start_ms / 1000, h);
}

WallTime wall_of(std::int64_t ms) { return from_unix_ms(ms); }

struct State {
    PersistedState p;
    std::optional<PersistedState> written;  // as last persisted; nullopt: never written
    Stamp last_seen;                        // in memory; persisted (p.seen) while a count runs
    bool has_seen = false;
    double last_value = NAN;
    std::uint64_t seen_tick = 0;
    int rule = 0;
    int series = 0;
};

struct SeriesEntry {
    SeriesKey key;
    std::string text;
    bool matched = false;         // states exist for every matching rule
    std::vector<State*> states;   // in rule order
};

std::uint64_t state_key(int rule, int series) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(rule)) << 32) |
           static_cast<std::uint32_t>(series);
}

std::string hhmm(WallTime t, WallTime now) {
    const bool same_day = format_local(t, "%Y-%m-%d") == format_local(now, "%Y-%m-%d");
    return format_local(t, same_day ? "%H:%M" : "%Y-%m-%d %H:%M");
}

}  // namespace

class Engine::Impl {
public:
    explicit Impl(std::vector<RuleConfig> rules) : m_rules(std::move(rules)) {
        m_ops.reserve(m_rules.size());
        for (std::size_t i = 0; i < m_rules.size(); ++i) {
            m_ops.push_back(parse_op(m_rules[i].op));
            m_rule_index.emplace(m_rules[i].name, static_cast<int>(i));  // first of a name wins
            m_by_metric[m_rules[i].metric].push_back(static_cast<int>(i));
        }
        m_inhibitor.assign(m_rules.size(), -1);
        for (std::size_t i = 0; i < m_rules.size(); ++i) {
            const auto it = m_rule_index.find(m_rules[i].inhibited_by);
            if (!m_rules[i].inhibited_by.empty() && it != m_rule_index.end() && it->second != static_cast<int>(i))
                m_inhibitor[i] = it->second;
        }
    }

    const std::vector<RuleConfig>& rules() const { return m_rules; }

    std::vector<std::string> restore(const std::vector<RuleStateRecord>& records);
    Evaluation evaluate(const Sample& sample, const TickContext& tick, bool gap_before);
    std::vector<RuleStatus> status(const TickContext& now) const;

    std::vector<RuleStateRecord> snapshot(WallTime ts) const {
        std::vector<RuleStateRecord> out;
        for (const auto& [key, s] : m_states)
            if (s.written)
                out.push_back(RuleStateRecord{m_rules[static_cast<std::size_t>(s.rule)].name,
                                              m_series[static_cast<std::size_t>(s.series)].text,
                                              detail::to_json(*s.written), ts});
        return out;
    }

private:
    // What one evaluate() call works with.
    struct Tick {
        const TickContext& ctx;
        Stamp now;
        bool gap_before = false;
        Evaluation& out;
    };

    int needed(const RuleConfig& r) const { return std::max(1, r.for_samples); }

    int series_id(const SeriesKey& key) {
        auto [it, inserted] = m_series_index.try_emplace(key, static_cast<int>(m_series.size()));
        if (inserted) m_series.push_back(SeriesEntry{key, key.to_string(), false, {}});
        return it->second;
    }

    State& state_for(int rule, int series) {
        auto [it, inserted] = m_states.try_emplace(state_key(rule, series));
        if (inserted) {
            it->second.rule = rule;
            it->second.series = series;
            m_by_rule[rule].push_back(&it->second);
        }
        return it->second;
    }

    // Whether `s`'s notifications are withheld now: its rule's inhibitor is pending or firing
    // for a series whose labels are all among the labels of `s`'s series.
    bool inhibited(const State& s) const {
        const int by = m_inhibitor[static_cast<std::size_t>(s.rule)];
        if (by < 0) return false;
        const auto it = m_by_rule.find(by);
        if (it == m_by_rule.end()) return false;
        const SeriesKey& mine = m_series[static_cast<std::size_t>(s.series)].key;
        for (const State* other : it->second) {
            if (other->p.phase == Phase::ok) continue;
            const SeriesKey& theirs = m_series[static_cast<std::size_t>(other->series)].key;
            const bool covered = std::all_of(theirs.labels().begin(), theirs.labels().end(), [&](const Label& l) {
                const std::string* v = mine.label(l.name);
                return v != nullptr && *v == l.value;
            });
            if (covered) return true;
        }
        return false;
    }

    void match(int series) {
        SeriesEntry& e = m_series[static_cast<std::size_t>(series)];
        e.states.clear();
        if (auto it = m_by_metric.find(e.key.name()); it != m_by_metric.end()) {
            for (const int rule : it->second) {
                if (matches(m_rules[static_cast<std::size_t>(rule)], e.key))
                    e.states.push_back(&state_for(rule, series));
            }
        }
        e.matched = true;
    }

    // Elapsed time from `then` to the tick: boot time within one boot, wall time across boots.
    // nullopt when it cannot be known (another boot and the wall clock went backwards).
    static std::optional<Nanos> elapsed(const Stamp& then, const Stamp& now) {
        if (then.boot_id == now.boot_id) return Nanos{now.boot_ns - then.boot_ns};
        const std::int64_t ms = now.wall_ms - then.wall_ms;
        if (ms < 0) return std::nullopt;
        return std::chrono::duration_cast<Nanos>(Millis{ms});
    }

    bool in_cooldown(const RuleConfig& r, const Cooldown& c, const Stamp& now) const {
        const auto e = elapsed(c.at, now);
        // Across a reboot with a wall clock that went back the time is unknown: rather one
        // notification too many than a cooldown that never ends.
        if (!e) return false;
        return *e < std::chrono::duration_cast<Nanos>(r.cooldown);
    }

    void decide(Tick& t, const State& s, const char* reason, double value) {
        t.out.decisions.push_back(Decision{m_rules[static_cast<std::size_t>(s.rule)].name,
                                           m_series[static_cast<std::size_t>(s.series)].key,
                                           reason, value});
    }

    Notification base_notification(Tick& t, const State& s, NotificationKind kind,
                                   const char* reason, double value) const {
        const RuleConfig& r = m_rules[static_cast<std::size_t>(s.rule)];
        Notification n;
        n.kind = kind;
        n.rule = r.name;
        n.description = r.description;
        n.series = m_series[static_cast<std::size_t>(s.series)].key;
        n.op = r.op;
        n.value = value;
        n.for_samples = needed(r);
        n.at = t.ctx.ts;
        n.reason = reason;
        n.host = t.ctx.host;
        n.channels = r.channels;
        n.logs = r.logs;
        return n;
    }

    void notify(Tick& t, State& s, NotificationKind kind, const char* reason, double value) {
        OpenIncident& inc = *s.p.incident;
        const RuleConfig& r = m_rules[static_cast<std::size_t>(s.rule)];
        Notification n = base_notification(t, s, kind, reason, value);
        n.incident_id = inc.id;
        n.sequence = ++inc.sequence;
        n.incident_kind = IncidentKind::threshold;
        n.severity = kind == NotificationKind::resolved ? inc.peak_severity : inc.severity;
        n.threshold = threshold_of(r, n.severity);
        n.since = wall_of(inc.start_ms);
        n.peak = inc.peak;
        if (kind == NotificationKind::resolved) {
            n.ended = t.ctx.ts;
        } else {
            inc.notified = std::max(inc.notified, inc.severity);
            inc.notified_at = t.now;
            inc.pushed_at = t.now;
        }
        t.out.notifications.push_back(std::move(n));
    }

    // Whether an incident last pushed at `last` must be pushed again now (TickContext::refresh):
    // a full refresh period has passed, less half an interval of slack for tick jitter (a
    // refresh every tick stays every tick). An unknown last push (a state written before
    // refreshes existed, or elapsed time unknown across a reboot) is due.
    static bool refresh_due(const Tick& t, const std::optional<Stamp>& last) {
        if (!t.ctx.refresh) return false;
        if (!last) return true;
        if (*last == t.now) return false;  // pushed in this very tick
        const auto e = elapsed(*last, t.now);
        if (!e) return true;
        const auto due = std::chrono::duration_cast<Nanos>(*t.ctx.refresh - t.ctx.interval / 2);
        return *e >= due;
    }

    // A threshold incident still firing: pushed again when due, with the highest severity
    // notified (the one the receiver knows it by). A silent incident stays silent.
    void refresh(Tick& t, State& s, double value) {
        OpenIncident& inc = *s.p.incident;
        if (inc.notified == Severity::ok || !refresh_due(t, inc.pushed_at)) return;
        const RuleConfig& r = m_rules[static_cast<std::size_t>(s.rule)];
        Notification n = base_notification(t, s, NotificationKind::refresh, "refresh", value);
        n.incident_id = inc.id;
        n.sequence = inc.sequence;  // not a new notification: the last one, still true
        n.incident_kind = IncidentKind::threshold;
        n.severity = inc.notified;
        n.threshold = threshold_of(r, n.severity);
        n.since = wall_of(inc.start_ms);
        n.peak = inc.peak;
        inc.pushed_at = t.now;
        decide(t, s, "refresh", value);
        t.out.notifications.push_back(std::move(n));
    }

    // An absent-data incident still open: pushed again when due.
    void refresh_absence(Tick& t, State& s) {
        OpenAbsence& a = *s.p.absence;
        if (!refresh_due(t, a.pushed_at)) return;
        Notification n = base_notification(t, s, NotificationKind::refresh, "refresh", NAN);
        n.incident_id = a.id;
        n.sequence = a.sequence;
        n.incident_kind = IncidentKind::absent;
        n.severity = Severity::warning;
        n.since = wall_of(a.start_ms);
        a.pushed_at = t.now;
        decide(t, s, "refresh", NAN);
        t.out.notifications.push_back(std::move(n));
    }

    Incident incident_of(const State& s, std::optional<WallTime> end) const {
        const OpenIncident& inc = *s.p.incident;
        Incident out;
        out.id = inc.id;
        out.rule = m_rules[static_cast<std::size_t>(s.rule)].name;
        out.series = m_series[static_cast<std::size_t>(s.series)].key;
        out.kind = IncidentKind::threshold;
        out.severity = inc.severity;
        out.peak_severity = inc.peak_severity;
        out.start = wall_of(inc.start_ms);
        out.end = end;
        out.peak_value = inc.peak;
        out.last_value = s.last_value;
        return out;
    }

    Incident absence_of(const State& s, std::optional<WallTime> end) const {
        const OpenAbsence& a = *s.p.absence;
        Incident out;
        out.id = a.id;
        out.rule = m_rules[static_cast<std::size_t>(s.rule)].name;
        out.series = m_series[static_cast<std::size_t>(s.series)].key;
        out.kind = IncidentKind::absent;
        out.severity = Severity::warning;
        out.peak_severity = Severity::warning;
        out.start = wall_of(a.start_ms);
        out.end = end;
        return out;
    }

    void fire(Tick& t, State& s, double value, Severity sev) {
        const RuleConfig& r = m_rules[static_cast<std::size_t>(s.rule)];
        s.p.phase = Phase::firing;
        s.p.streak = 0;
        s.p.good = 0;
        OpenIncident inc;
        inc.start_ms = to_unix_ms(t.ctx.ts);
        inc.id = make_incident_id(r.name, m_series[static_cast<std::size_t>(s.series)].text,
                                  IncidentKind::threshold, inc.start_ms);
        inc.severity = sev;
        inc.peak_severity = sev;
        inc.peak = value;
        s.p.incident = std::move(inc);
        // Within the cooldown of the last notified resolve only a higher severity speaks.
        if (s.p.cooldown && in_cooldown(r, *s.p.cooldown, t.now) && sev <= s.p.cooldown->severity) {
            decide(t, s, "in_cooldown", value);
        } else if (inhibited(s)) {
            decide(t, s, "inhibited", value);  // silent; speaks if it outlasts the inhibitor
        } else {
            decide(t, s, "fired", value);
            notify(t, s, NotificationKind::firing, "fired", value);
        }
        t.out.incidents.push_back(incident_of(s, std::nullopt));
    }

    void resolve(Tick& t, State& s, double value) {
        const OpenIncident& inc = *s.p.incident;
        decide(t, s, "resolved", value);
        if (inc.notified != Severity::ok) {
            notify(t, s, NotificationKind::resolved, "resolved", value);
            s.p.cooldown = Cooldown{t.now, inc.peak_severity};
        }
        // A silent incident (opened inside the cooldown) closes silently: receivers never
        // heard of it, and the cooldown still runs from the last notified resolve.
        t.out.incidents.push_back(incident_of(s, t.ctx.ts));
        s.p.incident.reset();
        s.p.phase = Phase::ok;
        s.p.good = 0;
        s.p.streak = 0;
    }

    // Breaks running counts (a gap or NaN): consecutive means consecutive.
    void break_counts(Tick& t, State& s, const char* reason, double value) {
        if (s.p.streak == 0 && s.p.good == 0) return;
        s.p.streak = 0;
        s.p.good = 0;
        if (s.p.phase == Phase::pending) s.p.phase = Phase::ok;
        decide(t, s, reason, value);
    }

    void observe_firing(Tick& t, State& s, double value, Severity sev) {
        const RuleConfig& r = m_rules[static_cast<std::size_t>(s.rule)];
        const Op op = m_ops[static_cast<std::size_t>(s.rule)];
        OpenIncident& inc = *s.p.incident;
        // What an incident record shows; compared after the step to know whether it changed.
        const auto shown = [](const OpenIncident& i) {
            return std::tuple(i.severity, i.peak_severity, i.notified, i.sequence, i.peak);
        };
        const auto before = shown(inc);
        if (more_extreme(op, value, inc.peak)) inc.peak = value;
        const bool held = sev == Severity::ok && r.clear && !past_clear(r, op, value);
        if (sev == Severity::ok && !held) {
            if (r.clear) {
                resolve(t, s, value);
                return;
            }
            if (++s.p.good >= needed(r)) {
                resolve(t, s, value);
                return;
            }
            decide(t, s, "recovering", value);
        } else {
            if (s.p.good > 0) {
                s.p.good = 0;
                decide(t, s, "breach_again", value);
            }
            if (!held && sev > inc.severity) {
                inc.severity = sev;
                inc.peak_severity = std::max(inc.peak_severity, sev);
                decide(t, s, "severity_up", value);
                // Escalation speaks even inside the cooldown; flapping back up to a severity
                // already notified does not; nothing speaks while inhibited.
                if (sev > inc.notified && !inhibited(s)) {
                    notify(t, s,
                           inc.notified == Severity::ok ? NotificationKind::firing
                                                        : NotificationKind::escalated,
                           "severity_up", value);
                }
            } else if (!held && sev < inc.severity) {
                inc.severity = sev;
                decide(t, s, "severity_down", value);  // quiet
            }
        }
        if (inc.notified == Severity::ok) {
            // A silent incident speaks once the cooldown is over, or its inhibitor has gone, if
            // it still breaches.
            if (s.p.good == 0 && (!s.p.cooldown || !in_cooldown(r, *s.p.cooldown, t.now)) && !inhibited(s)) {
                const char* why = s.p.cooldown ? "cooldown_over" : "uninhibited";
                decide(t, s, why, value);
                notify(t, s, NotificationKind::firing, why, value);
            }
        } else if (r.repeat && inc.notified_at && !inhibited(s)) {
            const auto e = elapsed(*inc.notified_at, t.now);
            if (!e || *e >= std::chrono::duration_cast<Nanos>(*r.repeat)) {
                decide(t, s, "reminder", value);
                notify(t, s, NotificationKind::reminder, "reminder", value);
            }
        }
        refresh(t, s, value);
        // Written when something that lasts changed (severity, peak, notifications), not for
        // every new value: last_value is the value at that change.
        if (shown(inc) != before) t.out.incidents.push_back(incident_of(s, std::nullopt));
    }

    // Returns false when nothing but the last value and time changed (the common case).
    bool observe(Tick& t, State& s, double value) {
        const RuleConfig& r = m_rules[static_cast<std::size_t>(s.rule)];
        const Op op = m_ops[static_cast<std::size_t>(s.rule)];
        const Severity sev = severity_of(r, op, value);
        s.last_value = value;
        if (s.p.idle() && sev == Severity::ok) {  // the common case: nothing to decide
            s.last_seen = t.now;
            s.has_seen = true;
            return false;
        }
        if (s.p.absence) {
            Notification n = base_notification(t, s, NotificationKind::resolved, "returned", value);
            n.incident_id = s.p.absence->id;
            n.sequence = ++s.p.absence->sequence;
            n.incident_kind = IncidentKind::absent;
            n.since = wall_of(s.p.absence->start_ms);
            n.ended = t.ctx.ts;
            t.out.notifications.push_back(std::move(n));
            t.out.incidents.push_back(absence_of(s, t.ctx.ts));
            decide(t, s, "returned", value);
            s.p.absence.reset();
        }
        s.p.missing = 0;

        const bool stale = [&] {
            if (t.gap_before) return true;
            if (!s.has_seen) return false;
            const auto e = elapsed(s.last_seen, t.now);
            // More than 2 intervals, with half an interval of slack for tick jitter.
            return !e || e->count() < 0 ||
                   *e > std::chrono::duration_cast<Nanos>(t.ctx.interval * 5 / 2);
        }();
        s.last_seen = t.now;
        s.has_seen = true;
        if (stale) break_counts(t, s, "gap", value);
        if (std::isnan(value)) {
            break_counts(t, s, "nan", value);  // NaN is neither a breach nor a good sample
            return true;
        }
        if (s.p.cooldown && s.p.phase != Phase::firing && !in_cooldown(r, *s.p.cooldown, t.now)) {
            s.p.cooldown.reset();
            decide(t, s, "cooldown_over", value);
        }

        switch (s.p.phase) {
            case Phase::ok:
                if (sev == Severity::ok) return true;
                s.p.phase = Phase::pending;
                s.p.streak = 1;
                if (s.p.streak >= needed(r)) {
                    fire(t, s, value, sev);
                } else {
                    decide(t, s, "first_breach", value);
                }
                return true;
            case Phase::pending:
                if (sev == Severity::ok) {
                    s.p.streak = 0;
                    s.p.phase = Phase::ok;
                    decide(t, s, "streak_broken", value);
                    return true;
                }
                if (++s.p.streak >= needed(r)) {
                    fire(t, s, value, sev);
                } else {
                    decide(t, s, "pending", value);
                }
                return true;
            case Phase::firing: observe_firing(t, s, value, sev); return true;
        }
        return true;
    }

    // The series did not arrive this tick.
    void missing(Tick& t, State& s) {
        const RuleConfig& r = m_rules[static_cast<std::size_t>(s.rule)];
        if (!r.absent) return;
        if (s.p.absence) {
            refresh_absence(t, s);
            return;
        }
        ++s.p.missing;
        if (s.p.missing < needed(r)) {
            decide(t, s, "missing", NAN);
            return;
        }
        OpenAbsence a;
        a.start_ms = to_unix_ms(t.ctx.ts);
        a.id = make_incident_id(r.name, m_series[static_cast<std::size_t>(s.series)].text,
                                IncidentKind::absent, a.start_ms);
        a.pushed_at = t.now;
        s.p.absence = std::move(a);
        decide(t, s, "absent", NAN);
        Notification n = base_notification(t, s, NotificationKind::firing, "absent", NAN);
        n.incident_id = s.p.absence->id;
        n.sequence = ++s.p.absence->sequence;
        n.incident_kind = IncidentKind::absent;
        n.severity = Severity::warning;
        n.since = t.ctx.ts;
        t.out.notifications.push_back(std::move(n));
        t.out.incidents.push_back(absence_of(s, std::nullopt));
    }

    // Records the state for the store when it differs from what was last persisted.
    void finish(Tick& t, State& s) {
        if (s.p.streak > 0 || s.p.good > 0) {
            if (!s.p.seen || !(*s.p.seen == s.last_seen)) s.p.seen = s.last_seen;
        } else if (s.p.seen) {
            s.p.seen.reset();
        }
        if (s.written && *s.written == s.p) return;
        s.written = s.p;
        t.out.states.push_back(RuleStateRecord{m_rules[static_cast<std::size_t>(s.rule)].name,
                                               m_series[static_cast<std::size_t>(s.series)].text,
                                               detail::to_json(s.p), t.ctx.ts});
    }

    std::vector<RuleConfig> m_rules;
    std::vector<Op> m_ops;
    std::unordered_map<std::string, int> m_rule_index;
    std::unordered_map<std::string, std::vector<int>> m_by_metric;
    std::unordered_map<SeriesKey, int, SeriesKeyHash> m_series_index;
    std::deque<SeriesEntry> m_series;
    std::unordered_map<std::uint64_t, State> m_states;  // node-based: State* stay valid
    std::unordered_map<int, std::vector<State*>> m_by_rule;
    std::vector<int> m_inhibitor;  // per rule: the index of its inhibitor, or -1
    std::vector<std::pair<State*, double>> m_deferred;  // scratch
    std::uint64_t m_tick = 0;
    std::vector<std::pair<std::string, std::string>> m_pending_removed;
    std::vector<State*> m_unseen;  // scratch
};

std::vector<std::string> Engine::Impl::restore(const std::vector<RuleStateRecord>& records) {
    std::vector<std::string> errors;
    for (const RuleStateRecord& rec : records) {
        const auto rule_it = m_rule_index.find(rec.rule);
        auto key = SeriesKey::parse(rec.series);
        if (rule_it == m_rule_index.end() || !key ||
            !matches(m_rules[static_cast<std::size_t>(rule_it->second)], *key)) {
            // The rule is gone or no longer watches this series: forget the state quietly.
            m_pending_removed.emplace_back(rec.rule, rec.series);
            if (rule_it != m_rule_index.end() && !key) {
                errors.push_back(fmt::format(
                    "rule state of \"{}\": series \"{}\" does not parse ({}); the state is dropped",
                    rec.rule, rec.series, key.error().message));
            }
            continue;
        }
        auto parsed = detail::from_json(rec.state);
        if (!parsed) {
            errors.push_back(fmt::format(
                "rule state of \"{}\" for {}: {}; the state is dropped and the rule starts again "
                "from ok for this series",
                rec.rule, rec.series, parsed.error().message));
            m_pending_removed.emplace_back(rec.rule, rec.series);
            continue;
        }
        const int series = series_id(*key);
        State& s = state_for(rule_it->second, series);
        s.p = std::move(*parsed);
        s.written = s.p;
        s.has_seen = s.p.seen.has_value();
        s.last_seen = s.p.seen.value_or(Stamp{});
        s.last_value = NAN;  // not persisted: the next sample sets it
        // Rule matching for this series runs again on its next sample (other rules may match).
        m_series[static_cast<std::size_t>(series)].matched = false;
    }
    return errors;
}

Evaluation Engine::Impl::evaluate(const Sample& sample, const TickContext& ctx, bool gap_before) {
    Evaluation out;
    out.removed = std::move(m_pending_removed);
    m_pending_removed.clear();
    ++m_tick;
    Tick t{ctx, Stamp{to_unix_ms(ctx.ts), ctx.boottime.count(), ctx.boot_id}, gap_before, out};

    // Rules with an inhibitor go second, so they see their inhibitor's state of this tick.
    m_deferred.clear();
    for (const Point& point : sample.points) {
        const int id = series_id(point.key);
        if (!m_series[static_cast<std::size_t>(id)].matched) match(id);
        for (State* s : m_series[static_cast<std::size_t>(id)].states) {
            if (s->seen_tick == m_tick) continue;  // a repeated point in one sample: first wins
            s->seen_tick = m_tick;
            if (m_inhibitor[static_cast<std::size_t>(s->rule)] >= 0) {
                m_deferred.emplace_back(s, point.value);
                continue;
            }
            if (observe(t, *s, point.value) || !s->written) finish(t, *s);
        }
    }
    for (const auto& [s, value] : m_deferred) {
        if (observe(t, *s, value) || !s->written) finish(t, *s);
    }

    // Series that did not arrive, in a fixed order (rule, then series) so that a restored
    // engine reports exactly what an uninterrupted one would.
    m_unseen.clear();
    for (auto& [key, s] : m_states) {
        if (s.seen_tick != m_tick) m_unseen.push_back(&s);
    }
    std::sort(m_unseen.begin(), m_unseen.end(), [this](const State* a, const State* b) {
        if (a->rule != b->rule) return a->rule < b->rule;
        return m_series[static_cast<std::size_t>(a->series)].key <
               m_series[static_cast<std::size_t>(b->series)].key;
    });
    for (State* s : m_unseen) {
        missing(t, *s);
        finish(t, *s);
    }
    // A state dropped at restore (it did not parse) and written again in this tick stays.
    if (!out.removed.empty() && !out.states.empty()) {
        std::erase_if(out.removed, [&out](const std::pair<std::string, std::string>& r) {
            return std::any_of(out.states.begin(), out.states.end(), [&r](const RuleStateRecord& st) {
                return st.rule == r.first && st.series == r.second;
            });
        });
    }
    return out;
}

std::vector<RuleStatus> Engine::Impl::status(const TickContext& now) const {
    const Stamp stamp{to_unix_ms(now.ts), now.boottime.count(), now.boot_id};
    std::vector<RuleStatus> out;
    out.reserve(m_states.size());
    for (const auto& [key, s] : m_states) {
        const RuleConfig& r = m_rules[static_cast<std::size_t>(s.rule)];
        RuleStatus st;
        st.rule = r.name;
        st.series = m_series[static_cast<std::size_t>(s.series)].key;
        st.phase = std::string(to_string(s.p.phase));
        st.streak = s.p.streak;
        st.needed = needed(r);
        st.last_value = s.last_value;
        if (s.p.cooldown && in_cooldown(r, *s.p.cooldown, stamp)) {
            const Cooldown& c = *s.p.cooldown;
            const auto cooldown = std::chrono::duration_cast<Nanos>(r.cooldown);
            if (c.at.boot_id == stamp.boot_id) {
                const Nanos left = cooldown - Nanos{stamp.boot_ns - c.at.boot_ns};
                st.cooldown_until = now.ts + std::chrono::duration_cast<Millis>(left);
            } else {
                st.cooldown_until = wall_of(c.at.wall_ms) + r.cooldown;
            }
        }
        if (s.p.absence) {
            st.phase = "absent";
            st.severity = Severity::warning;
            st.since = wall_of(s.p.absence->start_ms);
            st.incident_id = s.p.absence->id;
            st.text = "absent since " + hhmm(*st.since, now.ts);
        } else if (s.p.incident) {
            st.severity = s.p.incident->severity;
            st.since = wall_of(s.p.incident->start_ms);
            st.incident_id = s.p.incident->id;
            st.text = fmt::format("firing {} since {}", to_string(st.severity), hhmm(*st.since, now.ts));
        } else if (s.p.phase == Phase::pending) {
            st.text = fmt::format("pending {} of {}", s.p.streak, st.needed);
        } else if (st.cooldown_until) {
            st.text = "in cooldown until " + hhmm(*st.cooldown_until, now.ts);
        } else {
            st.text = "ok";
        }
        out.push_back(std::move(st));
    }
    std::sort(out.begin(), out.end(), [](const RuleStatus& a, const RuleStatus& b) {
        if (a.rule != b.rule) return a.rule < b.rule;
        return a.series < b.series;
    });
    return out;
}

Engine::Engine(std::vector<RuleConfig> rules) : m_impl(std::make_unique<Impl>(std::move(rules))) {}
Engine::~Engine() = default;
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;

std::vector<std::string> Engine::restore(const std::vector<RuleStateRecord>& records) {
    return m_impl->restore(records);
}

Evaluation Engine::evaluate(const Sample& sample, const TickContext& tick, bool gap_before) {
    return m_impl->evaluate(sample, tick, gap_before);
}

std::vector<RuleStatus> Engine::status(const TickContext& now) const { return m_impl->status(now); }

std::vector<RuleStateRecord> Engine::snapshot(WallTime ts) const { return m_impl->snapshot(ts); }

const std::vector<RuleConfig>& Engine::rules() const { return m_impl->rules(); }

}  // namespace boxmon::rules
