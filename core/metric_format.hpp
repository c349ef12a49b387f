#pragma once
// Human display of a metric value from the unit its name ends in (STYLE rule 15):
// _percent, _bytes, _bytes_per_second, _celsius, _seconds, _watts.

#include <string>
#include <string_view>

namespace boxmon {

// "97.1%", "1.5 GiB", "12.0 MiB/s", "81.0 °C", "1.234 s", "250.3 W", or a plain number.
// NaN prints as "n/a".
std::string format_metric_value(std::string_view metric, double value);

// The unit suffix alone, for table headers: "%", "B", "B/s", "°C", "s", "W", or "".
std::string_view metric_unit(std::string_view metric);

}  // namespace boxmon
