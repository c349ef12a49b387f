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

class LogChannel final : public Channel {
public:
    explicit LogChannel(std::string name) : m_name(std::move(name)) {}
    const std::string& name() const override { return m_name; }
    ChannelType type() const override { return ChannelType::log; }

    SendOutcome send(const Notification& n, const SendContext&) override {
        std::string facts = render_facts(n);
        if (std::string window = render_window(n); !window.empty()) facts += window;
        const std::string detail = truncate_utf8(escape_control(facts), k_log_detail_max);
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
