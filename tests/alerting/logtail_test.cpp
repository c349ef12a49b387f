// Log tails on real files in a temp dir: huge sparse files, rotation, truncation, odd bytes,
// FIFOs and devices (RELIABILITY L3-L5, B6, X11).
#include "core/logtail.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "core/redact.hpp"
#include "core/text.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon {
namespace {

using namespace std::chrono_literals;
using Lines = std::vector<std::string>;

std::string numbered(int from, int to, std::string_view eol = "\n") {
    std::string out;
    for (int i = from; i <= to; ++i) out += "line " + std::to_string(i) + std::string(eol);
    return out;
}

TailOptions opts(int lines) {
    TailOptions o;
    o.lines = lines;
    return o;
}

class LogTailTest : public ::testing::Test {
protected:
    test::TempDir dir;
    Redactor redactor;
};

TEST_F(LogTailTest, ReturnsTheLastLinesOldestFirst) {
    test::write_file(dir / "app.log", numbered(1, 100));
    auto t = read_file_tail(dir / "app.log", opts(3), redactor);
    EXPECT_EQ(t.lines, (Lines{"line 98", "line 99", "line 100"}));
    EXPECT_EQ(t.note, "");
    EXPECT_EQ(t.source, (dir / "app.log").string());
}

TEST_F(LogTailTest, ShortFileGivesEveryLine) {
    test::write_file(dir / "app.log", numbered(1, 2));
    auto t = read_file_tail(dir / "app.log", opts(20), redactor);
    EXPECT_EQ(t.lines, (Lines{"line 1", "line 2"}));
}

TEST_F(LogTailTest, LastLineWithoutNewlineIsKept) {
    test::write_file(dir / "app.log", "a\nb\npartial");
    auto t = read_file_tail(dir / "app.log", opts(2), redactor);
    EXPECT_EQ(t.lines, (Lines{"b", "partial"}));
}

TEST_F(LogTailTest, LinesAcrossBlockBoundariesAreWhole) {
    // 200-byte lines: several 64 KiB blocks are needed for 1000 lines.
    std::string content;
    for (int i = 0; i < 2000; ++i) content += fmt::format("{:04d}{}\n", i, std::string(195, 'x'));
    test::write_file(dir / "app.log", content);
    auto t = read_file_tail(dir / "app.log", opts(1000), redactor);
    ASSERT_EQ(t.lines.size(), 1000u);
    for (int i = 0; i < 1000; ++i) EXPECT_EQ(t.lines[static_cast<std::size_t>(i)], fmt::format("{:04d}{}", 1000 + i, std::string(195, 'x')));
}

TEST_F(LogTailTest, CrlfAndCrOnlyLineEndings) {
    test::write_file(dir / "crlf.log", numbered(1, 5, "\r\n"));
    EXPECT_EQ(read_file_tail(dir / "crlf.log", opts(2), redactor).lines, (Lines{"line 4", "line 5"}));
    test::write_file(dir / "cr.log", numbered(1, 5, "\r"));
    EXPECT_EQ(read_file_tail(dir / "cr.log", opts(2), redactor).lines, (Lines{"line 4", "line 5"}));
}

TEST_F(LogTailTest, MissingFileIsANoteNotAFailure) {
    auto t = read_file_tail(dir / "nope.log", opts(5), redactor);
    EXPECT_TRUE(t.lines.empty());
    EXPECT_EQ(t.note, "file not found: " + (dir / "nope.log").string());
}

TEST_F(LogTailTest, EmptyFileSaysSo) {
    test::write_file(dir / "empty.log", "");
    auto t = read_file_tail(dir / "empty.log", opts(5), redactor);
    EXPECT_TRUE(t.lines.empty());
    EXPECT_EQ(t.note, "the log is empty");
}

TEST_F(LogTailTest, HugeSparseFileReadsOnlyTheEnd) {
    // L3: 20 GB of holes, then 30 lines. Only the end is read, fast.
    const auto path = dir / "big.log";
    {
        const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(::ftruncate(fd, 20LL << 30), 0);
        ::close(fd);
        std::ofstream f(path, std::ios::app | std::ios::binary);
        f << "\n" << numbered(1, 30);
    }
    const auto start = std::chrono::steady_clock::now();
    auto t = read_file_tail(path, opts(20), redactor);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_EQ(t.lines.size(), 20u);
    EXPECT_EQ(t.lines.front(), "line 11");
    EXPECT_EQ(t.lines.back(), "line 30");
    EXPECT_LT(elapsed, 500ms);
}

TEST_F(LogTailTest, FileOfNulBytesIsBoundedAndValid) {
    // What some filesystems leave after a crash: 5 MiB of NULs, no newline at all.
    const auto path = dir / "nul.log";
    {
        const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(::ftruncate(fd, 5 << 20), 0);
        ::close(fd);
    }
    TailOptions o = opts(5);
    o.line_max_bytes = 100;
    auto t = read_file_tail(path, o, redactor);
    ASSERT_EQ(t.lines.size(), 1u);
    EXPECT_TRUE(is_valid_utf8(t.lines[0]));
    EXPECT_EQ(t.lines[0].find('\0'), std::string::npos);
    EXPECT_LE(t.lines[0].size(), 100u + 3);  // plus the leading "…"
    EXPECT_NE(t.note.find("longer than"), std::string::npos) << t.note;
}

TEST_F(LogTailTest, LongLinesAreCutWithAMarkerAtACodePoint) {
    std::string longline;
    for (int i = 0; i < 5000; ++i) longline += "é";  // 2 bytes each
    test::write_file(dir / "long.log", "short\n" + longline + "\n");
    TailOptions o = opts(2);
    o.line_max_bytes = 101;
    auto t = read_file_tail(dir / "long.log", o, redactor);
    ASSERT_EQ(t.lines.size(), 2u);
    EXPECT_EQ(t.lines[0], "short");
    EXPECT_LE(t.lines[1].size(), 101u);
    EXPECT_TRUE(t.lines[1].ends_with("…[truncated]"));
    EXPECT_TRUE(is_valid_utf8(t.lines[1]));
}

TEST_F(LogTailTest, InvalidUtf8AndNulAreReplaced) {
    // B6
    test::write_file(dir / "bad.log", std::string("ok\nbad \xff\xfe end\nnul ") + std::string(1, '\0') + " x\n");
    auto t = read_file_tail(dir / "bad.log", opts(3), redactor);
    ASSERT_EQ(t.lines.size(), 3u);
    EXPECT_EQ(t.lines[1], "bad \xEF\xBF\xBD\xEF\xBF\xBD end");
    EXPECT_EQ(t.lines[2], "nul \xEF\xBF\xBD x");
    for (const auto& l : t.lines) EXPECT_TRUE(is_valid_utf8(l));
}

TEST_F(LogTailTest, SecretsAreRedacted) {
    test::write_file(dir / "app.log", "login password=hunter2 ok\nAuthorization: Bearer abc.def.ghi\n");
    auto t = read_file_tail(dir / "app.log", opts(2), redactor);
    ASSERT_EQ(t.lines.size(), 2u);
    EXPECT_EQ(t.lines[0].find("hunter2"), std::string::npos) << t.lines[0];
    EXPECT_NE(t.lines[0].find("[REDACTED]"), std::string::npos);
    EXPECT_EQ(t.lines[1].find("abc.def.ghi"), std::string::npos) << t.lines[1];
}

TEST_F(LogTailTest, ConfiguredPatternsRedactToo) {
    auto r = Redactor::with_patterns({"CANARY-[0-9]+"});
    ASSERT_TRUE(r.has_value());
    test::write_file(dir / "app.log", "value CANARY-12345 here\n");
    auto t = read_file_tail(dir / "app.log", opts(1), *r);
    EXPECT_EQ(t.lines, (Lines{"value [REDACTED] here"}));
}

TEST_F(LogTailTest, RedactionCostIsBoundedByTheLineCap) {
    // X11: a 1 MiB line and a catastrophic user pattern; the cap keeps it fast.
    auto r = Redactor::with_patterns({"(a+)+$"});
    ASSERT_TRUE(r.has_value());
    test::write_file(dir / "x.log", std::string(50'000, 'a') + "b\n" + std::string(1 << 20, 'p') + "\n");
    TailOptions o = opts(2);
    o.line_max_bytes = 4096;
    o.read_max_bytes = 4u << 20;
    const auto start = std::chrono::steady_clock::now();
    auto t = read_file_tail(dir / "x.log", o, *r);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
    ASSERT_EQ(t.lines.size(), 2u);
    EXPECT_LE(t.lines[0].size(), 4096u + 16);
    EXPECT_LE(t.lines[1].size(), 4096u + 16);
}

TEST_F(LogTailTest, FillsFromTheRotatedFileWhenShort) {
    // L4: logrotate renamed the file and created a new one with two lines so far.
    test::write_file(dir / "app.log.1", numbered(1, 10));
    test::write_file(dir / "app.log", numbered(11, 12));
    auto t = read_file_tail(dir / "app.log", opts(5), redactor);
    EXPECT_EQ(t.lines, (Lines{"line 8", "line 9", "line 10", "line 11", "line 12"}));
    EXPECT_NE(t.note.find("(from rotated file)"), std::string::npos) << t.note;
    EXPECT_NE(t.note.find((dir / "app.log.1").string()), std::string::npos) << t.note;
}

TEST_F(LogTailTest, RotatedFillCanBeSwitchedOff) {
    test::write_file(dir / "app.log.1", numbered(1, 10));
    test::write_file(dir / "app.log", numbered(11, 12));
    TailOptions o = opts(5);
    o.from_rotated = false;
    auto t = read_file_tail(dir / "app.log", o, redactor);
    EXPECT_EQ(t.lines, (Lines{"line 11", "line 12"}));
    EXPECT_EQ(t.note, "");
}

TEST_F(LogTailTest, TruncatedFileIsReadFromItsNewEnd) {
    // copytruncate: the file was big, now it is short; nothing past EOF appears.
    test::write_file(dir / "app.log", numbered(1, 1000));
    ASSERT_EQ(::truncate((dir / "app.log").c_str(), 0), 0);
    {
        std::ofstream f(dir / "app.log", std::ios::app);
        f << "fresh 1\nfresh 2\n";
    }
    TailOptions o = opts(5);
    o.from_rotated = false;
    auto t = read_file_tail(dir / "app.log", o, redactor);
    EXPECT_EQ(t.lines, (Lines{"fresh 1", "fresh 2"}));
}

TEST_F(LogTailTest, FifoIsRefusedWithoutBlocking) {
    // L5: nobody writes to this FIFO; opening it for reading would block without O_NONBLOCK.
    ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0644), 0);
    const auto start = std::chrono::steady_clock::now();
    auto t = read_file_tail(dir / "fifo", opts(5), redactor);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
    EXPECT_TRUE(t.lines.empty());
    EXPECT_EQ(t.note, "not a regular file: " + (dir / "fifo").string() + " (FIFO)");
}

TEST_F(LogTailTest, DevicesDirectoriesAndSymlinkLoopsAreRefused) {
    auto zero = read_file_tail("/dev/zero", opts(5), redactor);
    EXPECT_EQ(zero.note, "not a regular file: /dev/zero (character device)");
    EXPECT_TRUE(zero.lines.empty());
    auto d = read_file_tail(dir.path(), opts(5), redactor);
    EXPECT_EQ(d.note, "not a regular file: " + dir.path().string() + " (directory)");
    std::filesystem::create_symlink(dir / "loop2", dir / "loop1");
    std::filesystem::create_symlink(dir / "loop1", dir / "loop2");
    auto loop = read_file_tail(dir / "loop1", opts(5), redactor);
    EXPECT_TRUE(loop.lines.empty());
    EXPECT_NE(loop.note.find("cannot read"), std::string::npos) << loop.note;
}

TEST_F(LogTailTest, ASymlinkToARegularFileIsFollowed) {
    test::write_file(dir / "real.log", numbered(1, 3));
    std::filesystem::create_symlink(dir / "real.log", dir / "link.log");
    EXPECT_EQ(read_file_tail(dir / "link.log", opts(1), redactor).lines, (Lines{"line 3"}));
}

TEST_F(LogTailTest, ReadLogTailUsesTheLogsOwnCountOrTheDefault) {
    test::write_file(dir / "app.log", numbered(1, 100));
    LogSourceConfig log;
    log.name = "app";
    log.path = dir / "app.log";
    TailOptions o = opts(4);  // [alerting] log_lines
    auto t = read_log_tail(log, o, redactor);
    EXPECT_EQ(t.name, "app");
    EXPECT_EQ(t.lines.size(), 4u);
    log.lines = 7;
    EXPECT_EQ(read_log_tail(log, o, redactor).lines.size(), 7u);
}

TEST_F(LogTailTest, JournalTailRunsJournalctlOrSaysWhyNot) {
    LogSourceConfig log;
    log.name = "sshd";
    log.journal_unit = "boxmon-test-no-such-unit.service";
    auto t = read_log_tail(log, opts(5), redactor);
    EXPECT_EQ(t.source, "journal:boxmon-test-no-such-unit.service");
    EXPECT_TRUE(t.lines.empty());
    // journalctl absent, failing (no journal in a container), or no entries: always a note.
    EXPECT_FALSE(t.note.empty());
}

}  // namespace
}  // namespace boxmon
