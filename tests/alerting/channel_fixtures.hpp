#pragma once
// Notifications and channel configs shared by the channel tests.

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <sstream>
#include <string>

#include "core/config.hpp"
#include "core/incident.hpp"

namespace boxmon::test {

inline Notification cpu_notification() {
    Notification n;
    n.incident_id = "inc-0001";
    n.sequence = 1;
    n.kind = NotificationKind::firing;
    n.severity = Severity::critical;
    n.rule = "cpu_high";
    n.description = "CPU busy above 90%";
    n.series = SeriesKey("cpu_percent");
    n.op = ">";
    n.value = 97.14;
    n.threshold = 90;
    n.for_samples = 3;
    n.at = from_unix_seconds(1'795'000'000);
    n.since = n.at - std::chrono::minutes(5);
    n.peak = 98.5;
    n.reason = "fired";
    n.host = "web1";
    for (int i = 0; i < 30; ++i) {
        n.window.push_back({n.at - std::chrono::minutes(30 - i), 50.0 + i * 1.5});
    }
    LogTail tail;
    tail.name = "syslog";
    tail.source = "/var/log/syslog";
    tail.lines = {"kernel: something happened", "app: worker 3 busy"};
    n.tails.push_back(tail);
    return n;
}

// A notification far beyond every receiver's limit (RELIABILITY D12): 10 logs x 20 lines of
// 4 KiB with multi-byte characters, format-unsafe and mention text, and invalid UTF-8.
inline Notification huge_notification() {
    Notification n = cpu_notification();
    n.tails.clear();
    for (int l = 0; l < 10; ++l) {
        LogTail t;
        t.name = "log" + std::to_string(l);
        t.source = "/var/log/app" + std::to_string(l) + ".log";
        for (int i = 0; i < 20; ++i) {
            std::string line = "é€ {} %s%n <!channel> @everyone ``` \xff\xfe ";
            while (line.size() < 4096) line += "ü€𝄞";
            t.lines.push_back(line);
        }
        n.tails.push_back(t);
    }
    for (int i = 0; i < 2000; ++i) n.window.push_back({n.at, static_cast<double>(i % 100)});
    return n;
}

inline ChannelConfig http_channel(ChannelType type, const std::string& url) {
    ChannelConfig c;
    c.name = std::string(to_string(type)) + "-test";
    c.type = type;
    c.url.source = SecretRef::Source::env;
    c.url.ref = "TEST_URL";
    c.url.value = Secret(url);
    c.connect_timeout = std::chrono::seconds(2);
    c.timeout = std::chrono::seconds(2);
    return c;
}

// Captures everything spdlog's default logger writes while it lives.
class LogCapture {
public:
    LogCapture() : m_previous(spdlog::default_logger()) {
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(m_out);
        auto logger = std::make_shared<spdlog::logger>("capture", sink);
        logger->set_level(spdlog::level::trace);
        spdlog::set_default_logger(logger);
    }
    ~LogCapture() { spdlog::set_default_logger(m_previous); }
    LogCapture(const LogCapture&) = delete;
    LogCapture& operator=(const LogCapture&) = delete;
    std::string text() {
        spdlog::default_logger()->flush();
        return m_out.str();
    }

private:
    std::ostringstream m_out;
    std::shared_ptr<spdlog::logger> m_previous;
};

}  // namespace boxmon::test
