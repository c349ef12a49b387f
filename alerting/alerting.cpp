// The parts of alerting/ that build real channels from the configuration: the Dispatcher's
// default channel factory and `boxmon alert test`. Kept apart from dispatcher.cpp so tests that
// pass their own channels do not link the channel implementations.
#include "alerting/alerting.hpp"

#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "alerting/channel.hpp"

namespace boxmon::alerting {

namespace {

// The channel named `name`; the shared Config outlives every channel built from it.
ChannelFactory default_channel_factory(const Config& config) {
    auto shared = std::make_shared<const Config>(config);
    return [shared](const std::string& name) -> Result<std::unique_ptr<Channel>> {
        if (const ChannelConfig* c = shared->channel(name)) return make_channel(*c, *shared);
        if (name == "log") return make_builtin_log_channel();
        return fail_as(ErrorKind::config, "no [[channels]] entry named \"{}\"; add it or remove it from the rule",
                       name);
    };
}

std::string kind_text(SendOutcome::Kind k) {
    switch (k) {
        case SendOutcome::Kind::delivered: return "delivered";
        case SendOutcome::Kind::retry: return "failed (would be retried)";
        case SendOutcome::Kind::dead: return "failed (would not be retried)";
    }
    return "unknown";
}

}  // namespace

Dispatcher::Dispatcher(const Config& config, OutboxStore& store, const Clock& clock)
    : Dispatcher(config, store, clock, default_channel_factory(config)) {}

Notification internal_notification(std::string incident_id, NotificationKind kind, std::string rule,
                                   std::string description, WallTime now) {
    Notification n;
    n.incident_id = std::move(incident_id);
    n.sequence = 1;
    n.kind = kind;
    n.incident_kind = IncidentKind::internal;
    n.severity = Severity::warning;
    n.series = SeriesKey(rule);
    n.rule = std::move(rule);
    n.description = std::move(description);
    n.at = now;
    n.since = now;
    n.reason = std::string(to_string(kind));
    return n;
}

Result<std::string> send_test(const Config& config, std::string_view channel, const Clock& clock) {
    BOXMON_TRY(preparer, Preparer::create(config));
    const WallTime now = clock.wall();
    Notification n = internal_notification(fmt::format("test-{}", to_unix_ms(now)), NotificationKind::test,
                                           "boxmon_test",
                                           "a test alert sent with `boxmon alert test`; nothing is wrong", now);
    n.reason = "test";
    if (!channel.empty()) n.channels = {std::string(channel)};
    (void)preparer.prepare(n, now);

    ChannelFactory factory = default_channel_factory(config);
    std::string answers;
    std::string failures;
    for (const auto& name : n.channels) {
        if (!channel.empty() && config.channel(name) == nullptr && name != "log") {
            std::vector<std::string> names;
            for (const auto& c : config.channels) names.push_back("\"" + c.name + "\"");
            return fail_as(ErrorKind::usage, "no channel named \"{}\"; configured: {}", name,
                           names.empty() ? std::string("none (only the built-in \"log\")") : fmt::format("{}", fmt::join(names, ", ")));
        }
        BOXMON_TRY(built, factory(name));
        std::atomic<bool> abort{false};
        SendContext ctx;
        ctx.abort = &abort;
        ctx.now = clock.wall();
        const SendOutcome outcome = built->send(n, ctx);
        const std::string line = fmt::format("{}: {}{}{}", name, kind_text(outcome.kind),
                                             outcome.detail.empty() ? "" : ": ", outcome.detail);
        if (outcome.kind == SendOutcome::Kind::delivered)
            answers += line + "\n";
        else
            failures += (failures.empty() ? "" : "; ") + line;
    }
    if (!failures.empty()) return fail("alert test: {}", failures);
    return answers;
}

}  // namespace boxmon::alerting
