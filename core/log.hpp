#pragma once
// Logging: spdlog to stderr (journald and launchd capture it). One setup call; a filter that
// lets a repeating error through once and again only when its text changes (STYLE rule 8).

#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "core/result.hpp"

namespace boxmon {

// Parses trace|debug|info|warn|warning|error|critical|off; fails (kind usage) otherwise.
Result<spdlog::level::level_enum> parse_log_level(std::string_view text);

// Sets up the default logger on stderr at `level`. Under journald (JOURNAL_STREAM set) lines
// carry no timestamp, which the journal adds itself.
void init_logging(spdlog::level::level_enum level);

// Remembers the last message per key; `changed` is true the first time and whenever the text
// differs from the last one, so a failing source logs once per distinct failure. Thread-safe.
class ChangeFilter {
public:
    bool changed(const std::string& key, std::string_view text);
    // Forgets `key` (the source recovered); returns true if it had an error recorded.
    bool clear(const std::string& key);

private:
    std::mutex m_mutex;
    std::unordered_map<std::string, std::string> m_last;
};

}  // namespace boxmon
