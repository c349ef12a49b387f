#pragma once
// `boxmon run`: the daemon loop. Ticks on interval boundaries (scheduler.hpp); SIGTERM and SIGINT
// finish the current tick and exit 0; SIGHUP reloads the configuration (a bad one is refused
// and the old one kept).

#include <functional>
#include <optional>

#include "core/clock.hpp"
#include "core/config_load.hpp"
#include "core/fs.hpp"
#include "core/result.hpp"

namespace boxmon::agent {

struct DaemonOptions {
    // Loads the configuration again on SIGHUP.
    std::function<Result<LoadedConfig>()> reload;
    RootFs root;
    const Clock* clock = nullptr;       // null: the system clock
    bool print_samples = false;         // write each sample to stdout as a table
    std::optional<long> max_ticks;      // stop after this many ticks (tests, benchmarks)
};

// Runs until SIGTERM/SIGINT (exit code 0) or a fatal error.
Result<int> run_daemon(Config config, DaemonOptions options);

}  // namespace boxmon::agent
