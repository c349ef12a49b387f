// boxmon status, boxmon query, boxmon export: read the database (never write it), so they work
// beside a running daemon and on a copy of the file.
#include <cstdio>
#include <map>

#include <nlohmann/json.hpp>

#include "agent/exposition.hpp"
#include "agent/lock.hpp"
#include "agent/pipeline.hpp"
#include "agent/service_status.hpp"
#include "cli/app.hpp"
#include "core/metric_format.hpp"
#include "core/sparkline.hpp"
#include "core/text.hpp"
#include "core/units.hpp"
#include "rules/engine.hpp"
#include "store/store.hpp"

namespace boxmon::cli {

namespace {

using nlohmann::json;

Result<std::unique_ptr<store::Store>> open_read_only(const Config& config) {
    store::StoreOptions o;
    o.path = config.database_path();
    o.busy_timeout = config.storage.busy_timeout;
    o.read_only = true;
    o.quick_check = false;  // a reader; the writer checks the file when it opens it
    auto s = store::Store::open(o);
    if (!s && s.error().kind == ErrorKind::not_found)
        return fail_as(ErrorKind::not_found,
                       "no database at {} yet; start `boxmon run` or take a sample with `boxmon sample`",
                       o.path.string());
    return s;
}

Result<std::chrono::milliseconds> parse_since(const std::string& text) {
    auto d = parse_duration(text);
    if (!d) return fail_as(ErrorKind::usage, "--since {}: {}", text, d.error().message);
    return *d;
}

// `interval`: a one-shot sample is stamped with the nearest slot, so a stamp up to an interval
// ahead of the clock is the latest sample, not a clock that stepped back.
std::string age_text(WallTime then, WallTime now, std::chrono::milliseconds interval) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - then);
    if (ms.count() < 0) return -ms <= interval ? "just now" : "in the future (clock stepped back?)";
    return format_duration(std::chrono::duration_cast<std::chrono::seconds>(ms)) + " ago";
}

// ---- status ----------------------------------------------------------------------------------

// `boxmon status` exit code when the last sample is older than three intervals.
constexpr int k_exit_stale = 3;
// Failing and dead deliveries status lists (each oldest first); the counts cover the rest.
constexpr std::size_t k_status_rows = 5;

// The deliveries that need the owner's eye (RELIABILITY D1): pending rows whose last attempt
// failed, with the error and the next attempt, and rows that went dead within dead_after.
struct DeliveryTrouble {
    std::vector<OutboxRow> failing;
    std::vector<OutboxRow> dead;
};

Result<DeliveryTrouble> delivery_trouble(store::Store& db, const Config& config, WallTime now) {
    BOXMON_TRY(rows, db.outbox().recent(now - config.alerting.dead_after, 10'000));
    DeliveryTrouble t;
    for (auto it = rows.rbegin(); it != rows.rend(); ++it) {  // oldest first
        if (it->state == OutboxState::pending && it->attempts > 0 && t.failing.size() < k_status_rows)
            t.failing.push_back(*it);
        if (it->state == OutboxState::dead && t.dead.size() < k_status_rows) t.dead.push_back(*it);
    }
    return t;
}

json delivery_json(const OutboxRow& r) {
    json j = {{"channel", r.item.channel}, {"key", r.item.idempotency_key}, {"kind", r.item.kind},
              {"attempts", r.attempts}, {"last_error", r.last_error}};
    if (r.state == OutboxState::pending) j["next_attempt"] = format_iso8601(r.next_attempt);
    if (r.finished) j["finished"] = format_iso8601(*r.finished);
    return j;
}

struct StatusOptions {
    bool json = false;
};

Result<int> run_status(const GlobalOptions& options, const StatusOptions& opts) {
    BOXMON_TRY(loaded, load_effective_config(options));
    const Config& config = loaded.config;
    const WallTime now = SystemClock::instance().wall();
    const auto holder = agent::InstanceLock::holder(config.general.state_dir);
    BOXMON_TRY(db, open_read_only(config));
    BOXMON_TRY(last, db->last_tick());
    BOXMON_TRY(series, db->series());
    BOXMON_TRY(states, db->load_rule_states());
    BOXMON_TRY(open_incidents, db->incidents(WallTime{}, latest_stamp(config, now), true));
    BOXMON_TRY(outbox, db->outbox().counts());
    BOXMON_TRY(trouble, delivery_trouble(*db, config, now));

    const WallTime since = (last ? *last : now) - std::chrono::hours(1);
    struct Row {
        SeriesKey key;
        double value;
        std::vector<double> hour;
    };
    std::vector<Row> rows;
    for (const auto& s : series) {
        if (!last || !s.last_seen || *s.last_seen < *last) continue;  // not in the last sample
        BOXMON_TRY(points, db->query(s.key, since, *last));
        if (points.empty()) continue;
        Row r{s.key, points.back().value, {}};
        for (const auto& p : points) r.hour.push_back(p.value);
        rows.push_back(std::move(r));
    }
    std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.key < b.key; });

    // How far back "up since" looks for the last change of a service's state.
    constexpr auto k_service_lookback = std::chrono::hours(24 * 7);
    std::vector<ServiceState> services;
    if (last) {
        BOXMON_TRY(read, agent::read_service_states(config, *db, *last, k_service_lookback));
        services = std::move(read);
    }

    rules::Engine engine(config.rules);
    const auto problems = engine.restore(states);
    rules::TickContext ctx;
    ctx.ts = now;
    ctx.interval = config.general.interval;
    const auto rule_status = engine.status(ctx);
    // A monitor watching the monitor: stale when the last tick is more than three intervals old.
    const bool stale = !last || (now - *last) > 3 * config.general.interval;
    const int code = stale ? k_exit_stale : 0;
    // Running but not storing: the daemon keeps its ticks in memory while the database refuses
    // them (disk full, read-only, locked: RELIABILITY S1, S3, S5), and says why in its log.
    const bool not_storing = stale && holder && holder->mode != "sample";
    // The last corrupt database moved aside here, as the database that replaced it noted.
    std::optional<store::MoveAside> moved;
    if (auto m = db->last_move_aside()) moved = std::move(*m);

    if (opts.json) {
        json j;
        j["database"] = db->path().string();
        j["daemon"] = holder ? json{{"pid", holder->pid}, {"mode", holder->mode}} : json(nullptr);
        j["last_sample"] = last ? json(format_iso8601(*last)) : json(nullptr);
        j["stale"] = stale;
        j["storage_degraded"] = not_storing;
        j["last_sample_age_seconds"] =
            last ? json(std::chrono::duration_cast<std::chrono::seconds>(now - *last).count()) : json(nullptr);
        j["database_moved_aside"] =
            moved ? json{{"to", moved->to.string()}, {"at", format_iso8601(moved->at)}, {"reason", moved->reason}}
                  : json(nullptr);
        json unverified = json::array();
        for (const auto& c : config.channels)
            if (c.tls_skip_verify) unverified.push_back(c.name);
        j["tls_unverified_channels"] = std::move(unverified);
        j["outbox"] = {{"pending", outbox.pending}, {"dead", outbox.dead}, {"delivered", outbox.delivered}};
        json failing = json::array();
        for (const auto& r : trouble.failing) failing.push_back(delivery_json(r));
        json dead = json::array();
        for (const auto& r : trouble.dead) dead.push_back(delivery_json(r));
        j["outbox"]["failing"] = std::move(failing);
        j["outbox"]["recently_dead"] = std::move(dead);
        json values = json::array();
        for (const auto& r : rows)
            values.push_back({{"series", r.key.to_string()}, {"value", r.value}, {"last_hour", r.hour}});
        j["values"] = std::move(values);
        j["services"] = agent::service_states_to_json(services);
        json rs = json::array();
        for (const auto& s : rule_status)
            rs.push_back({{"rule", s.rule}, {"series", s.series.to_string()}, {"phase", s.phase},
                          {"severity", to_string(s.severity)}, {"text", s.text}});
        j["rules"] = std::move(rs);
        json inc = json::array();
        for (const auto& i : open_incidents)
            inc.push_back({{"id", i.id}, {"rule", i.rule}, {"series", i.series.to_string()},
                           {"severity", to_string(i.severity)}, {"start", format_iso8601(i.start)}});
        j["open_incidents"] = std::move(inc);
        std::printf("%s\n", j.dump(2, ' ', false, json::error_handler_t::replace).c_str());
        return code;
    }

    std::string out;
    out += fmt::format("host      {}\n", agent::host_name(config));
    out += fmt::format("daemon    {}\n", holder ? fmt::format("running (PID {}, boxmon {})", holder->pid,
                                                              holder->mode.empty() ? "run" : holder->mode)
                                                : std::string("not running"));
    out += fmt::format("database  {}\n", db->path().string());
    if (moved && now - moved->at < std::chrono::days(7))
        out += fmt::format("          a corrupt database was moved aside to {} at {} ({}); this one started then\n",
                           moved->to.string(), format_iso8601(moved->at), moved->reason);
    out += fmt::format(
        "last      {}{}\n",
        last ? fmt::format("{} ({})", format_iso8601(*last), age_text(*last, now, config.general.interval))
             : std::string("no sample yet"),
        stale ? fmt::format("  STALE: older than 3 intervals ({}){}", format_duration(3 * config.general.interval),
                            not_storing ? "" : "; is boxmon run or its timer running?")
              : std::string());
    if (not_storing)
        out += fmt::format(
            "          STORAGE DEGRADED: the daemon (PID {}) is running but has stored nothing {}; "
            "its writes to {} fail (disk full, read-only or locked) or it is stuck, and its log "
            "says which\n",
            holder->pid,
            last ? "for " + format_duration(std::chrono::duration_cast<std::chrono::seconds>(now - *last))
                 : std::string("since it started"),
            db->path().string());
    out += fmt::format("alerts    {} pending, {} dead{}\n", outbox.pending, outbox.dead,
                       outbox.oldest_pending
                           ? fmt::format(" (oldest pending since {})", format_iso8601(*outbox.oldest_pending))
                           : std::string());
    for (const auto& c : config.channels)
        if (c.tls_skip_verify)
            out += fmt::format("          WARNING: channel \"{}\" does not verify its receiver's TLS certificate "
                               "(tls_skip_verify = true); set ca_file instead\n",
                               c.name);
    for (const auto& r : trouble.failing)
        out += fmt::format("          failing: {} {} via {}, {} attempt(s), next at {}: {}\n", r.item.kind,
                           r.item.idempotency_key, r.item.channel, r.attempts, format_iso8601(r.next_attempt),
                           printable(r.last_error));
    for (const auto& r : trouble.dead)
        out += fmt::format("          DEAD: {} {} via {} at {}: {}\n", r.item.kind, r.item.idempotency_key,
                           r.item.channel, r.finished ? format_iso8601(*r.finished) : std::string("?"),
                           printable(r.last_error));
    if (!rows.empty()) {
        std::size_t width = 6;
        for (const auto& r : rows) width = std::max(width, printable(r.key.to_string()).size());
        out += fmt::format("\n{:<{}}  {:>14}  last hour\n", "SERIES", width, "NOW");
        for (const auto& r : rows)
            out += fmt::format("{:<{}}  {:>14}  {}\n", printable(r.key.to_string()), width,
                               format_metric_value(r.key.name(), r.value), sparkline(r.hour, 30));
    }
    out += agent::render_service_states(services, now);
    if (!rule_status.empty()) {
        out += "\nRULES\n";
        for (const auto& s : rule_status)
            out += fmt::format("  {:<22} {:<40} {}\n", s.rule, printable(s.series.to_string()), s.text);
    }
    for (const auto& p : problems) out += fmt::format("  (rule state dropped: {})\n", p);
    out += "\nOPEN INCIDENTS\n";
    if (open_incidents.empty()) out += "  none\n";
    for (const auto& i : open_incidents)
        out += fmt::format("  {} {} {} since {} (peak {})\n", to_string(i.severity), i.rule,
                           printable(i.series.to_string()),
                           format_iso8601(i.start), format_metric_value(i.series.name(), i.peak_value));
    std::fputs(out.c_str(), stdout);
    return code;
}

// ---- query -----------------------------------------------------------------------------------

struct QueryOptions {
    std::string series;
    std::string since = "6h";
    std::string step;
    bool json = false;
};

Result<int> run_query(const GlobalOptions& options, const QueryOptions& opts) {
    BOXMON_TRY(loaded, load_effective_config(options));
    auto key = SeriesKey::parse(opts.series);
    if (!key)
        return fail_as(ErrorKind::usage, "{}; write a series as name or name{{label=\"value\"}}", key.error().message);
    BOXMON_TRY(window, parse_since(opts.since));
    auto resolution = store::resolution_for(window);
    if (!opts.step.empty()) {
        auto step = parse_duration(opts.step);
        if (!step) return fail_as(ErrorKind::usage, "--step {}: {}", opts.step, step.error().message);
        if (*step >= std::chrono::hours(1)) resolution = store::Resolution::one_hour;
        else if (*step >= std::chrono::minutes(5)) resolution = store::Resolution::five_minutes;
        else resolution = store::Resolution::raw;
    }
    BOXMON_TRY(db, open_read_only(loaded.config));
    const WallTime now = SystemClock::instance().wall();
    BOXMON_TRY(points, db->query(*key, now - window, latest_stamp(loaded.config, now), resolution));
    if (opts.json) {
        json arr = json::array();
        for (const auto& p : points)
            arr.push_back({{"ts", format_iso8601(p.ts)}, {"value", p.value}, {"min", p.min}, {"max", p.max},
                           {"count", p.count}});
        std::printf("%s\n", json{{"series", key->to_string()}, {"points", arr}}
                                 .dump(2, ' ', false, json::error_handler_t::replace)
                                 .c_str());
        return 0;
    }
    if (points.empty()) {
        std::fprintf(stderr, "no points for %s in the last %s\n", printable(key->to_string()).c_str(),
                     printable(opts.since).c_str());
        return 0;
    }
    const bool rollup = resolution != store::Resolution::raw;
    for (const auto& p : points) {
        if (rollup)
            std::printf("%s  %s  (min %s, max %s, %lld samples)\n", format_iso8601(p.ts).c_str(),
                        format_metric_value(key->name(), p.value).c_str(),
                        format_metric_value(key->name(), p.min).c_str(),
                        format_metric_value(key->name(), p.max).c_str(), static_cast<long long>(p.count));
        else
            std::printf("%s  %s\n", format_iso8601(p.ts).c_str(), format_metric_value(key->name(), p.value).c_str());
    }
    return 0;
}

// ---- export ----------------------------------------------------------------------------------

struct ExportOptions {
    std::string format = "csv";
    std::string since = "24h";
};

// The operator's original CSV columns, each a series (or the total of a metric's series).
struct Column {
    const char* header;
    SeriesKey key;
};

std::vector<Column> csv_columns() {
    return {
        {"cpu_percent", SeriesKey("cpu_percent")},
        {"gpu_util", SeriesKey("gpu_util_percent", {{"gpu", "0"}})},
        {"mem_used_percent", SeriesKey("mem_used_percent")},
        {"net_bytes_in_per_s", SeriesKey("net_rx_bytes_per_second")},
        {"net_bytes_out_per_s", SeriesKey("net_tx_bytes_per_second")},
        {"disk_used_percent", SeriesKey("disk_used_percent", {{"mount", "/"}})},
    };
}

Result<int> run_export(const GlobalOptions& options, const ExportOptions& opts) {
    BOXMON_TRY(loaded, load_effective_config(options));
    BOXMON_TRY(window, parse_since(opts.since));
    if (opts.format != "csv" && opts.format != "json")
        return fail_as(ErrorKind::usage, "--format {}: use csv or json", opts.format);
    BOXMON_TRY(db, open_read_only(loaded.config));
    const WallTime now = SystemClock::instance().wall();
    const WallTime since = now - window;
    const WallTime until = latest_stamp(loaded.config, now);
    const auto resolution = store::resolution_for(window);

    if (opts.format == "json") {
        BOXMON_TRY(series, db->series());
        json out = json::array();
        for (const auto& s : series) {
            BOXMON_TRY(points, db->query(s.key, since, until, resolution));
            if (points.empty()) continue;
            json arr = json::array();
            for (const auto& p : points) arr.push_back({format_iso8601(p.ts), p.value});
            out.push_back({{"series", s.key.to_string()}, {"points", std::move(arr)}});
        }
        std::printf("%s\n", out.dump(1, ' ', false, json::error_handler_t::replace).c_str());
        return 0;
    }

    // CSV: one row per tick, empty cells where a series has no value (a machine without a GPU).
    // The GPU column takes the first GPU whatever its labels are.
    const auto columns = csv_columns();
    std::map<WallTime, std::vector<std::optional<double>>> rows;
    BOXMON_TRY(ticks, db->ticks(since, until));
    if (resolution == store::Resolution::raw)
        for (const auto& [ts, gap] : ticks) rows[ts].resize(columns.size());
    BOXMON_TRY(all_series, db->series());
    for (std::size_t c = 0; c < columns.size(); ++c) {
        std::optional<SeriesKey> key;
        for (const auto& s : all_series) {
            if (s.key == columns[c].key) { key = s.key; break; }
            if (!key && c == 1 && s.key.name() == "gpu_util_percent") key = s.key;
        }
        if (!key) continue;
        BOXMON_TRY(points, db->query(*key, since, until, resolution));
        for (const auto& p : points) {
            auto& row = rows[p.ts];
            row.resize(columns.size());
            row[c] = p.value;
        }
    }
    std::string out = "timestamp";
    for (const auto& c : columns) out += fmt::format(",{}", c.header);
    out += '\n';
    for (const auto& [ts, values] : rows) {
        out += format_iso8601(ts);
        for (const auto& v : values) out += v ? fmt::format(",{:.6g}", *v) : std::string(",");
        out += '\n';
    }
    std::fputs(out.c_str(), stdout);
    return 0;
}

// ---- metrics ---------------------------------------------------------------------------------

Result<int> run_metrics(const GlobalOptions& options) {
    BOXMON_TRY(loaded, load_effective_config(options));
    BOXMON_TRY(db, open_read_only(loaded.config));
    BOXMON_TRY(last, db->last_tick());
    Sample sample;
    agent::SelfMetrics self;
    self.last_tick = last;
    BOXMON_TRY(outbox, db->outbox().counts());
    self.outbox = outbox;
    if (last) {
        sample.ts = *last;
        BOXMON_TRY(series, db->series());
        for (const auto& s : series) {
            if (!s.last_seen || *s.last_seen < *last) continue;
            BOXMON_TRY(points, db->query(s.key, *last, *last));
            if (!points.empty()) sample.add(s.key, points.back().value);
        }
    }
    std::fputs(agent::to_exposition(sample, self).c_str(), stdout);
    return 0;
}

}  // namespace

void add_metrics_command(CLI::App& app, GlobalOptions& options) {
    auto* sub = app.add_subcommand("metrics", "Print the last sample in the Prometheus text exposition format");
    sub->callback([&options] { options.action = [&options] { return run_metrics(options); }; });
}

void add_status_command(CLI::App& app, GlobalOptions& options) {
    auto opts = std::make_shared<StatusOptions>();
    auto* sub = app.add_subcommand("status", "Current values, the last hour, rule states and open incidents");
    sub->footer("Exit code 3 when the last sample is older than three intervals (a stopped daemon or timer).");
    sub->add_flag("--json", opts->json, "Print as JSON");
    sub->callback([&options, opts] { options.action = [&options, opts] { return run_status(options, *opts); }; });
}

void add_query_command(CLI::App& app, GlobalOptions& options) {
    auto opts = std::make_shared<QueryOptions>();
    auto* sub = app.add_subcommand("query", "Print the history of one series");
    sub->add_option("series", opts->series, "The series, e.g. cpu_percent or disk_used_percent{mount=\"/\"}")
        ->required();
    sub->add_option("--since", opts->since, "How far back (e.g. 90m, 6h, 30d)")->capture_default_str();
    sub->add_option("--step", opts->step, "Resolution: under 5m raw samples, 5m or 1h rollups (min/avg/max)");
    sub->add_flag("--json", opts->json, "Print as JSON");
    sub->callback([&options, opts] { options.action = [&options, opts] { return run_query(options, *opts); }; });
}

void add_export_command(CLI::App& app, GlobalOptions& options) {
    auto opts = std::make_shared<ExportOptions>();
    auto* sub = app.add_subcommand("export", "Export history as CSV (the headline columns) or JSON (every series)");
    sub->add_option("--format", opts->format, "csv or json")->capture_default_str();
    sub->add_option("--since", opts->since, "How far back (e.g. 24h, 7d)")->capture_default_str();
    sub->callback([&options, opts] { options.action = [&options, opts] { return run_export(options, *opts); }; });
}

}  // namespace boxmon::cli
