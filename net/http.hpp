#pragma once
// HttpClient: the one libcurl wrapper for HTTP(S) delivery. Every request is bounded (connect
// timeout, total timeout, a low-speed limit, a body cap), TLS is verified by default, redirects
// are never followed, only http/https are allowed, and error texts never carry the URL's path,
// query or user info, nor any header value (webhook tokens live there).

#include <atomic>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "core/secret.hpp"

namespace boxmon::net {

using namespace std::chrono_literals;

// Transport settings shared by HTTP and SMTP transfers.
struct TransferOptions {
    std::chrono::milliseconds connect_timeout = 10s;  // TCP connect and TLS handshake
    std::chrono::milliseconds timeout = 20s;          // the whole transfer
    std::filesystem::path ca_file;                    // empty: the system's trust store
    bool tls_skip_verify = false;                     // explicit opt-out only (WARNs at start)
    std::optional<std::string> proxy;                 // unset: libcurl's environment handling
    const std::atomic<bool>* abort = nullptr;         // set: the transfer stops at once
};

// The curl TLS settings derived from options; a pure function so a unit test can assert that
// verification is on unless explicitly skipped (RELIABILITY X4).
struct TlsSettings {
    long verify_peer = 1;  // CURLOPT_SSL_VERIFYPEER
    long verify_host = 2;  // CURLOPT_SSL_VERIFYHOST
    // CURLOPT_SSLVERSION: CURL_SSLVERSION_TLSv1_2 (6), whatever the system's OpenSSL allows and
    // whether or not verification is skipped.
    long min_version = 6;
};
TlsSettings tls_settings(const TransferOptions& options);

struct HttpHeader {
    std::string name;
    Secret value;  // may carry a token (Authorization)
};

struct HttpRequest {
    std::string method = "POST";  // POST, PUT or GET
    Secret url;
    std::vector<HttpHeader> headers;
    std::string content_type = "application/json";
    std::string body;
};

// Largest response body kept; the rest is not read (RELIABILITY D7).
inline constexpr std::size_t k_response_body_max = 64 * 1024;

struct HttpResponse {
    long status = 0;
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
    std::string body;  // at most k_response_body_max bytes, raw
    bool body_truncated = false;
    std::optional<std::chrono::seconds> retry_after;

    // The first header named `name` (lower case), or nullptr.
    const std::string* header(std::string_view name) const;
};

// Sends one request. Fails when no HTTP status came back: kind timeout (connect or total
// timeout, low-speed limit), config (malformed URL, unsupported scheme, unreadable CA file) or
// runtime (refused, reset, DNS, TLS verification, aborted). Any status, 3xx included, is a
// response. Messages name the method and the redacted URL (scheme://host:port).
Result<HttpResponse> http_request(const HttpRequest& request, const TransferOptions& options);

// Parses a Retry-After value: delta-seconds or an HTTP-date (relative to `now_unix`); nullopt
// when malformed. Negative waits become zero; waits are capped at one day.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value, long long now_unix);

// Replaces every occurrence of a secret in `text` with "<secret>": the whole value and, when it
// is a URL, its user info, path and query parts (4 bytes or longer), raw and percent-decoded.
std::string scrub(std::string text, const std::vector<const Secret*>& secrets);

// A receiver's answer made fit for a message: valid UTF-8, control characters escaped, built-in
// secret patterns redacted, cut to `max_bytes`.
std::string excerpt(std::string_view text, std::size_t max_bytes = 200);

}  // namespace boxmon::net
