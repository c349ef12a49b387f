#include "core/incident.hpp"

namespace boxmon {

std::string_view to_string(Severity s) {
    switch (s) {
        case Severity::ok: return "ok";
        case Severity::warning: return "warning";
        case Severity::critical: return "critical";
    }
    return "unknown";
}

Result<Severity> parse_severity(std::string_view text) {
    if (text == "ok") return Severity::ok;
    if (text == "warning") return Severity::warning;
    if (text == "critical") return Severity::critical;
    return fail("unknown severity \"{}\"; expected ok, warning or critical", text);
}

std::string_view to_string(IncidentKind k) {
    switch (k) {
        case IncidentKind::threshold: return "threshold";
        case IncidentKind::absent: return "absent";
        case IncidentKind::internal: return "internal";
    }
    return "unknown";
}

Result<IncidentKind> parse_incident_kind(std::string_view text) {
    if (text == "threshold") return IncidentKind::threshold;
    if (text == "absent") return IncidentKind::absent;
    if (text == "internal") return IncidentKind::internal;
    return fail("unknown incident kind \"{}\"", text);
}

std::string_view to_string(NotificationKind k) {
    switch (k) {
        case NotificationKind::firing: return "firing";
        case NotificationKind::escalated: return "escalated";
        case NotificationKind::reminder: return "reminder";
        case NotificationKind::resolved: return "resolved";
        case NotificationKind::test: return "test";
        case NotificationKind::refresh: return "refresh";
    }
    return "unknown";
}

Result<NotificationKind> parse_notification_kind(std::string_view text) {
    if (text == "firing") return NotificationKind::firing;
    if (text == "escalated") return NotificationKind::escalated;
    if (text == "reminder") return NotificationKind::reminder;
    if (text == "resolved") return NotificationKind::resolved;
    if (text == "test") return NotificationKind::test;
    if (text == "refresh") return NotificationKind::refresh;
    return fail("unknown notification kind \"{}\"", text);
}

std::string Notification::idempotency_key() const {
    if (kind == NotificationKind::refresh) return fmt::format("{}#refresh", incident_id);
    return fmt::format("{}#{}", incident_id, sequence);
}

}  // namespace boxmon
