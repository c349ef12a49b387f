#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/config.hpp"
#include "core/config_load.hpp"
#include "core/detail/builtin_rules.hpp"

namespace boxmon {

namespace fs = std::filesystem;

namespace detail {

std::vector<RuleConfig> builtin_rules(const RuleDefaultsConfig& defaults) {
    const auto make = [&](std::string name, std::string metric, std::vector<Label> labels,
                          double critical, std::string description, std::string op = ">") {
        RuleConfig r;
        r.name = std::move(name);
        r.metric = std::move(metric);
        r.labels = std::move(labels);
        // Moved in: assigning a literal trips GCC 12 bug 105651 at -O3.
        r.op = std::move(op);
        r.critical = critical;
        r.for_samples = defaults.for_samples;
        r.cooldown = defaults.cooldown;
        r.logs = defaults.logs;
        r.description = std::move(description);
        r.builtin = true;
        return r;
    };
    // 800 Mbit/s is 100,000,000 bytes/s: the series are bytes per second.
    constexpr double k_800_mbit_in_bytes = 800e6 / 8;
    return {
        make("cpu_high", "cpu_percent", {}, 90, "CPU busy above 90%"),
        make("memory_high", "mem_used_percent", {}, 90, "memory in use above 90%"),
        make("disk_full", "disk_used_percent", {}, 90, "a filesystem is more than 90% full"),
        // iface = "" matches the all-interfaces total only (the series without an iface label).
        make("net_rx_high", "net_rx_bytes_per_second", {{"iface", ""}}, k_800_mbit_in_bytes,
             "network receive above 800 Mbit/s"),
        make("net_tx_high", "net_tx_bytes_per_second", {{"iface", ""}}, k_800_mbit_in_bytes,
             "network transmit above 800 Mbit/s"),
        // gpu_up exists only where a GPU collector found a GPU; 0 is a GPU its driver calls lost
        // or an NVML call that does not return, and a GPU that vanishes is an absent incident.
        make("gpu_lost", "gpu_up", {}, 1,
             "a GPU does not answer its driver (lost, e.g. fallen off the bus, or the driver is stuck); "
             "boxmon's log, dmesg and nvidia-smi say more; a GPU reset or a reboot is usually needed",
             "<"),
    };
}

}  // namespace detail

std::string_view to_string(ChannelType t) {
    switch (t) {
        case ChannelType::log: return "log";
        case ChannelType::smtp: return "smtp";
        case ChannelType::sendmail: return "sendmail";
        case ChannelType::slack: return "slack";
        case ChannelType::discord: return "discord";
        case ChannelType::webhook: return "webhook";
        case ChannelType::alertmanager: return "alertmanager";
    }
    return "unknown";
}

fs::path default_state_dir() {
    // systemd's StateDirectory= hands the unit its directory here (the packaged units run as
    // the user boxmon, whose default would otherwise be under its home).
    if (const char* sd = std::getenv("STATE_DIRECTORY"); sd != nullptr && *sd == '/') {
        const std::string_view dirs(sd);
        return fs::path(std::string(dirs.substr(0, dirs.find(':'))));
    }
    if (::geteuid() == 0) return "/var/lib/boxmon";
    if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg != nullptr && *xdg == '/')
        return fs::path(xdg) / "boxmon";
    if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0')
        return fs::path(home) / ".local/state/boxmon";
    return "/var/lib/boxmon";
}

Config default_config() {
    Config c;
    c.general.state_dir = default_state_dir();
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) == 0) c.general.hostname = host;
    c.rules = detail::builtin_rules(c.rule_defaults);
    return c;
}

const ChannelConfig* Config::channel(std::string_view name) const {
    for (const auto& c : channels)
        if (c.name == name) return &c;
    return nullptr;
}

const LogSourceConfig* Config::log(std::string_view name) const {
    for (const auto& l : logs)
        if (l.name == name) return &l;
    return nullptr;
}

const RuleConfig* Config::rule(std::string_view name) const {
    for (const auto& r : rules)
        if (r.name == name) return &r;
    return nullptr;
}

fs::path Config::database_path() const {
    if (!storage.path.empty()) return storage.path;
    return general.state_dir / "boxmon.db";
}

fs::path Config::reports_dir() const {
    if (!report.dir.empty()) return report.dir;
    return general.state_dir / "reports";
}

bool Config::collector_enabled(std::string_view name) const {
    return std::find(collectors.disable.begin(), collectors.disable.end(), name) ==
           collectors.disable.end();
}

}  // namespace boxmon
