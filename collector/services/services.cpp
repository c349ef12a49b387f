// Placeholder until its issue lands.
#include "collector/registry.hpp"
#include "collector/unsupported.hpp"

namespace boxmon::collector {
std::unique_ptr<Collector> make_services_collector(const Config&) { return make_unsupported("services"); }
}  // namespace boxmon::collector
