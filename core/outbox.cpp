#include "core/outbox.hpp"

namespace boxmon {

std::string_view to_string(OutboxState s) {
    switch (s) {
        case OutboxState::pending: return "pending";
        case OutboxState::delivered: return "delivered";
        case OutboxState::dead: return "dead";
    }
    return "unknown";
}

Result<OutboxState> parse_outbox_state(std::string_view text) {
    if (text == "pending") return OutboxState::pending;
    if (text == "delivered") return OutboxState::delivered;
    if (text == "dead") return OutboxState::dead;
    return fail("unknown outbox state \"{}\"", text);
}

}  // namespace boxmon
