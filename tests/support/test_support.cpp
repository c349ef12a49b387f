#include "tests/support/test_support.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace boxmon::test {

namespace fs = std::filesystem;

fs::path source_dir() { return BOXMON_SOURCE_DIR; }
fs::path fixtures_dir() { return BOXMON_FIXTURES_DIR; }
fs::path boxmon_binary() { return BOXMON_BINARY; }
std::string python3() { return BOXMON_PYTHON3; }

TempDir::TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/boxmon-test-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    m_path = pattern;
}

TempDir::~TempDir() {
    std::error_code ec;
    // Make everything removable again (tests chmod things to 000).
    for (auto it = fs::recursive_directory_iterator(m_path, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_directory(ec) && !it->is_symlink(ec)) fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
    }
    fs::permissions(m_path, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(m_path, ec);
}

void write_file(const fs::path& path, std::string_view content, unsigned mode) {
    if (path.has_parent_path()) fs::create_directories(path.parent_path());
    {
        std::ofstream f(path, std::ios::binary | std::ios::trunc);
        if (!f) throw std::runtime_error("cannot write " + path.string());
        f.write(content.data(), static_cast<std::streamsize>(content.size()));
    }
    ::chmod(path.c_str(), mode);
}

std::string read_file(const fs::path& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error("cannot read " + path.string());
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

namespace {

std::vector<std::string> build_env(const RunOptions& options) {
    std::map<std::string, std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
        std::string kv = *e;
        const auto eq = kv.find('=');
        if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    for (const auto& k : options.unset_env) env.erase(k);
    for (const auto& [k, v] : options.env) env[k] = v;
    std::vector<std::string> out;
    for (const auto& [k, v] : env) out.push_back(k + "=" + v);
    return out;
}

struct Spawned {
    pid_t pid;
    int in_fd, out_fd, err_fd;
};

Spawned spawn(const std::vector<std::string>& argv, const RunOptions& options) {
    int in_pipe[2], out_pipe[2], err_pipe[2];
    if (::pipe2(in_pipe, O_CLOEXEC) || ::pipe2(out_pipe, O_CLOEXEC) || ::pipe2(err_pipe, O_CLOEXEC))
        throw std::runtime_error("pipe failed");
    const auto env = build_env(options);
    std::vector<char*> cargv, cenv;
    for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    for (const auto& e : env) cenv.push_back(const_cast<char*>(e.c_str()));
    cenv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        ::setpgid(0, 0);
        ::dup2(in_pipe[0], 0);
        ::dup2(out_pipe[1], 1);
        ::dup2(err_pipe[1], 2);
        if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) ::_exit(126);
        ::execve(cargv[0], cargv.data(), cenv.data());
        ::_exit(127);
    }
    ::close(in_pipe[0]);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    return {pid, in_pipe[1], out_pipe[0], err_pipe[0]};
}

void feed_stdin(int fd, const std::optional<std::string>& data) {
    if (data) {
        std::size_t done = 0;
        ::signal(SIGPIPE, SIG_IGN);
        while (done < data->size()) {
            const ssize_t n = ::write(fd, data->data() + done, data->size() - done);
            if (n <= 0) break;
            done += static_cast<std::size_t>(n);
        }
    }
    ::close(fd);
}

void fill_status(ProcessResult& r, int status) {
    if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
}

}  // namespace

ProcessResult run_process(const std::vector<std::string>& argv, const RunOptions& options) {
    Process p(argv, options);
    return p.wait(options.timeout);
}

ProcessResult run_boxmon(const std::vector<std::string>& args, const RunOptions& options) {
    std::vector<std::string> argv{boxmon_binary().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, options);
}

Process::Process(const std::vector<std::string>& argv, const RunOptions& options) {
    const auto s = spawn(argv, options);
    m_pid = s.pid;
    m_out_fd = s.out_fd;
    m_err_fd = s.err_fd;
    feed_stdin(s.in_fd, options.stdin_data);
    m_reader = std::thread([this] { reader(); });
}

Process::~Process() {
    if (running()) {
        ::kill(-m_pid, SIGKILL);
        ::kill(m_pid, SIGKILL);
    }
    wait(std::chrono::milliseconds(5000));
}

void Process::reader() {
    pollfd fds[2] = {{m_out_fd, POLLIN, 0}, {m_err_fd, POLLIN, 0}};
    int open_fds = 2;
    char buf[65536];
    while (open_fds > 0 && !m_stop) {
        if (::poll(fds, 2, 200) < 0 && errno != EINTR) break;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n <= 0) {
                ::close(fds[i].fd);
                fds[i].fd = -1;
                --open_fds;
                continue;
            }
            std::lock_guard lock(m_mutex);
            (i == 0 ? m_out : m_err).append(buf, static_cast<std::size_t>(n));
        }
    }
    for (auto& f : fds)
        if (f.fd >= 0) ::close(f.fd);
    m_reader_done = true;
}

void Process::signal(int sig) {
    if (m_pid > 0) ::kill(m_pid, sig);
}

bool Process::running() {
    if (m_exited || m_pid <= 0) return false;
    int status = 0;
    const pid_t r = ::waitpid(m_pid, &status, WNOHANG);
    if (r == m_pid) {
        m_exited = true;
        m_status = status;
        return false;
    }
    return true;
}

ProcessResult Process::wait(std::chrono::milliseconds timeout) {
    ProcessResult result;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (running()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            result.timed_out = true;
            ::kill(-m_pid, SIGKILL);
            ::kill(m_pid, SIGKILL);
            int status = 0;
            ::waitpid(m_pid, &status, 0);
            m_exited = true;
            m_status = status;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    // A grandchild may still hold the pipes open: read what is there, then stop.
    wait_until([&] { return m_reader_done.load(); }, std::chrono::milliseconds(2000));
    m_stop = true;
    if (m_reader.joinable()) m_reader.join();
    fill_status(result, m_status);
    std::lock_guard lock(m_mutex);
    result.out = m_out;
    result.err = m_err;
    return result;
}

std::string Process::out() {
    std::lock_guard lock(m_mutex);
    return m_out;
}

std::string Process::err() {
    std::lock_guard lock(m_mutex);
    return m_err;
}

bool Process::wait_for_err(std::string_view text, std::chrono::milliseconds deadline) {
    return wait_until([&] { return err().find(text) != std::string::npos; }, deadline);
}

bool Process::wait_for_out(std::string_view text, std::chrono::milliseconds deadline) {
    return wait_until([&] { return out().find(text) != std::string::npos; }, deadline);
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds deadline) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (true) {
        if (condition()) return true;
        if (std::chrono::steady_clock::now() >= end) return condition();
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

}  // namespace boxmon::test
