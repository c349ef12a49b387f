#include "cli/app.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <iostream>

#include <spdlog/spdlog.h>

#include "cli/cmd_report.hpp"
#include "core/log.hpp"

#ifndef BOXMON_VERSION
#define BOXMON_VERSION "unknown"
#endif

namespace boxmon::cli {

Result<LoadedConfig> load_effective_config(const GlobalOptions& options) {
    std::optional<std::filesystem::path> flag;
    if (!options.config.empty()) flag = options.config;
    BOXMON_TRY(file, find_config_file(flag));
    BOXMON_TRY(loaded, load_config(file));
    if (!options.state_dir.empty()) loaded.config.general.state_dir = options.state_dir;
    if (options.log_level.empty()) {
        if (auto level = parse_log_level(loaded.config.general.log_level))
            spdlog::set_level(*level);
    }
    for (const auto& w : loaded.warnings) spdlog::warn("{}", w);
    return loaded;
}

WallTime latest_stamp(const Config& config, WallTime now) {
    return now + std::chrono::duration_cast<std::chrono::milliseconds>(config.general.interval);
}

RootFs root_fs(const GlobalOptions& options) {
    RootFs host;
    return RootFs(options.root_proc.empty() ? host.proc_root() : std::filesystem::path(options.root_proc),
                  options.root_sys.empty() ? host.sys_root() : std::filesystem::path(options.root_sys));
}

namespace {

int exit_code_for(const Error& e) {
    return (e.kind == ErrorKind::config || e.kind == ErrorKind::usage) ? 2 : 1;
}

}  // namespace

int run(int argc, char** argv) {
    // Files boxmon creates (database, reports) are private whatever umask it inherited.
    ::umask(077);

    CLI::App app{"boxmon: watches this server and tells its owner, with context, when it is in trouble.",
                 "boxmon"};
    app.set_version_flag("--version", std::string("boxmon ") + BOXMON_VERSION);
    app.require_subcommand(1);
    app.fallthrough();
    app.footer("Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.\n"
               "Configuration: --config, $BOXMON_CONFIG, /etc/boxmon/boxmon.toml, "
               "~/.config/boxmon/boxmon.toml, else built-in defaults (docs/CONFIG.md).");

    GlobalOptions options;
    app.add_option("--config", options.config, "Configuration file (TOML)")->type_name("FILE");
    app.add_option("--state-dir", options.state_dir, "State directory (overrides the configuration)")
        ->type_name("DIR");
    app.add_option("--log-level", options.log_level, "trace, debug, info, warn, error or off")
        ->type_name("LEVEL");
    app.add_option("--root-proc", options.root_proc, "Read /proc from DIR (fixture trees)")->group("");
    app.add_option("--root-sys", options.root_sys, "Read /sys from DIR (fixture trees)")->group("");

    add_run_command(app, options);
    add_sample_command(app, options);
    add_status_command(app, options);
    add_query_command(app, options);
    add_export_command(app, options);
    add_alerts_command(app, options);
    add_metrics_command(app, options);
    add_rules_command(app, options);
    add_db_command(app, options);
    add_report_command(app, options);
    add_sysinfo_command(app, options);
    add_config_command(app, options);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? 0 : 2;
    }

    auto level = parse_log_level(options.log_level.empty() ? "info" : options.log_level);
    if (!level) {
        std::fprintf(stderr, "boxmon: error: %s\n", level.error().message.c_str());
        return 2;
    }
    init_logging(*level);

    try {
        auto result = options.action();
        if (!result) {
            std::fprintf(stderr, "boxmon: error: %s\n", result.error().message.c_str());
            return exit_code_for(result.error());
        }
        return *result;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "boxmon: error: %s\n", e.what());
        return 1;
    }
}

}  // namespace boxmon::cli
