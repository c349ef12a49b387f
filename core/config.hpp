#pragma once
// The configuration as boxmon uses it: plain structs with every default filled in. The TOML
// loader (config_load.hpp) builds it and validates every key; docs/CONFIG.md documents each.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/secret.hpp"
#include "core/series.hpp"

namespace boxmon {

using namespace std::chrono_literals;

// Where a secret came from, so `config show` can say so without showing it.
struct SecretRef {
    enum class Source { none, inline_value, file, env, credential };
    Source source = Source::none;
    std::string ref;  // the path, variable or credential name (never the value)
    Secret value;

    bool present() const { return source != Source::none; }
};

// The collectors every build knows, in registry order (collector/registry.cpp matches it).
inline const std::vector<std::string>& known_collectors() {
    static const std::vector<std::string> names = {
        "cpu",  "memory",      "pressure", "load",       "network", "filesystem",
        "diskio", "temperature", "uptime", "gpu_nvidia", "gpu_amd", "gpu_apple", "services"};
    return names;
}

struct GeneralConfig {
    std::chrono::milliseconds interval = 60s;  // 1s .. 1h
    std::filesystem::path state_dir;           // default: /var/lib/boxmon or $XDG_STATE_HOME/boxmon
    std::string hostname;                      // default: the host's name
    std::string log_level = "info";
};

struct CollectorsConfig {
    std::vector<std::string> disable;                      // collector names switched off
    std::chrono::milliseconds filesystem_timeout = 5s;     // a statfs slower than this is stale
    std::vector<std::string> exclude_mounts;               // glob patterns of mount points
    std::vector<std::string> exclude_fs_types;             // extra filesystem types to skip
    std::vector<std::string> exclude_interfaces;           // glob patterns of interface names
};

struct GpuConfig {
    bool nvidia = true;
    bool amd = true;
    std::string nvml_library;  // override for libnvidia-ml.so.1 (tests load a fake)
};

struct StorageConfig {
    std::filesystem::path path;  // default: <state_dir>/boxmon.db
    std::chrono::milliseconds retention_raw = std::chrono::hours(24 * 30);
    std::chrono::milliseconds retention_5m = std::chrono::hours(24 * 180);
    std::chrono::milliseconds retention_1h = std::chrono::hours(24 * 730);
    std::chrono::milliseconds busy_timeout = 5s;
    std::chrono::milliseconds ring_window = 2h;  // the in-memory window per series
};

struct RuleConfig {
    std::string name;
    std::string metric;
    std::vector<Label> labels;  // exact matchers; value "" matches "label absent"
    std::string op = ">";       // > >= < <=
    std::optional<double> warning;
    std::optional<double> critical;
    std::optional<double> clear;  // hysteresis: resolved only when past this value
    int for_samples = 3;
    std::chrono::milliseconds cooldown = 30min;
    std::optional<std::chrono::milliseconds> repeat;
    std::vector<std::string> channels;  // empty: [alerting] default_channels
    std::vector<std::string> logs;      // names under [logs]
    bool absent = true;                 // a watched series that stops arriving is an incident
    std::string description;
    bool builtin = false;  // generated (default rules, service rules), not written by the user
    // Notifications are withheld while this rule is pending or firing for a series whose labels
    // are a subset of ours (a health check's alert while its service is down says nothing new).
    std::string inhibited_by;
};

struct RuleDefaultsConfig {
    bool builtin = true;  // the operator's plan: cpu, memory, disk, network
    int for_samples = 3;
    std::chrono::milliseconds cooldown = 30min;
    std::vector<std::string> logs;  // attached to built-in rules
};

struct LogSourceConfig {
    std::string name;
    std::filesystem::path path;  // a file, or
    std::string journal_unit;    // a systemd unit's journal
    int lines = 20;
};

enum class ChannelType { log, smtp, sendmail, slack, discord, webhook, alertmanager };
std::string_view to_string(ChannelType t);

struct HeaderConfig {
    std::string name;
    SecretRef value;  // header values can carry tokens: secret
};

struct ChannelConfig {
    std::string name;
    ChannelType type = ChannelType::log;
    // HTTP channels (slack, discord, webhook, alertmanager) and smtp: the URL is a secret
    // (webhook URLs carry their token).
    SecretRef url;
    std::filesystem::path ca_file;
    bool tls_skip_verify = false;
    std::chrono::milliseconds connect_timeout = 10s;
    std::chrono::milliseconds timeout = 20s;
    std::vector<HeaderConfig> headers;  // webhook, alertmanager
    // smtp
    std::string starttls = "required";  // required | off (loopback relays only)
    std::string from;
    std::vector<std::string> to;
    std::string username;
    SecretRef password;
    // sendmail
    std::filesystem::path sendmail_path = "/usr/sbin/sendmail";
    // alertmanager: extra labels on every alert
    std::map<std::string, std::string> labels;
    // Minimum time between two messages on this channel (Slack allows ~1/s).
    std::chrono::milliseconds min_gap = 1s;
};

struct AlertingConfig {
    std::vector<std::string> default_channels;  // empty: every configured channel, or "log"
    std::chrono::milliseconds retry_min = 30s;
    std::chrono::milliseconds retry_max = 1h;
    std::chrono::milliseconds dead_after = 24h;
    int log_lines = 20;
    std::uint64_t log_line_max = 4096;       // bytes; longer lines are cut with a marker
    std::vector<std::string> redact;         // extra POSIX extended regexes, matches become [REDACTED]
    std::chrono::milliseconds window = 30min;        // recent values attached to a message
    std::chrono::milliseconds sample_budget = 10s;   // delivery time `boxmon sample` may spend
    // How often an incident still firing is pushed again to alertmanager channels (at least the
    // interval); their alerts end 4 of these ahead, as Prometheus does with its resend delay.
    std::chrono::milliseconds alertmanager_resend = 1min;
};

struct CheckConfig {
    enum class Type { http, tcp, command };
    Type type = Type::http;
    std::string name;  // default: "<type><index>"
    // http
    std::string url;  // not a secret: health URLs are local
    std::string method = "GET";
    int expect_status = 0;  // 0: any 2xx
    std::string body_contains;
    std::filesystem::path ca_file;
    bool tls_skip_verify = false;
    // tcp
    std::string address;  // host:port
    // command
    std::vector<std::string> command;  // argv, run without a shell
    std::chrono::milliseconds timeout = 5s;
};

struct ServiceConfig {
    std::string name;
    std::string unit;                // systemd unit whose cgroup holds the processes
    std::filesystem::path pidfile;   // or a pidfile
    std::string match;               // or a substring of the command line
    std::optional<std::uint64_t> memory_limit;  // bytes; RSS above it is a warning
    std::vector<std::string> logs;
    std::vector<CheckConfig> checks;
};

struct ReportConfig {
    std::filesystem::path dir;  // default: <state_dir>/reports
    int keep = 30;
    std::chrono::milliseconds since = 24h;
    std::vector<std::filesystem::path> paths;  // folders whose size the report shows
    std::vector<std::string> units;            // systemd units (default: the services' units)
    std::vector<std::string> webserver_check = {"nginx", "-t"};
    std::vector<std::string> certificates = {"/etc/letsencrypt/live/*/cert.pem"};
    std::string firewall = "auto";  // auto | nft | iptables | pfctl | off
    std::vector<std::string> logs;  // names under [logs] whose tails the report shows
    std::chrono::milliseconds command_timeout = 10s;
};

struct HttpConfig {
    std::string listen;  // "" = off; "127.0.0.1:9101"
    SecretRef bearer_token;
    std::filesystem::path textfile;  // node_exporter textfile written after each tick
};

struct HeartbeatConfig {
    SecretRef url;  // GET after each successful tick (dead-man's switch)
    std::chrono::milliseconds timeout = 10s;
};

struct Config {
    std::filesystem::path source;  // the file it came from; empty for built-in defaults
    GeneralConfig general;
    CollectorsConfig collectors;
    GpuConfig gpu;
    StorageConfig storage;
    RuleDefaultsConfig rule_defaults;
    std::vector<RuleConfig> rules;  // user rules, then built-in and service rules
    std::vector<LogSourceConfig> logs;
    std::vector<ChannelConfig> channels;
    AlertingConfig alerting;
    std::vector<ServiceConfig> services;
    ReportConfig report;
    HttpConfig http;
    HeartbeatConfig heartbeat;

    // Looks up by name; nullptr when absent.
    const ChannelConfig* channel(std::string_view name) const;
    const LogSourceConfig* log(std::string_view name) const;
    const RuleConfig* rule(std::string_view name) const;
    // The database file: storage.path, or <state_dir>/boxmon.db.
    std::filesystem::path database_path() const;
    // The reports folder: report.dir, or <state_dir>/reports.
    std::filesystem::path reports_dir() const;
    // Whether a collector is on (known and not in collectors.disable).
    bool collector_enabled(std::string_view name) const;
};

}  // namespace boxmon
