#include "agent/daemon.hpp"

#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <memory>

#include <spdlog/spdlog.h>

#include "agent/render.hpp"
#include "agent/scheduler.hpp"
#include "collector/collector_set.hpp"

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

}  // namespace

Result<int> run_daemon(Config config, DaemonOptions options) {
    // The signals are handled synchronously by this thread; every thread started later inherits
    // the mask, so none of them is interrupted.
    const sigset_t signals = daemon_signals();
    ::pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    const auto& clock = SystemClock::instance();
    auto config_ptr = std::make_unique<Config>(std::move(config));
    auto collectors = std::make_unique<collector::CollectorSet>(*config_ptr);
    TickStamper stamper(config_ptr->general.interval);
    std::optional<CounterSnapshot> previous;
    long ticks = 0;
    spdlog::info("boxmon running: interval {}s, collectors: {}",
                 std::chrono::duration<double>(config_ptr->general.interval).count(),
                 fmt::join(collectors->names(), ", "));

    while (!options.max_ticks || ticks < *options.max_ticks) {
        const auto next = next_tick(clock.wall(), config_ptr->general.interval);
        const int sig = wait_for_signal(signals, next.delay);
        if (sig == SIGTERM || sig == SIGINT) {
            spdlog::info("received {}; exiting", sig == SIGTERM ? "SIGTERM" : "SIGINT");
            return 0;
        }
        if (sig == SIGHUP) {
            auto loaded = options.reload ? options.reload() : fail("no configuration source to reload");
            if (!loaded) {
                spdlog::error("SIGHUP: the new configuration is invalid; keeping the current one:\n{}",
                              loaded.error().message);
                continue;
            }
            for (const auto& w : loaded->warnings) spdlog::warn("{}", w);
            auto fresh = std::make_unique<Config>(std::move(loaded->config));
            collectors = std::make_unique<collector::CollectorSet>(*fresh);
            config_ptr = std::move(fresh);
            stamper.set_interval(config_ptr->general.interval);
            spdlog::info("SIGHUP: configuration reloaded");
            continue;
        }
        const Instant now = clock.now();
        const auto stamp = stamper.stamp(next.boundary, now.boottime);
        if (stamp.wall_step)
            spdlog::warn("system clock moved back by {:.0f} s; tick timestamps are held after the last one "
                         "until it catches up",
                         -std::chrono::duration<double>(*stamp.wall_step).count());
        auto pass = collectors->collect(options.root, now, stamp.ts, previous ? &*previous : nullptr);
        previous = std::move(pass.counters);
        ++ticks;
        if (options.print_samples) {
            std::fputs(render_sample_table(pass.sample).c_str(), stdout);
            std::fflush(stdout);
        }
    }
    return 0;
}

}  // namespace boxmon::agent
