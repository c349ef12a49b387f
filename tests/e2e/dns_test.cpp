// RELIABILITY D9: DNS failures on the way to a receiver. `boxmon alert test` runs in a network
// and mount namespace of its own (tests/servers/fake_dns.py under `unshare -m -n`) whose only
// resolver is 127.0.0.1:53, which is (a) absent, (b) a socket that swallows every query, or (c)
// answers NXDOMAIN. For an HTTP channel (a Slack-style webhook whose URL carries a token) and
// for the SMTP channel, each attempt must end within its timeout with a retryable error that
// names the host and nothing secret. Skipped, saying why, where namespaces cannot be made.

#include <curl/curl.h>

#include <gtest/gtest.h>

#include <chrono>
#include <ostream>
#include <string>

#include <fmt/format.h>

#include "tests/e2e/e2e_support.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon::test::e2e {
namespace {

constexpr const char* k_unshare = "/usr/bin/unshare";
constexpr const char* k_token = "T0K3N-d9-canary-4711";
constexpr const char* k_password = "pw-d9-canary-0815";
// Bounds of one attempt (the channel's connect timeout is 2 s, its total timeout 4 s). The
// swallowing resolver alone would take 10 s (timeout:5 attempts:2 in its resolv.conf).
constexpr auto k_connect_timeout = std::chrono::seconds(2);
constexpr double k_fast_bound_s = 5.0;  // refused or NXDOMAIN: about at once (plus start-up)
constexpr double k_slow_bound_s = 2.0 + 5.0;

struct Case {
    const char* mode;
    const char* channel;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.mode << " resolver, channel " << c.channel; }

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
    return fmt::format("{}_{}", info.param.mode, info.param.channel);
}

class FakeDns : public ::testing::TestWithParam<Case> {
protected:
    void SetUp() override {
        if (!std::filesystem::exists(k_unshare)) GTEST_SKIP() << k_unshare << " is missing (Debian package util-linux)";
        const auto probe = run_process({k_unshare, "-m", "-n", "--", "/bin/true"});
        if (probe.exit_code != 0)
            GTEST_SKIP() << "cannot create network and mount namespaces here (unshare -m -n: " << probe.err
                         << "); RELIABILITY D9 needs root or CAP_SYS_ADMIN";
        const curl_version_info_data* v = curl_version_info(CURLVERSION_NOW);
        if ((v->features & CURL_VERSION_ASYNCHDNS) == 0)
            GTEST_SKIP() << "libcurl " << v->version << " resolves synchronously (no AsynchDNS): a swallowed "
                         << "query could outlast the timeout";
        write_file(m_dir / "smtp-password", k_password, 0600);
        const std::string config = fmt::format(
            "[general]\ninterval = \"1s\"\n"
            "[[channels]]\nname = \"chat\"\ntype = \"slack\"\n"
            "url = \"https://webhook.test:8443/services/T000/B000/{}\"\n"
            "connect_timeout = \"{}s\"\ntimeout = \"4s\"\n"
            "[[channels]]\nname = \"mail\"\ntype = \"smtp\"\nurl = \"smtp://smtp.test:2525\"\n"
            "from = \"boxmon@example.org\"\nto = [\"ops@example.org\"]\nusername = \"alerts\"\n"
            "password_file = \"{}\"\nconnect_timeout = \"{}s\"\ntimeout = \"4s\"\n",
            k_token, k_connect_timeout.count(), (m_dir / "smtp-password").string(), k_connect_timeout.count());
        m_boxmon = std::make_unique<Boxmon>(m_dir.path(), config);
    }

    TempDir m_dir;
    std::unique_ptr<Boxmon> m_boxmon;
};

TEST_P(FakeDns, each_attempt_ends_in_time_with_a_retryable_error_naming_the_host) {
    const Case c = GetParam();
    const std::string host = std::string(c.channel) == "chat" ? "webhook.test" : "smtp.test";
    const auto start = std::chrono::steady_clock::now();
    RunOptions o;
    o.timeout = std::chrono::seconds(60);
    const auto r = run_process({k_unshare, "-m", "-n", "--", python3(), (source_dir() / "tests/servers/fake_dns.py").string(),
                                "--mode", c.mode, "--dir", (m_dir / "dns").string(), "--", boxmon_binary().string(),
                                "--config", m_boxmon->config_path().string(), "--state-dir", (m_dir / "state").string(),
                                "alert", "test", "--channel", c.channel},
                               o);
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (r.exit_code == 77) GTEST_SKIP() << "the fake resolver could not be set up: " << r.err;
    const std::string output = r.out + r.err;

    EXPECT_EQ(r.exit_code, 1) << "a delivery failure, not a configuration error: " << output;
    EXPECT_NE(output.find(fmt::format("{}: FAILED", c.channel)), std::string::npos) << output;
    EXPECT_NE(output.find("(would be retried)"), std::string::npos) << "DNS can come back: " << output;
    EXPECT_NE(output.find(host), std::string::npos) << "the error names the host: " << output;
    if (std::string(c.mode) == "swallow") {
        EXPECT_NE(output.find("timed out"), std::string::npos) << output;
        EXPECT_LT(took, k_slow_bound_s) << "the lookup must end by the connect timeout: " << output;
    } else {
        EXPECT_NE(output.find(fmt::format("could not resolve host (Could not resolve host: {})", host)),
                  std::string::npos)
            << output;
        EXPECT_NE(output.find("check the host name and DNS"), std::string::npos) << output;
        EXPECT_LT(took, k_fast_bound_s) << output;
    }
    EXPECT_EQ(output.find(k_token), std::string::npos) << "the webhook token leaked: " << output;
    EXPECT_EQ(output.find(k_password), std::string::npos) << "the SMTP password leaked: " << output;
    const std::string queries = read_file(m_dir / "dns" / "queries.log");
    if (std::string(c.mode) == "absent") {
        EXPECT_TRUE(queries.empty()) << queries;
    } else {
        EXPECT_NE(queries.find(host), std::string::npos) << "the fake resolver was not the one asked: " << queries;
    }
}

INSTANTIATE_TEST_SUITE_P(D9, FakeDns,
                         ::testing::Values(Case{"absent", "chat"}, Case{"swallow", "chat"}, Case{"nxdomain", "chat"},
                                           Case{"absent", "mail"}, Case{"swallow", "mail"}, Case{"nxdomain", "mail"}),
                         case_name);

}  // namespace
}  // namespace boxmon::test::e2e
