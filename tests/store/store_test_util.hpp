#pragma once
// Helpers shared by the store tests: building ticks and asking SQLite directly (not through
// Store) what is in a database file.

#include <sqlite3.h>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <memory>
#include <sstream>
#include <string>

#include "core/sample.hpp"
#include "store/schema.hpp"
#include "store/store.hpp"

namespace boxmon::store::test {

inline WallTime t0() { return from_unix_seconds(1'790'000'040); }  // a minute boundary in 2026

// A tick at t0 + i minutes with `n` series cpu_percent{cpu="k"} valued i + k.
inline TickWrite make_tick(int i, int n = 3) {
    TickWrite t;
    t.sample.ts = t0() + std::chrono::minutes(i);
    for (int k = 0; k < n; ++k)
        t.sample.add(SeriesKey("cpu_percent", {{"cpu", std::to_string(k)}}), i + k);
    t.sample.collectors.push_back({"cpu", true, std::chrono::microseconds(10), ""});
    return t;
}

inline StoreOptions options_for(const std::filesystem::path& path) {
    StoreOptions o;
    o.path = path;
    o.busy_timeout = std::chrono::milliseconds(200);
    return o;
}

// Runs one query on its own read-only connection and returns the first column of the first
// row as text ("" when no row, "ERROR: ..." on failure).
inline std::string sql_text(const std::filesystem::path& db, const std::string& q) {
    sqlite3* c = nullptr;
    if (sqlite3_open_v2(db.c_str(), &c, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        std::string e = "ERROR: " + std::string(sqlite3_errmsg(c));
        sqlite3_close(c);
        return e;
    }
    sqlite3_stmt* s = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(c, q.c_str(), -1, &s, nullptr) != SQLITE_OK) {
        out = "ERROR: " + std::string(sqlite3_errmsg(c));
    } else {
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
            out = t ? t : "NULL";
        } else if (rc != SQLITE_DONE) {
            out = "ERROR: " + std::string(sqlite3_errmsg(c));
        }
    }
    sqlite3_finalize(s);
    sqlite3_close(c);
    return out;
}

// Captures everything spdlog's default logger writes while it lives.
class LogCapture {
public:
    LogCapture() : m_previous(spdlog::default_logger()) {
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(m_out);
        auto logger = std::make_shared<spdlog::logger>("capture", sink);
        logger->set_level(spdlog::level::trace);
        spdlog::set_default_logger(logger);
    }
    ~LogCapture() { spdlog::set_default_logger(m_previous); }
    LogCapture(const LogCapture&) = delete;
    LogCapture& operator=(const LogCapture&) = delete;
    std::string text() {
        spdlog::default_logger()->flush();
        return m_out.str();
    }

private:
    std::ostringstream m_out;
    std::shared_ptr<spdlog::logger> m_previous;
};

// Runs `q` on `c`, failing the test with SQLite's message and the statement.
inline void exec_ok(sqlite3* c, const std::string& q) {
    char* msg = nullptr;
    const int rc = sqlite3_exec(c, q.c_str(), nullptr, nullptr, &msg);
    EXPECT_EQ(rc, SQLITE_OK) << (msg ? msg : "") << "\n" << q;
    sqlite3_free(msg);
}

// Opens a transaction on `c` (a new file) holding schema version 1, as the previous boxmon
// created it, for a test to fill and commit.
inline void begin_v1_database(sqlite3* c) {
    exec_ok(c, "PRAGMA page_size=4096; PRAGMA auto_vacuum=INCREMENTAL; PRAGMA journal_mode=WAL");
    exec_ok(c, "BEGIN");
    exec_ok(c, detail::kSchemaV1);
    exec_ok(c, "PRAGMA user_version=1");
}

inline std::unique_ptr<Store> open_ok(const StoreOptions& o) {
    auto s = Store::open(o);
    EXPECT_TRUE(s) << (s ? "" : s.error().message);
    return s ? std::move(*s) : nullptr;
}

}  // namespace boxmon::store::test
