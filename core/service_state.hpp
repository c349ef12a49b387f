#pragma once
// How a configured service stood at the last stored tick, as `boxmon status` and the system
// report show it: up or down since when, what its processes use, and how its checks answer.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"

namespace boxmon {

struct CheckState {
    std::string name;
    std::optional<bool> up;                // absent: the last tick has no point for it
    std::optional<double> latency_seconds;
};

struct ServiceState {
    std::string name;
    std::optional<bool> up;  // absent: the last tick has no point for it (not sampled yet)
    // When service_up took its current value; `since_at_least` when it held that value over all
    // the history read (so the change is older than `since`).
    std::optional<WallTime> since;
    bool since_at_least = false;
    std::optional<double> processes;
    std::optional<double> rss_bytes;
    std::optional<double> cpu_percent;
    std::optional<double> gpu_memory_bytes;
    std::optional<std::uint64_t> memory_limit;  // from the configuration
    std::vector<CheckState> checks;
};

}  // namespace boxmon
