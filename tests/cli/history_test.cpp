// `boxmon sample` fills the database that status, query and export read.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/corrupt_db.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon {
namespace {

using namespace std::chrono_literals;

test::RunOptions timeout_of(std::chrono::milliseconds t) {
    test::RunOptions o;
    o.timeout = t;
    return o;
}

class History : public ::testing::Test {
protected:
    void SetUp() override {
        test::write_file(m_dir / "boxmon.toml",
                         "[general]\ninterval = \"1s\"\n[collectors]\ndisable = [\"gpu_nvidia\"]\n", 0600);
    }
    test::ProcessResult boxmon(std::vector<std::string> rest, test::RunOptions options = timeout_of(30s)) {
        std::vector<std::string> a = {"--config", (m_dir / "boxmon.toml").string(), "--state-dir",
                                      (m_dir / "state").string()};
        a.insert(a.end(), rest.begin(), rest.end());
        return test::run_boxmon(a, options);
    }
    // `boxmon sample` with the dynamic loader naming every library it maps (on stderr).
    test::ProcessResult sample_with_loader_log() {
        test::RunOptions o = timeout_of(30s);
        o.env["LD_DEBUG"] = "files";
        return boxmon({"sample"}, o);
    }
    test::TempDir m_dir;
};

// libcurl and its thirty-odd libraries are loaded only for a transfer, libcrypto only for a
// report's certificates: a sample with no HTTP check and only the log channel never maps them
// (the one-shot cost, docs/PERFORMANCE.md).
TEST_F(History, a_sample_without_network_work_does_not_load_libcurl_or_libcrypto) {
    const auto r = sample_with_loader_log();
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_NE(r.err.find("file=libsqlite3.so"), std::string::npos) << "LD_DEBUG=files printed nothing: " << r.err;
    EXPECT_EQ(r.err.find("libcurl"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("libcrypto"), std::string::npos) << r.err;
}

// fmt and spdlog are compiled into boxmon, toml++ is header-only and local time comes from the
// C library;
// the release build carries libstdc++ itself (BOXMON_STATIC_CXX_RUNTIME), the sanitizer build
// maps the shared one.
TEST_F(History, a_sample_maps_no_shared_cxx_library_but_the_runtime_it_was_built_for) {
    const auto r = sample_with_loader_log();
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_NE(r.err.find("file=libsqlite3.so"), std::string::npos) << "LD_DEBUG=files printed nothing: " << r.err;
    for (const char* lib : {"libfmt", "libspdlog", "libtomlplusplus", "libdate-tz"})
        EXPECT_EQ(r.err.find(lib), std::string::npos) << lib << " was loaded:\n" << r.err;
#ifdef BOXMON_TEST_STATIC_CXX_RUNTIME
    EXPECT_EQ(r.err.find("libstdc++"), std::string::npos) << r.err;
#else
    EXPECT_NE(r.err.find("libstdc++"), std::string::npos) << r.err;
#endif
}

// `--log-level debug` says what each collector did and why each rule moved, and each delivery
// attempt with the receiver's answer.
TEST_F(History, a_debug_log_names_each_collector_each_rule_decision_and_each_delivery_attempt) {
    test::write_file(m_dir / "boxmon.toml",
                     "[general]\ninterval = \"1s\"\n[collectors]\ndisable = [\"gpu_nvidia\"]\n"
                     "[rule_defaults]\nbuiltin = false\n"
                     "[[rules]]\nname = \"memory_any\"\nmetric = \"mem_used_percent\"\nop = \">\"\n"
                     "warning = 0\nfor = 1\n",
                     0600);
    const auto r = boxmon({"--log-level", "debug", "sample"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("collector cpu: ok in "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("rule memory_any on mem_used_percent: fired (value "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("on channel \"log\" (attempt 1)"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("channel \"log\" answered alert "), std::string::npos) << r.err;
    const auto quiet = boxmon({"sample"});
    EXPECT_EQ(quiet.err.find("collector cpu:"), std::string::npos) << "debug lines at the default level: " << quiet.err;
}

TEST_F(History, status_before_any_sample_says_how_to_get_one) {
    const auto r = boxmon({"status"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("boxmon sample"), std::string::npos) << r.err;
}

TEST_F(History, samples_are_read_back_by_status_query_and_export) {
    for (int i = 0; i < 3; ++i) {
        const auto r = boxmon({"sample"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        std::this_thread::sleep_for(1100ms);  // the next one-second slot
    }
    const auto status = boxmon({"status", "--json"});
    ASSERT_TRUE(status.exit_code == 0 || status.exit_code == 3) << status.err;  // 3: stale under load
    const auto j = nlohmann::json::parse(status.out);
    EXPECT_FALSE(j["last_sample"].is_null());
    bool has_cpu = false;
    for (const auto& v : j["values"]) has_cpu |= v["series"] == "cpu_percent";
    EXPECT_TRUE(has_cpu) << status.out;

    const auto query = boxmon({"query", "mem_used_percent", "--since", "1h", "--json"});
    ASSERT_EQ(query.exit_code, 0) << query.err;
    EXPECT_EQ(nlohmann::json::parse(query.out)["points"].size(), 3u) << query.out;

    const auto csv = boxmon({"export", "--format", "csv", "--since", "1h"});
    ASSERT_EQ(csv.exit_code, 0) << csv.err;
    EXPECT_EQ(csv.out.substr(0, csv.out.find('\n')),
              "timestamp,cpu_percent,gpu_util,mem_used_percent,net_bytes_in_per_s,net_bytes_out_per_s,"
              "disk_used_percent");
    EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 4) << csv.out;  // header + 3 ticks
    // The first tick has no cpu rate yet (one reading); the later ones do.
    const auto last_line = csv.out.substr(csv.out.rfind('\n', csv.out.size() - 2) + 1);
    EXPECT_EQ(last_line.substr(0, 2), "20") << last_line;  // an ISO 8601 timestamp
    EXPECT_NE(last_line.substr(last_line.find(',') + 1, 1), ",") << "no cpu_percent: " << last_line;
}

// RELIABILITY S4e end to end: `boxmon sample` checks only the header and schema at open, so
// damage deeper in the file is met by the tick's write. That sample moves the file aside, lands
// in a new database and tells the owner once (here through the built-in log channel); status and
// the report say where the old file went.
TEST_F(History, a_sample_that_meets_a_corrupt_database_moves_it_aside_and_status_and_report_say_so) {
    ASSERT_EQ(boxmon({"sample"}).exit_code, 0);
    const auto db = m_dir / "state" / "boxmon.db";
    test::corrupt_table(db, "recent_samples");
    std::this_thread::sleep_for(1100ms);  // the next one-second slot
    const auto r = boxmon({"sample"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("is corrupt: database disk image is malformed"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("boxmon: database_corrupt on"), std::string::npos) << "no notification: " << r.err;

    const auto json = boxmon({"status", "--json"});
    ASSERT_TRUE(json.exit_code == 0 || json.exit_code == 3) << json.err;
    const auto j = nlohmann::json::parse(json.out);
    ASSERT_TRUE(j["database_moved_aside"].is_object()) << json.out;
    const std::string to = j["database_moved_aside"]["to"];
    EXPECT_EQ(to.rfind(db.string() + ".corrupt-", 0), 0u) << to;
    EXPECT_TRUE(std::filesystem::exists(to)) << to;
    EXPECT_NE(j["database_moved_aside"]["reason"].get<std::string>().find("malformed"), std::string::npos);
    EXPECT_FALSE(j["last_sample"].is_null()) << "the sample landed in the new database";

    const auto text = boxmon({"status"});
    EXPECT_NE(text.out.find("a corrupt database was moved aside to " + to), std::string::npos) << text.out;
    // A sample stamped with the nearest slot, ahead of the clock, is not a clock that stepped back.
    EXPECT_EQ(text.out.find("clock stepped back"), std::string::npos) << text.out;
    const auto report = boxmon({"report", "--stdout"});
    ASSERT_EQ(report.exit_code, 0) << report.err;
    EXPECT_NE(report.out.find("a corrupt database was moved aside to " + to), std::string::npos) << report.out;

    // The one sample it held lived on the damaged page: salvage says nothing could be read.
    const auto salvaged = boxmon({"db", "salvage", to});
    EXPECT_EQ(salvaged.exit_code, 1) << salvaged.out << salvaged.err;
    EXPECT_NE(salvaged.out.find("nothing could be read from " + to), std::string::npos) << salvaged.out;
    EXPECT_NE(salvaged.out.find(" series-hours unreadable)"), std::string::npos) << salvaged.out;
    const auto itself = boxmon({"db", "salvage", db.string()});
    EXPECT_EQ(itself.exit_code, 2) << itself.err;
    EXPECT_NE(itself.err.find("is the database boxmon writes"), std::string::npos) << itself.err;
}

TEST_F(History, status_exits_3_when_the_last_sample_is_older_than_three_intervals) {
    ASSERT_EQ(boxmon({"sample"}).exit_code, 0);
    std::this_thread::sleep_for(3500ms);  // interval 1 s
    const auto r = boxmon({"status"});
    EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
    EXPECT_NE(r.out.find("STALE"), std::string::npos) << r.out;
}

// RELIABILITY X4: a channel that skips certificate checks is named by status as well as at start.
TEST_F(History, status_names_a_channel_that_skips_tls_verification) {
    test::write_file(m_dir / "boxmon.toml",
                     "[general]\ninterval = \"1s\"\n[collectors]\ndisable = [\"gpu_nvidia\"]\n"
                     "[[channels]]\nname = \"lab-hook\"\ntype = \"webhook\"\n"
                     "url = \"https://127.0.0.1:9/hook\"\ntls_skip_verify = true\n"
                     "[[channels]]\nname = \"ops-hook\"\ntype = \"webhook\"\nurl = \"https://127.0.0.1:9/ops\"\n",
                     0600);
    const auto sample = boxmon({"sample"});
    ASSERT_EQ(sample.exit_code, 0) << sample.err;
    EXPECT_NE(sample.err.find("TLS certificates of channel \"lab-hook\" are not verified"), std::string::npos)
        << sample.err;
    const auto text = boxmon({"status"});
    EXPECT_NE(text.out.find("WARNING: channel \"lab-hook\" does not verify"), std::string::npos) << text.out;
    EXPECT_EQ(text.out.find("ops-hook"), std::string::npos) << text.out;
    const auto json = boxmon({"status", "--json"});
    EXPECT_EQ(nlohmann::json::parse(json.out)["tls_unverified_channels"], nlohmann::json::array({"lab-hook"}))
        << json.out;
}

TEST_F(History, query_refuses_a_bad_duration_with_exit_2) {
    ASSERT_EQ(boxmon({"sample"}).exit_code, 0);
    const auto r = boxmon({"query", "cpu_percent", "--since", "yesterday"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("--since"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace boxmon
