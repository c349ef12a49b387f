// RELIABILITY X2 through the real binary: canary secrets in the SMTP password file, a Slack URL's
// token, a webhook's Authorization header, the user info and path of a failing webhook's URL, and
// in a watched log as the usual secret shapes. Then `sample` (an incident fires and goes out on
// every channel, one failing), `alert test`, `report`, `status --json`, `alerts --json` and
// `config show`, all at --log-level trace. No canary may appear, plain or base64 at any
// alignment, in anything they print or write (the database, its WAL, the report) nor in what the
// receivers got, except where a credential is meant to travel: the SMTP AUTH exchange, the Slack
// URL's path and the Authorization header. The canaries are letters, digits and '-', so their
// percent-encoded form is the plain one.

#include <openssl/evp.h>

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/e2e/e2e_support.hpp"
#include "tests/servers/http_receiver.hpp"
#include "tests/servers/smtp_server.hpp"
#include "tests/servers/test_pki.hpp"

namespace boxmon::test::e2e {
namespace {

namespace fs = std::filesystem;

constexpr const char* k_smtp_password = "CANARY-smtppw-5a1f09";
constexpr const char* k_slack_token = "CANARY-slacktoken-7c3e21";
constexpr const char* k_header_token = "CANARY-hookheader-9d8b44";
constexpr const char* k_dead_user_pw = "CANARY-deadurlpw-1b2c3d";
constexpr const char* k_dead_path_token = "CANARY-deadpath-4e5f6a";

// Log lines in the shapes the redactor knows, each around its own canary.
struct LogSecret {
    const char* line;
    const char* canary;
};
constexpr LogSecret k_log_secrets[] = {
    {"proxy: Authorization: Bearer CANARY-logbearer-000001", "CANARY-logbearer-000001"},
    {"db: connecting with password=CANARY-logpassword-02", "CANARY-logpassword-02"},
    {"config: api_key: CANARY-logapikey-000003", "CANARY-logapikey-000003"},
    {"-----BEGIN PRIVATE KEY-----CANARY-logpem-0000004", "CANARY-logpem-0000004"},
    {"client: key sk-CANARY-logopenai-000005", "CANARY-logopenai-000005"},
    {"jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib3htb24ifQ.CANARY-logjwtsig-06", "CANARY-logjwtsig-06"},
    {"fetch https://deploy:CANARY-logurlpw-000007@example.org/repo", "CANARY-logurlpw-000007"},
};

std::string base64(const std::string& bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

// The base64 text that encodes only bytes of `canary`, for each of the three alignments it can
// have inside a longer encoded string.
std::vector<std::string> base64_forms(const std::string& canary) {
    std::vector<std::string> forms;
    for (std::size_t lead = 0; lead < 3; ++lead) {
        const std::string in = std::string(lead, 'x') + canary;
        const std::string encoded = base64(in);
        const std::size_t first_group = lead == 0 ? 0 : 1;  // groups 3g..3g+2 wholly inside the canary
        const std::size_t groups = in.size() / 3;
        forms.push_back(encoded.substr(first_group * 4, (groups - first_group) * 4));
    }
    return forms;
}

// Each canary found in `text`, in any form, as "canary (form) in where".
void find_canaries(const std::string& where, const std::string& text, const std::vector<std::string>& canaries,
                   std::vector<std::string>& hits) {
    for (const auto& canary : canaries) {
        if (text.find(canary) != std::string::npos) hits.push_back(fmt::format("{} in {}", canary, where));
        for (const auto& form : base64_forms(canary))
            if (text.find(form) != std::string::npos)
                hits.push_back(fmt::format("{} (base64 {}) in {}", canary, form, where));
    }
}

class SecretSweep : public ::testing::Test {
protected:
    void SetUp() override {
        m_pki = TestPki::get();
        if (m_pki == nullptr) GTEST_SKIP() << "python3-trustme could not make the test CA";
        write_file(m_dir / "smtp-password", k_smtp_password, 0600);
        write_file(m_dir / "hook-authorization", fmt::format("Bearer {}", k_header_token), 0600);
        std::string log = "chat-server: started\n";
        for (const auto& s : k_log_secrets) log += std::string(s.line) + "\n";
        write_file(m_dir / "app.log", log);
        m_canaries = {k_smtp_password, k_slack_token, k_header_token, k_dead_user_pw, k_dead_path_token};
        for (const auto& s : k_log_secrets) m_canaries.emplace_back(s.canary);
    }

    std::string config(int smtp_port, int hook_port, int closed_port) const {
        return fmt::format(
            "[general]\ninterval = \"1s\"\nhostname = \"sweep-box\"\n"
            "[collectors]\ndisable = [\"gpu_nvidia\", \"gpu_amd\", \"services\"]\n"
            "[logs]\napp = \"{app}\"\n"
            "[rule_defaults]\nbuiltin = false\n"
            "[alerting]\ndefault_channels = [\"mail\", \"chat\", \"hook\", \"down\"]\nsample_budget = \"8s\"\n"
            "[[rules]]\nname = \"always\"\nmetric = \"mem_used_percent\"\nop = \">=\"\ncritical = 0\nfor = 1\n"
            "logs = [\"app\"]\n"
            "[[channels]]\nname = \"mail\"\ntype = \"smtp\"\nurl = \"smtp://127.0.0.1:{smtp}\"\n"
            "ca_file = \"{ca}\"\nfrom = \"boxmon@example.org\"\nto = [\"ops@example.org\"]\nusername = \"alerts\"\n"
            "password_file = \"{pw}\"\nconnect_timeout = \"2s\"\ntimeout = \"5s\"\n"
            "[[channels]]\nname = \"chat\"\ntype = \"slack\"\n"
            "url = \"http://127.0.0.1:{hook}/services/T000/B000/{slack}\"\nconnect_timeout = \"2s\"\n"
            "[[channels]]\nname = \"hook\"\ntype = \"webhook\"\nurl = \"http://127.0.0.1:{hook}/hook\"\n"
            "headers = {{ Authorization = {{ value_file = \"{hdr}\" }} }}\nconnect_timeout = \"2s\"\n"
            "[[channels]]\nname = \"down\"\ntype = \"webhook\"\n"
            "url = \"http://ops:{dead_pw}@127.0.0.1:{closed}/in/{dead_path}\"\nconnect_timeout = \"1s\"\n",
            fmt::arg("app", (m_dir / "app.log").string()), fmt::arg("smtp", smtp_port),
            fmt::arg("ca", m_pki->ca().string()), fmt::arg("pw", (m_dir / "smtp-password").string()),
            fmt::arg("hook", hook_port), fmt::arg("slack", k_slack_token),
            fmt::arg("hdr", (m_dir / "hook-authorization").string()), fmt::arg("dead_pw", k_dead_user_pw),
            fmt::arg("closed", closed_port), fmt::arg("dead_path", k_dead_path_token));
    }

    const TestPki* m_pki = nullptr;
    TempDir m_dir;
    std::vector<std::string> m_canaries;
};

TEST_F(SecretSweep, no_canary_leaves_through_output_state_report_or_receivers) {
    SmtpServer smtp({"--cert", m_pki->cert("server").string(), "--key", m_pki->key("server").string(), "--auth",
                     std::string("alerts:") + k_smtp_password});
    ASSERT_TRUE(smtp.ready()) << smtp.why();
    HttpReceiver rx;
    ASSERT_TRUE(rx.valid());
    const int closed = free_port();
    Boxmon boxmon(m_dir.path(), config(smtp.port(), rx.port(), closed), {"--log-level", "trace"});

    std::vector<std::string> hits;
    auto run = [&](const std::vector<std::string>& args, bool must_succeed = true) {
        const auto r = boxmon.cli(args, 60s);
        std::string name = "boxmon";
        for (const auto& a : args) name += " " + a;
        if (must_succeed) {
            EXPECT_EQ(r.exit_code, 0) << name << ":\n" << r.err;
        }
        find_canaries(name + " stdout", r.out, m_canaries, hits);
        find_canaries(name + " stderr", r.err, m_canaries, hits);
        return r;
    };

    const auto sample = run({"sample"});
    // The incident went out on the three working channels with the log tail, redacted.
    // (aiosmtpd files a message a moment after its 250.)
    ASSERT_TRUE(poll_until([&] { return smtp.messages().size() == 1 && rx.count() == 2; }, 10s))
        << smtp.messages().size() << " mails, " << rx.count() << " webhooks:\n"
        << sample.err;
    EXPECT_NE(mail_body(smtp.messages()[0]).find("password=[REDACTED]"), std::string::npos)
        << "the log tail went out redacted:\n"
        << mail_body(smtp.messages()[0]);
    EXPECT_NE(sample.err.find("could not connect"), std::string::npos) << "the failing channel's error path ran:\n"
                                                                        << sample.err;
    run({"alert", "test"}, false);  // "down" fails, so the exit status says so
    EXPECT_GE(rx.count(), 4u);
    const auto report = run({"report", "--out", (m_dir / "report").string()});
    run({"status", "--json"}, false);  // 3 when the sample is already older than three intervals
    run({"alerts", "--json", "--since", "1h"});
    const auto shown = run({"config", "show"});
    EXPECT_NE(shown.out.find("<secret>"), std::string::npos) << shown.out;

    // Everything boxmon wrote: the database and its WAL and shared memory, the report.
    std::size_t files = 0;
    for (const fs::path& dir : {m_dir / "state", m_dir / "report"}) {
        ASSERT_TRUE(fs::is_directory(dir)) << dir;
        for (const auto& entry : fs::recursive_directory_iterator(dir)) {
            if (!entry.is_regular_file()) continue;
            ++files;
            find_canaries(entry.path().string(), read_file(entry.path()), m_canaries, hits);
        }
    }
    EXPECT_GE(files, 2u) << "the database and the report";

    // What the receivers got, less the credential each is meant to get.
    for (const auto& mail : smtp.messages()) {
        find_canaries("a received mail", mail, m_canaries, hits);
        find_canaries("a received mail's decoded body", mail_body(mail), m_canaries, hits);
    }
    for (const auto& request : rx.requests()) {
        find_canaries("a webhook body " + request.path, request.body, m_canaries, hits);
        for (const auto& [name, value] : request.headers)
            if (name != "Authorization") find_canaries("webhook header " + name, value, m_canaries, hits);
        if (request.path.find("/services/") != 0)
            find_canaries("a webhook path", request.path, m_canaries, hits);
    }
    // The credentials did travel where they are meant to, so the check above saw real traffic.
    bool header_sent = false;
    for (const auto& request : rx.requests())
        header_sent |= request.header("Authorization") == fmt::format("Bearer {}", k_header_token);
    EXPECT_TRUE(header_sent);
    EXPECT_NE(smtp.commands().find("AUTH"), std::string::npos) << smtp.commands();

    std::string all;
    for (const auto& h : hits) all += "  " + h + "\n";
    EXPECT_TRUE(hits.empty()) << hits.size() << " canary hits:\n" << all;
}

}  // namespace
}  // namespace boxmon::test::e2e
