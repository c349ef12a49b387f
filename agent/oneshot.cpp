#include "agent/oneshot.hpp"

#include <spdlog/spdlog.h>

#include "agent/heartbeat.hpp"
#include "agent/lock.hpp"

namespace boxmon::agent {

WallTime one_shot_stamp(WallTime wall, std::chrono::milliseconds interval) {
    const auto step = std::max<std::int64_t>(interval.count(), 1);
    const auto ms = wall.time_since_epoch().count();
    const auto down = ms - (((ms % step) + step) % step);
    const auto nearest = (ms - down) * 2 >= step ? down + step : down;
    return WallTime(std::chrono::milliseconds(nearest));
}

Result<OneShotResult> run_one_shot(const Config& config, const OneShotOptions& options) {
    OneShotResult result;
    auto lock = InstanceLock::acquire(config.general.state_dir, "sample");
    if (!lock) {
        if (lock.error().kind != ErrorKind::busy) return fail(std::move(lock).error());
        // The daemon (or another sample) owns this state directory and is sampling it already:
        // a timer left enabled beside the daemon is harmless.
        result.skipped = true;
        result.skip_reason = lock.error().message;
        return result;
    }
    const Clock& clock = options.clock ? *options.clock : SystemClock::instance();
    BOXMON_TRY(pipeline, Pipeline::open(config, PipelineOptions{options.root, &clock, true}));

    const Instant now = clock.now();
    const auto interval = config.general.interval;
    const WallTime ts = one_shot_stamp(now.wall, interval);
    const auto last = pipeline->last_tick();
    if (last && ts <= *last) {
        result.skipped = true;
        result.skip_reason = fmt::format("the sample for {} is already stored (the last one is {})",
                                         format_iso8601(ts), format_iso8601(*last));
        return result;
    }
    bool gap = false;
    if (last) gap = (ts - *last) > 2 * interval;
    if (pipeline->counters_from_other_boot(collector::read_boot_id(options.root))) gap = true;

    Heartbeat heartbeat(config.heartbeat);
    result.outcome = pipeline->tick(ts, now, gap);
    if (result.outcome.stored) heartbeat.beat();
    // Alerts go out even when the tick could not be stored (they are then sent from memory).
    const auto budget = std::chrono::duration_cast<std::chrono::milliseconds>(config.alerting.sample_budget);
    if (budget.count() > 0) result.delivery = pipeline->dispatcher().run_for(budget);
    // The heartbeat went out beside the deliveries; it has its own bound.
    heartbeat.stop(config.heartbeat.timeout);
    if (!result.outcome.stored)
        return fail("the sample was taken but cannot be stored: {}", result.outcome.store_error);
    return result;
}

}  // namespace boxmon::agent
