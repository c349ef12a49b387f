#include "net/curl_easy.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/clock.hpp"
#include "core/text.hpp"
#include "core/units.hpp"

namespace boxmon::net::detail {
namespace {

// Stops a transfer when the abort flag is set (shutdown).
int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    const auto* abort = static_cast<const std::atomic<bool>*>(user);
    return (abort != nullptr && abort->load()) ? 1 : 0;
}

// What to do about a certificate that verification refused. OpenSSL names an expired or
// not-yet-valid certificate in the detail; either is as likely this box's clock as the
// receiver's certificate, so the advice says what this box believes the time is.
std::string certificate_advice(std::string_view detail, const TransferOptions& options) {
    const bool expired = detail.find("certificate has expired") != std::string_view::npos;
    const bool early = detail.find("certificate is not yet valid") != std::string_view::npos;
    if (expired || early) {
        const auto now =
            std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
        return fmt::format(
            "{}, or check this box's clock (it reads {})",
            expired ? "renew the receiver's certificate" : "check the receiver's certificate dates",
            format_iso8601(now));
    }
    return options.ca_file.empty() ? "if the receiver uses a private CA, set ca_file to its certificate"
                                   : "check that ca_file holds the CA that signed the receiver's certificate";
}

static_assert(TlsSettings{}.min_version == CURL_SSLVERSION_TLSv1_2);

// A receiver that sends less than 1 byte/s for this long is dropping us (RELIABILITY D6c).
constexpr long k_low_speed_seconds = 15;

}  // namespace

Result<CurlPtr> new_easy(std::string_view what, std::string_view where) {
    BOXMON_TRY(api, curl_api());
    CurlPtr handle(api->easy_init());
    if (!handle) return fail("{} {}: cannot create a libcurl handle (out of memory)", what, where);
    return handle;
}

bool slist_append(SlistPtr& list, const std::string& line) {
    curl_slist* next = libcurl().slist_append(list.get(), line.c_str());
    if (next == nullptr) return false;
    (void)list.release();
    list.reset(next);
    return true;
}

Result<void> apply_transfer_options(CURL* curl, const TransferOptions& options, char* errbuf,
                                    const char* protocols) {
    errbuf[0] = '\0';
    const TlsSettings tls = tls_settings(options);
    const long connect_ms = std::max<long>(1, static_cast<long>(options.connect_timeout.count()));
    const long total_ms = std::max<long>(1, static_cast<long>(options.timeout.count()));
    bool good = true;
    auto set = [&](CURLcode rc) { good = good && rc == CURLE_OK; };
    set(libcurl().easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf));
    set(libcurl().easy_setopt(curl, CURLOPT_NOSIGNAL, 1L));
    set(libcurl().easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, connect_ms));
    set(libcurl().easy_setopt(curl, CURLOPT_TIMEOUT_MS, total_ms));
    set(libcurl().easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L));
    set(libcurl().easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, k_low_speed_seconds));
    set(libcurl().easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, tls.verify_peer));
    set(libcurl().easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, tls.verify_host));
    set(libcurl().easy_setopt(curl, CURLOPT_SSLVERSION, tls.min_version));
    set(libcurl().easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L));
    set(libcurl().easy_setopt(curl, CURLOPT_PROTOCOLS_STR, protocols));
    set(libcurl().easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, protocols));
    // Never verbose: libcurl's trace would print AUTH PLAIN and Authorization headers (X2).
    set(libcurl().easy_setopt(curl, CURLOPT_VERBOSE, 0L));
    set(libcurl().easy_setopt(curl, CURLOPT_NOPROGRESS, 0L));
    set(libcurl().easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, &on_progress));
    set(libcurl().easy_setopt(curl, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(options.abort)));
    if (!options.ca_file.empty()) {
        set(libcurl().easy_setopt(curl, CURLOPT_CAINFO, options.ca_file.c_str()));
    }
    if (options.proxy) set(libcurl().easy_setopt(curl, CURLOPT_PROXY, options.proxy->c_str()));
    // A resolve that timed out otherwise makes curl_easy_cleanup wait for the resolver thread,
    // i.e. for getaddrinfo to give up (10 s and more with a resolver that swallows queries), far
    // past the connect timeout (RELIABILITY D9b). With it the thread is left to finish on its
    // own and frees what it holds; glibc's own timeouts bound its life. libcurl 7.87.0 and later;
    // an older one refuses the option and keeps waiting.
    (void)libcurl().easy_setopt(curl, CURLOPT_QUICK_EXIT, 1L);
    if (!good) return fail("libcurl rejected an option; libcurl {} is too old (7.85 or newer is needed)",
                           libcurl().version_info(CURLVERSION_NOW)->version);
    return ok();
}

Error transfer_error(CURLcode code, const char* errbuf, std::string_view what,
                     std::string_view where, const TransferOptions& options) {
    std::string detail = errbuf != nullptr && errbuf[0] != '\0' ? errbuf : libcurl().easy_strerror(code);
    while (!detail.empty() && (detail.back() == '\n' || detail.back() == '\r')) detail.pop_back();
    detail = escape_control(sanitize_utf8(detail));
    auto make = [&](ErrorKind kind, std::string why, std::string_view todo) {
        std::string message = fmt::format("{} {}: {}", what, where, why);
        if (!todo.empty()) message += fmt::format("; {}", todo);
        return Error{std::move(message), kind, 0};
    };
    switch (code) {
        case CURLE_COULDNT_CONNECT:
            return make(ErrorKind::runtime, fmt::format("could not connect ({})", detail),
                        "check that the receiver is running and the host and port are right");
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
            return make(ErrorKind::runtime, fmt::format("could not resolve host ({})", detail),
                        "check the host name and DNS");
        case CURLE_OPERATION_TIMEDOUT:
            return make(ErrorKind::timeout,
                        fmt::format("timed out (connect timeout {}, total timeout {}): {}",
                                    format_duration(options.connect_timeout),
                                    format_duration(options.timeout), detail),
                        "the receiver is slow or unreachable; raise timeout if it is just slow");
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_ISSUER_ERROR:
            return make(ErrorKind::runtime, fmt::format("TLS certificate verification failed ({})", detail),
                        certificate_advice(detail, options));
        case CURLE_SSL_CONNECT_ERROR:
            return make(ErrorKind::runtime, fmt::format("TLS handshake failed ({})", detail),
                        "check that the port speaks TLS and supports TLS 1.2 or newer");
        case CURLE_SSL_CACERT_BADFILE:
            return make(ErrorKind::config,
                        fmt::format("cannot use CA file \"{}\" ({})", options.ca_file.string(), detail),
                        "point ca_file at a readable PEM file");
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
            return make(ErrorKind::config, fmt::format("bad URL ({})", detail), "fix the url setting");
        case CURLE_USE_SSL_FAILED:
            return make(ErrorKind::config, "server did not offer STARTTLS",
                        "use smtps:// or a server with STARTTLS; starttls = \"off\" only for loopback relays");
        case CURLE_LOGIN_DENIED:
            return make(ErrorKind::config, "authentication failed", "check username and password_file");
        case CURLE_ABORTED_BY_CALLBACK:
            return make(ErrorKind::runtime, "aborted (shutting down)", "");
        case CURLE_GOT_NOTHING:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
            return make(ErrorKind::runtime, fmt::format("connection lost ({})", detail), "will retry");
        default:
            return make(ErrorKind::runtime, detail, "");
    }
}

}  // namespace boxmon::net::detail
