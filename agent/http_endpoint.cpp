#include "agent/http_endpoint.hpp"

#include <fcntl.h>
#include <httplib.h>
#include <netdb.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/socket.h>

namespace boxmon::agent {

namespace {

using Steady = std::chrono::steady_clock;

constexpr const char* k_content_type = "text/plain; version=0.0.4; charset=utf-8";
constexpr int k_listen_backlog = 256;
// An unread request body (a POST) is drained this long, up to this much, before the close, so
// the client reads the 4xx instead of a reset.
constexpr auto k_linger = std::chrono::milliseconds(100);
constexpr std::size_t k_linger_max = 64 * 1024;
// The longest pause in accepting when the process has no descriptor left (EMFILE).
constexpr auto k_accept_pause = std::chrono::milliseconds(100);
// Warnings about a full connection table at most this often.
constexpr auto k_warn_every = std::chrono::seconds(60);

int remaining_ms(Steady::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Steady::now()).count();
    return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 60'000));
}

// Waits for `events` on `fd` until `deadline`; false on timeout, error or hang-up without data.
bool wait_fd(int fd, short events, Steady::time_point deadline) {
    while (true) {
        pollfd p{fd, events, 0};
        const int n = ::poll(&p, 1, remaining_ms(deadline));
        if (n > 0) return (p.revents & (events | POLLHUP)) != 0 && (p.revents & POLLNVAL) == 0;
        if (n == 0) return false;
        if (errno != EINTR) return false;
    }
}

void ip_and_port(const sockaddr_storage& ss, std::string& ip, int& port) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (ss.ss_family == AF_INET) {
        const auto& a = reinterpret_cast<const sockaddr_in&>(ss);
        ::inet_ntop(AF_INET, &a.sin_addr, buf, sizeof buf);
        port = ntohs(a.sin_port);
    } else if (ss.ss_family == AF_INET6) {
        const auto& a = reinterpret_cast<const sockaddr_in6&>(ss);
        ::inet_ntop(AF_INET6, &a.sin6_addr, buf, sizeof buf);
        port = ntohs(a.sin6_port);
    }
    ip = buf;
}

// One request on an accepted connection, for cpp-httplib: first the bytes the event thread read
// (the request head and whatever followed it), then the socket, every wait bounded by one
// deadline. `head_cut`: the head was cut at the size cap, so the stream ends after the buffer
// (cpp-httplib then answers 400).
class ConnectionStream final : public httplib::Stream {
public:
    ConnectionStream(int fd, std::string buffered, bool head_cut, Steady::time_point deadline)
        : m_fd(fd), m_buffered(std::move(buffered)), m_head_cut(head_cut), m_deadline(deadline) {}

    bool is_readable() const override {
        return m_pos < m_buffered.size() || (!m_head_cut && wait_fd(m_fd, POLLIN, m_deadline));
    }
    bool is_writable() const override { return wait_fd(m_fd, POLLOUT, m_deadline); }

    ssize_t read(char* ptr, size_t size) override {
        if (m_pos < m_buffered.size()) {
            const std::size_t n = std::min(size, m_buffered.size() - m_pos);
            std::memcpy(ptr, m_buffered.data() + m_pos, n);
            m_pos += n;
            return static_cast<ssize_t>(n);
        }
        if (m_head_cut) return 0;
        while (true) {
            if (!wait_fd(m_fd, POLLIN, m_deadline)) return -1;
            const ssize_t n = ::recv(m_fd, ptr, size, MSG_DONTWAIT);
            if (n >= 0) return n;
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return -1;
        }
    }

    ssize_t write(const char* ptr, size_t size) override {
        std::size_t done = 0;
        while (done < size) {
            if (!wait_fd(m_fd, POLLOUT, m_deadline)) return done > 0 ? static_cast<ssize_t>(done) : -1;
            const ssize_t n = ::send(m_fd, ptr + done, size - done, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n > 0)
                done += static_cast<std::size_t>(n);
            else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                return done > 0 ? static_cast<ssize_t>(done) : -1;
        }
        return static_cast<ssize_t>(done);
    }

    void get_remote_ip_and_port(std::string& ip, int& port) const override {
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        port = 0;
        if (::getpeername(m_fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0) ip_and_port(ss, ip, port);
    }
    void get_local_ip_and_port(std::string& ip, int& port) const override {
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        port = 0;
        if (::getsockname(m_fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0) ip_and_port(ss, ip, port);
    }
    socket_t socket() const override { return m_fd; }

private:
    int m_fd;
    std::string m_buffered;
    std::size_t m_pos = 0;
    bool m_head_cut;
    Steady::time_point m_deadline;
};

// cpp-httplib's request parser, router and reply writer, fed one stream at a time. Its own
// listener is never started; process_request is the library's extension point for that.
class RequestProcessor final : public httplib::Server {
public:
    // Answers the one request on `stream` and asks the client to close.
    void serve(httplib::Stream& stream) {
        bool closed = false;
        process_request(stream, true, closed, nullptr);
    }
};

// A connection still sending its request head.
struct Waiting {
    int fd = -1;
    Steady::time_point accepted;
    std::string head;
};

// A connection whose request head is complete (or cut at the cap).
struct Ready {
    int fd = -1;
    std::string buffered;
    bool head_cut = false;
};

// "host:port" or "[v6]:port" split; the port may be "0".
bool split_address(const std::string& listen, std::string& host, std::string& port) {
    if (listen.starts_with('[')) {
        const auto close = listen.find(']');
        if (close == std::string::npos || close + 1 >= listen.size() || listen[close + 1] != ':')
            return false;
        host = listen.substr(1, close - 1);
        port = listen.substr(close + 2);
    } else {
        const auto colon = listen.rfind(':');
        if (colon == std::string::npos) return false;
        host = listen.substr(0, colon);
        port = listen.substr(colon + 1);
    }
    return !host.empty() && !port.empty() &&
           std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string format_address(const sockaddr_storage& ss) {
    std::string ip;
    int port = 0;
    ip_and_port(ss, ip, port);
    return ss.ss_family == AF_INET6 ? fmt::format("[{}]:{}", ip, port) : fmt::format("{}:{}", ip, port);
}

}  // namespace

bool bearer_matches(std::string_view authorization, std::string_view token) {
    // RFC 6750: the scheme name is case-insensitive; one space, then the token.
    constexpr std::string_view scheme = "bearer ";
    if (authorization.size() < scheme.size() || token.empty()) return false;
    for (std::size_t i = 0; i < scheme.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(authorization[i])) != scheme[i]) return false;
    const std::string_view given = authorization.substr(scheme.size());
    unsigned diff = given.size() == token.size() ? 0u : 1u;
    for (std::size_t i = 0; i < token.size(); ++i)
        diff |= static_cast<unsigned char>(i < given.size() ? given[i] : 0) ^
                static_cast<unsigned char>(token[i]);
    return diff == 0;
}

class HttpEndpoint::Impl {
public:
    Impl(const HttpConfig& config, EndpointLimits limits)
        : m_token(config.bearer_token.value), m_limits(limits) {
        m_limits.workers = std::max<std::size_t>(m_limits.workers, 1);
        m_limits.max_connections = std::max<std::size_t>(m_limits.max_connections, 1);
        m_processor.set_payload_max_length(m_limits.body_max);
        // Every request is answered here, before cpp-httplib's router (which would read a body
        // and match std::regex patterns): method, token, path.
        m_processor.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
            handle(req, res);
            return httplib::Server::HandlerResponse::Handled;
        });
    }

    ~Impl() { stop(); }

    Result<void> bind(const std::string& listen) {
        std::string host, port;
        if (!split_address(listen, host, port))
            return fail_as(ErrorKind::config,
                           "[http] listen = \"{}\" is not address:port, e.g. \"127.0.0.1:9101\"", listen);
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
        addrinfo* found = nullptr;
        if (const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0)
            return fail(
                "cannot listen on {} ([http] listen): {}; give an address of this host, e.g. "
                "\"127.0.0.1:9101\"",
                listen, ::gai_strerror(rc));
        int err = 0;
        for (addrinfo* a = found; a && m_listen_fd < 0; a = a->ai_next) {
            const int fd =
                ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
            if (fd < 0) {
                err = errno;
                continue;
            }
            const int one = 1;
            ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            // "[::]" means IPv6 only; "0.0.0.0" is the way to say IPv4.
            if (a->ai_family == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
            if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, k_listen_backlog) != 0) {
                err = errno;
                ::close(fd);
                continue;
            }
            m_listen_fd = fd;
        }
        ::freeaddrinfo(found);
        if (m_listen_fd < 0)
            return fail_errno(err,
                              "cannot listen on {} ([http] listen); stop the program that holds the port "
                              "(ss -ltnp) or choose another address",
                              listen);
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        ::getsockname(m_listen_fd, reinterpret_cast<sockaddr*>(&ss), &len);
        m_address = format_address(ss);
        int p = 0;
        std::string ip;
        ip_and_port(ss, ip, p);
        m_port = p;
        return {};
    }

    Result<void> run() {
        m_wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (m_wake_fd < 0)
            return fail_errno(errno, "cannot create the metrics endpoint's wake-up descriptor");
        m_event_thread = std::thread([this] { event_loop(); });
        for (std::size_t i = 0; i < m_limits.workers; ++i) m_workers.emplace_back([this] { worker_loop(); });
        return {};
    }

    void stop() {
        if (m_stopped.exchange(true)) return;
        if (m_wake_fd >= 0) {
            const std::uint64_t one = 1;
            [[maybe_unused]] const auto n = ::write(m_wake_fd, &one, sizeof one);
        }
        {
            std::lock_guard lock(m_queue_mutex);
            m_stopping = true;
        }
        m_queue_cv.notify_all();
        if (m_event_thread.joinable()) m_event_thread.join();
        for (auto& w : m_workers)
            if (w.joinable()) w.join();
        for (const auto& r : m_ready) ::close(r.fd);
        m_ready.clear();
        if (m_listen_fd >= 0) ::close(m_listen_fd);
        if (m_wake_fd >= 0) ::close(m_wake_fd);
        m_listen_fd = m_wake_fd = -1;
    }

    void publish(std::string exposition) {
        auto fresh = std::make_shared<const std::string>(std::move(exposition));
        std::lock_guard lock(m_current_mutex);
        // The old text is freed after the unlock, with `fresh` (declared before the lock).
        m_current.swap(fresh);
    }

    int port() const { return m_port; }
    const std::string& address() const { return m_address; }

    EndpointStats stats() const {
        EndpointStats s;
        s.accepted = m_accepted;
        s.answered = m_answered;
        s.timed_out = m_timed_out;
        s.evicted = m_evicted;
        s.too_large = m_too_large;
        s.refused = m_refused;
        s.unauthorized = m_unauthorized;
        return s;
    }

private:
    void handle(const httplib::Request& req, httplib::Response& res) {
        if (req.method != "GET" && req.method != "HEAD") {
            res.status = 405;
            res.set_header("Allow", "GET, HEAD");
            res.set_content("boxmon serves GET /metrics only\n", "text/plain");
            return;
        }
        if (!m_token.empty() && !bearer_matches(req.get_header_value("Authorization"), m_token.reveal())) {
            ++m_unauthorized;
            res.status = 401;
            res.set_header("WWW-Authenticate", "Bearer realm=\"boxmon\"");
            res.set_content(
                "a bearer token is required: send \"Authorization: Bearer <token>\" with the token "
                "of [http] bearer_token_file\n",
                "text/plain");
            return;
        }
        if (req.path == "/metrics") {
            std::shared_ptr<const std::string> text;
            {
                std::lock_guard lock(m_current_mutex);
                text = m_current;
            }
            if (!text) {
                res.status = 503;
                res.set_content("no sample yet\n", "text/plain");
                return;
            }
            res.set_content(*text, k_content_type);
            return;
        }
        if (req.path == "/") {
            res.set_content("boxmon: the metrics are at /metrics\n", "text/plain");
            return;
        }
        res.status = 404;
        res.set_content("not found; the metrics are at /metrics\n", "text/plain");
    }

    void close_waiting(std::size_t i, std::atomic<std::uint64_t>& counter) {
        ::close(m_waiting[i].fd);
        m_waiting[i] = std::move(m_waiting.back());
        m_waiting.pop_back();
        ++counter;
    }

    // Drops the connection that has waited longest (to make room for a new one).
    bool evict_oldest() {
        if (m_waiting.empty()) return false;
        std::size_t oldest = 0;
        for (std::size_t i = 1; i < m_waiting.size(); ++i)
            if (m_waiting[i].accepted < m_waiting[oldest].accepted) oldest = i;
        close_waiting(oldest, m_evicted);
        const auto now = Steady::now();
        if (now - m_last_warning > k_warn_every) {
            m_last_warning = now;
            spdlog::warn(
                "metrics endpoint {}: {} connections are open without a complete request; the oldest "
                "are dropped for new ones (a client holding connections open?)",
                m_address, m_limits.max_connections);
        }
        return true;
    }

    void hand_over(std::size_t i, bool head_cut) {
        Ready r{m_waiting[i].fd, std::move(m_waiting[i].head), head_cut};
        m_waiting[i] = std::move(m_waiting.back());
        m_waiting.pop_back();
        {
            std::lock_guard lock(m_queue_mutex);
            if (m_ready.size() < m_limits.queue_max) {
                m_ready.push_back(std::move(r));
                r.fd = -1;
            }
        }
        if (r.fd >= 0) {
            ::close(r.fd);
            ++m_refused;
            return;
        }
        m_queue_cv.notify_one();
    }

    void accept_all(Steady::time_point& paused_until) {
        while (true) {
            const int fd = ::accept4(m_listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) {
                if (errno == EINTR) continue;
                if (errno == EMFILE || errno == ENFILE) {
                    // No descriptor left: free one if any connection waits, else pause accepting.
                    if (evict_oldest()) continue;
                    ++m_refused;
                    paused_until = Steady::now() + k_accept_pause;
                }
                return;  // EAGAIN: accepted everything; anything else: retried on the next poll
            }
            // cpp-httplib 0.11 uses select(), which cannot take descriptors beyond FD_SETSIZE
            // (it answers 500 for them); such a connection is closed at once.
            if (fd >= FD_SETSIZE) {
                ::close(fd);
                ++m_refused;
                continue;
            }
            ++m_accepted;
            const int one = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            if (m_waiting.size() >= m_limits.max_connections) evict_oldest();
            m_waiting.push_back(Waiting{fd, Steady::now(), {}});
        }
    }

    // Reads what connection i sent; hands it over once its head is complete. Returns false when
    // the connection was closed or handed over (the slot now holds another connection).
    bool read_waiting(std::size_t i) {
        Waiting& w = m_waiting[i];
        char buf[4096];
        const std::size_t room = m_limits.head_max - std::min(w.head.size(), m_limits.head_max);
        const ssize_t n = ::recv(w.fd, buf, std::min(room, sizeof buf), MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return true;
            ::close(w.fd);
            m_waiting[i] = std::move(m_waiting.back());
            m_waiting.pop_back();
            return false;
        }
        if (n == 0) {
            // The client stopped sending: answer what came (cpp-httplib rejects a partial head), or
            // close a connection that sent nothing.
            if (w.head.empty()) {
                ::close(w.fd);
                m_waiting[i] = std::move(m_waiting.back());
                m_waiting.pop_back();
            } else {
                hand_over(i, true);
            }
            return false;
        }
        const std::size_t from = w.head.size() >= 3 ? w.head.size() - 3 : 0;
        w.head.append(buf, static_cast<std::size_t>(n));
        if (w.head.find("\r\n\r\n", from) != std::string::npos) {
            hand_over(i, false);
            return false;
        }
        if (w.head.size() >= m_limits.head_max) {
            ++m_too_large;
            hand_over(i, true);
            return false;
        }
        return true;
    }

    void event_loop() {
        std::vector<pollfd> fds;
        Steady::time_point paused_until{};
        while (!m_stopped) {
            const auto now = Steady::now();
            // Connections past their deadline: no complete head within read_timeout.
            for (std::size_t i = 0; i < m_waiting.size();) {
                if (now - m_waiting[i].accepted >= m_limits.read_timeout)
                    close_waiting(i, m_timed_out);
                else
                    ++i;
            }
            auto next = now + std::chrono::seconds(1);
            for (const auto& w : m_waiting) next = std::min(next, w.accepted + m_limits.read_timeout);
            const bool accepting = now >= paused_until;
            if (!accepting) next = std::min(next, paused_until);

            fds.clear();
            fds.push_back({m_wake_fd, POLLIN, 0});
            fds.push_back({accepting ? m_listen_fd : -1, POLLIN, 0});
            for (const auto& w : m_waiting) fds.push_back({w.fd, POLLIN, 0});
            const auto timeout = std::chrono::ceil<std::chrono::milliseconds>(next - now).count();
            const int n = ::poll(fds.data(), fds.size(), static_cast<int>(std::max<long long>(timeout, 0)));
            if (n < 0 && errno != EINTR) {
                spdlog::error("metrics endpoint {}: poll failed ({}); the endpoint stops", m_address,
                              std::strerror(errno));
                break;
            }
            if (n <= 0) continue;
            if (fds[0].revents) break;  // stop()
            // Readable connections first, by descriptor (the table moves while it is read).
            std::vector<int> readable;
            for (std::size_t k = 2; k < fds.size(); ++k)
                if (fds[k].revents) readable.push_back(fds[k].fd);
            for (const int fd : readable) {
                for (std::size_t i = 0; i < m_waiting.size(); ++i) {
                    if (m_waiting[i].fd != fd) continue;
                    read_waiting(i);
                    break;
                }
            }
            if (fds[1].revents & POLLIN) accept_all(paused_until);
        }
        for (const auto& w : m_waiting) ::close(w.fd);
        m_waiting.clear();
    }

    void worker_loop() {
        while (true) {
            Ready r;
            {
                std::unique_lock lock(m_queue_mutex);
                m_queue_cv.wait(lock, [this] { return m_stopping || !m_ready.empty(); });
                if (m_stopping) return;
                r = std::move(m_ready.front());
                m_ready.pop_front();
            }
            const auto deadline = Steady::now() + m_limits.write_timeout;
            ConnectionStream stream(r.fd, std::move(r.buffered), r.head_cut, deadline);
            try {
                m_processor.serve(stream);
            } catch (const std::exception& e) {
                spdlog::warn("metrics endpoint {}: a request failed: {}", m_address, e.what());
            }
            ++m_answered;
            linger_close(r.fd);
        }
    }

    // Half-closes, reads (and discards) what the client still sends for a moment, then closes, so
    // a client whose body was not read sees the reply rather than a reset.
    static void linger_close(int fd) {
        ::shutdown(fd, SHUT_WR);
        const auto until = Steady::now() + k_linger;
        std::size_t drained = 0;
        char buf[4096];
        while (drained < k_linger_max && wait_fd(fd, POLLIN, until)) {
            const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
            if (n <= 0) break;
            drained += static_cast<std::size_t>(n);
        }
        ::close(fd);
    }

    Secret m_token;
    EndpointLimits m_limits;
    RequestProcessor m_processor;
    int m_listen_fd = -1;
    int m_wake_fd = -1;
    int m_port = 0;
    std::string m_address;
    std::atomic<bool> m_stopped{false};

    // Event thread only.
    std::vector<Waiting> m_waiting;
    Steady::time_point m_last_warning{};
    std::thread m_event_thread;

    std::mutex m_queue_mutex;
    std::condition_variable m_queue_cv;
    std::deque<Ready> m_ready;
    bool m_stopping = false;
    std::vector<std::thread> m_workers;

    std::mutex m_current_mutex;
    std::shared_ptr<const std::string> m_current;

    std::atomic<std::uint64_t> m_accepted{0}, m_answered{0}, m_timed_out{0}, m_evicted{0}, m_too_large{0},
        m_refused{0}, m_unauthorized{0};
};

HttpEndpoint::HttpEndpoint(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

HttpEndpoint::~HttpEndpoint() = default;

Result<std::unique_ptr<HttpEndpoint>> HttpEndpoint::start(const HttpConfig& config, EndpointLimits limits) {
    auto impl = std::make_unique<Impl>(config, limits);
    BOXMON_CHECK(impl->bind(config.listen));
    BOXMON_CHECK(impl->run());
    spdlog::info("metrics endpoint: http://{}/metrics{}", impl->address(),
                 config.bearer_token.present() ? " (bearer token required)" : "");
    return std::unique_ptr<HttpEndpoint>(new HttpEndpoint(std::move(impl)));
}

void HttpEndpoint::publish(std::string exposition) {
    m_impl->publish(std::move(exposition));
}
int HttpEndpoint::port() const {
    return m_impl->port();
}
const std::string& HttpEndpoint::address() const {
    return m_impl->address();
}
EndpointStats HttpEndpoint::stats() const {
    return m_impl->stats();
}

}  // namespace boxmon::agent
