#pragma once
// The RFC 5322 message the smtp and sendmail channels send: Date, Message-ID (stable per
// notification, so a redelivery is recognisably the same mail), From, To, Subject (RFC 2047 when
// not ASCII), UTF-8 text body in base64 (so no line is longer than 76 octets and no content can
// end the SMTP DATA phase or inject a header: RELIABILITY B8).

#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/incident.hpp"

namespace boxmon::alerting::detail {

// Largest text body sent, before encoding; longer bodies are cut with a marker.
inline constexpr std::size_t k_mail_body_max = 1u << 20;

// The whole message; lines end in `eol` ("\r\n" for SMTP, "\n" for sendmail).
std::string build_mail(const Notification& n, std::string_view from, const std::vector<std::string>& to,
                       WallTime date, std::string_view eol = "\r\n");

// `text` with every line ending (CRLF, lone CR, lone LF) made CRLF.
std::string normalize_crlf(std::string_view text);

// A header value: RFC 2047 B-encoded words when it holds non-ASCII, control characters removed.
std::string encode_header(std::string_view value, std::string_view eol);

// RFC 5322 date: "Mon, 23 Nov 2026 12:03:00 +0000".
std::string rfc5322_date(WallTime t);

// True when `address` can go into a header and an envelope unchanged: no control characters,
// no spaces, no <>, ",", ";" or quotes, exactly one "@", not starting with "-".
bool plain_address(std::string_view address);

}  // namespace boxmon::alerting::detail
