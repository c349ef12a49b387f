// Two writer connections in one process (the daemon's main one and its dispatcher's) beside
// readers in other processes (`boxmon status`): every commit must still succeed. Background: the
// second connection used to open and close the database files to probe them, and closing any
// descriptor of a file drops all of the process's POSIX locks on it; the daemon end-to-end test
// then died of SIGBUS in the WAL writer in 2 of 10 runs (0 of 25 since the fix). This in-process
// test exercises the same sequence but did not reproduce that crash; the daemon test
// (tests/cli/daemon_test.cpp) is the one that detects it.
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "store/store.hpp"
#include "tests/store/store_test_util.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon::store::test {
namespace {

// Opens the database read-only in a child process, reads, closes: what `boxmon status` does.
int read_in_child(const std::filesystem::path& db) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        auto o = options_for(db);
        o.read_only = true;
        o.quick_check = false;
        auto s = Store::open(o);
        if (!s) ::_exit(2);
        auto last = (*s)->last_tick();
        ::_exit(last ? 0 : 3);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(StoreTwoWriters, readers_in_other_processes_never_reset_the_writers_shared_memory) {
    boxmon::test::TempDir dir;
    const auto db = dir / "boxmon.db";
    auto main = open_ok(options_for(db));
    ASSERT_TRUE(main);
    ASSERT_TRUE(main->commit_tick(make_tick(0)));
    // The dispatcher's connection, opened after the first one is live.
    auto second = open_ok(options_for(db));
    ASSERT_TRUE(second);
    for (int i = 1; i <= 40; ++i) {
        ASSERT_EQ(read_in_child(db), 0);
        // With the first connection's locks dropped, a reader that closes last resets -shm and
        // this commit crashes the test process (SIGBUS) or fails.
        auto r = main->commit_tick(make_tick(i));
        ASSERT_TRUE(r) << r.error().message;
    }
    auto counts = second->outbox().counts();
    ASSERT_TRUE(counts) << counts.error().message;
    EXPECT_EQ(sql_text(db, "SELECT count(*) FROM ticks"), "41");
}

}  // namespace
}  // namespace boxmon::store::test
