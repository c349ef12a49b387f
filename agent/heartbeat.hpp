#pragma once
// The dead-man's switch (DESIGN §9): after each stored tick, an HTTP GET of [heartbeat] url
// (healthchecks.io, Uptime Kuma push monitors, Cronitor, a cron monitor of one's own), so that
// something outside the box notices when boxmon -- or the box -- stops. The GET runs on the
// heartbeat's own thread: the tick only raises a flag, and a ping asked for while one is in flight
// is sent once after it, never queued up. Every request is bounded by [heartbeat] timeout; a
// failure is logged once per distinct error, and the recovery once.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "core/config.hpp"
#include "core/log.hpp"

namespace boxmon::agent {

// What the heartbeat did since it started (for tests).
struct HeartbeatStats {
    std::uint64_t sent = 0;    // requests finished (either way)
    std::uint64_t failed = 0;  // of those, no 2xx
    std::string last_error;    // empty after a success; never holds the URL's secret parts
};

class Heartbeat {
public:
    // Starts the thread when `config` names a URL; otherwise every call does nothing.
    explicit Heartbeat(HeartbeatConfig config);
    // stop() with no grace: a request in flight is aborted.
    ~Heartbeat();
    Heartbeat(const Heartbeat&) = delete;
    Heartbeat& operator=(const Heartbeat&) = delete;

    // Whether a URL is configured.
    bool enabled() const { return m_config.url.present(); }
    // Asks for one GET; returns at once.
    void beat();
    // Lets a ping in flight or asked for finish within `grace`, then aborts it and ends the thread.
    void stop(std::chrono::milliseconds grace);
    // Counters since start.
    HeartbeatStats stats() const;

private:
    void loop();
    void send_one();

    HeartbeatConfig m_config;
    ChangeFilter m_errors;
    std::atomic<bool> m_abort{false};
    mutable std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_wanted = false;     // a ping was asked for and not started yet
    bool m_in_flight = false;  // a request is running
    bool m_stopping = false;
    HeartbeatStats m_stats;
    std::thread m_thread;
};

}  // namespace boxmon::agent
