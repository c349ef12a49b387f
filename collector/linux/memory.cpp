// Placeholder: the memory collector is written in the foundation issue.
#include "collector/registry.hpp"
#include "collector/unsupported.hpp"

namespace boxmon::collector {
std::unique_ptr<Collector> make_memory_collector(const Config&) { return make_unsupported("memory"); }
}  // namespace boxmon::collector
