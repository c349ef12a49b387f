#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "alerting/channels/channel_kit.hpp"
#include "core/text.hpp"

namespace boxmon::alerting::detail {

SendOutcome classify_http(std::string_view receiver, const net::HttpResponse& response) {
    SendOutcome out;
    const long status = response.status;
    const std::string answer = net::excerpt(response.body, 200);
    const std::string said = answer.empty() ? std::string() : fmt::format(": {}", answer);
    if (status >= 200 && status < 300) {
        out.kind = SendOutcome::Kind::delivered;
        out.detail = fmt::format("{} answered HTTP {}{}", receiver, status, said);
    } else if (status >= 300 && status < 400) {
        const std::string* location = response.header("location");
        out.kind = SendOutcome::Kind::dead;
        out.detail = fmt::format("{} answered with a redirect (HTTP {}) to {}; redirects are not followed, "
                                 "update the URL",
                                 receiver, status, location ? redact_url(*location) : std::string("nowhere"));
    } else if (status == 408 || status == 429 || (status >= 500 && status < 600)) {
        out.kind = SendOutcome::Kind::retry;
        out.retry_after = response.retry_after;
        out.detail = fmt::format("{} answered HTTP {}{}; will retry", receiver, status, said);
    } else if (status >= 400 && status < 500) {
        out.kind = SendOutcome::Kind::dead;
        out.detail = fmt::format("{} refused the message with HTTP {}{}; check the URL, token and "
                                 "payload, it will not be retried",
                                 receiver, status, said);
    } else {
        out.kind = SendOutcome::Kind::retry;
        out.detail = fmt::format("{} answered an unexpected HTTP status {}{}; will retry", receiver,
                                 status, said);
    }
    return out;
}

SendOutcome classify_transfer_error(const Error& error) {
    SendOutcome out;
    out.kind = error.kind == ErrorKind::config ? SendOutcome::Kind::dead : SendOutcome::Kind::retry;
    out.detail = error.message;
    return out;
}

std::string dump_json(const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string finish_detail(std::string detail, const std::vector<const Secret*>& secrets) {
    return truncate_utf8(sanitize_utf8(net::scrub(std::move(detail), secrets)), k_detail_max);
}

net::TransferOptions transfer_options(const ChannelConfig& c, const SendContext& ctx) {
    net::TransferOptions o;
    o.connect_timeout = c.connect_timeout;
    o.timeout = c.timeout;
    o.ca_file = c.ca_file;
    o.tls_skip_verify = c.tls_skip_verify;
    o.abort = ctx.abort;
    return o;
}

HttpChannel::HttpChannel(const ChannelConfig& config, std::string receiver)
    : m_config(config), m_receiver(std::move(receiver)) {}

SendOutcome HttpChannel::send(const Notification& n, const SendContext& ctx) {
    std::vector<const Secret*> secrets{&m_config.url.value};
    for (const HeaderConfig& h : m_config.headers) secrets.push_back(&h.value.value);
    SendOutcome out;
    try {
        Payload payload = render(n);
        net::HttpRequest request;
        request.method = "POST";
        request.url = target_url();
        request.content_type = std::move(payload.content_type);
        request.body = std::move(payload.body);
        for (const HeaderConfig& h : m_config.headers) request.headers.push_back({h.name, h.value.value});
        request.headers.push_back({"X-Boxmon-Incident", Secret(n.idempotency_key())});
        auto response = net::http_request(request, transfer_options(m_config, ctx));
        out = response ? judge(*response) : classify_transfer_error(response.error());
    } catch (const std::exception& e) {
        // Rendering is pure; an exception here is a bug, never a reason to lose the row.
        out.kind = SendOutcome::Kind::retry;
        out.detail = fmt::format("{}: rendering failed: {}", m_receiver, e.what());
    }
    out.detail = finish_detail(fmt::format("channel \"{}\": {}", m_config.name, out.detail), secrets);
    return out;
}

}  // namespace boxmon::alerting::detail
