// libcurl loaded at the first transfer: a library that is missing or is not libcurl is refused
// with a message that says what to install, and the real one resolves every function.
#include "net/curl_library.hpp"

#include <gtest/gtest.h>

namespace boxmon::net::detail {
namespace {

TEST(CurlLibrary, AMissingLibraryIsRefusedSayingWhatToInstall) {
    const auto api = load_curl_api("libcurl-that-does-not-exist.so.4");
    ASSERT_FALSE(api);
    const std::string& m = api.error().message;
    EXPECT_TRUE(m.starts_with("cannot load libcurl (libcurl-that-does-not-exist.so.4): ")) << m;
    EXPECT_TRUE(m.ends_with("; boxmon needs it for HTTP and SMTP: install the libcurl4 package (Debian) or curl "
                            "(Homebrew)"))
        << m;
}

TEST(CurlLibrary, ALibraryThatIsNotLibcurlIsRefusedNamingWhatItLacks) {
    const auto api = load_curl_api("libm.so.6");
    ASSERT_FALSE(api);
    EXPECT_EQ(api.error().message,
              "libm.so.6 is not a usable libcurl: it lacks curl_global_init, curl_easy_init, curl_easy_cleanup, "
              "curl_easy_setopt, curl_easy_perform, curl_easy_getinfo, curl_easy_strerror, curl_slist_append, "
              "curl_slist_free_all, curl_version_info, curl_getdate; install the libcurl4 package");
}

TEST(CurlLibrary, TheProcessLibcurlLoadsOnceWithEveryFunction) {
    const auto first = curl_api();
    ASSERT_TRUE(first) << first.error().message;
    const CurlApi* api = *first;
    EXPECT_NE(api->easy_setopt, nullptr);
    EXPECT_NE(api->getdate, nullptr);
    // The version this was compiled against and the one loaded agree on the major version.
    EXPECT_EQ(api->version_info(CURLVERSION_NOW)->version_num >> 16, LIBCURL_VERSION_NUM >> 16);
    const auto second = curl_api();
    ASSERT_TRUE(second);
    EXPECT_EQ(*second, api);
}

}  // namespace
}  // namespace boxmon::net::detail
