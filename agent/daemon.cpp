#include "agent/daemon.hpp"

#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <memory>

#include <spdlog/spdlog.h>

#include "agent/lock.hpp"
#include "agent/notify.hpp"
#include "agent/pipeline.hpp"
#include "agent/publishers.hpp"
#include "agent/render.hpp"
#include "agent/scheduler.hpp"

namespace boxmon::agent {

namespace {

sigset_t daemon_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    return set;
}

// Waits up to `delay` for one of the daemon's signals; returns the signal or 0 on timeout.
int wait_for_signal(const sigset_t& set, Nanos delay) {
    if (delay < Nanos::zero()) delay = Nanos::zero();
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(delay);
    timespec ts{static_cast<time_t>(secs.count()), static_cast<long>((delay - secs).count())};
    while (true) {
        const int sig = ::sigtimedwait(&set, nullptr, &ts);
        if (sig >= 0) return sig;
        if (errno == EAGAIN) return 0;
        if (errno != EINTR) return 0;
    }
}

// How long an attempt in flight may finish at shutdown; the rest of the 2 s budget is the
// final flush.
constexpr auto k_shutdown_grace = std::chrono::milliseconds(1000);

}  // namespace

Result<int> run_daemon(Config config, DaemonOptions options) {
    // The signals are handled synchronously by this thread; every thread started later inherits
    // the mask, so none of them is interrupted.
    const sigset_t signals = daemon_signals();
    ::pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    BOXMON_TRY(lock, InstanceLock::acquire(config.general.state_dir, "run"));
    const Clock& clock = options.clock ? *options.clock : SystemClock::instance();
    BOXMON_TRY(pipeline, Pipeline::open(config, PipelineOptions{options.root, &clock, false}));
    pipeline->dispatcher().start();
    // The /metrics endpoint and the heartbeat (their own threads; they inherit the signal mask).
    BOXMON_TRY(publishers, Publishers::start(pipeline->config()));
    publishers->publish_state(*pipeline);

    auto interval = pipeline->config().general.interval;
    TickStamper stamper(interval);
    if (auto last = pipeline->last_tick()) stamper.resume_after(*last);
    bool first = true;
    long ticks = 0;
    spdlog::info("boxmon running: interval {}s, database {}",
                 std::chrono::duration<double>(interval).count(), pipeline->store().path().string());
    notify_ready();

    while (!options.max_ticks || ticks < *options.max_ticks) {
        const auto next = next_tick(clock.wall(), interval);
        const int sig = wait_for_signal(signals, next.delay);
        if (sig == SIGTERM || sig == SIGINT) {
            spdlog::info("received {}; exiting", sig == SIGTERM ? "SIGTERM" : "SIGINT");
            notify_stopping();
            publishers->stop(std::chrono::milliseconds(0));
            pipeline->dispatcher().stop(k_shutdown_grace);
            return 0;
        }
        if (sig == SIGHUP) {
            notify_reloading();
            auto loaded = options.reload ? options.reload() : fail("no configuration source to reload");
            if (!loaded) {
                spdlog::error("SIGHUP: the new configuration is invalid; keeping the current one:\n{}",
                              loaded.error().message);
                notify_ready();
                continue;
            }
            for (const auto& w : loaded->warnings) spdlog::warn("{}", w);
            loaded->config.general.state_dir = pipeline->config().general.state_dir;
            pipeline->dispatcher().stop(k_shutdown_grace);
            auto fresh = Pipeline::open(loaded->config, PipelineOptions{options.root, &clock, false});
            if (!fresh) {
                spdlog::error("SIGHUP: cannot start with the new configuration ({}); keeping the current one",
                              fresh.error().message);
                pipeline->dispatcher().start();
                notify_ready();
                continue;
            }
            pipeline = std::move(*fresh);
            pipeline->dispatcher().start();
            publishers->reload(pipeline->config(), *pipeline);
            interval = pipeline->config().general.interval;
            stamper.set_interval(interval);
            spdlog::info("SIGHUP: configuration reloaded");
            notify_ready();
            continue;
        }
        const Instant now = clock.now();
        const auto stamp = stamper.stamp(next.boundary, now.boottime);
        if (stamp.wall_step)
            spdlog::warn("system clock moved back by {:.0f} s; tick timestamps are held after the last one "
                         "until it catches up",
                         -std::chrono::duration<double>(*stamp.wall_step).count());
        if (stamp.wall_jump)
            spdlog::warn("system clock jumped forward by {:.0f} s since the previous tick (boot time says {:.0f} s "
                         "passed); samples keep wall-clock timestamps, gaps, rates and cooldowns use boot time",
                         std::chrono::duration<double>(*stamp.wall_jump).count(),
                         std::chrono::duration<double>(*stamp.gap).count());
        // A gap: more than two intervals since the previous tick, on boot time while running
        // (a suspend), on wall time across a restart.
        bool gap = false;
        const auto limit = 2 * std::chrono::duration_cast<Nanos>(interval);
        if (stamp.gap) gap = *stamp.gap > limit;
        else if (first && pipeline->last_tick())
            gap = std::chrono::duration_cast<Nanos>(stamp.ts - *pipeline->last_tick()) > limit;
        if (gap) spdlog::info("no sample for more than two intervals before {}; recorded as a gap",
                              format_iso8601(stamp.ts));
        first = false;
        auto outcome = pipeline->tick(stamp.ts, now, gap);
        ++ticks;
        // At debug level only: what the crash tests compare with the database afterwards.
        if (outcome.stored)
            spdlog::debug("tick {} committed in {} us", to_unix_ms(stamp.ts),
                          std::chrono::duration_cast<std::chrono::microseconds>(outcome.duration).count());
        publishers->after_tick(*pipeline, outcome);
        notify_watchdog();
        if (options.print_samples) {
            std::fputs(render_sample_table(outcome.sample).c_str(), stdout);
            std::fflush(stdout);
        }
    }
    publishers->stop(k_shutdown_grace);
    pipeline->dispatcher().stop(k_shutdown_grace);
    return 0;
}

}  // namespace boxmon::agent
