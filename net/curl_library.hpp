#pragma once
// Internal to net/: libcurl, loaded with dlopen the first time a transfer needs it. libcurl and
// the thirty-odd libraries it pulls in (OpenSSL, GnuTLS through librtmp, Kerberos, LDAP, nghttp2
// ...) cost a process about 4 ms of dynamic linking and 2-3 MiB of resident pages; a one-shot
// `boxmon sample` or a daemon whose channels are all `log` never needs them
// (docs/PERFORMANCE.md). The prototypes come from curl.h, so the calls are type-checked
// against the installed libcurl as if it were linked.

#include <curl/curl.h>

#include <string>

#include "core/result.hpp"

namespace boxmon::net::detail {

// The libcurl functions net/ uses.
struct CurlApi {
    decltype(&::curl_global_init) global_init = nullptr;
    decltype(&::curl_easy_init) easy_init = nullptr;
    decltype(&::curl_easy_cleanup) easy_cleanup = nullptr;
    decltype(&::curl_easy_setopt) easy_setopt = nullptr;
    decltype(&::curl_easy_perform) easy_perform = nullptr;
    decltype(&::curl_easy_getinfo) easy_getinfo = nullptr;
    decltype(&::curl_easy_strerror) easy_strerror = nullptr;
    decltype(&::curl_slist_append) slist_append = nullptr;
    decltype(&::curl_slist_free_all) slist_free_all = nullptr;
    decltype(&::curl_version_info) version_info = nullptr;
    decltype(&::curl_getdate) getdate = nullptr;
};

// Loads `soname` and resolves every function of CurlApi, then runs curl_global_init. The handle
// is never closed (libcurl keeps global state). Fails naming the library, the loader's message
// and the package to install.
Result<CurlApi> load_curl_api(const std::string& soname);

// The process's libcurl (BOXMON_LIBCURL_SONAME), loaded on the first call; thread-safe. Later
// calls return the first call's outcome.
Result<const CurlApi*> curl_api();

// The loaded API; call only after curl_api() succeeded (every handle comes from new_easy(),
// which checks).
const CurlApi& libcurl();

}  // namespace boxmon::net::detail
