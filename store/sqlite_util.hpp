#pragma once
// Thin RAII over the SQLite C API for store/: a prepared statement that resets itself, and the
// mapping of SQLite result codes to boxmon errors (kind busy for locks, a hint for the common
// operational failures). Internal to store/.

#include <sqlite3.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/fs.hpp"
#include "core/result.hpp"

namespace boxmon::store::detail {

// A prepared statement; finalized on destruction.
class Stmt {
public:
    Stmt() = default;
    Stmt(sqlite3* db, std::string_view sql, int* rc_out) {
        *rc_out = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                     SQLITE_PREPARE_PERSISTENT, &m_stmt, nullptr);
    }
    ~Stmt() { sqlite3_finalize(m_stmt); }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
    Stmt(Stmt&& o) noexcept : m_stmt(o.m_stmt) { o.m_stmt = nullptr; }
    Stmt& operator=(Stmt&& o) noexcept {
        if (this != &o) {
            sqlite3_finalize(m_stmt);
            m_stmt = o.m_stmt;
            o.m_stmt = nullptr;
        }
        return *this;
    }

    sqlite3_stmt* get() const { return m_stmt; }
    void bind(int i, std::int64_t v) { sqlite3_bind_int64(m_stmt, i, v); }
    void bind(int i, int v) { sqlite3_bind_int64(m_stmt, i, v); }
    void bind(int i, double v) {
        // NaN is stored as NULL (SQLite would do so anyway); read back as NaN.
        if (std::isnan(v)) sqlite3_bind_null(m_stmt, i);
        else sqlite3_bind_double(m_stmt, i, v);
    }
    void bind(int i, std::string_view v) {
        sqlite3_bind_text(m_stmt, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    }
    void bind_null(int i) { sqlite3_bind_null(m_stmt, i); }
    int step() { return sqlite3_step(m_stmt); }
    void reset() {
        sqlite3_reset(m_stmt);
        sqlite3_clear_bindings(m_stmt);
    }
    bool is_null(int c) const { return sqlite3_column_type(m_stmt, c) == SQLITE_NULL; }
    std::int64_t int64(int c) const { return sqlite3_column_int64(m_stmt, c); }
    double real(int c) const { return is_null(c) ? NAN : sqlite3_column_double(m_stmt, c); }
    // The text of column c, valid until the next step or reset.
    std::string_view text_view(int c) const {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(m_stmt, c));
        return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, c)))
                 : std::string_view();
    }
    std::string text(int c) const {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(m_stmt, c));
        return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, c)))
                 : std::string();
    }

private:
    sqlite3_stmt* m_stmt = nullptr;
};

// Resets a statement when the scope ends, so a failed step never leaves it holding a read.
class ResetGuard {
public:
    explicit ResetGuard(Stmt& s) : m_s(s) {}
    ~ResetGuard() { m_s.reset(); }
    ResetGuard(const ResetGuard&) = delete;
    ResetGuard& operator=(const ResetGuard&) = delete;

private:
    Stmt& m_s;
};

inline bool is_busy(int rc) {
    const int primary = rc & 0xff;
    return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

inline bool is_corrupt(int rc) {
    const int primary = rc & 0xff;
    return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB;
}

// An error for a failed SQLite call: what was being done, the database path, SQLite's message
// and code, and what to do about the usual causes.
inline Unexpected<Error> sql_error(sqlite3* db, int rc, std::string_view what,
                                   const std::filesystem::path& path) {
    const int primary = rc & 0xff;
    std::string detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    // The OS error behind an I/O failure says what really happened (read-only file system,
    // no space left on device).
    const int sys = db ? sqlite3_system_errno(db) : 0;
    if (sys != 0 && (primary == SQLITE_IOERR || primary == SQLITE_FULL || primary == SQLITE_CANTOPEN ||
                     primary == SQLITE_READONLY))
        detail += fmt::format(" ({})", std::system_category().message(sys));
    std::string hint;
    switch (primary) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            hint = "the database is locked by another process; will retry";
            break;
        case SQLITE_FULL:
            hint = fmt::format("the filesystem holding {} is full; free space there",
                               path.parent_path().string());
            break;
        case SQLITE_READONLY:
        case SQLITE_IOERR:
            // SQLite does not always carry the EROFS of a failed write up to sqlite3_system_errno,
            // so the mount itself is asked (RELIABILITY S3).
            if (read_only_filesystem(path.parent_path())) {
                hint = fmt::format("read-only file system: {} is on a filesystem mounted read-only; remount "
                                   "it read-write (after an I/O error, check the disk and the kernel log first)",
                                   path.parent_path().string());
            } else if (primary == SQLITE_READONLY) {
                hint = "read-only file system or database; check the mount and the file's owner and mode";
            } else {
                hint = "I/O error; check the disk and the kernel log";
            }
            break;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
            hint = "the database is corrupt; boxmon's writer moves it aside (keeping it) and starts a new one";
            break;
        case SQLITE_CANTOPEN:
            hint = "check that the directory exists and its owner and mode";
            break;
        default:
            break;
    }
    Error e{fmt::format("{} on {}: {} (SQLite {} {}){}{}", what, path.string(), detail, rc,
                        sqlite3_errstr(rc), hint.empty() ? "" : "; ", hint),
            is_busy(rc) ? ErrorKind::busy : ErrorKind::runtime, sys};
    return Unexpected<Error>(std::move(e));
}

}  // namespace boxmon::store::detail
