// libcrypto loaded when a report first reads a certificate: a library that is missing or is not
// libcrypto is refused with a message that says what to install, and the real one resolves every
// function and agrees with the headers' major version.
#include "report/crypto_library.hpp"

#include <openssl/crypto.h>

#include <gtest/gtest.h>

namespace boxmon::report::detail {
namespace {

TEST(CryptoLibrary, AMissingLibraryIsRefusedSayingWhatToInstall) {
    const auto api = load_crypto_api("libcrypto-that-does-not-exist.so.3");
    ASSERT_FALSE(api);
    const std::string& m = api.error().message;
    EXPECT_TRUE(m.starts_with("cannot load OpenSSL's libcrypto (libcrypto-that-does-not-exist.so.3): ")) << m;
    EXPECT_TRUE(m.ends_with("install the libssl3 package (Debian) or openssl@3 (Homebrew)")) << m;
}

TEST(CryptoLibrary, ALibraryThatIsNotLibcryptoIsRefusedNamingWhatItLacks) {
    const auto api = load_crypto_api("libm.so.6");
    ASSERT_FALSE(api);
    const std::string& m = api.error().message;
    EXPECT_TRUE(m.starts_with("libm.so.6 is not a usable libcrypto: it lacks BIO_new, BIO_s_mem,")) << m;
    EXPECT_TRUE(m.ends_with("ERR_clear_error; install the libssl3 package")) << m;
}

TEST(CryptoLibrary, TheProcessLibcryptoLoadsOnceWithEveryFunction) {
    const auto first = crypto_api();
    ASSERT_TRUE(first) << first.error().message;
    const CryptoApi* api = *first;
    EXPECT_NE(api->pem_read_bio_x509, nullptr);
    EXPECT_NE(api->err_clear_error, nullptr);
    EXPECT_EQ(OpenSSL_version_num() >> 28, static_cast<unsigned long>(OPENSSL_VERSION_NUMBER) >> 28);
    const auto second = crypto_api();
    ASSERT_TRUE(second);
    EXPECT_EQ(*second, api);
}

}  // namespace
}  // namespace boxmon::report::detail
