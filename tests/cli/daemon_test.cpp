// `boxmon run` as a real process: ticks stored, SIGTERM exits 0 within 2 s, one instance per
// state directory, a one-shot sample beside the daemon does nothing, SIGHUP with a broken file
// keeps the old configuration.
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

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

// RELIABILITY S1/S5 as `status` tells it: while another process holds the database's write
// lock the daemon keeps its ticks in memory, and status says storage is degraded rather than
// only "stale"; once the lock is gone the backlog lands and status is plain again.
TEST_F(Daemon, status_says_storage_is_degraded_while_the_running_daemon_cannot_store) {
    const std::string config = "[general]\ninterval = \"1s\"\n[collectors]\ndisable = [\"gpu_nvidia\"]\n"
                               "[storage]\nbusy_timeout = \"100ms\"\n";
    test::write_file(m_dir / "boxmon.toml", config, 0600);
    test::Process run(args({"run"}));
    ASSERT_TRUE(test::wait_until([&] { return last_sample().has_value(); }, 15s)) << run.err();
    const auto status = [&](bool json) {
        std::vector<std::string> a = {test::boxmon_binary().string(), "--config", (m_dir / "status.toml").string(),
                                      "--state-dir", (m_dir / "state").string(), "status"};
        if (json) a.push_back("--json");
        return test::run_process(a, timeout_of(10s));
    };
    EXPECT_EQ(status(false).out.find("STORAGE DEGRADED"), std::string::npos);

    // Another process takes the write lock and keeps it (a reader still reads, WAL mode).
    test::Process holder({test::python3(), "-c",
                          "import sqlite3, sys, time\n"
                          "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
                          "c.execute('BEGIN IMMEDIATE')\nprint('LOCKED', flush=True)\ntime.sleep(60)\n",
                          (m_dir / "state" / "boxmon.db").string()});
    ASSERT_TRUE(holder.wait_for_out("LOCKED", 10s)) << holder.err();
    test::ProcessResult degraded;
    ASSERT_TRUE(test::wait_until(
        [&] {
            degraded = status(false);
            return degraded.exit_code == 3 && degraded.out.find("STORAGE DEGRADED") != std::string::npos;
        },
        15s))
        << degraded.out << degraded.err << run.err();
    EXPECT_NE(degraded.out.find("PID " + std::to_string(run.pid())), std::string::npos) << degraded.out;
    EXPECT_NE(degraded.out.find("has stored nothing for "), std::string::npos) << degraded.out;
    EXPECT_EQ(degraded.out.find("is boxmon run or its timer running?"), std::string::npos)
        << "the daemon is running; asking whether it is contradicts the line below:\n"
        << degraded.out;
    const auto json = nlohmann::json::parse(status(true).out);
    EXPECT_EQ(json.at("storage_degraded"), true) << json.dump();

    holder.signal(SIGKILL);
    (void)holder.wait(5s);
    ASSERT_TRUE(test::wait_until([&] { return status(false).exit_code == 0; }, 15s)) << run.err();
    EXPECT_EQ(nlohmann::json::parse(status(true).out).at("storage_degraded"), false);
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

// A NOTIFY_SOCKET as systemd provides it: a datagram socket the daemon reports to.
class NotifySocket {
public:
    explicit NotifySocket(std::filesystem::path path) : m_path(std::move(path)) {
        m_fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        const std::string p = m_path.string();
        if (m_fd < 0 || p.size() >= sizeof addr.sun_path) return;
        p.copy(addr.sun_path, p.size());
        m_bound = ::bind(m_fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
        timeval tv{0, 200'000};
        ::setsockopt(m_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    ~NotifySocket() {
        if (m_fd >= 0) ::close(m_fd);
    }
    NotifySocket(const NotifySocket&) = delete;
    NotifySocket& operator=(const NotifySocket&) = delete;
    bool bound() const { return m_bound; }
    const std::filesystem::path& path() const { return m_path; }
    // The next datagram, or "" after 200 ms.
    std::string receive() {
        char buf[4096];
        const ssize_t n = ::recv(m_fd, buf, sizeof buf, 0);
        return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
    }
    // Waits for a datagram containing `text`; every datagram seen is appended to `seen`.
    bool wait_for(std::string_view text, std::chrono::milliseconds deadline, std::string& seen) {
        return test::wait_until(
            [&] {
                const std::string d = receive();
                if (!d.empty()) seen += d + "|";
                return d.find(text) != std::string::npos;
            },
            deadline);
    }

private:
    std::filesystem::path m_path;
    int m_fd = -1;
    bool m_bound = false;
};

TEST_F(Daemon, tells_systemd_ready_once_the_database_is_open_and_stopping_on_sigterm) {
    NotifySocket sock(m_dir / "notify.sock");
    ASSERT_TRUE(sock.bound()) << "cannot bind " << sock.path();
    test::RunOptions o;
    o.env["NOTIFY_SOCKET"] = sock.path().string();
    test::Process run(args({"run"}), o);
    std::string seen;
    ASSERT_TRUE(sock.wait_for("READY=1", 15s, seen)) << "no READY=1; got: " << seen << "\n" << run.err();
    EXPECT_TRUE(fs::exists(m_dir / "state" / "boxmon.db")) << "READY before the database was opened";
    // Each tick pings the watchdog.
    ASSERT_TRUE(sock.wait_for("WATCHDOG=1", 10s, seen)) << seen;
    run.signal(SIGTERM);
    EXPECT_TRUE(sock.wait_for("STOPPING=1", 5s, seen)) << seen;
    EXPECT_EQ(run.wait(5s).exit_code, 0);
}

}  // namespace
}  // namespace boxmon
