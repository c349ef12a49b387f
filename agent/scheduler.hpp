#pragma once
// Tick scheduling as pure functions: ticks land on wall-clock multiples of the interval
// (12:03:00, 12:04:00 ...), the wait is measured on the monotonic clock, and a wall clock that
// steps backwards never produces a timestamp at or before the previous one.

#include <chrono>
#include <optional>

#include "core/clock.hpp"

namespace boxmon::agent {

struct NextTick {
    WallTime boundary;  // the aligned wall time the tick will carry
    Nanos delay;        // how long to wait from now (0 when the boundary is now)
};

// The next interval boundary strictly after `now` (or `now` itself when it is exactly on one
// and `allow_now`), and the wait until it.
NextTick next_tick(WallTime now, std::chrono::milliseconds interval, bool allow_now = false);

// Hands out tick timestamps: normally the aligned boundary; when the wall clock stepped back,
// the previous timestamp plus one interval, so timestamps never repeat or go backwards (until
// the wall clock catches up). Also measures the gap since the previous tick on boot time.
class TickStamper {
public:
    explicit TickStamper(std::chrono::milliseconds interval) : m_interval(interval) {}

    struct Stamp {
        WallTime ts;
        bool held = false;                       // the wall clock is behind the last stamp
        std::optional<Nanos> wall_step;          // set once when a backwards step is first seen
        // Set when the wall clock advanced more than two intervals further than boot time since
        // the previous tick (a forward step, not a suspend: boot time counts a suspend).
        std::optional<Nanos> wall_jump;
        std::optional<Nanos> gap;                // boot time since the previous tick, if any
    };

    // Restores the last timestamp (from the store) so a restart continues the sequence.
    void resume_after(WallTime last_ts) { m_last = last_ts; }
    Stamp stamp(WallTime boundary, Nanos boottime);
    void set_interval(std::chrono::milliseconds interval) { m_interval = interval; }

private:
    std::chrono::milliseconds m_interval;
    std::optional<WallTime> m_last;
    std::optional<Nanos> m_last_boottime;
    bool m_holding = false;
};

}  // namespace boxmon::agent
