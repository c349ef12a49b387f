#pragma once
// Internal to alerting/channels: what the HTTP channels share (the POST, the classification of
// the answer, JSON dumping that never throws on bad UTF-8) and the factories channels.cpp calls.

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "alerting/channel.hpp"
#include "net/http.hpp"
#include "net/smtp.hpp"

namespace boxmon::alerting::detail {

// Most bytes of a SendOutcome::detail (channel.hpp).
inline constexpr std::size_t k_detail_max = 1024;

// The outcome of an HTTP status (RELIABILITY D5): 2xx delivered; 408, 429 and 5xx retry (with
// the receiver's Retry-After); 3xx dead (redirects are never followed); other 4xx dead; anything
// else retry. `detail` names the receiver, the status and the first 200 bytes of the answer.
SendOutcome classify_http(std::string_view receiver, const net::HttpResponse& response);

// The outcome of a transfer that got no status: config errors are dead, the rest retry.
SendOutcome classify_transfer_error(const Error& error);

// The outcome of an SMTP transaction (RELIABILITY D2), from the last reply code: delivered;
// 5xx dead (the server refused it for good: 550, 553, 554, 535 ...); 4xx retry (421, 451, 452
// ...); no reply code or another one (a timeout in any phase, a lost connection, a stripped
// STARTTLS): by the transfer error, config errors dead and the rest retry. `detail` is the
// error's message and what happens next (empty when delivered).
SendOutcome classify_smtp(const net::SmtpResult& r);

// dump() that replaces invalid UTF-8 instead of throwing.
std::string dump_json(const nlohmann::json& j);

// The detail text with every secret masked, valid UTF-8, at most k_detail_max bytes.
std::string finish_detail(std::string detail, const std::vector<const Secret*>& secrets);

// Transport options from a [[channels]] entry.
net::TransferOptions transfer_options(const ChannelConfig& c, const SendContext& ctx);

// An HTTP channel: the pieces every webhook-style receiver needs; subclasses render the body.
class HttpChannel : public Channel {
public:
    HttpChannel(const ChannelConfig& config, std::string receiver);
    const std::string& name() const override { return m_config.name; }
    ChannelType type() const override { return m_config.type; }
    SendOutcome send(const Notification& n, const SendContext& ctx) override;

    struct Payload {
        std::string body;
        std::string content_type = "application/json";
    };
    // The request body for `n`, as send() would POST it (benchmarks and tests call it directly).
    Payload payload(const Notification& n) const { return render(n); }

protected:
    virtual Payload render(const Notification& n) const = 0;
    // The URL the POST goes to (alertmanager appends its API path).
    virtual Secret target_url() const { return m_config.url.value; }
    // What the receiver's answer means: by its status (classify_http) unless a receiver says
    // more in its body.
    virtual SendOutcome judge(const net::HttpResponse& response) const {
        return classify_http(m_receiver, response);
    }
    const ChannelConfig& config() const { return m_config; }
    const std::string& receiver() const { return m_receiver; }

private:
    ChannelConfig m_config;
    std::string m_receiver;  // "Slack", "Discord", "webhook", "Alertmanager"
};

// One alert in Alertmanager's model (labels, annotations, startsAt, endsAt), shared by the
// webhook payload (version 4) and the /api/v2/alerts push. `ends_at` unset: the zero time.
nlohmann::json alertmanager_alert(const Notification& n, const std::map<std::string, std::string>& extra,
                                  std::optional<WallTime> ends_at);

std::unique_ptr<Channel> make_slack(const ChannelConfig& c);
std::unique_ptr<Channel> make_discord(const ChannelConfig& c);
std::unique_ptr<Channel> make_webhook(const ChannelConfig& c);
// `ahead`: how far after a push a firing alert's endsAt lies (alertmanager_ends_ahead).
std::unique_ptr<Channel> make_alertmanager(const ChannelConfig& c, std::chrono::milliseconds ahead);
std::unique_ptr<Channel> make_email(const ChannelConfig& c);
std::unique_ptr<Channel> make_sendmail(const ChannelConfig& c);
std::unique_ptr<Channel> make_log(std::string name);

}  // namespace boxmon::alerting::detail
