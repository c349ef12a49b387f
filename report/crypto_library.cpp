#include "report/crypto_library.hpp"

#include <dlfcn.h>

#include <mutex>

#include "core/shared_library.hpp"

namespace boxmon::report::detail {

Result<CryptoApi> load_crypto_api(const std::string& soname) {
    auto opened = open_shared_library(soname);
    if (!opened)
        return fail("cannot load OpenSSL's libcrypto ({}): {}; the report reads certificates with it: install "
                    "the libssl3 package (Debian) or openssl@3 (Homebrew)",
                    soname, opened.error().message);
    void* handle = *opened;
    CryptoApi api;
    std::string missing;
    resolve_function(handle, "BIO_new", api.bio_new, missing);
    resolve_function(handle, "BIO_s_mem", api.bio_s_mem, missing);
    resolve_function(handle, "BIO_new_mem_buf", api.bio_new_mem_buf, missing);
    resolve_function(handle, "BIO_ctrl", api.bio_ctrl, missing);
    resolve_function(handle, "BIO_free", api.bio_free, missing);
    resolve_function(handle, "PEM_read_bio_X509", api.pem_read_bio_x509, missing);
    resolve_function(handle, "d2i_X509", api.d2i_x509, missing);
    resolve_function(handle, "X509_free", api.x509_free, missing);
    resolve_function(handle, "X509_get_subject_name", api.x509_get_subject_name, missing);
    resolve_function(handle, "X509_get_issuer_name", api.x509_get_issuer_name, missing);
    resolve_function(handle, "X509_get0_notBefore", api.x509_get0_not_before, missing);
    resolve_function(handle, "X509_get0_notAfter", api.x509_get0_not_after, missing);
    resolve_function(handle, "X509_NAME_print_ex", api.x509_name_print_ex, missing);
    resolve_function(handle, "ASN1_TIME_to_tm", api.asn1_time_to_tm, missing);
    resolve_function(handle, "ERR_clear_error", api.err_clear_error, missing);
    if (!missing.empty()) {
        dlclose(handle);
        return fail("{} is not a usable libcrypto: it lacks {}; install the libssl3 package", soname, missing);
    }
    return api;
}

Result<const CryptoApi*> crypto_api() {
    static std::once_flag once;
    static Result<CryptoApi> api = fail("libcrypto not loaded yet");
    std::call_once(once, [] { api = load_crypto_api(BOXMON_LIBCRYPTO_SONAME); });
    if (!api) return fail(api.error());
    return &*api;
}

}  // namespace boxmon::report::detail
