#pragma once
// The Prometheus text exposition format (version 0.0.4) of one sample plus boxmon's own health:
// every series as boxmon_<name>{labels} with HELP and TYPE lines, label values escaped. Served by
// `boxmon metrics`, written as a node_exporter textfile after each tick, and (when configured)
// served on /metrics.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/outbox.hpp"
#include "core/sample.hpp"

namespace boxmon::agent {

struct SelfMetrics {
    std::optional<WallTime> last_tick;          // boxmon_last_tick_timestamp_seconds
    std::optional<double> tick_seconds;         // boxmon_tick_duration_seconds
    std::optional<OutboxCounts> outbox;         // boxmon_outbox_pending / _dead
    // Ticks kept in memory because the database refuses them (disk full, read-only, locked,
    // corrupt), and those dropped past the backlog's cap: boxmon_store_backlog_ticks,
    // boxmon_store_dropped_ticks_total (RELIABILITY S1: what `status` cannot see).
    std::optional<std::size_t> store_backlog;
    std::optional<std::uint64_t> store_dropped;
    std::vector<std::pair<std::string, int>> rule_states;  // (phase, count): boxmon_rule_series{phase}
};

// The exposition text; `sample.collectors` become boxmon_collector_up{collector} and
// boxmon_collector_duration_seconds{collector}.
std::string to_exposition(const Sample& sample, const SelfMetrics& self);

}  // namespace boxmon::agent
