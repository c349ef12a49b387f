#include "crash_vfs.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace boxmon::store::test {

namespace {

CrashVfs* g_vfs = nullptr;  // one at a time; SQLite's callbacks carry no user pointer per file

struct ShimFile {
    sqlite3_file base;
    sqlite3_file* real;  // follows this struct in the same allocation
    std::string* path;   // tracked files only (main database, WAL); null otherwise
};

sqlite3_file* real_of(sqlite3_file* f) { return reinterpret_cast<ShimFile*>(f)->real; }

int x_close(sqlite3_file* f) {
    auto* s = reinterpret_cast<ShimFile*>(f);
    int rc = s->real->pMethods ? s->real->pMethods->xClose(s->real) : SQLITE_OK;
    delete s->path;
    s->path = nullptr;
    return rc;
}

int x_read(sqlite3_file* f, void* buf, int amt, sqlite3_int64 off) {
    return real_of(f)->pMethods->xRead(real_of(f), buf, amt, off);
}

int x_write(sqlite3_file* f, const void* buf, int amt, sqlite3_int64 off) {
    auto* s = reinterpret_cast<ShimFile*>(f);
    CrashVfs& v = *g_vfs;
    {
        std::lock_guard lock(v.mutex);
        if (v.is_crashed) return SQLITE_IOERR_WRITE;
        if (v.read_only) {
            errno = EROFS;
            return SQLITE_IOERR_WRITE;
        }
        ++v.write_count;
        if (v.crash_at != 0 && v.write_count >= v.crash_at) {
            v.is_crashed = true;
            return SQLITE_IOERR_WRITE;
        }
        if (s->path) {
            CrashVfs::FileState& st = v.files[*s->path];
            sqlite3_int64 size = 0;
            s->real->pMethods->xFileSize(s->real, &size);
            if (st.synced_size < 0) st.synced_size = size;
            if (off < size) {
                const int keep = static_cast<int>(std::min<sqlite3_int64>(amt, size - off));
                std::string old(static_cast<std::size_t>(keep), '\0');
                s->real->pMethods->xRead(s->real, old.data(), keep, off);
                st.undo.push_back({off, std::move(old)});
            }
        }
    }
    return s->real->pMethods->xWrite(s->real, buf, amt, off);
}

int x_truncate(sqlite3_file* f, sqlite3_int64 size) {
    auto* s = reinterpret_cast<ShimFile*>(f);
    CrashVfs& v = *g_vfs;
    {
        std::lock_guard lock(v.mutex);
        if (v.is_crashed) return SQLITE_IOERR_TRUNCATE;
        if (v.read_only) {
            errno = EROFS;
            return SQLITE_IOERR_TRUNCATE;
        }
        if (s->path) {
            CrashVfs::FileState& st = v.files[*s->path];
            sqlite3_int64 cur = 0;
            s->real->pMethods->xFileSize(s->real, &cur);
            if (st.synced_size < 0) st.synced_size = cur;
            if (size < cur) {
                std::string old(static_cast<std::size_t>(cur - size), '\0');
                s->real->pMethods->xRead(s->real, old.data(), static_cast<int>(cur - size), size);
                st.undo.push_back({size, std::move(old)});
            }
        }
    }
    return s->real->pMethods->xTruncate(s->real, size);
}

int x_sync(sqlite3_file* f, int flags) {
    auto* s = reinterpret_cast<ShimFile*>(f);
    CrashVfs& v = *g_vfs;
    {
        std::lock_guard lock(v.mutex);
        if (v.is_crashed) return SQLITE_IOERR_FSYNC;
        if (v.read_only) {
            errno = EROFS;
            return SQLITE_IOERR_FSYNC;
        }
    }
    int rc = s->real->pMethods->xSync(s->real, flags);
    if (rc == SQLITE_OK && s->path) {
        std::lock_guard lock(v.mutex);
        CrashVfs::FileState& st = v.files[*s->path];
        sqlite3_int64 size = 0;
        s->real->pMethods->xFileSize(s->real, &size);
        st.synced_size = size;
        st.undo.clear();
        ++v.sync_count;
    }
    return rc;
}

int x_file_size(sqlite3_file* f, sqlite3_int64* size) {
    return real_of(f)->pMethods->xFileSize(real_of(f), size);
}
int x_lock(sqlite3_file* f, int l) { return real_of(f)->pMethods->xLock(real_of(f), l); }
int x_unlock(sqlite3_file* f, int l) { return real_of(f)->pMethods->xUnlock(real_of(f), l); }
int x_check_reserved(sqlite3_file* f, int* out) {
    return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out);
}
int x_file_control(sqlite3_file* f, int op, void* arg) {
    return real_of(f)->pMethods->xFileControl(real_of(f), op, arg);
}
int x_sector_size(sqlite3_file* f) { return real_of(f)->pMethods->xSectorSize(real_of(f)); }
int x_device_characteristics(sqlite3_file* f) {
    return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f));
}
int x_shm_map(sqlite3_file* f, int pg, int sz, int extend, void volatile** p) {
    return real_of(f)->pMethods->xShmMap(real_of(f), pg, sz, extend, p);
}
int x_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
    return real_of(f)->pMethods->xShmLock(real_of(f), offset, n, flags);
}
void x_shm_barrier(sqlite3_file* f) { real_of(f)->pMethods->xShmBarrier(real_of(f)); }
int x_shm_unmap(sqlite3_file* f, int del) { return real_of(f)->pMethods->xShmUnmap(real_of(f), del); }

const sqlite3_io_methods kMethods = {
    2,  // no xFetch/xUnfetch: every read goes through xRead
    x_close, x_read, x_write, x_truncate, x_sync, x_file_size, x_lock, x_unlock,
    x_check_reserved, x_file_control, x_sector_size, x_device_characteristics,
    x_shm_map, x_shm_lock, x_shm_barrier, x_shm_unmap, nullptr, nullptr,
};

int x_open(sqlite3_vfs* vfs, const char* name, sqlite3_file* f, int flags, int* out_flags) {
    auto* s = reinterpret_cast<ShimFile*>(f);
    s->real = reinterpret_cast<sqlite3_file*>(s + 1);
    s->path = nullptr;
    s->base.pMethods = nullptr;
    sqlite3_vfs* real = static_cast<CrashVfs*>(vfs->pAppData)->real;
    int rc = real->xOpen(real, name, s->real, flags, out_flags);
    if (rc != SQLITE_OK) return rc;
    if (name && (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL))) s->path = new std::string(name);
    s->base.pMethods = &kMethods;
    return SQLITE_OK;
}

int x_delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
    auto* self = static_cast<CrashVfs*>(vfs->pAppData);
    {
        std::lock_guard lock(self->mutex);
        if (self->is_crashed) return SQLITE_IOERR_DELETE;
        self->files.erase(name);
    }
    return self->real->xDelete(self->real, name, sync_dir);
}
int x_access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
    sqlite3_vfs* real = static_cast<CrashVfs*>(vfs->pAppData)->real;
    return real->xAccess(real, name, flags, out);
}
int x_full_pathname(sqlite3_vfs* vfs, const char* name, int n, char* out) {
    sqlite3_vfs* real = static_cast<CrashVfs*>(vfs->pAppData)->real;
    return real->xFullPathname(real, name, n, out);
}
int x_randomness(sqlite3_vfs* vfs, int n, char* out) {
    sqlite3_vfs* real = static_cast<CrashVfs*>(vfs->pAppData)->real;
    return real->xRandomness(real, n, out);
}
int x_sleep(sqlite3_vfs* vfs, int us) {
    sqlite3_vfs* real = static_cast<CrashVfs*>(vfs->pAppData)->real;
    return real->xSleep(real, us);
}
int x_current_time(sqlite3_vfs* vfs, double* out) {
    sqlite3_vfs* real = static_cast<CrashVfs*>(vfs->pAppData)->real;
    return real->xCurrentTime(real, out);
}
int x_last_error(sqlite3_vfs* vfs, int n, char* out) {
    auto* self = static_cast<CrashVfs*>(vfs->pAppData);
    {
        std::lock_guard lock(self->mutex);
        if (self->read_only) return EROFS;
    }
    return self->real->xGetLastError(self->real, n, out);
}
int x_current_time_int64(sqlite3_vfs* vfs, sqlite3_int64* out) {
    sqlite3_vfs* real = static_cast<CrashVfs*>(vfs->pAppData)->real;
    return real->xCurrentTimeInt64(real, out);
}

}  // namespace

CrashVfs::CrashVfs() {
    if (g_vfs) throw std::logic_error("one CrashVfs at a time");
    real = sqlite3_vfs_find("unix");
    if (!real) throw std::runtime_error("no unix VFS");
    vfs.iVersion = 2;
    vfs.szOsFile = static_cast<int>(sizeof(ShimFile)) + real->szOsFile;
    vfs.mxPathname = real->mxPathname;
    vfs.zName = "boxmon-crash";
    vfs.pAppData = this;
    vfs.xOpen = x_open;
    vfs.xDelete = x_delete;
    vfs.xAccess = x_access;
    vfs.xFullPathname = x_full_pathname;
    vfs.xRandomness = x_randomness;
    vfs.xSleep = x_sleep;
    vfs.xCurrentTime = x_current_time;
    vfs.xGetLastError = x_last_error;
    vfs.xCurrentTimeInt64 = x_current_time_int64;
    g_vfs = this;
    sqlite3_vfs_register(&vfs, 1);
}

CrashVfs::~CrashVfs() {
    sqlite3_vfs_unregister(&vfs);
    sqlite3_vfs_register(real, 1);
    g_vfs = nullptr;
}

void CrashVfs::crash_at_write(std::uint64_t n) {
    std::lock_guard lock(mutex);
    crash_at = n == 0 ? 0 : write_count + n;
}

void CrashVfs::set_read_only(bool on) {
    std::lock_guard lock(mutex);
    read_only = on;
}

bool CrashVfs::crashed() const {
    std::lock_guard lock(mutex);
    return is_crashed;
}

std::uint64_t CrashVfs::writes() const {
    std::lock_guard lock(mutex);
    return write_count;
}

std::uint64_t CrashVfs::syncs() const {
    std::lock_guard lock(mutex);
    return sync_count;
}

void CrashVfs::power_cut() {
    std::lock_guard lock(mutex);
    for (auto& [path, st] : files) {
        int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
        if (fd < 0) continue;  // deleted (a WAL removed at close): nothing to undo
        for (auto it = st.undo.rbegin(); it != st.undo.rend(); ++it)
            if (::pwrite(fd, it->old_bytes.data(), it->old_bytes.size(), it->offset) < 0) break;
        if (st.synced_size >= 0 && ::ftruncate(fd, st.synced_size) != 0) {
        }
        ::close(fd);
    }
    files.clear();
    is_crashed = false;
    crash_at = 0;
}

}  // namespace boxmon::store::test
