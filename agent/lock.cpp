#include "agent/lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "core/fs.hpp"

namespace boxmon::agent {

namespace {

std::filesystem::path lock_path(const std::filesystem::path& state_dir) { return state_dir / "lock"; }

LockHolder parse_holder(const std::string& text) {
    LockHolder h;
    const auto space = text.find(' ');
    const std::string pid = text.substr(0, space);
    char* end = nullptr;
    const long v = std::strtol(pid.c_str(), &end, 10);
    if (end != pid.c_str() && v > 0) h.pid = static_cast<pid_t>(v);
    if (space != std::string::npos) {
        h.mode = text.substr(space + 1);
        while (!h.mode.empty() && (h.mode.back() == '\n' || h.mode.back() == ' ')) h.mode.pop_back();
    }
    return h;
}

Result<void> ensure_dir(const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return fail("cannot create the state directory {}: {}; create it or choose another with --state-dir",
                        dir.string(), ec.message());
    return {};
}

}  // namespace

Result<InstanceLock> InstanceLock::acquire(const std::filesystem::path& state_dir, std::string_view mode) {
    BOXMON_CHECK(ensure_dir(state_dir));
    const auto path = lock_path(state_dir);
    // O_NOFOLLOW: a symlink planted at the lock path is refused, never followed.
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return fail_errno(errno, "cannot open the lock file {}; check the state directory's owner and mode",
                          path.string());
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        ::close(fd);
        if (err != EWOULDBLOCK) return fail_errno(err, "cannot lock {}", path.string());
        auto text = read_bounded(path, 256);
        const auto h = parse_holder(text ? *text : std::string());
        auto e = fail_as(ErrorKind::busy,
                         "another boxmon ({}{}) already uses the state directory {}; stop it first, or give this "
                         "one its own --state-dir",
                         h.pid > 0 ? fmt::format("PID {}", h.pid) : std::string("PID unknown"),
                         h.mode.empty() ? std::string() : fmt::format(", boxmon {}", h.mode), state_dir.string());
        return e;
    }
    const std::string content = fmt::format("{} {}\n", ::getpid(), mode);
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, content.data(), content.size(), 0) < 0) {
        const int err = errno;
        ::close(fd);
        return fail_errno(err, "cannot write the lock file {}", path.string());
    }
    return InstanceLock(fd);
}

std::optional<LockHolder> InstanceLock::holder(const std::filesystem::path& state_dir) {
    const auto path = lock_path(state_dir);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return std::nullopt;
    // A shared lock succeeds only when no writer holds the exclusive one.
    if (::flock(fd, LOCK_SH | LOCK_NB) == 0) {
        ::flock(fd, LOCK_UN);
        ::close(fd);
        return std::nullopt;
    }
    ::close(fd);
    auto text = read_bounded(path, 256);
    return parse_holder(text ? *text : std::string());
}

InstanceLock::InstanceLock(InstanceLock&& other) noexcept : m_fd(other.m_fd) { other.m_fd = -1; }

InstanceLock& InstanceLock::operator=(InstanceLock&& other) noexcept {
    if (this != &other) {
        if (m_fd >= 0) ::close(m_fd);
        m_fd = other.m_fd;
        other.m_fd = -1;
    }
    return *this;
}

InstanceLock::~InstanceLock() {
    // Closing the descriptor drops the lock; the file stays (removing it would race a newcomer).
    if (m_fd >= 0) ::close(m_fd);
}

}  // namespace boxmon::agent
