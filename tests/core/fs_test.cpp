#include "core/fs.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>

#include <gtest/gtest.h>

#include "tests/support/test_support.hpp"

namespace boxmon {
namespace {

using test::TempDir;
using test::write_file;

TEST(ReadBounded, reads_a_whole_file) {
    TempDir d;
    write_file(d / "a", "hello\nworld\n");
    auto r = read_bounded(d / "a");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(*r, "hello\nworld\n");
}

TEST(ReadBounded, reads_pseudo_files_whose_size_reads_as_zero) {
    auto r = read_bounded("/proc/self/stat");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_FALSE(r->empty());
}

TEST(ReadBounded, a_missing_file_is_not_found_with_its_path) {
    TempDir d;
    auto r = read_bounded(d / "nope");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::not_found);
    EXPECT_EQ(r.error().message, "open " + (d / "nope").string() + ": No such file or directory");
}

TEST(ReadBounded, a_fifo_is_refused_without_blocking) {
    TempDir d;
    ASSERT_EQ(::mkfifo((d / "fifo").c_str(), 0600), 0);
    const auto start = std::chrono::steady_clock::now();
    auto r = read_bounded(d / "fifo");
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "not a regular file: " + (d / "fifo").string() + " (FIFO)");
}

TEST(ReadBounded, a_directory_is_refused) {
    TempDir d;
    auto r = read_bounded(d.path());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "not a regular file: " + d.path().string() + " (directory)");
}

TEST(ReadBounded, a_file_over_the_limit_is_refused) {
    TempDir d;
    write_file(d / "big", std::string(10'000, 'x'));
    auto r = read_bounded(d / "big", 4096);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, (d / "big").string() + " is larger than 4096 bytes; not read");
}

TEST(RootFs, builds_paths_under_its_roots) {
    RootFs fixture("/tmp/fx/proc", "/tmp/fx/sys");
    EXPECT_EQ(fixture.proc("net/dev"), "/tmp/fx/proc/net/dev");
    EXPECT_EQ(fixture.sys("class/hwmon"), "/tmp/fx/sys/class/hwmon");
    EXPECT_FALSE(fixture.is_host());
    EXPECT_TRUE(RootFs().is_host());
}

TEST(ListDir, returns_sorted_names_and_not_found_for_a_missing_directory) {
    TempDir d;
    write_file(d / "b", "");
    write_file(d / "a", "");
    auto names = list_dir(d.path());
    ASSERT_TRUE(names);
    EXPECT_EQ(*names, (std::vector<std::string>{"a", "b"}));
    auto missing = list_dir(d / "missing");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().kind, ErrorKind::not_found);
}

TEST(WriteFileAtomic, writes_the_content_with_the_exact_mode_whatever_the_umask) {
    TempDir d;
    const mode_t old = ::umask(0);
    auto r = write_file_atomic(d / "out.txt", "content", 0600);
    ::umask(old);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(test::read_file(d / "out.txt"), "content");
    struct stat st {};
    ASSERT_EQ(::stat((d / "out.txt").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST(WriteFileAtomic, replaces_a_planted_symlink_instead_of_writing_through_it) {
    TempDir d;
    write_file(d / "canary", "untouched");
    std::filesystem::create_symlink(d / "canary", d / "report.txt");
    ASSERT_TRUE(write_file_atomic(d / "report.txt", "new", 0600));
    EXPECT_EQ(test::read_file(d / "canary"), "untouched");
    EXPECT_FALSE(std::filesystem::is_symlink(d / "report.txt"));
    EXPECT_EQ(test::read_file(d / "report.txt"), "new");
}

TEST(WriteFileAtomic, leaves_no_temporary_file_when_the_directory_is_missing) {
    TempDir d;
    auto r = write_file_atomic(d / "missing" / "x", "data");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("No such file or directory"), std::string::npos);
    EXPECT_EQ(list_dir(d.path())->size(), 0u);
}

TEST(OwnExecutablePath, names_this_test_binary) {
    const auto exe = own_executable_path();
    ASSERT_FALSE(exe.empty());
    EXPECT_TRUE(exe.is_absolute());
    EXPECT_EQ(exe.filename(), "core_tests");
}

}  // namespace
}  // namespace boxmon

namespace boxmon {
namespace {

// S9: the statfs types on which SQLite's WAL is unsafe, and the local ones that are not.
TEST(NetworkFilesystem, names_network_and_fuse_types_and_nothing_local) {
    EXPECT_EQ(network_filesystem_name(0x6969), "nfs");
    EXPECT_EQ(network_filesystem_name(0xFF534D42), "cifs");
    EXPECT_EQ(network_filesystem_name(0xFE534D42), "smb2");
    EXPECT_EQ(network_filesystem_name(0x65735546), "fuse");
    EXPECT_EQ(network_filesystem_name(0x00C36400), "ceph");
    EXPECT_EQ(network_filesystem_name(0x01021997), "9p");
    for (const std::uint64_t local : {0xEF53u /* ext4 */, 0x58465342u /* xfs */, 0x9123683Eu /* btrfs */,
                                      0x01021994u /* tmpfs */, 0x2FC12FC1u /* zfs */})
        EXPECT_EQ(network_filesystem_name(local), "") << std::hex << local;
    // statfs of a real path: procfs is not a network filesystem; a missing path is not either.
    EXPECT_EQ(network_filesystem_of("/proc/self"), "");
    EXPECT_EQ(network_filesystem_of("/nonexistent/boxmon"), "");
}

}  // namespace
}  // namespace boxmon
