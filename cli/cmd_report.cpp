// boxmon report | sysinfo: gathers each section's data (history from the store, read-only),
// hands it to report/, writes the file. No report logic here beyond wiring.
#include "cli/cmd_report.hpp"

#include <cstdio>
#include <memory>
#include <system_error>

#include "agent/service_status.hpp"
#include "core/config_load.hpp"
#include "core/units.hpp"
#include "report/gather.hpp"
#include "report/host.hpp"
#include "report/output.hpp"
#include "report/report.hpp"
#include "store/store.hpp"

#ifndef BOXMON_VERSION
#define BOXMON_VERSION "unknown"
#endif

namespace boxmon::cli {

namespace {

struct ReportCliOptions {
    std::string since;
    std::string out;
    bool to_stdout = false;
    std::string format = "text";
};

struct SysinfoCliOptions {
    std::string out;
};

report::HostFacts with_boxmon_facts(report::HostFacts facts, const Config& config) {
    facts.boxmon_version = BOXMON_VERSION;
    facts.config_path = config.source.empty() ? std::string("built-in defaults") : config.source.string();
    return facts;
}

// History, incidents and deliveries from the database; each failure lands in its section.
void read_history(const Config& config, WallTime since, WallTime now, report::ReportInput& in) {
    const auto db = config.database_path();
    std::error_code ec;
    if (!std::filesystem::exists(db, ec)) {
        in.metrics = fail("no history yet (no database at {}); run `boxmon run` or `boxmon sample`", db.string());
        in.incidents = fail("no history yet (no database at {})", db.string());
        in.watched = fail("no history yet (no database at {})", db.string());
        return;
    }
    store::StoreOptions so;
    so.path = db;
    so.busy_timeout = config.storage.busy_timeout;
    so.read_only = true;
    auto opened = store::Store::open(so);
    if (!opened) {
        in.metrics = fail(opened.error());
        in.incidents = fail(opened.error());
        in.watched = fail(opened.error());
        return;
    }
    store::Store& st = **opened;
    if (auto moved = st.last_move_aside(); moved && *moved && in.host)
        in.host->boxmon_notes.push_back(fmt::format(
            "a corrupt database was moved aside to {} at {} ({}); the database in use started then",
            (*moved)->to.string(), format_iso8601((*moved)->at), (*moved)->reason));
    // Each service's state at the last tick, looking a week back for when it changed.
    if (auto last = st.last_tick(); !last) {
        in.watched = fail(std::move(last).error());
    } else if (!*last) {
        in.watched = config.services.empty() ? Result<std::vector<ServiceState>>(std::vector<ServiceState>{})
                                             : fail("no sample stored yet");
    } else {
        in.watched = agent::read_service_states(config, st, **last, std::chrono::hours(24 * 7));
    }
    const auto resolution = store::resolution_for(std::chrono::duration_cast<std::chrono::milliseconds>(now - since));
    std::vector<report::SeriesHistory> series;
    std::string metric_error;
    for (const auto& metric : report::report_metrics()) {
        auto r = st.query_metric(metric, since, latest_stamp(config, now), resolution);
        if (!r) {
            metric_error = r.error().message;
            continue;
        }
        for (auto& [key, points] : *r) {
            report::SeriesHistory h{key, {}};
            h.points.reserve(points.size());
            for (const auto& p : points) h.points.push_back({p.ts, p.value, p.min, p.max, p.count});
            series.push_back(std::move(h));
        }
    }
    if (series.empty() && !metric_error.empty())
        in.metrics = fail("{}", metric_error);
    else
        in.metrics = std::move(series);

    report::IncidentData data;
    auto window = st.incidents(since, latest_stamp(config, now));
    if (!window) {
        in.incidents = fail(std::move(window).error());
        return;
    }
    data.in_window = std::move(*window);
    if (auto open = st.incidents(since, latest_stamp(config, now), true)) data.open = std::move(*open);
    if (auto counts = st.outbox().counts()) data.outbox = *counts;
    if (auto recent = st.outbox().recent(since, 20)) data.recent_deliveries = std::move(*recent);
    in.incidents = std::move(data);
}

Result<int> run_report(const GlobalOptions& options, const ReportCliOptions& opts) {
    BOXMON_TRY(loaded, load_effective_config(options));
    const Config& config = loaded.config;
    BOXMON_TRY(format, report::parse_format(opts.format));
    auto window = config.report.since;
    if (!opts.since.empty()) {
        BOXMON_TRY(parsed, parse_duration(opts.since));
        window = parsed;
    }
    const Clock& clock = SystemClock::instance();
    const WallTime now = std::chrono::floor<std::chrono::seconds>(clock.wall());
    const WallTime since = now - window;

    report::ReportInput in;
    in.host = [&]() -> Result<report::HostFacts> {
        BOXMON_TRY(facts, report::gather_host_facts(root_fs(options)));
        return with_boxmon_facts(std::move(facts), config);
    }();
    in.path_sizes = report::gather_path_sizes(config.report.paths);
    read_history(config, since, now, in);
    report::CommandOptions co;
    co.timeout = config.report.command_timeout;
    in.services = report::gather_services(report::report_units(config), co);
    in.webserver = report::gather_webserver(config.report, co);
    in.certificates = report::gather_certificates(config.report.certificates);
    in.firewall = report::gather_firewall(config.report.firewall, co);
    in.logs = report::gather_logs(config, config.report.logs);
    in.config = render_config(config);

    report::ReportOptions ro;
    ro.clock = &clock;
    ro.hostname = config.general.hostname;
    ro.since = since;
    ro.until = now;
    const std::string content = report::render(in, ro, format);
    if (opts.to_stdout) {
        std::fputs(content.c_str(), stdout);
        return 0;
    }
    const std::filesystem::path dir = opts.out.empty() ? config.reports_dir() : std::filesystem::path(opts.out);
    BOXMON_TRY(path, report::write_report(dir, now, report::format_extension(format), content));
    std::printf("%s\n", path.c_str());
    if (config.report.keep > 0) {
        auto rotated = report::rotate_reports(dir, static_cast<std::size_t>(config.report.keep));
        if (!rotated) std::fprintf(stderr, "boxmon: warning: %s\n", rotated.error().message.c_str());
    }
    return 0;
}

Result<int> run_sysinfo(const GlobalOptions& options, const SysinfoCliOptions& opts) {
    BOXMON_TRY(loaded, load_effective_config(options));
    BOXMON_TRY(facts, report::gather_host_facts(root_fs(options)));
    const std::string text = report::render_sysinfo(with_boxmon_facts(std::move(facts), loaded.config));
    if (opts.out.empty()) {
        std::fputs(text.c_str(), stdout);
        return 0;
    }
    // Atomic and never through a planted symlink: a sourced file must not be half written.
    BOXMON_CHECK(write_file_atomic(opts.out, text, 0644));
    return 0;
}

}  // namespace

void add_report_command(CLI::App& app, GlobalOptions& options) {
    auto opts = std::make_shared<ReportCliOptions>();
    auto* sub = app.add_subcommand("report", "Write the system report and print its path");
    sub->add_option("--since", opts->since, "Window of metrics and incidents (default [report] since, 24h)")
        ->type_name("DURATION");
    sub->add_option("--out", opts->out, "Folder to write the report to (default [report] dir)")->type_name("DIR");
    sub->add_flag("--stdout", opts->to_stdout, "Print the report instead of writing a file");
    sub->add_option("--format", opts->format, "text, markdown or json")->type_name("FORMAT");
    sub->callback([&options, opts] {
        options.action = [&options, opts] { return run_report(options, *opts); };
    });
}

void add_sysinfo_command(CLI::App& app, GlobalOptions& options) {
    auto opts = std::make_shared<SysinfoCliOptions>();
    auto* sub = app.add_subcommand("sysinfo", "Print host facts as KEY=VALUE lines a shell can source");
    sub->add_option("--out", opts->out, "Write to this file instead of stdout")->type_name("PATH");
    sub->callback([&options, opts] {
        options.action = [&options, opts] { return run_sysinfo(options, *opts); };
    });
}

}  // namespace boxmon::cli
