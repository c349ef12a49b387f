// Placeholder: the temperature collector is written in the foundation issue.
#include "collector/registry.hpp"
#include "collector/unsupported.hpp"

namespace boxmon::collector {
std::unique_ptr<Collector> make_temperature_collector(const Config&) { return make_unsupported("temperature"); }
}  // namespace boxmon::collector
