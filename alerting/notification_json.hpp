#pragma once
// The Notification as JSON: the outbox payload (OutboxItem::payload). The round trip is lossless
// for everything the rule engine produces (times in Unix milliseconds, NaN and infinities kept,
// window and log tails included); invalid UTF-8 in text becomes U+FFFD (RELIABILITY B6).

#include <string>
#include <string_view>

#include "core/incident.hpp"
#include "core/result.hpp"

namespace boxmon::alerting {

// The notification as one line of JSON.
std::string notification_to_json(const Notification& n);

// Parses what notification_to_json wrote; fails naming the first missing or mistyped field.
Result<Notification> notification_from_json(std::string_view json);

}  // namespace boxmon::alerting
