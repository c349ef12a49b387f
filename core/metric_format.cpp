#include "core/metric_format.hpp"

#include <cmath>

#include <fmt/format.h>

#include "core/units.hpp"

namespace boxmon {

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::string_view metric_unit(std::string_view metric) {
    if (ends_with(metric, "_percent")) return "%";
    if (ends_with(metric, "_bytes_per_second")) return "B/s";
    if (ends_with(metric, "_bytes")) return "B";
    if (ends_with(metric, "_celsius")) return "°C";
    if (ends_with(metric, "_seconds")) return "s";
    if (ends_with(metric, "_watts")) return "W";
    return "";
}

std::string format_metric_value(std::string_view metric, double value) {
    if (!std::isfinite(value)) return "n/a";
    const std::string_view unit = metric_unit(metric);
    if (unit == "%") return fmt::format("{:.1f}%", value);
    if (unit == "B/s") return format_bytes(value) + "/s";
    if (unit == "B") return format_bytes(value);
    if (unit == "°C") return fmt::format("{:.1f} °C", value);
    if (unit == "s") return fmt::format("{:.3g} s", value);
    if (unit == "W") return fmt::format("{:.1f} W", value);
    return fmt::format("{:.4g}", value);
}

}  // namespace boxmon
