// Placeholder: the cpu collector is written in the foundation issue.
#include "collector/registry.hpp"
#include "collector/unsupported.hpp"

namespace boxmon::collector {
std::unique_ptr<Collector> make_cpu_collector(const Config&) { return make_unsupported("cpu"); }
}  // namespace boxmon::collector
