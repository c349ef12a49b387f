// Placeholder until its issue lands.
#include "collector/registry.hpp"
#include "collector/unsupported.hpp"

namespace boxmon::collector {
std::unique_ptr<Collector> make_gpu_nvidia_collector(const Config&) { return make_unsupported("gpu_nvidia"); }
}  // namespace boxmon::collector
