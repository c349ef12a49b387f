// The temperature collector: one series per hwmon sensor and thermal zone, labelled with its
// chip and sensor, its critical threshold where the driver gives one, and the hottest of them.
// Sensors are discovered once (hwmon.cpp) and again only when the set of chip directories
// changes or a sensor file vanishes, so a tick reads one small file per sensor.

#include <algorithm>

#include <spdlog/spdlog.h>

#include "collector/linux/hwmon.hpp"
#include "collector/registry.hpp"
#include "core/text.hpp"

namespace boxmon::collector {

namespace {

constexpr std::size_t k_temp_file_max = 64;

class TemperatureCollector final : public Collector {
public:
    std::string_view name() const override { return "temperature"; }

    Result<void> collect(CollectContext& ctx, Sample& out) override {
        BOXMON_TRY(dirs, kernel::list_sensor_dirs(ctx.root));
        if (m_stale || dirs != m_dirs) rediscover(ctx, std::move(dirs));

        std::string problem = m_discovery_problem;
        std::optional<double> hottest;
        int failed = 0;
        for (const auto& s : m_sensors) {
            auto text = ctx.root.read_sys(s.sensor.input, k_temp_file_max);
            std::optional<double> celsius;
            if (text) celsius = kernel::parse_millidegrees(*text);
            if (!celsius) {
                ++failed;
                if (!text && text.error().kind == ErrorKind::not_found) m_stale = true;  // a chip went away
                if (problem.empty()) {
                    problem = text ? fmt::format("{}: \"{}\" is not a temperature in millidegrees",
                                                 ctx.root.sys(s.sensor.input).string(), trim_newline(*text))
                                   : text.error().message;
                }
                continue;
            }
            out.add(s.value_key, *celsius);
            if (s.sensor.critical_celsius) out.add(s.critical_key, *s.sensor.critical_celsius);
            hottest = std::max(hottest.value_or(*celsius), *celsius);
        }
        if (hottest) out.add(SeriesKey("temperature_max_celsius"), *hottest);
        if (!m_sensors.empty() && failed == static_cast<int>(m_sensors.size()))
            return fail("no temperature sensor could be read: {}", problem);
        if (problem != m_last_problem) {
            m_last_problem = problem;
            if (!problem.empty()) spdlog::warn("collector temperature: {}; the other sensors are reported", problem);
        }
        return ok();
    }

private:
    struct Sensor {
        kernel::TempSensor sensor;
        SeriesKey value_key;     // built once: no label strings allocated per tick
        SeriesKey critical_key;
    };

    static std::string trim_newline(std::string text) {
        while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
        return escape_control(text.substr(0, 40));
    }

    void rediscover(const CollectContext& ctx, std::vector<std::string> dirs) {
        auto found = kernel::discover_temperature_sensors(ctx.root);
        m_sensors.clear();
        for (auto& s : found.sensors) {
            std::vector<Label> labels{{"chip", s.chip}, {"sensor", s.sensor}};
            SeriesKey value_key("temperature_celsius", labels);
            SeriesKey critical_key("temperature_critical_celsius", std::move(labels));
            m_sensors.push_back({std::move(s), std::move(value_key), std::move(critical_key)});
        }
        m_discovery_problem = std::move(found.problem);
        m_dirs = std::move(dirs);
        m_stale = false;
    }

    std::vector<std::string> m_dirs;  // the chip directories the sensors were discovered from
    std::vector<Sensor> m_sensors;
    std::string m_discovery_problem;
    std::string m_last_problem;
    bool m_stale = true;
};

}  // namespace

std::unique_ptr<Collector> make_temperature_collector(const Config&) {
    return std::make_unique<TemperatureCollector>();
}

}  // namespace boxmon::collector
