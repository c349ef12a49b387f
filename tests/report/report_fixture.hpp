#pragma once
// Fixture data for report tests: one of everything a full report shows, fixed in time relative
// to FakeClock's default wall time (2023-11-14 22:14:00 UTC).

#include <cmath>

#include "core/clock.hpp"
#include "report/report.hpp"

namespace boxmon::report::fixture {

inline WallTime now() { return FakeClock().wall(); }

inline ReportOptions options(const Clock& clock) {
    ReportOptions o;
    o.clock = &clock;
    o.hostname = "gpu-box-1";
    o.since = clock.wall() - std::chrono::hours(24);
    o.sparkline_width = 24;
    return o;
}

inline SeriesHistory wave(SeriesKey key, double base, double amplitude) {
    SeriesHistory h{std::move(key), {}};
    const WallTime start = now() - std::chrono::hours(24);
    // 5-minute points over the day: a smooth daily curve with one spike.
    for (int i = 0; i < 288; ++i) {
        double v = base + amplitude * std::sin(i * 2 * M_PI / 288);
        if (i == 200) v = base + 2 * amplitude;
        v = std::round(v * 10) / 10;
        h.points.push_back({start + std::chrono::minutes(5 * i), v, v, v, 1});
    }
    return h;
}

inline ReportInput full_input() {
    const WallTime t = now();
    ReportInput in;
    HostFacts h;
    h.hostname = "gpu-box-1";
    h.os_name = "Debian GNU/Linux 12 (bookworm)";
    h.os_version = "12";
    h.kernel = "6.1.0-18-amd64";
    h.cpu_model = "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz";
    h.cpu_cores = 64;
    h.mem_total_bytes = 256ull << 30;
    h.swap_total_bytes = 8ull << 30;
    h.uptime = std::chrono::seconds(356521);
    h.primary_interface = "enp3s0";
    h.primary_ip = "192.168.1.10";
    h.disks = {{"/", "/dev/nvme0n1p2", "ext4", 1ull << 40}, {"/srv/models", "/dev/sda1", "xfs", std::nullopt}};
    h.gpus = {{"NVIDIA GeForce RTX 4090", "nvidia 550.54.14"}};
    h.boxmon_version = "0.1.0";
    h.config_path = "/etc/boxmon/boxmon.toml";
    in.host = h;

    in.path_sizes = std::vector<PathSize>{{"/srv/models", 412ull << 30, 1234, ""},
                                          {"/home/llm/project", 3ull << 20, 42, "partial: 3 entries unreadable"},
                                          {"/missing", 0, 0, "cannot read: No such file or directory"}};

    std::vector<SeriesHistory> metrics;
    metrics.push_back(wave(SeriesKey("cpu_percent"), 35, 20));
    metrics.push_back(wave(SeriesKey("mem_used_percent"), 61, 5));
    metrics.push_back(wave(SeriesKey("net_rx_bytes_per_second", {{"iface", "enp3s0"}}), 2e6, 1e6));
    metrics.push_back(wave(SeriesKey("disk_used_percent", {{"mount", "/"}}), 71, 1));
    metrics.push_back(wave(SeriesKey("gpu_util_percent", {{"gpu", "0"}}), 40, 25));
    metrics.push_back(SeriesHistory{SeriesKey("gpu_power_watts", {{"gpu", "0"}}), {}});
    in.metrics = metrics;

    IncidentData d;
    Incident closed;
    closed.id = "inc-1";
    closed.rule = "cpu_high";
    closed.series = SeriesKey("cpu_percent");
    closed.severity = Severity::ok;
    closed.peak_severity = Severity::critical;
    closed.start = t - std::chrono::hours(5);
    closed.end = t - std::chrono::hours(4);
    closed.peak_value = 98.4;
    Incident open;
    open.id = "inc-2";
    open.rule = "disk_full";
    open.series = SeriesKey("disk_used_percent", {{"mount", "/"}});
    open.severity = Severity::warning;
    open.peak_severity = Severity::warning;
    open.start = t - std::chrono::minutes(30);
    open.peak_value = 91.2;
    Incident absent;
    absent.id = "inc-3";
    absent.rule = "gpu_gone";
    absent.kind = IncidentKind::absent;
    absent.series = SeriesKey("gpu_util_percent", {{"gpu", "1"}});
    absent.start = t - std::chrono::minutes(10);
    d.in_window = {closed, open, absent};
    d.open = {open, absent};
    d.outbox = OutboxCounts{1, 1, 3, t - std::chrono::minutes(9)};
    OutboxRow row;
    row.id = 7;
    row.item.channel = "ops-mail";
    row.item.kind = "firing";
    row.item.created = t - std::chrono::minutes(9);
    row.state = OutboxState::pending;
    row.attempts = 2;
    row.last_error = "connect to smtp.example.org:587: timed out";
    d.recent_deliveries = {row};
    in.incidents = d;

    in.services = std::vector<UnitState>{{"nginx.service", "active"}, {"mlx-chat.service", "failed"}};
    ServiceState chat_service;
    chat_service.name = "chat";
    chat_service.up = false;
    chat_service.since = t - std::chrono::minutes(12);
    chat_service.processes = 0;
    chat_service.checks = {CheckState{"health", false, 5.0}};
    ServiceState embed;
    embed.name = "embed";
    embed.up = true;
    embed.since = t - std::chrono::hours(30);
    embed.since_at_least = true;
    embed.processes = 2;
    embed.rss_bytes = 3.5 * (1ull << 30);
    embed.cpu_percent = 42;
    embed.gpu_memory_bytes = 9.0 * (1ull << 30);
    embed.checks = {CheckState{"health", true, 0.021}};
    in.watched = std::vector<ServiceState>{chat_service, embed};

    CommandOutput nginx;
    nginx.argv = {"nginx", "-t"};
    nginx.exit_code = 0;
    nginx.err = "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n"
                "nginx: configuration file /etc/nginx/nginx.conf test is successful\n";
    in.webserver = nginx;

    CertInfo good;
    good.path = "/etc/letsencrypt/live/chat.example.org/cert.pem";
    good.subject = "CN=chat.example.org";
    good.issuer = "CN=R3,O=Let's Encrypt,C=US";
    good.not_before = t - std::chrono::hours(24 * 60);
    good.not_after = t + std::chrono::hours(24 * 30);
    good.certificates_in_file = 1;
    CertInfo expired = good;
    expired.path = "/etc/letsencrypt/live/old.example.org/cert.pem";
    expired.subject = "CN=old.example.org";
    expired.not_after = t - std::chrono::hours(24 * 3 + 1);
    CertInfo garbage;
    garbage.path = "/etc/letsencrypt/live/broken/cert.pem";
    garbage.error = "not a certificate: no PEM or DER certificate found";
    in.certificates = std::vector<CertInfo>{good, expired, garbage};

    CommandOutput nft;
    nft.argv = {"nft", "list", "ruleset"};
    nft.exit_code = 0;
    nft.out = "table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n"
              "\t\ttcp dport { 22, 443 } accept\n\t}\n}\n";
    in.firewall = nft;

    LogTail chat;
    chat.name = "chat";
    chat.source = "/var/log/chat/server.log";
    chat.lines = {"2023-11-14 21:59:01 INFO request served in 412 ms",
                  "2023-11-14 22:00:03 ERROR upstream auth failed: Authorization: [REDACTED]"};
    LogTail missing;
    missing.name = "embed";
    missing.source = "/var/log/embed.log";
    missing.note = "file not found";
    in.logs = std::vector<LogTail>{chat, missing};

    in.config = std::string("[general]\ninterval = \"60s\"\n\n[[channels]]\nname = \"ops-hook\"\ntype = \"webhook\"\n"
                            "url = \"<secret>\"\n");
    return in;
}

}  // namespace boxmon::report::fixture
