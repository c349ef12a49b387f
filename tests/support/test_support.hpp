#pragma once
// Shared helpers for boxmon's tests: temporary directories, files, fixture paths, and real
// child processes (the boxmon binary, python servers) with captured output and bounded waits.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace boxmon::test {

std::filesystem::path source_dir();
std::filesystem::path fixtures_dir();
std::filesystem::path boxmon_binary();
std::string python3();

// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return m_path; }
    std::filesystem::path operator/(std::string_view rel) const { return m_path / rel; }

private:
    std::filesystem::path m_path;
};

// Writes `content` to `path` (parents created) and sets `mode`.
void write_file(const std::filesystem::path& path, std::string_view content, unsigned mode = 0644);
// The whole file; throws when it cannot be read.
std::string read_file(const std::filesystem::path& path);

struct RunOptions {
    std::map<std::string, std::string> env;  // added to (or replacing in) the inherited environment
    std::vector<std::string> unset_env;      // removed from the inherited environment
    std::optional<std::string> stdin_data;
    std::chrono::milliseconds timeout{60'000};
    std::filesystem::path cwd;
};

struct ProcessResult {
    int exit_code = -1;  // -1 when killed by a signal
    int signal = 0;
    bool timed_out = false;
    std::string out;
    std::string err;
};

// Runs argv (no shell) to completion or until the timeout (then SIGKILL), capturing output.
ProcessResult run_process(const std::vector<std::string>& argv, const RunOptions& options = {});
// Runs the boxmon binary with `args`.
ProcessResult run_boxmon(const std::vector<std::string>& args, const RunOptions& options = {});

// A child process running in the background with its output captured as it arrives.
class Process {
public:
    Process(const std::vector<std::string>& argv, const RunOptions& options = {});
    ~Process();  // SIGKILL and reap if still running
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    pid_t pid() const { return m_pid; }
    void signal(int sig);
    // Waits for the exit (SIGKILL after `timeout`); returns the result with all output.
    ProcessResult wait(std::chrono::milliseconds timeout);
    bool running();
    std::string out();
    std::string err();
    // Waits until stderr (or stdout) contains `text`; false after `deadline`.
    bool wait_for_err(std::string_view text, std::chrono::milliseconds deadline);
    bool wait_for_out(std::string_view text, std::chrono::milliseconds deadline);

private:
    void reader();
    pid_t m_pid = -1;
    int m_out_fd = -1;
    int m_err_fd = -1;
    std::thread m_reader;
    std::mutex m_mutex;
    std::string m_out;
    std::string m_err;
    std::atomic<bool> m_stop{false};
    std::atomic<bool> m_reader_done{false};
    bool m_exited = false;
    int m_status = 0;
};

// Polls `condition` every 10 ms until it holds or `deadline` passes; returns its last value.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds deadline);

// A TCP port on 127.0.0.1 that was free a moment ago.
int free_port();

}  // namespace boxmon::test
