// macOS has none of the Linux host collectors yet (they read /proc and /sys through RootFs), nor
// the services collector (it finds processes in /proc and opens sockets with Linux-only flags):
// each factory returns a collector that reports "<name>: not supported on this platform"
// (STYLE rule 5), so `status` says so instead of showing nothing.
// UNTESTED: no macOS machine has built this file; see docs/ARCHITECTURE.md, "macOS".

#include "collector/registry.hpp"
#include "collector/unsupported.hpp"

namespace boxmon::collector {

std::unique_ptr<Collector> make_cpu_collector(const Config&) { return make_unsupported("cpu"); }
std::unique_ptr<Collector> make_memory_collector(const Config&) { return make_unsupported("memory"); }
std::unique_ptr<Collector> make_pressure_collector(const Config&) { return make_unsupported("pressure"); }
std::unique_ptr<Collector> make_load_collector(const Config&) { return make_unsupported("load"); }
std::unique_ptr<Collector> make_network_collector(const Config&) { return make_unsupported("network"); }
std::unique_ptr<Collector> make_filesystem_collector(const Config&) { return make_unsupported("filesystem"); }
std::unique_ptr<Collector> make_diskio_collector(const Config&) { return make_unsupported("diskio"); }
std::unique_ptr<Collector> make_temperature_collector(const Config&) { return make_unsupported("temperature"); }
std::unique_ptr<Collector> make_uptime_collector(const Config&) { return make_unsupported("uptime"); }
std::unique_ptr<Collector> make_services_collector(const Config&) { return make_unsupported("services"); }

}  // namespace boxmon::collector
