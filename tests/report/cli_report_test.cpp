// `boxmon report` and `boxmon sysinfo` end to end through their CLI wiring (cli/cmd_report.cpp),
// in process: a real config file, a fixture proc tree, fake commands, a temporary state dir.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstdlib>

#include "cli/cmd_report.hpp"
#include "core/log.hpp"
#include "core/text.hpp"
#include "report/output.hpp"
#include "store/store.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon::cli {
namespace {

namespace fs = std::filesystem;

struct CliRun {
    Result<int> result = 0;
    std::string out;
};

CliRun run_cli(std::vector<std::string> args) {
    CLI::App app{"boxmon", "boxmon"};
    app.require_subcommand(1);
    app.fallthrough();
    GlobalOptions options;
    app.add_option("--config", options.config);
    app.add_option("--state-dir", options.state_dir);
    app.add_option("--root-proc", options.root_proc);
    app.add_option("--root-sys", options.root_sys);
    add_report_command(app, options);
    add_sysinfo_command(app, options);
    std::vector<const char*> argv = {"boxmon"};
    for (const auto& a : args) argv.push_back(a.c_str());
    app.parse(static_cast<int>(argv.size()), argv.data());
    CliRun run;
    ::testing::internal::CaptureStdout();
    run.result = options.action();
    run.out = ::testing::internal::GetCapturedStdout();
    return run;
}

class ReportCli : public ::testing::Test {
protected:
    void SetUp() override {
        // As cli/app.cpp does: logs go to stderr, so stdout holds only what the command prints.
        init_logging(spdlog::level::warn);
        const fs::path fixture = test::fixtures_dir() / "report" / "host";
        test::write_file(m_dir / "bin/fake-nginx",
                         "#!/bin/sh\necho 'nginx: configuration file /etc/nginx/nginx.conf test failed' >&2\nexit 1\n",
                         0755);
        test::write_file(m_dir / "chat.log", "ready\nAuthorization: Bearer CANARY-log-4f1e2d\n");
        test::write_file(m_dir / "models/m.bin", std::string(10000, 'x'));
        m_config = m_dir / "boxmon.toml";
        test::write_file(m_config,
                         "[general]\nhostname = \"report-test-host\"\n\n[logs]\nchat = \"" + (m_dir / "chat.log").string() + "\"\n\n"
                         "[[channels]]\nname = \"hook\"\ntype = \"webhook\"\nurl_env = \"BOXMON_TEST_REPORT_URL\"\n\n"
                         "[report]\nkeep = 2\npaths = [\"" + (m_dir / "models").string() + "\"]\n"
                         "webserver_check = [\"" + (m_dir / "bin/fake-nginx").string() + "\", \"-t\"]\n"
                         "certificates = [\"" + (m_dir / "certs/*.pem").string() + "\"]\n"
                         "firewall = \"off\"\nlogs = [\"chat\"]\ncommand_timeout = \"5s\"\n",
                         0600);
        ::setenv("BOXMON_TEST_REPORT_URL", "https://hooks.example.org/CANARY-url-9a8b7c", 1);
        m_common = {"--config", m_config.string(), "--state-dir", (m_dir / "state").string(),
                    "--root-proc", (fixture / "proc").string(), "--root-sys", (fixture / "sys").string()};
    }
    void TearDown() override { ::unsetenv("BOXMON_TEST_REPORT_URL"); }

    std::vector<std::string> args(std::vector<std::string> extra) const {
        std::vector<std::string> a = m_common;
        a.insert(a.end(), extra.begin(), extra.end());
        return a;
    }

    test::TempDir m_dir;
    fs::path m_config;
    std::vector<std::string> m_common;
};

TEST_F(ReportCli, writes_a_private_report_whose_every_section_is_filled_or_says_why) {
    auto run = run_cli(args({"report"}));
    ASSERT_TRUE(run.result) << run.result.error().message;
    EXPECT_EQ(*run.result, 0);
    const fs::path path = run.out.substr(0, run.out.find('\n'));
    EXPECT_EQ(path.parent_path(), m_dir / "state" / "reports");
    EXPECT_TRUE(report::is_report_file_name(path.filename().string())) << path;
    struct stat st{};
    ASSERT_EQ(::stat(path.c_str(), &st), 0) << run.out;
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    const std::string text = test::read_file(path);
    // The title names the configured host; the facts come from the (fixture) proc tree.
    EXPECT_NE(text.find("boxmon system report: report-test-host\n"), std::string::npos) << text;
    EXPECT_NE(text.find("  Hostname    gpu-box-1\n"), std::string::npos);
    EXPECT_NE(text.find("unavailable: no history yet (no database at"), std::string::npos);
    EXPECT_NE(text.find("Result   exit 1 (failed)"), std::string::npos);
    EXPECT_NE(text.find("test failed"), std::string::npos);
    EXPECT_NE(text.find("unavailable: no certificate files match"), std::string::npos);
    EXPECT_NE(text.find("unavailable: off in the configuration (report.firewall)"), std::string::npos);
    EXPECT_NE(text.find("unavailable: no units configured"), std::string::npos);
    EXPECT_NE(text.find((m_dir / "models").string()), std::string::npos);
    EXPECT_NE(text.find("| ready"), std::string::npos);
    // RELIABILITY X3: secrets neither from the configuration nor from log tails.
    EXPECT_EQ(text.find("CANARY"), std::string::npos);
    EXPECT_NE(text.find("<secret>"), std::string::npos);
    EXPECT_TRUE(is_valid_utf8(text));
}

TEST_F(ReportCli, stdout_and_formats_and_a_bad_format_is_a_usage_error) {
    auto md = run_cli(args({"report", "--stdout", "--format", "markdown", "--since", "2h"}));
    ASSERT_TRUE(md.result) << md.result.error().message;
    EXPECT_EQ(md.out.rfind("# boxmon system report: report-test-host\n", 0), 0u) << md.out.substr(0, 200);
    EXPECT_NE(md.out.find("## Metrics (last 2h)"), std::string::npos);
    EXPECT_FALSE(fs::exists(m_dir / "state" / "reports"));
    auto json = run_cli(args({"report", "--stdout", "--format", "json"}));
    ASSERT_TRUE(json.result);
    EXPECT_EQ(json.out.rfind("{\n", 0), 0u);
    auto bad = run_cli(args({"report", "--format", "pdf"}));
    ASSERT_FALSE(bad.result);
    EXPECT_EQ(bad.result.error().kind, ErrorKind::usage);
}

TEST_F(ReportCli, out_dir_and_rotation_keep_the_configured_number) {
    const fs::path out = m_dir / "out";
    fs::create_directories(out);
    for (int i = 1; i <= 3; ++i)
        test::write_file(out / fmt::format("system-report-2020010{}-000000.txt", i), "old", 0600);
    auto run = run_cli(args({"report", "--out", out.string()}));
    ASSERT_TRUE(run.result) << run.result.error().message;
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(out)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    ASSERT_EQ(names.size(), 2u);  // keep = 2
    EXPECT_EQ(names[0], "system-report-20200103-000000.txt");
    EXPECT_EQ(out / names[1], fs::path(run.out.substr(0, run.out.find('\n'))));
}

TEST_F(ReportCli, history_and_incidents_from_the_database_fill_their_sections) {
    {
        store::StoreOptions so;
        so.path = m_dir / "state" / "boxmon.db";
        auto st = store::Store::open(so);
        ASSERT_TRUE(st) << st.error().message;
        const WallTime now = std::chrono::floor<std::chrono::seconds>(SystemClock::instance().wall());
        for (int i = 10; i >= 1; --i) {
            store::TickWrite tick;
            tick.sample.ts = now - std::chrono::minutes(i);
            tick.sample.add(SeriesKey("cpu_percent"), 10.0 * i);
            tick.sample.add(SeriesKey("disk_used_percent", {{"mount", "/"}}), 50.0);
            if (i == 1) {
                Incident inc;
                inc.id = "inc-test-1";
                inc.rule = "cpu_high";
                inc.series = SeriesKey("cpu_percent");
                inc.severity = Severity::critical;
                inc.peak_severity = Severity::critical;
                inc.start = now - std::chrono::minutes(3);
                inc.peak_value = 100;
                inc.last_value = 10;
                tick.incidents.push_back(inc);
            }
            auto r = (*st)->commit_tick(tick);
            ASSERT_TRUE(r) << r.error().message;
        }
    }
    auto run = run_cli(args({"report", "--stdout"}));
    ASSERT_TRUE(run.result) << run.result.error().message;
    const std::string& text = run.out;
    EXPECT_EQ(text.find("no history yet"), std::string::npos) << text;
    EXPECT_NE(text.find("  cpu_percent "), std::string::npos) << text;
    EXPECT_NE(text.find("disk_used_percent{mount=\"/\"}"), std::string::npos);
    EXPECT_NE(text.find("100.0%"), std::string::npos);  // the max of cpu_percent
    EXPECT_NE(text.find("cpu_high"), std::string::npos);
    EXPECT_NE(text.find("1 still open:"), std::string::npos);
}

TEST_F(ReportCli, sysinfo_prints_sourceable_facts_and_writes_a_file) {
    auto run = run_cli(args({"sysinfo"}));
    ASSERT_TRUE(run.result) << run.result.error().message;
    EXPECT_NE(run.out.find("HOSTNAME='gpu-box-1'\n"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("KERNEL='6.1.0-18-amd64'\n"), std::string::npos);
    EXPECT_NE(run.out.find("BOXMON_CONFIG='" + m_config.string() + "'\n"), std::string::npos);
    auto to_file = run_cli(args({"sysinfo", "--out", (m_dir / "facts.env").string()}));
    ASSERT_TRUE(to_file.result);
    EXPECT_EQ(test::read_file(m_dir / "facts.env"), run.out);
}

}  // namespace
}  // namespace boxmon::cli
