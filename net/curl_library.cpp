#include "net/curl_library.hpp"

#include <dlfcn.h>

#include <mutex>

#include "core/shared_library.hpp"

namespace boxmon::net::detail {

namespace {

struct Loaded {
    std::once_flag once;
    Result<CurlApi> api = fail("libcurl not loaded yet");
};

Loaded& loaded() {
    static Loaded l;
    return l;
}

}  // namespace

Result<CurlApi> load_curl_api(const std::string& soname) {
    auto opened = open_shared_library(soname);
    if (!opened)
        return fail("cannot load libcurl ({}): {}; boxmon needs it for HTTP and SMTP: install the libcurl4 "
                    "package (Debian) or curl (Homebrew)",
                    soname, opened.error().message);
    void* handle = *opened;
    CurlApi api;
    std::string missing;
    resolve_function(handle, "curl_global_init", api.global_init, missing);
    resolve_function(handle, "curl_easy_init", api.easy_init, missing);
    resolve_function(handle, "curl_easy_cleanup", api.easy_cleanup, missing);
    resolve_function(handle, "curl_easy_setopt", api.easy_setopt, missing);
    resolve_function(handle, "curl_easy_perform", api.easy_perform, missing);
    resolve_function(handle, "curl_easy_getinfo", api.easy_getinfo, missing);
    resolve_function(handle, "curl_easy_strerror", api.easy_strerror, missing);
    resolve_function(handle, "curl_slist_append", api.slist_append, missing);
    resolve_function(handle, "curl_slist_free_all", api.slist_free_all, missing);
    resolve_function(handle, "curl_version_info", api.version_info, missing);
    resolve_function(handle, "curl_getdate", api.getdate, missing);
    if (!missing.empty()) {
        dlclose(handle);
        return fail("{} is not a usable libcurl: it lacks {}; install the libcurl4 package", soname, missing);
    }
    if (const CURLcode rc = api.global_init(CURL_GLOBAL_DEFAULT); rc != CURLE_OK) {
        // Leave the library loaded: a failed global init may have half-set its state.
        return fail("curl_global_init in {} failed: {}", soname, api.easy_strerror(rc));
    }
    return api;
}

Result<const CurlApi*> curl_api() {
    Loaded& l = loaded();
    std::call_once(l.once, [&l] { l.api = load_curl_api(BOXMON_LIBCURL_SONAME); });
    if (!l.api) return fail(l.api.error());
    return &*l.api;
}

const CurlApi& libcurl() { return *loaded().api; }

}  // namespace boxmon::net::detail
