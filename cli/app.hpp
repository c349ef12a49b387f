#pragma once
// The command line: global options shared by every subcommand and the registration hooks of
// each subcommand file. No logic beyond wiring (STYLE/DESIGN §2).

#include <functional>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "core/clock.hpp"
#include "core/config_load.hpp"
#include "core/fs.hpp"
#include "core/result.hpp"

namespace boxmon::cli {

struct GlobalOptions {
    std::string config;     // --config FILE
    std::string state_dir;  // --state-dir DIR
    std::string log_level;  // --log-level LEVEL ("" = from config, default info)
    std::string root_proc;  // hidden: --root-proc DIR
    std::string root_sys;   // hidden: --root-sys DIR

    // The subcommand chosen on the command line; returns its exit code or an error.
    std::function<Result<int>()> action;
};

// Finds and loads the configuration named by the options (or the search order), applies
// --state-dir and the log level, and logs the loader's warnings once.
Result<LoadedConfig> load_effective_config(const GlobalOptions& options);
// The /proc and /sys roots (--root-proc/--root-sys, or the host's).
RootFs root_fs(const GlobalOptions& options);
// The latest stamp a stored tick can carry at `now`: `boxmon sample` stamps the nearest interval
// slot, up to half an interval ahead of the clock. Readers of "until now" read until this, or
// the incident a sample at 12:00:40 opened at 12:01:00 is not there yet.
WallTime latest_stamp(const Config& config, WallTime now);

// Each subcommand file registers itself on the app.
void add_run_command(CLI::App& app, GlobalOptions& options);
void add_sample_command(CLI::App& app, GlobalOptions& options);
void add_config_command(CLI::App& app, GlobalOptions& options);
void add_status_command(CLI::App& app, GlobalOptions& options);
void add_query_command(CLI::App& app, GlobalOptions& options);
void add_export_command(CLI::App& app, GlobalOptions& options);
void add_alerts_command(CLI::App& app, GlobalOptions& options);
void add_metrics_command(CLI::App& app, GlobalOptions& options);
void add_rules_command(CLI::App& app, GlobalOptions& options);
void add_db_command(CLI::App& app, GlobalOptions& options);

// Runs the program; returns the process exit code (0 ok, 1 runtime failure, 2 usage/config).
int run(int argc, char** argv);

}  // namespace boxmon::cli
