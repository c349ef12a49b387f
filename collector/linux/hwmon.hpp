#pragma once
// Temperature sensors: discovery of hwmon chips (/sys/class/hwmon/hwmonN/temp*_input, with their
// labels and the chip's name) and thermal zones (/sys/class/thermal/thermal_zoneN/temp), and
// the pure parsing of their millidegree files. Discovery walks directories, so the collector does
// it once and again only when the set of chips changes or a sensor disappears.
// https://docs.kernel.org/hwmon/sysfs-interface.html
// https://docs.kernel.org/driver-api/thermal/sysfs-api.html

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/fs.hpp"
#include "core/result.hpp"

namespace boxmon::collector::kernel {

struct TempSensor {
    std::string chip;        // label value: the hwmon name ("coretemp", "nvme_1" when repeated) or "thermal_zoneN"
    std::string sensor;      // label value: temp*_label ("Package id 0"), else "tempN"; the zone's type
    std::string input;       // the file to read each tick, relative to the sys root
    std::optional<double> critical_celsius;  // temp*_crit, or the zone's "critical" trip point
};

// Readings outside this range are a driver's "no value" (-273, 255.5 ...), never a temperature
// boxmon reports.
inline constexpr double k_min_plausible_celsius = -100;
inline constexpr double k_max_plausible_celsius = 300;

// Parses a sysfs temperature file ("45000\n", millidegrees Celsius) into degrees; nullopt when
// it is not an integer or lies outside the plausible range.
std::optional<double> parse_millidegrees(std::string_view text);

struct SensorDiscovery {
    std::vector<TempSensor> sensors;  // hwmon chips in hwmonN order, then thermal zones
    std::string problem;              // first unreadable or malformed file skipped ("" when none)
};

// The names under class/hwmon and class/thermal (absent directories list as empty), to notice a
// change of chips cheaply between ticks; fails only on an error other than "not found".
Result<std::vector<std::string>> list_sensor_dirs(const RootFs& root);

// Finds every temperature sensor under the sys root. Never fails: absent directories mean no
// sensors; a broken chip is skipped and described in problem. A thermal zone whose type is also
// an hwmon chip's name is left out (the kernel registers such zones as hwmon devices too).
SensorDiscovery discover_temperature_sensors(const RootFs& root);

}  // namespace boxmon::collector::kernel
