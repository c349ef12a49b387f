// The conformance suite every HTTP channel passes (STYLE rule 20): retry classification over the
// status table, transport failures, redirects, size limits with valid JSON and UTF-8, and no
// secret in any outcome or log line (RELIABILITY D5-D8, D12, B6, B7, X2).

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <thread>

#include "alerting/channel.hpp"
#include "core/text.hpp"
#include "tests/alerting/channel_fixtures.hpp"
#include "tests/servers/http_receiver.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon::alerting {
namespace {

using namespace std::chrono_literals;
using test::HttpReceiver;
using Kind = SendOutcome::Kind;

constexpr const char* k_canary_token = "CANARYTOKEN5150";
constexpr const char* k_canary_pass = "CANARYPASS5150";
constexpr const char* k_canary_header = "CANARYHEADER5150";

class HttpChannelConformance : public ::testing::TestWithParam<ChannelType> {
protected:
    // The URL carries a password and a token in its path, the way webhook URLs do.
    std::string secret_url(int port) const {
        return "http://user:" + std::string(k_canary_pass) + "@127.0.0.1:" + std::to_string(port) + "/hooks/" +
               k_canary_token;
    }
    std::unique_ptr<Channel> channel(int port) {
        ChannelConfig c = test::http_channel(GetParam(), secret_url(port));
        HeaderConfig h;
        h.name = "Authorization";
        h.value.source = SecretRef::Source::env;
        h.value.value = Secret(std::string("Bearer ") + k_canary_header);
        if (GetParam() == ChannelType::webhook || GetParam() == ChannelType::alertmanager) c.headers.push_back(h);
        Config config;
        auto made = make_channel(c, config);
        EXPECT_TRUE(made) << made.error().message;
        return made ? std::move(made).value() : nullptr;
    }
    SendOutcome send(Channel& ch, const Notification& n = test::cpu_notification()) {
        return ch.send(n, SendContext{});
    }
    static void expect_no_canary(std::string_view text) {
        for (const char* canary : {k_canary_token, k_canary_pass, k_canary_header}) {
            EXPECT_EQ(text.find(canary), std::string_view::npos) << "canary " << canary << " in: " << text;
        }
    }
};

struct StatusCase {
    int status;
    Kind kind;
};

TEST_P(HttpChannelConformance, classifies_every_status_like_alertmanager) {
    HttpReceiver rx;
    auto ch = channel(rx.port());
    ASSERT_TRUE(ch);
    const StatusCase cases[] = {{200, Kind::delivered}, {201, Kind::delivered}, {202, Kind::delivered},
                                {204, Kind::delivered}, {301, Kind::dead},      {302, Kind::dead},
                                {307, Kind::dead},      {400, Kind::dead},      {401, Kind::dead},
                                {403, Kind::dead},      {404, Kind::dead},      {408, Kind::retry},
                                {410, Kind::dead},      {413, Kind::dead},      {422, Kind::dead},
                                {429, Kind::retry},     {500, Kind::retry},     {502, Kind::retry},
                                {503, Kind::retry},     {504, Kind::retry},     {599, Kind::retry}};
    test::LogCapture logs;
    for (const StatusCase& c : cases) {
        rx.set_reply(HttpReceiver::answer(c.status, std::string("answer for ") + k_canary_token));
        const SendOutcome out = send(*ch);
        EXPECT_EQ(out.kind, c.kind) << "HTTP " << c.status << ": " << out.detail;
        EXPECT_NE(out.detail.find(std::to_string(c.status)), std::string::npos) << out.detail;
        EXPECT_NE(out.detail.find("channel \"" + ch->name() + "\""), std::string::npos) << out.detail;
        EXPECT_LE(out.detail.size(), 1024u);
        expect_no_canary(out.detail);
    }
    expect_no_canary(logs.text());
    EXPECT_EQ(rx.count(), std::size(cases));
}

TEST_P(HttpChannelConformance, a_429_carries_the_receivers_retry_after) {
    HttpReceiver rx;
    auto ch = channel(rx.port());
    rx.set_reply(HttpReceiver::answer(429, "rate limited", {{"Retry-After", "7"}}));
    const SendOutcome out = send(*ch);
    EXPECT_EQ(out.kind, Kind::retry);
    EXPECT_EQ(out.retry_after, std::chrono::seconds{7});
}

TEST_P(HttpChannelConformance, a_redirect_is_dead_and_not_followed) {
    HttpReceiver target;
    HttpReceiver rx;
    auto ch = channel(rx.port());
    rx.set_reply(HttpReceiver::answer(302, "", {{"Location", target.url("/collect?token=abc")}}));
    const SendOutcome out = send(*ch);
    EXPECT_EQ(out.kind, Kind::dead);
    EXPECT_NE(out.detail.find("redirect (HTTP 302) to http://127.0.0.1:" + std::to_string(target.port()) +
                              "; redirects are not followed, update the URL"),
              std::string::npos)
        << out.detail;
    EXPECT_EQ(out.detail.find("token=abc"), std::string::npos);
    EXPECT_EQ(target.count(), 0u);
}

// RELIABILITY D8: a redirect to file:// or to https on the same host is not followed either.
TEST_P(HttpChannelConformance, a_redirect_to_a_file_or_to_https_is_dead_and_not_followed) {
    HttpReceiver rx;
    auto ch = channel(rx.port());
    rx.set_reply(HttpReceiver::answer(302, "", {{"Location", "file:///etc/passwd"}}));
    const SendOutcome file = send(*ch);
    EXPECT_EQ(file.kind, Kind::dead) << file.detail;
    EXPECT_NE(file.detail.find("redirect (HTTP 302) to file://"), std::string::npos) << file.detail;
    EXPECT_EQ(file.detail.find("root:"), std::string::npos) << "/etc/passwd was read: " << file.detail;
    rx.set_reply(HttpReceiver::answer(301, "", {{"Location", "https://127.0.0.1:" + std::to_string(rx.port()) + "/x"}}));
    const SendOutcome tls = send(*ch);
    EXPECT_EQ(tls.kind, Kind::dead) << tls.detail;
    EXPECT_NE(tls.detail.find("redirect (HTTP 301) to https://127.0.0.1:"), std::string::npos) << tls.detail;
    EXPECT_EQ(rx.count(), 2u) << "one request each, nothing followed";
}

TEST_P(HttpChannelConformance, a_receiver_that_is_down_means_retry_without_secrets) {
    test::LogCapture logs;
    auto ch = channel(test::free_port());
    const SendOutcome out = send(*ch);
    EXPECT_EQ(out.kind, Kind::retry) << out.detail;
    EXPECT_NE(out.detail.find("could not connect"), std::string::npos) << out.detail;
    expect_no_canary(out.detail);
    expect_no_canary(logs.text());
}

TEST_P(HttpChannelConformance, a_hanging_receiver_means_retry_within_the_timeout) {
    HttpReceiver rx;
    rx.set_reply(HttpReceiver::hang(10s));
    auto ch = channel(rx.port());
    const auto start = std::chrono::steady_clock::now();
    const SendOutcome out = send(*ch);
    EXPECT_EQ(out.kind, Kind::retry) << out.detail;
    EXPECT_NE(out.detail.find("timed out"), std::string::npos) << out.detail;
    EXPECT_LT(std::chrono::steady_clock::now() - start, 6s);
    expect_no_canary(out.detail);
}

TEST_P(HttpChannelConformance, shutdown_gives_up_the_attempt_at_once) {
    HttpReceiver rx;
    rx.set_reply(HttpReceiver::hang(10s));
    ChannelConfig c = test::http_channel(GetParam(), rx.url("/hook"));
    c.timeout = 8s;
    auto ch = make_channel(c, Config{});
    ASSERT_TRUE(ch) << ch.error().message;
    std::atomic<bool> abort{false};
    std::thread stopper([&] {
        std::this_thread::sleep_for(200ms);
        abort = true;
    });
    const auto start = std::chrono::steady_clock::now();
    const SendOutcome out = (*ch)->send(test::cpu_notification(), SendContext{&abort});
    stopper.join();
    EXPECT_EQ(out.kind, Kind::retry) << out.detail;
    EXPECT_NE(out.detail.find("aborted (shutting down)"), std::string::npos) << out.detail;
    EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
}

TEST_P(HttpChannelConformance, a_huge_notification_is_delivered_as_valid_json_and_utf8) {
    HttpReceiver rx;
    auto ch = channel(rx.port());
    test::LogCapture logs;
    const SendOutcome out = send(*ch, test::huge_notification());
    EXPECT_EQ(out.kind, Kind::delivered) << out.detail;
    ASSERT_EQ(rx.count(), 1u);
    const auto req = rx.requests()[0];
    EXPECT_TRUE(is_valid_utf8(req.body));
    if (req.header("Content-Type").rfind("application/json", 0) == 0) {
        EXPECT_TRUE(nlohmann::json::accept(req.body));
    }
    EXPECT_EQ(req.body.find("{0}"), std::string::npos) << "fmt syntax must not be interpreted";
    expect_no_canary(logs.text());
}

INSTANTIATE_TEST_SUITE_P(Channels, HttpChannelConformance,
                         ::testing::Values(ChannelType::slack, ChannelType::discord, ChannelType::webhook,
                                           ChannelType::alertmanager),
                         [](const ::testing::TestParamInfo<ChannelType>& tp) {
                             return std::string(to_string(tp.param));
                         });

// Receiver-specific limits (RELIABILITY D12).

nlohmann::json sent_json(HttpReceiver& rx) {
    const auto reqs = rx.requests();
    if (reqs.empty()) return {};
    return nlohmann::json::parse(reqs.back().body);
}

std::unique_ptr<Channel> make(ChannelType type, const HttpReceiver& rx) {
    auto made = make_channel(test::http_channel(type, rx.url("/hook")), Config{});
    return made ? std::move(made).value() : nullptr;
}

TEST(SlackChannel, stays_within_slacks_limits_and_escapes_mentions) {
    HttpReceiver rx;
    auto ch = make(ChannelType::slack, rx);
    ASSERT_TRUE(ch);
    test::LogCapture logs;
    ASSERT_EQ(ch->send(test::huge_notification(), {}).kind, Kind::delivered);
    const nlohmann::json j = sent_json(rx);
    const std::string text = j.at("text").get<std::string>();
    EXPECT_LE(text.size(), 40'000u);
    EXPECT_NE(text.find("[truncated]"), std::string::npos);
    EXPECT_EQ(text.find("<!channel>"), std::string::npos);
    EXPECT_NE(text.find("&lt;!channel&gt;"), std::string::npos);
    ASSERT_TRUE(j.at("blocks").is_array());
    EXPECT_LE(j.at("blocks").size(), 50u);
    for (const auto& block : j.at("blocks")) {
        if (block.at("type") == "section") {
            EXPECT_LE(block.at("text").at("text").get<std::string>().size(), 3000u);
        }
        if (block.at("type") == "header") {
            EXPECT_LE(block.at("text").at("text").get<std::string>().size(), 150u);
        }
    }
    EXPECT_NE(logs.text().find("cut to Slack's limits"), std::string::npos);
}

TEST(SlackChannel, a_small_notification_is_sent_whole) {
    HttpReceiver rx;
    auto ch = make(ChannelType::slack, rx);
    ASSERT_EQ(ch->send(test::cpu_notification(), {}).kind, Kind::delivered);
    const nlohmann::json j = sent_json(rx);
    const std::string text = j.at("text").get<std::string>();
    EXPECT_EQ(text.rfind("[CRITICAL] cpu_percent 97.1% &gt; 90% for 3 samples on web1\n", 0), 0u) << text;
    EXPECT_EQ(text.find("[truncated]"), std::string::npos);
    EXPECT_NE(j.dump().find("app: worker 3 busy"), std::string::npos);
    EXPECT_EQ(rx.requests()[0].header("X-Boxmon-Incident"), "inc-0001#1");
}

// RELIABILITY D5: Slack's API shape of an error, {"ok": false} under HTTP 200, is not a delivery;
// a generic webhook does not read its receiver's body.
TEST(SlackChannel, an_http_200_carrying_ok_false_is_dead_with_slacks_error) {
    HttpReceiver rx;
    rx.set_reply(HttpReceiver::answer(200, R"({"ok":false,"error":"invalid_blocks"})"));
    auto slack = make(ChannelType::slack, rx);
    const SendOutcome refused = slack->send(test::cpu_notification(), {});
    EXPECT_EQ(refused.kind, Kind::dead) << refused.detail;
    EXPECT_NE(refused.detail.find("refused the message (invalid_blocks)"), std::string::npos) << refused.detail;

    auto webhook = make(ChannelType::webhook, rx);
    EXPECT_EQ(webhook->send(test::cpu_notification(), {}).kind, Kind::delivered);

    for (const char* fine : {"ok", R"({"ok":true})", R"({"ok":"false"})", "[false]", ""}) {
        rx.set_reply(HttpReceiver::answer(200, fine));
        const SendOutcome sent = slack->send(test::cpu_notification(), {});
        EXPECT_EQ(sent.kind, Kind::delivered) << "body " << fine << ": " << sent.detail;
    }
}

TEST(SlackChannel, an_http_200_saying_ratelimited_is_retried_after_its_retry_after) {
    HttpReceiver rx;
    rx.set_reply(HttpReceiver::answer(200, R"({"ok":false,"error":"ratelimited"})", {{"Retry-After", "7"}}));
    auto slack = make(ChannelType::slack, rx);
    const SendOutcome later = slack->send(test::cpu_notification(), {});
    EXPECT_EQ(later.kind, Kind::retry) << later.detail;
    ASSERT_TRUE(later.retry_after.has_value()) << later.detail;
    EXPECT_EQ(*later.retry_after, 7s);
}

std::size_t embed_total(const nlohmann::json& embed) {
    std::size_t total = embed.value("title", std::string()).size() + embed.value("description", std::string()).size();
    if (embed.contains("footer")) total += embed["footer"].value("text", std::string()).size();
    if (embed.contains("fields")) {
        for (const auto& f : embed["fields"]) total += f.at("name").get<std::string>().size() + f.at("value").get<std::string>().size();
    }
    return total;
}

TEST(DiscordChannel, stays_within_discords_limits_and_attaches_what_does_not_fit) {
    HttpReceiver rx;
    auto ch = make(ChannelType::discord, rx);
    ASSERT_TRUE(ch);
    test::LogCapture logs;
    ASSERT_EQ(ch->send(test::huge_notification(), {}).kind, Kind::delivered);
    const auto req = rx.requests().at(0);
    ASSERT_EQ(req.header("Content-Type").rfind("multipart/form-data; boundary=", 0), 0u) << req.header("Content-Type");
    ASSERT_EQ(req.parts.count("payload_json"), 1u);
    ASSERT_EQ(req.parts.count("files[0]"), 1u);
    const nlohmann::json j = nlohmann::json::parse(req.parts.at("payload_json").second);
    EXPECT_LE(j.at("content").get<std::string>().size(), 2000u);
    EXPECT_EQ(j.at("allowed_mentions").at("parse"), nlohmann::json::array());
    const auto& embed = j.at("embeds").at(0);
    EXPECT_LE(embed.at("title").get<std::string>().size(), 256u);
    EXPECT_LE(embed.at("description").get<std::string>().size(), 4096u);
    EXPECT_LE(embed_total(embed), 6000u);
    for (const auto& f : embed.value("fields", nlohmann::json::array())) {
        EXPECT_LE(f.at("value").get<std::string>().size(), 1024u);
    }
    EXPECT_EQ(req.parts.at("files[0]").first, "boxmon-logs.txt");
    const std::string& file = req.parts.at("files[0]").second;
    EXPECT_TRUE(is_valid_utf8(file));
    EXPECT_NE(file.find("Log log9 (/var/log/app9.log)"), std::string::npos) << "the file holds every tail";
    EXPECT_NE(logs.text().find("full log tails attached as a file"), std::string::npos);
}

TEST(DiscordChannel, a_small_notification_is_plain_json_with_mentions_off) {
    HttpReceiver rx;
    auto ch = make(ChannelType::discord, rx);
    Notification n = test::cpu_notification();
    n.tails[0].lines.push_back("@everyone look");
    ASSERT_EQ(ch->send(n, {}).kind, Kind::delivered);
    EXPECT_EQ(rx.requests().at(0).header("Content-Type"), "application/json");
    const nlohmann::json j = sent_json(rx);
    EXPECT_EQ(j.at("allowed_mentions").at("parse"), nlohmann::json::array());
    EXPECT_EQ(j.at("content"), "[CRITICAL] cpu_percent 97.1% > 90% for 3 samples on web1");
    EXPECT_NE(j.dump().find("@everyone look"), std::string::npos);
}

TEST(WebhookChannel, sends_an_alertmanager_version_4_payload_with_the_boxmon_details) {
    HttpReceiver rx;
    auto ch = make(ChannelType::webhook, rx);
    ASSERT_EQ(ch->send(test::cpu_notification(), {}).kind, Kind::delivered);
    const nlohmann::json j = sent_json(rx);
    EXPECT_EQ(j.at("version"), "4");
    EXPECT_EQ(j.at("status"), "firing");
    EXPECT_EQ(j.at("groupLabels").at("alertname"), "cpu_high");
    const auto& alert = j.at("alerts").at(0);
    EXPECT_EQ(alert.at("labels").at("alertname"), "cpu_high");
    EXPECT_EQ(alert.at("labels").at("severity"), "critical");
    EXPECT_EQ(alert.at("labels").at("instance"), "web1");
    EXPECT_EQ(alert.at("fingerprint"), "inc-0001");
    EXPECT_EQ(alert.at("endsAt"), "0001-01-01T00:00:00Z");
    EXPECT_EQ(j.at("boxmon").at("idempotency_key"), "inc-0001#1");
    EXPECT_EQ(j.at("boxmon").at("window").size(), 30u);
    EXPECT_EQ(j.at("boxmon").at("logs").at(0).at("lines").at(1), "app: worker 3 busy");

    Notification r = test::cpu_notification();
    r.kind = NotificationKind::resolved;
    r.sequence = 2;
    r.ended = r.at;
    ASSERT_EQ(ch->send(r, {}).kind, Kind::delivered);
    const nlohmann::json k = sent_json(rx);
    EXPECT_EQ(k.at("status"), "resolved");
    EXPECT_EQ(k.at("alerts").at(0).at("endsAt"), format_iso8601_ms(r.at));
}

// make_channel refuses entries that cannot work, with the exact reason.

TEST(MakeChannel, refuses_what_cannot_work_with_a_message_that_says_what_to_do) {
    Config config;
    ChannelConfig c = test::http_channel(ChannelType::slack, "ftp://hooks.example.org/T1/B2/CANARYSECRET");
    auto r = make_channel(c, config);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::config);
    EXPECT_EQ(r.error().message, "channel \"slack-test\": url ftp://hooks.example.org must start with https:// or http://");

    c = test::http_channel(ChannelType::webhook, "https://example.org/x");
    c.ca_file = "/nonexistent/ca.pem";
    r = make_channel(c, config);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "channel \"webhook-test\": ca_file \"/nonexistent/ca.pem\" is not a readable file; "
                                 "point it at the PEM certificate of the receiver's CA");

    ChannelConfig m;
    m.name = "mail";
    m.type = ChannelType::smtp;
    m.url.source = SecretRef::Source::inline_value;
    m.url.value = Secret("smtp://127.0.0.1:25");
    m.from = "boxmon@example.org";
    m.to = {"ops@example.org", "x@y\r\nBcc: evil@example.org"};
    r = make_channel(m, config);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message.rfind("channel \"mail\": recipient \"x@y", 0), 0u) << r.error().message;

    ChannelConfig s;
    s.name = "mta";
    s.type = ChannelType::sendmail;
    s.sendmail_path = "-oQ/tmp/x";
    s.from = "boxmon@example.org";
    s.to = {"ops@example.org"};
    r = make_channel(s, config);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "channel \"mta\": sendmail_path \"-oQ/tmp/x\" must be an absolute path such as "
                                 "/usr/sbin/sendmail");
}

TEST(MakeChannel, tls_skip_verify_warns_and_the_log_channel_always_delivers) {
    test::LogCapture logs;
    ChannelConfig c = test::http_channel(ChannelType::webhook, "https://example.org/x");
    c.tls_skip_verify = true;
    ASSERT_TRUE(make_channel(c, Config{}));
    EXPECT_NE(logs.text().find("tls_skip_verify = true"), std::string::npos);

    auto log = make_builtin_log_channel();
    ASSERT_TRUE(log);
    EXPECT_EQ((*log)->name(), "log");
    const SendOutcome out = (*log)->send(test::cpu_notification(), {});
    EXPECT_EQ(out.kind, Kind::delivered);
    EXPECT_NE(logs.text().find("alert inc-0001#1: [CRITICAL] cpu_percent 97.1% > 90% for 3 samples on web1 | "),
              std::string::npos)
        << logs.text();
    // One record, its facts joined on one line: no literal "\\n" escapes, no raw line breaks.
    EXPECT_EQ(logs.text().find("\\n"), std::string::npos) << logs.text();
    EXPECT_NE(logs.text().find("; "), std::string::npos) << logs.text();
}

}  // namespace
}  // namespace boxmon::alerting
