// boxmon sample: one collection, printed (--print, --json).
#include <chrono>
#include <cstdio>
#include <thread>

#include "agent/render.hpp"
#include "cli/app.hpp"
#include "collector/collector_set.hpp"

namespace boxmon::cli {

namespace {

struct SampleOptions {
    bool print = false;
    bool json = false;
};

Result<int> run_sample(const GlobalOptions& options, const SampleOptions& opts) {
    BOXMON_TRY(loaded, load_effective_config(options));
    const Config& config = loaded.config;
    const RootFs root = root_fs(options);
    const auto& clock = SystemClock::instance();
    collector::CollectorSet set(config);
    // Rates need two readings: prime the counters, then collect about a second later.
    auto first = set.collect(root, clock.now(), clock.wall(), nullptr);
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const Instant now = clock.now();
    auto pass = set.collect(root, now, std::chrono::floor<std::chrono::seconds>(now.wall), &first.counters);
    if (opts.json)
        std::printf("%s\n", agent::sample_to_json(pass.sample).dump(2, ' ', false,
                                                                  nlohmann::json::error_handler_t::replace)
                                .c_str());
    else
        std::fputs(agent::render_sample_table(pass.sample).c_str(), stdout);
    return 0;
}

}  // namespace

void add_sample_command(CLI::App& app, GlobalOptions& options) {
    auto opts = std::make_shared<SampleOptions>();
    auto* sub = app.add_subcommand("sample", "Take one sample (for timers); --print or --json shows it");
    sub->add_flag("--print", opts->print, "Print the sample as a table");
    sub->add_flag("--json", opts->json, "Print the sample as JSON");
    sub->callback([&options, opts] {
        options.action = [&options, opts] { return run_sample(options, *opts); };
    });
}

}  // namespace boxmon::cli
