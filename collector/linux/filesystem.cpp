// The filesystem collector: space and inodes in use for each real mounted filesystem of
// /proc/self/mountinfo (pseudo filesystems, bind mounts and other repeats of one device left
// out; see select_real_mounts). statfs on a filesystem that can block runs on a worker thread
// with a deadline, so a dead NFS server or a stopped FUSE daemon costs one timeout once, never a
// stalled tick (RELIABILITY S10); local disk filesystems answer from memory and are read inline
// (a one-shot sample on a host with only those starts no thread).

#include <cerrno>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "collector/linux/mounts.hpp"
#include "collector/registry.hpp"

namespace boxmon::collector {

namespace {

using kernel::FsStats;

// Where a fixture tree keeps what statvfs said: beside proc/ (scripts/capture-fixture.sh).
std::filesystem::path statvfs_capture_path(const RootFs& root) {
    std::filesystem::path proc = root.proc_root();
    if (!proc.has_filename()) proc = proc.parent_path();  // "t0/proc/" -> "t0/proc"
    return proc.parent_path() / "statvfs.txt";
}

class FilesystemCollector final : public Collector {
public:
    FilesystemCollector(const Config& config, std::shared_ptr<kernel::StatfsProvider> provider)
        : m_filter{config.collectors.exclude_mounts, config.collectors.exclude_fs_types},
          m_timeout(config.collectors.filesystem_timeout),
          m_injected(std::move(provider)) {}

    std::string_view name() const override { return "filesystem"; }

    Result<void> collect(CollectContext& ctx, Sample& out) override {
        auto text = ctx.root.read_proc("self/mountinfo");
        if (!text) return fail(std::move(text).error());
        auto parsed = kernel::parse_mountinfo(*text);
        if (!parsed) return fail("{}: {}", ctx.root.proc("self/mountinfo").string(), parsed.error().message);
        const auto mounts = kernel::select_real_mounts(parsed->mounts, m_filter);
        BOXMON_TRY(stats, statfs_all(ctx.root, mounts));
        std::vector<std::string> problems;
        if (!parsed->problems.empty())
            problems.push_back(fmt::format("{}: {}", ctx.root.proc("self/mountinfo").string(), parsed->problems.front()));
        for (std::size_t i = 0; i < mounts.size(); ++i) {
            const auto& mp = mounts[i].mount_point;
            if (!stats[i]) {
                const auto& e = stats[i].error();
                // Inside a sandbox some mounts cannot be statfs'd by design (ProtectHome=, an
                // inaccessible path): nothing an operator can fix, and not this host's problem.
                if (e.sys_errno == EACCES || e.sys_errno == EPERM) {
                    spdlog::debug("filesystem: {} (skipped)", e.message);
                    continue;
                }
                problems.push_back(e.message);
                continue;
            }
            add_points(out, mp, *stats[i]);
        }
        if (problems.empty()) return ok();
        return fail("{}{}; the other filesystems were read", problems.front(),
                    problems.size() > 1 ? fmt::format(" (and {} more: {})", problems.size() - 1, join_rest(problems))
                                        : std::string());
    }

private:
    static std::string join_rest(const std::vector<std::string>& problems) {
        std::string s;
        for (std::size_t i = 1; i < problems.size(); ++i) {
            if (i > 1) s += "; ";
            s += problems[i];
        }
        return s;
    }

    static void add_points(Sample& out, const std::string& mount_point, const FsStats& st) {
        // A filesystem with no blocks holds nothing (a pseudo filesystem not in our list).
        const auto used = kernel::used_percent(st);
        if (!used) return;
        const Label label{"mount", mount_point};
        out.add(SeriesKey("disk_used_percent", {label}), *used);
        if (const auto inodes = kernel::inodes_used_percent(st)) out.add(SeriesKey("disk_inodes_used_percent", {label}), *inodes);
        const double frsize = static_cast<double>(st.frsize);
        out.add(SeriesKey("disk_size_bytes", {label}), frsize * static_cast<double>(st.blocks));
        out.add(SeriesKey("disk_avail_bytes", {label}), frsize * static_cast<double>(st.bavail));
    }

    Result<std::vector<Result<FsStats>>> statfs_all(const RootFs& root, const std::vector<kernel::MountInfo>& mounts) {
        if (!m_injected && !root.is_host()) return statfs_from_capture(root, mounts);
        if (!m_provider) m_provider = m_injected ? m_injected : kernel::make_host_statfs();
        std::vector<Result<FsStats>> out(mounts.size());
        std::vector<std::size_t> timed_at;  // the mounts whose statfs may block, in order
        std::vector<std::string> timed;
        for (std::size_t i = 0; i < mounts.size(); ++i) {
            if (kernel::statfs_may_block(mounts[i].fs_type)) {
                timed_at.push_back(i);
                timed.push_back(mounts[i].mount_point);
            } else {
                out[i] = m_provider->statfs(mounts[i].mount_point);
            }
        }
        if (timed.empty()) return out;
        if (!m_timed) m_timed = std::make_unique<kernel::TimedStatfs>(m_provider, m_timeout);
        auto answers = m_timed->run(timed);
        for (std::size_t k = 0; k < timed_at.size(); ++k) out[timed_at[k]] = std::move(answers[k]);
        return out;
    }

    // Fixture mode: what statvfs said when the tree was captured; a mount without a line is one
    // whose statfs failed then.
    static Result<std::vector<Result<FsStats>>> statfs_from_capture(const RootFs& root,
                                                                    const std::vector<kernel::MountInfo>& mounts) {
        const auto path = statvfs_capture_path(root);
        auto text = read_bounded(path);
        if (!text)
            return fail("{}; a fixture tree needs statvfs.txt beside proc/ (scripts/capture-fixture.sh writes it)",
                        text.error().message);
        auto table = kernel::parse_statvfs_capture(*text);
        if (!table) return fail("{}: {}", path.string(), table.error().message);
        std::vector<Result<FsStats>> out;
        out.reserve(mounts.size());
        for (const auto& m : mounts) {
            const auto& mp = m.mount_point;
            const auto it = table->find(mp);
            if (it == table->end())
                out.push_back(fail("statfs {}: no line for it in {}", mp, path.string()));
            else
                out.push_back(it->second);
        }
        return out;
    }

    kernel::MountFilter m_filter;
    std::chrono::milliseconds m_timeout;
    std::shared_ptr<kernel::StatfsProvider> m_injected;
    std::shared_ptr<kernel::StatfsProvider> m_provider;  // m_injected, or the host's
    std::unique_ptr<kernel::TimedStatfs> m_timed;
};

}  // namespace

std::unique_ptr<Collector> make_filesystem_collector(const Config& config,
                                                     std::shared_ptr<kernel::StatfsProvider> provider) {
    return std::make_unique<FilesystemCollector>(config, std::move(provider));
}

std::unique_ptr<Collector> make_filesystem_collector(const Config& config) {
    return make_filesystem_collector(config, nullptr);
}

}  // namespace boxmon::collector
