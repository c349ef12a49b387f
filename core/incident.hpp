#pragma once
// Incidents and notifications: what the rule engine produces and what the store persists,
// alerting delivers and the report lists. Plain data shared through core so that rules,
// store, alerting and report never include each other.

#include <cmath>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "core/series.hpp"

namespace boxmon {

enum class Severity { ok = 0, warning = 1, critical = 2 };

// "ok", "warning", "critical".
std::string_view to_string(Severity s);
Result<Severity> parse_severity(std::string_view text);

enum class IncidentKind {
    threshold,  // a value crossed a rule's threshold
    absent,     // a series the rule watched stopped arriving
    internal,   // boxmon's own trouble (database corrupt, storage degraded)
};
std::string_view to_string(IncidentKind k);
Result<IncidentKind> parse_incident_kind(std::string_view text);

enum class NotificationKind {
    firing,     // the incident opened
    escalated,  // severity rose while firing
    reminder,   // still firing after `repeat`
    resolved,   // the incident closed
    test,       // `boxmon alert test`
    refresh,    // still firing: pushed again to receivers that expire alerts (Alertmanager's endsAt)
};
std::string_view to_string(NotificationKind k);
Result<NotificationKind> parse_notification_kind(std::string_view text);

struct Incident {
    std::string id;  // stable across restarts and deliveries; receivers dedupe on it
    std::string rule;
    SeriesKey series;
    IncidentKind kind = IncidentKind::threshold;
    Severity severity = Severity::warning;       // current (last) severity
    Severity peak_severity = Severity::warning;  // highest severity reached
    WallTime start{};
    std::optional<WallTime> end;  // set when resolved
    double peak_value = NAN;      // most extreme value seen (NaN for absent data)
    double last_value = NAN;
};

// One value of the recent window attached to a notification.
struct WindowPoint {
    WallTime ts{};
    double value = NAN;
};

// A tail of one configured log, captured when the notification was raised.
struct LogTail {
    std::string name;    // the key under [logs]
    std::string source;  // the file path or "journal:<unit>"
    std::vector<std::string> lines;  // redacted, valid UTF-8
    std::string note;    // why the tail is empty or partial ("file not found", "(from rotated file)")
};

struct Notification {
    std::string incident_id;
    int sequence = 0;  // 1 for the first notification of an incident, then 2, 3 ...
    NotificationKind kind = NotificationKind::firing;
    IncidentKind incident_kind = IncidentKind::threshold;
    Severity severity = Severity::warning;
    std::string rule;
    std::string description;        // the rule's sentence for people ("CPU busy above 90%")
    SeriesKey series;
    std::string op;                 // ">", ">=", "<", "<="
    double value = NAN;             // the value at `at` (NaN for absent data)
    double threshold = NAN;         // the threshold of `severity`
    int for_samples = 0;
    WallTime at{};                  // the tick that raised it
    WallTime since{};               // when the incident started
    std::optional<WallTime> ended;  // for resolved
    double peak = NAN;
    std::string reason;             // the engine's reason: fired, severity_up, resolved ...
    std::string host;
    std::vector<std::string> channels;
    std::vector<std::string> logs;  // names of logs to attach
    std::vector<WindowPoint> window;
    std::vector<LogTail> tails;

    // A stable id for this notification: "<incident id>#<sequence>"; for a refresh, which
    // repeats the last sequence, "<incident id>#refresh" (one outbox row per incident and
    // channel, re-armed at each refresh).
    std::string idempotency_key() const;
};

// Receives notifications the engine raised in a tick (implemented by alerting, wired by agent).
class NotificationSink {
public:
    virtual ~NotificationSink() = default;
    virtual void notify(const Notification& n) = 0;
};

}  // namespace boxmon

namespace boxmon {

// The persisted state of one (rule, series) pair. The rule engine (rules/) owns the meaning of
// `state` (JSON); the store keeps it opaque.
struct RuleStateRecord {
    std::string rule;
    std::string series;  // SeriesKey::to_string()
    std::string state;   // JSON written and read by rules/
    WallTime updated{};
};

}  // namespace boxmon
