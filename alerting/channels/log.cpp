// The built-in log channel: the notification goes to boxmon's own log (stderr, the journal).
// It always delivers; it is the fallback when no channel is configured.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "alerting/channels/channel_kit.hpp"
#include "alerting/channels/render.hpp"
#include "core/text.hpp"

namespace boxmon::alerting::detail {
namespace {

// One log record stays readable in the journal: the facts and window, without the tails.
constexpr std::size_t k_log_detail_max = 4096;

// The lines of `text` on one line, joined by "; ", each with control characters escaped (so a
// value from a log or a receiver can never start a forged record of its own).
std::string one_line(std::string_view text) {
    std::string out;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
        while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        if (line.empty()) continue;
        if (!out.empty()) out += "; ";
        out += escape_control(sanitize_utf8(line));
    }
    return out;
}

class LogChannel final : public Channel {
public:
    explicit LogChannel(std::string name) : m_name(std::move(name)) {}
    const std::string& name() const override { return m_name; }
    ChannelType type() const override { return ChannelType::log; }

    SendOutcome send(const Notification& n, const SendContext&) override {
        std::string facts = render_facts(n);
        if (std::string window = render_window(n); !window.empty()) facts += window;
        const std::string detail = truncate_utf8(one_line(facts), k_log_detail_max);
        const auto level = n.kind == NotificationKind::resolved || n.kind == NotificationKind::test
                               ? spdlog::level::info
                           : n.severity == Severity::critical ? spdlog::level::err
                                                              : spdlog::level::warn;
        spdlog::log(level, "alert {}: {} | {}", escape_control(sanitize_utf8(n.idempotency_key())), render_subject(n),
                    detail);
        return SendOutcome{SendOutcome::Kind::delivered, "written to the log", std::nullopt};
    }

private:
    std::string m_name;
};

}  // namespace

std::unique_ptr<Channel> make_log(std::string name) { return std::make_unique<LogChannel>(std::move(name)); }

}  // namespace boxmon::alerting::detail
