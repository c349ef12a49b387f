#include "net/smtp.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "net/curl_easy.hpp"

namespace boxmon::net {
namespace {

// The connection stays in the handle's cache after the transfer, even after a response timeout,
// and curl_easy_cleanup then sends QUIT and waits for the answer under the server response
// timeout of an internal handle (120 s; CURLOPT_TIMEOUT does not apply while disconnecting), so
// a server that stalled after DATA held the attempt for two minutes (RELIABILITY D3). Once the
// transfer is over nothing more is needed from the server: shutting the socket down makes that
// QUIT fail at once. curl still owns and closes the descriptor.
void end_session(CURL* curl) {
    curl_socket_t sock = CURL_SOCKET_BAD;
    if (detail::libcurl().easy_getinfo(curl, CURLINFO_ACTIVESOCKET, &sock) == CURLE_OK && sock != CURL_SOCKET_BAD)
        ::shutdown(sock, SHUT_RDWR);
}

struct Upload {
    const std::string* data = nullptr;
    std::size_t offset = 0;
};

std::size_t on_read(char* buffer, std::size_t size, std::size_t count, void* user) {
    auto* up = static_cast<Upload*>(user);
    const std::size_t n = std::min(size * count, up->data->size() - up->offset);
    std::memcpy(buffer, up->data->data() + up->offset, n);
    up->offset += n;
    return n;
}

std::size_t on_discard(char*, std::size_t size, std::size_t count, void*) { return size * count; }

SmtpResult failed(Error e, long code) {
    SmtpResult r;
    r.error = std::move(e);
    r.code = code;
    return r;
}

}  // namespace

SmtpResult smtp_send(const SmtpRequest& request, const TransferOptions& options) {
    const std::string where = redact_url(request.url.reveal());
    const std::vector<const Secret*> secrets{&request.url, &request.password};
    auto handle = detail::new_easy("SMTP", where);
    if (!handle) return failed(std::move(handle).error(), 0);
    detail::CurlPtr curl = std::move(*handle);
    char errbuf[CURL_ERROR_SIZE];
    if (auto r = detail::apply_transfer_options(curl.get(), options, errbuf, "smtp,smtps"); !r) {
        return failed(r.error(), 0);
    }
    detail::SlistPtr rcpt;
    for (const std::string& to : request.to) {
        if (!detail::slist_append(rcpt, "<" + to + ">")) {
            return failed(Error{fmt::format("SMTP {}: out of memory", where)}, 0);
        }
    }
    Upload upload{&request.message, 0};
    const std::string mail_from = "<" + request.from + ">";
    bool set_ok = true;
    auto set = [&](CURLcode rc) { set_ok = set_ok && rc == CURLE_OK; };
    set(detail::libcurl().easy_setopt(curl.get(), CURLOPT_URL, request.url.reveal().c_str()));
    set(detail::libcurl().easy_setopt(curl.get(), CURLOPT_USE_SSL,
                         request.require_starttls ? static_cast<long>(CURLUSESSL_ALL)
                                                  : static_cast<long>(CURLUSESSL_NONE)));
    set(detail::libcurl().easy_setopt(curl.get(), CURLOPT_MAIL_FROM, mail_from.c_str()));
    set(detail::libcurl().easy_setopt(curl.get(), CURLOPT_MAIL_RCPT, rcpt.get()));
    set(detail::libcurl().easy_setopt(curl.get(), CURLOPT_UPLOAD, 1L));
    set(detail::libcurl().easy_setopt(curl.get(), CURLOPT_READFUNCTION, &on_read));
    set(detail::libcurl().easy_setopt(curl.get(), CURLOPT_READDATA, &upload));
    set(detail::libcurl().easy_setopt(curl.get(), CURLOPT_INFILESIZE_LARGE,
                         static_cast<curl_off_t>(request.message.size())));
    set(detail::libcurl().easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &on_discard));
    if (!request.username.empty()) {
        set(detail::libcurl().easy_setopt(curl.get(), CURLOPT_USERNAME, request.username.c_str()));
        set(detail::libcurl().easy_setopt(curl.get(), CURLOPT_PASSWORD, request.password.reveal().c_str()));
    }
    if (!set_ok) {
        return failed(Error{fmt::format("SMTP {}: libcurl rejected the settings; check url, from and to", where),
                            ErrorKind::config, 0},
                      0);
    }
    const CURLcode rc = detail::libcurl().easy_perform(curl.get());
    long code = 0;
    detail::libcurl().easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &code);
    end_session(curl.get());
    if (rc == CURLE_OK) {
        SmtpResult r;
        r.delivered = true;
        r.code = code;
        return r;
    }
    Error e;
    if (rc == CURLE_LOGIN_DENIED) {
        e = Error{fmt::format("SMTP authentication failed for \"{}\" at {} (reply {}); check username and "
                              "password_file",
                              request.username, where, code),
                  ErrorKind::config, 0};
    } else {
        e = detail::transfer_error(rc, errbuf, "SMTP", where, options);
        if (code >= 400 && code < 600) e.message += fmt::format(" (last SMTP reply {})", code);
    }
    e.message = scrub(std::move(e.message), secrets);
    return failed(std::move(e), code);
}

}  // namespace boxmon::net
