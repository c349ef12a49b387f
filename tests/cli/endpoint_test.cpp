// `boxmon run` with [http] listen and [heartbeat] url, as a real process on fixture roots:
// scraped by curl (output accepted by promtool) and by a real Prometheus server on loopback,
// the token enforced, loopback-only binding, 1,000 idle and 50 slow-loris clients that neither
// stop the ticks nor exhaust descriptors (RELIABILITY L8, X8), and a heartbeat after each tick
// that a hanging receiver cannot delay.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <sys/resource.h>
#include <sys/socket.h>

#include "tests/servers/http_receiver.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using Steady = std::chrono::steady_clock;

constexpr const char* k_curl = "/usr/bin/curl";
constexpr const char* k_promtool = "/usr/bin/promtool";
constexpr const char* k_prometheus = "/usr/bin/prometheus";
constexpr const char* k_token = "0c5e1f-endpoint-canary-token";

struct Reply {
    int status = 0;  // 0: no HTTP answer
    std::string body;
};

// One request with curl; the status is the last line curl writes.
Reply curl(const std::string& url, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {k_curl, "-s", "--max-time", "5", "-w", "\n%{http_code}"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(url);
    const auto r = test::run_process(argv);
    Reply out;
    const auto nl = r.out.rfind('\n');
    if (nl == std::string::npos) return out;
    out.status = std::atoi(r.out.c_str() + nl + 1);
    out.body = r.out.substr(0, nl);
    return out;
}

// The value of an unlabelled series in an exposition, or nullopt.
std::optional<double> value_of(const std::string& text, const std::string& series) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
    return std::nullopt;
}

class DaemonEndpoint : public ::testing::Test {
protected:
    void SetUp() override {
        if (!fs::exists(k_curl)) GTEST_SKIP() << k_curl << " is not installed (Debian package curl)";
        m_port = test::free_port();
        test::write_file(m_dir / "token", std::string(k_token) + "\n", 0600);
    }
    // Starts `boxmon run` (1 s interval, the small-box fixture) with `extra` appended to its
    // configuration.
    void start(const std::string& extra, const fs::path& binary = test::boxmon_binary()) {
        const std::string config =
            "[general]\ninterval = \"1s\"\n[collectors]\ndisable = [\"gpu_nvidia\"]\n" + extra;
        test::write_file(m_dir / "boxmon.toml", config, 0600);
        const fs::path fixture = test::fixtures_dir() / "linux" / "small-box" / "t1";
        m_run = std::make_unique<test::Process>(std::vector<std::string>{
            binary.string(), "--config", (m_dir / "boxmon.toml").string(), "--state-dir",
            (m_dir / "state").string(), "--root-proc", (fixture / "proc").string(), "--root-sys",
            (fixture / "sys").string(), "run"});
    }
    std::string endpoint_config(bool token = true) const {
        std::string c = "[http]\nlisten = \"127.0.0.1:" + std::to_string(m_port) + "\"\n";
        if (token) c += "bearer_token_file = \"" + (m_dir / "token").string() + "\"\n";
        return c;
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port) + "/metrics"; }
    std::vector<std::string> auth() const { return {"-H", std::string("Authorization: Bearer ") + k_token}; }
    // Waits until a scrape shows a stored tick; returns that scrape.
    Reply scrape_after_a_tick(std::chrono::milliseconds deadline = 20s) {
        Reply r;
        test::wait_until(
            [&] {
                r = curl(url(), auth());
                return r.status == 200 && value_of(r.body, "boxmon_tick_duration_seconds").has_value();
            },
            deadline);
        return r;
    }
    void TearDown() override {
        if (!m_run) return;
        m_run->signal(SIGTERM);
        const auto r = m_run->wait(10s);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        EXPECT_EQ(r.err.find(k_token), std::string::npos) << "the token reached the log";
    }

    test::TempDir m_dir;
    int m_port = 0;
    std::unique_ptr<test::Process> m_run;
};

// The mappings of a running process that name `what`.
std::string mappings_of(pid_t pid, std::string_view what) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/maps");
    std::string out;
    for (std::string line; std::getline(in, line);)
        if (line.find(what) != std::string::npos) out += line + "\n";
    return out;
}

// The endpoint lives in a module (boxmon-http.so): an installation keeps it in ../lib/boxmon/
// from the executable, and a daemon without [http] listen never loads it nor cpp-httplib.
TEST_F(DaemonEndpoint, an_installed_layout_loads_the_module_from_lib_boxmon_and_only_when_asked) {
    const fs::path prefix = m_dir / "prefix";
    fs::create_directories(prefix / "bin");
    fs::create_directories(prefix / "lib" / "boxmon");
    fs::copy_file(test::boxmon_binary(), prefix / "bin" / "boxmon");
    fs::copy_file(test::boxmon_binary().parent_path() / "boxmon-http.so", prefix / "lib" / "boxmon" / "boxmon-http.so");
    start(endpoint_config(), prefix / "bin" / "boxmon");
    const Reply r = scrape_after_a_tick();
    ASSERT_EQ(r.status, 200) << m_run->err();
    EXPECT_NE(mappings_of(m_run->pid(), "boxmon-http.so"), "");
    m_run->signal(SIGTERM);
    ASSERT_EQ(m_run->wait(10s).exit_code, 0);

    start("", prefix / "bin" / "boxmon");  // no [http] listen
    ASSERT_TRUE(m_run->wait_for_err("boxmon running", 20s)) << m_run->err();
    EXPECT_EQ(mappings_of(m_run->pid(), "boxmon-http.so"), "");
    EXPECT_EQ(mappings_of(m_run->pid(), "libcpp-httplib"), "");
    EXPECT_EQ(mappings_of(m_run->pid(), "libssl"), "");
}

TEST_F(DaemonEndpoint, without_its_module_the_daemon_says_what_is_missing_and_exits_1) {
    fs::create_directories(m_dir / "bare" / "bin");
    fs::copy_file(test::boxmon_binary(), m_dir / "bare" / "bin" / "boxmon");
    test::write_file(m_dir / "boxmon.toml", "[general]\ninterval = \"1s\"\n" + endpoint_config(), 0600);
    const auto r = test::run_process({(m_dir / "bare" / "bin" / "boxmon").string(), "--config",
                                      (m_dir / "boxmon.toml").string(), "--state-dir", (m_dir / "state").string(),
                                      "run"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("cannot load the metrics endpoint module boxmon-http.so (not found at "), std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("; reinstall boxmon, or leave [http] listen empty"), std::string::npos) << r.err;
}

TEST_F(DaemonEndpoint, curl_gets_the_sample_and_boxmon_health_which_promtool_accepts) {
    start(endpoint_config());
    const Reply r = scrape_after_a_tick();
    ASSERT_EQ(r.status, 200) << m_run->err();
    for (const char* series :
         {"boxmon_cpu_count_value", "boxmon_mem_used_percent", "boxmon_collector_up{collector=\"cpu\"} 1",
          "boxmon_collector_duration_seconds{collector=\"memory\"}", "boxmon_last_tick_timestamp_seconds",
          "boxmon_tick_duration_seconds", "boxmon_outbox_pending 0", "boxmon_outbox_dead 0",
          "boxmon_store_backlog_ticks 0", "boxmon_store_dropped_ticks_total 0",
          "boxmon_rule_series{phase=\"ok\"}", "boxmon_rule_series{phase=\"firing\"}"})
        EXPECT_NE(r.body.find(series), std::string::npos) << series << " missing from:\n" << r.body;
    const double last_tick = *value_of(r.body, "boxmon_last_tick_timestamp_seconds");
    const double now =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    EXPECT_LT(now - last_tick, 10.0);
    const double tick = *value_of(r.body, "boxmon_tick_duration_seconds");
    EXPECT_GT(tick, 0.0);
    EXPECT_LT(tick, 1.0);
    // The next tick replaces the text.
    ASSERT_TRUE(test::wait_until(
        [&] {
            const auto next = curl(url(), auth());
            const auto t = value_of(next.body, "boxmon_last_tick_timestamp_seconds");
            return t && *t > last_tick;
        },
        10s));
    if (!fs::exists(k_promtool))
        GTEST_SKIP() << k_promtool << " is not installed (Debian package prometheus)";
    test::RunOptions o;
    o.stdin_data = r.body + "\n";
    const auto check = test::run_process({k_promtool, "check", "metrics"}, o);
    EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

TEST_F(DaemonEndpoint, a_missing_or_wrong_token_gets_401_and_no_metrics) {
    start(endpoint_config());
    ASSERT_EQ(scrape_after_a_tick().status, 200) << m_run->err();
    const Reply none = curl(url());
    EXPECT_EQ(none.status, 401);
    EXPECT_EQ(none.body.find("boxmon_cpu"), std::string::npos);
    const Reply wrong = curl(url(), {"-H", "Authorization: Bearer not-the-token"});
    EXPECT_EQ(wrong.status, 401);
    EXPECT_EQ(wrong.body.find("boxmon_cpu"), std::string::npos);
    EXPECT_EQ(wrong.body.find(k_token), std::string::npos);
}

TEST_F(DaemonEndpoint, odd_requests_are_refused_and_sampling_goes_on) {
    start(endpoint_config(false));
    const Reply first = scrape_after_a_tick();
    ASSERT_EQ(first.status, 200) << m_run->err();
    EXPECT_EQ(curl(url(), {"-X", "POST", "-d", "x=1"}).status, 405);
    EXPECT_EQ(curl("http://127.0.0.1:" + std::to_string(m_port) + "/config").status, 404);
    EXPECT_EQ(curl("http://127.0.0.1:" + std::to_string(m_port) + "/../etc/passwd", {"--path-as-is"}).status,
              404);
    // 100 kB of headers (one argument may not exceed 128 KiB): refused (400), or cut off while
    // curl still sends them.
    const Reply huge = curl(url(), {"-H", "X-Big: " + std::string(100'000, 'a')});
    EXPECT_NE(huge.status, 200);
    const auto before = *value_of(first.body, "boxmon_last_tick_timestamp_seconds");
    ASSERT_TRUE(test::wait_until(
        [&] {
            const auto t = value_of(curl(url()).body, "boxmon_last_tick_timestamp_seconds");
            return t && *t >= before + 2;
        },
        10s))
        << m_run->err();
}

// Listening sockets of this host for `port` from the kernel's table (/proc/net/tcp, tcp6):
// "127.0.0.1", "0.0.0.0" or "ipv6".
std::vector<std::string> listeners(int port) {
    std::vector<std::string> out;
    char port_hex[8];
    std::snprintf(port_hex, sizeof port_hex, "%04X", port);
    for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
        std::ifstream in(table);
        std::string line;
        std::getline(in, line);
        while (std::getline(in, line)) {
            std::istringstream f(line);
            std::string sl, local, remote, state;
            f >> sl >> local >> remote >> state;
            if (state != "0A" || local.substr(local.find(':') + 1) != port_hex) continue;
            const std::string addr = local.substr(0, local.find(':'));
            out.push_back(addr == "0100007F" ? "127.0.0.1" : addr == "00000000" ? "0.0.0.0" : "ipv6");
        }
    }
    return out;
}

TEST_F(DaemonEndpoint, a_port_alone_listens_on_loopback_only) {
    start("[http]\nlisten = \"" + std::to_string(m_port) + "\"\n");
    ASSERT_TRUE(m_run->wait_for_err("metrics endpoint: http://127.0.0.1:" + std::to_string(m_port), 15s))
        << m_run->err();
    EXPECT_EQ(listeners(m_port), std::vector<std::string>{"127.0.0.1"});
}

TEST_F(DaemonEndpoint, without_listen_nothing_listens) {
    start("");
    ASSERT_TRUE(m_run->wait_for_err("boxmon running", 15s)) << m_run->err();
    EXPECT_EQ(m_run->err().find("metrics endpoint"), std::string::npos);
    EXPECT_TRUE(listeners(m_port).empty());
    EXPECT_EQ(curl(url()).status, 0);
}

TEST_F(DaemonEndpoint, a_port_in_use_stops_the_start_with_exit_1_and_says_what_to_do) {
    test::HttpReceiver holder;
    ASSERT_TRUE(holder.valid());
    m_port = holder.port();
    start(endpoint_config(false));
    const auto r = m_run->wait(15s);
    m_run.reset();
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("cannot listen on 127.0.0.1:" + std::to_string(m_port) + " ([http] listen)"),
              std::string::npos)
        << r.err;
}

TEST_F(DaemonEndpoint, sighup_moves_the_endpoint_to_a_new_address_and_keeps_it_when_that_cannot_be_bound) {
    start(endpoint_config(false));
    ASSERT_EQ(scrape_after_a_tick().status, 200) << m_run->err();
    const int old_port = m_port;
    m_port = test::free_port();
    test::write_file(
        m_dir / "boxmon.toml",
        "[general]\ninterval = \"1s\"\n[collectors]\ndisable = [\"gpu_nvidia\"]\n" + endpoint_config(false),
        0600);
    m_run->signal(SIGHUP);
    ASSERT_TRUE(m_run->wait_for_err("configuration reloaded", 10s)) << m_run->err();
    EXPECT_TRUE(test::wait_until([&] { return curl(url()).status == 200; }, 5s)) << m_run->err();
    EXPECT_EQ(curl("http://127.0.0.1:" + std::to_string(old_port) + "/metrics").status, 0);
    // A new address held by another program: the current endpoint stays.
    test::HttpReceiver holder;
    ASSERT_TRUE(holder.valid());
    const int kept = m_port;
    m_port = holder.port();
    test::write_file(
        m_dir / "boxmon.toml",
        "[general]\ninterval = \"1s\"\n[collectors]\ndisable = [\"gpu_nvidia\"]\n" + endpoint_config(false),
        0600);
    m_run->signal(SIGHUP);
    ASSERT_TRUE(m_run->wait_for_err("keeping the metrics endpoint as it was", 10s)) << m_run->err();
    m_port = kept;
    EXPECT_EQ(curl(url()).status, 200);
}

// The number of open descriptors of process `pid`.
std::size_t open_fds(pid_t pid) {
    std::error_code ec;
    std::size_t n = 0;
    for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
         !ec && it != fs::directory_iterator(); it.increment(ec))
        ++n;
    return n;
}

int connect_loopback(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return fd;
    if (fd >= 0) ::close(fd);
    return -1;
}

TEST_F(DaemonEndpoint, a_thousand_idle_and_fifty_slow_clients_neither_stop_ticks_nor_exhaust_descriptors) {
    rlimit lim{};
    ::getrlimit(RLIMIT_NOFILE, &lim);
    if (lim.rlim_max < 2200)
        GTEST_SKIP() << "RLIMIT_NOFILE hard limit " << lim.rlim_max << " < 2200 descriptors";
    if (lim.rlim_cur < 2200) {
        lim.rlim_cur = std::min<rlim_t>(lim.rlim_max, 4096);
        ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &lim), 0);
    }
    start(endpoint_config(false));
    const Reply first = scrape_after_a_tick();
    ASSERT_EQ(first.status, 200) << m_run->err();
    const double before = *value_of(first.body, "boxmon_last_tick_timestamp_seconds");

    std::vector<int> idle, slow;
    for (int i = 0; i < 1000; ++i) {
        const int fd = connect_loopback(m_port);
        if (fd >= 0) idle.push_back(fd);
    }
    for (int i = 0; i < 50; ++i) {
        const int fd = connect_loopback(m_port);
        if (fd >= 0) slow.push_back(fd);
    }
    EXPECT_GE(idle.size(), 990u);
    ASSERT_EQ(slow.size(), 50u);
    const std::string head = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    std::atomic<bool> stop{false};
    std::thread trickle([&] {
        for (std::size_t k = 0; !stop && k < 200; ++k) {
            for (const int fd : slow) ::send(fd, &head[k % head.size()], 1, MSG_NOSIGNAL | MSG_DONTWAIT);
            std::this_thread::sleep_for(200ms);
        }
    });
    std::this_thread::sleep_for(500ms);

    // A fresh scrape answers within a second, while the crowd is there.
    const auto t0 = Steady::now();
    const Reply fresh = curl(url());
    const auto took = Steady::now() - t0;
    EXPECT_EQ(fresh.status, 200);
    EXPECT_LT(took, 1s);
    // The daemon holds at most its connection table (256) plus its own files.
    const std::size_t fds = open_fds(m_run->pid());
    EXPECT_LT(fds, 400u);
    EXPECT_LT(fds, 4096u);  // LimitNOFILE of boxmon.service
    // Ticks go on.
    EXPECT_TRUE(test::wait_until(
        [&] {
            const auto t = value_of(curl(url()).body, "boxmon_last_tick_timestamp_seconds");
            return t && *t >= before + 3;
        },
        10s))
        << m_run->err();
    // Every idle and slow client is dropped by the 5 s read timeout (or earlier, to make room).
    const auto all_closed = [&](const std::vector<int>& fds_) {
        for (const int fd : fds_) {
            char b;
            const ssize_t n = ::recv(fd, &b, 1, MSG_DONTWAIT);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
        }
        return true;
    };
    EXPECT_TRUE(test::wait_until([&] { return all_closed(idle); }, 10s)) << "idle clients stayed connected";
    EXPECT_TRUE(test::wait_until([&] { return all_closed(slow); }, 10s)) << "slow clients stayed connected";
    stop = true;
    trickle.join();
    for (const int fd : idle) ::close(fd);
    for (const int fd : slow) ::close(fd);
    EXPECT_LT(open_fds(m_run->pid()), 100u);
}

// Prometheus's target state for job "boxmon" from /api/v1/targets: "up", "down", "unknown" or "".
std::string target_health(int prom_port) {
    const Reply r = curl("http://127.0.0.1:" + std::to_string(prom_port) + "/api/v1/targets");
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.contains("data")) return "";
    for (const auto& t : j["data"]["activeTargets"])
        if (t["labels"]["job"] == "boxmon") return t.value("health", "");
    return "";
}

TEST_F(DaemonEndpoint, a_real_prometheus_scrapes_it_with_the_token_and_the_target_is_up) {
    if (!fs::exists(k_prometheus))
        GTEST_SKIP() << k_prometheus << " is not installed (Debian package prometheus)";
    start(endpoint_config());
    ASSERT_EQ(scrape_after_a_tick().status, 200) << m_run->err();
    const int prom_port = test::free_port();
    test::write_file(m_dir / "prometheus.yml",
                     "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                     "scrape_configs:\n  - job_name: boxmon\n    authorization:\n      credentials_file: " +
                         (m_dir / "token").string() +
                         "\n    static_configs:\n      - targets: [\"127.0.0.1:" + std::to_string(m_port) +
                         "\"]\n",
                     0600);
    test::Process prom({k_prometheus, "--config.file=" + (m_dir / "prometheus.yml").string(),
                        "--storage.tsdb.path=" + (m_dir / "tsdb").string(),
                        "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)});
    std::string health;
    ASSERT_TRUE(test::wait_until([&] { return (health = target_health(prom_port)) == "up"; }, 60s))
        << "target health \"" << health << "\"; prometheus said:\n"
        << prom.err();
    // The query API sees boxmon's series, with the labels Prometheus adds.
    nlohmann::json result;
    ASSERT_TRUE(test::wait_until(
        [&] {
            const Reply q = curl("http://127.0.0.1:" + std::to_string(prom_port) +
                                 "/api/v1/query?query=boxmon_collector_up%7Bcollector%3D%22cpu%22%7D");
            auto j = nlohmann::json::parse(q.body, nullptr, false);
            if (j.is_discarded() || j.value("status", "") != "success") return false;
            result = j["data"]["result"];
            return result.size() == 1;
        },
        20s))
        << result.dump();
    EXPECT_EQ(result[0]["metric"]["job"], "boxmon");
    EXPECT_EQ(result[0]["metric"]["instance"], "127.0.0.1:" + std::to_string(m_port));
    EXPECT_EQ(result[0]["value"][1], "1");
    prom.signal(SIGTERM);
    prom.wait(10s);
}

class DaemonHeartbeat : public DaemonEndpoint {};

TEST_F(DaemonHeartbeat, a_get_follows_each_stored_tick_and_a_hanging_receiver_delays_no_tick) {
    test::HttpReceiver receiver;
    ASSERT_TRUE(receiver.valid());
    const std::string path = "/ping/7d2a-heartbeat-canary";
    start(endpoint_config(false) + "[heartbeat]\nurl = \"" + receiver.url(path) + "\"\ntimeout = \"5s\"\n");
    ASSERT_TRUE(test::wait_until([&] { return receiver.count() >= 3; }, 20s)) << m_run->err();
    for (const auto& r : receiver.requests()) {
        EXPECT_EQ(r.method, "GET");
        EXPECT_EQ(r.path, path);
    }
    // The receiver now hangs (5 s, the timeout): ticks keep their 1 s pace meanwhile.
    receiver.set_reply(test::HttpReceiver::hang(20s));
    const auto start_tick = value_of(curl(url()).body, "boxmon_last_tick_timestamp_seconds");
    ASSERT_TRUE(start_tick);
    const auto t0 = Steady::now();
    ASSERT_TRUE(test::wait_until(
        [&] {
            const auto t = value_of(curl(url()).body, "boxmon_last_tick_timestamp_seconds");
            return t && *t >= *start_tick + 4;
        },
        10s))
        << m_run->err();
    EXPECT_LT(Steady::now() - t0, 7s);
    // The failure shows once, without the URL's path.
    ASSERT_TRUE(m_run->wait_for_err("heartbeat failed", 15s)) << m_run->err();
    const std::string err = m_run->err();
    EXPECT_EQ(err.find("7d2a-heartbeat-canary"), std::string::npos) << err;
    receiver.set_reply(test::HttpReceiver::answer(200));
    EXPECT_TRUE(m_run->wait_for_err("heartbeat: delivered again", 20s)) << m_run->err();
}

}  // namespace
}  // namespace boxmon
