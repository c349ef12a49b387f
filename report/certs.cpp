// Certificates: subject, issuer and validity read with OpenSSL's library (never a shell-out to
// `openssl x509`), loaded when the first certificate is read (report/crypto_library.hpp). Only
// metadata reaches the report; key files are never opened (RELIABILITY X3).
#include <glob.h>
#include <sys/stat.h>

#include <ctime>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/fs.hpp"
#include "report/crypto_library.hpp"
#include "report/gather.hpp"

namespace boxmon::report {

namespace {

// A certificate file is a few KiB; a chain bundle some tens. Larger files are not certificates
// we should be parsing in a report (RELIABILITY B10: a 50 MB file, a 10,000-certificate bundle).
constexpr std::size_t k_cert_file_max_bytes = 1u << 20;

using detail::CryptoApi;

struct BioFree {
    const CryptoApi* api;
    void operator()(BIO* b) const { api->bio_free(b); }
};
struct X509Free {
    const CryptoApi* api;
    void operator()(X509* x) const { api->x509_free(x); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;

std::string name_text(const CryptoApi& api, const X509_NAME* name) {
    BioPtr bio(api.bio_new(api.bio_s_mem()), BioFree{&api});
    if (!bio || name == nullptr) return {};
    api.x509_name_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    char* data = nullptr;
    // BIO_get_mem_data(bio, &data), which is this macro.
    const long n = api.bio_ctrl(bio.get(), BIO_CTRL_INFO, 0, reinterpret_cast<char*>(&data));
    return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

std::optional<WallTime> asn1_time(const CryptoApi& api, const ASN1_TIME* t) {
    if (t == nullptr) return std::nullopt;
    std::tm tm{};
    if (api.asn1_time_to_tm(t, &tm) != 1) return std::nullopt;
    return from_unix_seconds(static_cast<std::int64_t>(::timegm(&tm)));
}

// Private key files by the names certbot and common setups give them: never opened.
bool looks_like_key_file(const std::filesystem::path& path) {
    const std::string name = path.filename().string();
    return name.find("privkey") != std::string::npos || name.ends_with(".key") ||
           name.find("private") != std::string::npos;
}

}  // namespace

long days_left(WallTime not_after, WallTime now) {
    // Toward zero: a certificate that expired 3 days and 1 hour ago "expired 3 days ago".
    return static_cast<long>(std::chrono::duration_cast<std::chrono::days>(not_after - now).count());
}

CertInfo read_certificate(const std::filesystem::path& path) {
    CertInfo info;
    info.path = path;
    if (looks_like_key_file(path)) {
        info.error = "skipped: looks like a private key file (not opened)";
        return info;
    }
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0) {
        info.error = fmt::format("cannot read: {}", std::system_category().message(errno));
        return info;
    }
    if (!S_ISREG(st.st_mode)) {
        info.error = "skipped: not a regular file";
        return info;
    }
    if (static_cast<std::uint64_t>(st.st_size) > k_cert_file_max_bytes) {
        info.error = "skipped: larger than 1 MiB";
        return info;
    }
    auto content = read_bounded(path, k_cert_file_max_bytes);
    if (!content) {
        info.error = "cannot read: " + content.error().message;
        return info;
    }
    auto loaded = detail::crypto_api();
    if (!loaded) {
        info.error = loaded.error().message;
        return info;
    }
    const CryptoApi& api = **loaded;
    BioPtr bio(api.bio_new_mem_buf(content->data(), static_cast<int>(content->size())), BioFree{&api});
    if (!bio) {
        info.error = "out of memory";
        return info;
    }
    // The first certificate is the leaf (certbot's cert.pem and fullchain.pem both start with it).
    X509Ptr leaf(api.pem_read_bio_x509(bio.get(), nullptr, nullptr, nullptr), X509Free{&api});
    if (leaf) {
        info.certificates_in_file = 1;
        while (X509Ptr more{api.pem_read_bio_x509(bio.get(), nullptr, nullptr, nullptr), X509Free{&api}})
            ++info.certificates_in_file;
    } else {
        const auto* p = reinterpret_cast<const unsigned char*>(content->data());
        leaf.reset(api.d2i_x509(nullptr, &p, static_cast<long>(content->size())));
        if (leaf) info.certificates_in_file = 1;
    }
    api.err_clear_error();
    if (!leaf) {
        info.error = content->find("PRIVATE KEY-----") != std::string::npos
                         ? "not a certificate: the file holds a private key (not shown)"
                         : "not a certificate: no PEM or DER certificate found";
        return info;
    }
    info.subject = name_text(api, api.x509_get_subject_name(leaf.get()));
    info.issuer = name_text(api, api.x509_get_issuer_name(leaf.get()));
    info.not_before = asn1_time(api, api.x509_get0_not_before(leaf.get()));
    info.not_after = asn1_time(api, api.x509_get0_not_after(leaf.get()));
    return info;
}

Result<std::vector<CertInfo>> gather_certificates(const std::vector<std::string>& patterns,
                                                  std::size_t max_files) {
    if (patterns.empty()) return fail("no certificates configured (report.certificates)");
    std::vector<CertInfo> out;
    std::size_t matched = 0;
    for (const auto& pattern : patterns) {
        glob_t g{};
        const int rc = ::glob(pattern.c_str(), 0, nullptr, &g);
        if (rc == 0) {
            for (std::size_t i = 0; i < g.gl_pathc; ++i) {
                ++matched;
                if (out.size() < max_files) out.push_back(read_certificate(g.gl_pathv[i]));
            }
        }
        ::globfree(&g);
    }
    if (matched == 0)
        return fail_as(ErrorKind::not_found, "no certificate files match {}", fmt::join(patterns, ", "));
    if (matched > out.size()) {
        CertInfo more;
        more.error = fmt::format("{} more files not read (limit {})", matched - out.size(), max_files);
        out.push_back(std::move(more));
    }
    return out;
}

}  // namespace boxmon::report
