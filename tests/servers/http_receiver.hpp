#pragma once
// An HTTP(S) receiver for tests: cpp-httplib in-process on 127.0.0.1 (a free port), recording
// every request and answering as the test scripts it: any status with headers and body, a delay
// (a hanging receiver), an endless body, a redirect. Used by tests/net and tests/alerting.

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace boxmon::test {

class HttpReceiver {
public:
    struct Request {
        std::string method;
        std::string path;
        std::string body;
        std::multimap<std::string, std::string> headers;  // as httplib reports them
        // multipart/form-data parts by field name: (filename, content); httplib parses these
        // instead of keeping the body.
        std::map<std::string, std::pair<std::string, std::string>> parts;
        std::string header(const std::string& name) const {
            auto it = headers.find(name);
            return it == headers.end() ? std::string() : it->second;
        }
    };
    struct Reply {
        int status = 200;
        std::string body = "ok";
        std::string content_type = "text/plain";
        std::map<std::string, std::string> headers;
        std::chrono::milliseconds delay{0};  // before answering (a hanging receiver)
        bool endless = false;                // stream zeros until the client gives up
    };

    // Scripted replies (designated initializers would trip -Wmissing-field-initializers).
    static Reply answer(int status, std::string body = "ok", std::map<std::string, std::string> headers = {}) {
        Reply r;
        r.status = status;
        r.body = std::move(body);
        r.headers = std::move(headers);
        return r;
    }
    static Reply hang(std::chrono::milliseconds delay) {
        Reply r;
        r.delay = delay;
        return r;
    }
    static Reply endless_body(int status) {
        Reply r;
        r.status = status;
        r.endless = true;
        return r;
    }

    // Plain HTTP on a free port, or on `port` (a receiver that comes back where it was).
    HttpReceiver() : m_server(std::make_unique<httplib::Server>()) { start(); }
    explicit HttpReceiver(int port) : m_server(std::make_unique<httplib::Server>()) { start(port); }
    // HTTPS with the given certificate chain and key (PEM files); `tls1_0_only` offers TLS 1.0 only
    // (and at OpenSSL security level 0, which TLS 1.0's signatures need).
    enum class Protocols { modern, tls1_0_only };
    HttpReceiver(const std::filesystem::path& cert, const std::filesystem::path& key,
                 Protocols protocols = Protocols::modern)
        : m_server(std::make_unique<httplib::SSLServer>(cert.c_str(), key.c_str())), m_tls(true) {
        if (protocols == Protocols::tls1_0_only) {
            SSL_CTX* ctx = static_cast<httplib::SSLServer&>(*m_server).ssl_context();
            SSL_CTX_set_security_level(ctx, 0);
            SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
            SSL_CTX_set_max_proto_version(ctx, TLS1_VERSION);
        }
        start();
    }
    ~HttpReceiver() {
        m_stopping = true;
        m_server->stop();
        if (m_thread.joinable()) m_thread.join();
    }
    HttpReceiver(const HttpReceiver&) = delete;
    HttpReceiver& operator=(const HttpReceiver&) = delete;

    int port() const { return m_port; }
    bool valid() const { return m_port > 0; }
    std::string url(const std::string& path = "/") const {
        return (m_tls ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(m_port) + path;
    }
    // Every request from now on gets `reply`.
    void set_reply(Reply reply) {
        std::lock_guard lock(m_mutex);
        m_reply = std::move(reply);
    }
    std::vector<Request> requests() const {
        std::lock_guard lock(m_mutex);
        return m_requests;
    }
    std::size_t count() const {
        std::lock_guard lock(m_mutex);
        return m_requests.size();
    }

private:
    void start(int port = 0) {
        auto handler = [this](const httplib::Request& req, httplib::Response& res) { handle(req, res); };
        m_server->Post(".*", handler);
        m_server->Put(".*", handler);
        m_server->Get(".*", handler);
        m_server->set_read_timeout(5, 0);
        m_server->set_write_timeout(5, 0);
        if (port > 0) {
            m_port = m_server->bind_to_port("127.0.0.1", port) ? port : -1;
        } else {
            m_port = m_server->bind_to_any_port("127.0.0.1");
        }
        if (m_port <= 0) return;
        m_thread = std::thread([this] { m_server->listen_after_bind(); });
        for (int i = 0; i < 500 && !m_server->is_running(); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    }

    void handle(const httplib::Request& req, httplib::Response& res) {
        Reply reply;
        {
            std::lock_guard lock(m_mutex);
            Request r{req.method, req.path, req.body, {}, {}};
            for (const auto& [k, v] : req.headers) r.headers.emplace(k, v);
            for (const auto& [k, f] : req.files) r.parts[k] = {f.filename, f.content};
            m_requests.push_back(std::move(r));
            reply = m_reply;
        }
        const auto until = std::chrono::steady_clock::now() + reply.delay;
        while (!m_stopping && std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        res.status = reply.status;
        for (const auto& [k, v] : reply.headers) res.set_header(k, v);
        if (reply.endless) {
            res.set_chunked_content_provider("application/octet-stream",
                                             [this](std::size_t, httplib::DataSink& sink) {
                                                 static const std::string zeros(16 * 1024, '\0');
                                                 if (m_stopping) return false;
                                                 return sink.write(zeros.data(), zeros.size());
                                             });
        } else {
            res.set_content(reply.body, reply.content_type);
        }
    }

    std::unique_ptr<httplib::Server> m_server;
    bool m_tls = false;
    int m_port = -1;
    std::thread m_thread;
    std::atomic<bool> m_stopping{false};
    mutable std::mutex m_mutex;
    Reply m_reply;
    std::vector<Request> m_requests;
};

}  // namespace boxmon::test
