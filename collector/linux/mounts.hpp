#pragma once
// Mounts for the filesystem collector: the pure /proc/self/mountinfo parser, the choice of
// which mounts are real filesystems worth a disk_used_percent series, and statfs behind a small
// interface with a deadline, so a dead network mount never stalls a tick (RELIABILITY S10) and
// tests can inject a statfs that hangs or fails.
// mountinfo format: https://docs.kernel.org/filesystems/proc.html#proc-pid-mountinfo-information-about-mounts

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "collector/collector.hpp"
#include "core/result.hpp"

namespace boxmon::collector::kernel {

// One line of /proc/<pid>/mountinfo; paths are unescaped (the kernel writes space, tab,
// newline and backslash as \040 \011 \012 \134).
struct MountInfo {
    std::uint64_t mount_id = 0;
    std::uint64_t parent_id = 0;
    std::uint32_t major = 0;
    std::uint32_t minor = 0;
    std::string root;         // the path inside the filesystem that is mounted ("/" for the whole)
    std::string mount_point;  // where, as seen by this process
    std::string fs_type;      // "ext4", "nfs4", "fuse.sshfs" ...
    std::string source;       // "/dev/vda1", "server:/export", "none"
    std::string options;      // per-mount options ("rw,relatime")
};

struct Mountinfo {
    std::vector<MountInfo> mounts;       // in file order (parents before children)
    std::vector<std::string> problems;   // one per malformed line that was skipped
};

// Parses /proc/self/mountinfo. Fails when the text is empty or no line is valid; a malformed
// line (too few fields, no " - " separator, a non-numeric id or device) is skipped and
// described in `problems`.
Result<Mountinfo> parse_mountinfo(std::string_view text);

// Undoes the kernel's octal escapes (\040 -> ' '); a backslash not followed by three octal
// digits is kept as it is.
std::string unescape_mount_path(std::string_view text);

// True for filesystem types that hold no user data or only memory: proc, sysfs, cgroup*,
// tmpfs, devtmpfs, overlay, squashfs and the like (DESIGN §3: "no tmpfs/overlay/proc...").
bool is_pseudo_fs_type(std::string_view fs_type);

// False for the local disk filesystems whose statfs answers from memory (ext2/3/4, xfs, btrfs,
// f2fs, vfat, exfat, ntfs3, jfs): those are read on the caller's thread. Every other type (NFS,
// CIFS, FUSE, 9p, Ceph, ZFS, whose statfs waits on a server, a daemon or a suspended pool, and
// types not known here) goes through TimedStatfs.
bool statfs_may_block(std::string_view fs_type);

struct MountFilter {
    std::vector<std::string> exclude_mounts;    // fnmatch(3) patterns of mount points
    std::vector<std::string> exclude_fs_types;  // exact types, on top of is_pseudo_fs_type()
};

// The mounts that get a disk_used_percent series, in file order: real filesystem types only
// (an overlay is kept only as the root of a container, where it is the only view of the
// disk), one mount per device (bind mounts, btrfs subvolumes and sandbox re-mounts of one
// filesystem are counted once: the mount of the filesystem's own root wins, then the shortest
// mount point), a mount point mounted over keeps only its visible (last) mount, and the
// container runtime's single-file binds (/etc/hosts ...) are skipped.
std::vector<MountInfo> select_real_mounts(const std::vector<MountInfo>& mounts, const MountFilter& filter);

// What statvfs(3) says about a filesystem, in its own units.
struct FsStats {
    std::uint64_t frsize = 0;  // fragment size: the unit of blocks/bfree/bavail
    std::uint64_t blocks = 0;
    std::uint64_t bfree = 0;   // free, including blocks reserved for root
    std::uint64_t bavail = 0;  // free for unprivileged users
    std::uint64_t files = 0;   // inodes (0 when the filesystem has no fixed count, e.g. btrfs)
    std::uint64_t ffree = 0;
};

// Used share of the filesystem as df(1) computes it, used / (used + available to users) in
// percent, but not rounded up. nullopt when the filesystem has no blocks (a pseudo filesystem).
std::optional<double> used_percent(const FsStats& st);
// Used inodes in percent; nullopt when the filesystem reports no inode count.
std::optional<double> inodes_used_percent(const FsStats& st);

// Parses a statvfs.txt capture (scripts/capture-fixture.sh): one line per mount,
// "mountpoint frsize blocks bfree bavail files ffree", the mount point escaped as in mountinfo.
// The key is the unescaped mount point; a later line for the same mount point wins. Fails on
// the first malformed line, naming it.
Result<std::unordered_map<std::string, FsStats>> parse_statvfs_capture(std::string_view text);

// Where statfs results come from. Implementations must be thread-safe: calls run on worker
// threads and may outlive the collector while stuck.
class StatfsProvider {
public:
    virtual ~StatfsProvider() = default;
    // Statistics of the filesystem mounted at `mount_point`; may block (a dead NFS server).
    virtual Result<FsStats> statfs(const std::string& mount_point) = 0;
};

// statvfs(3) on this host.
std::shared_ptr<StatfsProvider> make_host_statfs();

// Runs statfs calls on a worker thread and waits at most `timeout` for each. A call that does
// not answer in time is abandoned with its thread (which exits when the call returns); its mount
// is then skipped, with an error, until that call has returned: at most one outstanding call per
// mount, so a dead server never piles up threads. In normal operation one worker thread serves
// every call, created once.
class TimedStatfs {
public:
    TimedStatfs(std::shared_ptr<StatfsProvider> provider, std::chrono::milliseconds timeout);
    ~TimedStatfs();
    TimedStatfs(const TimedStatfs&) = delete;
    TimedStatfs& operator=(const TimedStatfs&) = delete;

    // Statistics for each of `mount_points`, in order. An entry fails with kind timeout when the
    // call did not return within the timeout, or an earlier call on that mount is still stuck
    // (with the same text: "statfs on /mnt did not return within 5 s; skipped until it does"),
    // otherwise with the provider's error.
    std::vector<Result<FsStats>> run(const std::vector<std::string>& mount_points);

    // Calls abandoned and not yet returned (for tests and status).
    std::size_t stuck_calls();

private:
    struct Worker;
    struct Call;
    std::shared_ptr<Worker> start_worker();
    Unexpected<Error> timed_out(const std::string& mount_point) const;

    std::shared_ptr<StatfsProvider> m_provider;
    std::chrono::milliseconds m_timeout;
    std::shared_ptr<Worker> m_worker;  // the live worker, or null
    // Abandoned calls by mount point, with the worker that is stuck in them.
    std::unordered_map<std::string, std::pair<std::shared_ptr<Worker>, std::shared_ptr<Call>>> m_stuck;
};

}  // namespace boxmon::collector::kernel

namespace boxmon::collector {

// The filesystem collector with statfs from `provider` (run with the configured timeout) instead
// of the default: statvfs(3) on the host, or <proc_root>/../statvfs.txt when the root is a
// fixture tree. Tests inject a statfs that hangs or fails through this.
std::unique_ptr<Collector> make_filesystem_collector(const Config& config,
                                                     std::shared_ptr<kernel::StatfsProvider> provider);

}  // namespace boxmon::collector
