#pragma once
// Damage to a real SQLite file for the corruption tests (RELIABILITY S4): a page overwritten
// under a database whose header and schema still read, as a failing disk leaves it. Header-only;
// the test links SQLite.

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>

namespace boxmon::test {

// Overwrites the b-tree page of `table` in the database file with bytes no page starts with,
// once a note committed through another connection and the log have been checkpointed into
// the file: boxmon's open connections drop their page caches at their next read, so the
// next one that needs the table meets the damage (the checks at open had passed).
inline void corrupt_table(const std::filesystem::path& db, const char* table) {
    sqlite3* c = nullptr;
    ASSERT_EQ(sqlite3_open(db.c_str(), &c), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(c, "INSERT OR REPLACE INTO meta(key, value) VALUES('test_note', 'x')", nullptr, nullptr,
                           nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(c);
    ASSERT_EQ(sqlite3_wal_checkpoint_v2(c, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(c);
    sqlite3_stmt* s = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(c, "SELECT rootpage, (SELECT page_size FROM pragma_page_size) FROM sqlite_schema "
                                    "WHERE name = ?1",
                                 -1, &s, nullptr),
              SQLITE_OK);
    sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
    ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
    const std::int64_t root = sqlite3_column_int64(s, 0);
    const std::int64_t page = sqlite3_column_int64(s, 1);
    sqlite3_finalize(s);
    ASSERT_GT(root, 1);
    const int fd = ::open(db.c_str(), O_WRONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    const std::string junk(static_cast<std::size_t>(page), '\xa5');
    ASSERT_EQ(::pwrite(fd, junk.data(), junk.size(), (root - 1) * page), static_cast<ssize_t>(junk.size()));
    ::close(fd);
    sqlite3_close(c);
}
}  // namespace boxmon::test
