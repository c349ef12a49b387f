#include "collector/linux/hwmon.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "collector/linux/parse_proc.hpp"
#include "core/text.hpp"

namespace boxmon::collector::kernel {

namespace {

constexpr std::string_view k_hwmon_dir = "class/hwmon";
constexpr std::string_view k_thermal_dir = "class/thermal";
constexpr std::size_t k_small_file = 256;   // name, label, temp: a few bytes each
constexpr std::size_t k_max_label = 64;      // a label longer than this is cut

// "hwmon12" -> ("hwmon", 12); names without a number sort before numbered ones.
std::pair<std::string_view, std::uint64_t> split_number(std::string_view name) {
    std::size_t i = name.size();
    while (i > 0 && name[i - 1] >= '0' && name[i - 1] <= '9') --i;
    const auto n = parse_u64(name.substr(i));
    return {name.substr(0, i), n.value_or(0)};
}

// hwmon2 before hwmon10, temp2_input before temp10_input.
bool natural_less(const std::string& a, const std::string& b) {
    const std::string_view va = a;
    const std::string_view vb = b;
    const auto ka = split_number(va.substr(0, va.find('_')));
    const auto kb = split_number(vb.substr(0, vb.find('_')));
    if (ka != kb) return ka < kb;
    return a < b;
}

std::string trimmed(std::string_view s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    // Labels become series labels and message text: valid UTF-8, no control characters.
    return truncate_utf8(escape_control(sanitize_utf8(s)), k_max_label);
}

std::vector<std::string> list_or_empty(const RootFs& root, std::string_view dir, std::string& problem) {
    auto names = list_dir(root.sys(dir));
    if (!names) {
        if (names.error().kind != ErrorKind::not_found && problem.empty()) problem = names.error().message;
        return {};
    }
    auto out = std::move(names).value();
    std::sort(out.begin(), out.end(), natural_less);
    return out;
}

std::optional<std::string> read_text(const RootFs& root, const std::string& rel) {
    auto text = root.read_sys(rel, k_small_file);
    if (!text) return std::nullopt;
    return trimmed(*text);
}

std::optional<double> read_celsius(const RootFs& root, const std::string& rel) {
    auto text = root.read_sys(rel, k_small_file);
    if (!text) return std::nullopt;
    return parse_millidegrees(*text);
}

struct Chip {
    std::string dir;   // "hwmon3"
    std::string name;  // its name file
};

void add_hwmon_chip(const RootFs& root, const Chip& chip, const std::string& label_chip, SensorDiscovery& out) {
    const std::string base = fmt::format("{}/{}", k_hwmon_dir, chip.dir);
    std::string problem;
    const auto files = list_or_empty(root, base, problem);
    if (!problem.empty() && out.problem.empty()) out.problem = problem;
    std::set<std::string> labels_seen;
    for (const auto& file : files) {
        if (!file.starts_with("temp") || !file.ends_with("_input")) continue;
        const std::string stem = file.substr(0, file.size() - std::string_view("_input").size());  // "temp1"
        TempSensor s;
        s.chip = label_chip;
        s.input = fmt::format("{}/{}", base, file);
        auto label = read_text(root, fmt::format("{}/{}_label", base, stem));
        s.sensor = label && !label->empty() ? *label : stem;
        // Two sensors of one chip with the same label (it happens) stay apart.
        if (!labels_seen.insert(s.sensor).second) s.sensor = fmt::format("{} ({})", s.sensor, stem);
        s.critical_celsius = read_celsius(root, fmt::format("{}/{}_crit", base, stem));
        out.sensors.push_back(std::move(s));
    }
}

void add_thermal_zone(const RootFs& root, const std::string& zone, const std::set<std::string>& hwmon_names,
                      SensorDiscovery& out) {
    const std::string base = fmt::format("{}/{}", k_thermal_dir, zone);
    const auto type = read_text(root, base + "/type");
    if (type && hwmon_names.contains(*type)) return;
    TempSensor s;
    s.chip = zone;
    s.sensor = type && !type->empty() ? *type : zone;
    s.input = base + "/temp";
    // The "critical" trip point is where the kernel shuts the machine down.
    std::string problem;
    for (const auto& file : list_or_empty(root, base, problem)) {
        if (!file.starts_with("trip_point_") || !file.ends_with("_type")) continue;
        const auto trip_type = read_text(root, fmt::format("{}/{}", base, file));
        if (!trip_type || *trip_type != "critical") continue;
        const std::string temp_file = file.substr(0, file.size() - std::string_view("_type").size()) + "_temp";
        s.critical_celsius = read_celsius(root, fmt::format("{}/{}", base, temp_file));
        break;
    }
    out.sensors.push_back(std::move(s));
}

}  // namespace

std::optional<double> parse_millidegrees(std::string_view text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
    const auto milli = parse_i64(text);
    if (!milli) return std::nullopt;
    const double celsius = static_cast<double>(*milli) / 1000.0;
    if (celsius < k_min_plausible_celsius || celsius > k_max_plausible_celsius) return std::nullopt;
    return celsius;
}

Result<std::vector<std::string>> list_sensor_dirs(const RootFs& root) {
    std::vector<std::string> out;
    for (const auto dir : {k_hwmon_dir, k_thermal_dir}) {
        auto names = list_dir(root.sys(dir));
        if (!names) {
            if (names.error().kind == ErrorKind::not_found) continue;
            return fail(std::move(names).error());
        }
        for (auto& n : *names) out.push_back(std::move(n));
        out.emplace_back("/");  // separates the two directories
    }
    return out;
}

SensorDiscovery discover_temperature_sensors(const RootFs& root) {
    SensorDiscovery out;
    std::vector<Chip> chips;
    std::map<std::string, int> name_count;
    for (const auto& dir : list_or_empty(root, k_hwmon_dir, out.problem)) {
        auto name = read_text(root, fmt::format("{}/{}/name", k_hwmon_dir, dir));
        if (!name || name->empty()) {
            if (out.problem.empty())
                out.problem = fmt::format("{}: no name file; chip skipped", root.sys(k_hwmon_dir).string() + "/" + dir);
            continue;
        }
        ++name_count[*name];
        chips.push_back({dir, std::move(*name)});
    }
    // Several chips may share a name (two NVMe drives, two sockets): number them in hwmon order.
    std::map<std::string, int> next_index;
    std::set<std::string> hwmon_names;
    for (const auto& chip : chips) {
        hwmon_names.insert(chip.name);
        const std::string label = name_count[chip.name] > 1
                                      ? fmt::format("{}_{}", chip.name, next_index[chip.name]++)
                                      : chip.name;
        add_hwmon_chip(root, chip, label, out);
    }
    for (const auto& dir : list_or_empty(root, k_thermal_dir, out.problem)) {
        if (!dir.starts_with("thermal_zone")) continue;
        add_thermal_zone(root, dir, hwmon_names, out);
    }
    return out;
}

}  // namespace boxmon::collector::kernel
