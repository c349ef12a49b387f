// RELIABILITY C1 as a whole process: `boxmon run` at 1 s, killed with SIGKILL at random moments
// and restarted, over and over. After every kill the database passes `PRAGMA integrity_check`;
// at the end every tick the daemon reported committed is stored, and the one incident of an
// always-breaching rule was opened once and reached the receiver (at least once, always with the
// same incident id: a kill never loses or repeats rule state).
#include <signal.h>

#include <random>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "tests/servers/http_receiver.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const char* const k_sqlite3 = "/usr/bin/sqlite3";

std::string sqlite3_cli(const std::filesystem::path& db, const std::string& sql) {
    const auto r = test::run_process({k_sqlite3, "-readonly", db.string(), sql});
    std::string out = r.out;
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return r.exit_code == 0 ? out : "sqlite3 failed: " + r.err;
}

TEST(CrashHarness, kill_nine_at_random_moments_keeps_every_committed_tick_and_the_incident_once) {
    if (!std::filesystem::exists(k_sqlite3))
        GTEST_SKIP() << "the sqlite3 shell (Debian package sqlite3) is not installed";
    test::TempDir dir;
    test::HttpReceiver receiver;
    ASSERT_TRUE(receiver.valid());
    const std::string config = fmt::format(
        "[general]\ninterval = \"1s\"\n"
        "[collectors]\ndisable = [\"gpu_nvidia\", \"gpu_amd\", \"temperature\", \"services\"]\n"
        "[rule_defaults]\nbuiltin = false\n"
        "[alerting]\nretry_min = \"1s\"\nretry_max = \"2s\"\n"
        "[[rules]]\nname = \"always\"\nmetric = \"mem_used_percent\"\nop = \">=\"\ncritical = 0\nfor = 3\n"
        "[[channels]]\nname = \"hook\"\ntype = \"webhook\"\nurl = \"{}\"\n",
        receiver.url("/hook"));
    test::write_file(dir / "boxmon.toml", config, 0600);
    const auto db = dir / "state" / "boxmon.db";
    const std::vector<std::string> run_args = {test::boxmon_binary().string(), "--config", (dir / "boxmon.toml").string(),
                                               "--state-dir", (dir / "state").string(), "--log-level", "debug", "run"};

    std::mt19937 rng(20261201);
    std::uniform_int_distribution<int> delay_ms(0, 2500);
    std::set<std::int64_t> committed;
    int kills = 0;
    const auto started = std::chrono::steady_clock::now();
    for (int round = 0; round < 25 && std::chrono::steady_clock::now() - started < 150s; ++round) {
        test::Process run(run_args);
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
        run.signal(SIGKILL);
        const auto r = run.wait(10s);
        kills += r.signal == SIGKILL;
        std::istringstream lines(r.err);
        for (std::string line; std::getline(lines, line);) {
            const auto at = line.find("tick ");
            const auto end = line.find(" committed");
            if (at != std::string::npos && end != std::string::npos && end > at)
                committed.insert(std::stoll(line.substr(at + 5, end - at - 5)));
        }
        if (!std::filesystem::exists(db)) continue;  // killed before the database was created
        ASSERT_EQ(sqlite3_cli(db, "PRAGMA integrity_check"), "ok") << "after kill " << round;
    }
    EXPECT_GE(kills, 20);
    ASSERT_GE(committed.size(), 10U) << "the daemon hardly ever committed a tick; nothing was tested";

    // One clean run to the end: it delivers what is still pending and exits 0.
    test::Process last(run_args);
    ASSERT_TRUE(test::wait_until([&] { return !receiver.requests().empty(); }, 20s)) << last.err();
    std::this_thread::sleep_for(2s);
    last.signal(SIGTERM);
    ASSERT_EQ(last.wait(10s).exit_code, 0);

    // Every reported tick is stored, with its sample.
    const auto stored = test::run_process({test::boxmon_binary().string(), "--config", (dir / "boxmon.toml").string(),
                                           "--state-dir", (dir / "state").string(), "query", "mem_used_percent",
                                           "--since", "1h", "--json"});
    ASSERT_EQ(stored.exit_code, 0) << stored.err;
    std::set<std::string> times;
    const json queried = json::parse(stored.out);
    for (const auto& p : queried["points"]) times.insert(p["ts"].get<std::string>());
    std::vector<std::int64_t> missing;
    for (const std::int64_t ts : committed)
        if (times.count(format_iso8601(from_unix_ms(ts))) == 0) missing.push_back(ts);
    EXPECT_TRUE(missing.empty()) << missing.size() << " of " << committed.size()
                                 << " ticks reported committed are missing, the first at " << missing.front() << " ("
                                 << format_iso8601(from_unix_ms(missing.front())) << "); stored: " << times.size()
                                 << " from " << (times.empty() ? "-" : *times.begin()) << " to "
                                 << (times.empty() ? "-" : *times.rbegin()) << "\n"
                                 << last.err();

    // One incident, never a second one; every delivery carries its id.
    std::set<std::string> ids;
    for (const auto& req : receiver.requests()) {
        const auto j = json::parse(req.body, nullptr, false);
        ASSERT_FALSE(j.is_discarded()) << req.body;
        EXPECT_EQ(j["boxmon"]["kind"], "firing") << req.body;
        ids.insert(j["boxmon"]["incident_id"].get<std::string>());
    }
    EXPECT_EQ(ids.size(), 1U) << "a kill opened a second incident or lost the first";
    EXPECT_EQ(sqlite3_cli(db, "SELECT count(*) FROM incidents"), "1");
    EXPECT_EQ(sqlite3_cli(db, "PRAGMA integrity_check"), "ok");
}

}  // namespace
}  // namespace boxmon
