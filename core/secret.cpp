#include "core/secret.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/fs.hpp"

namespace boxmon {

namespace {

constexpr std::size_t k_secret_file_max_bytes = 64 * 1024;

}  // namespace

Secret::~Secret() {
    // Best effort: do not leave the value in freed heap memory.
    if (!m_value.empty()) {
        volatile char* p = m_value.data();
        for (std::size_t i = 0; i < m_value.size(); ++i) p[i] = 0;
    }
}

Result<Secret> read_secret_file(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        const int err = errno;
        return fail_as(ErrorKind::config, "cannot read secret file {}: {}; check the path",
                       path.string(), std::strerror(err));
    }
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        return fail_as(ErrorKind::config, "cannot stat secret file {}: {}", path.string(),
                       std::strerror(errno));
    if (!S_ISREG(st.st_mode))
        return fail_as(ErrorKind::config, "secret file {} is not a regular file; point to a file",
                       path.string());
    const auto who = describe_mode_owner(st.st_mode, st.st_uid, st.st_gid);
    if ((st.st_mode & 077) != 0)
        return fail_as(ErrorKind::config,
                       "secret file {} can be read by others ({}); run `chmod 600 {}`",
                       path.string(), who, path.string());
    const uid_t me = ::geteuid();
    if (st.st_uid != 0 && st.st_uid != me)
        return fail_as(ErrorKind::config,
                       "secret file {} belongs to another user ({}); run `chown {} {}`",
                       path.string(), who, me, path.string());
    if (st.st_size > static_cast<off_t>(k_secret_file_max_bytes))
        return fail_as(ErrorKind::config, "secret file {} is larger than {} bytes",
                       path.string(), k_secret_file_max_bytes);
    std::string value;
    char buf[4096];
    while (true) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail_as(ErrorKind::config, "cannot read secret file {}: {}", path.string(),
                           std::strerror(errno));
        }
        if (n == 0) break;
        value.append(buf, static_cast<std::size_t>(n));
        if (value.size() > k_secret_file_max_bytes)
            return fail_as(ErrorKind::config, "secret file {} is larger than {} bytes",
                           path.string(), k_secret_file_max_bytes);
    }
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
    if (value.empty())
        return fail_as(ErrorKind::config, "secret file {} is empty", path.string());
    Secret secret(std::move(value));
    std::fill(buf, buf + sizeof buf, '\0');
    return secret;
}

Result<Secret> read_secret_env(std::string_view name) {
    const std::string key(name);
    const char* value = std::getenv(key.c_str());
    if (value == nullptr || *value == '\0')
        return fail_as(ErrorKind::config, "environment variable {} is not set or empty", key);
    return Secret(value);
}

std::string redact_url(std::string_view url) {
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos || scheme_end == 0) return "<redacted>";
    for (char c : url.substr(0, scheme_end)) {
        const bool okc = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
        if (!okc) return "<redacted>";
    }
    std::string_view rest = url.substr(scheme_end + 3);
    const auto authority_end = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, authority_end);
    if (const auto at = authority.rfind('@'); at != std::string_view::npos)
        authority = authority.substr(at + 1);
    return std::string(url.substr(0, scheme_end + 3)) + std::string(authority);
}

}  // namespace boxmon
