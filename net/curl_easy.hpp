#pragma once
// Internal to net/: the libcurl easy handle with boxmon's fixed settings (no signals, timeouts,
// TLS verification, no redirects, abort flag) and the mapping of curl failures to messages.

#include <curl/curl.h>

#include <memory>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "net/curl_library.hpp"
#include "net/http.hpp"

namespace boxmon::net::detail {

struct CurlDeleter {
    void operator()(CURL* c) const { libcurl().easy_cleanup(c); }
};
struct SlistDeleter {
    void operator()(curl_slist* l) const { libcurl().slist_free_all(l); }
};
using CurlPtr = std::unique_ptr<CURL, CurlDeleter>;
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;

// A new easy handle, loading libcurl on first use (thread-safe). Fails when libcurl cannot be
// loaded (the message says what to install) or, naming `what` and `where`, when out of memory.
Result<CurlPtr> new_easy(std::string_view what, std::string_view where);

// Appends to a curl_slist; false when out of memory.
bool slist_append(SlistPtr& list, const std::string& line);

// Applies the transfer options; `errbuf` must hold CURL_ERROR_SIZE bytes and outlive the handle's
// use. `protocols` is the allowed scheme list ("http,https", "smtp,smtps").
Result<void> apply_transfer_options(CURL* curl, const TransferOptions& options, char* errbuf,
                                    const char* protocols);

// The message for a failed transfer: "<what> <where>: <why>; <what to do>", kind by cause.
Error transfer_error(CURLcode code, const char* errbuf, std::string_view what,
                     std::string_view where, const TransferOptions& options);

}  // namespace boxmon::net::detail
