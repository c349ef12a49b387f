#pragma once
// `boxmon sample`: one tick for timers, through the same pipeline as the daemon. Counters, rule
// states and the outbox live in the database, so a series of one-shot samples computes the same
// rates, opens the same incidents and sends the same alerts as the daemon would.

#include <string>

#include "agent/pipeline.hpp"

namespace boxmon::agent {

struct OneShotOptions {
    RootFs root;
    const Clock* clock = nullptr;  // null: the system clock
};

struct OneShotResult {
    bool skipped = false;   // nothing was sampled (the daemon owns the state, or the slot is done)
    std::string skip_reason;
    TickOutcome outcome;
    alerting::DispatchSummary delivery;
};

// The tick timestamp of a one-shot sample taken at `wall`: the nearest interval boundary, so a
// timer firing a little late or early still lands on its minute.
WallTime one_shot_stamp(WallTime wall, std::chrono::milliseconds interval);

Result<OneShotResult> run_one_shot(const Config& config, const OneShotOptions& options);

}  // namespace boxmon::agent
