// boxmon db salvage: copies what a damaged database (a corrupt one moved aside) still holds
// into the one boxmon writes. Wiring only; the salvage itself is store::salvage.
#include <cstdio>
#include <memory>

#include "agent/lock.hpp"
#include "agent/pipeline.hpp"
#include "cli/app.hpp"
#include "store/store.hpp"

namespace boxmon::cli {

namespace {

struct SalvageOptions {
    std::string from;
};

Result<int> run_salvage(const GlobalOptions& options, const SalvageOptions& opts) {
    BOXMON_TRY(loaded, load_effective_config(options));
    const Config& config = loaded.config;
    // One writer per state directory: the daemon's series cache and backlog assume it is alone.
    auto lock = agent::InstanceLock::acquire(config.general.state_dir, "salvage");
    if (!lock)
        return fail_as(lock.error().kind, "{}; stop it first (systemctl stop boxmon, or disable the sample timer), "
                                          "salvage, then start it again",
                       lock.error().message);
    BOXMON_TRY(into, store::Store::open(agent::writer_store_options(config)));
    BOXMON_TRY(r, store::salvage(opts.from, *into));
    if (r.values == 0) {
        std::printf("nothing could be read from %s (%zu series named, %zu series-hours unreadable)\n",
                    opts.from.c_str(), r.series, r.unreadable_hours);
        return 1;
    }
    std::printf("salvaged %zu values of %zu series, %s to %s, from %s into %s: %zu ticks written (ticks the "
                "database already held were kept)\n",
                r.values, r.series, format_iso8601(*r.first).c_str(), format_iso8601(*r.last).c_str(),
                opts.from.c_str(), into->path().c_str(), r.ticks_written);
    if (r.unreadable_hours > 0)
        std::printf("%zu series-hours could not be read (damaged pages) and are not in it\n", r.unreadable_hours);
    std::printf("values older than [storage] retention_raw are removed again by retention\n");
    return 0;
}

}  // namespace

void add_db_command(CLI::App& app, GlobalOptions& options) {
    auto* db = app.add_subcommand("db", "Database tools");
    db->require_subcommand(1);
    auto opts = std::make_shared<SalvageOptions>();
    auto* salvage = db->add_subcommand(
        "salvage", "Copy the samples a damaged database (a <name>.corrupt-<stamp> file) still holds into boxmon's");
    salvage->add_option("file", opts->from, "The damaged database")->required()->check(CLI::ExistingFile);
    salvage->footer("Stop boxmon run (or the sample timer) first. Ticks the database already holds are kept.");
    salvage->callback([&options, opts] {
        options.action = [&options, opts] { return run_salvage(options, *opts); };
    });
}

}  // namespace boxmon::cli
