#pragma once
// The human text of a notification, shared by email, sendmail, log, Slack and Discord: a one-line
// subject and a plain-text body (rule, series, value, threshold, since, the recent window with a
// sparkline, the log tails). All outside text is made valid UTF-8; nothing is a format string.

#include <cstddef>
#include <string>
#include <string_view>

#include "core/incident.hpp"

namespace boxmon::alerting {

// "[CRITICAL] cpu_percent 97.1% > 90% for 3 samples on web1"; resolved:
// "[RESOLVED] cpu_percent on web1 after 12m (peak 97.1%)". One line, no control characters.
std::string render_subject(const Notification& n);

// The facts block: rule, series, severity, value and threshold, since, incident id; for resolved
// notifications how long it lasted and the peak. Lines end with "\n".
std::string render_facts(const Notification& n);

// The recent window: a sparkline with its min, max and last value; "" when the window is empty.
std::string render_window(const Notification& n);

// One log tail: a heading "Log NAME (SOURCE)" and its lines (or the note why there are none).
std::string render_tail(const LogTail& tail);

// Everything above as one plain-text body: facts, window, every tail.
std::string render_body(const Notification& n);

// The marker appended to text cut to a receiver's limit.
inline constexpr std::string_view k_truncated_marker = "\n… [truncated]";

}  // namespace boxmon::alerting
