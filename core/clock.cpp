#include "core/clock.hpp"

#include <ctime>
#include <sstream>

#include <date/date.h>

namespace boxmon {

namespace {

Nanos read_clock(clockid_t id) {
    timespec ts{};
    ::clock_gettime(id, &ts);
    return Seconds{ts.tv_sec} + Nanos{ts.tv_nsec};
}

}  // namespace

WallTime SystemClock::wall() const {
    return std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now());
}

Nanos SystemClock::monotonic() const { return read_clock(CLOCK_MONOTONIC); }

Nanos SystemClock::boottime() const {
#ifdef CLOCK_BOOTTIME
    return read_clock(CLOCK_BOOTTIME);
#else
    // macOS: CLOCK_MONOTONIC counts through sleep there, which is what boot time means here.
    return read_clock(CLOCK_MONOTONIC);
#endif
}

const SystemClock& SystemClock::instance() {
    static const SystemClock clock;
    return clock;
}

FakeClock::FakeClock(WallTime wall, Nanos monotonic, Nanos boottime)
    : m_wall(wall), m_monotonic(monotonic), m_boottime(boottime) {}

WallTime FakeClock::wall() const {
    std::lock_guard lock(m_mutex);
    return m_wall;
}
Nanos FakeClock::monotonic() const {
    std::lock_guard lock(m_mutex);
    return m_monotonic;
}
Nanos FakeClock::boottime() const {
    std::lock_guard lock(m_mutex);
    return m_boottime;
}
Instant FakeClock::now() const {
    std::lock_guard lock(m_mutex);
    return Instant{m_wall, m_monotonic, m_boottime};
}
void FakeClock::advance(Nanos d) {
    std::lock_guard lock(m_mutex);
    m_wall += std::chrono::duration_cast<Millis>(d);
    m_monotonic += d;
    m_boottime += d;
}
void FakeClock::step_wall(Nanos d) {
    std::lock_guard lock(m_mutex);
    m_wall += std::chrono::duration_cast<Millis>(d);
}
void FakeClock::suspend(Nanos d) {
    std::lock_guard lock(m_mutex);
    m_wall += std::chrono::duration_cast<Millis>(d);
    m_boottime += d;
}
void FakeClock::set_wall(WallTime t) {
    std::lock_guard lock(m_mutex);
    m_wall = t;
}

std::string format_iso8601(WallTime t) {
    return date::format("%FT%TZ", std::chrono::floor<Seconds>(t));
}

std::string format_iso8601_ms(WallTime t) { return date::format("%FT%TZ", t); }

// date::parse trips a false -Wmaybe-uninitialized in g++ 12 (inside date.h, at -O2).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
Result<WallTime> parse_iso8601(std::string_view text) {
    std::string s(text);
    for (const char* fmt : {"%FT%T%Ez", "%FT%TZ", "%F %T%Ez", "%F %TZ", "%FT%T", "%F %T"}) {
        std::istringstream in(s);
        date::sys_time<Millis> t;
        in >> date::parse(fmt, t);
        if (!in.fail() && in.peek() == std::char_traits<char>::eof()) return t;
    }
    return fail_as(ErrorKind::usage,
                   "invalid time \"{}\"; expected ISO 8601 UTC such as 2026-11-23T12:03:00Z",
                   text);
}
#pragma GCC diagnostic pop

std::string format_local(WallTime t, const char* format) {
    // The C library's zone: $TZ when set, else /etc/localtime, as date(1) and the logs show
    // it. An unknown zone reads as UTC rather than failing the text it goes into.
    const std::time_t seconds = static_cast<std::time_t>(to_unix_seconds(t));
    std::tm tm{};
    ::tzset();
    if (::localtime_r(&seconds, &tm) == nullptr) ::gmtime_r(&seconds, &tm);
    char buf[256];
    const std::size_t n = std::strftime(buf, sizeof buf, format, &tm);
    return std::string(buf, n);
}

}  // namespace boxmon
