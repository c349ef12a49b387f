// SMTP channel: one RFC 5322 message per notification over smtp:// (STARTTLS required by
// default) or smtps://, with AUTH and several recipients.

#include <chrono>

#include <fmt/format.h>

#include "alerting/channels/channel_kit.hpp"
#include "alerting/channels/message.hpp"
#include "net/smtp.hpp"

namespace boxmon::alerting::detail {
namespace {

class EmailChannel final : public Channel {
public:
    explicit EmailChannel(const ChannelConfig& c) : m_config(c) {}
    const std::string& name() const override { return m_config.name; }
    ChannelType type() const override { return ChannelType::smtp; }

    SendOutcome send(const Notification& n, const SendContext& ctx) override {
        const std::vector<const Secret*> secrets{&m_config.url.value, &m_config.password.value};
        net::SmtpRequest request;
        request.url = m_config.url.value;
        request.require_starttls = m_config.starttls != "off";
        request.username = m_config.username;
        request.password = m_config.password.value;
        request.from = m_config.from;
        request.to = m_config.to;
        SendOutcome out;
        try {
            const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
            request.message = build_mail(n, m_config.from, m_config.to, now, "\r\n");
        } catch (const std::exception& e) {
            out.detail = finish_detail(fmt::format("channel \"{}\": rendering failed: {}", m_config.name, e.what()), secrets);
            return out;
        }
        const net::SmtpResult r = net::smtp_send(request, transfer_options(m_config, ctx));
        out = classify_smtp(r);
        if (out.kind == SendOutcome::Kind::delivered) {
            out.detail = fmt::format("SMTP {} accepted the message for {} recipient(s) (reply {})",
                                     redact_url(m_config.url.value.reveal()), m_config.to.size(), r.code);
        }
        out.detail = finish_detail(fmt::format("channel \"{}\": {}", m_config.name, out.detail), secrets);
        return out;
    }

private:
    ChannelConfig m_config;
};

}  // namespace

SendOutcome classify_smtp(const net::SmtpResult& r) {
    SendOutcome out;
    if (r.delivered) {
        out.kind = SendOutcome::Kind::delivered;
    } else if (r.code >= 500 && r.code < 600) {
        out.kind = SendOutcome::Kind::dead;
        out.detail = r.error.message + "; the server refused it permanently, it will not be retried";
    } else if (r.code >= 400 && r.code < 500) {
        out.kind = SendOutcome::Kind::retry;
        out.detail = r.error.message + "; temporary refusal, will retry";
    } else {
        out = classify_transfer_error(r.error);
    }
    return out;
}

std::unique_ptr<Channel> make_email(const ChannelConfig& c) { return std::make_unique<EmailChannel>(c); }

}  // namespace boxmon::alerting::detail
