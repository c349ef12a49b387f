#include "core/log.hpp"

#include <cstdlib>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace boxmon {

Result<spdlog::level::level_enum> parse_log_level(std::string_view text) {
    using spdlog::level::level_enum;
    if (text == "trace") return level_enum::trace;
    if (text == "debug") return level_enum::debug;
    if (text == "info") return level_enum::info;
    if (text == "warn" || text == "warning") return level_enum::warn;
    if (text == "error") return level_enum::err;
    if (text == "critical") return level_enum::critical;
    if (text == "off") return level_enum::off;
    return fail_as(ErrorKind::usage,
                   "unknown log level \"{}\"; use trace, debug, info, warn, error or off", text);
}

void init_logging(spdlog::level::level_enum level) {
    spdlog::drop("boxmon");
    auto logger = spdlog::stderr_color_mt("boxmon");
    if (std::getenv("JOURNAL_STREAM") != nullptr)
        logger->set_pattern("%l: %v");
    else
        logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
    logger->set_level(level);
    logger->flush_on(spdlog::level::warn);
    spdlog::set_default_logger(std::move(logger));
}

bool ChangeFilter::changed(const std::string& key, std::string_view text) {
    std::lock_guard lock(m_mutex);
    auto [it, inserted] = m_last.try_emplace(key, text);
    if (inserted) return true;
    if (it->second == text) return false;
    it->second = std::string(text);
    return true;
}

bool ChangeFilter::clear(const std::string& key) {
    std::lock_guard lock(m_mutex);
    return m_last.erase(key) > 0;
}

}  // namespace boxmon
