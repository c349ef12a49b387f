#pragma once
// A real Prometheus Alertmanager (Debian's prometheus-alertmanager) on a loopback port, with
// clustering off and a receiver that drops everything: what boxmon pushed shows in
// GET /api/v2/alerts. It can be stopped and started again on the same port (Alertmanager keeps
// alerts in memory only, so a restart forgets them until the next push).

#include <chrono>
#include <csignal>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "net/http.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon::test {

class Alertmanager {
public:
    static constexpr const char* k_binary = "/usr/bin/prometheus-alertmanager";
    static bool installed() { return std::filesystem::exists(k_binary); }

    // Starts it on a free port and waits (at most 30 s) until /-/ready answers 200.
    Alertmanager() : m_port(free_port()) {
        write_file(m_dir / "alertmanager.yml", "route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n");
        start();
    }
    bool ready() const { return m_ready; }
    std::string why() { return m_process ? m_process->err() : std::string("not running"); }
    int port() const { return m_port; }
    std::string base() const { return "http://127.0.0.1:" + std::to_string(m_port); }

    // Alerts as GET /api/v2/alerts lists them (active, silenced, inhibited; not resolved ones);
    // an empty array when it does not answer.
    nlohmann::json alerts() const {
        net::HttpRequest r;
        r.method = "GET";
        r.url = Secret(base() + "/api/v2/alerts");
        auto res = net::http_request(r, net::TransferOptions{});
        if (!res || res->status != 200) return nlohmann::json::array();
        auto j = nlohmann::json::parse(res->body, nullptr, false);
        return j.is_array() ? j : nlohmann::json::array();
    }

    void stop() {
        if (!m_process) return;
        m_process->signal(SIGTERM);
        (void)m_process->wait(std::chrono::seconds(10));
        m_process.reset();
        m_ready = false;
    }

    // (Re)starts it on the same port; ready() says whether it came up.
    void start() {
        m_process = std::make_unique<Process>(std::vector<std::string>{
            k_binary, "--config.file=" + (m_dir / "alertmanager.yml").string(),
            "--storage.path=" + (m_dir / "data").string(),
            "--web.listen-address=127.0.0.1:" + std::to_string(m_port), "--cluster.listen-address="});
        m_ready = wait_until(
            [&] {
                net::HttpRequest r;
                r.method = "GET";
                r.url = Secret(base() + "/-/ready");
                auto res = net::http_request(r, net::TransferOptions{});
                return res && res->status == 200;
            },
            std::chrono::seconds(30));
    }

private:
    TempDir m_dir;
    int m_port;
    std::unique_ptr<Process> m_process;
    bool m_ready = false;
};

}  // namespace boxmon::test
