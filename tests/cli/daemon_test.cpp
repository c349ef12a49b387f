// `boxmon run` as a real process: ticks stored, SIGTERM exits 0 within 2 s, one instance per
// state directory, a one-shot sample beside the daemon does nothing, SIGHUP with a broken file
// keeps the old configuration.
#include <signal.h>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/test_support.hpp"

namespace boxmon {
namespace {

using namespace std::chrono_literals;

test::RunOptions timeout_of(std::chrono::milliseconds t) {
    test::RunOptions o;
    o.timeout = t;
    return o;
}
namespace fs = std::filesystem;

class Daemon : public ::testing::Test {
protected:
    void SetUp() override {
        const std::string config = "[general]\ninterval = \"1s\"\n[collectors]\ndisable = [\"gpu_nvidia\"]\n";
        test::write_file(m_dir / "boxmon.toml", config, 0600);
        // status reads its own copy, so a test may break the daemon's file
        test::write_file(m_dir / "status.toml", config, 0600);
    }
    std::vector<std::string> args(std::vector<std::string> rest) {
        std::vector<std::string> a = {test::boxmon_binary().string(), "--config", (m_dir / "boxmon.toml").string(),
                                      "--state-dir", (m_dir / "state").string()};
        a.insert(a.end(), rest.begin(), rest.end());
        return a;
    }
    // Samples stored so far, read through `boxmon status --json`.
    std::optional<std::string> last_sample() {
        auto r = test::run_process({test::boxmon_binary().string(), "--config", (m_dir / "status.toml").string(),
                                    "--state-dir", (m_dir / "state").string(), "status", "--json"});
        if (r.exit_code != 0 && r.exit_code != 3) return std::nullopt;  // 3: stale, still a reading
        auto j = nlohmann::json::parse(r.out, nullptr, false);
        if (j.is_discarded() || j["last_sample"].is_null()) return std::nullopt;
        return j["last_sample"].get<std::string>();
    }
    test::TempDir m_dir;
};

TEST_F(Daemon, stores_ticks_and_exits_zero_on_sigterm_within_two_seconds) {
    test::Process run(args({"run"}));
    std::optional<std::string> first;
    ASSERT_TRUE(test::wait_until([&] { return (first = last_sample()).has_value(); }, 15s)) << run.err();
    ASSERT_TRUE(test::wait_until([&] { auto now = last_sample(); return now && *now != *first; }, 10s))
        << "a second tick never came: " << run.err();
    const auto t0 = std::chrono::steady_clock::now();
    run.signal(SIGTERM);
    const auto r = run.wait(5s);
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_LT(took, 2s);
}

TEST_F(Daemon, a_second_daemon_exits_1_naming_the_first_and_sample_steps_aside) {
    test::Process run(args({"run"}));
    ASSERT_TRUE(test::wait_until([&] { return last_sample().has_value(); }, 15s)) << run.err();
    const auto second = test::run_process(args({"run"}), timeout_of(10s));
    EXPECT_EQ(second.exit_code, 1);
    EXPECT_NE(second.err.find("PID " + std::to_string(run.pid())), std::string::npos) << second.err;
    const auto sample = test::run_process(args({"sample"}), timeout_of(10s));
    EXPECT_EQ(sample.exit_code, 0) << sample.err;
    EXPECT_NE(sample.err.find("nothing to do"), std::string::npos) << sample.err;
    run.signal(SIGTERM);
    EXPECT_EQ(run.wait(5s).exit_code, 0);
}

TEST_F(Daemon, sighup_with_a_broken_file_keeps_the_running_configuration) {
    test::Process run(args({"run"}));
    ASSERT_TRUE(test::wait_until([&] { return last_sample().has_value(); }, 15s)) << run.err();
    test::write_file(m_dir / "boxmon.toml", "[general]\ninterval = \"fast\"\n", 0600);
    run.signal(SIGHUP);
    ASSERT_TRUE(run.wait_for_err("keeping the current one", 10s)) << run.err();
    const auto before = last_sample();
    ASSERT_TRUE(test::wait_until([&] { auto now = last_sample(); return now && now != before; }, 10s))
        << "ticks stopped after the refused reload";
    run.signal(SIGTERM);
    EXPECT_EQ(run.wait(5s).exit_code, 0);
}

}  // namespace
}  // namespace boxmon
