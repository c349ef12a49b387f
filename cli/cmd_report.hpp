#pragma once
// `boxmon report` and `boxmon sysinfo`: registration hooks (cli/app.cpp calls them).

#include <CLI/CLI.hpp>

#include "cli/app.hpp"

namespace boxmon::cli {

// boxmon report [--since 24h] [--out DIR] [--stdout] [--format text|markdown|json]
void add_report_command(CLI::App& app, GlobalOptions& options);
// boxmon sysinfo [--out PATH]
void add_sysinfo_command(CLI::App& app, GlobalOptions& options);

}  // namespace boxmon::cli
