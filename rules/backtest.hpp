#pragma once
// Backtest: replays recorded samples through the same Engine the daemon runs and returns every
// incident and notification live evaluation would have produced. Pure: no I/O, no clock.

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "core/config.hpp"
#include "core/incident.hpp"
#include "core/sample.hpp"
#include "rules/engine.hpp"

namespace boxmon::rules {

// One recorded tick: its sample (sample.ts is the tick's time) and whether the tick before it
// is more than 2 intervals back (the store's gap flag).
struct BacktestTick {
    Sample sample;
    bool gap_before = false;
};

// The recorded points of one series, in time order.
struct SeriesHistory {
    SeriesKey key;
    std::vector<std::pair<WallTime, double>> points;
};

struct BacktestOptions {
    std::chrono::milliseconds interval{60000};
    std::string host;
    // States to start from (e.g. those persisted before `since`); empty: every rule starts ok.
    std::vector<RuleStateRecord> initial_states;
};

// A decision with the tick it was taken at.
struct TimedDecision {
    WallTime ts{};
    Decision decision;
};

struct BacktestResult {
    std::vector<Incident> incidents;          // each incident once, as it last stood, by start
    std::vector<Notification> notifications;  // in the order they would have been sent
    std::vector<TimedDecision> decisions;     // every state change with its reason
    std::vector<std::string> errors;          // initial states that did not parse
    std::size_t ticks = 0;
};

// Replays `ticks` (in time order) through an Engine over `rules`. Recorded history has no boot
// time, so the replay measures gaps and cooldowns on the ticks' wall time, which equals boot
// time for a run without clock steps.
BacktestResult backtest(std::vector<RuleConfig> rules, const std::vector<BacktestTick>& ticks,
                        const BacktestOptions& options = {});

// Groups per-series history into ticks: `ticks` are the stored tick timestamps with their gap
// flags (in time order); a point whose timestamp is not a tick's is ignored. Series are added to
// each tick's sample in key order.
std::vector<BacktestTick> group_into_ticks(const std::vector<std::pair<WallTime, bool>>& ticks,
                                           std::vector<SeriesHistory> series);

}  // namespace boxmon::rules
