#pragma once
// The system report (DESIGN §1, §8): what state this box is in and what happened lately. The
// library takes its data as plain structs that the caller fills (report/ depends on core only;
// cli/ reads the store), plus gatherers that need only core (host.hpp, gather.hpp). Every
// section is independent: a source that is missing or failed is a Result holding the reason,
// and the report shows that reason in the section's place.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/incident.hpp"
#include "core/outbox.hpp"
#include "core/result.hpp"
#include "core/series.hpp"
#include "core/service_state.hpp"
#include "report/host.hpp"

namespace boxmon::report {

// One point of a series' history: a raw sample (min == max == value, count 1) or a rollup
// bucket (value is its average over `count` samples).
struct HistoryValue {
    WallTime ts{};
    double value = 0;
    double min = 0;
    double max = 0;
    std::int64_t count = 1;
};

struct SeriesHistory {
    SeriesKey key;
    std::vector<HistoryValue> points;  // oldest first
};

// The metrics the report summarises, in display order; every label set of each is shown (per
// mount, interface, GPU).
const std::vector<std::string>& report_metrics();

struct IncidentData {
    std::vector<Incident> in_window;  // incidents that overlap the window
    std::vector<Incident> open;       // incidents still open (may repeat in_window)
    std::optional<OutboxCounts> outbox;           // deliveries pending, delivered, dead
    std::vector<OutboxRow> recent_deliveries;     // newest first
};

struct PathSize {
    std::filesystem::path path;
    std::uint64_t bytes = 0;
    std::uint64_t files = 0;
    std::string note;  // why the figure is partial ("deadline reached after 2.0 s") or empty
};

struct UnitState {
    std::string unit;
    std::string state;  // systemctl is-active's word: active, inactive, failed, unknown ...
};

// The outcome of one external command, run without a shell.
struct CommandOutput {
    std::vector<std::string> argv;
    int exit_code = -1;
    int signal = 0;
    bool timed_out = false;
    std::string out;
    std::string err;
    bool truncated = false;
};

struct CertInfo {
    std::filesystem::path path;
    std::string subject;
    std::string issuer;
    std::optional<WallTime> not_before;
    std::optional<WallTime> not_after;
    std::size_t certificates_in_file = 0;
    std::string error;  // non-empty: the file could not be read or parsed, and why
};

// Everything a report shows. A Result in error state says why its section is empty.
struct ReportInput {
    Result<HostFacts> host = fail("not gathered");
    Result<std::vector<PathSize>> path_sizes = fail("not gathered");
    Result<std::vector<SeriesHistory>> metrics = fail("not gathered");
    Result<IncidentData> incidents = fail("not gathered");
    Result<std::vector<UnitState>> services = fail("not gathered");
    // The configured services as boxmon's own samples last saw them (empty: none configured).
    Result<std::vector<ServiceState>> watched = fail("not gathered");
    Result<CommandOutput> webserver = fail("not gathered");
    Result<std::vector<CertInfo>> certificates = fail("not gathered");
    Result<CommandOutput> firewall = fail("not gathered");
    Result<std::vector<LogTail>> logs = fail("not gathered");
    // The effective configuration as `config show` renders it (secrets masked), never the file.
    Result<std::string> config = fail("not gathered");
};

enum class Format { text, markdown, json };
// Parses "text", "markdown" or "json"; fails (kind usage) otherwise.
Result<Format> parse_format(std::string_view text);
// The report file's extension for a format: ".txt", ".md", ".json".
std::string_view format_extension(Format format);

struct ReportOptions {
    const Clock* clock = nullptr;  // nullptr: the system clock
    std::string hostname;          // shown in the title; empty: HostFacts' hostname
    WallTime since{};              // start of the metric and incident window
    std::optional<WallTime> until;  // its end (the data's "now"); default: the clock's time
    std::size_t sparkline_width = 40;
    std::size_t command_output_max_lines = 200;  // longer command output is cut with a marker
};

// The report as text, markdown or JSON. Never fails: every outside string is made valid UTF-8
// with control characters escaped, and every failed source is shown as its reason.
std::string render(const ReportInput& input, const ReportOptions& options, Format format);
inline std::string render_text(const ReportInput& in, const ReportOptions& o) {
    return render(in, o, Format::text);
}
inline std::string render_markdown(const ReportInput& in, const ReportOptions& o) {
    return render(in, o, Format::markdown);
}
inline std::string render_json(const ReportInput& in, const ReportOptions& o) {
    return render(in, o, Format::json);
}

// Summary of one series over the window; nullopt when it has no points.
struct Summary {
    double min = 0;
    double avg = 0;
    double p95 = 0;
    double max = 0;
    std::int64_t samples = 0;
};
std::optional<Summary> summarize(const std::vector<HistoryValue>& points);

}  // namespace boxmon::report
