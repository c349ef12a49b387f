#include "agent/exposition.hpp"

#include <cmath>
#include <map>

#include <fmt/format.h>

#include "core/metric_format.hpp"

namespace boxmon::agent {

namespace {

// Label values: backslash, double quote and newline escaped (the exposition format's rules).
std::string escape_value(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

// Metric and label names: [a-zA-Z_][a-zA-Z0-9_]*; anything else becomes '_'.
std::string sanitize_name(std::string_view n) {
    std::string out(n);
    for (std::size_t i = 0; i < out.size(); ++i) {
        const char c = out[i];
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
        if (!ok) out[i] = '_';
    }
    if (out.empty()) out = "_";
    return out;
}

// The exposition name of a series: boxmon_<name>, with "_value" after a name that ends in a
// suffix Prometheus reserves for histograms and summaries (cpu_count -> boxmon_cpu_count_value),
// which promtool's lint refuses on a gauge.
std::string family_name(std::string_view series) {
    std::string name = "boxmon_" + sanitize_name(series);
    for (std::string_view reserved : {"_count", "_sum", "_bucket"})
        if (name.ends_with(reserved)) return name + "_value";
    return name;
}

std::string labels_text(const std::vector<Label>& labels) {
    if (labels.empty()) return {};
    std::string out = "{";
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (i) out += ',';
        out += fmt::format("{}=\"{}\"", sanitize_name(labels[i].name), escape_value(labels[i].value));
    }
    return out + "}";
}

std::string number(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    return fmt::format("{}", v);
}

// Counters are named *_total; everything boxmon stores is a gauge (rates are already per second).
void family(std::string& out, const std::string& name, const char* help, const char* type) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

std::string to_exposition(const Sample& sample, const SelfMetrics& self) {
    std::map<std::string, std::vector<const Point*>> families;
    for (const auto& p : sample.points) families[family_name(p.key.name())].push_back(&p);
    std::string out;
    for (const auto& [name, points] : families) {
        const auto unit = metric_unit(points.front()->key.name());
        const std::string help = fmt::format("boxmon series {}{}{}", points.front()->key.name(),
                                             unit.empty() ? "" : ", in ", unit);
        family(out, name, help.c_str(), "gauge");
        for (const auto* p : points) out += fmt::format("{}{} {}\n", name, labels_text(p->key.labels()), number(p->value));
    }
    if (!sample.collectors.empty()) {
        family(out, "boxmon_collector_up", "1 when the collector's last run succeeded", "gauge");
        for (const auto& c : sample.collectors)
            out += fmt::format("boxmon_collector_up{{collector=\"{}\"}} {}\n", escape_value(c.name), c.ok ? 1 : 0);
        family(out, "boxmon_collector_duration_seconds", "time the collector's last run took", "gauge");
        for (const auto& c : sample.collectors)
            out += fmt::format("boxmon_collector_duration_seconds{{collector=\"{}\"}} {}\n", escape_value(c.name),
                               number(std::chrono::duration<double>(c.duration).count()));
    }
    if (self.last_tick) {
        family(out, "boxmon_last_tick_timestamp_seconds", "when the last tick was stored (Unix time)", "gauge");
        out += fmt::format("boxmon_last_tick_timestamp_seconds {}\n", number(to_unix_ms(*self.last_tick) / 1000.0));
    }
    if (self.tick_seconds) {
        family(out, "boxmon_tick_duration_seconds", "time the last tick took, collection to commit", "gauge");
        out += fmt::format("boxmon_tick_duration_seconds {}\n", number(*self.tick_seconds));
    }
    if (self.outbox) {
        family(out, "boxmon_outbox_pending", "alert deliveries waiting to be sent", "gauge");
        out += fmt::format("boxmon_outbox_pending {}\n", self.outbox->pending);
        family(out, "boxmon_outbox_dead", "alert deliveries given up", "gauge");
        out += fmt::format("boxmon_outbox_dead {}\n", self.outbox->dead);
    }
    if (self.store_backlog) {
        family(out, "boxmon_store_backlog_ticks",
               "ticks kept in memory because the database cannot be written (disk full, read-only, locked, corrupt)",
               "gauge");
        out += fmt::format("boxmon_store_backlog_ticks {}\n", *self.store_backlog);
    }
    if (self.store_dropped) {
        family(out, "boxmon_store_dropped_ticks_total", "ticks dropped from that backlog past its cap", "counter");
        out += fmt::format("boxmon_store_dropped_ticks_total {}\n", *self.store_dropped);
    }
    if (!self.rule_states.empty()) {
        family(out, "boxmon_rule_series", "watched (rule, series) pairs by phase", "gauge");
        for (const auto& [phase, count] : self.rule_states)
            out += fmt::format("boxmon_rule_series{{phase=\"{}\"}} {}\n", escape_value(phase), count);
    }
    return out;
}

}  // namespace boxmon::agent
