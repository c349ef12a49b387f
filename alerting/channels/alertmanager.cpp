// Push to an Alertmanager's POST /api/v2/alerts. A firing alert carries an endsAt four refresh
// periods after the push, so Alertmanager resolves it by itself if boxmon goes away; the rule
// engine pushes it again every refresh period while it fires (a refresh notification), which
// moves endsAt on; the resolution carries the real end. Prometheus does the same with its
// --rules.alert.resend-delay (endsAt = 4 x max(resend delay, evaluation interval)).
// https://github.com/prometheus/alertmanager/blob/main/api/v2/openapi.yaml

#include <algorithm>
#include <optional>

#include "alerting/alerting.hpp"
#include "alerting/channels/channel_kit.hpp"

namespace boxmon::alerting::detail {
namespace {

// A firing alert's endsAt lies this many refresh periods after the push.
constexpr int k_periods_ahead = 4;
constexpr std::string_view k_api_path = "/api/v2/alerts";

class AlertmanagerChannel final : public HttpChannel {
public:
    AlertmanagerChannel(const ChannelConfig& c, std::chrono::milliseconds ahead)
        : HttpChannel(c, "Alertmanager"), m_ahead(ahead) {}

    // endsAt counts from the push, not from the tick that raised the notification: a row that
    // waited for Alertmanager to come back still lands active.
    SendOutcome send(const Notification& n, const SendContext& ctx) override {
        if (ctx.now <= n.at) return HttpChannel::send(n, ctx);
        Notification pushed = n;
        pushed.at = ctx.now;
        return HttpChannel::send(pushed, ctx);
    }

protected:
    Payload render(const Notification& n) const override {
        const WallTime ends = n.kind == NotificationKind::resolved ? n.ended.value_or(n.at) : n.at + m_ahead;
        nlohmann::json alerts = nlohmann::json::array({alertmanager_alert(n, config().labels, ends)});
        return Payload{dump_json(alerts), "application/json"};
    }

    // The configured base URL (http://am:9093) with the API path appended unless already there.
    Secret target_url() const override {
        std::string url = config().url.value.reveal();
        if (url.find(k_api_path) != std::string::npos) return Secret(url);
        while (!url.empty() && url.back() == '/') url.pop_back();
        return Secret(url + std::string(k_api_path));
    }

private:
    std::chrono::milliseconds m_ahead;
};

}  // namespace

std::unique_ptr<Channel> make_alertmanager(const ChannelConfig& c, std::chrono::milliseconds ahead) {
    return std::make_unique<AlertmanagerChannel>(c, ahead);
}

}  // namespace boxmon::alerting::detail

namespace boxmon::alerting {

std::optional<std::chrono::milliseconds> refresh_period(const Config& config) {
    const bool any = std::any_of(config.channels.begin(), config.channels.end(),
                                 [](const ChannelConfig& c) { return c.type == ChannelType::alertmanager; });
    if (!any) return std::nullopt;
    return std::max(config.alerting.alertmanager_resend, config.general.interval);
}

std::chrono::milliseconds alertmanager_ends_ahead(const Config& config) {
    return detail::k_periods_ahead * std::max(config.alerting.alertmanager_resend, config.general.interval);
}

}  // namespace boxmon::alerting
