#pragma once
// alerting/: what the agent uses. Preparer turns a notification into outbox items (one per
// channel, log tails captured at that moment); Dispatcher sends due outbox rows through the
// channels with retries, backoff and a dead state that is loud; send_test backs `alert test`.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/incident.hpp"
#include "core/outbox.hpp"
#include "core/result.hpp"

namespace boxmon::alerting {

class Preparer {
public:
    // Fails (kind config) when a configured redaction pattern does not compile.
    static Result<Preparer> create(const Config& config);
    ~Preparer();
    Preparer(Preparer&&) noexcept;
    Preparer& operator=(Preparer&&) noexcept;

    // The channels `n` goes to: the rule's own, else [alerting] default_channels, else every
    // configured channel, else the built-in "log" channel. A refresh goes only to those of them
    // that are alertmanager channels.
    std::vector<std::string> channels_for(const Notification& n) const;
    // Fills n.channels and n.tails (the configured logs, read now, redacted; none for a refresh,
    // which carries no window either) and returns one outbox item per channel, payload = the
    // notification as JSON.
    std::vector<OutboxItem> prepare(Notification& n, WallTime now);

    class Impl;

private:
    explicit Preparer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

class Channel;

// Builds the channel a row names: a [[channels]] entry, or the built-in "log". The default
// (make_channel / make_builtin_log_channel) is what the agent uses; tests pass their own.
using ChannelFactory = std::function<Result<std::unique_ptr<Channel>>(const std::string& name)>;

struct DispatchSummary {
    int delivered = 0;
    int retried = 0;
    int dead = 0;
    int still_pending = 0;  // due rows left when the budget ran out
};

class Dispatcher {
public:
    // `store` must outlive the dispatcher; in the daemon it is the dispatcher's own connection.
    Dispatcher(const Config& config, OutboxStore& store, const Clock& clock);
    // As above, with the channels built by `factory` instead of make_channel.
    Dispatcher(const Config& config, OutboxStore& store, const Clock& clock, ChannelFactory factory);
    ~Dispatcher();  // stops workers (as stop() with a short grace)

    // Daemon mode: background workers send due rows as they come due; one stalled receiver
    // never delays another channel.
    void start();
    // New rows were committed: look now rather than at the next scheduled attempt.
    void wake();
    // Stops the workers; attempts still in flight after `grace` are abandoned, their rows stay
    // pending and the attempt is not charged.
    void stop(std::chrono::milliseconds grace);

    // One-shot mode: sends due rows until none are due or `budget` is spent.
    DispatchSummary run_for(std::chrono::milliseconds budget);

    // Storage is down: deliver these from memory (S2). Their outcomes are kept until
    // persist_unpersisted() writes them (or take_unpersisted() hands them back) once the store
    // recovers.
    void submit_unpersisted(std::vector<OutboxItem> items);
    std::vector<OutboxRow> take_unpersisted();
    // The store is writable again: writes every row raised meanwhile into `store` as it stands,
    // delivered and dead ones as delivered and dead (so they are never sent again and `boxmon
    // alerts` lists them), pending ones with their next attempt and last error. Returns how many
    // rows it wrote; on failure they stay in memory for the next try.
    Result<std::size_t> persist_unpersisted(OutboxStore& store);

    class Impl;

private:
    std::unique_ptr<Impl> m_impl;
};

// How often an incident still firing is pushed again (a refresh notification) so that
// Alertmanager, which resolves an alert by itself once its endsAt passes, keeps it active:
// [alerting] alertmanager_resend, at least the interval. nullopt when no alertmanager channel
// is configured (nothing expires, nothing to refresh).
std::optional<std::chrono::milliseconds> refresh_period(const Config& config);

// How far ahead of a push a firing alert's endsAt lies: four refresh periods (Prometheus's rule
// for its resend delay), so three refreshes in a row may be late or lost before Alertmanager
// resolves the alert by itself.
std::chrono::milliseconds alertmanager_ends_ahead(const Config& config);

// A notification about boxmon itself (a test, a database moved aside): an internal incident of
// one notification, raised at `now`, with no value or threshold; `rule` names it and
// `description` says what happened.
Notification internal_notification(std::string incident_id, NotificationKind kind, std::string rule,
                                   std::string description, WallTime now);

// `boxmon alert test [--channel NAME]`: renders a test notification and sends it through the
// named channel now (not through the outbox). Returns the receiver's answer, or the exact
// failure with nothing secret in it.
Result<std::string> send_test(const Config& config, std::string_view channel, const Clock& clock);

}  // namespace boxmon::alerting
