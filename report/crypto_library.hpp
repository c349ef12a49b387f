#pragma once
// Internal to report/: OpenSSL's libcrypto, loaded with dlopen the first time a report reads a
// certificate. Linked, it was mapped and relocated by every process (1.4 MiB of the daemon's
// RSS, part of each one-shot sample's start) for a section only `boxmon report` writes. The
// prototypes come from OpenSSL's headers, so the calls are type-checked against the installed
// library as if it were linked.

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <string>

#include "core/result.hpp"

namespace boxmon::report::detail {

// The libcrypto functions certs.cpp uses.
struct CryptoApi {
    decltype(&::BIO_new) bio_new = nullptr;
    decltype(&::BIO_s_mem) bio_s_mem = nullptr;
    decltype(&::BIO_new_mem_buf) bio_new_mem_buf = nullptr;
    decltype(&::BIO_ctrl) bio_ctrl = nullptr;  // BIO_get_mem_data is a macro over it
    decltype(&::BIO_free) bio_free = nullptr;
    decltype(&::PEM_read_bio_X509) pem_read_bio_x509 = nullptr;
    decltype(&::d2i_X509) d2i_x509 = nullptr;
    decltype(&::X509_free) x509_free = nullptr;
    decltype(&::X509_get_subject_name) x509_get_subject_name = nullptr;
    decltype(&::X509_get_issuer_name) x509_get_issuer_name = nullptr;
    decltype(&::X509_get0_notBefore) x509_get0_not_before = nullptr;
    decltype(&::X509_get0_notAfter) x509_get0_not_after = nullptr;
    decltype(&::X509_NAME_print_ex) x509_name_print_ex = nullptr;
    decltype(&::ASN1_TIME_to_tm) asn1_time_to_tm = nullptr;
    decltype(&::ERR_clear_error) err_clear_error = nullptr;
};

// Loads `soname` and resolves every function of CryptoApi; the handle is never closed. Fails
// naming the library, the loader's message and the package to install.
Result<CryptoApi> load_crypto_api(const std::string& soname);

// The process's libcrypto (BOXMON_LIBCRYPTO_SONAME), loaded on the first call; thread-safe.
// Later calls return the first call's outcome.
Result<const CryptoApi*> crypto_api();

}  // namespace boxmon::report::detail
