#include "core/fs.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <random>

namespace boxmon {

namespace fs = std::filesystem;

namespace {

constexpr const char* k_host_proc = "/proc";
constexpr const char* k_host_sys = "/sys";

class Fd {
public:
    explicit Fd(int fd) : m_fd(fd) {}
    ~Fd() {
        if (m_fd >= 0) ::close(m_fd);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return m_fd; }
    int release() {
        int fd = m_fd;
        m_fd = -1;
        return fd;
    }

private:
    int m_fd;
};

const char* file_type_name(mode_t mode) {
    if (S_ISDIR(mode)) return "directory";
    if (S_ISFIFO(mode)) return "FIFO";
    if (S_ISSOCK(mode)) return "socket";
    if (S_ISCHR(mode)) return "character device";
    if (S_ISBLK(mode)) return "block device";
    if (S_ISLNK(mode)) return "symbolic link";
    return "special file";
}

}  // namespace

RootFs::RootFs() : m_proc(k_host_proc), m_sys(k_host_sys) {}

RootFs::RootFs(fs::path proc_root, fs::path sys_root)
    : m_proc(std::move(proc_root)), m_sys(std::move(sys_root)) {}

bool RootFs::is_host() const { return m_proc == k_host_proc && m_sys == k_host_sys; }

fs::path RootFs::proc(std::string_view relative) const { return m_proc / relative; }
fs::path RootFs::sys(std::string_view relative) const { return m_sys / relative; }

Result<std::string> RootFs::read_proc(std::string_view relative, std::size_t max_bytes) const {
    return read_bounded(proc(relative), max_bytes);
}
Result<std::string> RootFs::read_sys(std::string_view relative, std::size_t max_bytes) const {
    return read_bounded(sys(relative), max_bytes);
}

Result<std::string> read_bounded(const fs::path& path, std::size_t max_bytes) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (fd.get() < 0) {
        const int err = errno;
        auto e = fail_errno(err, "open {}", path.string());
        if (err == ENOENT || err == ENOTDIR) e.error().kind = ErrorKind::not_found;
        return e;
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return fail_errno(errno, "stat {}", path.string());
    if (!S_ISREG(st.st_mode))
        return fail("not a regular file: {} ({})", path.string(), file_type_name(st.st_mode));
    std::string out;
    // Pseudo files report size 0; regular files tell us how much to reserve.
    out.reserve(st.st_size > 0 ? std::min<std::size_t>(st.st_size, max_bytes) : 4096);
    char buf[8192];
    while (true) {
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail_errno(errno, "read {}", path.string());
        }
        if (n == 0) break;
        if (out.size() + static_cast<std::size_t>(n) > max_bytes)
            return fail("{} is larger than {} bytes; not read", path.string(), max_bytes);
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

fs::path own_executable_path() {
    std::error_code ec;
    auto exe = fs::read_symlink(fs::path(k_host_proc) / "self" / "exe", ec);
    return ec ? fs::path() : exe;
}

Result<std::vector<std::string>> list_dir(const fs::path& dir) {
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec) {
        Error e{fmt::format("list {}: {}", dir.string(), ec.message()), ErrorKind::runtime,
                ec.value()};
        if (ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory)
            e.kind = ErrorKind::not_found;
        return fail(std::move(e));
    }
    std::vector<std::string> names;
    for (; it != fs::directory_iterator(); it.increment(ec)) {
        if (ec) break;
        names.push_back(it->path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

Result<void> write_file_atomic(const fs::path& path, std::string_view content, unsigned mode) {
    const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
    std::random_device rd;
    fs::path tmp;
    int raw_fd = -1;
    for (int attempt = 0; attempt < 16 && raw_fd < 0; ++attempt) {
        tmp = dir / fmt::format(".{}.tmp-{:08x}", path.filename().string(), rd());
        raw_fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                        static_cast<mode_t>(mode));
        if (raw_fd < 0 && errno != EEXIST) return fail_errno(errno, "create {}", tmp.string());
    }
    if (raw_fd < 0) return fail("create a temporary file in {}: too many collisions", dir.string());
    Fd fd(raw_fd);
    const auto cleanup = [&] { ::unlink(tmp.c_str()); };
    // The umask may have narrowed the mode; set exactly what was asked.
    if (::fchmod(fd.get(), static_cast<mode_t>(mode)) != 0) {
        const int err = errno;
        cleanup();
        return fail_errno(err, "chmod {}", tmp.string());
    }
    std::size_t done = 0;
    while (done < content.size()) {
        const ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            const int err = errno;
            cleanup();
            return fail_errno(err, "write {}", tmp.string());
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0) {
        const int err = errno;
        cleanup();
        return fail_errno(err, "fsync {}", tmp.string());
    }
    ::close(fd.release());
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        cleanup();
        return fail_errno(err, "rename {} to {}", tmp.string(), path.string());
    }
    Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dfd.get() >= 0) ::fsync(dfd.get());
    return ok();
}

std::string describe_mode_owner(unsigned mode, unsigned uid, unsigned gid) {
    std::string user_name = std::to_string(uid);
    std::string group_name = std::to_string(gid);
    if (const struct passwd* pw = ::getpwuid(uid)) user_name = pw->pw_name;
    if (const struct group* gr = ::getgrgid(gid)) group_name = gr->gr_name;
    return fmt::format("mode {:04o} owner {}:{}", mode & 07777, user_name, group_name);
}

std::string_view network_filesystem_name(std::uint64_t f_type) {
    // The kernel's magic numbers (include/uapi/linux/magic.h and the filesystems' own headers).
    switch (f_type) {
        case 0x6969: return "nfs";
        case 0xFF534D42: return "cifs";
        case 0xFE534D42: return "smb2";
        case 0x517B: return "smb";
        case 0x65735546: return "fuse";
        case 0x00C36400: return "ceph";
        case 0x01021997: return "9p";
        case 0x5346414F: return "afs";
        default: return {};
    }
}

std::string_view network_filesystem_of(const std::filesystem::path& path) {
    struct statfs st {};
    if (::statfs(path.c_str(), &st) != 0) return {};
    return network_filesystem_name(static_cast<std::uint64_t>(static_cast<std::uint32_t>(st.f_type)));
}

bool read_only_filesystem(const std::filesystem::path& path) {
    struct statvfs st {};
    return ::statvfs(path.c_str(), &st) == 0 && (st.f_flag & ST_RDONLY) != 0;
}

}  // namespace boxmon
