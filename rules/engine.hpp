#pragma once
// The rule engine: pure (no I/O; time is passed in). Per (rule, series) a state machine
// ok -> pending(k of N) -> firing(severity) -> ok, each step returning the new state and a
// reason (STYLE rule 10). Its state serialises to JSON for the store, so restarts and one-shot
// runs neither lose a count nor notify twice.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/incident.hpp"
#include "core/sample.hpp"

namespace boxmon::rules {

// What the engine knows about the tick it evaluates.
struct TickContext {
    WallTime ts{};          // the tick's timestamp (stored with incidents and notifications)
    Nanos boottime{};       // CLOCK_BOOTTIME at the tick: gaps and cooldowns are measured on it
    std::string boot_id;    // a different boot: boottime is not comparable, fall back to wall time
    std::chrono::milliseconds interval{60000};
    std::string host;
    // Push an incident that is still firing again this often (a `refresh` notification), for
    // receivers that expire alerts by themselves (Alertmanager's endsAt); unset: never.
    std::optional<std::chrono::milliseconds> refresh;
};

// One decision, for logs, `boxmon status` and `boxmon rules backtest`.
struct Decision {
    std::string rule;
    SeriesKey series;
    // first_breach, pending, streak_broken, fired, in_cooldown (fired silently), severity_up,
    // severity_down, cooldown_over, reminder, refresh, recovering, breach_again, resolved, gap,
    // nan, missing, absent, returned, inhibited (fired silently: its inhibitor is pending or
    // firing), uninhibited (a silent incident speaks once its inhibitor has gone).
    std::string reason;
    double value = NAN;
};

struct Evaluation {
    std::vector<Notification> notifications;  // to deliver (channels as the rule names them)
    std::vector<Incident> incidents;          // opened, changed or closed this tick
    std::vector<Decision> decisions;          // every state change with its reason
    std::vector<RuleStateRecord> states;      // changed states to persist
    std::vector<std::pair<std::string, std::string>> removed;  // (rule, series) states to delete
};

// How one (rule, series) stands now, for `boxmon status`.
struct RuleStatus {
    std::string rule;
    SeriesKey series;
    std::string phase;      // ok | pending | firing | absent
    int streak = 0;         // consecutive breaching samples so far (pending)
    int needed = 0;         // the rule's `for`
    Severity severity = Severity::ok;
    std::optional<WallTime> since;           // firing since
    std::optional<WallTime> cooldown_until;  // quiet until
    std::string incident_id;
    double last_value = NAN;
    // "ok", "pending 2 of 3", "firing critical since 12:03", "in cooldown until 12:33",
    // "absent since 12:03" (local time; a date is added when not today).
    std::string text;
};

class Engine {
public:
    explicit Engine(std::vector<RuleConfig> rules);
    ~Engine();
    Engine(Engine&&) noexcept;
    Engine& operator=(Engine&&) noexcept;

    // Restores persisted states (states of rules that no longer exist are ignored). A record
    // that does not parse is dropped with an error in the returned list.
    std::vector<std::string> restore(const std::vector<RuleStateRecord>& records);

    // Evaluates one tick. `gap_before` says the previous tick is more than 2 intervals back.
    Evaluation evaluate(const Sample& sample, const TickContext& tick, bool gap_before = false);

    // Every (rule, series) currently tracked, sorted by rule then series.
    std::vector<RuleStatus> status(const TickContext& now) const;

    // Every state as last handed out for persisting (Evaluation::states), stamped `ts`: what a
    // new database needs to carry on where the old one stopped (a corrupt one moved aside).
    std::vector<RuleStateRecord> snapshot(WallTime ts) const;

    const std::vector<RuleConfig>& rules() const;

    class Impl;

private:
    std::unique_ptr<Impl> m_impl;
};

}  // namespace boxmon::rules
