#pragma once
// tests/servers/smtp_server.py (python3-aiosmtpd) as a child process on a free loopback port.

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/test_support.hpp"

namespace boxmon::test {

class SmtpServer {
public:
    // `args`: extra options for smtp_server.py (--cert, --auth, --rcpt-reply ...); `port`: where
    // to listen (a server that comes up where a client already expects it), 0 for a free one.
    explicit SmtpServer(std::vector<std::string> args, int port = 0) : m_port(port > 0 ? port : free_port()) {
        std::vector<std::string> argv = {python3(), (source_dir() / "tests/servers/smtp_server.py").string(),
                                         "--port", std::to_string(m_port), "--dir", m_dir.path().string()};
        argv.insert(argv.end(), args.begin(), args.end());
        m_process = std::make_unique<Process>(argv);
        m_ready = m_process->wait_for_err("READY", std::chrono::seconds(20));
    }
    bool ready() const { return m_ready; }
    std::string why() { return m_process->err(); }
    int port() const { return m_port; }
    std::string url(const char* scheme = "smtp") const {
        return std::string(scheme) + "://127.0.0.1:" + std::to_string(m_port);
    }
    // The received messages in order.
    std::vector<std::string> messages() const {
        std::vector<std::string> out;
        for (int i = 1;; ++i) {
            const auto p = m_dir / ("msg-" + std::to_string(i) + ".eml");
            if (!std::filesystem::exists(p)) break;
            out.push_back(read_file(p));
        }
        return out;
    }
    std::string commands() const {
        const auto p = m_dir / "commands.log";
        return std::filesystem::exists(p) ? read_file(p) : std::string();
    }

private:
    TempDir m_dir;
    int m_port;
    std::unique_ptr<Process> m_process;
    bool m_ready = false;
};

}  // namespace boxmon::test
