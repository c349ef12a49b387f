#pragma once
// The registry table: every collector this build knows, in order, with its factory. No
// self-registering statics (STYLE rule 2); the same table feeds `config show` and docs/METRICS.md.

#include <memory>
#include <span>
#include <string_view>

#include "collector/collector.hpp"

namespace boxmon::collector {

struct RegistryEntry {
    std::string_view name;         // the key in [collectors] disable = [...]
    std::string_view description;  // one line for docs and --help
    bool enabled_by_default;
    std::unique_ptr<Collector> (*make)(const Config& config);
};

// All collectors of this platform, in the order they run.
std::span<const RegistryEntry> registry();

// Factories, one per collector; each platform folder (linux/, darwin/) defines them, a
// platform without the feature returns a collector that reports "unsupported".
std::unique_ptr<Collector> make_cpu_collector(const Config& config);
std::unique_ptr<Collector> make_memory_collector(const Config& config);
std::unique_ptr<Collector> make_pressure_collector(const Config& config);
std::unique_ptr<Collector> make_load_collector(const Config& config);
std::unique_ptr<Collector> make_network_collector(const Config& config);
std::unique_ptr<Collector> make_filesystem_collector(const Config& config);
std::unique_ptr<Collector> make_diskio_collector(const Config& config);
std::unique_ptr<Collector> make_temperature_collector(const Config& config);
std::unique_ptr<Collector> make_uptime_collector(const Config& config);
std::unique_ptr<Collector> make_gpu_nvidia_collector(const Config& config);
std::unique_ptr<Collector> make_gpu_amd_collector(const Config& config);
std::unique_ptr<Collector> make_gpu_apple_collector(const Config& config);
std::unique_ptr<Collector> make_services_collector(const Config& config);

}  // namespace boxmon::collector
