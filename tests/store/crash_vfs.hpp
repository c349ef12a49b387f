#pragma once
// A test-only SQLite VFS over "unix" that simulates a power cut (RELIABILITY C6): every write
// to a database or WAL file since that file's last xSync is remembered with the bytes it
// overwrote; crash() makes all further I/O fail, and power_cut() then undoes the unsynced
// writes on disk (and truncations), as if the machine had lost power at that moment.
// Installed as the default VFS while a CrashVfs object lives, so Store uses it unchanged. It
// can also play a filesystem gone read-only under an open database (set_read_only).

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace boxmon::store::test {

class CrashVfs {
public:
    CrashVfs();
    ~CrashVfs();
    CrashVfs(const CrashVfs&) = delete;
    CrashVfs& operator=(const CrashVfs&) = delete;

    // The n-th write from now (1 = the next) fails and the "machine" stops: every later write,
    // sync and truncate fails too. 0 disables.
    void crash_at_write(std::uint64_t n);
    bool crashed() const;
    // Undoes every write not yet synced, on disk, and forgets the files. Call after the
    // connections are closed.
    void power_cut();
    std::uint64_t writes() const;
    // Successful xSync calls on database and WAL files so far.
    std::uint64_t syncs() const;
    // While on, every write, truncate and sync fails as on a filesystem remounted read-only
    // (SQLITE_IOERR_* with errno EROFS); reads go on. Off again, I/O works as before
    // (RELIABILITY S3: `mount -o remount,ro` is refused while the database is open for writing).
    void set_read_only(bool on);

    // Internal state, public for the C callbacks.
    struct Undo {
        std::int64_t offset;
        std::string old_bytes;
    };
    struct FileState {
        std::int64_t synced_size = -1;
        std::vector<Undo> undo;
    };
    mutable std::mutex mutex;
    std::map<std::string, FileState> files;
    std::uint64_t write_count = 0;
    std::uint64_t sync_count = 0;
    std::uint64_t crash_at = 0;
    bool is_crashed = false;
    bool read_only = false;
    sqlite3_vfs vfs{};
    sqlite3_vfs* real = nullptr;
};

}  // namespace boxmon::store::test
