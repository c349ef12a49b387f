// Placeholder until its issue lands.
#include "collector/registry.hpp"
#include "collector/unsupported.hpp"

namespace boxmon::collector {
std::unique_ptr<Collector> make_gpu_amd_collector(const Config&) { return make_unsupported("gpu_amd"); }
}  // namespace boxmon::collector
