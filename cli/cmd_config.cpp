// boxmon config check | show
#include <cstdio>

#include <fmt/format.h>

#include "cli/app.hpp"

namespace boxmon::cli {

void add_config_command(CLI::App& app, GlobalOptions& options) {
    auto* config = app.add_subcommand("config", "Validate or print the configuration");
    config->require_subcommand(1);
    auto* check = config->add_subcommand(
        "check", "Validate the configuration; errors read file:line:col: what; what to do (exit 2)");
    check->callback([&options] {
        options.action = [&options]() -> Result<int> {
            BOXMON_TRY(loaded, load_effective_config(options));
            const auto& c = loaded.config;
            const auto count = [](std::size_t n, const char* one, const char* many) {
                return fmt::format("{} {}", n, n == 1 ? one : many);
            };
            fmt::print("{}: ok ({}, {}, {}, {})\n", c.source.empty() ? "built-in defaults" : c.source.string(),
                       count(c.rules.size(), "rule", "rules"), count(c.channels.size(), "channel", "channels"),
                       count(c.services.size(), "service", "services"), count(c.logs.size(), "log", "logs"));
            return 0;
        };
    });
    auto* show = config->add_subcommand(
        "show", "Print the effective configuration, defaults filled in and secrets masked");
    show->callback([&options] {
        options.action = [&options]() -> Result<int> {
            BOXMON_TRY(loaded, load_effective_config(options));
            std::fputs(render_config(loaded.config).c_str(), stdout);
            return 0;
        };
    });
}

}  // namespace boxmon::cli
