#pragma once
// Generates history for the store benchmarks: the default series set (~60 series) at a 60 s
// interval, written through Store::commit_tick with a maintenance step after each tick as the
// daemon does (synchronous=OFF), and hourly/5-minute rollups further back written directly, as
// retention would have left them.

#include <filesystem>
#include <vector>

#include "core/sample.hpp"
#include "store/store.hpp"

namespace boxmon::bench {

// The series a default install on a 2-CPU machine with 3 mounts, 2 disks and 2 interfaces records.
std::vector<SeriesKey> default_series();

// One tick of the default set at `ts`; values wander smoothly from tick to tick (index i).
store::TickWrite default_tick(WallTime ts, std::int64_t i);

// Writes `raw_days` of 60 s ticks ending at `end` through the store, then `rollup_days` of
// hourly rollups (and at most 150 days of 5-minute ones, the default retention) before them,
// directly. Returns the store's error, if any.
Result<void> generate_history(const std::filesystem::path& db, WallTime end, int raw_days,
                              int rollup_days);

}  // namespace boxmon::bench
