#include "collector/registry.hpp"

namespace boxmon::collector {

namespace {

// The order here is the order collectors run and the order of known_collectors() in core.
constexpr RegistryEntry k_registry[] = {
    {"cpu", "busy, iowait and steal share of all CPUs and of each CPU (/proc/stat)", true, &make_cpu_collector},
    {"memory", "memory and swap in use (/proc/meminfo)", true, &make_memory_collector},
    {"pressure", "share of time stalled on CPU, memory and I/O (/proc/pressure)", true, &make_pressure_collector},
    {"load", "load averages over 1, 5 and 15 minutes (/proc/loadavg)", true, &make_load_collector},
    {"network", "bytes, errors and drops per second per interface and in total (/proc/net/dev)", true,
     &make_network_collector},
    {"filesystem", "space and inodes in use per real mounted filesystem (mountinfo, statfs)", true,
     &make_filesystem_collector},
    {"diskio", "bytes read and written per second per whole disk (/proc/diskstats)", true, &make_diskio_collector},
    {"temperature", "hwmon sensors and thermal zones, and the hottest of them (/sys)", true,
     &make_temperature_collector},
    {"uptime", "seconds since boot (/proc/uptime)", true, &make_uptime_collector},
    {"gpu_nvidia", "NVIDIA GPUs through NVML, loaded at run time", true, &make_gpu_nvidia_collector},
    {"gpu_amd", "AMD GPUs through the amdgpu sysfs files", true, &make_gpu_amd_collector},
    {"gpu_apple", "Apple Silicon GPU through IOKit (macOS only)", true, &make_gpu_apple_collector},
    {"services", "configured services: processes and health checks", true, &make_services_collector},
};

}  // namespace

std::span<const RegistryEntry> registry() { return k_registry; }

}  // namespace boxmon::collector
