// Subject, body and mail rendering (DESIGN §5 content; RELIABILITY B6-B8).

#include <gtest/gtest.h>

#include "alerting/channels/message.hpp"
#include "alerting/channels/render.hpp"
#include "core/text.hpp"
#include "tests/alerting/channel_fixtures.hpp"

namespace boxmon::alerting {
namespace {

using test::cpu_notification;

TEST(RenderSubject, a_threshold_breach_reads_severity_value_threshold_samples_and_host) {
    EXPECT_EQ(render_subject(cpu_notification()), "[CRITICAL] cpu_percent 97.1% > 90% for 3 samples on web1");
}

TEST(RenderSubject, a_resolution_says_how_long_it_lasted_and_the_peak) {
    Notification n = cpu_notification();
    n.kind = NotificationKind::resolved;
    n.ended = n.since + std::chrono::minutes(12);
    EXPECT_EQ(render_subject(n), "[RESOLVED] cpu_percent on web1 after 12m (peak 98.5%)");
}

TEST(RenderSubject, absent_data_escalation_reminder_and_test_have_their_own_words) {
    Notification n = cpu_notification();
    n.incident_kind = IncidentKind::absent;
    n.severity = Severity::warning;
    EXPECT_EQ(render_subject(n), "[WARNING] cpu_percent: no data for 3 samples on web1");
    n = cpu_notification();
    n.kind = NotificationKind::escalated;
    EXPECT_EQ(render_subject(n), "[CRITICAL] cpu_percent 97.1% > 90% for 3 samples on web1 (escalated)");
    n.kind = NotificationKind::reminder;
    EXPECT_EQ(render_subject(n), "[CRITICAL] cpu_percent 97.1% > 90% for 3 samples on web1 (still firing)");
    n.kind = NotificationKind::test;
    EXPECT_EQ(render_subject(n), "[TEST] boxmon test alert from web1");
}

TEST(RenderSubject, labels_show_and_control_characters_cannot_break_the_line) {
    Notification n = cpu_notification();
    n.series = SeriesKey("disk_used_percent", {{"mount", "/data\nBcc: x"}});
    n.host = "we\rb1";
    const std::string s = render_subject(n);
    EXPECT_EQ(s.find('\n'), std::string::npos) << s;
    EXPECT_EQ(s.find('\r'), std::string::npos) << s;
    EXPECT_NE(s.find("disk_used_percent{mount="), std::string::npos) << s;
}

TEST(RenderBody, gives_rule_series_value_threshold_since_window_and_tails) {
    const std::string body = render_body(cpu_notification());
    for (const char* part : {"Rule:      cpu_high\nAbout:     CPU busy above 90%\n", "Series:    cpu_percent", "Value:     97.1%",
                             "Threshold: > 90% (critical, for 3 samples)", "Since:     ", "Incident:  inc-0001",
                             "Recent values (29m, 30 samples):", "Log syslog (/var/log/syslog):",
                             "  app: worker 3 busy"}) {
        EXPECT_NE(body.find(part), std::string::npos) << "missing \"" << part << "\" in\n" << body;
    }
    EXPECT_NE(body.find("▁"), std::string::npos) << body;
}

TEST(RenderBody, outside_text_is_valid_utf8_and_never_a_format_string) {
    Notification n = cpu_notification();
    n.tails[0].lines = {"bad \xff\xfe bytes", "{} {0} %s%n \x1b]0;pwned\x07"};
    const std::string body = render_body(n);
    EXPECT_TRUE(is_valid_utf8(body));
    EXPECT_NE(body.find("{} {0} %s%n"), std::string::npos) << body;
    EXPECT_EQ(body.find('\x1b'), std::string::npos);
}

TEST(RenderBody, a_rule_without_a_description_has_no_about_line) {
    Notification n = cpu_notification();
    n.description.clear();
    EXPECT_EQ(render_body(n).find("About:"), std::string::npos) << render_body(n);
}

TEST(RenderBody, a_missing_log_is_a_line_not_a_failure) {
    Notification n = cpu_notification();
    n.tails[0].lines.clear();
    n.tails[0].note = "file not found";
    EXPECT_NE(render_body(n).find("Log syslog (/var/log/syslog) — file not found:\n  (no lines)"),
              std::string::npos);
}

std::string base64_decode(std::string_view in) {
    static const std::string chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    unsigned buf = 0;
    int bits = 0;
    for (char c : in) {
        const auto pos = chars.find(c);
        if (pos == std::string::npos) continue;
        buf = (buf << 6) | static_cast<unsigned>(pos);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((buf >> bits) & 0xff));
        }
    }
    return out;
}

TEST(BuildMail, has_the_rfc5322_headers_and_a_base64_utf8_body) {
    const Notification n = cpu_notification();
    const std::string m = detail::build_mail(n, "boxmon@example.org", {"a@example.org", "b@example.org"},
                                             from_unix_seconds(1'795'000'000));
    EXPECT_EQ(m.rfind("Date: ", 0), 0u) << m;
    for (const char* h : {"\r\nFrom: boxmon@example.org\r\n", "\r\nTo: a@example.org, b@example.org\r\n",
                          "\r\nSubject: [CRITICAL] cpu_percent 97.1% > 90% for 3 samples on web1\r\n",
                          "\r\nMessage-ID: <inc-0001_1@web1>\r\n", "\r\nMIME-Version: 1.0\r\n",
                          "\r\nContent-Type: text/plain; charset=utf-8\r\n",
                          "\r\nContent-Transfer-Encoding: base64\r\n"}) {
        EXPECT_NE(m.find(h), std::string::npos) << "missing " << h << " in\n" << m;
    }
    const auto split = m.find("\r\n\r\n");
    ASSERT_NE(split, std::string::npos);
    EXPECT_EQ(base64_decode(m.substr(split + 4)), detail::normalize_crlf(render_body(n)));
}

TEST(BuildMail, smuggling_text_and_long_lines_cannot_end_data_or_exceed_998_octets) {
    Notification n = cpu_notification();
    n.tails[0].lines = {"a\n.\nb", "c\r\n.\r\nMAIL FROM:<x>\r\n", "d\n.\r\n", std::string(5000, 'x'), "From me"};
    const std::string m = detail::build_mail(n, "boxmon@example.org", {"a@example.org"}, n.at);
    EXPECT_EQ(m.find("\r\n.\r\n"), std::string::npos);
    EXPECT_EQ(m.find("MAIL FROM"), std::string::npos);
    std::size_t start = 0;
    while (start < m.size()) {
        const auto end = m.find("\r\n", start);
        ASSERT_NE(end, std::string::npos) << "a line without CRLF at " << start;
        EXPECT_LE(end - start, 78u);
        start = end + 2;
    }
    EXPECT_EQ(m.find('\n'), m.find("\r\n") + 1);  // no bare LF anywhere before the first CRLF
}

TEST(EncodeHeader, non_ascii_becomes_encoded_words_and_control_characters_vanish) {
    EXPECT_EQ(detail::encode_header("plain text", "\r\n"), "plain text");
    EXPECT_EQ(detail::encode_header("a\r\nBcc: x", "\r\n"), "a  Bcc: x");
    const std::string e = detail::encode_header("température élevée sur serveur-α, disque plein à 97 %", "\r\n");
    EXPECT_EQ(e.rfind("=?UTF-8?B?", 0), 0u) << e;
    EXPECT_EQ(e.find('\n'), e.find("\r\n ") + 1) << e;
}

TEST(PlainAddress, accepts_plain_addresses_and_refuses_header_or_option_injection) {
    EXPECT_TRUE(detail::plain_address("ops@example.org"));
    EXPECT_TRUE(detail::plain_address("a.b+c@mail.example.org"));
    for (const char* bad : {"", "-oQ/tmp@x", "a@b\r\nBcc: c@d", "a b@c", "<a@b>", "a@b,c@d", "ab", "a@b@c",
                            "$(touch /tmp/pwned)@x", "@x", "x@"}) {
        EXPECT_FALSE(detail::plain_address(bad)) << bad;
    }
}

}  // namespace
}  // namespace boxmon::alerting
