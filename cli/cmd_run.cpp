// boxmon run: the daemon, in the foreground.
#include "agent/daemon.hpp"
#include "cli/app.hpp"

namespace boxmon::cli {

namespace {

struct RunOptions {
    bool print = false;
    long ticks = 0;
};

}  // namespace

void add_run_command(CLI::App& app, GlobalOptions& options) {
    auto opts = std::make_shared<RunOptions>();
    auto* sub = app.add_subcommand("run", "Run the daemon in the foreground (systemd Type=notify, launchd KeepAlive)");
    sub->add_flag("--print", opts->print, "Print each sample as it is taken");
    sub->add_option("--ticks", opts->ticks, "Stop after this many ticks (0: run until SIGTERM)")->group("");
    sub->callback([&options, opts] {
        options.action = [&options, opts]() -> Result<int> {
            BOXMON_TRY(loaded, load_effective_config(options));
            agent::DaemonOptions d;
            d.reload = [&options] { return load_effective_config(options); };
            d.root = root_fs(options);
            d.print_samples = opts->print;
            if (opts->ticks > 0) d.max_ticks = opts->ticks;
            return agent::run_daemon(std::move(loaded.config), std::move(d));
        };
    });
}

}  // namespace boxmon::cli
