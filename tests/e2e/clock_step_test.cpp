// RELIABILITY K1 and K2 through the real daemon: `boxmon run` at a 1 s interval under libfaketime
// (the wall clock only; monotonic and boot time untouched), its wall clock stepped back an hour
// and then forward two. Ticks keep their cadence, every tick is stored once with a timestamp
// later than the last, each step is said once, no gap is recorded, rates stay sane, and an
// incident that fired before the steps is neither repeated nor lost.

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tests/support/test_support.hpp"

namespace boxmon::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// The number between `prefix` and `suffix` at each occurrence in `text`, in order. Plain search rather
// than std::regex: libstdc++ 12's regex trips -Wmaybe-uninitialized in the sanitizer build.
std::vector<long> numbers_between(const std::string& text, const std::string& prefix,
                                  const std::string& suffix) {
    std::vector<long> out;
    for (auto at = text.find(prefix); at != std::string::npos; at = text.find(prefix, at + 1)) {
        const auto begin = at + prefix.size();
        auto end = begin;
        while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
        if (end > begin && text.compare(end, suffix.size(), suffix) == 0)
            out.push_back(std::stol(text.substr(begin, end - begin)));
    }
    return out;
}

const char* const k_sqlite3 = "/usr/bin/sqlite3";

std::string sqlite(const fs::path& db, const std::string& sql) {
    const auto r = run_process({k_sqlite3, "-readonly", "-batch", db.string(), sql});
    return r.exit_code == 0 ? r.out : "sqlite3 failed: " + r.err;
}

class ClockStep : public ::testing::Test {
protected:
    void SetUp() override {
        if (std::string(BOXMON_FAKETIME_LIBRARY).empty())
            GTEST_SKIP() << "libfaketimeMT.so.1 not found at configure time (Debian package faketime)";
        if (!fs::exists(BOXMON_FAKETIME_LIBRARY)) GTEST_SKIP() << BOXMON_FAKETIME_LIBRARY << " is gone";
        if (!fs::exists(k_sqlite3)) GTEST_SKIP() << k_sqlite3 << " is missing (Debian package sqlite3)";
        write_file(m_dir / "boxmon.toml",
                   "[general]\ninterval = \"1s\"\n[collectors]\ndisable = [\"gpu_nvidia\"]\n"
                   "[rule_defaults]\nbuiltin = false\n"
                   // Always breaching: fires at the third tick, then stays firing throughout.
                   "[[rules]]\nname = \"always\"\nmetric = \"cpu_percent\"\nop = \">=\"\ncritical = 0\n"
                   "for = 3\ncooldown = \"30m\"\n",
                   0600);
        set_offset("+0s");
    }

    // What libfaketime adds to the real wall clock from now on (it re-reads the file each call).
    void set_offset(const std::string& offset) { write_file(m_dir / "faketime", offset + "\n", 0644); }

    // A boxmon command under libfaketime, as the daemon runs.
    ProcessResult cli(std::vector<std::string> args) const {
        std::vector<std::string> argv{boxmon_binary().string(), "--config", (m_dir / "boxmon.toml").string(),
                                      "--state-dir", (m_dir / "state").string()};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_process(argv, faked());
    }

    std::unique_ptr<Process> start() {
        return std::make_unique<Process>(
            std::vector<std::string>{boxmon_binary().string(), "--config", (m_dir / "boxmon.toml").string(),
                                     "--state-dir", (m_dir / "state").string(), "--log-level", "debug", "run"},
            faked());
    }

    RunOptions faked() const {
        RunOptions o;
        o.env["LD_PRELOAD"] = BOXMON_FAKETIME_LIBRARY;
        o.env["FAKETIME_TIMESTAMP_FILE"] = (m_dir / "faketime").string();
        o.env["FAKETIME_NO_CACHE"] = "1";
        o.env["FAKETIME_DONT_FAKE_MONOTONIC"] = "1";
        o.env["NO_FAKE_STAT"] = "1";
        // Under AddressSanitizer its runtime must come first unless told otherwise.
        const char* asan = std::getenv("ASAN_OPTIONS");
        o.env["ASAN_OPTIONS"] = std::string(asan ? asan : "") + (asan && *asan ? ":" : "") + "verify_asan_link_order=0";
        o.timeout = 30s;
        return o;
    }

    // Waits until the daemon has logged `n` more committed ticks than `seen`.
    static bool wait_for_commits(Process& p, std::size_t seen, std::size_t n) {
        return wait_until([&] { return commits(p.err()).size() >= seen + n; }, 30s);
    }
    static std::vector<long> commits(const std::string& err) {
        return numbers_between(err, "tick ", " committed in");
    }

    TempDir m_dir;
};

TEST_F(ClockStep, back_an_hour_and_forward_two_keep_every_tick_once_in_order_and_say_each_step_once) {
    const auto real_ms = [] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    };
    const long started = real_ms();
    auto daemon = start();
    ASSERT_TRUE(wait_for_commits(*daemon, 0, 5)) << daemon->err();
    // Counted before each change: ticks with a lower index were stamped before it.
    const std::size_t before_back = commits(daemon->err()).size();
    set_offset("-3600s");
    ASSERT_TRUE(wait_for_commits(*daemon, before_back, 5)) << daemon->err();
    const long stepped_forward = real_ms();
    const std::size_t before_forward = commits(daemon->err()).size();
    set_offset("+7200s");
    ASSERT_TRUE(wait_for_commits(*daemon, before_forward, 4)) << daemon->err();
    daemon->signal(SIGTERM);
    const auto r = daemon->wait(15s);
    ASSERT_EQ(r.exit_code, 0) << r.err;

    // Each step said once, with its size.
    const auto back = numbers_between(r.err, "system clock moved back by ", " s");
    ASSERT_EQ(back.size(), 1u) << r.err;
    EXPECT_NEAR(back[0], 3600, 2);
    const auto forward = numbers_between(r.err, "system clock jumped forward by ", " s");
    ASSERT_EQ(forward.size(), 1u) << r.err;
    EXPECT_NEAR(forward[0], 7200, 3) << "the held timestamps tracked real time, so this step is two hours";
    EXPECT_EQ(r.err.find("UNIQUE"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("recorded as a gap"), std::string::npos) << r.err;

    // Every committed tick is stored once, in commit order, each later than the last.
    const auto committed = commits(r.err);
    for (std::size_t i = 1; i < committed.size(); ++i)
        ASSERT_GT(committed[i], committed[i - 1]) << "tick " << i << " went back in time:\n" << r.err;
    const fs::path db = m_dir / "state" / "boxmon.db";
    std::ostringstream want;
    for (const long ts : committed) want << ts << '\n';
    EXPECT_EQ(sqlite(db, "SELECT ts FROM ticks ORDER BY ts"), want.str());
    EXPECT_EQ(sqlite(db, "SELECT count(*) FROM ticks WHERE gap_before = 1"), "0\n");
    // While the wall clock was behind, timestamps were held at the previous one plus the
    // interval, so they kept to real time; after the forward step they follow the wall clock.
    // (The tick running when the file changed may have read either clock: not checked.)
    for (std::size_t i = 0; i < before_forward; ++i) {
        EXPECT_GE(committed[i], started - 2000) << "tick " << i;
        EXPECT_LE(committed[i], stepped_forward + 2000) << "tick " << i << " carries the stepped-back time";
    }
    for (std::size_t i = before_forward + 1; i < committed.size(); ++i)
        EXPECT_GT(committed[i], stepped_forward + 7'190'000) << "tick " << i;

    // Rates from boot time: cpu_percent a percentage at every tick, the steps included.
    EXPECT_EQ(sqlite(db, "SELECT count(*) FROM samples s JOIN series r ON r.id = s.series_id "
                         "WHERE r.name = 'cpu_percent' AND s.value BETWEEN 0 AND 100"),
              std::to_string(committed.size() - 1) + "\n")
        << "every tick after the first has a CPU rate, none out of range";

    // The incident opened before the steps: once, one notification, still open.
    EXPECT_EQ(sqlite(db, "SELECT count(*), sum(\"end\" IS NULL) FROM incidents WHERE rule = 'always'"), "1|1\n");
    EXPECT_EQ(sqlite(db, "SELECT count(*) FROM outbox o JOIN incidents i ON i.id = o.incident_id "
                         "WHERE i.rule = 'always'"),
              "1\n");
}

}  // namespace
}  // namespace boxmon::test

namespace boxmon::test {
namespace {

// `boxmon sample` stamps the nearest slot: run at hh:mm:40 with the default 60 s interval, its
// tick is stamped hh:mm+1:00, 20 s ahead of the clock. The readers that run right after it
// (alerts, status, query, export) still see that tick and the incident it opened.
TEST_F(ClockStep, readers_see_a_sample_stamped_ahead_of_the_clock) {
    write_file(m_dir / "boxmon.toml",
               "[collectors]\ndisable = [\"gpu_nvidia\"]\n[rule_defaults]\nbuiltin = false\n"
               "[[rules]]\nname = \"always\"\nmetric = \"mem_used_percent\"\nop = \">=\"\ncritical = 0\n"
               "for = 1\n",
               0600);
    const auto real_s = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    set_offset(fmt::format("+{}s", ((40 - real_s % 60) + 60) % 60));  // the fake clock reads :40
    const auto sample = cli({"sample"});
    ASSERT_EQ(sample.exit_code, 0) << sample.err;
    const auto status = cli({"status", "--json"});
    ASSERT_EQ(status.exit_code, 0) << status.out << status.err;
    const auto state = nlohmann::json::parse(status.out);
    const std::string stamp = state.at("last_sample").get<std::string>();
    ASSERT_NE(stamp.find(":00Z"), std::string::npos) << "stamped on the minute ahead: " << stamp;
    EXPECT_EQ(state.at("open_incidents").size(), 1u) << status.out;

    const auto alerts = cli({"alerts", "--json", "--since", "1h"});
    ASSERT_EQ(alerts.exit_code, 0) << alerts.err;
    EXPECT_EQ(nlohmann::json::parse(alerts.out).at("incidents").size(), 1u) << alerts.out;
    const auto query = cli({"query", "mem_used_percent", "--since", "1h", "--json"});
    ASSERT_EQ(query.exit_code, 0) << query.err;
    EXPECT_EQ(nlohmann::json::parse(query.out).at("points").size(), 1u) << query.out;
    const auto csv = cli({"export", "--since", "1h"});
    ASSERT_EQ(csv.exit_code, 0) << csv.err;
    EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 2) << "header and the one tick:\n" << csv.out;
}

}  // namespace
}  // namespace boxmon::test
