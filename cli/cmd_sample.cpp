// boxmon sample: one tick for timers (--print, --json show it).
#include <cstdio>
#include <fstream>

#include "agent/oneshot.hpp"
#include "agent/render.hpp"
#include "cli/app.hpp"
#include "collector/collector_set.hpp"

namespace boxmon::cli {

namespace {

struct SampleOptions {
    bool print = false;
    bool json = false;
    std::string fixture;  // hidden: DIR with t0/ and t1/ snapshots (scripts/capture-fixture.sh)
};

void show(const Sample& sample, const SampleOptions& opts) {
    if (opts.json)
        std::printf("%s\n", agent::sample_to_json(sample)
                                .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                                .c_str());
    else if (opts.print)
        std::fputs(agent::render_sample_table(sample).c_str(), stdout);
}

// A snapshot's clock.txt: "wall_ms boottime_ns".
Result<Instant> read_snapshot_clock(const std::filesystem::path& dir) {
    std::ifstream in(dir / "clock.txt");
    long long wall_ms = 0, boot_ns = 0;
    if (!(in >> wall_ms >> boot_ns))
        return fail_as(ErrorKind::usage, "{}: expected \"wall_ms boottime_ns\"", (dir / "clock.txt").string());
    Instant i;
    i.wall = WallTime(std::chrono::milliseconds(wall_ms));
    i.boottime = Nanos(boot_ns);
    i.monotonic = Nanos(boot_ns);
    return i;
}

// Two collections from a captured fixture (t0, then t1), nothing stored: the end-to-end test of
// the collectors runs the real binary this way and compares the JSON with a golden file.
Result<int> run_fixture_sample(const Config& config, const SampleOptions& opts) {
    const std::filesystem::path dir(opts.fixture);
    collector::CollectorSet set(config);
    std::optional<CounterSnapshot> previous;
    Sample last;
    for (const char* snap : {"t0", "t1"}) {
        const auto d = dir / snap;
        BOXMON_TRY(now, read_snapshot_clock(d));
        const RootFs root(d / "proc", d / "sys");
        auto pass = set.collect(root, now, std::chrono::floor<std::chrono::seconds>(now.wall),
                                previous ? &*previous : nullptr);
        previous = std::move(pass.counters);
        last = std::move(pass.sample);
    }
    show(last, opts);
    return 0;
}

Result<int> run_sample(const GlobalOptions& options, const SampleOptions& opts) {
    BOXMON_TRY(loaded, load_effective_config(options));
    if (!opts.fixture.empty()) return run_fixture_sample(loaded.config, opts);
    agent::OneShotOptions o;
    o.root = root_fs(options);
    BOXMON_TRY(result, agent::run_one_shot(loaded.config, o));
    if (result.skipped) {
        std::fprintf(stderr, "boxmon sample: nothing to do: %s\n", result.skip_reason.c_str());
        return 0;
    }
    show(result.outcome.sample, opts);
    const auto& d = result.delivery;
    if (d.dead > 0 || d.still_pending > 0 || d.retried > 0)
        std::fprintf(stderr, "boxmon sample: alerts: %d delivered, %d to retry, %d dead, %d still due\n",
                     d.delivered, d.retried, d.dead, d.still_pending);
    return 0;
}

}  // namespace

void add_sample_command(CLI::App& app, GlobalOptions& options) {
    auto opts = std::make_shared<SampleOptions>();
    auto* sub = app.add_subcommand(
        "sample", "Take one sample now and store it (for a systemd timer or cron); same results as `run`");
    sub->add_flag("--print", opts->print, "Print the sample as a table");
    sub->add_flag("--json", opts->json, "Print the sample as JSON");
    sub->add_option("--fixture", opts->fixture, "Collect from a captured fixture (t0, t1); store nothing")
        ->group("");
    sub->callback([&options, opts] {
        options.action = [&options, opts]() { return run_sample(options, *opts); };
    });
}

}  // namespace boxmon::cli
