#include "collector/linux/mounts.hpp"

#include <fnmatch.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <system_error>
#include <thread>
#include <unordered_set>

#include "collector/linux/parse_proc.hpp"  // parse_u64
#include "collector/linux/text_scan.hpp"

namespace boxmon::collector::kernel {

namespace {

// Splits on runs of spaces and tabs (mountinfo separates by one space; escapes keep paths whole).
// Fills `out` (cleared first; its capacity is reused line after line). With `mountinfo`, stops
// two fields after the " - " separator: the super options (long on Docker hosts) are not needed.
void fields_of(std::string_view line, std::vector<std::string_view>& out, bool mountinfo = false) {
    out.clear();
    std::size_t i = 0;
    std::size_t after_dash = 0;
    bool dash = false;
    while (i < line.size() && !(dash && after_dash == 2)) {
        if (dash) ++after_dash;
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
        const std::size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
        if (i > start) out.push_back(line.substr(start, i - start));
        if (mountinfo && !dash && i > start && out.back() == "-") dash = true;
    }
}

// Returns what is wrong with the line, or "".
std::string parse_mount_line(std::string_view line, MountInfo& m, std::vector<std::string_view>& f) {
    fields_of(line, f, true);
    // id parent major:minor root mount_point options [optional...] - fstype source super_options
    const auto sep = std::find(f.begin(), f.end(), std::string_view("-"));
    if (sep == f.end()) return "no \" - \" separator before the filesystem type";
    const auto before = static_cast<std::size_t>(sep - f.begin());
    const auto after = static_cast<std::size_t>(f.end() - sep) - 1;
    if (before < 6) return fmt::format("expected at least 6 fields before \" - \", found {}", before);
    if (after < 1) return "no filesystem type after \" - \"";
    const auto id = parse_u64(f[0]);
    const auto parent = parse_u64(f[1]);
    if (!id || !parent) return fmt::format("mount id \"{}\" or parent id \"{}\" is not a number", f[0], f[1]);
    const auto colon = f[2].find(':');
    if (colon == std::string_view::npos) return fmt::format("device \"{}\" is not major:minor", f[2]);
    const auto major = parse_u64(f[2].substr(0, colon));
    const auto minor = parse_u64(f[2].substr(colon + 1));
    if (!major || !minor || *major > 0xffffffffu || *minor > 0xffffffffu)
        return fmt::format("device \"{}\" is not major:minor", f[2]);
    m.mount_id = *id;
    m.parent_id = *parent;
    m.major = static_cast<std::uint32_t>(*major);
    m.minor = static_cast<std::uint32_t>(*minor);
    m.root = unescape_mount_path(f[3]);
    m.mount_point = unescape_mount_path(f[4]);
    m.options = std::string(f[5]);
    m.fs_type = std::string(sep[1]);
    m.source = after >= 2 ? unescape_mount_path(sep[2]) : std::string();
    return {};
}

bool matches_any(const std::vector<std::string>& patterns, const std::string& text) {
    return std::any_of(patterns.begin(), patterns.end(),
                       [&](const std::string& p) { return ::fnmatch(p.c_str(), text.c_str(), 0) == 0; });
}

// Files a container runtime binds from the host's disk into a container; they would repeat the
// host filesystem under a file's name.
bool is_runtime_file_bind(const std::string& mount_point) {
    return mount_point == "/etc/hosts" || mount_point == "/etc/hostname" ||
           mount_point == "/etc/resolv.conf" || mount_point == "/run/.containerenv" ||
           mount_point == "/.dockerenv";
}

// True when `a` should represent its device rather than `b`.
bool better_representative(const MountInfo& a, const MountInfo& b) {
    const bool a_whole = a.root == "/";
    const bool b_whole = b.root == "/";
    if (a_whole != b_whole) return a_whole;
    return a.mount_point.size() < b.mount_point.size();
}

}  // namespace

std::string unescape_mount_path(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        const auto is_oct = [](char d) { return d >= '0' && d <= '7'; };
        if (c == '\\' && i + 3 < text.size() && is_oct(text[i + 1]) && is_oct(text[i + 2]) &&
            is_oct(text[i + 3])) {
            const int v = (text[i + 1] - '0') * 64 + (text[i + 2] - '0') * 8 + (text[i + 3] - '0');
            if (v <= 0xff) {
                out.push_back(static_cast<char>(v));
                i += 3;
                continue;
            }
        }
        out.push_back(c);
    }
    return out;
}

Result<Mountinfo> parse_mountinfo(std::string_view text) {
    Mountinfo out;
    std::vector<std::string_view> fields;
    LineReader lines(text);
    std::string_view line;
    while (lines.next(line)) {
        const int lineno = lines.number();
        if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
        MountInfo m;
        auto problem = parse_mount_line(line, m, fields);
        if (problem.empty())
            out.mounts.push_back(std::move(m));
        else
            out.problems.push_back(fmt::format("line {}: {}", lineno, problem));
    }
    if (out.mounts.empty()) {
        if (out.problems.empty()) return fail("empty file; expected one line per mount");
        return fail("no valid mount line; {}", out.problems.front());
    }
    return out;
}

bool is_pseudo_fs_type(std::string_view t) {
    // Memory-backed, kernel-interface and read-only image filesystems: none holds data an
    // operator can run out of (read-only images are always 100% full). The list follows
    // node_exporter's default fs-types-exclude, plus tmpfs/ramfs (DESIGN §3).
    static constexpr std::array<std::string_view, 33> k_types = {
        "autofs",     "binfmt_misc", "bpf",        "cgroup",     "cgroup2",   "configfs",
        "debugfs",    "devpts",      "devtmpfs",   "efivarfs",   "fusectl",   "hugetlbfs",
        "iso9660",    "mqueue",      "nsfs",       "overlay",    "proc",      "procfs",
        "pstore",     "ramfs",       "rpc_pipefs", "securityfs", "selinuxfs", "squashfs",
        "erofs",      "sysfs",       "tracefs",    "tmpfs",      "fuse.lxcfs", "fuse.gvfsd-fuse",
        "fuse.portal", "fuse.snapfuse", "nfsd"};
    return std::find(k_types.begin(), k_types.end(), t) != k_types.end();
}

bool statfs_may_block(std::string_view t) {
    static constexpr std::array<std::string_view, 10> k_local = {
        "ext2", "ext3", "ext4", "xfs", "btrfs", "f2fs", "vfat", "exfat", "ntfs3", "jfs"};
    return std::find(k_local.begin(), k_local.end(), t) == k_local.end();
}

std::vector<MountInfo> select_real_mounts(const std::vector<MountInfo>& mounts, const MountFilter& filter) {
    // A mount point mounted over is hidden: only its last mount is visible (and statfs sees it).
    std::unordered_map<std::string, std::size_t> last_at;
    for (std::size_t i = 0; i < mounts.size(); ++i) last_at[mounts[i].mount_point] = i;

    std::vector<const MountInfo*> candidates;
    for (std::size_t i = 0; i < mounts.size(); ++i) {
        const auto& m = mounts[i];
        if (last_at[m.mount_point] != i) continue;
        const bool container_root = m.fs_type == "overlay" && m.mount_point == "/";
        if (is_pseudo_fs_type(m.fs_type) && !container_root) continue;
        if (std::find(filter.exclude_fs_types.begin(), filter.exclude_fs_types.end(), m.fs_type) !=
            filter.exclude_fs_types.end())
            continue;
        if (matches_any(filter.exclude_mounts, m.mount_point)) continue;
        if (is_runtime_file_bind(m.mount_point)) continue;
        candidates.push_back(&m);
    }
    // One representative per device (major:minor is the superblock's, shared by bind mounts and
    // btrfs subvolumes).
    std::unordered_map<std::uint64_t, const MountInfo*> best;
    for (const auto* m : candidates) {
        const std::uint64_t dev = (std::uint64_t{m->major} << 32) | m->minor;
        auto [it, inserted] = best.try_emplace(dev, m);
        if (!inserted && better_representative(*m, *it->second)) it->second = m;
    }
    std::vector<MountInfo> out;
    for (const auto* m : candidates) {
        const std::uint64_t dev = (std::uint64_t{m->major} << 32) | m->minor;
        if (best[dev] == m) out.push_back(*m);
    }
    return out;
}

std::optional<double> used_percent(const FsStats& st) {
    if (st.blocks == 0 || st.bfree > st.blocks) return std::nullopt;
    const double used = static_cast<double>(st.blocks - st.bfree);
    const double denom = used + static_cast<double>(st.bavail);
    if (denom <= 0) return std::nullopt;
    return std::clamp(100.0 * used / denom, 0.0, 100.0);
}

std::optional<double> inodes_used_percent(const FsStats& st) {
    if (st.files == 0 || st.ffree > st.files) return std::nullopt;
    return 100.0 * static_cast<double>(st.files - st.ffree) / static_cast<double>(st.files);
}

Result<std::unordered_map<std::string, FsStats>> parse_statvfs_capture(std::string_view text) {
    std::unordered_map<std::string, FsStats> out;
    std::vector<std::string_view> f;
    LineReader lines(text);
    std::string_view line;
    while (lines.next(line)) {
        const int lineno = lines.number();
        split_fields(line, f);
        if (f.empty()) continue;
        if (f.size() != 7)
            return fail("line {}: expected \"mountpoint frsize blocks bfree bavail files ffree\", found {} fields",
                        lineno, f.size());
        std::array<std::uint64_t, 6> v{};
        for (std::size_t i = 0; i < v.size(); ++i) {
            const auto n = parse_u64(f[i + 1]);
            if (!n) return fail("line {}: field {} is not an unsigned number: \"{}\"", lineno, i + 2, f[i + 1]);
            v[i] = *n;
        }
        out[unescape_mount_path(f[0])] = FsStats{v[0], v[1], v[2], v[3], v[4], v[5]};
    }
    return out;
}

namespace {

class HostStatfs final : public StatfsProvider {
public:
    Result<FsStats> statfs(const std::string& mount_point) override {
        struct statvfs st {};
        int rc = 0;
        do {
            rc = ::statvfs(mount_point.c_str(), &st);
        } while (rc != 0 && errno == EINTR);
        if (rc != 0) return fail_errno(errno, "statfs {}", mount_point);
        return FsStats{st.f_frsize, st.f_blocks, st.f_bfree, st.f_bavail, st.f_files, st.f_ffree};
    }
};

}  // namespace

std::shared_ptr<StatfsProvider> make_host_statfs() { return std::make_shared<HostStatfs>(); }

// One statfs request; its fields are guarded by the mutex of the worker it is queued on.
struct TimedStatfs::Call {
    std::string mount_point;
    bool started = false;
    bool done = false;
    std::chrono::steady_clock::time_point started_at;
    Result<FsStats> result;
};

struct TimedStatfs::Worker {
    std::mutex mutex;
    std::condition_variable cv;
    std::deque<std::shared_ptr<Call>> queue;
    bool stop = false;       // the owner is gone: exit when idle
    bool abandoned = false;  // stuck in a call: exit when it returns, take nothing more
    std::thread thread;
};

TimedStatfs::TimedStatfs(std::shared_ptr<StatfsProvider> provider, std::chrono::milliseconds timeout)
    : m_provider(std::move(provider)), m_timeout(timeout) {}

TimedStatfs::~TimedStatfs() {
    if (!m_worker) return;
    {
        std::lock_guard lock(m_worker->mutex);
        m_worker->stop = true;
    }
    m_worker->cv.notify_all();
    // The live worker is never inside a call between run()s: a stuck one was abandoned.
    if (m_worker->thread.joinable()) m_worker->thread.join();
}

std::shared_ptr<TimedStatfs::Worker> TimedStatfs::start_worker() {
    auto w = std::make_shared<Worker>();
    // The thread holds the worker and provider itself, so an abandoned thread that returns
    // after this object is gone still has them.
    w->thread = std::thread([w, provider = m_provider] {
        while (true) {
            std::shared_ptr<Call> call;
            {
                std::unique_lock lock(w->mutex);
                w->cv.wait(lock, [&] { return w->stop || w->abandoned || !w->queue.empty(); });
                if (w->abandoned || w->queue.empty()) return;
                call = std::move(w->queue.front());
                w->queue.pop_front();
                call->started = true;
                call->started_at = std::chrono::steady_clock::now();
            }
            w->cv.notify_all();
            auto r = provider->statfs(call->mount_point);
            {
                std::lock_guard lock(w->mutex);
                call->result = std::move(r);
                call->done = true;
            }
            w->cv.notify_all();
            std::lock_guard lock(w->mutex);
            if (w->abandoned) return;
        }
    });
    return w;
}

std::size_t TimedStatfs::stuck_calls() {
    std::size_t n = 0;
    for (auto& [mount, entry] : m_stuck) {
        std::lock_guard lock(entry.first->mutex);
        if (!entry.second->done) ++n;
    }
    return n;
}

Unexpected<Error> TimedStatfs::timed_out(const std::string& mount_point) const {
    const auto ms = m_timeout.count();
    const auto limit = ms % 1000 == 0 ? fmt::format("{} s", ms / 1000) : fmt::format("{} ms", ms);
    return fail_as(ErrorKind::timeout, "statfs on {} did not return within {}; skipped until it does", mount_point,
                   limit);
}

std::vector<Result<FsStats>> TimedStatfs::run(const std::vector<std::string>& mount_points) {
    using clock = std::chrono::steady_clock;
    // Forget stuck calls that have returned, also those of mounts that are gone by now.
    for (auto it = m_stuck.begin(); it != m_stuck.end();) {
        std::unique_lock lock(it->second.first->mutex);
        const bool returned = it->second.second->done;
        lock.unlock();
        it = returned ? m_stuck.erase(it) : std::next(it);
    }
    std::vector<Result<FsStats>> results(mount_points.size());
    std::vector<std::shared_ptr<Call>> calls(mount_points.size());
    for (std::size_t i = 0; i < mount_points.size(); ++i) {
        const auto& mp = mount_points[i];
        // Still stuck (returned ones were forgotten above): skip it, with the same text as
        // when it timed out so the collector's status is logged once.
        if (m_stuck.contains(mp)) {
            results[i] = timed_out(mp);
            continue;
        }
        calls[i] = std::make_shared<Call>();
        calls[i]->mount_point = mp;
    }
    try {
        if (!m_worker) m_worker = start_worker();
    } catch (const std::system_error& e) {
        for (std::size_t i = 0; i < calls.size(); ++i)
            if (calls[i]) results[i] = fail("statfs {}: cannot start a worker thread: {}", mount_points[i], e.what());
        return results;
    }
    {
        std::lock_guard lock(m_worker->mutex);
        for (auto& c : calls)
            if (c) m_worker->queue.push_back(c);
    }
    m_worker->cv.notify_all();

    for (std::size_t i = 0; i < calls.size(); ++i) {
        auto& call = calls[i];
        if (!call) continue;
        if (!m_worker) {  // a previous call got stuck and no new worker could start
            results[i] = fail("statfs {}: no worker thread", call->mount_point);
            continue;
        }
        auto w = m_worker;
        std::unique_lock lock(w->mutex);
        // The worker takes calls in order and every earlier one has finished or been abandoned,
        // so this one starts at once; its deadline counts from its start.
        const bool started = w->cv.wait_until(lock, clock::now() + m_timeout,
                                              [&] { return call->started || call->done; });
        const bool done = started && w->cv.wait_until(lock, call->started_at + m_timeout, [&] { return call->done; });
        if (done) {
            results[i] = std::move(call->result);
            continue;
        }
        // Stuck: leave the thread to finish its call on its own and hand the rest to a new one.
        w->abandoned = true;
        std::deque<std::shared_ptr<Call>> rest;
        rest.swap(w->queue);
        if (!started) {  // never taken (the thread did not run): nothing is outstanding
            rest.erase(std::remove(rest.begin(), rest.end(), call), rest.end());
        }
        lock.unlock();
        w->cv.notify_all();
        w->thread.detach();
        if (started) m_stuck[call->mount_point] = {w, call};
        results[i] = timed_out(call->mount_point);
        m_worker.reset();
        try {
            m_worker = start_worker();
        } catch (const std::system_error&) {
            continue;
        }
        {
            std::lock_guard lock2(m_worker->mutex);
            m_worker->queue = std::move(rest);
        }
        m_worker->cv.notify_all();
    }
    return results;
}

}  // namespace boxmon::collector::kernel
