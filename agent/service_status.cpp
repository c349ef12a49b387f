#include "agent/service_status.hpp"

#include <fmt/format.h>

#include "core/metric_format.hpp"
#include "core/units.hpp"

namespace boxmon::agent {

using nlohmann::json;

std::optional<std::pair<WallTime, bool>> value_since(const std::vector<store::HistoryPoint>& history) {
    if (history.empty()) return std::nullopt;
    std::size_t first = history.size() - 1;
    const double current = history.back().value;
    while (first > 0 && history[first - 1].value == current) --first;
    return std::pair{history[first].ts, first == 0};
}

namespace {

// The value of `name{labels}` at exactly `ts`, if stored.
Result<std::optional<double>> value_at(store::Store& db, const SeriesKey& key, WallTime ts) {
    BOXMON_TRY(points, db.query(key, ts, ts));
    if (points.empty()) return std::optional<double>{};
    return std::optional<double>{points.back().value};
}

std::optional<bool> as_bool(const std::optional<double>& v) {
    if (!v) return std::nullopt;
    return *v >= 0.5;
}

json or_null(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

std::string age(WallTime then, WallTime now) {
    const auto d = std::chrono::duration_cast<std::chrono::seconds>(now - then);
    if (d.count() < 0) return "in the future";
    return format_duration(d);
}

}  // namespace

Result<std::vector<ServiceState>> read_service_states(const Config& config, store::Store& db, WallTime last,
                                                      std::chrono::milliseconds lookback) {
    std::vector<ServiceState> out;
    for (const auto& svc : config.services) {
        ServiceState s;
        s.name = svc.name;
        s.memory_limit = svc.memory_limit;
        const std::vector<Label> labels = {{"service", svc.name}};
        const SeriesKey up_key("service_up", labels);
        BOXMON_TRY(history, db.query(up_key, last - lookback, last));
        if (!history.empty() && history.back().ts == last) {
            s.up = history.back().value >= 0.5;
            if (const auto since = value_since(history)) {
                s.since = since->first;
                s.since_at_least = since->second;
            }
        }
        BOXMON_TRY(processes, value_at(db, SeriesKey("service_processes", labels), last));
        BOXMON_TRY(rss, value_at(db, SeriesKey("service_rss_bytes", labels), last));
        BOXMON_TRY(cpu, value_at(db, SeriesKey("service_cpu_percent", labels), last));
        BOXMON_TRY(gpu, value_at(db, SeriesKey("service_gpu_memory_bytes", labels), last));
        s.processes = processes;
        s.rss_bytes = rss;
        s.cpu_percent = cpu;
        s.gpu_memory_bytes = gpu;
        for (const auto& check : svc.checks) {
            const std::vector<Label> check_labels = {{"check", check.name}, {"service", svc.name}};
            CheckState c;
            c.name = check.name;
            BOXMON_TRY(up, value_at(db, SeriesKey("check_up", check_labels), last));
            BOXMON_TRY(latency, value_at(db, SeriesKey("check_latency_seconds", check_labels), last));
            c.up = as_bool(up);
            c.latency_seconds = latency;
            s.checks.push_back(std::move(c));
        }
        out.push_back(std::move(s));
    }
    return out;
}

std::string render_service_states(const std::vector<ServiceState>& services, WallTime now) {
    if (services.empty()) return "";
    std::size_t width = 8;
    for (const auto& s : services) width = std::max(width, s.name.size());
    std::string out = "\nSERVICES\n";
    for (const auto& s : services) {
        std::string state = !s.up ? "unknown (not in the last sample)" : *s.up ? "up" : "DOWN";
        if (s.up && s.since)
            state += fmt::format(" for {}{} (since {})", s.since_at_least ? "at least " : "", age(*s.since, now),
                                 format_iso8601(*s.since));
        out += fmt::format("  {:<{}}  {}\n", s.name, width, state);
        if (s.up && *s.up) {
            std::string use;
            if (s.processes) use += fmt::format("{:.0f} process{}", *s.processes, *s.processes == 1 ? "" : "es");
            if (s.rss_bytes) {
                use += fmt::format(", RSS {}", format_bytes(*s.rss_bytes));
                if (s.memory_limit)
                    use += fmt::format(" of {} limit", format_bytes(static_cast<double>(*s.memory_limit)));
            }
            if (s.cpu_percent) use += fmt::format(", CPU {}", format_metric_value("cpu_percent", *s.cpu_percent));
            if (s.gpu_memory_bytes) use += fmt::format(", GPU memory {}", format_bytes(*s.gpu_memory_bytes));
            if (!use.empty()) out += fmt::format("  {:<{}}  {}\n", "", width, use);
        }
        for (const auto& c : s.checks) {
            std::string line = !c.up ? "not run in the last tick" : *c.up ? "ok" : "FAILING";
            if (c.latency_seconds) line += fmt::format(" in {}", format_metric_value("latency_seconds", *c.latency_seconds));
            out += fmt::format("  {:<{}}  check {}: {}\n", "", width, c.name, line);
        }
    }
    return out;
}

json service_states_to_json(const std::vector<ServiceState>& services) {
    json arr = json::array();
    for (const auto& s : services) {
        json checks = json::array();
        for (const auto& c : s.checks)
            checks.push_back({{"name", c.name},
                              {"up", c.up ? json(*c.up) : json(nullptr)},
                              {"latency_seconds", or_null(c.latency_seconds)}});
        arr.push_back({{"name", s.name},
                       {"up", s.up ? json(*s.up) : json(nullptr)},
                       {"since", s.since ? json(format_iso8601(*s.since)) : json(nullptr)},
                       {"since_at_least", s.since_at_least},
                       {"processes", or_null(s.processes)},
                       {"rss_bytes", or_null(s.rss_bytes)},
                       {"memory_limit_bytes", s.memory_limit ? json(*s.memory_limit) : json(nullptr)},
                       {"cpu_percent", or_null(s.cpu_percent)},
                       {"gpu_memory_bytes", or_null(s.gpu_memory_bytes)},
                       {"checks", std::move(checks)}});
    }
    return arr;
}

}  // namespace boxmon::agent
