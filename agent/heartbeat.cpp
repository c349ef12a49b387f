#include "agent/heartbeat.hpp"

#include <spdlog/spdlog.h>

#include "core/secret.hpp"
#include "net/http.hpp"

namespace boxmon::agent {

namespace {

constexpr const char* k_filter_key = "heartbeat";
// Connecting never takes longer than this, even when [heartbeat] timeout is longer.
constexpr auto k_connect_timeout_max = std::chrono::milliseconds(5000);

}  // namespace

Heartbeat::Heartbeat(HeartbeatConfig config) : m_config(std::move(config)) {
    if (enabled()) m_thread = std::thread([this] { loop(); });
}

Heartbeat::~Heartbeat() {
    stop(std::chrono::milliseconds(0));
}

void Heartbeat::beat() {
    if (!enabled()) return;
    {
        std::lock_guard lock(m_mutex);
        if (m_stopping) return;
        m_wanted = true;
    }
    m_cv.notify_all();
}

void Heartbeat::stop(std::chrono::milliseconds grace) {
    {
        std::unique_lock lock(m_mutex);
        if (grace.count() > 0) m_cv.wait_for(lock, grace, [this] { return !m_wanted && !m_in_flight; });
        m_stopping = true;
    }
    m_abort = true;
    m_cv.notify_all();
    if (m_thread.joinable()) m_thread.join();
}

HeartbeatStats Heartbeat::stats() const {
    std::lock_guard lock(m_mutex);
    return m_stats;
}

void Heartbeat::loop() {
    while (true) {
        {
            std::unique_lock lock(m_mutex);
            m_cv.wait(lock, [this] { return m_stopping || m_wanted; });
            if (m_stopping) return;
            m_wanted = false;
            m_in_flight = true;
        }
        send_one();
        {
            std::lock_guard lock(m_mutex);
            m_in_flight = false;
        }
        m_cv.notify_all();
    }
}

void Heartbeat::send_one() {
    net::HttpRequest request;
    request.method = "GET";
    request.url = m_config.url.value;
    net::TransferOptions options;
    options.timeout = m_config.timeout;
    options.connect_timeout = std::min(m_config.timeout, std::chrono::milliseconds(k_connect_timeout_max));
    options.abort = &m_abort;
    auto response = net::http_request(request, options);
    std::string error;
    if (!response)
        error = response.error().message;
    else if (response->status < 200 || response->status > 299)
        error = fmt::format("GET {}: HTTP {}", redact_url(m_config.url.value.reveal()), response->status);
    {
        std::lock_guard lock(m_mutex);
        ++m_stats.sent;
        if (!error.empty()) ++m_stats.failed;
        m_stats.last_error = error;
    }
    if (m_abort) return;  // stopping: an aborted request is not a failure worth a line
    if (error.empty()) {
        if (m_errors.clear(k_filter_key)) spdlog::info("heartbeat: delivered again");
        return;
    }
    if (m_errors.changed(k_filter_key, error))
        spdlog::warn(
            "heartbeat failed: {}; whatever watches for it will raise an alarm; check [heartbeat] url and "
            "the receiver (logged again only when the error changes)",
            error);
}

}  // namespace boxmon::agent
