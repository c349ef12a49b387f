#include "agent/lock.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/support/test_support.hpp"

namespace boxmon::agent {
namespace {

TEST(InstanceLock, a_second_holder_is_refused_naming_the_first_pid) {
    test::TempDir dir;
    auto first = InstanceLock::acquire(dir.path(), "run");
    ASSERT_TRUE(first) << first.error().message;
    // flock locks belong to the open file description: a second open in this process conflicts
    // exactly as another process would.
    auto second = InstanceLock::acquire(dir.path(), "sample");
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().kind, ErrorKind::busy);
    EXPECT_NE(second.error().message.find("PID " + std::to_string(::getpid())), std::string::npos)
        << second.error().message;
    EXPECT_NE(second.error().message.find("boxmon run"), std::string::npos) << second.error().message;

    const auto holder = InstanceLock::holder(dir.path());
    ASSERT_TRUE(holder);
    EXPECT_EQ(holder->pid, ::getpid());
    EXPECT_EQ(holder->mode, "run");
}

TEST(InstanceLock, is_free_again_when_the_holder_goes) {
    test::TempDir dir;
    {
        auto first = InstanceLock::acquire(dir.path(), "run");
        ASSERT_TRUE(first);
    }
    EXPECT_FALSE(InstanceLock::holder(dir.path()));
    auto again = InstanceLock::acquire(dir.path(), "sample");
    EXPECT_TRUE(again) << again.error().message;
}

TEST(InstanceLock, a_killed_holder_leaves_no_stale_lock) {
    test::TempDir dir;
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        auto l = InstanceLock::acquire(dir.path(), "run");
        if (!l) ::_exit(3);
        ::pause();
        ::_exit(0);
    }
    ASSERT_TRUE(test::wait_until([&] { return InstanceLock::holder(dir.path()).has_value(); },
                                 std::chrono::seconds(10)));
    EXPECT_EQ(InstanceLock::holder(dir.path())->pid, child);
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    EXPECT_FALSE(InstanceLock::holder(dir.path()));
    EXPECT_TRUE(InstanceLock::acquire(dir.path(), "run"));
}

TEST(InstanceLock, a_symlink_planted_at_the_lock_path_is_not_followed) {
    test::TempDir dir;
    test::write_file(dir / "victim", "keep me");
    std::filesystem::create_symlink(dir / "victim", dir / "lock");
    auto l = InstanceLock::acquire(dir.path(), "run");
    EXPECT_FALSE(l);
    EXPECT_EQ(test::read_file(dir / "victim"), "keep me");
}

TEST(InstanceLock, creates_a_missing_state_directory) {
    test::TempDir dir;
    auto l = InstanceLock::acquire(dir / "a" / "b", "sample");
    ASSERT_TRUE(l) << l.error().message;
    EXPECT_TRUE(std::filesystem::exists(dir / "a" / "b" / "lock"));
}

}  // namespace
}  // namespace boxmon::agent
