// Apple Silicon GPUs are read through IOKit on macOS only (collector/darwin/gpu_apple.cpp, which
// CMake builds only there; its pure part, collector/gpu/apple_stats.cpp, builds everywhere).
// On Linux the collector does not exist: the factory returns none, so the set skips it and no
// sample carries a "not supported" error for hardware this platform cannot have.
#include "collector/registry.hpp"

namespace boxmon::collector {
std::unique_ptr<Collector> make_gpu_apple_collector(const Config&) { return nullptr; }
}  // namespace boxmon::collector
