// boxmon rules backtest: replays stored history through the rules of the current configuration
// and prints the incidents and notifications that would have happened, to tune thresholds on
// real data. Reads the database only.
#include <cstdio>
#include <set>

#include <nlohmann/json.hpp>

#include "agent/pipeline.hpp"
#include "cli/app.hpp"
#include "core/metric_format.hpp"
#include "core/units.hpp"
#include "rules/backtest.hpp"
#include "store/store.hpp"

namespace boxmon::cli {

namespace {

using nlohmann::json;

struct BacktestCliOptions {
    std::string since = "7d";
    std::string rule;
    bool json = false;
};

Result<int> run_backtest(const GlobalOptions& options, const BacktestCliOptions& opts) {
    BOXMON_TRY(loaded, load_effective_config(options));
    const Config& config = loaded.config;
    auto window = parse_duration(opts.since);
    if (!window) return fail_as(ErrorKind::usage, "--since {}: {}", opts.since, window.error().message);
    std::vector<RuleConfig> rules;
    for (const auto& r : config.rules)
        if (opts.rule.empty() || r.name == opts.rule) rules.push_back(r);
    if (rules.empty())
        return fail_as(ErrorKind::usage, "no rule named \"{}\"; `boxmon config show` lists the rules", opts.rule);

    store::StoreOptions so;
    so.path = config.database_path();
    so.read_only = true;
    so.quick_check = false;  // a reader; the writer checks the file when it opens it
    auto opened = store::Store::open(so);
    if (!opened) return fail(std::move(opened).error());
    auto& db = **opened;
    const WallTime now = SystemClock::instance().wall();
    const WallTime since = now - *window;
    BOXMON_TRY(ticks, db.ticks(since, now));
    std::set<std::string> metrics;
    for (const auto& r : rules) metrics.insert(r.metric);
    std::vector<rules::SeriesHistory> history;
    for (const auto& m : metrics) {
        BOXMON_TRY(per_series, db.query_metric(m, since, now));
        for (auto& [key, points] : per_series) {
            rules::SeriesHistory h{key, {}};
            h.points.reserve(points.size());
            for (const auto& p : points) h.points.emplace_back(p.ts, p.value);
            history.push_back(std::move(h));
        }
    }
    rules::BacktestOptions bo;
    bo.interval = config.general.interval;
    bo.host = agent::host_name(config);
    const auto result = rules::backtest(rules, rules::group_into_ticks(ticks, std::move(history)), bo);

    if (opts.json) {
        json inc = json::array();
        for (const auto& i : result.incidents)
            inc.push_back({{"id", i.id}, {"rule", i.rule}, {"series", i.series.to_string()},
                           {"severity", to_string(i.peak_severity)}, {"start", format_iso8601(i.start)},
                           {"end", i.end ? json(format_iso8601(*i.end)) : json(nullptr)}, {"peak", i.peak_value}});
        json notes = json::array();
        for (const auto& n : result.notifications)
            notes.push_back({{"at", format_iso8601(n.at)}, {"kind", to_string(n.kind)}, {"rule", n.rule},
                             {"series", n.series.to_string()}, {"severity", to_string(n.severity)},
                             {"value", n.value}, {"reason", n.reason}});
        std::printf("%s\n", json{{"ticks", result.ticks}, {"incidents", inc}, {"notifications", notes}}
                                .dump(2, ' ', false, json::error_handler_t::replace)
                                .c_str());
        return 0;
    }
    std::string out = fmt::format("{} ticks from {} replayed through {} rule(s)\n", result.ticks,
                                  format_iso8601(since), rules.size());
    out += fmt::format("\n{} incident(s)\n", result.incidents.size());
    for (const auto& i : result.incidents)
        out += fmt::format("  {:<8} {} {}  {} .. {}  peak {}\n", to_string(i.peak_severity), i.rule,
                           i.series.to_string(), format_iso8601(i.start),
                           i.end ? format_iso8601(*i.end) : std::string("still open"),
                           format_metric_value(i.series.name(), i.peak_value));
    out += fmt::format("\n{} notification(s)\n", result.notifications.size());
    for (const auto& n : result.notifications)
        out += fmt::format("  {}  {:<9} {} {} {} ({})\n", format_iso8601(n.at), to_string(n.kind), n.rule,
                           n.series.to_string(), format_metric_value(n.series.name(), n.value), n.reason);
    for (const auto& e : result.errors) out += fmt::format("  (state ignored: {})\n", e);
    std::fputs(out.c_str(), stdout);
    return 0;
}

}  // namespace

void add_rules_command(CLI::App& app, GlobalOptions& options) {
    auto* rules = app.add_subcommand("rules", "Rule tools");
    rules->require_subcommand(1);
    auto opts = std::make_shared<BacktestCliOptions>();
    auto* bt = rules->add_subcommand(
        "backtest", "Replay stored history through the configured rules: the incidents and alerts they would give");
    bt->add_option("--since", opts->since, "How far back (e.g. 24h, 30d)")->capture_default_str();
    bt->add_option("--rule", opts->rule, "Only this rule");
    bt->add_flag("--json", opts->json, "Print as JSON");
    bt->callback([&options, opts] { options.action = [&options, opts] { return run_backtest(options, *opts); }; });
}

}  // namespace boxmon::cli
