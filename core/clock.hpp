#pragma once
// Clock: wall, monotonic and boot time, read through one interface so tests can fake each one
// independently. Monotonic schedules and times out; boot time (which counts suspend) measures
// gaps and rates; wall time only stamps samples (DESIGN §7 invariant 5).

#include <chrono>
#include <mutex>
#include <string>

#include "core/result.hpp"

namespace boxmon {

using WallTime = std::chrono::sys_time<std::chrono::milliseconds>;
using Nanos = std::chrono::nanoseconds;
using Millis = std::chrono::milliseconds;
using Seconds = std::chrono::seconds;

// One reading of all three clocks.
struct Instant {
    WallTime wall{};
    Nanos monotonic{};  // CLOCK_MONOTONIC: stops during suspend
    Nanos boottime{};   // CLOCK_BOOTTIME: keeps counting through suspend
};

class Clock {
public:
    virtual ~Clock() = default;
    virtual WallTime wall() const = 0;
    virtual Nanos monotonic() const = 0;
    virtual Nanos boottime() const = 0;
    // Reads the three clocks together.
    virtual Instant now() const { return Instant{wall(), monotonic(), boottime()}; }
};

// The real clocks of this host.
class SystemClock final : public Clock {
public:
    WallTime wall() const override;
    Nanos monotonic() const override;
    Nanos boottime() const override;
    // The process-wide instance.
    static const SystemClock& instance();
};

// A clock for tests: each of the three moves only when the test says so. Thread-safe.
class FakeClock final : public Clock {
public:
    explicit FakeClock(WallTime wall = WallTime{Seconds{1'700'000'040}},
                       Nanos monotonic = Seconds{1000}, Nanos boottime = Seconds{1000});
    WallTime wall() const override;
    Nanos monotonic() const override;
    Nanos boottime() const override;
    Instant now() const override;

    // Time passes normally: all three clocks move by d.
    void advance(Nanos d);
    // The wall clock is stepped (NTP, an operator) by d; the others do not move.
    void step_wall(Nanos d);
    // The host sleeps for d: wall and boot time move, monotonic does not.
    void suspend(Nanos d);
    void set_wall(WallTime t);

private:
    mutable std::mutex m_mutex;
    WallTime m_wall;
    Nanos m_monotonic;
    Nanos m_boottime;
};

// Formats t as ISO 8601 UTC with seconds: 2026-11-23T12:03:00Z.
std::string format_iso8601(WallTime t);
// Formats t as ISO 8601 UTC with milliseconds: 2026-11-23T12:03:00.250Z.
std::string format_iso8601_ms(WallTime t);
// Parses ISO 8601 UTC ("2026-11-23T12:03:00Z", fractional seconds and "+00:00" accepted).
Result<WallTime> parse_iso8601(std::string_view text);
// Formats t in the host's local time zone ($TZ, else /etc/localtime) with a strftime format
// ("%Y%m%d-%H%M%S"); at most 255 characters.
std::string format_local(WallTime t, const char* format);

// Unix seconds and milliseconds of a wall time, and back.
inline std::int64_t to_unix_ms(WallTime t) { return t.time_since_epoch().count(); }
inline std::int64_t to_unix_seconds(WallTime t) {
    return std::chrono::floor<Seconds>(t).time_since_epoch().count();
}
inline WallTime from_unix_ms(std::int64_t ms) { return WallTime{Millis{ms}}; }
inline WallTime from_unix_seconds(std::int64_t s) { return WallTime{Seconds{s}}; }

}  // namespace boxmon
