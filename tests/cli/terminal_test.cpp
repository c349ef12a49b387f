// RELIABILITY B6 through the real binary: a mount point is outside data (any user may mount FUSE
// on a directory of their own), so one named with a terminal escape sequence must reach the
// human-readable outputs (sample --print, status, alerts) escaped, and the JSON outputs intact.
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/test_support.hpp"

namespace boxmon {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// OSC 0 ("set the window title"), the classic terminal injection.
const std::string k_hostile = "/mnt/\x1b]0;pwned\x07";
const std::string k_escaped = R"(/mnt/\x1b]0;pwned\x07)";

class HostileMount : public ::testing::Test {
protected:
    void SetUp() override {
        fs::copy(test::fixtures_dir() / "linux" / "small-box" / "t0", m_dir / "tree", fs::copy_options::recursive);
        append(m_dir / "tree" / "proc" / "self" / "mountinfo",
               "99 24 8:17 / " + k_hostile + " rw,relatime shared:99 - ext4 /dev/sdb1 rw\n");
        // 95 % used: the built-in disk_full rule opens an incident at once (for = 1).
        append(m_dir / "tree" / "statvfs.txt", k_hostile + " 4096 1000 50 50 100 50\n");
        test::write_file(m_dir / "boxmon.toml",
                         "[collectors]\ndisable = [\"gpu_nvidia\", \"services\"]\n[rule_defaults]\nfor = 1\n", 0600);
    }
    static void append(const fs::path& file, const std::string& text) {
        test::write_file(file, test::read_file(file) + text);
    }
    test::ProcessResult boxmon(std::vector<std::string> rest) {
        std::vector<std::string> a = {"--config",    (m_dir / "boxmon.toml").string(), "--state-dir",
                                      (m_dir / "state").string(), "--root-proc", (m_dir / "tree" / "proc").string(),
                                      "--root-sys",  (m_dir / "tree" / "sys").string()};
        a.insert(a.end(), rest.begin(), rest.end());
        test::RunOptions o;
        o.timeout = 30s;
        return test::run_boxmon(a, o);
    }
    test::TempDir m_dir;
};

TEST_F(HostileMount, its_escape_sequence_is_shown_escaped_on_every_terminal_output_and_intact_in_json) {
    const auto sample = boxmon({"sample", "--print"});
    ASSERT_EQ(sample.exit_code, 0) << sample.err;
    const auto status = boxmon({"status"});
    ASSERT_TRUE(status.exit_code == 0 || status.exit_code == 3) << status.err;
    const auto alerts = boxmon({"alerts", "--since", "1h"});
    ASSERT_EQ(alerts.exit_code, 0) << alerts.err;
    for (const auto* r : {&sample, &status, &alerts}) {
        EXPECT_EQ(r->out.find('\x1b'), std::string::npos) << "a raw ESC reached the terminal:\n" << r->out;
        EXPECT_EQ(r->out.find('\x07'), std::string::npos) << "a raw BEL reached the terminal:\n" << r->out;
        EXPECT_NE(r->out.find(k_escaped), std::string::npos) << "the mount is not shown at all:\n" << r->out;
    }
    EXPECT_NE(status.out.find("disk_full"), std::string::npos) << status.out;

    // Scripts get the real name: JSON escapes it itself.
    const auto json = boxmon({"status", "--json"});
    ASSERT_TRUE(json.exit_code == 0 || json.exit_code == 3) << json.err;
    EXPECT_EQ(json.out.find('\x1b'), std::string::npos);
    const auto parsed = nlohmann::json::parse(json.out);
    bool found = false;
    for (const auto& v : parsed.at("values"))
        found = found || v.at("series").get<std::string>() == "disk_used_percent{mount=\"" + k_hostile + "\"}";
    EXPECT_TRUE(found) << json.out;
}

}  // namespace
}  // namespace boxmon
