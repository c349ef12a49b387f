#include "alerting/channels/message.hpp"

#include <ctime>

#include <fmt/format.h>

#include "alerting/channels/render.hpp"
#include "core/text.hpp"

namespace boxmon::alerting::detail {
namespace {

constexpr std::string_view k_b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64(std::string_view in) {
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                           (static_cast<unsigned char>(in[i + 1]) << 8) | static_cast<unsigned char>(in[i + 2]);
        out += k_b64[(v >> 18) & 63];
        out += k_b64[(v >> 12) & 63];
        out += k_b64[(v >> 6) & 63];
        out += k_b64[v & 63];
    }
    if (i < in.size()) {
        unsigned v = static_cast<unsigned char>(in[i]) << 16;
        if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
        out += k_b64[(v >> 18) & 63];
        out += k_b64[(v >> 12) & 63];
        out += i + 1 < in.size() ? k_b64[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

// Message-ID local part: the idempotency key with anything outside atext-safe characters as "_".
std::string id_part(std::string_view raw) {
    std::string out;
    for (char c : raw) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == '.' || c == '-' || c == '_';
        out += ok ? c : '_';
    }
    while (!out.empty() && out.front() == '.') out.erase(0, 1);
    while (!out.empty() && out.back() == '.') out.pop_back();
    return out.empty() ? std::string("boxmon") : out;
}

bool is_ascii_printable(std::string_view s) {
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f) return false;
    }
    return true;
}

}  // namespace

std::string normalize_crlf(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 32);
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\r') {
            out += "\r\n";
            if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
        } else if (text[i] == '\n') {
            out += "\r\n";
        } else {
            out += text[i];
        }
    }
    return out;
}

std::string encode_header(std::string_view value, std::string_view eol) {
    std::string clean;
    for (char c : sanitize_utf8(value)) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) c = ' ';
        clean += c;
    }
    clean = truncate_utf8(clean, 900);
    if (is_ascii_printable(clean) && clean.size() <= 900) return clean;
    // Encoded words of at most 45 input bytes (60 encoded, 72 with the wrapper), split at
    // code-point boundaries, folded onto continuation lines.
    std::string out;
    std::size_t i = 0;
    while (i < clean.size()) {
        std::size_t n = std::min<std::size_t>(45, clean.size() - i);
        while (i + n < clean.size() && (static_cast<unsigned char>(clean[i + n]) & 0xC0) == 0x80) --n;
        if (!out.empty()) out += fmt::format("{} ", eol);
        out += "=?UTF-8?B?" + base64(std::string_view(clean).substr(i, n)) + "?=";
        i += n;
    }
    return out;
}

std::string rfc5322_date(WallTime t) {
    const std::time_t secs = static_cast<std::time_t>(to_unix_seconds(t));
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    const std::size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    return std::string(buf, n);
}

bool plain_address(std::string_view address) {
    if (address.empty() || address.front() == '-' || address.size() > 254) return false;
    std::size_t ats = 0;
    for (char c : address) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f) return false;
        if (c == '<' || c == '>' || c == ',' || c == ';' || c == '"' || c == '\'' || c == '\\' ||
            c == '(' || c == ')')
            return false;
        if (c == '@') ++ats;
    }
    return ats == 1 && address.front() != '@' && address.back() != '@';
}

std::string build_mail(const Notification& n, std::string_view from, const std::vector<std::string>& to,
                       WallTime date, std::string_view eol) {
    std::string to_list;
    for (const std::string& t : to) {
        if (!to_list.empty()) to_list += ", ";
        to_list += t;
    }
    std::string host = id_part(n.host);
    std::string m;
    auto header = [&](std::string_view key, std::string_view value) {
        m += fmt::format("{}: {}{}", key, value, eol);
    };
    header("Date", rfc5322_date(date));
    header("From", from);
    header("To", to_list);
    header("Subject", encode_header(render_subject(n), eol));
    header("Message-ID", fmt::format("<{}@{}>", id_part(n.idempotency_key()), host == "boxmon" ? "boxmon.invalid" : host));
    header("X-Boxmon-Incident", id_part(n.incident_id));
    header("Auto-Submitted", "auto-generated");
    header("MIME-Version", "1.0");
    header("Content-Type", "text/plain; charset=utf-8");
    header("Content-Transfer-Encoding", "base64");
    m += eol;
    std::string body = sanitize_utf8(render_body(n));
    body = truncate_utf8(body, k_mail_body_max, k_truncated_marker);
    const std::string encoded = base64(normalize_crlf(body));
    for (std::size_t i = 0; i < encoded.size(); i += 76) {
        m += encoded.substr(i, 76);
        m += eol;
    }
    return m;
}

}  // namespace boxmon::alerting::detail
