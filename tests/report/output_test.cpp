// Report files: names, atomic writes (RELIABILITY C7), symlink tricks (X10), rotation.
#include <gtest/gtest.h>

#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>

#include "report/output.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon::report {
namespace {

namespace fs = std::filesystem;

class ReportOutput : public ::testing::Test {
protected:
    void SetUp() override {
        ::setenv("TZ", "UTC", 1);
        ::tzset();
    }
    // 2026-11-23 12:03:09 UTC
    const WallTime m_now = from_unix_seconds(1795435389);
};

std::vector<std::string> names_in(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

TEST_F(ReportOutput, file_name_is_local_time_and_the_pattern_matches_only_it) {
    EXPECT_EQ(report_file_name(m_now), "system-report-20261123-120309.txt");
    ::setenv("TZ", "Asia/Tokyo", 1);
    EXPECT_EQ(report_file_name(m_now, ".md"), "system-report-20261123-210309.md");
    EXPECT_TRUE(is_report_file_name("system-report-20261123-120309.txt"));
    EXPECT_TRUE(is_report_file_name("system-report-20261123-120309.json"));
    EXPECT_FALSE(is_report_file_name("system-report-20261123-120309.txt.bak"));
    EXPECT_FALSE(is_report_file_name("system-report-2026112-120309.txt"));
    EXPECT_FALSE(is_report_file_name("system-report-20261123-12030x.txt"));
    EXPECT_FALSE(is_report_file_name("notes.txt"));
    EXPECT_FALSE(is_report_file_name(".system-report-20261123-120309.txt.tmp-0a0b0c0d"));
}

TEST_F(ReportOutput, writes_a_0600_file_in_a_new_0700_folder_and_returns_its_path) {
    test::TempDir dir;
    auto path = write_report(dir / "state/reports", m_now, ".txt", "hello\n");
    ASSERT_TRUE(path) << path.error().message;
    EXPECT_EQ(*path, dir / "state/reports/system-report-20261123-120309.txt");
    EXPECT_EQ(test::read_file(*path), "hello\n");
    struct stat st{};
    ASSERT_EQ(::stat(path->c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    ASSERT_EQ(::stat((dir / "state/reports").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700u);
    EXPECT_EQ(names_in(dir / "state/reports"), std::vector<std::string>{"system-report-20261123-120309.txt"});
}

TEST_F(ReportOutput, a_planted_symlink_at_the_final_name_is_refused_and_the_canary_untouched) {
    test::TempDir dir;
    test::write_file(dir / "canary", "canary\n");
    fs::create_directories(dir / "reports");
    fs::create_symlink(dir / "canary", dir / "reports/system-report-20261123-120309.txt");
    auto r = write_report(dir / "reports", m_now, ".txt", "report\n");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, (dir / "reports/system-report-20261123-120309.txt").string() +
                                     " already exists; not overwritten; run again in a second");
    EXPECT_EQ(test::read_file(dir / "canary"), "canary\n");
}

TEST_F(ReportOutput, a_reports_folder_that_is_a_symlink_is_refused) {
    test::TempDir dir;
    fs::create_directories(dir / "elsewhere");
    fs::create_directory_symlink(dir / "elsewhere", dir / "reports");
    auto r = write_report(dir / "reports", m_now, ".txt", "report\n");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("is a symlink; refusing to write through it"), std::string::npos);
    EXPECT_TRUE(fs::is_empty(dir / "elsewhere"));
}

TEST_F(ReportOutput, rotation_keeps_the_newest_and_deletes_only_matching_files) {
    test::TempDir dir;
    const fs::path r = dir / "reports";
    for (int i = 0; i < 5; ++i)
        test::write_file(r / fmt::format("system-report-2026112{}-120000.txt", i), "x", 0600);
    test::write_file(r / "system-report-20261119-000000.md", "x", 0600);
    test::write_file(r / "notes.txt", "mine", 0600);
    test::write_file(r / "system-report-20261101-000000.txt.bak", "mine", 0600);
    fs::create_directory(r / "system-report-20261101-000000.txt");  // a folder with the pattern name
    test::write_file(dir / "canary", "canary");
    fs::create_symlink(dir / "canary", r / "system-report-20261102-000000.txt");
    auto deleted = rotate_reports(r, 3);
    ASSERT_TRUE(deleted) << deleted.error().message;
    EXPECT_EQ(*deleted, 3u);
    EXPECT_EQ(names_in(r), (std::vector<std::string>{"notes.txt", "system-report-20261101-000000.txt",
                                                     "system-report-20261101-000000.txt.bak",
                                                     "system-report-20261102-000000.txt",
                                                     "system-report-20261122-120000.txt",
                                                     "system-report-20261123-120000.txt",
                                                     "system-report-20261124-120000.txt"}));
    EXPECT_EQ(test::read_file(dir / "canary"), "canary");
}

TEST_F(ReportOutput, a_stale_temporary_file_of_an_interrupted_write_is_removed_later) {
    test::TempDir dir;
    const fs::path r = dir / "reports";
    const fs::path stale = r / ".system-report-20261123-110000.txt.tmp-0a0b0c0d";
    const fs::path fresh = r / ".system-report-20261123-120000.txt.tmp-01020304";
    test::write_file(stale, "half a rep", 0600);
    test::write_file(fresh, "being written", 0600);
    const auto old = fs::file_time_type::clock::now() - std::chrono::hours(2);
    fs::last_write_time(stale, old);
    auto deleted = rotate_reports(r, 30);
    ASSERT_TRUE(deleted);
    EXPECT_EQ(*deleted, 1u);
    EXPECT_FALSE(fs::exists(stale));
    EXPECT_TRUE(fs::exists(fresh));
    // And a new report never picks up a temporary file's content.
    auto path = write_report(r, m_now, ".txt", "complete\n");
    ASSERT_TRUE(path);
    EXPECT_EQ(test::read_file(*path), "complete\n");
}

TEST_F(ReportOutput, a_full_disk_leaves_no_file_and_says_report_not_written) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a 64 KiB tmpfs in a private mount namespace";
    test::TempDir dir;
    fs::create_directories(dir / "small");
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        // Child: private mount namespace, tiny tmpfs, one oversized report.
        if (::unshare(CLONE_NEWNS) != 0) ::_exit(77);
        if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) ::_exit(77);
        if (::mount("tmpfs", (dir / "small").c_str(), "tmpfs", 0, "size=64k") != 0) ::_exit(77);
        auto r = write_report(dir / "small", from_unix_seconds(1795435389), ".txt", std::string(1 << 20, 'x'));
        int code = 0;
        if (r) code = 10;
        else if (r.error().message != "no space left on device writing " + (dir / "small").string() +
                                          "; report not written")
            code = 11;
        else if (!fs::is_empty(dir / "small"))
            code = 12;
        ::_exit(code);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77) GTEST_SKIP() << "cannot unshare the mount namespace or mount tmpfs here";
    EXPECT_EQ(WEXITSTATUS(status), 0) << "10: written anyway, 11: wrong message, 12: a file was left behind";
}

}  // namespace
}  // namespace boxmon::report
