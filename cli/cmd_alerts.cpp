// boxmon alerts (incidents and their deliveries) and boxmon alert test (one message through a
// real channel, now).
#include <cstdio>
#include <map>

#include <nlohmann/json.hpp>

#include "alerting/alerting.hpp"
#include "cli/app.hpp"
#include "core/metric_format.hpp"
#include "core/text.hpp"
#include "core/units.hpp"
#include "store/store.hpp"

namespace boxmon::cli {

namespace {

using nlohmann::json;

struct AlertsOptions {
    std::string since = "7d";
    bool json = false;
};

Result<int> run_alerts(const GlobalOptions& options, const AlertsOptions& opts) {
    BOXMON_TRY(loaded, load_effective_config(options));
    auto window = parse_duration(opts.since);
    if (!window) return fail_as(ErrorKind::usage, "--since {}: {}", opts.since, window.error().message);
    store::StoreOptions so;
    so.path = loaded.config.database_path();
    so.read_only = true;
    so.quick_check = false;  // a reader; the writer checks the file when it opens it
    auto db = store::Store::open(so);
    if (!db) {
        if (db.error().kind == ErrorKind::not_found) {
            std::printf("no database at %s yet: no alerts\n", so.path.string().c_str());
            return 0;
        }
        return fail(std::move(db).error());
    }
    const WallTime now = SystemClock::instance().wall();
    const WallTime since = now - *window;
    BOXMON_TRY(incidents, (*db)->incidents(since, latest_stamp(loaded.config, now)));
    BOXMON_TRY(rows, (*db)->outbox().recent(since, 10000));
    BOXMON_TRY(counts, (*db)->outbox().counts());
    std::map<std::string, std::vector<const OutboxRow*>> by_incident;
    for (const auto& r : rows) by_incident[r.item.incident_id].push_back(&r);

    if (opts.json) {
        json arr = json::array();
        for (const auto& i : incidents) {
            json deliveries = json::array();
            for (const auto* r : by_incident[i.id])
                deliveries.push_back({{"channel", r->item.channel}, {"kind", r->item.kind},
                                      {"state", to_string(r->state)}, {"attempts", r->attempts},
                                      {"last_error", r->last_error}});
            arr.push_back({{"id", i.id}, {"rule", i.rule}, {"series", i.series.to_string()},
                           {"kind", to_string(i.kind)}, {"severity", to_string(i.peak_severity)},
                           {"start", format_iso8601(i.start)},
                           {"end", i.end ? json(format_iso8601(*i.end)) : json(nullptr)},
                           {"peak", i.peak_value}, {"deliveries", std::move(deliveries)}});
        }
        std::printf("%s\n", json{{"incidents", arr},
                                 {"outbox", {{"pending", counts.pending}, {"dead", counts.dead}}}}
                                .dump(2, ' ', false, json::error_handler_t::replace)
                                .c_str());
        return 0;
    }
    std::string out;
    if (incidents.empty()) out += fmt::format("no incidents in the last {}\n", opts.since);
    for (const auto& i : incidents) {
        const std::string span =
            i.end ? fmt::format("{} .. {} ({})", format_iso8601(i.start), format_iso8601(*i.end),
                                format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(*i.end - i.start)))
                  : fmt::format("{} .. open", format_iso8601(i.start));
        out += fmt::format("{:<8} {} {}  {}  peak {}\n", to_string(i.peak_severity), i.rule,
                           printable(i.series.to_string()), span,
                           format_metric_value(i.series.name(), i.peak_value));
        for (const auto* r : by_incident[i.id])
            out += fmt::format("         {} via {}: {}{}{}\n", r->item.kind, r->item.channel, to_string(r->state),
                               r->attempts > 1 ? fmt::format(" after {} attempts", r->attempts) : std::string(),
                               r->last_error.empty() ? std::string() : " (" + printable(r->last_error) + ")");
    }
    out += fmt::format("outbox: {} pending, {} dead\n", counts.pending, counts.dead);
    std::fputs(out.c_str(), stdout);
    return 0;
}

struct AlertTestOptions {
    std::string channel;
};

Result<int> run_alert_test(const GlobalOptions& options, const AlertTestOptions& opts) {
    BOXMON_TRY(loaded, load_effective_config(options));
    std::vector<std::string> names;
    if (!opts.channel.empty()) names.push_back(opts.channel);
    else
        for (const auto& c : loaded.config.channels) names.push_back(c.name);
    if (names.empty()) names.push_back("log");
    int failures = 0;
    for (const auto& name : names) {
        auto answer = alerting::send_test(loaded.config, name, SystemClock::instance());
        if (answer) {
            std::printf("%s: delivered: %s\n", name.c_str(), answer->c_str());
        } else {
            std::printf("%s: FAILED: %s\n", name.c_str(), answer.error().message.c_str());
            if (answer.error().kind == ErrorKind::config || answer.error().kind == ErrorKind::usage) return fail(answer.error());
            ++failures;
        }
    }
    return failures == 0 ? 0 : 1;
}

}  // namespace

void add_alerts_command(CLI::App& app, GlobalOptions& options) {
    auto opts = std::make_shared<AlertsOptions>();
    auto* sub = app.add_subcommand("alerts", "Incidents and what was sent about them");
    sub->add_option("--since", opts->since, "How far back (e.g. 24h, 7d)")->capture_default_str();
    sub->add_flag("--json", opts->json, "Print as JSON");
    sub->callback([&options, opts] { options.action = [&options, opts] { return run_alerts(options, *opts); }; });

    auto topts = std::make_shared<AlertTestOptions>();
    auto* alert = app.add_subcommand("alert", "Alert channel tools");
    alert->require_subcommand(1);
    auto* test = alert->add_subcommand("test", "Send a test alert through each channel (or one) now and show the answer");
    test->add_option("--channel", topts->channel, "Only this [[channels]] name (or \"log\")");
    test->callback([&options, topts] { options.action = [&options, topts] { return run_alert_test(options, *topts); }; });
}

}  // namespace boxmon::cli
