#pragma once
// One writer per state directory: `<state>/lock`, held with flock(2) for the life of the
// process and holding "PID MODE" (mode: run or sample) for the messages of the one that waits.
// The kernel drops the lock when the holder dies, however it dies, so a stale file never blocks.

#include <filesystem>
#include <optional>
#include <string>
#include <sys/types.h>

#include "core/result.hpp"

namespace boxmon::agent {

struct LockHolder {
    pid_t pid = 0;      // 0 when the file did not say
    std::string mode;   // "run", "sample" or ""
};

class InstanceLock {
public:
    // Takes the lock of `state_dir` (created 0700 when missing) without waiting. Fails with kind
    // busy naming the holder's PID and mode when another process holds it.
    static Result<InstanceLock> acquire(const std::filesystem::path& state_dir, std::string_view mode);
    // Who holds the lock now, or nullopt when nobody does (status uses it).
    static std::optional<LockHolder> holder(const std::filesystem::path& state_dir);

    InstanceLock(InstanceLock&& other) noexcept;
    InstanceLock& operator=(InstanceLock&& other) noexcept;
    InstanceLock(const InstanceLock&) = delete;
    InstanceLock& operator=(const InstanceLock&) = delete;
    ~InstanceLock();

private:
    explicit InstanceLock(int fd) : m_fd(fd) {}
    int m_fd = -1;
};

}  // namespace boxmon::agent
