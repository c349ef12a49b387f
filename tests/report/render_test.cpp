// The rendered report: golden files from fixture data (clock, hostname and TZ fixed), each
// section's failure in its place, hostile inputs (RELIABILITY B10) and what must never appear (X3).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <ctime>

#include "core/text.hpp"
#include "report/report.hpp"
#include "report_fixture.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon::report {
namespace {

namespace fs = std::filesystem;

class ReportRender : public ::testing::Test {
protected:
    void SetUp() override {
        ::setenv("TZ", "UTC", 1);
        ::tzset();
    }
};

void check_golden(const std::string& actual, const std::string& name) {
    const fs::path path = test::fixtures_dir() / "report" / name;
    if (std::getenv("BOXMON_BLESS") != nullptr) {
        test::write_file(path, actual);
        return;
    }
    ASSERT_TRUE(fs::exists(path)) << "missing " << path << "; run with BOXMON_BLESS=1 and review";
    EXPECT_EQ(actual, test::read_file(path)) << "differs from " << path
                                             << "; if the change is intended, re-bless with BOXMON_BLESS=1";
}

// BOXMON_BLESS=1 rewrites the golden files from the current output (review the diff).
TEST_F(ReportRender, text_matches_the_golden_file) {
    FakeClock clock;
    check_golden(render_text(fixture::full_input(), fixture::options(clock)), "golden.txt");
}

TEST_F(ReportRender, markdown_matches_the_golden_file) {
    FakeClock clock;
    check_golden(render_markdown(fixture::full_input(), fixture::options(clock)), "golden.md");
}

TEST_F(ReportRender, json_matches_the_golden_file) {
    FakeClock clock;
    check_golden(render_json(fixture::full_input(), fixture::options(clock)), "golden.json");
}

TEST_F(ReportRender, every_failed_section_says_why_in_its_place_and_the_rest_is_written) {
    FakeClock clock;
    ReportInput in = fixture::full_input();
    in.webserver = fail_as(ErrorKind::not_found, "nginx: not found in PATH; install it or configure the command");
    in.firewall = fail("neither nft nor iptables found in PATH; no firewall rules to show");
    in.metrics = fail("no history yet (no database at /var/lib/boxmon/boxmon.db)");
    in.certificates = fail("no certificate files match /etc/letsencrypt/live/*/cert.pem");
    const std::string text = render_text(in, fixture::options(clock));
    EXPECT_NE(text.find("== Web server check ==\n  unavailable: nginx: not found in PATH"), std::string::npos) << text;
    EXPECT_NE(text.find("== Firewall rules ==\n  unavailable: neither nft nor iptables"), std::string::npos);
    EXPECT_NE(text.find("unavailable: no history yet"), std::string::npos);
    EXPECT_NE(text.find("unavailable: no certificate files match"), std::string::npos);
    // The sections after the failed ones are still there.
    EXPECT_NE(text.find("== Log tails =="), std::string::npos);
    EXPECT_NE(text.find("== Services ==\n"), std::string::npos);
}

TEST_F(ReportRender, watched_services_say_when_none_are_configured) {
    FakeClock clock;
    ReportInput in = fixture::full_input();
    in.watched = std::vector<ServiceState>{};
    const std::string text = render_text(in, fixture::options(clock));
    EXPECT_NE(text.find("== Watched services ==\n  unavailable: no [[services]] in the configuration\n"),
              std::string::npos)
        << text;
}

TEST_F(ReportRender, a_default_input_renders_every_section_as_not_gathered) {
    FakeClock clock;
    const std::string text = render_text(ReportInput{}, fixture::options(clock));
    std::size_t count = 0;
    for (auto pos = text.find("unavailable: not gathered"); pos != std::string::npos;
         pos = text.find("unavailable: not gathered", pos + 1))
        ++count;
    EXPECT_EQ(count, 11u) << text;
}

TEST_F(ReportRender, hostile_inputs_come_out_as_valid_utf8_without_control_characters) {
    FakeClock clock;
    ReportInput in = fixture::full_input();
    auto host = *in.host;
    host.hostname = "evil\x1b]0;pwned\x07\xff\xfe\r\nhost";
    in.host = host;
    CommandOutput huge;
    huge.argv = {"nginx", "-t"};
    huge.exit_code = 1;
    for (int i = 0; i < 100'000; ++i) huge.out += "line with \x1b[31mcolour\x1b[0m and \xc3\x28 bad utf8\n";
    in.webserver = huge;
    LogTail tail;
    tail.name = "chat";
    tail.source = "/var/log/chat.log";
    tail.lines = {"\x1b[2Jclear screen", std::string("nul\0byte", 8), "\xed\xa0\x80 surrogate"};
    in.logs = std::vector<LogTail>{tail};
    ReportOptions options = fixture::options(clock);
    options.hostname = "";  // from the facts, hostile
    for (Format f : {Format::text, Format::markdown, Format::json}) {
        const std::string out = render(in, options, f);
        EXPECT_TRUE(is_valid_utf8(out)) << static_cast<int>(f);
        for (char c : out) {
            const auto u = static_cast<unsigned char>(c);
            ASSERT_TRUE(u >= 0x20 || c == '\n') << "control byte " << int(u) << " in format " << int(f);
        }
        EXPECT_EQ(out.find("\x1b"), std::string::npos);
        // 100,000 lines of command output are cut to the configured number of lines.
        EXPECT_LT(out.size(), 200'000u) << static_cast<int>(f);
        EXPECT_NE(out.find("more lines not shown"), std::string::npos);
    }
    const std::string text = render_text(in, options);
    EXPECT_NE(text.find("boxmon system report: evil\\x1b]0;pwned\\x07"), std::string::npos) << text.substr(0, 200);
}

TEST_F(ReportRender, the_config_section_shows_only_what_it_is_given_and_keys_only_as_paths) {
    // The CLI gives the report render_config()'s text (secrets as <secret>); certificate rows
    // carry metadata only.
    FakeClock clock;
    const std::string text = render_text(fixture::full_input(), fixture::options(clock));
    EXPECT_NE(text.find("<secret>"), std::string::npos);
    EXPECT_EQ(text.find("BEGIN"), std::string::npos);
    EXPECT_EQ(text.find("PRIVATE KEY"), std::string::npos);
}

TEST(ReportSummary, min_avg_p95_max_of_raw_points) {
    std::vector<HistoryValue> points;
    for (int i = 1; i <= 100; ++i)
        points.push_back({from_unix_seconds(i * 60), double(i), double(i), double(i), 1});
    auto s = summarize(points);
    ASSERT_TRUE(s);
    EXPECT_DOUBLE_EQ(s->min, 1);
    EXPECT_DOUBLE_EQ(s->max, 100);
    EXPECT_DOUBLE_EQ(s->avg, 50.5);
    EXPECT_DOUBLE_EQ(s->p95, 95);
    EXPECT_EQ(s->samples, 100);
}

TEST(ReportSummary, rollups_use_bucket_extremes_and_weighted_average) {
    std::vector<HistoryValue> points = {{from_unix_seconds(0), 10, 2, 30, 5}, {from_unix_seconds(300), 40, 35, 90, 15}};
    auto s = summarize(points);
    ASSERT_TRUE(s);
    EXPECT_DOUBLE_EQ(s->min, 2);
    EXPECT_DOUBLE_EQ(s->max, 90);
    EXPECT_DOUBLE_EQ(s->avg, (10 * 5 + 40 * 15) / 20.0);
    EXPECT_EQ(s->samples, 20);
}

TEST(ReportSummary, empty_and_nan_only_series_have_no_summary) {
    EXPECT_FALSE(summarize({}));
    EXPECT_FALSE(summarize({{from_unix_seconds(0), NAN, NAN, NAN, 1}}));
}

TEST(ReportFormat, parses_the_three_formats_and_rejects_others) {
    EXPECT_EQ(*parse_format("text"), Format::text);
    EXPECT_EQ(*parse_format("markdown"), Format::markdown);
    EXPECT_EQ(*parse_format("json"), Format::json);
    auto bad = parse_format("html");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().kind, ErrorKind::usage);
    EXPECT_EQ(bad.error().message, "unknown report format \"html\"; use text, markdown or json");
}

}  // namespace
}  // namespace boxmon::report
