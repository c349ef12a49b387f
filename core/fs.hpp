#pragma once
// RootFs: where the kernel's pseudo filesystems are. Every /proc and /sys path in boxmon is
// built here, so tests and --root-proc/--root-sys can point collectors at fixture trees.
// Also the bounded file reads and the atomic file write every other folder uses.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace boxmon {

// Largest pseudo file read in one go (mountinfo on a busy host is ~100 KiB).
inline constexpr std::size_t k_pseudo_file_max_bytes = 4u << 20;

class RootFs {
public:
    // The host's own /proc and /sys.
    RootFs();
    RootFs(std::filesystem::path proc_root, std::filesystem::path sys_root);

    const std::filesystem::path& proc_root() const { return m_proc; }
    const std::filesystem::path& sys_root() const { return m_sys; }
    // True when both roots are the host's (not a fixture tree).
    bool is_host() const;

    // proc("net/dev") is <proc_root>/net/dev.
    std::filesystem::path proc(std::string_view relative) const;
    std::filesystem::path sys(std::string_view relative) const;

    // Reads a pseudo file under the proc or sys root; see read_bounded().
    Result<std::string> read_proc(std::string_view relative,
                                  std::size_t max_bytes = k_pseudo_file_max_bytes) const;
    Result<std::string> read_sys(std::string_view relative,
                                 std::size_t max_bytes = k_pseudo_file_max_bytes) const;

private:
    std::filesystem::path m_proc;
    std::filesystem::path m_sys;
};

// Reads a whole regular file (pseudo files included, whose size reads as 0) of at most
// max_bytes. Opened non-blocking, so a FIFO or device never blocks; fails with kind
// not_found when it does not exist, with the path and the reason otherwise.
Result<std::string> read_bounded(const std::filesystem::path& path,
                                 std::size_t max_bytes = k_pseudo_file_max_bytes);

// The running executable's own path, from the host's /proc/self/exe (never a fixture
// tree: it is this process, not the watched host); empty when /proc is not mounted.
std::filesystem::path own_executable_path();

// Names in a directory, sorted; fails with kind not_found when it does not exist.
Result<std::vector<std::string>> list_dir(const std::filesystem::path& dir);

// Writes content to path atomically: a new temporary file beside it (O_EXCL|O_NOFOLLOW, so a
// planted symlink is never followed), fsync, rename over path, fsync of the directory. On any
// failure the temporary file is removed and the old file, if any, is untouched.
Result<void> write_file_atomic(const std::filesystem::path& path, std::string_view content,
                               unsigned mode = 0600);

// "rwx"-style description of a mode and owner for messages: "mode 0644 owner root:adm".
std::string describe_mode_owner(unsigned mode, unsigned uid, unsigned gid);

// The name of a network or FUSE filesystem type (statfs's f_type: nfs, cifs, smb2, fuse, ceph,
// 9p, afs), where SQLite's WAL (shared memory, POSIX locks) is not safe; empty for any other.
std::string_view network_filesystem_name(std::uint64_t f_type);
// network_filesystem_name of the filesystem holding `path`; empty when statfs fails.
std::string_view network_filesystem_of(const std::filesystem::path& path);
// Whether the filesystem holding `path` is mounted read-only (statvfs's ST_RDONLY), as ext4
// does by itself after an I/O error with errors=remount-ro; false when statvfs fails.
bool read_only_filesystem(const std::filesystem::path& path);

}  // namespace boxmon
