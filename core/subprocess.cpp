// run_subprocess: fork/execve without a shell (see subprocess.hpp).
//
// The child gets its own process group so a timeout kills it and everything it started. The
// parent feeds stdin and drains stdout/stderr in one poll() loop, so a child that writes a lot
// before reading its input cannot deadlock against us. Everything the child needs (argv, envp,
// the resolved path) is built before fork(): between fork and execve only async-signal-safe
// calls are made, because the agent is multithreaded.
#include "core/subprocess.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <utility>

namespace boxmon {
namespace {

using Clock = std::chrono::steady_clock;

// How long we keep reading after the direct child exited while some other process of its
// group still holds the pipes open (a daemonising sendmail); after that we stop reading.
constexpr std::chrono::milliseconds k_after_exit_grace{200};
// Poll slice while waiting: exit of the direct child is noticed at least this often.
constexpr int k_poll_slice_ms = 50;
constexpr std::size_t k_read_chunk = 64 * 1024;

// Owns a file descriptor.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : m_fd(fd) {}
    ~Fd() { reset(); }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    Fd(Fd&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) {
            reset();
            m_fd = std::exchange(other.m_fd, -1);
        }
        return *this;
    }
    int get() const { return m_fd; }
    bool valid() const { return m_fd >= 0; }
    void reset() {
        if (m_fd >= 0) ::close(m_fd);
        m_fd = -1;
    }

private:
    int m_fd = -1;
};

struct Pipe {
    Fd read;
    Fd write;
};

Result<Pipe> make_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return fail_errno(errno, "run_subprocess: pipe");
    return Pipe{Fd(fds[0]), Fd(fds[1])};
}

void set_nonblocking(int fd) {
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

bool is_executable_file(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// argv[0] as given when it contains a slash, otherwise the first executable match in `path_var`
// (the child's PATH). Empty when nothing matches.
std::string resolve_program(const std::string& name, const std::string& path_var) {
    if (name.find('/') != std::string::npos) return name;
    std::size_t start = 0;
    while (start <= path_var.size()) {
        std::size_t end = path_var.find(':', start);
        if (end == std::string::npos) end = path_var.size();
        std::string dir = path_var.substr(start, end - start);
        if (dir.empty()) dir = ".";
        // Appended piecewise: `dir + "/" + name` trips GCC 12 bug 105651 (-Wrestrict) at -O3.
        std::string candidate = std::move(dir);
        candidate += '/';
        candidate += name;
        if (is_executable_file(candidate)) return candidate;
        start = end + 1;
    }
    return {};
}

// Makes `fd` the child's descriptor `target`, clearing close-on-exec (dup2 onto itself does
// not clear it). Async-signal-safe.
bool install_fd(int fd, int target) {
    if (fd == target) {
        const int flags = ::fcntl(fd, F_GETFD);
        return flags >= 0 && ::fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) == 0;
    }
    return ::dup2(fd, target) == target;
}

// Reports `err` to the parent and ends the child. Async-signal-safe.
[[noreturn]] void child_fail(int report_fd, int err) {
    const ssize_t ignored = ::write(report_fd, &err, sizeof err);
    (void)ignored;
    ::_exit(127);
}

// The child side of fork(): only async-signal-safe calls. Reports a failure's errno on
// `err_fd` (close-on-exec, so a successful execve closes it and the parent reads EOF).
[[noreturn]] void child_exec(const char* path, char* const* argv, char* const* envp, const char* cwd,
                             int in_fd, int out_fd, int err_fd, int report_fd) {
    ::setpgid(0, 0);
    // Signal state is inherited through execve: undo what the agent may have changed.
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2})
        ::sigaction(sig, &dfl, nullptr);
    // Move the pipe ends above 2 first so installing one cannot overwrite another.
    int fds[3] = {in_fd, out_fd, err_fd};
    for (int& fd : fds) {
        if (fd <= 2) {
            const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
            if (moved < 0) child_fail(report_fd, errno);
            fd = moved;
        }
    }
    for (int target = 0; target < 3; ++target)
        if (!install_fd(fds[target], target)) child_fail(report_fd, errno);
    if (::chdir(cwd) != 0) child_fail(report_fd, errno);
    // Everything above 2 except the report pipe is closed (it is close-on-exec itself).
    if (report_fd > 3) ::close_range(3, static_cast<unsigned>(report_fd - 1), 0);
    ::close_range(static_cast<unsigned>(report_fd + 1), ~0u, 0);
    ::execve(path, argv, envp);
    child_fail(report_fd, errno);
}

// Appends what `fd` has to `buffer` up to `cap` bytes (the rest is dropped). Returns false at
// EOF or on an error (the descriptor is then done).
bool drain(int fd, std::string& buffer, std::size_t cap, bool& truncated) {
    char chunk[k_read_chunk];
    for (;;) {
        const ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n > 0) {
            const std::size_t room = buffer.size() < cap ? cap - buffer.size() : 0;
            const std::size_t take = std::min(room, static_cast<std::size_t>(n));
            buffer.append(chunk, take);
            if (take < static_cast<std::size_t>(n)) truncated = true;
            continue;
        }
        if (n == 0) return false;
        if (errno == EINTR) continue;
        return errno == EAGAIN || errno == EWOULDBLOCK;
    }
}

// Blocks SIGPIPE in this thread while we write to the child's stdin (a child that exits early
// must give us EPIPE, not kill the agent) and discards a SIGPIPE we caused.
class SigpipeGuard {
public:
    SigpipeGuard() {
        sigset_t pipe_set;
        ::sigemptyset(&pipe_set);
        ::sigaddset(&pipe_set, SIGPIPE);
        sigset_t pending;
        ::sigpending(&pending);
        m_was_pending = ::sigismember(&pending, SIGPIPE) == 1;
        ::pthread_sigmask(SIG_BLOCK, &pipe_set, &m_old);
    }
    ~SigpipeGuard() {
        sigset_t pipe_set;
        ::sigemptyset(&pipe_set);
        ::sigaddset(&pipe_set, SIGPIPE);
        if (!m_was_pending) {
            sigset_t pending;
            ::sigpending(&pending);
            if (::sigismember(&pending, SIGPIPE) == 1) {
                const timespec zero{0, 0};
                while (::sigtimedwait(&pipe_set, nullptr, &zero) < 0 && errno == EINTR) {
                }
            }
        }
        ::pthread_sigmask(SIG_SETMASK, &m_old, nullptr);
    }
    SigpipeGuard(const SigpipeGuard&) = delete;
    SigpipeGuard& operator=(const SigpipeGuard&) = delete;

private:
    sigset_t m_old{};
    bool m_was_pending = false;
};

void decode_status(int status, SubprocessResult& result) {
    if (WIFEXITED(status)) {
        result.exit_code = WEXITSTATUS(status);
        result.signal = 0;
    } else if (WIFSIGNALED(status)) {
        result.exit_code = -1;
        result.signal = WTERMSIG(status);
    }
}

}  // namespace

Result<SubprocessResult> run_subprocess(const std::vector<std::string>& argv,
                                        const SubprocessOptions& options) {
    if (argv.empty() || argv[0].empty())
        return fail_as(ErrorKind::usage, "run_subprocess: empty command line");

    // Everything the child needs, built before fork().
    std::map<std::string, std::string> env = options.env;
    if (env.empty()) {
        env["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin";
        env["LANG"] = "C.UTF-8";
    }
    const auto path_it = env.find("PATH");
    const std::string path_var = path_it != env.end() ? path_it->second : "/usr/sbin:/usr/bin:/sbin:/bin";
    const std::string program = resolve_program(argv[0], path_var);
    if (program.empty())
        return fail_as(ErrorKind::not_found, "run {}: program not found in PATH \"{}\"; install it or give its absolute path",
                       argv[0], path_var);

    std::vector<std::string> env_strings;
    env_strings.reserve(env.size());
    for (const auto& [key, value] : env) env_strings.push_back(key + "=" + value);
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> argv_copy = argv;
    std::vector<char*> argvp;
    for (auto& s : argv_copy) argvp.push_back(s.data());
    argvp.push_back(nullptr);
    const std::string cwd = options.cwd.empty() ? std::string("/") : options.cwd.string();

    BOXMON_TRY(in_pipe, make_pipe());
    BOXMON_TRY(out_pipe, make_pipe());
    BOXMON_TRY(err_pipe, make_pipe());
    BOXMON_TRY(report_pipe, make_pipe());

    SigpipeGuard sigpipe_guard;
    const pid_t pid = ::fork();
    if (pid < 0) return fail_errno(errno, "run {}: fork", argv[0]);
    if (pid == 0)
        child_exec(program.c_str(), argvp.data(), envp.data(), cwd.c_str(), in_pipe.read.get(),
                   out_pipe.write.get(), err_pipe.write.get(), report_pipe.write.get());

    // Parent. Set the group here too: whichever of the two runs first, kill(-pid) works.
    ::setpgid(pid, pid);
    in_pipe.read.reset();
    out_pipe.write.reset();
    err_pipe.write.reset();
    report_pipe.write.reset();

    // Did execve succeed? The report pipe closes on exec (EOF) or carries the errno.
    int exec_errno = 0;
    for (;;) {
        const ssize_t n = ::read(report_pipe.read.get(), &exec_errno, sizeof exec_errno);
        if (n < 0 && errno == EINTR) continue;
        if (n != static_cast<ssize_t>(sizeof exec_errno)) exec_errno = 0;
        break;
    }
    if (exec_errno != 0) {
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        Unexpected<Error> error = fail_errno(exec_errno, "run {}: cannot execute \"{}\"", argv[0], program);
        if (exec_errno == ENOENT) error.error().kind = ErrorKind::not_found;
        return error;
    }

    SubprocessResult result;
    Fd& in_fd = in_pipe.write;
    Fd& out_fd = out_pipe.read;
    Fd& err_fd = err_pipe.read;
    set_nonblocking(in_fd.get());
    set_nonblocking(out_fd.get());
    set_nonblocking(err_fd.get());
    std::size_t in_written = 0;
    if (options.stdin_data.empty()) in_fd.reset();

    const auto deadline = Clock::now() + options.timeout;
    bool exited = false;
    int status = 0;
    Clock::time_point exit_seen{};

    for (;;) {
        if (!exited) {
            const pid_t w = ::waitpid(pid, &status, WNOHANG);
            if (w == pid) {
                exited = true;
                exit_seen = Clock::now();
                in_fd.reset();  // nobody will read it any more
            }
        }
        const bool outputs_open = out_fd.valid() || err_fd.valid();
        const auto now = Clock::now();
        if (exited && (!outputs_open || now - exit_seen >= k_after_exit_grace)) break;
        if (!exited && now >= deadline) {
            ::kill(-pid, SIGKILL);
            ::kill(pid, SIGKILL);  // in case setpgid failed in both processes
            result.timed_out = true;
            while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            exited = true;
            // Whatever the group wrote before it died is still in the pipes.
            if (out_fd.valid()) drain(out_fd.get(), result.out, options.output_max_bytes, result.out_truncated);
            if (err_fd.valid()) drain(err_fd.get(), result.err, options.output_max_bytes, result.err_truncated);
            break;
        }

        pollfd fds[3];
        int nfds = 0;
        int in_index = -1, out_index = -1, err_index = -1;
        if (in_fd.valid()) {
            in_index = nfds;
            fds[nfds++] = pollfd{in_fd.get(), POLLOUT, 0};
        }
        if (out_fd.valid()) {
            out_index = nfds;
            fds[nfds++] = pollfd{out_fd.get(), POLLIN, 0};
        }
        if (err_fd.valid()) {
            err_index = nfds;
            fds[nfds++] = pollfd{err_fd.get(), POLLIN, 0};
        }
        auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
            exited ? exit_seen + k_after_exit_grace - now : deadline - now);
        int wait_ms = static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(wait.count() + 1, 0, k_poll_slice_ms));
        if (nfds == 0) {
            // The child closed its outputs but still runs: wait for its exit in short slices.
            std::this_thread::sleep_for(std::chrono::milliseconds(std::min(wait_ms, 5)));
            continue;
        }
        const int ready = ::poll(fds, static_cast<nfds_t>(nfds), wait_ms);
        if (ready < 0) {
            if (errno == EINTR) continue;
            const int err = errno;
            ::kill(-pid, SIGKILL);
            while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            return fail_errno(err, "run {}: poll", argv[0]);
        }
        if (ready == 0) continue;
        if (in_index >= 0 && fds[in_index].revents != 0) {
            if (fds[in_index].revents & (POLLERR | POLLHUP)) {
                result.stdin_cut = in_written < options.stdin_data.size();
                in_fd.reset();
            } else {
                const std::string& data = options.stdin_data;
                const ssize_t n = ::write(in_fd.get(), data.data() + in_written, data.size() - in_written);
                if (n > 0) {
                    in_written += static_cast<std::size_t>(n);
                    if (in_written == data.size()) in_fd.reset();
                } else if (n < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
                    result.stdin_cut = true;
                    in_fd.reset();  // EPIPE: the child does not want the rest
                }
            }
        }
        if (out_index >= 0 && fds[out_index].revents != 0) {
            if (!drain(out_fd.get(), result.out, options.output_max_bytes, result.out_truncated)) out_fd.reset();
        }
        if (err_index >= 0 && fds[err_index].revents != 0) {
            if (!drain(err_fd.get(), result.err, options.output_max_bytes, result.err_truncated)) err_fd.reset();
        }
    }
    // However the loop ended (EPIPE, hang-up, or the child gone before we noticed either), the
    // child did not take what was left.
    if (in_written < options.stdin_data.size()) result.stdin_cut = true;
    decode_status(status, result);
    return result;
}

}  // namespace boxmon
