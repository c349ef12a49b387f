#include "tests/e2e/e2e_support.hpp"

#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace boxmon::test::e2e {

namespace fs = std::filesystem;

bool poll_until(const std::function<bool()>& condition, std::chrono::milliseconds deadline,
                std::chrono::milliseconds step) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (true) {
        if (condition()) return true;
        if (std::chrono::steady_clock::now() >= end) return false;
        std::this_thread::sleep_for(step);
    }
}

// ---- boxmon ------------------------------------------------------------------------------------

Boxmon::Boxmon(const fs::path& dir, const std::string& config, std::vector<std::string> extra)
    : m_config(dir / "boxmon.toml"), m_state(dir / "state"), m_extra(std::move(extra)) {
    write_file(m_config, config, 0600);
}

std::vector<std::string> Boxmon::argv(std::vector<std::string> rest) const {
    std::vector<std::string> a = {boxmon_binary().string(), "--config", m_config.string(), "--state-dir",
                                  m_state.string()};
    a.insert(a.end(), m_extra.begin(), m_extra.end());
    a.insert(a.end(), rest.begin(), rest.end());
    return a;
}

std::unique_ptr<Process> Boxmon::start() const { return std::make_unique<Process>(argv({"run"})); }

int Boxmon::stop(Process& daemon) {
    daemon.signal(SIGTERM);
    const auto r = daemon.wait(10s);
    return r.timed_out ? -1 : r.exit_code;
}

ProcessResult Boxmon::cli(std::vector<std::string> args, std::chrono::milliseconds timeout) const {
    RunOptions o;
    o.timeout = timeout;
    return run_process(argv(std::move(args)), o);
}

std::optional<std::string> Boxmon::last_sample() const {
    const auto r = cli({"status", "--json"});
    if (r.exit_code != 0 && r.exit_code != 3) return std::nullopt;  // 3: stale, still a reading
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    if (j.is_discarded() || !j.contains("last_sample") || !j["last_sample"].is_string()) return std::nullopt;
    return j["last_sample"].get<std::string>();
}

std::optional<std::string> Boxmon::wait_for_sample_after(const std::string& after,
                                                         std::chrono::milliseconds deadline) const {
    std::optional<std::string> now;
    // ISO 8601 UTC stamps of one format compare as text.
    if (poll_until([&] { return (now = last_sample()) && *now > after; }, deadline)) return now;
    return std::nullopt;
}

bool Boxmon::wait_for_ticks(int n, std::chrono::milliseconds deadline) const {
    std::string last = last_sample().value_or("");
    const auto end = std::chrono::steady_clock::now() + deadline;
    for (int i = 0; i < n; ++i) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
        auto next = wait_for_sample_after(last, std::max(left, std::chrono::milliseconds(0)));
        if (!next) return false;
        last = *next;
    }
    return true;
}

nlohmann::json Boxmon::alerts() const {
    const auto r = cli({"alerts", "--json", "--since", "1h"});
    if (r.exit_code != 0) return nullptr;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    return j.is_discarded() ? nlohmann::json(nullptr) : j;
}

std::vector<nlohmann::json> Boxmon::incidents(const std::string& rule) const {
    std::vector<nlohmann::json> out;
    const auto j = alerts();
    if (!j.is_object() || !j.contains("incidents")) return out;
    for (const auto& i : j["incidents"])
        if (i.value("rule", "") == rule) out.push_back(i);
    return out;
}

// ---- CPU load ----------------------------------------------------------------------------------

namespace {

constexpr const char* k_stress_ng = "/usr/bin/stress-ng";
constexpr const char* k_nice = "/usr/bin/nice";

struct CpuTimes {
    std::uint64_t busy = 0;
    std::uint64_t total = 0;
};

// The aggregate "cpu" line of the real /proc/stat (idle and iowait count as not busy).
CpuTimes read_cpu_times() {
    std::ifstream f("/proc/stat");
    std::string label;
    f >> label;
    std::vector<std::uint64_t> v;
    std::uint64_t x = 0;
    for (int i = 0; i < 8 && f >> x; ++i) v.push_back(x);
    CpuTimes t;
    for (std::size_t i = 0; i < v.size(); ++i) {
        t.total += v[i];
        if (i != 3 && i != 4) t.busy += v[i];
    }
    return t;
}

double busy_share_over(std::chrono::milliseconds span) {
    const CpuTimes a = read_cpu_times();
    std::this_thread::sleep_for(span);
    const CpuTimes b = read_cpu_times();
    if (b.total <= a.total) return 0;
    return 100.0 * static_cast<double>(b.busy - a.busy) / static_cast<double>(b.total - a.total);
}

class StressCpu final : public CpuLoad {
public:
    void busy() override {
        if (m_stress) return;
        // --timeout: the workers end by themselves even if this test is killed.
        m_stress = std::make_unique<Process>(
            std::vector<std::string>{k_nice, "-n", "19", k_stress_ng, "--cpu", "0", "--timeout", "300s", "--quiet"});
    }
    void idle() override { m_stress.reset(); }  // SIGKILL to the whole process group
    std::vector<std::string> boxmon_args() const override { return {}; }
    std::string name() const override { return "stress-ng"; }

private:
    std::unique_ptr<Process> m_stress;
};

class ScriptedCpu final : public CpuLoad {
public:
    explicit ScriptedCpu(const fs::path& dir) : m_root(dir / "root") {
        fs::create_directories(dir);
        fs::copy(fixtures_dir() / "linux" / "vm-debian12" / "t0", m_root, fs::copy_options::recursive);
        const std::string stat = read_file(m_root / "proc" / "stat");
        // Everything after the per-CPU lines stays as captured.
        std::istringstream in(stat);
        std::string line;
        while (std::getline(in, line))
            if (!line.starts_with("cpu")) m_rest += line + "\n";
        write_stat();
        m_thread = std::thread([this] {
            while (!m_stop) {
                std::this_thread::sleep_for(100ms);
                write_stat();
            }
        });
    }
    ~ScriptedCpu() override {
        m_stop = true;
        if (m_thread.joinable()) m_thread.join();
    }
    void busy() override { m_busy_per_mille = 970; }
    void idle() override { m_busy_per_mille = 50; }
    std::vector<std::string> boxmon_args() const override {
        return {"--root-proc", (m_root / "proc").string(), "--root-sys", (m_root / "sys").string()};
    }
    std::string name() const override { return "scripted /proc"; }

private:
    // Two CPUs; each step adds 100 jiffies per CPU split as the current busy share says. Written
    // to a temporary file and renamed, so a reader never sees half a file.
    void write_stat() {
        const std::uint64_t busy = static_cast<std::uint64_t>(m_busy_per_mille.load()) / 10;
        m_user += busy;
        m_idle += 100 - busy;
        const std::string text =
            fmt::format("cpu  {} 0 0 {} 0 0 0 0 0 0\ncpu0 {} 0 0 {} 0 0 0 0 0 0\ncpu1 {} 0 0 {} 0 0 0 0 0 0\n{}",
                        2 * m_user, 2 * m_idle, m_user, m_idle, m_user, m_idle, m_rest);
        const fs::path tmp = m_root / "proc" / ".stat.tmp";
        write_file(tmp, text, 0644);
        fs::rename(tmp, m_root / "proc" / "stat");
    }

    fs::path m_root;
    std::string m_rest;
    std::uint64_t m_user = 1000;
    std::uint64_t m_idle = 100000;
    std::atomic<int> m_busy_per_mille{50};
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
};

}  // namespace

std::unique_ptr<CpuLoad> stress_ng_cpu() { return std::make_unique<StressCpu>(); }

std::unique_ptr<CpuLoad> scripted_cpu(const fs::path& dir) { return std::make_unique<ScriptedCpu>(dir); }

std::unique_ptr<CpuLoad> choose_cpu_load(const fs::path& dir, std::string& why) {
    const char* forced = std::getenv("BOXMON_E2E_CPU");
    const std::string force = forced ? forced : "";
    if (force == "scripted") {
        why = "BOXMON_E2E_CPU=scripted";
        return scripted_cpu(dir);
    }
    if (!fs::exists(k_stress_ng)) {
        why = fmt::format("{} is not installed (Debian package stress-ng)", k_stress_ng);
        return scripted_cpu(dir);
    }
    if (force != "stress") {
        const double busy = busy_share_over(1500ms);
        if (busy > 40) {
            why = fmt::format("the machine is already {:.0f} % busy without stress-ng (other jobs), so cpu_percent "
                              "would not fall below 90 % when stress-ng stops",
                              busy);
            return scripted_cpu(dir);
        }
    }
    why = "the machine is quiet";
    return stress_ng_cpu();
}

// ---- mail --------------------------------------------------------------------------------------

std::string mail_header(const std::string& message, const std::string& name) {
    std::istringstream in(message);
    std::string line;
    std::string value;
    bool in_header = false;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) break;
        if (in_header && (line.front() == ' ' || line.front() == '\t')) {
            value += line.substr(1);
            continue;
        }
        if (in_header) break;
        if (line.size() > name.size() && line.compare(0, name.size(), name) == 0 && line[name.size()] == ':') {
            value = line.substr(name.size() + 1);
            while (!value.empty() && value.front() == ' ') value.erase(0, 1);
            in_header = true;
        }
    }
    return value;
}

std::string mail_body(const std::string& message) {
    auto split = message.find("\r\n\r\n");
    std::size_t skip = 4;
    if (split == std::string::npos) {
        split = message.find("\n\n");
        skip = 2;
    }
    if (split == std::string::npos) return {};
    static const std::string chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    unsigned buf = 0;
    int bits = 0;
    for (char c : message.substr(split + skip)) {
        const auto pos = chars.find(c);
        if (pos == std::string::npos) continue;
        buf = (buf << 6) | static_cast<unsigned>(pos);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((buf >> bits) & 0xff));
        }
    }
    return out;
}

}  // namespace boxmon::test::e2e
