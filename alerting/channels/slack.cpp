// Slack incoming webhook: a fallback `text` plus Block Kit blocks, within Slack's limits.
// https://api.slack.com/reference/block-kit/blocks and https://api.slack.com/reference/surfaces/formatting

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "alerting/channels/channel_kit.hpp"
#include "alerting/channels/render.hpp"
#include "core/text.hpp"

namespace boxmon::alerting::detail {
namespace {

// Slack's documented limits (characters; we count bytes, which is never more lenient).
constexpr std::size_t k_slack_text_max = 40'000;     // top-level text
constexpr std::size_t k_slack_blocks_max = 50;       // blocks per message
constexpr std::size_t k_slack_section_max = 3'000;   // a section's text
constexpr std::size_t k_slack_header_max = 150;      // a header block's plain_text

// Slack's control characters: escaped so no mention (<!channel>, <@U1>) or link is created.
std::string slack_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            default: out += c;
        }
    }
    return out;
}

// Code blocks must not be closed early by text that holds ``` itself.
std::string no_fence(std::string text) {
    std::size_t pos = 0;
    while ((pos = text.find("```", pos)) != std::string::npos) text.replace(pos, 3, "`\u200b``");
    return text;
}

nlohmann::json code_section(std::string_view heading, std::string_view body, bool& truncated) {
    const std::string head = truncate_utf8(slack_escape(heading), 500);
    const std::size_t room = k_slack_section_max - head.size() - 8;  // "```\n" and "\n```"
    std::string code = slack_escape(no_fence(std::string(body)));
    if (code.size() > room) {
        code = truncate_utf8(code, room, k_truncated_marker);
        truncated = true;
    }
    std::string text = head + "```\n" + code + "\n```";
    return {{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", text}}}};
}

class SlackChannel final : public HttpChannel {
public:
    explicit SlackChannel(const ChannelConfig& c) : HttpChannel(c, "Slack") {}

protected:
    // Incoming webhooks answer "ok"; Slack's Web API and workflow triggers answer an error with
    // HTTP 200 and {"ok": false, "error": "..."}, which must not count as delivered (RELIABILITY D5).
    SendOutcome judge(const net::HttpResponse& response) const override {
        SendOutcome out = HttpChannel::judge(response);
        if (out.kind != SendOutcome::Kind::delivered) return out;
        const auto answer = nlohmann::json::parse(response.body, nullptr, false);
        if (!answer.is_object()) return out;
        const auto ok = answer.find("ok");
        if (ok == answer.end() || !ok->is_boolean() || ok->get<bool>()) return out;
        const auto error_field = answer.find("error");
        const std::string error = error_field != answer.end() && error_field->is_string()
                                      ? net::excerpt(error_field->get<std::string>(), 200)
                                      : std::string("no error given");
        if (error == "ratelimited") {
            out.kind = SendOutcome::Kind::retry;
            out.retry_after = response.retry_after;
            out.detail = fmt::format("{} answered HTTP {} but is rate limiting (ratelimited); will retry",
                                     receiver(), response.status);
        } else {
            out.kind = SendOutcome::Kind::dead;
            out.detail = fmt::format("{} answered HTTP {} but refused the message ({}); check the URL, token "
                                     "and payload, it will not be retried",
                                     receiver(), response.status, error);
        }
        return out;
    }

    Payload render(const Notification& n) const override {
        bool truncated = false;
        const std::string subject = render_subject(n);
        const std::string body = render_body(n);
        std::string text = slack_escape(subject) + "\n" + slack_escape(body);
        if (text.size() > k_slack_text_max) {
            text = truncate_utf8(text, k_slack_text_max, k_truncated_marker);
            truncated = true;
        }
        nlohmann::json blocks = nlohmann::json::array();
        blocks.push_back({{"type", "header"},
                          {"text", {{"type", "plain_text"}, {"text", truncate_utf8(subject, k_slack_header_max)}}}});
        std::string facts = render_facts(n);
        if (std::string window = render_window(n); !window.empty()) facts += "\n" + window;
        blocks.push_back(code_section("", facts, truncated));
        // Room for the tails: keep one block for the "more logs" note and one for the context.
        const std::size_t tail_room = k_slack_blocks_max - blocks.size() - 2;
        std::size_t shown = 0;
        for (const LogTail& tail : n.tails) {
            if (shown == tail_room) break;
            std::string lines;
            for (const std::string& l : tail.lines) lines += sanitize_utf8(l) + "\n";
            if (tail.lines.empty()) lines = tail.note.empty() ? "(no lines)" : sanitize_utf8(tail.note);
            blocks.push_back(code_section(fmt::format("*Log {}* ({})\n", escape_control(sanitize_utf8(tail.name)),
                                                      escape_control(sanitize_utf8(tail.source))),
                                          lines, truncated));
            ++shown;
        }
        if (shown < n.tails.size()) {
            truncated = true;
            blocks.push_back({{"type", "section"},
                              {"text", {{"type", "mrkdwn"},
                                        {"text", fmt::format("_{} more logs not shown (Slack allows {} blocks)_",
                                                             n.tails.size() - shown, k_slack_blocks_max)}}}});
        }
        blocks.push_back({{"type", "context"},
                          {"elements", nlohmann::json::array({{{"type", "mrkdwn"},
                                                               {"text", slack_escape(fmt::format(
                                                                            "boxmon incident {}",
                                                                            n.idempotency_key()))}}})}});
        if (truncated) {
            spdlog::warn("channel \"{}\": notification {} cut to Slack's limits", name(), n.idempotency_key());
        }
        nlohmann::json payload = {{"text", text}, {"blocks", blocks}};
        return Payload{dump_json(payload), "application/json"};
    }
};

}  // namespace

std::unique_ptr<Channel> make_slack(const ChannelConfig& c) { return std::make_unique<SlackChannel>(c); }

}  // namespace boxmon::alerting::detail
