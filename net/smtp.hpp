#pragma once
// Sends one finished RFC 5322 message over SMTP with libcurl: smtp:// with STARTTLS required by
// default (CURLUSESSL_ALL, so a stripped STARTTLS never leads to AUTH in the clear), smtps://,
// AUTH, several recipients. The message must already use CRLF line endings; libcurl dot-stuffs.

#include <string>
#include <vector>

#include "core/result.hpp"
#include "core/secret.hpp"
#include "net/http.hpp"

namespace boxmon::net {

struct SmtpRequest {
    Secret url;  // smtp://host[:port] or smtps://host[:port]
    bool require_starttls = true;
    std::string username;  // empty: no AUTH
    Secret password;
    std::string from;              // envelope sender (bare address)
    std::vector<std::string> to;   // envelope recipients (bare addresses)
    std::string message;           // headers and body, CRLF line endings
};

// Sends the message once. On failure the message names the redacted server (scheme://host:port),
// the phase's reply code where there is one, and what to do; never the password.
struct SmtpResult {
    bool delivered = false;
    long code = 0;      // the last SMTP reply code (0 if none)
    Error error;        // set when !delivered
};
SmtpResult smtp_send(const SmtpRequest& request, const TransferOptions& options);

}  // namespace boxmon::net
