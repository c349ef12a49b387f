#pragma once
// The collector interface: one collector per metric group, each behind this small interface,
// built from the registry table (registry.hpp) and run under a guard by CollectorSet.

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "collector/rates.hpp"
#include "core/config.hpp"
#include "core/fs.hpp"
#include "core/result.hpp"
#include "core/sample.hpp"

namespace boxmon::collector {

// What one collector learns during a pass that a later one (in registry order) uses.
struct PassFacts {
    // GPU memory held per process (PID -> bytes, summed over GPUs), filled by the GPU
    // collectors before the services collector runs; absent when none could list processes.
    std::optional<std::unordered_map<std::uint32_t, std::uint64_t>> gpu_memory_by_pid;
    // The AMD collector found an amdgpu card: the services collector reads its processes' VRAM
    // from their DRM fdinfo (amdgpu_vram_of in collector/gpu/amd.hpp).
    bool amd_gpus = false;
};

// What a collector sees during one tick.
struct CollectContext {
    const RootFs& root;     // where /proc and /sys are (fixture trees in tests)
    const Config& config;
    Instant now;            // when this collection started
    RateTracker& rates;     // counters -> per-second rates; state that spans ticks
    PassFacts* facts = nullptr;  // shared by the collectors of one pass; null outside a pass
};

class Collector {
public:
    virtual ~Collector() = default;
    // The registry name ("cpu", "network" ...).
    virtual std::string_view name() const = 0;
    // Adds this collector's points to `out`. Partial results are normal (one broken device does
    // not hide the others); fails only when the whole source is unusable, with the path and why.
    virtual Result<void> collect(CollectContext& ctx, Sample& out) = 0;
};

}  // namespace boxmon::collector
