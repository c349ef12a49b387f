#pragma once
// A channel delivers one notification to one receiver (STYLE rule 11): it renders its own wire
// format within the receiver's limits, sends once, and classifies the answer. Everything around
// it (outbox, retries, backoff, dead rows) is the dispatcher's.

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "core/config.hpp"
#include "core/incident.hpp"
#include "core/result.hpp"

namespace boxmon::alerting {

struct SendOutcome {
    enum class Kind {
        delivered,  // the receiver accepted it (2xx, SMTP 250 after DATA, sendmail exit 0)
        retry,      // try again later (connection failures, timeouts, 408, 429, 5xx, SMTP 4xx, EX_TEMPFAIL)
        dead,       // will never work as configured (other 4xx, SMTP 5xx, redirects, bad config)
    };
    Kind kind = Kind::retry;
    std::string detail;  // the receiver's answer or the failure: sanitised, redacted, <= 1 KiB
    std::optional<std::chrono::seconds> retry_after;  // the receiver asked for this wait (429)
};

struct SendContext {
    const std::atomic<bool>* abort = nullptr;  // set on shutdown: give up the attempt at once
    // The wall clock at the attempt (the dispatcher's clock); unset: the notification's `at`.
    // Alertmanager's endsAt counts from it, so a push that waited for a receiver is not stale.
    WallTime now{};
};

class Channel {
public:
    virtual ~Channel() = default;
    virtual const std::string& name() const = 0;
    virtual ChannelType type() const = 0;
    // Renders `n` for this receiver and sends it once; never throws; bounded by the channel's
    // timeouts.
    virtual SendOutcome send(const Notification& n, const SendContext& ctx) = 0;
};

// Builds the channel of a [[channels]] entry; `name` "log" without an entry is the built-in log
// channel. Fails (kind config) when the entry cannot work (e.g. a CA file that does not exist).
Result<std::unique_ptr<Channel>> make_channel(const ChannelConfig& channel, const Config& config);
Result<std::unique_ptr<Channel>> make_builtin_log_channel();

}  // namespace boxmon::alerting
