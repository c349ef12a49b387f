// make_channel: checks a [[channels]] entry can work at all (URL scheme, CA file, addresses,
// sendmail path) and builds the channel of its type.

#include <cctype>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "alerting/alerting.hpp"
#include "alerting/channel.hpp"
#include "alerting/channels/channel_kit.hpp"
#include "alerting/channels/message.hpp"

namespace boxmon::alerting {
namespace {

bool starts_with_any(std::string_view s, std::initializer_list<std::string_view> prefixes) {
    for (std::string_view p : prefixes) {
        if (s.size() >= p.size()) {
            bool same = true;
            for (std::size_t i = 0; i < p.size() && same; ++i) {
                same = std::tolower(static_cast<unsigned char>(s[i])) == p[i];
            }
            if (same) return true;
        }
    }
    return false;
}

Result<void> check_tls(const ChannelConfig& c) {
    if (!c.ca_file.empty()) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(c.ca_file, ec)) {
            return fail_as(ErrorKind::config, "channel \"{}\": ca_file \"{}\" is not a readable file; point it at "
                           "the PEM certificate of the receiver's CA",
                           c.name, c.ca_file.string());
        }
    }
    if (c.tls_skip_verify) {
        spdlog::warn("channel \"{}\": tls_skip_verify = true: the receiver's certificate is not checked, so "
                     "anyone on the path can read and change alerts; set ca_file instead",
                     c.name);
    }
    return ok();
}

Result<void> check_http(const ChannelConfig& c) {
    if (!c.url.present() || c.url.value.empty()) {
        return fail_as(ErrorKind::config, "channel \"{}\": url is missing; set url, url_file or url_env", c.name);
    }
    if (!starts_with_any(c.url.value.reveal(), {"https://", "http://"})) {
        return fail_as(ErrorKind::config, "channel \"{}\": url {} must start with https:// or http://", c.name,
                       redact_url(c.url.value.reveal()));
    }
    return check_tls(c);
}

Result<void> check_addresses(const ChannelConfig& c) {
    if (!detail::plain_address(c.from)) {
        return fail_as(ErrorKind::config, "channel \"{}\": from \"{}\" is not a plain address like "
                       "boxmon@example.org", c.name, c.from);
    }
    if (c.to.empty()) {
        return fail_as(ErrorKind::config, "channel \"{}\": to is empty; list at least one recipient", c.name);
    }
    for (const std::string& to : c.to) {
        if (!detail::plain_address(to)) {
            return fail_as(ErrorKind::config, "channel \"{}\": recipient \"{}\" is not a plain address like "
                           "ops@example.org", c.name, to);
        }
    }
    return ok();
}

Result<void> check_smtp(const ChannelConfig& c) {
    if (!c.url.present() || c.url.value.empty()) {
        return fail_as(ErrorKind::config, "channel \"{}\": url is missing; set url = \"smtp://host:587\"", c.name);
    }
    if (!starts_with_any(c.url.value.reveal(), {"smtp://", "smtps://"})) {
        return fail_as(ErrorKind::config, "channel \"{}\": url {} must start with smtp:// or smtps://", c.name,
                       redact_url(c.url.value.reveal()));
    }
    if (c.starttls != "required" && c.starttls != "off") {
        return fail_as(ErrorKind::config, "channel \"{}\": starttls \"{}\" must be \"required\" or \"off\"", c.name,
                       c.starttls);
    }
    if (c.password.present() && c.username.empty()) {
        return fail_as(ErrorKind::config, "channel \"{}\": a password is set but username is empty", c.name);
    }
    if (c.starttls == "off" && starts_with_any(c.url.value.reveal(), {"smtp://"})) {
        spdlog::warn("channel \"{}\": starttls = \"off\": mail to {} goes unencrypted; use it only for a relay on "
                     "this host",
                     c.name, redact_url(c.url.value.reveal()));
    }
    BOXMON_CHECK(check_addresses(c));
    return check_tls(c);
}

Result<void> check_sendmail(const ChannelConfig& c) {
    const std::string path = c.sendmail_path.string();
    if (path.empty() || path.front() == '-' || !c.sendmail_path.is_absolute()) {
        return fail_as(ErrorKind::config, "channel \"{}\": sendmail_path \"{}\" must be an absolute path such as "
                       "/usr/sbin/sendmail", c.name, path);
    }
    return check_addresses(c);
}

}  // namespace

Result<std::unique_ptr<Channel>> make_channel(const ChannelConfig& channel, const Config& config) {
    switch (channel.type) {
        case ChannelType::log:
            return detail::make_log(channel.name.empty() ? std::string("log") : channel.name);
        case ChannelType::slack:
            BOXMON_CHECK(check_http(channel));
            return detail::make_slack(channel);
        case ChannelType::discord:
            BOXMON_CHECK(check_http(channel));
            return detail::make_discord(channel);
        case ChannelType::webhook:
            BOXMON_CHECK(check_http(channel));
            return detail::make_webhook(channel);
        case ChannelType::alertmanager:
            BOXMON_CHECK(check_http(channel));
            return detail::make_alertmanager(channel, alertmanager_ends_ahead(config));
        case ChannelType::smtp:
            BOXMON_CHECK(check_smtp(channel));
            return detail::make_email(channel);
        case ChannelType::sendmail:
            BOXMON_CHECK(check_sendmail(channel));
            return detail::make_sendmail(channel);
    }
    return fail_as(ErrorKind::config, "channel \"{}\": unknown type", channel.name);
}

Result<std::unique_ptr<Channel>> make_builtin_log_channel() { return detail::make_log("log"); }

}  // namespace boxmon::alerting
