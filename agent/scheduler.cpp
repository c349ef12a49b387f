#include "agent/scheduler.hpp"

namespace boxmon::agent {

NextTick next_tick(WallTime now, std::chrono::milliseconds interval, bool allow_now) {
    const auto ms = now.time_since_epoch().count();
    const auto step = interval.count();
    auto boundary = (ms / step) * step;
    if (boundary < ms || (boundary == ms && !allow_now)) boundary += step;
    const WallTime b{std::chrono::milliseconds(boundary)};
    return {b, std::chrono::duration_cast<Nanos>(b - now)};
}

TickStamper::Stamp TickStamper::stamp(WallTime boundary, Nanos boottime) {
    Stamp s;
    s.ts = boundary;
    if (m_last && boundary <= *m_last) {
        s.ts = *m_last + m_interval;
        s.held = true;
        if (!m_holding) s.wall_step = boundary - *m_last - m_interval;
        m_holding = true;
    } else {
        m_holding = false;
        if (m_last && m_last_boottime) {
            const Nanos wall = std::chrono::duration_cast<Nanos>(boundary - *m_last);
            const Nanos boot = boottime - *m_last_boottime;
            if (wall - boot > 2 * std::chrono::duration_cast<Nanos>(m_interval)) s.wall_jump = wall - boot;
        }
    }
    if (m_last_boottime) s.gap = boottime - *m_last_boottime;
    m_last = s.ts;
    m_last_boottime = boottime;
    return s;
}

}  // namespace boxmon::agent
