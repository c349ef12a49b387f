#include "alerting/channels/render.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "core/clock.hpp"
#include "core/metric_format.hpp"
#include "core/sparkline.hpp"
#include "core/text.hpp"
#include "core/units.hpp"

namespace boxmon::alerting {
namespace {

// Width of the window sparkline: fits an 80-column mail reader with its prefix.
constexpr std::size_t k_sparkline_width = 60;

// Outside text on one line: valid UTF-8 with control characters escaped.
std::string one_line(std::string_view text) { return printable(text); }

std::string upper(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    return out;
}

// "90.0%" reads better as "90%" in a threshold.
std::string threshold_text(std::string_view metric, double value) {
    std::string text = format_metric_value(metric, value);
    if (const auto pos = text.find(".0"); pos != std::string::npos) {
        const std::size_t after = pos + 2;
        if (after == text.size() || !(text[after] >= '0' && text[after] <= '9')) text.erase(pos, 2);
    }
    return text;
}

std::string host_of(const Notification& n) { return n.host.empty() ? std::string("unknown host") : one_line(n.host); }

std::chrono::milliseconds lasted(const Notification& n) {
    const WallTime end = n.ended.value_or(n.at);
    return std::max(std::chrono::milliseconds{0}, end - n.since);
}

}  // namespace

std::string render_subject(const Notification& n) {
    const std::string series = one_line(n.series.to_string());
    const std::string host = host_of(n);
    const std::string& metric = n.series.name();
    switch (n.kind) {
        case NotificationKind::test:
            return fmt::format("[TEST] boxmon test alert from {}", host);
        case NotificationKind::resolved:
            if (std::isfinite(n.peak)) {
                return fmt::format("[RESOLVED] {} on {} after {} (peak {})", series, host,
                                   format_duration(lasted(n)), format_metric_value(metric, n.peak));
            }
            return fmt::format("[RESOLVED] {} on {} after {}", series, host, format_duration(lasted(n)));
        default:
            break;
    }
    std::string subject;
    const std::string severity = upper(to_string(n.severity));
    if (n.incident_kind == IncidentKind::absent) {
        subject = fmt::format("[{}] {}: no data for {} samples on {}", severity, series, n.for_samples, host);
    } else if (n.incident_kind == IncidentKind::internal) {
        subject = fmt::format("[{}] boxmon: {} on {}", severity, one_line(n.rule), host);
    } else {
        subject = fmt::format("[{}] {} {} {} {} for {} samples on {}", severity, series,
                              format_metric_value(metric, n.value), one_line(n.op),
                              threshold_text(metric, n.threshold), n.for_samples, host);
    }
    if (n.kind == NotificationKind::escalated) subject += " (escalated)";
    if (n.kind == NotificationKind::reminder) subject += " (still firing)";
    return subject;
}

std::string render_facts(const Notification& n) {
    const std::string& metric = n.series.name();
    std::string out;
    auto line = [&out](std::string_view key, std::string_view value) {
        out += fmt::format("{:<10} {}\n", fmt::format("{}:", key), value);
    };
    line("Rule", one_line(n.rule));
    if (!n.description.empty()) line("About", one_line(n.description));
    line("Series", one_line(n.series.to_string()));
    line("Host", host_of(n));
    line("Severity", to_string(n.severity));
    if (n.kind == NotificationKind::resolved) {
        line("Status", fmt::format("resolved after {}", format_duration(lasted(n))));
        line("Peak", format_metric_value(metric, n.peak));
        line("Value", format_metric_value(metric, n.value));
    } else if (n.incident_kind == IncidentKind::absent) {
        line("Status", fmt::format("no data for {} samples", n.for_samples));
    } else if (n.incident_kind == IncidentKind::internal) {
        // boxmon's own trouble (or a test): no value or threshold; the About line says it all.
    } else {
        line("Value", format_metric_value(metric, n.value));
        line("Threshold", fmt::format("{} {} ({}, for {} samples)", one_line(n.op),
                                      threshold_text(metric, n.threshold), to_string(n.severity),
                                      n.for_samples));
    }
    if (n.kind == NotificationKind::resolved) {
        line("Since", format_iso8601(n.since));
    } else {
        line("Since", fmt::format("{} ({} ago)", format_iso8601(n.since), format_duration(lasted(n))));
    }
    if (n.ended) line("Ended", format_iso8601(*n.ended));
    line("Incident", fmt::format("{} (notification {})", one_line(n.incident_id), n.sequence));
    return out;
}

std::string render_window(const Notification& n) {
    if (n.window.empty()) return {};
    std::vector<double> values;
    values.reserve(n.window.size());
    double lo = INFINITY;
    double hi = -INFINITY;
    for (const WindowPoint& p : n.window) {
        values.push_back(p.value);
        if (std::isfinite(p.value)) {
            lo = std::min(lo, p.value);
            hi = std::max(hi, p.value);
        }
    }
    const std::string& metric = n.series.name();
    const auto span = n.window.back().ts - n.window.front().ts;
    std::string out = fmt::format("Recent values ({}, {} samples):\n  {}\n", format_duration(span),
                                  n.window.size(), sparkline(values, k_sparkline_width));
    if (std::isfinite(lo)) {
        out += fmt::format("  min {}  max {}  last {}\n", format_metric_value(metric, lo),
                           format_metric_value(metric, hi), format_metric_value(metric, values.back()));
    }
    return out;
}

std::string render_tail(const LogTail& tail) {
    std::string out = fmt::format("Log {} ({})", one_line(tail.name), one_line(tail.source));
    if (!tail.note.empty()) out += fmt::format(" — {}", one_line(tail.note));
    out += ":\n";
    if (tail.lines.empty()) out += "  (no lines)\n";
    for (const std::string& l : tail.lines) {
        out += "  ";
        out += one_line(l);
        out += '\n';
    }
    return out;
}

std::string render_body(const Notification& n) {
    std::string out = render_facts(n);
    if (std::string window = render_window(n); !window.empty()) {
        out += '\n';
        out += window;
    }
    for (const LogTail& tail : n.tails) {
        out += '\n';
        out += render_tail(tail);
    }
    return out;
}

}  // namespace boxmon::alerting
