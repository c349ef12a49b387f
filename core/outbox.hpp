#pragma once
// The durable outbox: one row per (notification, channel), written in the tick's transaction
// (store/), sent by the dispatcher (alerting/). Declared in core so the two never include each
// other; agent/ hands the store's implementation to alerting.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"

namespace boxmon {

enum class OutboxState { pending, delivered, dead };
std::string_view to_string(OutboxState s);
Result<OutboxState> parse_outbox_state(std::string_view text);

// A new row, before it has an id.
struct OutboxItem {
    std::string channel;          // [[channels]] name (or "log")
    std::string incident_id;
    std::string idempotency_key;  // Notification::idempotency_key(); unique with channel
    std::string kind;             // NotificationKind as text, for listings
    std::string payload;          // the Notification as JSON (alerting/notification_json.hpp)
    WallTime created{};
};

struct OutboxRow {
    std::int64_t id = 0;
    OutboxItem item;
    OutboxState state = OutboxState::pending;
    int attempts = 0;
    WallTime next_attempt{};
    std::string last_error;                 // redacted, sanitised, at most 1 KiB
    std::optional<WallTime> finished;       // delivered or dead at
};

struct OutboxCounts {
    std::int64_t pending = 0;
    std::int64_t dead = 0;
    std::int64_t delivered = 0;
    std::optional<WallTime> oldest_pending;
};

// What the dispatcher needs from storage. Implementations are thread-safe per instance (the
// daemon gives the dispatcher its own instance on its own connection).
class OutboxStore {
public:
    virtual ~OutboxStore() = default;
    // Pending rows whose next_attempt <= now, oldest first, at most `limit`.
    virtual Result<std::vector<OutboxRow>> due(WallTime now, std::size_t limit) = 0;
    // The earliest next_attempt of any pending row, if any.
    virtual Result<std::optional<WallTime>> next_due() = 0;
    virtual Result<void> mark_delivered(std::int64_t id, WallTime at) = 0;
    // Schedules another attempt; `charge` false means the attempt does not count (shutdown).
    virtual Result<void> mark_retry(std::int64_t id, WallTime next_attempt, std::string_view error,
                                    bool charge) = 0;
    virtual Result<void> mark_dead(std::int64_t id, WallTime at, std::string_view reason) = 0;
    // Inserts rows outside a tick (alerts raised while the store was down, `alert test`).
    // Rows whose (channel, idempotency_key) already exist are left as they are, except refresh
    // rows (kind "refresh"): one row per incident and channel, whose payload a new refresh
    // replaces; a finished one is re-armed (pending, no attempts), a pending one keeps its
    // schedule, so refreshes never pile up while a receiver is down.
    virtual Result<void> insert(const std::vector<OutboxItem>& items) = 0;
    virtual Result<OutboxCounts> counts() = 0;
    // Rows created since `since`, newest first, at most `limit` (for `boxmon alerts`).
    virtual Result<std::vector<OutboxRow>> recent(WallTime since, std::size_t limit) = 0;
};

}  // namespace boxmon
