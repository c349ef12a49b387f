#pragma once
// Loading the configuration: the search order of DESIGN §8, TOML through toml++, and
// validation of every key. Errors read `file:line:col: what; what to do` and have kind config
// (exit code 2); all problems of a file are reported together and nothing is applied partially.

#include <filesystem>
#include <map>
#include <set>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "core/result.hpp"

namespace boxmon {

// Files larger than this are refused before parsing.
inline constexpr std::size_t k_config_max_bytes = 1u << 20;
// More rules than this are refused (each is evaluated every tick).
inline constexpr std::size_t k_max_rules = 10'000;

struct LoadedConfig {
    Config config;
    std::vector<std::string> warnings;  // to be logged once (insecure settings, env secrets)
};

// The file to load: `flag` (--config) if given, else $BOXMON_CONFIG, else
// /etc/boxmon/boxmon.toml, else ~/.config/boxmon/boxmon.toml if they exist; nullopt means
// built-in defaults. A --config or $BOXMON_CONFIG that does not exist is an error.
Result<std::optional<std::filesystem::path>> find_config_file(
    const std::optional<std::filesystem::path>& flag);

// Reads and validates a configuration file (nullopt: the built-in defaults). Refuses a file
// that is not regular, larger than 1 MiB, or writable by others (or in a directory writable by
// others); warns when a file holding secrets is readable by others.
Result<LoadedConfig> load_config(const std::optional<std::filesystem::path>& file);

// Validates TOML text; `source_name` prefixes error positions. Used by load_config and tests.
Result<LoadedConfig> parse_config(std::string_view text, std::string_view source_name);

// The built-in defaults: no file at all.
Config default_config();

// The default state directory: $STATE_DIRECTORY (the first, as systemd's StateDirectory= sets
// it), else /var/lib/boxmon for root, else $XDG_STATE_HOME/boxmon (~/.local/state/boxmon).
std::filesystem::path default_state_dir();

// Every key the loader accepts, by table heading ("[general]", "[[channels]]" ...), found by
// running the loader over one example of each kind of table. Keeps docs/CONFIG.md honest.
std::map<std::string, std::set<std::string>> config_keys();

// The effective configuration as TOML, defaults filled in, every secret shown as "<secret>".
std::string render_config(const Config& config);

}  // namespace boxmon
