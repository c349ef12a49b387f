// Building the report's sections from ReportInput. One function per section; each turns a
// failed source into the section's `unavailable` reason, so one bad source never hides another.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/metric_format.hpp"
#include "core/sparkline.hpp"
#include "core/text.hpp"
#include "core/units.hpp"
#include "report/document.hpp"
#include "report/gather.hpp"
#include "report/output.hpp"

namespace boxmon::report {

const std::vector<std::string>& report_metrics() {
    static const std::vector<std::string> names = {
        "cpu_percent",
        "mem_used_percent",
        "swap_used_percent",
        "load1",
        "net_rx_bytes_per_second",
        "net_tx_bytes_per_second",
        "disk_used_percent",
        "temperature_max_celsius",
        "gpu_util_percent",
        "gpu_memory_used_percent",
        "gpu_temperature_celsius",
        "gpu_power_watts",
    };
    return names;
}

Result<Format> parse_format(std::string_view text) {
    if (text == "text") return Format::text;
    if (text == "markdown" || text == "md") return Format::markdown;
    if (text == "json") return Format::json;
    return fail_as(ErrorKind::usage, "unknown report format \"{}\"; use text, markdown or json", text);
}

std::string_view format_extension(Format format) {
    switch (format) {
        case Format::text: return ".txt";
        case Format::markdown: return ".md";
        case Format::json: return ".json";
    }
    return ".txt";
}

std::optional<Summary> summarize(const std::vector<HistoryValue>& points) {
    std::vector<double> values;
    values.reserve(points.size());
    Summary s;
    s.min = INFINITY;
    s.max = -INFINITY;
    double weighted = 0;
    for (const auto& p : points) {
        if (!std::isfinite(p.value)) continue;
        values.push_back(p.value);
        const std::int64_t n = std::max<std::int64_t>(p.count, 1);
        weighted += p.value * static_cast<double>(n);
        s.samples += n;
        s.min = std::min(s.min, std::isfinite(p.min) ? std::min(p.min, p.value) : p.value);
        s.max = std::max(s.max, std::isfinite(p.max) ? std::max(p.max, p.value) : p.value);
    }
    if (values.empty()) return std::nullopt;
    s.avg = weighted / static_cast<double>(s.samples);
    // Nearest-rank p95 over the points (over bucket averages for rollups).
    const auto rank = static_cast<std::size_t>(std::ceil(0.95 * static_cast<double>(values.size()))) - 1;
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(rank), values.end());
    s.p95 = values[rank];
    return s;
}

namespace detail {

std::string clean(std::string_view text, std::size_t max_bytes) {
    return truncate_utf8(printable(text), max_bytes, "…[truncated]");
}

std::vector<std::string> clean_lines(std::string_view text, std::size_t max_lines) {
    std::vector<std::string> lines;
    std::size_t total = 0;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        if (line.ends_with('\r')) line.remove_suffix(1);
        ++total;
        if (lines.size() >= max_lines) continue;
        std::string expanded;
        for (char c : line) {
            if (c == '\t')
                expanded += "    ";
            else
                expanded += c;
        }
        lines.push_back(clean(expanded, 1024));
    }
    if (total > lines.size()) lines.push_back(fmt::format("… {} more lines not shown", total - lines.size()));
    return lines;
}

std::size_t display_width(std::string_view text) {
    std::size_t n = 0;
    for (unsigned char c : text)
        if ((c & 0xC0) != 0x80) ++n;
    return n;
}

namespace {

std::string when(WallTime t) { return format_local(t, "%Y-%m-%d %H:%M:%S"); }

std::string opt_bytes(const std::optional<std::uint64_t>& v) {
    return v ? format_bytes(static_cast<double>(*v)) : std::string("unknown");
}

Section unavailable(std::string id, std::string title, const Error& e) {
    Section s{std::move(id), std::move(title), clean(e.message), {}};
    return s;
}

Section host_section(const ReportInput& in) {
    if (!in.host) return unavailable("host", "Host", in.host.error());
    const HostFacts& h = *in.host;
    Section s{"host", "Host", {}, {}};
    Fields f;
    auto add = [&](std::string key, std::string_view value) {
        f.items.emplace_back(std::move(key), value.empty() ? std::string("unknown") : clean(value));
    };
    add("Hostname", h.hostname);
    add("OS", h.os_version.empty() || h.os_name.find(h.os_version) != std::string::npos
                  ? h.os_name
                  : fmt::format("{} ({})", h.os_name, h.os_version));
    add("Kernel", h.kernel);
    add("CPU", h.cpu_cores > 0 ? fmt::format("{} ({} logical CPUs)", h.cpu_model.empty() ? "unknown model" : h.cpu_model,
                                             h.cpu_cores)
                               : h.cpu_model);
    add("Memory", opt_bytes(h.mem_total_bytes));
    add("Swap", h.swap_total_bytes && *h.swap_total_bytes == 0 ? "none" : opt_bytes(h.swap_total_bytes));
    add("Uptime", h.uptime ? format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(*h.uptime)) : "");
    add("Primary IP", h.primary_ip.empty() ? (h.primary_interface.empty() ? "" : h.primary_interface)
                                           : fmt::format("{} ({})", h.primary_ip, h.primary_interface));
    if (h.gpus.empty()) add("GPUs", "none found");
    for (std::size_t i = 0; i < h.gpus.size(); ++i)
        add(fmt::format("GPU {}", i), fmt::format("{} (driver {})", h.gpus[i].name, h.gpus[i].driver));
    add("boxmon", h.boxmon_version);
    add("Config", h.config_path);
    s.blocks.emplace_back(std::move(f));
    for (const auto& n : h.boxmon_notes) s.blocks.emplace_back(Note{clean(n)});
    if (!h.disks.empty()) {
        Table t{{"mount", "device", "type", "size"}, {}};
        for (const auto& d : h.disks)
            t.rows.push_back({clean(d.mount), clean(d.device), clean(d.fs_type), opt_bytes(d.size_bytes)});
        s.blocks.emplace_back(std::move(t));
    }
    for (const auto& n : h.notes) s.blocks.emplace_back(Note{"not read: " + clean(n)});
    return s;
}

Section sizes_section(const ReportInput& in) {
    if (!in.path_sizes) return unavailable("sizes", "Sizes of configured paths", in.path_sizes.error());
    Section s{"sizes", "Sizes of configured paths", {}, {}};
    Table t{{"path", "size", "files", "note"}, {}};
    for (const auto& p : *in.path_sizes)
        t.rows.push_back({clean(p.path.string()), format_bytes(static_cast<double>(p.bytes)),
                          std::to_string(p.files), clean(p.note)});
    s.blocks.emplace_back(std::move(t));
    return s;
}

Section metrics_section(const ReportInput& in, const ReportOptions& o, WallTime until) {
    const std::string title = fmt::format(
        "Metrics (last {})",
        format_duration(std::chrono::round<std::chrono::seconds>(until - o.since)));
    if (!in.metrics) return unavailable("metrics", title, in.metrics.error());
    Section s{"metrics", title, {}, {}};
    if (in.metrics->empty()) {
        s.unavailable = "no samples in the window";
        return s;
    }
    Table t{{"series", "min", "avg", "p95", "max", "trend"}, {}};
    std::vector<double> values;
    for (const auto& series : *in.metrics) {
        const std::string& metric = series.key.name();
        auto sum = summarize(series.points);
        if (!sum) {
            t.rows.push_back({clean(series.key.to_string()), "n/a", "n/a", "n/a", "n/a", "no data"});
            continue;
        }
        values.clear();
        for (const auto& p : series.points) values.push_back(p.value);
        // Percentages are drawn on their natural 0-100 scale, so a flat 3% line looks low.
        const bool percent = metric.ends_with("_percent");
        t.rows.push_back({clean(series.key.to_string()), format_metric_value(metric, sum->min),
                          format_metric_value(metric, sum->avg), format_metric_value(metric, sum->p95),
                          format_metric_value(metric, sum->max),
                          percent ? sparkline(values, 0, 100, o.sparkline_width)
                                  : sparkline(values, o.sparkline_width)});
    }
    s.blocks.emplace_back(std::move(t));
    return s;
}

std::string value_text(const Incident& i, double v) {
    return std::isfinite(v) ? format_metric_value(i.series.name(), v) : std::string("n/a");
}

Table incident_table(const std::vector<Incident>& list) {
    Table t{{"rule", "series", "severity", "started", "ended", "peak"}, {}};
    for (const auto& i : list)
        t.rows.push_back({clean(i.rule), clean(i.series.to_string()),
                          std::string(to_string(i.peak_severity)) +
                              (i.kind == IncidentKind::threshold ? "" : fmt::format(" ({})", to_string(i.kind))),
                          when(i.start), i.end ? when(*i.end) : std::string("open"), value_text(i, i.peak_value)});
    return t;
}

Section incidents_section(const ReportInput& in) {
    if (!in.incidents) return unavailable("incidents", "Incidents", in.incidents.error());
    const IncidentData& d = *in.incidents;
    Section s{"incidents", "Incidents", {}, {}};
    if (d.in_window.empty())
        s.blocks.emplace_back(Note{"no incidents in the window"});
    else
        s.blocks.emplace_back(incident_table(d.in_window));
    if (d.open.empty()) {
        s.blocks.emplace_back(Note{"no incident is open"});
    } else {
        s.blocks.emplace_back(Note{fmt::format("{} still open:", d.open.size())});
        s.blocks.emplace_back(incident_table(d.open));
    }
    if (d.outbox) {
        Fields f;
        f.items.emplace_back("Deliveries pending", std::to_string(d.outbox->pending));
        f.items.emplace_back("Deliveries sent", std::to_string(d.outbox->delivered));
        f.items.emplace_back("Deliveries dead", std::to_string(d.outbox->dead));
        if (d.outbox->oldest_pending) f.items.emplace_back("Oldest pending", when(*d.outbox->oldest_pending));
        s.blocks.emplace_back(std::move(f));
    }
    if (!d.recent_deliveries.empty()) {
        Table t{{"created", "channel", "kind", "state", "attempts", "last error"}, {}};
        for (const auto& r : d.recent_deliveries)
            t.rows.push_back({when(r.item.created), clean(r.item.channel), clean(r.item.kind),
                              std::string(to_string(r.state)), std::to_string(r.attempts),
                              clean(r.last_error, 200)});
        s.blocks.emplace_back(std::move(t));
    }
    return s;
}

Section services_section(const ReportInput& in) {
    if (!in.services) return unavailable("services", "Services", in.services.error());
    Section s{"services", "Services", {}, {}};
    Table t{{"unit", "state"}, {}};
    for (const auto& u : *in.services) t.rows.push_back({clean(u.unit), clean(u.state)});
    s.blocks.emplace_back(std::move(t));
    return s;
}

// "3 min" style age of `since` at `now`, "at least" when the state held over all history read.
std::string held_for(const ServiceState& st, WallTime now) {
    if (!st.since) return "";
    const auto d = std::chrono::duration_cast<std::chrono::seconds>(now - *st.since);
    if (d.count() < 0) return when(*st.since);
    return fmt::format("{}{} ({})", st.since_at_least ? "at least " : "", format_duration(d), when(*st.since));
}

std::string optional_value(std::string_view metric, const std::optional<double>& v) {
    return v ? format_metric_value(metric, *v) : std::string("-");
}

Section watched_section(const ReportInput& in, WallTime until) {
    if (!in.watched) return unavailable("watched", "Watched services", in.watched.error());
    Section s{"watched", "Watched services", {}, {}};
    if (in.watched->empty()) {
        s.unavailable = "no [[services]] in the configuration";
        return s;
    }
    Table t{{"service", "state", "for", "processes", "rss", "cpu", "gpu memory", "checks"}, {}};
    for (const auto& st : *in.watched) {
        std::string checks;
        for (const auto& c : st.checks) {
            if (!checks.empty()) checks += ", ";
            checks += clean(c.name) + " " + (!c.up ? std::string("not run") : *c.up ? std::string("ok") : std::string("FAILING"));
            if (c.latency_seconds) checks += " " + format_metric_value("latency_seconds", *c.latency_seconds);
        }
        const bool up = st.up && *st.up;
        t.rows.push_back({clean(st.name), !st.up ? std::string("unknown") : up ? std::string("up") : std::string("DOWN"),
                          held_for(st, until), st.processes ? fmt::format("{:.0f}", *st.processes) : std::string("-"),
                          optional_value("rss_bytes", up ? st.rss_bytes : std::nullopt),
                          optional_value("cpu_percent", up ? st.cpu_percent : std::nullopt),
                          optional_value("gpu_memory_bytes", up ? st.gpu_memory_bytes : std::nullopt),
                          checks.empty() ? std::string("-") : checks});
    }
    s.blocks.emplace_back(std::move(t));
    return s;
}

Section command_section(std::string id, std::string title, const Result<CommandOutput>& r,
                        const ReportOptions& o) {
    if (!r) return unavailable(std::move(id), std::move(title), r.error());
    Section s{std::move(id), std::move(title), {}, {}};
    const CommandOutput& c = *r;
    std::string status;
    if (c.timed_out)
        status = "timed out; killed";
    else if (c.signal != 0)
        status = fmt::format("killed by signal {}", c.signal);
    else
        status = fmt::format("exit {}{}", c.exit_code, c.exit_code == 0 ? " (ok)" : " (failed)");
    Fields f;
    f.items.emplace_back("Command", clean(fmt::format("{}", fmt::join(c.argv, " "))));
    f.items.emplace_back("Result", status);
    s.blocks.emplace_back(std::move(f));
    std::string output = c.out;
    if (!c.err.empty()) {
        if (!output.empty() && !output.ends_with('\n')) output += '\n';
        output += c.err;
    }
    Preformatted p{"output", clean_lines(output, o.command_output_max_lines)};
    if (c.truncated) p.lines.push_back("…[output truncated]");
    if (p.lines.empty()) p.lines.push_back("(no output)");
    s.blocks.emplace_back(std::move(p));
    return s;
}

Section certificates_section(const ReportInput& in, WallTime now) {
    if (!in.certificates) return unavailable("certificates", "Certificates", in.certificates.error());
    Section s{"certificates", "Certificates", {}, {}};
    Table t{{"path", "subject", "issuer", "expires", "days left", "note"}, {}};
    for (const auto& c : *in.certificates) {
        std::string days;
        std::string note = clean(c.error);
        if (c.not_after) {
            const long d = days_left(*c.not_after, now);
            days = std::to_string(d);
            if (d < 0) note = "EXPIRED";
            else if (d < 14) note = "expires soon";
        }
        if (c.not_before && *c.not_before > now) note = "not yet valid";
        t.rows.push_back({clean(c.path.string()), clean(c.subject, 200), clean(c.issuer, 200),
                          c.not_after ? when(*c.not_after) : std::string(), days, note});
    }
    s.blocks.emplace_back(std::move(t));
    return s;
}

Section logs_section(const ReportInput& in) {
    if (!in.logs) return unavailable("logs", "Log tails", in.logs.error());
    Section s{"logs", "Log tails", {}, {}};
    for (const auto& tail : *in.logs) {
        Preformatted p;
        p.caption = clean(tail.source.empty() ? tail.name : fmt::format("{} ({})", tail.name, tail.source));
        if (!tail.note.empty()) p.caption += " — " + clean(tail.note);
        for (const auto& line : tail.lines) p.lines.push_back(clean(line, 4096));
        if (p.lines.empty()) p.lines.push_back("(no lines)");
        s.blocks.emplace_back(std::move(p));
    }
    return s;
}

Section config_section(const ReportInput& in) {
    if (!in.config) return unavailable("config", "Configuration (secrets masked)", in.config.error());
    Section s{"config", "Configuration (secrets masked)", {}, {}};
    s.blocks.emplace_back(Preformatted{"", clean_lines(*in.config, 2000)});
    return s;
}

}  // namespace

Document build_document(const ReportInput& in, const ReportOptions& o) {
    const Clock& clock = o.clock != nullptr ? *o.clock : SystemClock::instance();
    const WallTime now = clock.wall();
    std::string host = o.hostname;
    if (host.empty() && in.host) host = in.host->hostname;
    Document d;
    d.title = "boxmon system report: " + clean(host.empty() ? std::string("unknown host") : host, 256);
    d.header.emplace_back("Generated", format_local(now, "%Y-%m-%d %H:%M:%S %Z"));
    const WallTime until = o.until.value_or(now);
    d.header.emplace_back("Window", fmt::format("{} to {}", when(o.since), when(until)));
    d.sections.push_back(host_section(in));
    d.sections.push_back(sizes_section(in));
    d.sections.push_back(metrics_section(in, o, until));
    d.sections.push_back(incidents_section(in));
    d.sections.push_back(watched_section(in, until));
    d.sections.push_back(services_section(in));
    d.sections.push_back(command_section("webserver", "Web server check", in.webserver, o));
    d.sections.push_back(certificates_section(in, now));
    d.sections.push_back(command_section("firewall", "Firewall rules", in.firewall, o));
    d.sections.push_back(logs_section(in));
    d.sections.push_back(config_section(in));
    return d;
}

}  // namespace detail

}  // namespace boxmon::report
