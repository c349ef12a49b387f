#pragma once
// The collector interface: one collector per metric group, each behind this small interface,
// built from the registry table (registry.hpp) and run under a guard by CollectorSet.

#include <memory>
#include <string_view>

#include "collector/rates.hpp"
#include "core/config.hpp"
#include "core/fs.hpp"
#include "core/result.hpp"
#include "core/sample.hpp"

namespace boxmon::collector {

// What a collector sees during one tick.
struct CollectContext {
    const RootFs& root;     // where /proc and /sys are (fixture trees in tests)
    const Config& config;
    Instant now;            // when this collection started
    RateTracker& rates;     // counters -> per-second rates; state that spans ticks
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
