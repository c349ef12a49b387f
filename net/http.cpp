#include "net/http.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>

#include <fmt/format.h>

#include "core/redact.hpp"
#include "core/text.hpp"
#include "net/curl_easy.hpp"

namespace boxmon::net {
namespace {

// Most header lines kept per response: enough for Retry-After and Location, bounded for a
// hostile receiver.
constexpr std::size_t k_header_max = 100;

struct Transfer {
    HttpResponse response;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const std::size_t n = size * count;
    const std::size_t room = k_response_body_max - t->response.body.size();
    if (n > room) {
        t->response.body.append(data, room);
        t->response.body_truncated = true;
        return 0;  // stops the transfer (CURLE_WRITE_ERROR), the status is already known
    }
    t->response.body.append(data, n);
    return n;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const std::size_t n = size * count;
    std::string_view line(data, n);
    if (line.starts_with("HTTP/")) {
        t->response.headers.clear();  // a new response (after 100 Continue)
        return n;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || t->response.headers.size() >= k_header_max) return n;
    t->response.headers.emplace_back(lower(trim(line.substr(0, colon))),
                                     std::string(trim(line.substr(colon + 1))));
    return n;
}

void replace_all(std::string& text, std::string_view needle, std::string_view with) {
    if (needle.empty()) return;
    std::size_t pos = 0;
    while ((pos = text.find(needle, pos)) != std::string::npos) {
        text.replace(pos, needle.size(), with);
        pos += with.size();
    }
}

std::string percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            unsigned value = 0;
            auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, value, 16);
            if (ec == std::errc() && p == s.data() + i + 3) {
                out.push_back(static_cast<char>(value));
                i += 2;
                continue;
            }
        }
        out.push_back(s[i]);
    }
    return out;
}

// The parts of a URL that may hold a token: user info, path (without the leading "/") and
// query, each also split at "/" so a token in one path segment is caught on its own.
std::vector<std::string> secret_parts(std::string_view url) {
    std::vector<std::string> parts;
    const auto scheme = url.find("://");
    if (scheme == std::string_view::npos) return parts;
    std::string_view rest = url.substr(scheme + 3);
    const auto path_start = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, path_start);
    if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
        std::string_view userinfo = authority.substr(0, at);
        parts.emplace_back(userinfo);
        if (const auto colon = userinfo.find(':'); colon != std::string_view::npos) {
            parts.emplace_back(userinfo.substr(colon + 1));
        }
    }
    if (path_start == std::string_view::npos) return parts;
    std::string_view tail = rest.substr(path_start);
    parts.emplace_back(tail);
    // A short word of letters ("hook", "api", "alert") is a path's name, not a token: masking it
    // would mask the channel called "hook" and every "alert" in the message too.
    auto is_word = [](std::string_view segment) {
        return segment.size() < 8 && std::all_of(segment.begin(), segment.end(), [](char ch) {
                   return std::isalpha(static_cast<unsigned char>(ch)) != 0 || ch == '-' || ch == '_' || ch == '.';
               });
    };
    std::size_t start = 0;
    while (start < tail.size()) {
        const auto end = tail.find_first_of("/?&=#", start);
        const auto len = (end == std::string_view::npos ? tail.size() : end) - start;
        if (!is_word(tail.substr(start, len))) parts.emplace_back(tail.substr(start, len));
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    return parts;
}

}  // namespace

TlsSettings tls_settings(const TransferOptions& options) {
    TlsSettings tls;
    if (options.tls_skip_verify) tls.verify_peer = tls.verify_host = 0;
    return tls;
}

const std::string* HttpResponse::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (key == name) return &value;
    }
    return nullptr;
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value, long long now_unix) {
    constexpr long long k_cap = 24 * 3600;
    value = trim(value);
    if (value.empty()) return std::nullopt;
    if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        long long seconds = 0;
        auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
        if (ec == std::errc::result_out_of_range) return std::chrono::seconds{k_cap};
        if (ec != std::errc() || p != value.data() + value.size()) return std::nullopt;
        return std::chrono::seconds{std::min(seconds, k_cap)};
    }
    const std::string text(value);
    const auto api = detail::curl_api();
    if (!api) return std::nullopt;
    const time_t at = (*api)->getdate(text.c_str(), nullptr);
    if (at == static_cast<time_t>(-1)) return std::nullopt;
    const long long wait = static_cast<long long>(at) - now_unix;
    return std::chrono::seconds{std::clamp(wait, 0LL, k_cap)};
}

std::string scrub(std::string text, const std::vector<const Secret*>& secrets) {
    const std::string mask(k_secret_mask);
    for (const Secret* secret : secrets) {
        if (secret == nullptr || secret->empty()) continue;
        const std::string& value = secret->reveal();
        // The whole value shows as scheme://host: where it went, never what it carried.
        const std::string shown = redact_url(value);
        if (value != shown) replace_all(text, value, shown.starts_with("<") ? mask : shown);
        std::vector<std::string> parts = secret_parts(value);
        // Longest first, so a whole path is masked before its segments.
        std::sort(parts.begin(), parts.end(),
                  [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
        for (const std::string& part : parts) {
            if (part.size() < 4) continue;
            replace_all(text, part, mask);
            const std::string decoded = percent_decode(part);
            if (decoded.size() >= 4) replace_all(text, decoded, mask);
        }
    }
    return text;
}

std::string excerpt(std::string_view text, std::size_t max_bytes) {
    static const Redactor redactor;
    std::string clean = escape_control(sanitize_utf8(text.substr(0, std::min<std::size_t>(text.size(), 16 * 1024))));
    clean = redactor.redact(clean);
    return truncate_utf8(clean, max_bytes);
}

Result<HttpResponse> http_request(const HttpRequest& request, const TransferOptions& options) {
    const std::string where = redact_url(request.url.reveal());
    const std::string what = request.method;
    BOXMON_TRY(curl, detail::new_easy(what, where));
    char errbuf[CURL_ERROR_SIZE];
    BOXMON_CHECK(detail::apply_transfer_options(curl.get(), options, errbuf, "http,https"));

    detail::SlistPtr headers;
    bool good = true;
    if (!request.body.empty() || (request.method != "GET" && request.method != "HEAD")) {
        good = detail::slist_append(headers, "Content-Type: " + request.content_type);
    }
    good = good && detail::slist_append(headers, "Expect:");  // no 100-continue round trip
    for (const HttpHeader& h : request.headers) {
        good = good && detail::slist_append(headers, h.name + ": " + h.value.reveal());
    }
    if (!good) return fail("{} {}: out of memory building headers", what, where);

    Transfer transfer;
    bool set_ok = true;
    auto set = [&](CURLcode rc) { set_ok = set_ok && rc == CURLE_OK; };
    set(detail::libcurl().easy_setopt(curl.get(), CURLOPT_URL, request.url.reveal().c_str()));
    set(detail::libcurl().easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.get()));
    set(detail::libcurl().easy_setopt(curl.get(), CURLOPT_USERAGENT, "boxmon/0.1"));
    set(detail::libcurl().easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &on_body));
    set(detail::libcurl().easy_setopt(curl.get(), CURLOPT_WRITEDATA, &transfer));
    set(detail::libcurl().easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, &on_header));
    set(detail::libcurl().easy_setopt(curl.get(), CURLOPT_HEADERDATA, &transfer));
    if (request.method == "GET") {
        set(detail::libcurl().easy_setopt(curl.get(), CURLOPT_HTTPGET, 1L));
    } else if (request.method == "HEAD") {
        // HEAD has no response body: without NOBODY curl would wait for one until the timeout.
        set(detail::libcurl().easy_setopt(curl.get(), CURLOPT_NOBODY, 1L));
    } else {
        set(detail::libcurl().easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE_LARGE,
                             static_cast<curl_off_t>(request.body.size())));
        set(detail::libcurl().easy_setopt(curl.get(), CURLOPT_POSTFIELDS, request.body.data()));
        if (request.method != "POST") {
            set(detail::libcurl().easy_setopt(curl.get(), CURLOPT_CUSTOMREQUEST, request.method.c_str()));
        }
    }
    if (!set_ok) {
        return fail_as(ErrorKind::config, "{} {}: libcurl rejected the request settings; check the url", what, where);
    }

    const CURLcode rc = detail::libcurl().easy_perform(curl.get());
    long status = 0;
    detail::libcurl().easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
    const bool capped = rc == CURLE_WRITE_ERROR && transfer.response.body_truncated;
    if (rc != CURLE_OK && !(capped && status != 0)) {
        Error e = detail::transfer_error(rc, errbuf, what, where, options);
        std::vector<const Secret*> secrets{&request.url};
        for (const HttpHeader& h : request.headers) secrets.push_back(&h.value);
        e.message = scrub(std::move(e.message), secrets);
        return fail(std::move(e));
    }
    transfer.response.status = status;
    if (const std::string* ra = transfer.response.header("retry-after")) {
        transfer.response.retry_after = parse_retry_after(*ra, static_cast<long long>(std::time(nullptr)));
    }
    return std::move(transfer.response);
}

}  // namespace boxmon::net
