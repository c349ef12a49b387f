#pragma once
// Internal to rules/: the persisted state of one (rule, series) pair and its JSON form
// (RuleStateRecord::state). Only what changes the engine's future decisions is kept, so a
// restored engine decides exactly as an uninterrupted one would.

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/incident.hpp"
#include "core/result.hpp"

namespace boxmon::rules::detail {

// One instant on both clocks: boot time measures elapsed time within one boot, wall time
// across boots (boot time restarts at zero after a reboot).
struct Stamp {
    std::int64_t wall_ms = 0;
    std::int64_t boot_ns = 0;
    std::string boot_id;
    bool operator==(const Stamp&) const = default;
};

enum class Phase { ok, pending, firing };
std::string_view to_string(Phase p);

// A threshold incident while it is open.
struct OpenIncident {
    std::string id;
    std::int64_t start_ms = 0;
    Severity severity = Severity::warning;
    Severity peak_severity = Severity::warning;
    Severity notified = Severity::ok;  // highest severity notified so far; ok: still silent
    int sequence = 0;                  // notifications sent for it
    double peak = 0;                   // most extreme value (finite: set from breaching values)
    std::optional<Stamp> notified_at;  // the last firing/escalated/reminder (for `repeat`)
    std::optional<Stamp> pushed_at;    // the last of those or a refresh (TickContext::refresh)
    bool operator==(const OpenIncident&) const = default;
};

// An absent-data incident while it is open.
struct OpenAbsence {
    std::string id;
    std::int64_t start_ms = 0;
    int sequence = 0;
    std::optional<Stamp> pushed_at;  // the absent notification or the last refresh
    bool operator==(const OpenAbsence&) const = default;
};

// The last notified resolve: the cooldown runs from it.
struct Cooldown {
    Stamp at;
    Severity severity = Severity::warning;  // peak severity of the resolved incident
    bool operator==(const Cooldown&) const = default;
};

struct PersistedState {
    Phase phase = Phase::ok;
    int streak = 0;  // consecutive breaching samples (pending)
    int good = 0;    // consecutive good samples (firing, recovering)
    std::optional<Stamp> seen;  // the last sample; kept only while a count runs (gaps break it)
    std::optional<OpenIncident> incident;
    std::optional<Cooldown> cooldown;
    int missing = 0;  // consecutive ticks without this series
    std::optional<OpenAbsence> absence;
    bool operator==(const PersistedState&) const = default;

    // Nothing pending, firing, cooling down or missing.
    bool idle() const {
        return phase == Phase::ok && streak == 0 && good == 0 && !seen && !incident && !cooldown &&
               missing == 0 && !absence;
    }
};

// The JSON text stored in RuleStateRecord::state.
std::string to_json(const PersistedState& s);
// Parses to_json's output; fails saying which field is wrong.
Result<PersistedState> from_json(std::string_view text);

}  // namespace boxmon::rules::detail
