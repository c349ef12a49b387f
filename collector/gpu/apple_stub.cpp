// Apple Silicon GPUs are read through IOKit on macOS only (collector/darwin/, not built here).
// On Linux the collector does not exist: the factory returns none, so the set skips it and no
// sample carries a "not supported" error for hardware this platform cannot have.
#include "collector/registry.hpp"

namespace boxmon::collector {
std::unique_ptr<Collector> make_gpu_apple_collector(const Config&) { return nullptr; }
}  // namespace boxmon::collector
