// Preparer: a notification becomes one outbox item per channel, with the configured log tails
// read now (they describe the moment of the alert, not of the delivery) and the window cut to
// [alerting] window.
#include <unistd.h>

#include <algorithm>

#include <spdlog/spdlog.h>

#include "alerting/alerting.hpp"
#include "alerting/notification_json.hpp"
#include "core/logtail.hpp"
#include "core/redact.hpp"

namespace boxmon::alerting {

namespace {

// Journal reads happen in the tick: keep them short.
constexpr std::chrono::milliseconds k_journal_timeout{2000};

std::string local_hostname() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
    return buf;
}

}  // namespace

class Preparer::Impl {
public:
    Impl(Config config, Redactor redactor) : m_config(std::move(config)), m_redactor(std::move(redactor)) {}

    std::vector<std::string> channels_for(const Notification& n) const {
        std::vector<std::string> names = routed(n);
        if (n.kind == NotificationKind::refresh) {
            // Only Alertmanager expires alerts; people are reminded by `repeat`, not by refreshes.
            std::erase_if(names, [this](const std::string& name) {
                const ChannelConfig* c = m_config.channel(name);
                return c == nullptr || c->type != ChannelType::alertmanager;
            });
        }
        return names;
    }

    std::vector<std::string> routed(const Notification& n) const {
        if (!n.channels.empty()) return n.channels;  // chosen by the caller (alert test, internal)
        if (const RuleConfig* rule = m_config.rule(n.rule); rule != nullptr && !rule->channels.empty())
            return rule->channels;
        if (!m_config.alerting.default_channels.empty()) return m_config.alerting.default_channels;
        std::vector<std::string> all;
        for (const auto& c : m_config.channels) all.push_back(c.name);
        if (all.empty()) all.push_back("log");
        return all;
    }

    std::vector<std::string> logs_for(const Notification& n) const {
        if (!n.logs.empty()) return n.logs;
        const RuleConfig* rule = m_config.rule(n.rule);
        if (rule == nullptr) return {};
        if (!rule->logs.empty()) return rule->logs;
        if (rule->builtin) return m_config.rule_defaults.logs;
        return {};
    }

    std::vector<OutboxItem> prepare(Notification& n, WallTime now) {
        n.channels = channels_for(n);
        if (n.kind == NotificationKind::refresh) {
            // Alertmanager shows neither the window nor log tails; a refresh reads no logs.
            n.logs.clear();
            n.window.clear();
        } else {
            n.logs = logs_for(n);
        }
        if (n.host.empty()) n.host = m_config.general.hostname.empty() ? local_hostname() : m_config.general.hostname;
        // The window: only the configured span before the notification.
        const WallTime window_start = n.at - std::chrono::duration_cast<std::chrono::milliseconds>(m_config.alerting.window);
        std::erase_if(n.window, [&](const WindowPoint& p) { return p.ts < window_start; });

        TailOptions options;
        options.lines = m_config.alerting.log_lines;
        options.line_max_bytes = static_cast<std::size_t>(m_config.alerting.log_line_max);
        options.timeout = k_journal_timeout;
        n.tails.clear();
        for (const auto& name : n.logs) {
            const LogSourceConfig* log = m_config.log(name);
            if (log == nullptr) {
                LogTail missing;
                missing.name = name;
                missing.note = fmt::format("log \"{}\" is not configured under [logs]", name);
                n.tails.push_back(std::move(missing));
                continue;
            }
            n.tails.push_back(read_log_tail(*log, options, m_redactor));
        }

        const std::string payload = notification_to_json(n);
        std::vector<OutboxItem> items;
        items.reserve(n.channels.size());
        for (const auto& channel : n.channels) {
            OutboxItem item;
            item.channel = channel;
            item.incident_id = n.incident_id;
            item.idempotency_key = n.idempotency_key();
            item.kind = std::string(to_string(n.kind));
            item.payload = payload;
            item.created = now;
            items.push_back(std::move(item));
        }
        return items;
    }

private:
    Config m_config;
    Redactor m_redactor;
};

Result<Preparer> Preparer::create(const Config& config) {
    auto redactor = Redactor::with_patterns(config.alerting.redact);
    if (!redactor) {
        Error e = std::move(redactor).error();
        e.kind = ErrorKind::config;
        e.message = "[alerting] redact: " + e.message;
        return fail(std::move(e));
    }
    return Preparer(std::make_unique<Impl>(config, std::move(*redactor)));
}

Preparer::Preparer(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Preparer::~Preparer() = default;
Preparer::Preparer(Preparer&&) noexcept = default;
Preparer& Preparer::operator=(Preparer&&) noexcept = default;

std::vector<std::string> Preparer::channels_for(const Notification& n) const { return m_impl->channels_for(n); }

std::vector<OutboxItem> Preparer::prepare(Notification& n, WallTime now) { return m_impl->prepare(n, now); }

}  // namespace boxmon::alerting
