// Sizes of configured paths (the model cache, the project folder): a bounded walk that never
// follows symlinks and never leaves the path's filesystem, so a loop or a huge tree cannot hang
// the report.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>

#include <fmt/format.h>

#include "core/units.hpp"
#include "report/gather.hpp"

namespace boxmon::report {

namespace {

struct Walk {
    std::chrono::steady_clock::time_point deadline;
    std::size_t max_entries = 0;
    std::size_t entries = 0;
    dev_t dev = 0;
    std::uint64_t bytes = 0;
    std::uint64_t files = 0;
    std::uint64_t unreadable = 0;
    bool stopped = false;
};

// Allocated size (st_blocks), like du: sparse model files count what they use on disk.
void walk_dir(int dir_fd, Walk& w, int depth) {
    DIR* d = ::fdopendir(dir_fd);
    if (d == nullptr) {
        ::close(dir_fd);
        ++w.unreadable;
        return;
    }
    while (struct dirent* e = ::readdir(d)) {
        const std::string_view name = e->d_name;
        if (name == "." || name == "..") continue;
        if (++w.entries > w.max_entries || ((w.entries & 255) == 0 &&
                                            std::chrono::steady_clock::now() > w.deadline)) {
            w.stopped = true;
            break;
        }
        struct stat st{};
        if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            ++w.unreadable;
            continue;
        }
        if (st.st_dev != w.dev) continue;  // another filesystem mounted inside
        w.bytes += static_cast<std::uint64_t>(st.st_blocks) * 512;
        if (S_ISDIR(st.st_mode)) {
            if (depth > 256) continue;
            const int fd = ::openat(::dirfd(d), e->d_name,
                                    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
            if (fd < 0) {
                ++w.unreadable;
                continue;
            }
            walk_dir(fd, w, depth + 1);
            if (w.stopped) break;
        } else {
            ++w.files;
        }
    }
    ::closedir(d);
}

}  // namespace

Result<std::vector<PathSize>> gather_path_sizes(const std::vector<std::filesystem::path>& paths,
                                                std::chrono::milliseconds deadline,
                                                std::size_t max_entries) {
    if (paths.empty()) return fail("no paths configured (report.paths)");
    const auto start = std::chrono::steady_clock::now();
    std::vector<PathSize> out;
    for (const auto& path : paths) {
        PathSize ps;
        ps.path = path;
        struct stat st{};
        if (::lstat(path.c_str(), &st) != 0) {
            ps.note = fmt::format("cannot read: {}", std::system_category().message(errno));
            out.push_back(std::move(ps));
            continue;
        }
        Walk w;
        w.deadline = start + deadline;
        w.max_entries = max_entries;
        w.dev = st.st_dev;
        w.bytes = static_cast<std::uint64_t>(st.st_blocks) * 512;
        if (S_ISDIR(st.st_mode)) {
            const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
            if (fd < 0) {
                ps.note = fmt::format("cannot read: {}", std::system_category().message(errno));
                out.push_back(std::move(ps));
                continue;
            }
            walk_dir(fd, w, 0);
        } else {
            w.files = 1;
        }
        ps.bytes = w.bytes;
        ps.files = w.files;
        if (w.stopped)
            ps.note = w.entries > max_entries
                          ? fmt::format("partial: stopped after {} entries", max_entries)
                          : fmt::format("partial: stopped after {}", format_duration(deadline));
        else if (w.unreadable > 0)
            ps.note = fmt::format("partial: {} entries unreadable", w.unreadable);
        out.push_back(std::move(ps));
    }
    return out;
}

}  // namespace boxmon::report
