#include "collector/services/checks.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>

#include <fmt/format.h>

#include "core/subprocess.hpp"
#include "net/http.hpp"

namespace boxmon::collector::services {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

milliseconds left_until(Clock::time_point deadline) {
    return std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
}

CheckOutcome finish(Clock::time_point start, bool up, std::string detail) {
    CheckOutcome o;
    o.ran = true;
    o.up = up;
    o.latency_seconds = seconds_since(start);
    o.detail = std::move(detail);
    return o;
}

struct AddrInfoDeleter {
    void operator()(addrinfo* ai) const {
        if (ai != nullptr) freeaddrinfo(ai);
    }
};
using AddrInfoPtr = std::unique_ptr<addrinfo, AddrInfoDeleter>;

// getaddrinfo() has no timeout of its own, and a resolver that swallows queries holds it for
// resolv.conf's timeout times attempts (RELIABILITY D9). A name is therefore resolved on a
// detached thread whose result we stop waiting for at the deadline; the thread finishes on
// its own later and frees what it got, since the shared state outlives this call.
struct Resolution {
    std::mutex mutex;
    std::condition_variable done_cv;
    bool done = false;
    int rc = 0;
    AddrInfoPtr result;
};

Result<AddrInfoPtr> resolve(const std::string& host, const std::string& port, milliseconds timeout) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    addrinfo* numeric = nullptr;
    // A numeric address needs no DNS and cannot block.
    if (getaddrinfo(host.c_str(), port.c_str(), &hints, &numeric) == 0) return AddrInfoPtr(numeric);

    auto state = std::make_shared<Resolution>();
    try {
        std::thread([state, host, port] {
            addrinfo h{};
            h.ai_family = AF_UNSPEC;
            h.ai_socktype = SOCK_STREAM;
            h.ai_flags = AI_NUMERICSERV;
            addrinfo* res = nullptr;
            const int rc = getaddrinfo(host.c_str(), port.c_str(), &h, &res);
            std::lock_guard lock(state->mutex);
            state->rc = rc;
            state->result.reset(res);
            state->done = true;
            state->done_cv.notify_all();
        }).detach();
    } catch (const std::system_error& e) {
        // No thread under memory or task pressure (RELIABILITY L7): the check fails this tick.
        return fail("could not resolve host {}: no thread for the lookup ({})", host, e.what());
    }
    std::unique_lock lock(state->mutex);
    if (!state->done_cv.wait_for(lock, timeout, [&] { return state->done; }))
        return fail_as(ErrorKind::timeout, "could not resolve host {} within {} ms", host, timeout.count());
    if (state->rc != 0)
        return fail("could not resolve host {}: {}", host, gai_strerror(state->rc));
    return std::move(state->result);
}

// Connects to one address without blocking past `deadline`; "" on success, else why not.
std::string connect_one(const addrinfo& ai, Clock::time_point deadline) {
    const int fd = socket(ai.ai_family, ai.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai.ai_protocol);
    if (fd < 0) return fmt::format("socket: {}", std::strerror(errno));
    std::string why;
    if (connect(fd, ai.ai_addr, ai.ai_addrlen) != 0) {
        if (errno != EINPROGRESS) {
            why = std::strerror(errno);
        } else {
            for (;;) {
                const auto left = left_until(deadline);
                if (left.count() <= 0) {
                    why = "timed out";
                    break;
                }
                pollfd p{fd, POLLOUT, 0};
                const int n = poll(&p, 1, static_cast<int>(left.count()));
                if (n < 0 && errno == EINTR) continue;
                if (n < 0) {
                    why = fmt::format("poll: {}", std::strerror(errno));
                    break;
                }
                if (n == 0) continue;  // the deadline check above ends the loop
                int err = 0;
                socklen_t len = sizeof err;
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
                if (err != 0) why = std::strerror(err);
                break;
            }
        }
    }
    close(fd);
    return why;
}

}  // namespace

bool split_host_port(const std::string& address, std::string& host, std::string& port) {
    if (!address.empty() && address.front() == '[') {
        const auto close = address.find(']');
        if (close == std::string::npos || close + 1 >= address.size() || address[close + 1] != ':') return false;
        host = address.substr(1, close - 1);
        port = address.substr(close + 2);
    } else {
        const auto colon = address.rfind(':');
        if (colon == std::string::npos || address.find(':') != colon) return false;
        host = address.substr(0, colon);
        port = address.substr(colon + 1);
    }
    return !host.empty() && !port.empty() &&
           std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
}

CheckOutcome run_tcp_check(const CheckConfig& check, milliseconds timeout) {
    const auto start = Clock::now();
    const auto deadline = start + timeout;
    std::string host;
    std::string port;
    if (!split_host_port(check.address, host, port))
        return finish(start, false, fmt::format("address \"{}\" is not host:port", check.address));
    auto addrs = resolve(host, port, timeout);
    if (!addrs) return finish(start, false, addrs.error().message);
    std::string last;
    for (const addrinfo* ai = addrs->get(); ai != nullptr; ai = ai->ai_next) {
        last = connect_one(*ai, deadline);
        if (last.empty()) return finish(start, true, "");
        if (left_until(deadline).count() <= 0) break;
    }
    return finish(start, false, fmt::format("connect to {}: {}", check.address, last));
}

CheckOutcome run_http_check(const CheckConfig& check, milliseconds timeout) {
    const auto start = Clock::now();
    net::HttpRequest req;
    // HEAD is sent as GET: many small health endpoints (python's http.server among them) answer
    // HEAD with 501, and a GET answers the same question (its body is capped).
    req.method = check.method == "HEAD" ? std::string("GET") : check.method;
    req.url = Secret(check.url);
    net::TransferOptions opt;
    opt.connect_timeout = timeout;
    opt.timeout = timeout;
    opt.ca_file = check.ca_file;
    opt.tls_skip_verify = check.tls_skip_verify;
    opt.proxy = std::string();  // health URLs are local: never through an environment proxy
    auto resp = net::http_request(req, opt);
    if (!resp) return finish(start, false, resp.error().message);
    const long status = resp->status;
    const bool status_ok = check.expect_status == 0 ? (status >= 200 && status < 300) : status == check.expect_status;
    if (!status_ok)
        return finish(start, false,
                      fmt::format("{} {} answered {}, expected {}", check.method, check.url, status,
                                  check.expect_status == 0 ? std::string("2xx") : std::to_string(check.expect_status)));
    if (!check.body_contains.empty() && resp->body.find(check.body_contains) == std::string::npos)
        return finish(start, false,
                      fmt::format("the answer (first {} bytes) does not contain \"{}\"", resp->body.size(),
                                  net::excerpt(check.body_contains, 80)));
    return finish(start, true, "");
}

CheckOutcome run_command_check(const CheckConfig& check, milliseconds timeout) {
    const auto start = Clock::now();
    if (check.command.empty()) return finish(start, false, "the check has no command");
    SubprocessOptions opt;
    opt.timeout = timeout;
    opt.output_max_bytes = 4096;
    auto res = run_subprocess(check.command, opt);
    if (!res) return finish(start, false, res.error().message);
    if (res->timed_out)
        return finish(start, false, fmt::format("{} ran longer than {} ms and was killed", check.command[0], timeout.count()));
    if (res->exit_code != 0) {
        const std::string how = res->signal != 0 ? fmt::format("was killed by signal {}", res->signal)
                                                 : fmt::format("exited with {}", res->exit_code);
        const auto& text = res->err.empty() ? res->out : res->err;
        return finish(start, false,
                      text.empty() ? fmt::format("{} {}", check.command[0], how)
                                   : fmt::format("{} {}: {}", check.command[0], how, net::excerpt(text)));
    }
    return finish(start, true, "");
}

CheckOutcome run_check(const CheckConfig& check, milliseconds timeout) {
    switch (check.type) {
        case CheckConfig::Type::http:
            return run_http_check(check, timeout);
        case CheckConfig::Type::tcp:
            return run_tcp_check(check, timeout);
        case CheckConfig::Type::command:
            return run_command_check(check, timeout);
    }
    return {};
}

std::vector<CheckOutcome> run_checks(const std::vector<const CheckConfig*>& checks, std::size_t max_threads,
                                     Clock::time_point deadline) {
    std::vector<CheckOutcome> out(checks.size());
    if (checks.empty()) return out;
    std::atomic<std::size_t> next{0};
    auto worker = [&] {
        for (;;) {
            const std::size_t i = next.fetch_add(1);
            if (i >= checks.size()) return;
            const auto left = left_until(deadline);
            if (left.count() <= 0) continue;  // out[i].ran stays false
            out[i] = run_check(*checks[i], std::min(checks[i]->timeout, left));
        }
    };
    const std::size_t n = std::clamp<std::size_t>(max_threads, 1, checks.size());
    {
        std::vector<std::jthread> pool;
        pool.reserve(n - 1);
        try {
            for (std::size_t t = 1; t < n; ++t) pool.emplace_back(worker);
        } catch (const std::system_error&) {
            // Fewer threads than asked (a host at its task limit): those started, and this
            // one, share the work; the deadline still bounds it.
        }
        worker();  // the calling thread works too
    }
    return out;
}

}  // namespace boxmon::collector::services
