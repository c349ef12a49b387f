#pragma once
// What the end-to-end tests share: the real `boxmon` binary as a daemon and as CLI readers
// (status, alerts, rules backtest), a CPU that is busy or idle on demand (stress-ng on the real
// /proc, or a scripted fixture /proc when the machine is too busy for that to be decisive), and
// small readers for what the receivers got.

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/test_support.hpp"

namespace boxmon::test::e2e {

using namespace std::chrono_literals;

// Polls `condition` every `step` until it holds or `deadline` passes (for conditions that run
// a process, where wait_until's 10 ms would be a busy loop).
bool poll_until(const std::function<bool()>& condition, std::chrono::milliseconds deadline,
                std::chrono::milliseconds step = 250ms);

// One state directory and configuration file, and the boxmon commands on them.
class Boxmon {
public:
    // `config` is written to <dir>/boxmon.toml (mode 0600); `extra` are global options put
    // before every subcommand (e.g. --root-proc).
    Boxmon(const std::filesystem::path& dir, const std::string& config, std::vector<std::string> extra = {});

    // `boxmon run` in the background.
    std::unique_ptr<Process> start() const;
    // SIGTERM, then the exit status (-1 when it did not exit within 10 s).
    static int stop(Process& daemon);
    ProcessResult cli(std::vector<std::string> args, std::chrono::milliseconds timeout = 30s) const;
    // `boxmon status --json`'s last_sample, if a sample is stored.
    std::optional<std::string> last_sample() const;
    // Waits until a sample later than `after` is stored; returns its timestamp.
    std::optional<std::string> wait_for_sample_after(const std::string& after, std::chrono::milliseconds deadline) const;
    // Waits until `n` samples later than the current last one are stored.
    bool wait_for_ticks(int n, std::chrono::milliseconds deadline) const;
    // `boxmon alerts --json --since 1h` parsed; null when it failed.
    nlohmann::json alerts() const;
    // The incidents of `rule` in alerts().
    std::vector<nlohmann::json> incidents(const std::string& rule) const;
    const std::filesystem::path& config_path() const { return m_config; }

private:
    std::vector<std::string> argv(std::vector<std::string> rest) const;
    std::filesystem::path m_config;
    std::filesystem::path m_state;
    std::vector<std::string> m_extra;
};

// A CPU the test makes busy (above 90 %) or idle.
class CpuLoad {
public:
    virtual ~CpuLoad() = default;
    virtual void busy() = 0;
    virtual void idle() = 0;
    // Global options boxmon needs to see it (--root-proc/--root-sys for the scripted one).
    virtual std::vector<std::string> boxmon_args() const = 0;
    // "stress-ng" or "scripted /proc".
    virtual std::string name() const = 0;
};

// stress-ng --cpu <nproc> at nice 19 on the real /proc: every CPU busy, yet boxmon, the
// receivers and the test still get the CPU when they need it.
std::unique_ptr<CpuLoad> stress_ng_cpu();
// A copy of a captured fixture tree whose proc/stat a thread rewrites every 100 ms with counters
// that advance at 97 % busy or 5 % busy; only that file moves.
std::unique_ptr<CpuLoad> scripted_cpu(const std::filesystem::path& dir);
// stress-ng when it is installed and the machine is quiet enough that its load decides
// cpu_percent (busy below 40 % over a second without it), otherwise the scripted /proc, with
// the reason in `why`. BOXMON_E2E_CPU=stress or =scripted forces one.
std::unique_ptr<CpuLoad> choose_cpu_load(const std::filesystem::path& dir, std::string& why);

// The body of a received mail (base64 Content-Transfer-Encoding decoded; CRLF kept).
std::string mail_body(const std::string& message);
// The value of a mail header, unfolded; empty when absent.
std::string mail_header(const std::string& message, const std::string& name);

}  // namespace boxmon::test::e2e
