#pragma once
// Internal to core: the built-in rules that reproduce the operator's plan.

#include <vector>

#include "core/config.hpp"

namespace boxmon::detail {

// cpu_percent, mem_used_percent, disk_used_percent (each mount) above 90, and network above
// 800 Mbit/s either way, each for `for` samples with the default cooldown.
std::vector<RuleConfig> builtin_rules(const RuleDefaultsConfig& defaults);

}  // namespace boxmon::detail
