// Push to an Alertmanager's POST /api/v2/alerts. A firing alert carries an endsAt a few intervals
// ahead, so Alertmanager resolves it by itself if boxmon goes away; each re-send while firing
// moves it on; the resolution carries the real end.
// https://github.com/prometheus/alertmanager/blob/main/api/v2/openapi.yaml

#include <algorithm>

#include "alerting/channels/channel_kit.hpp"

namespace boxmon::alerting::detail {
namespace {

// How far ahead a firing alert's endsAt lies: this many intervals, at least k_min_ahead.
constexpr int k_intervals_ahead = 4;
constexpr std::chrono::milliseconds k_min_ahead = std::chrono::minutes(5);
constexpr std::string_view k_api_path = "/api/v2/alerts";

class AlertmanagerChannel final : public HttpChannel {
public:
    AlertmanagerChannel(const ChannelConfig& c, std::chrono::milliseconds interval)
        : HttpChannel(c, "Alertmanager"), m_ahead(std::max(k_min_ahead, interval * k_intervals_ahead)) {}

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

std::unique_ptr<Channel> make_alertmanager(const ChannelConfig& c, std::chrono::milliseconds interval) {
    return std::make_unique<AlertmanagerChannel>(c, interval);
}

}  // namespace boxmon::alerting::detail
