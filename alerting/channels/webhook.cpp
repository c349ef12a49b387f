// Generic webhook: JSON compatible with Alertmanager's webhook payload (version 4), so receivers
// written for Alertmanager work unchanged, plus a "boxmon" object with everything else (window,
// log tails). https://prometheus.io/docs/alerting/latest/configuration/#webhook_config

#include <fmt/format.h>

#include "alerting/channels/channel_kit.hpp"
#include "alerting/channels/render.hpp"
#include "core/text.hpp"

namespace boxmon::alerting::detail {
namespace {

// Prometheus label names: [a-zA-Z_][a-zA-Z0-9_]*.
std::string label_name(std::string_view raw) {
    std::string out;
    for (char c : raw) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (c >= '0' && c <= '9');
        out += ok ? c : '_';
    }
    // Prepended by building a new string: out.insert(0, "_") trips GCC 12 bug 105651 (-Wrestrict).
    if (out.empty() || (out[0] >= '0' && out[0] <= '9')) return std::string(1, '_') + out;
    return out;
}

nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

std::string status_of(const Notification& n) {
    return n.kind == NotificationKind::resolved ? "resolved" : "firing";
}

nlohmann::json boxmon_extension(const Notification& n) {
    nlohmann::json window = nlohmann::json::array();
    for (const WindowPoint& p : n.window) window.push_back({format_iso8601_ms(p.ts), number(p.value)});
    nlohmann::json logs = nlohmann::json::array();
    for (const LogTail& t : n.tails) {
        logs.push_back({{"name", t.name}, {"source", t.source}, {"note", t.note}, {"lines", t.lines}});
    }
    nlohmann::json j = {{"incident_id", n.incident_id},
                        {"sequence", n.sequence},
                        {"idempotency_key", n.idempotency_key()},
                        {"kind", to_string(n.kind)},
                        {"incident_kind", to_string(n.incident_kind)},
                        {"severity", to_string(n.severity)},
                        {"reason", n.reason},
                        {"rule", n.rule},
                        {"description", n.description},
                        {"series", n.series.to_string()},
                        {"op", n.op},
                        {"value", number(n.value)},
                        {"threshold", number(n.threshold)},
                        {"for_samples", n.for_samples},
                        {"peak", number(n.peak)},
                        {"host", n.host},
                        {"at", format_iso8601(n.at)},
                        {"since", format_iso8601(n.since)},
                        {"ended", n.ended ? nlohmann::json(format_iso8601(*n.ended)) : nlohmann::json(nullptr)},
                        {"window", window},
                        {"logs", logs}};
    return j;
}

class WebhookChannel final : public HttpChannel {
public:
    explicit WebhookChannel(const ChannelConfig& c) : HttpChannel(c, "webhook") {}

protected:
    Payload render(const Notification& n) const override {
        nlohmann::json alert = alertmanager_alert(
            n, config().labels, n.kind == NotificationKind::resolved ? n.ended.value_or(n.at) : std::optional<WallTime>{});
        alert["status"] = status_of(n);
        alert["fingerprint"] = n.incident_id;
        nlohmann::json payload = {
            {"version", "4"},
            {"groupKey", fmt::format("{{}}:{{alertname=\"{}\"}}", n.rule)},
            {"truncatedAlerts", 0},
            {"status", status_of(n)},
            {"receiver", config().name},
            {"groupLabels", {{"alertname", n.rule}}},
            {"commonLabels", alert["labels"]},
            {"commonAnnotations", alert["annotations"]},
            {"externalURL", ""},
            {"alerts", nlohmann::json::array({alert})},
            {"boxmon", boxmon_extension(n)},
        };
        return Payload{dump_json(payload), "application/json"};
    }
};

}  // namespace

nlohmann::json alertmanager_alert(const Notification& n, const std::map<std::string, std::string>& extra,
                                  std::optional<WallTime> ends_at) {
    nlohmann::json labels = nlohmann::json::object();
    for (const Label& l : n.series.labels()) labels[label_name(l.name)] = l.value;
    labels["alertname"] = n.rule.empty() ? std::string("boxmon") : n.rule;
    labels["severity"] = to_string(n.severity);
    labels["instance"] = n.host;
    labels["metric"] = n.series.name();
    for (const auto& [k, v] : extra) {
        if (k != "alertname") labels[label_name(k)] = v;
    }
    nlohmann::json annotations = {{"summary", render_subject(n)},
                                  {"description", render_facts(n)},
                                  {"incident_id", n.incident_id}};
    if (std::isfinite(n.value)) annotations["value"] = fmt::format("{}", n.value);
    if (std::isfinite(n.threshold)) annotations["threshold"] = fmt::format("{}", n.threshold);
    return {{"labels", labels},
            {"annotations", annotations},
            {"startsAt", format_iso8601_ms(n.since)},
            {"endsAt", ends_at ? format_iso8601_ms(*ends_at) : std::string("0001-01-01T00:00:00Z")},
            {"generatorURL", ""}};
}

std::unique_ptr<Channel> make_webhook(const ChannelConfig& c) { return std::make_unique<WebhookChannel>(c); }

}  // namespace boxmon::alerting::detail
