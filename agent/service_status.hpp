#pragma once
// The services section of `boxmon status`: each configured service's state (up or down, since
// when), what its processes use and how its checks answer, read from the stored samples.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/result.hpp"
#include "core/service_state.hpp"
#include "store/store.hpp"

namespace boxmon::agent {

// The time `history`'s last value began: the first point of the final run of equal values, and
// whether that run reaches back to the first point read. nullopt for an empty history.
std::optional<std::pair<WallTime, bool>> value_since(const std::vector<store::HistoryPoint>& history);

// Each configured service's state at the tick `last`, looking back at most `lookback` for the
// change of service_up. Fails only when the store cannot be read.
Result<std::vector<ServiceState>> read_service_states(const Config& config, store::Store& db, WallTime last,
                                                      std::chrono::milliseconds lookback);

// Text lines for `boxmon status` ("" when no service is configured).
std::string render_service_states(const std::vector<ServiceState>& services, WallTime now);

// [{"name", "up", "since", "since_at_least", "processes", ..., "checks": [...]}]; absent values
// are null.
nlohmann::json service_states_to_json(const std::vector<ServiceState>& services);

}  // namespace boxmon::agent
