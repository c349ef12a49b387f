// Health checks against real things on loopback: a small Python HTTP server (healthy, 500,
// hanging, dripping), a TCP port nobody listens on, and commands run without a shell.

#include <gtest/gtest.h>

#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "collector/services/checks.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon::collector::services {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* k_server = R"PY(
import http.server, socketserver, sys, time
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        if self.path == "/ok":
            body = b"status: healthy\n"
            self.send_response(200)
        elif self.path == "/fail":
            body = b"internal error\n"
            self.send_response(500)
        elif self.path == "/hang":
            time.sleep(3600)
            return
        elif self.path == "/drip":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for _ in range(1000):
                self.wfile.write(b"x"); self.wfile.flush(); time.sleep(0.5)
            return
        else:
            body = b"?"
            self.send_response(404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
class S(http.server.ThreadingHTTPServer):
    daemon_threads = True
s = S(("127.0.0.1", int(sys.argv[1])), H)
print("ready", flush=True)
s.serve_forever()
)PY";

class HttpServer {
public:
    HttpServer() : m_port(test::free_port()) {
        test::write_file(m_dir / "server.py", k_server);
        m_proc = std::make_unique<test::Process>(
            std::vector<std::string>{test::python3(), (m_dir / "server.py").string(), std::to_string(m_port)});
        m_ready = m_proc->wait_for_out("ready", 20s);
    }
    bool ready() const { return m_ready; }
    std::string url(std::string_view path) const { return fmt::format("http://127.0.0.1:{}{}", m_port, path); }
    int port() const { return m_port; }

private:
    test::TempDir m_dir;
    int m_port;
    std::unique_ptr<test::Process> m_proc;
    bool m_ready = false;
};

CheckConfig http_check(std::string url, std::chrono::milliseconds timeout = 5s) {
    CheckConfig c;
    c.type = CheckConfig::Type::http;
    c.name = "http0";
    c.url = std::move(url);
    c.timeout = timeout;
    return c;
}

CheckConfig tcp_check(std::string address, std::chrono::milliseconds timeout = 2s) {
    CheckConfig c;
    c.type = CheckConfig::Type::tcp;
    c.name = "tcp0";
    c.address = std::move(address);
    c.timeout = timeout;
    return c;
}

CheckConfig command_check(std::vector<std::string> argv, std::chrono::milliseconds timeout = 5s) {
    CheckConfig c;
    c.type = CheckConfig::Type::command;
    c.name = "cmd0";
    c.command = std::move(argv);
    c.timeout = timeout;
    return c;
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

class ServicesHttpCheck : public ::testing::Test {
protected:
    static void SetUpTestSuite() { s_server = new HttpServer(); }
    static void TearDownTestSuite() {
        delete s_server;
        s_server = nullptr;
    }
    void SetUp() override { ASSERT_TRUE(s_server->ready()) << "the Python test server did not start"; }
    static HttpServer* s_server;
};
HttpServer* ServicesHttpCheck::s_server = nullptr;

TEST_F(ServicesHttpCheck, HealthyEndpointIsUpWithItsLatency) {
    auto c = http_check(s_server->url("/ok"));
    c.body_contains = "healthy";
    const auto o = run_check(c, c.timeout);
    EXPECT_TRUE(o.ran);
    EXPECT_TRUE(o.up) << o.detail;
    EXPECT_EQ(o.detail, "");
    EXPECT_GT(o.latency_seconds, 0.0);
    EXPECT_LT(o.latency_seconds, 5.0);
}

TEST_F(ServicesHttpCheck, AnswerOf500IsDownAndSaysSo) {
    const auto url = s_server->url("/fail");
    const auto o = run_check(http_check(url), 5s);
    EXPECT_FALSE(o.up);
    EXPECT_EQ(o.detail, fmt::format("GET {} answered 500, expected 2xx", url));
}

TEST_F(ServicesHttpCheck, ExpectedStatusOtherThan2xxIsHonoured) {
    auto c = http_check(s_server->url("/fail"));
    c.expect_status = 500;
    EXPECT_TRUE(run_check(c, 5s).up);
    c.url = s_server->url("/ok");
    EXPECT_FALSE(run_check(c, 5s).up);
}

TEST_F(ServicesHttpCheck, HeadCheckEndsWithoutWaitingForABody) {
    auto c = http_check(s_server->url("/ok"), 2s);
    c.method = "HEAD";
    const auto start = Clock::now();
    const auto o = run_check(c, c.timeout);
    EXPECT_TRUE(o.up) << o.detail;
    EXPECT_LT(seconds_since(start), 1.0);
}

TEST_F(ServicesHttpCheck, BodyWithoutTheExpectedTextIsDown) {
    auto c = http_check(s_server->url("/ok"));
    c.body_contains = "ready for traffic";
    const auto o = run_check(c, 5s);
    EXPECT_FALSE(o.up);
    EXPECT_EQ(o.detail, "the answer (first 16 bytes) does not contain \"ready for traffic\"");
}

TEST_F(ServicesHttpCheck, ServerThatNeverAnswersEndsWithinTheTimeout) {
    const auto start = Clock::now();
    const auto o = run_check(http_check(s_server->url("/hang"), 1s), 1s);
    const double took = seconds_since(start);
    EXPECT_FALSE(o.up);
    EXPECT_FALSE(o.detail.empty());
    EXPECT_GE(took, 0.9);
    EXPECT_LT(took, 2.0) << "the check must end by its own timeout (RELIABILITY D6)";
}

TEST_F(ServicesHttpCheck, SlowLorisBodyEndsWithinTheTimeout) {
    const auto start = Clock::now();
    const auto o = run_check(http_check(s_server->url("/drip"), 1500ms), 1500ms);
    EXPECT_FALSE(o.up);
    EXPECT_LT(seconds_since(start), 2.5) << o.detail;
}

TEST(ServicesTcpCheck, ListeningPortIsUpAndAClosedOneIsDownAtOnce) {
    HttpServer server;
    ASSERT_TRUE(server.ready());
    const auto up = run_check(tcp_check(fmt::format("127.0.0.1:{}", server.port())), 2s);
    EXPECT_TRUE(up.up) << up.detail;

    const int closed = test::free_port();
    const auto start = Clock::now();
    const auto down = run_check(tcp_check(fmt::format("127.0.0.1:{}", closed)), 2s);
    EXPECT_FALSE(down.up);
    EXPECT_EQ(down.detail, fmt::format("connect to 127.0.0.1:{}: Connection refused", closed));
    EXPECT_LT(seconds_since(start), 1.0) << "a refused connection must not wait for the timeout";
}

TEST(ServicesTcpCheck, Ipv6LoopbackAndLocalhostResolve) {
    const int closed = test::free_port();
    const auto v6 = run_check(tcp_check(fmt::format("[::1]:{}", closed)), 2s);
    EXPECT_FALSE(v6.up);
    EXPECT_NE(v6.detail.find("connect to [::1]:"), std::string::npos) << v6.detail;
    HttpServer server;
    ASSERT_TRUE(server.ready());
    const auto named = run_check(tcp_check(fmt::format("localhost:{}", server.port())), 2s);
    EXPECT_TRUE(named.up) << named.detail;
}

// RELIABILITY D9 (b): a resolver that swallows queries. In a child with its own network and
// mount namespaces (root only), loopback comes up, a UDP socket on 127.0.0.1:53 never answers
// and a resolv.conf naming it is bind-mounted over /etc/resolv.conf. Exit codes: 0 ok, 10 the
// check did not end in time, 11 it was up, 20+ setup failed (the test skips and says which).
int swallowing_dns_child(const std::filesystem::path& resolv) {
    if (unshare(CLONE_NEWNS | CLONE_NEWNET) != 0) return 20;
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return 21;
    const int ctl = socket(AF_INET, SOCK_DGRAM, 0);
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    if (ctl < 0 || ioctl(ctl, SIOCGIFFLAGS, &ifr) != 0) return 22;
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    if (ioctl(ctl, SIOCSIFFLAGS, &ifr) != 0) return 23;
    const int dns = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(53);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (dns < 0 || bind(dns, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return 24;
    if (mount(resolv.c_str(), "/etc/resolv.conf", nullptr, MS_BIND, nullptr) != 0) return 25;
    const auto start = Clock::now();
    const auto o = run_check(tcp_check("boxmon-d9.test:80", 1s), 1s);
    if (seconds_since(start) > 1.8) return 10;
    return o.up ? 11 : 0;
}

TEST(ServicesTcpCheck, ResolverThatSwallowsQueriesEndsWithinTheTimeout) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root for network and mount namespaces (RELIABILITY D9)";
    test::TempDir tmp;
    const auto resolv = tmp / "resolv.conf";
    test::write_file(resolv, "nameserver 127.0.0.1\noptions timeout:5 attempts:3\n");
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) _exit(swallowing_dns_child(resolv));
    int status = 0;
    const auto start = Clock::now();
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    const int code = WEXITSTATUS(status);
    if (code >= 20) GTEST_SKIP() << "could not set up the fake resolver (step " << code << "), e.g. no CAP_SYS_ADMIN";
    EXPECT_EQ(code, 0) << "10: the lookup outlived the check's 1 s timeout; 11: the check was up";
    EXPECT_LT(seconds_since(start), 5.0);
}

TEST(ServicesTcpCheck, MalformedAddressIsDownWithTheReason) {
    const auto o = run_check(tcp_check("127.0.0.1"), 1s);
    EXPECT_FALSE(o.up);
    EXPECT_EQ(o.detail, "address \"127.0.0.1\" is not host:port");
    std::string host;
    std::string port;
    EXPECT_TRUE(split_host_port("[::1]:80", host, port));
    EXPECT_EQ(host, "::1");
    EXPECT_EQ(port, "80");
    EXPECT_FALSE(split_host_port("::1:80", host, port));
    EXPECT_FALSE(split_host_port("host:http", host, port));
}

TEST(ServicesCommandCheck, ExitZeroIsUpAndExitOneIsDownWithItsStderr) {
    EXPECT_TRUE(run_check(command_check({"/bin/true"}), 5s).up);
    const auto o = run_check(command_check({test::python3(), "-c", "import sys; sys.stderr.write('db unreachable'); sys.exit(1)"}), 5s);
    EXPECT_FALSE(o.up);
    EXPECT_EQ(o.detail, fmt::format("{} exited with 1: db unreachable", test::python3()));
}

TEST(ServicesCommandCheck, CommandSleepingPastItsTimeoutIsKilledInTime) {
    const auto start = Clock::now();
    const auto o = run_check(command_check({"/bin/sleep", "30"}, 500ms), 500ms);
    EXPECT_FALSE(o.up);
    EXPECT_EQ(o.detail, "/bin/sleep ran longer than 500 ms and was killed");
    EXPECT_LT(seconds_since(start), 2.0);
}

TEST(ServicesCommandCheck, ArgumentsReachTheProgramWithoutAShell) {
    test::TempDir tmp;
    const auto pwned = tmp / "pwned";
    const auto o = run_check(command_check({"/bin/echo", fmt::format("$(touch {}); `touch {}`", pwned.string(), pwned.string())}), 5s);
    EXPECT_TRUE(o.up) << o.detail;
    EXPECT_FALSE(std::filesystem::exists(pwned)) << "RELIABILITY X5: no shell between config and process";
    const auto missing = run_check(command_check({"/nonexistent/healthcheck"}), 5s);
    EXPECT_FALSE(missing.up);
    EXPECT_NE(missing.detail.find("/nonexistent/healthcheck"), std::string::npos) << missing.detail;
}

TEST(ServicesCheckPool, HangingChecksRunInParallelAndEndByTheirTimeouts) {
    std::vector<CheckConfig> configs;
    for (int i = 0; i < 8; ++i) configs.push_back(command_check({"/bin/sleep", "30"}, 1s));
    configs.push_back(command_check({"/bin/true"}, 1s));
    std::vector<const CheckConfig*> ptrs;
    for (const auto& c : configs) ptrs.push_back(&c);
    const auto start = Clock::now();
    const auto out = run_checks(ptrs, 8, start + 10s);
    EXPECT_LT(seconds_since(start), 2.5) << "eight 1 s checks on eight threads take about 1 s, not 8";
    ASSERT_EQ(out.size(), 9u);
    for (std::size_t i = 0; i < 8; ++i) {
        EXPECT_TRUE(out[i].ran);
        EXPECT_FALSE(out[i].up);
    }
    EXPECT_TRUE(out[8].up) << out[8].detail;
}

TEST(ServicesCheckPool, DeadlineCutsTheBatchShortAndMarksWhatDidNotRun) {
    std::vector<CheckConfig> configs;
    for (int i = 0; i < 6; ++i) configs.push_back(command_check({"/bin/sleep", "30"}, 5s));
    std::vector<const CheckConfig*> ptrs;
    for (const auto& c : configs) ptrs.push_back(&c);
    const auto start = Clock::now();
    const auto out = run_checks(ptrs, 2, start + 1s);
    EXPECT_LT(seconds_since(start), 2.0) << "the batch deadline bounds every check";
    ASSERT_EQ(out.size(), 6u);
    EXPECT_TRUE(out[0].ran);
    EXPECT_TRUE(out[1].ran);
    EXPECT_FALSE(out[5].ran) << "two threads, 1 s budget, 5 s checks: the last ones never start";
}

}  // namespace
}  // namespace boxmon::collector::services
