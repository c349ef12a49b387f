// run_subprocess against real programs (/bin/sh, cat, sleep): no mocks.
#include "core/subprocess.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/test_support.hpp"

namespace boxmon {
namespace {

using namespace std::chrono_literals;

SubprocessResult run_ok(const std::vector<std::string>& argv, const SubprocessOptions& options = {}) {
    auto result = run_subprocess(argv, options);
    EXPECT_TRUE(result.has_value()) << (result ? "" : result.error().message);
    return result ? *result : SubprocessResult{};
}

TEST(Subprocess, CapturesStdoutStderrAndExitCode) {
    auto r = run_ok({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
    EXPECT_EQ(r.out, "out\n");
    EXPECT_EQ(r.err, "err\n");
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_EQ(r.signal, 0);
    EXPECT_FALSE(r.timed_out);
}

// RELIABILITY X12: a secret boxmon read from its environment never reaches a child (sendmail,
// a command check): children get a clean environment, PATH and LANG only.
TEST(Subprocess, ChildrenNeverInheritTheAgentsEnvironment) {
    ::setenv("BOXMON_SMTP_PASSWORD", "canary-7f3a9d", 1);
    auto r = run_ok({"/usr/bin/env"});
    ::unsetenv("BOXMON_SMTP_PASSWORD");
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out.find("canary-7f3a9d"), std::string::npos) << r.out;
    EXPECT_EQ(r.out, "LANG=C.UTF-8\nPATH=/usr/sbin:/usr/bin:/sbin:/bin\n");
}

TEST(Subprocess, PassesArgumentsWithoutAShell) {
    auto r = run_ok({"/bin/echo", "$HOME", "a b", ";", "`id`"});
    EXPECT_EQ(r.out, "$HOME a b ; `id`\n");
}

TEST(Subprocess, LooksUpTheProgramInTheChildsPath) {
    auto r = run_ok({"echo", "hi"});
    EXPECT_EQ(r.out, "hi\n");
    EXPECT_EQ(r.exit_code, 0);
}

TEST(Subprocess, MissingProgramIsNotFound) {
    auto r = run_subprocess({"boxmon-no-such-program-xyz"});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().kind, ErrorKind::not_found);
    EXPECT_NE(r.error().message.find("boxmon-no-such-program-xyz"), std::string::npos);

    auto abs = run_subprocess({"/nonexistent/dir/prog"});
    ASSERT_FALSE(abs.has_value());
    EXPECT_EQ(abs.error().kind, ErrorKind::not_found);
    EXPECT_NE(abs.error().message.find("/nonexistent/dir/prog"), std::string::npos);
}

TEST(Subprocess, NonExecutableFileFailsWithThePath) {
    test::TempDir dir;
    test::write_file(dir / "script", "#!/bin/sh\necho x\n", 0644);
    // A file without x bits: execve fails with EACCES (even for root, no x bit at all).
    auto r = run_subprocess({(dir / "script").string()});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().kind, ErrorKind::runtime);
    EXPECT_EQ(r.error().sys_errno, EACCES);
    EXPECT_NE(r.error().message.find((dir / "script").string()), std::string::npos);
}

TEST(Subprocess, EmptyArgvIsAUsageError) {
    auto r = run_subprocess({});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().kind, ErrorKind::usage);
}

TEST(Subprocess, FeedsLargeStdinWhileTheChildWritesLargeOutputWithoutDeadlock) {
    // 8 MiB through cat: far more than a pipe buffer in both directions at once.
    std::string input;
    input.reserve(8u << 20);
    for (int i = 0; input.size() < (8u << 20); ++i) input += "line " + std::to_string(i) + "\n";
    SubprocessOptions options;
    options.stdin_data = input;
    options.output_max_bytes = 16u << 20;
    options.timeout = 30s;
    auto r = run_ok({"/bin/cat"}, options);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.out.size(), input.size());
    EXPECT_TRUE(r.out == input);
    EXPECT_FALSE(r.stdin_cut);
}

TEST(Subprocess, EmptyStdinIsEof) {
    auto r = run_ok({"/bin/cat"});
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.exit_code, 0);
}

TEST(Subprocess, ChildThatIgnoresStdinDoesNotKillUsWithSigpipe) {
    SubprocessOptions options;
    options.stdin_data = std::string(4u << 20, 'x');
    auto r = run_ok({"/bin/sh", "-c", "exec 0<&-; echo done"}, options);
    EXPECT_EQ(r.out, "done\n");
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_TRUE(r.stdin_cut) << "it said so";
}

TEST(Subprocess, OutputIsCappedPerStreamAndTheRestDrained) {
    SubprocessOptions options;
    options.output_max_bytes = 1000;
    auto r = run_ok({"/bin/sh", "-c", "head -c 300000 /dev/zero; head -c 5000 /dev/zero >&2; echo tail >&2"}, options);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out.size(), 1000u);
    EXPECT_EQ(r.err.size(), 1000u);
    EXPECT_TRUE(r.out_truncated);
    EXPECT_TRUE(r.err_truncated);
    EXPECT_FALSE(r.timed_out);
}

TEST(Subprocess, TimeoutKillsTheWholeProcessGroup) {
    test::TempDir dir;
    const auto pid_file = dir / "grandchild.pid";
    SubprocessOptions options;
    options.timeout = 300ms;
    const auto start = std::chrono::steady_clock::now();
    // The grandchild runs in the background holding stdout; the timeout must kill it too.
    auto r = run_ok({"/bin/sh", "-c", "sleep 30 & echo $! > " + pid_file.string() + "; echo started; wait"}, options);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_TRUE(r.timed_out);
    EXPECT_EQ(r.exit_code, -1);
    EXPECT_EQ(r.signal, SIGKILL);
    EXPECT_EQ(r.out, "started\n");
    EXPECT_LT(elapsed, 5s);
    const pid_t grandchild = std::stoi(test::read_file(pid_file));
    // Killed: gone, or a zombie until whoever inherited it reaps it (in a container that may
    // be a PID 1 that never does).
    auto dead = [&] {
        if (::kill(grandchild, 0) != 0) return true;
        std::ifstream stat("/proc/" + std::to_string(grandchild) + "/stat");
        std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
        const auto paren = text.rfind(')');
        return paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] == 'Z';
    };
    EXPECT_TRUE(test::wait_until(dead, 5000ms)) << "grandchild " << grandchild << " survived the timeout";
}

TEST(Subprocess, ChildThatClosesItsOutputsStillHitsTheTimeout) {
    SubprocessOptions options;
    options.timeout = 200ms;
    auto r = run_ok({"/bin/sh", "-c", "exec >&- 2>&-; sleep 30"}, options);
    EXPECT_TRUE(r.timed_out);
    EXPECT_EQ(r.signal, SIGKILL);
}

TEST(Subprocess, BackgroundDaemonHoldingThePipeDoesNotDelayTheResult) {
    SubprocessOptions options;
    options.timeout = 20s;
    const auto start = std::chrono::steady_clock::now();
    auto r = run_ok({"/bin/sh", "-c", "sleep 3 & echo parent-done"}, options);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out, "parent-done\n");
}

TEST(Subprocess, ReportsTheSignalThatEndedTheChild) {
    auto r = run_ok({"/bin/sh", "-c", "kill -TERM $$"});
    EXPECT_EQ(r.exit_code, -1);
    EXPECT_EQ(r.signal, SIGTERM);
    EXPECT_FALSE(r.timed_out);
}

TEST(Subprocess, EnvironmentIsExactlyTheGivenOneOrTheDefault) {
    auto def = run_ok({"/usr/bin/env"});
    EXPECT_EQ(def.out, "LANG=C.UTF-8\nPATH=/usr/sbin:/usr/bin:/sbin:/bin\n");
    SubprocessOptions options;
    options.env = {{"FOO", "bar baz"}, {"PATH", "/bin:/usr/bin"}};
    auto given = run_ok({"/usr/bin/env"}, options);
    EXPECT_EQ(given.out, "FOO=bar baz\nPATH=/bin:/usr/bin\n");
}

TEST(Subprocess, WorkingDirectoryDefaultsToRootAndCanBeSet) {
    EXPECT_EQ(run_ok({"/bin/pwd"}).out, "/\n");
    test::TempDir dir;
    SubprocessOptions options;
    options.cwd = dir.path();
    EXPECT_EQ(run_ok({"/bin/pwd"}, options).out, dir.path().string() + "\n");
}

TEST(Subprocess, MissingWorkingDirectoryFails) {
    SubprocessOptions options;
    options.cwd = "/nonexistent-boxmon-dir";
    auto r = run_subprocess({"/bin/true"}, options);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().sys_errno, ENOENT);
}

TEST(Subprocess, ChildInheritsNoOtherDescriptors) {
    // A descriptor without close-on-exec in the parent must still not reach the child.
    const int opened = ::open("/dev/null", O_RDONLY);  // no O_CLOEXEC on purpose
    ASSERT_GE(opened, 0);
    const int leaked = ::fcntl(opened, F_DUPFD, 57);  // F_DUPFD: close-on-exec clear
    ::close(opened);
    ASSERT_GE(leaked, 57);
    const std::string probe = "for fd in 3 4 5 6 7 8 9 " + std::to_string(leaked) +
                              "; do test -e /dev/fd/$fd && echo open $fd; done; echo end";
    auto r = run_ok({"/bin/sh", "-c", probe});
    ::close(leaked);
    EXPECT_EQ(r.out, "end\n");
}

TEST(Subprocess, ChildRunsInItsOwnProcessGroup) {
    auto r = run_ok({"/bin/sh", "-c", "ps -o pgid= -p $$; echo $$"});
    if (r.exit_code != 0) GTEST_SKIP() << "ps not available: " << r.err;
    const auto nl = r.out.find('\n');
    ASSERT_NE(nl, std::string::npos);
    EXPECT_EQ(std::stoi(r.out.substr(0, nl)), std::stoi(r.out.substr(nl + 1)));
}

TEST(Subprocess, ResetsIgnoredSigpipeForTheChild) {
    struct sigaction ignore {}, old {};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ignore, &old);
    // yes | head: yes must die of SIGPIPE (141), not loop on EPIPE forever.
    SubprocessOptions options;
    options.timeout = 10s;
    auto r = run_ok({"/bin/sh", "-c", "yes | head -n 1 >/dev/null; echo ok"}, options);
    ::sigaction(SIGPIPE, &old, nullptr);
    EXPECT_EQ(r.out, "ok\n");
    EXPECT_FALSE(r.timed_out);
}

}  // namespace
}  // namespace boxmon
