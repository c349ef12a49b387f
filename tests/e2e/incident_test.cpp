// The whole system of DESIGN §4 and §5 as the operator meets it: `boxmon run` with the built-in
// rules only, a CPU held above 90 %, one email over STARTTLS with AUTH (aiosmtpd under the test
// CA) and one Slack-style webhook (cpp-httplib), each carrying the log tail and the recent
// values; nothing more while the incident lasts (past the cooldown, across a daemon restart);
// one resolution each when the CPU calms down; and `boxmon rules backtest` on the database finds
// the same incident. Then the same with both receivers down for several ticks: every
// notification arrives exactly once per incident id, in order.
//
// The CPU is stress-ng on the real /proc when the machine is quiet enough for it to decide
// cpu_percent; otherwise (another job keeps it busy) a scripted fixture /proc, and the test
// prints why. These tests run alone (RUN_SERIAL): a busy neighbour would blur both.

#include <gtest/gtest.h>

#include <iostream>

#include <fmt/format.h>

#include "tests/e2e/e2e_support.hpp"
#include "tests/servers/http_receiver.hpp"
#include "tests/servers/smtp_server.hpp"
#include "tests/servers/test_pki.hpp"

namespace boxmon::test::e2e {
namespace {

constexpr const char* k_password = "smtp-pw-e2e-canary-271828";
constexpr const char* k_token = "XOXB-e2e-canary-314159";
constexpr const char* k_log_line = "chat-server: worker 7 stalled, queue depth 311";
constexpr auto k_cooldown = std::chrono::seconds(5);

class IncidentScenario : public ::testing::Test {
protected:
    void SetUp() override {
        m_pki = TestPki::get();
        if (m_pki == nullptr) GTEST_SKIP() << "python3-trustme could not make the test CA";
        std::string why;
        m_cpu = choose_cpu_load(m_dir / "cpu", why);
        std::cout << "CPU load: " << m_cpu->name() << " (" << why << ")\n";
        write_file(m_dir / "smtp-password", k_password, 0600);
        write_file(m_dir / "app.log",
                   fmt::format("chat-server: started\nchat-server: model loaded in 4.1 s\n{}\n", k_log_line));
    }

    std::vector<std::string> smtp_args() const {
        return {"--cert", m_pki->cert("server").string(), "--key", m_pki->key("server").string(), "--auth",
                std::string("alerts:") + k_password};
    }

    // Built-in rules only; nothing but the CPU collected, so another built-in rule (a full disk
    // on this host, a busy network) cannot add messages that are not the scenario's.
    std::string config(int smtp_port, int webhook_port) const {
        return fmt::format(
            "[general]\ninterval = \"1s\"\nhostname = \"e2e-box\"\n"
            "[collectors]\ndisable = [\"memory\", \"pressure\", \"network\", \"filesystem\", \"diskio\", "
            "\"temperature\", \"gpu_nvidia\", \"gpu_amd\", \"services\"]\n"
            "[rule_defaults]\ncooldown = \"{}s\"\nlogs = [\"app\"]\n"
            "[logs]\napp = \"{}\"\n"
            "[alerting]\ndefault_channels = [\"mail\", \"chat\"]\nretry_min = \"1s\"\nretry_max = \"2s\"\n"
            "window = \"1m\"\n"
            "[[channels]]\nname = \"mail\"\ntype = \"smtp\"\nurl = \"smtp://127.0.0.1:{}\"\nstarttls = \"required\"\n"
            "ca_file = \"{}\"\nfrom = \"boxmon@example.org\"\nto = [\"ops@example.org\"]\nusername = \"alerts\"\n"
            "password_file = \"{}\"\nconnect_timeout = \"2s\"\ntimeout = \"5s\"\n"
            "[[channels]]\nname = \"chat\"\ntype = \"slack\"\n"
            "url = \"http://127.0.0.1:{}/services/T000/B000/{}\"\nconnect_timeout = \"2s\"\ntimeout = \"5s\"\n",
            k_cooldown.count(), (m_dir / "app.log").string(), smtp_port, m_pki->ca().string(),
            (m_dir / "smtp-password").string(), webhook_port, k_token);
    }

    // Every text that left boxmon towards the owner, for the secret check.
    static std::string everything(const SmtpServer& smtp, const HttpReceiver& hook) {
        std::string all;
        for (const auto& m : smtp.messages()) all += m;
        for (const auto& r : hook.requests()) all += r.body;
        return all;
    }

    const TestPki* m_pki = nullptr;
    TempDir m_dir;
    std::unique_ptr<CpuLoad> m_cpu;
};

// The "text" of a Slack payload.
std::string slack_text(const HttpReceiver::Request& r) {
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    return j.is_object() ? j.value("text", "") : std::string();
}

std::string dump_first(const std::vector<nlohmann::json>& v) { return v.empty() ? "none" : v.front().dump(); }

TEST_F(IncidentScenario, one_incident_one_message_each_through_a_restart_then_one_resolution_and_backtest_agrees) {
    SmtpServer smtp(smtp_args());
    ASSERT_TRUE(smtp.ready()) << smtp.why();
    HttpReceiver hook;
    ASSERT_TRUE(hook.valid());
    Boxmon boxmon(m_dir.path(), config(smtp.port(), hook.port()), m_cpu->boxmon_args());
    m_cpu->idle();
    auto daemon = boxmon.start();
    ASSERT_TRUE(poll_until([&] { return boxmon.last_sample().has_value(); }, 30s)) << daemon->err();

    m_cpu->busy();
    ASSERT_TRUE(poll_until([&] { return smtp.messages().size() == 1 && hook.count() == 1; }, 40s))
        << smtp.messages().size() << " mails, " << hook.count() << " webhooks; " << daemon->err();
    auto incidents = boxmon.incidents("cpu_high");
    ASSERT_EQ(incidents.size(), 1u);
    const std::string id = incidents[0].value("id", "");
    ASSERT_FALSE(id.empty());

    const std::string mail = smtp.messages()[0];
    EXPECT_NE(mail_header(mail, "Subject").find("[CRITICAL] cpu_percent"), std::string::npos) << mail;
    EXPECT_EQ(mail_header(mail, "X-Boxmon-Incident"), id);
    const std::string body = mail_body(mail);
    EXPECT_NE(body.find("Rule:      cpu_high"), std::string::npos) << body;
    EXPECT_NE(body.find("Recent values ("), std::string::npos) << "the metric window: " << body;
    EXPECT_NE(body.find(k_log_line), std::string::npos) << "the log tail: " << body;
    EXPECT_NE(body.find(fmt::format("Incident:  {} (notification 1)", id)), std::string::npos) << body;
    const std::string text = slack_text(hook.requests()[0]);
    EXPECT_NE(text.find("[CRITICAL] cpu_percent"), std::string::npos) << text;
    EXPECT_NE(text.find("Recent values ("), std::string::npos) << text;
    EXPECT_NE(text.find(k_log_line), std::string::npos) << text;
    EXPECT_EQ(hook.requests()[0].header("X-Boxmon-Incident"), id + "#1");
    EXPECT_EQ(hook.requests()[0].path, fmt::format("/services/T000/B000/{}", k_token));

    // A restart in the middle of the incident: the new daemon continues it, quietly.
    ASSERT_EQ(Boxmon::stop(*daemon), 0) << daemon->err();
    daemon = boxmon.start();
    // Past the cooldown and then some, still busy: no second message, no new row.
    ASSERT_TRUE(boxmon.wait_for_ticks(static_cast<int>(k_cooldown.count()) + 3, 40s)) << daemon->err();
    incidents = boxmon.incidents("cpu_high");
    ASSERT_EQ(incidents.size(), 1u) << dump_first(incidents);
    EXPECT_EQ(incidents[0].value("id", ""), id);
    EXPECT_TRUE(incidents[0].at("end").is_null()) << "the CPU is still busy: " << incidents[0].dump();
    EXPECT_EQ(incidents[0].at("deliveries").size(), 2u) << incidents[0].dump();
    EXPECT_EQ(smtp.messages().size(), 1u);
    EXPECT_EQ(hook.count(), 1u);

    m_cpu->idle();
    ASSERT_TRUE(poll_until([&] { return smtp.messages().size() >= 2 && hook.count() >= 2; }, 40s))
        << smtp.messages().size() << " mails, " << hook.count() << " webhooks; " << daemon->err();
    const std::string resolved = smtp.messages()[1];
    EXPECT_NE(mail_header(resolved, "Subject").find("[RESOLVED] cpu_percent"), std::string::npos) << resolved;
    EXPECT_EQ(mail_header(resolved, "X-Boxmon-Incident"), id);
    EXPECT_NE(mail_body(resolved).find(fmt::format("Incident:  {} (notification 2)", id)), std::string::npos)
        << "no lost and no extra notification count across the restart: " << mail_body(resolved);
    EXPECT_NE(slack_text(hook.requests()[1]).find("[RESOLVED] cpu_percent"), std::string::npos);
    EXPECT_EQ(hook.requests()[1].header("X-Boxmon-Incident"), id + "#2");

    ASSERT_TRUE(poll_until(
        [&] {
            incidents = boxmon.incidents("cpu_high");
            if (incidents.size() != 1 || incidents[0].at("end").is_null()) return false;
            const auto& d = incidents[0].at("deliveries");
            return d.size() == 4 && std::all_of(d.begin(), d.end(), [](const auto& x) { return x.value("state", "") == "delivered"; });
        },
        20s))
        << dump_first(incidents);
    ASSERT_EQ(Boxmon::stop(*daemon), 0) << daemon->err();
    EXPECT_EQ(smtp.messages().size(), 2u);
    EXPECT_EQ(hook.count(), 2u);
    const std::string sent = everything(smtp, hook);
    EXPECT_EQ(sent.find(k_password), std::string::npos) << "the SMTP password reached a receiver";
    // The server refuses AUTH before STARTTLS (auth_require_tls), so AUTH here means TLS first.
    EXPECT_NE(smtp.commands().find("AUTH PLAIN"), std::string::npos) << smtp.commands();

    // The recorded history replayed through the same rules finds the same incident.
    const auto bt = boxmon.cli({"rules", "backtest", "--since", "1h", "--json"});
    ASSERT_EQ(bt.exit_code, 0) << bt.err;
    const auto replay = nlohmann::json::parse(bt.out, nullptr, false);
    ASSERT_TRUE(replay.is_object()) << bt.out;
    std::vector<nlohmann::json> replayed;
    for (const auto& i : replay.at("incidents"))
        if (i.value("rule", "") == "cpu_high") replayed.push_back(i);
    ASSERT_EQ(replayed.size(), 1u) << bt.out;
    EXPECT_EQ(replayed[0].value("id", ""), id);
    EXPECT_EQ(replayed[0].at("start"), incidents[0].at("start"));
    EXPECT_EQ(replayed[0].at("end"), incidents[0].at("end"));
    std::vector<std::string> kinds;
    for (const auto& n : replay.at("notifications"))
        if (n.value("rule", "") == "cpu_high") kinds.push_back(n.value("kind", ""));
    EXPECT_EQ(kinds, (std::vector<std::string>{"firing", "resolved"})) << bt.out;
}

TEST_F(IncidentScenario, receivers_down_for_several_ticks_then_up_get_every_notification_once_in_order) {
    const int smtp_port = free_port();
    const int hook_port = free_port();
    Boxmon boxmon(m_dir.path(), config(smtp_port, hook_port), m_cpu->boxmon_args());
    m_cpu->idle();
    auto daemon = boxmon.start();
    ASSERT_TRUE(poll_until([&] { return boxmon.last_sample().has_value(); }, 30s)) << daemon->err();

    // The incident opens and closes while nothing answers: four rows wait, retried.
    m_cpu->busy();
    std::vector<nlohmann::json> incidents;
    ASSERT_TRUE(poll_until(
        [&] {
            incidents = boxmon.incidents("cpu_high");
            if (incidents.size() != 1) return false;
            const auto& d = incidents[0].at("deliveries");
            return d.size() == 2 && std::all_of(d.begin(), d.end(), [](const auto& x) { return x.value("attempts", 0) >= 1; });
        },
        40s))
        << dump_first(incidents) << daemon->err();
    m_cpu->idle();
    ASSERT_TRUE(poll_until(
        [&] {
            incidents = boxmon.incidents("cpu_high");
            return incidents.size() == 1 && !incidents[0].at("end").is_null() && incidents[0].at("deliveries").size() == 4;
        },
        40s))
        << dump_first(incidents);
    const std::string id = incidents[0].value("id", "");
    // Several failed attempts each, the backoff 1 s doubling to 2 s.
    ASSERT_TRUE(poll_until(
        [&] {
            incidents = boxmon.incidents("cpu_high");
            const auto& d = incidents.at(0).at("deliveries");
            return std::all_of(d.begin(), d.end(), [](const auto& x) {
                return x.value("kind", "") != "firing" || x.value("attempts", 0) >= 3;
            });
        },
        40s))
        << dump_first(incidents);
    for (const auto& d : incidents[0].at("deliveries")) {
        EXPECT_EQ(d.value("state", ""), "pending") << d.dump();
        EXPECT_EQ(d.value("last_error", "").find(k_token), std::string::npos) << d.dump();
    }
    // `boxmon status` says what is failing, why and when it is tried next (RELIABILITY D1).
    const auto status = boxmon.cli({"status", "--json"});
    const auto sj = nlohmann::json::parse(status.out, nullptr, false);
    ASSERT_TRUE(sj.is_object()) << status.out << status.err;
    // The firing rows have failed; the resolutions wait behind them untried (order per channel).
    const auto& failing = sj.at("outbox").at("failing");
    EXPECT_EQ(failing.size(), 2u) << failing.dump();
    EXPECT_EQ(sj.at("outbox").value("pending", 0), 4) << sj.at("outbox").dump();
    for (const auto& f : failing) {
        EXPECT_NE(f.value("last_error", "").find("could not connect"), std::string::npos) << f.dump();
        EXPECT_TRUE(f.contains("next_attempt")) << f.dump();
    }
    const auto text = boxmon.cli({"status"});
    EXPECT_NE(text.out.find("failing: firing " + id + "#1 via chat"), std::string::npos) << text.out;

    // The webhook receiver comes back first, then the mail server.
    HttpReceiver hook(hook_port);
    ASSERT_TRUE(hook.valid()) << "port " << hook_port << " was taken meanwhile";
    ASSERT_TRUE(poll_until([&] { return hook.count() >= 2; }, 30s)) << hook.count() << " webhooks; " << daemon->err();
    SmtpServer smtp(smtp_args(), smtp_port);
    ASSERT_TRUE(smtp.ready()) << smtp.why();
    ASSERT_TRUE(poll_until([&] { return smtp.messages().size() >= 2; }, 30s)) << smtp.messages().size() << " mails";

    ASSERT_TRUE(poll_until(
        [&] {
            const auto j = boxmon.alerts();
            return j.is_object() && j.at("outbox").value("pending", -1) == 0;
        },
        20s));
    incidents = boxmon.incidents("cpu_high");
    ASSERT_EQ(incidents.size(), 1u);
    for (const auto& d : incidents[0].at("deliveries")) EXPECT_EQ(d.value("state", ""), "delivered") << d.dump();
    ASSERT_EQ(Boxmon::stop(*daemon), 0) << daemon->err();

    // Exactly once each, firing before resolved, one incident id.
    ASSERT_EQ(hook.count(), 2u);
    EXPECT_EQ(hook.requests()[0].header("X-Boxmon-Incident"), id + "#1");
    EXPECT_EQ(hook.requests()[1].header("X-Boxmon-Incident"), id + "#2");
    EXPECT_NE(slack_text(hook.requests()[0]).find("[CRITICAL]"), std::string::npos);
    EXPECT_NE(slack_text(hook.requests()[1]).find("[RESOLVED]"), std::string::npos);
    const auto mails = smtp.messages();
    ASSERT_EQ(mails.size(), 2u);
    EXPECT_EQ(mail_header(mails[0], "X-Boxmon-Incident"), id);
    EXPECT_EQ(mail_header(mails[1], "X-Boxmon-Incident"), id);
    EXPECT_NE(mail_header(mails[0], "Subject").find("[CRITICAL]"), std::string::npos);
    EXPECT_NE(mail_header(mails[1], "Subject").find("[RESOLVED]"), std::string::npos);
    EXPECT_NE(mail_body(mails[0]).find(k_log_line), std::string::npos) << "the tail read when it fired";
}

}  // namespace
}  // namespace boxmon::test::e2e
