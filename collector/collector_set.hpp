#pragma once
// CollectorSet: the enabled collectors of a configuration, run one after another under a guard
// each (an exception or error in one never stops the others), timed, and logged once per
// distinct failure.

#include <memory>
#include <string>
#include <vector>

#include "collector/collector.hpp"
#include "core/log.hpp"

namespace boxmon::collector {

// The result of one collection pass.
struct CollectionPass {
    Sample sample;
    CounterSnapshot counters;  // to persist with the sample
};

class CollectorSet {
public:
    // Builds the collectors the configuration enables, in registry order. `config` must outlive
    // the set.
    explicit CollectorSet(const Config& config);
    ~CollectorSet();

    // Runs every collector once. `ts` is the tick's aligned wall time, `previous` the last
    // persisted counters (null if none). Never fails: a failing collector is recorded in
    // sample.collectors with its error, and logged when its error text changes.
    CollectionPass collect(const RootFs& root, const Instant& now, WallTime ts,
                           const CounterSnapshot* previous);

    // Names of the collectors in this set.
    std::vector<std::string> names() const;

private:
    const Config& m_config;
    std::vector<std::unique_ptr<Collector>> m_collectors;
    ChangeFilter m_failures;
};

// Reads the boot id (/proc/sys/kernel/random/boot_id), or "" when unavailable.
std::string read_boot_id(const RootFs& root);

}  // namespace boxmon::collector
