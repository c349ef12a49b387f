// Discord webhook: one embed within Discord's limits, mentions disabled; log tails that do not
// fit go along as an attached text file (multipart/form-data).
// https://discord.com/developers/docs/resources/channel#embed-object-embed-limits

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "alerting/channels/channel_kit.hpp"
#include "alerting/channels/render.hpp"
#include "core/text.hpp"

namespace boxmon::alerting::detail {
namespace {

// Discord's documented limits (characters; we count bytes, which is never more lenient).
constexpr std::size_t k_discord_content_max = 2'000;
constexpr std::size_t k_discord_title_max = 256;
constexpr std::size_t k_discord_description_max = 4'096;
constexpr std::size_t k_discord_field_name_max = 256;
constexpr std::size_t k_discord_field_value_max = 1'024;
constexpr std::size_t k_discord_fields_max = 25;
constexpr std::size_t k_discord_footer_max = 2'048;
constexpr std::size_t k_discord_embed_total_max = 6'000;
// Attachments above 8 MiB are refused by webhooks without boosts.
constexpr std::size_t k_discord_attachment_max = 8u << 20;
constexpr std::string_view k_attachment_name = "boxmon-logs.txt";

std::string no_fence(std::string text) {
    std::size_t pos = 0;
    while ((pos = text.find("```", pos)) != std::string::npos) text.replace(pos, 3, "`\u200b``");
    return text;
}

// "```\n" + text + "\n```" within `max` bytes.
std::string code_block(std::string_view text, std::size_t max, bool& truncated) {
    std::string code = no_fence(sanitize_utf8(text));
    const std::size_t room = max - 8;
    if (code.size() > room) {
        code = truncate_utf8(code, room, k_truncated_marker);
        truncated = true;
    }
    return "```\n" + code + "\n```";
}

int color_of(const Notification& n) {
    if (n.kind == NotificationKind::resolved) return 0x2eb886;
    if (n.kind == NotificationKind::test) return 0x439fe0;
    return n.severity == Severity::critical ? 0xd00000 : 0xdaa038;
}

// The form Discord takes for a message with a file: payload_json plus files[0].
std::pair<std::string, std::string> multipart(const std::string& json, const std::string& file) {
    // A boundary that cannot occur in the parts: grow it until it does not.
    std::string boundary = "boxmon-part-7f3a9c";
    while (json.find(boundary) != std::string::npos || file.find(boundary) != std::string::npos) {
        boundary += "x";
    }
    std::string body;
    body += fmt::format("--{}\r\nContent-Disposition: form-data; name=\"payload_json\"\r\n"
                        "Content-Type: application/json\r\n\r\n",
                        boundary);
    body += json;
    body += fmt::format("\r\n--{}\r\nContent-Disposition: form-data; name=\"files[0]\"; filename=\"{}\"\r\n"
                        "Content-Type: text/plain; charset=utf-8\r\n\r\n",
                        boundary, k_attachment_name);
    body += file;
    body += fmt::format("\r\n--{}--\r\n", boundary);
    return {std::move(body), "multipart/form-data; boundary=" + boundary};
}

class DiscordChannel final : public HttpChannel {
public:
    explicit DiscordChannel(const ChannelConfig& c) : HttpChannel(c, "Discord") {}

protected:
    Payload render(const Notification& n) const override {
        bool truncated = false;
        const std::string subject = render_subject(n);
        const std::string title = truncate_utf8(subject, k_discord_title_max);
        const std::string footer =
            truncate_utf8(fmt::format("boxmon incident {}", sanitize_utf8(n.idempotency_key())), 200);
        std::string facts = render_facts(n);
        if (std::string window = render_window(n); !window.empty()) facts += "\n" + window;
        const std::string description = code_block(facts, std::min<std::size_t>(k_discord_description_max, 2'500), truncated);
        std::size_t budget = k_discord_embed_total_max - title.size() - footer.size() - description.size();

        nlohmann::json fields = nlohmann::json::array();
        bool attach = false;
        for (const LogTail& tail : n.tails) {
            std::string field_name = truncate_utf8(
                escape_control(sanitize_utf8(fmt::format("Log {} ({})", tail.name, tail.source))),
                std::min<std::size_t>(k_discord_field_name_max, 200));
            std::string lines;
            for (const std::string& l : tail.lines) lines += sanitize_utf8(l) + "\n";
            if (tail.lines.empty()) lines = tail.note.empty() ? "(no lines)" : sanitize_utf8(tail.note);
            if (fields.size() == k_discord_fields_max || budget < field_name.size() + 100) {
                attach = true;
                break;
            }
            bool cut = false;
            const std::size_t room = std::min(k_discord_field_value_max, budget - field_name.size());
            std::string value = code_block(lines, room, cut);
            attach = attach || cut;
            budget -= field_name.size() + value.size();
            fields.push_back({{"name", field_name}, {"value", value}, {"inline", false}});
        }
        nlohmann::json embed = {{"title", title},
                                {"description", description},
                                {"color", color_of(n)},
                                {"footer", {{"text", footer}}},
                                {"timestamp", format_iso8601(n.at)}};
        if (!fields.empty()) embed["fields"] = fields;
        nlohmann::json payload = {{"content", truncate_utf8(subject, k_discord_content_max)},
                                  {"allowed_mentions", {{"parse", nlohmann::json::array()}}},
                                  {"embeds", nlohmann::json::array({embed})}};
        if (truncated || attach) {
            spdlog::warn("channel \"{}\": notification {} cut to Discord's limits{}", name(),
                         n.idempotency_key(), attach ? "; full log tails attached as a file" : "");
        }
        if (!attach) return Payload{dump_json(payload), "application/json"};
        std::string file = render_body(n);
        file = truncate_utf8(sanitize_utf8(file), k_discord_attachment_max, k_truncated_marker);
        payload["attachments"] = nlohmann::json::array({{{"id", 0}, {"filename", k_attachment_name}}});
        auto [body, content_type] = multipart(dump_json(payload), file);
        return Payload{std::move(body), std::move(content_type)};
    }
};

}  // namespace

std::unique_ptr<Channel> make_discord(const ChannelConfig& c) { return std::make_unique<DiscordChannel>(c); }

}  // namespace boxmon::alerting::detail
