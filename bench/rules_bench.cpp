// Rule engine throughput: 1,000 rules over the default series set per tick (target <= 1 ms),
// and a 30-day backtest of 60 s data with the built-in rules (target <= 1 s).

#include <cmath>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "core/config_load.hpp"
#include "rules/backtest.hpp"
#include "rules/engine.hpp"

namespace {

using namespace boxmon;
using namespace std::chrono_literals;

const WallTime k_t0 = from_unix_seconds(1'795'435'200);

// About 60 series: the headline metrics of a host with 8 mounts, 6 interfaces, 2 GPUs and a
// few extra metrics no rule watches.
Sample default_series(int tick) {
    Sample s;
    s.ts = k_t0 + std::chrono::minutes(tick);
    const double wave = 50 + 45 * std::sin(tick / 40.0);  // crosses 90 now and then
    s.add(SeriesKey("cpu_percent"), wave);
    s.add(SeriesKey("mem_used_percent"), 60 + 0.5 * (tick % 50));
    for (const char* m : {"/", "/home", "/var", "/boot", "/srv", "/data", "/backup", "/tmp2"})
        s.add(SeriesKey("disk_used_percent", {{"mount", m}}), 70 + (tick % 7));
    s.add(SeriesKey("net_rx_bytes_per_second"), 1e6 * (1 + tick % 3));
    s.add(SeriesKey("net_tx_bytes_per_second"), 1e6);
    for (const char* i : {"eth0", "eth1", "wlan0", "docker0", "br0", "tun0"}) {
        s.add(SeriesKey("net_rx_bytes_per_second", {{"iface", i}}), 1e5);
        s.add(SeriesKey("net_tx_bytes_per_second", {{"iface", i}}), 1e5);
    }
    for (const char* g : {"0", "1"}) {
        for (const char* m : {"gpu_util_percent", "gpu_temperature_celsius", "gpu_memory_used_percent",
                              "gpu_power_watts", "gpu_memory_used_bytes"})
            s.add(SeriesKey(m, {{"gpu", g}}), wave);
    }
    for (const char* m : {"load1", "load5", "load15", "cpu_iowait_percent", "cpu_steal_percent",
                          "swap_used_bytes", "mem_available_bytes", "uptime_seconds",
                          "temperature_max_celsius", "memory_pressure_percent"})
        s.add(SeriesKey(m), 1);
    for (const char* m : {"/", "/home", "/var", "/boot", "/srv", "/data", "/backup", "/tmp2"})
        s.add(SeriesKey("disk_inodes_used_percent", {{"mount", m}}), 10);
    for (const char* d : {"sda", "sdb", "nvme0n1"}) {
        s.add(SeriesKey("disk_read_bytes_per_second", {{"device", d}}), 1e6);
        s.add(SeriesKey("disk_write_bytes_per_second", {{"device", d}}), 1e6);
    }
    return s;
}

// 1,000 rules: variations of the built-in and GPU rules, some with matchers.
std::vector<RuleConfig> thousand_rules() {
    const std::vector<RuleConfig> base = default_config().rules;
    std::vector<RuleConfig> rules;
    RuleConfig gpu;
    gpu.metric = "gpu_temperature_celsius";
    gpu.warning = 80;
    gpu.critical = 90;
    for (int i = 0; rules.size() < 1000; ++i) {
        RuleConfig r = i % 6 == 5 ? gpu : base[static_cast<std::size_t>(i % 5) % base.size()];
        r.name = r.metric + "_" + std::to_string(i);
        if (i % 6 == 5 && i % 12 == 11) r.labels = {{"gpu", "1"}};
        r.critical = r.critical.value_or(90) + (i % 10);
        rules.push_back(std::move(r));
    }
    return rules;
}

void BM_thousand_rules_one_tick(benchmark::State& state) {
    rules::Engine engine(thousand_rules());
    // Samples made beforehand (one wave period and more), replayed with increasing times.
    std::vector<Sample> samples;
    for (int i = 0; i < 1000; ++i) samples.push_back(default_series(i));
    rules::TickContext ctx;
    ctx.boot_id = "b";
    int tick = 0;
    std::size_t notifications = 0;
    for (auto _ : state) {
        ctx.ts = k_t0 + std::chrono::minutes(tick);
        ctx.boottime = 1000s + std::chrono::minutes(tick);
        const Sample& s = samples[static_cast<std::size_t>(tick % 1000)];
        ++tick;
        auto ev = engine.evaluate(s, ctx);
        notifications += ev.notifications.size();
        benchmark::DoNotOptimize(ev);
    }
    state.counters["series"] = static_cast<double>(default_series(0).points.size());
    state.counters["notifications"] = static_cast<double>(notifications);
}
BENCHMARK(BM_thousand_rules_one_tick)->Unit(benchmark::kMicrosecond);

// RELIABILITY L2: 2,000 rules over 500 series (services with their own rules, many mounts).
void BM_l2_2000_rules_500_series(benchmark::State& state) {
    std::vector<RuleConfig> rules;
    for (int i = 0; i < 1900; ++i) {
        RuleConfig r;
        r.name = "service_rss_" + std::to_string(i);
        r.metric = "service_rss_bytes";
        r.labels = {{"service", "s" + std::to_string(i % 400)}};
        r.warning = 1e9;
        rules.push_back(std::move(r));
    }
    for (int i = 0; i < 100; ++i) {
        RuleConfig r;
        r.name = "disk_" + std::to_string(i);
        r.metric = "disk_used_percent";
        r.critical = 90 + (i % 10);
        rules.push_back(std::move(r));
    }
    rules::Engine engine(std::move(rules));
    Sample s;
    for (int i = 0; i < 400; ++i)
        s.add(SeriesKey("service_rss_bytes", {{"service", "s" + std::to_string(i)}}), 5e8 + i * 2e6);
    for (int i = 0; i < 100; ++i)
        s.add(SeriesKey("disk_used_percent", {{"mount", "/m" + std::to_string(i)}}), 50 + (i % 45));
    rules::TickContext ctx;
    ctx.boot_id = "b";
    int tick = 0;
    for (auto _ : state) {
        ctx.ts = k_t0 + std::chrono::minutes(tick);
        ctx.boottime = 1000s + std::chrono::minutes(tick);
        ++tick;
        auto ev = engine.evaluate(s, ctx);
        benchmark::DoNotOptimize(ev);
    }
    state.counters["series"] = static_cast<double>(s.points.size());
    state.counters["states"] = static_cast<double>(engine.status(ctx).size());
}
BENCHMARK(BM_l2_2000_rules_500_series)->Unit(benchmark::kMicrosecond);

void BM_backtest_30_days_builtin_rules(benchmark::State& state) {
    const std::vector<RuleConfig> rules = default_config().rules;
    std::vector<rules::BacktestTick> ticks;
    ticks.reserve(43'200);
    for (int i = 0; i < 43'200; ++i) ticks.push_back({default_series(i), false});
    std::size_t incidents = 0;
    for (auto _ : state) {
        auto result = rules::backtest(rules, ticks);
        incidents = result.incidents.size();
        benchmark::DoNotOptimize(result);
    }
    state.counters["ticks"] = 43'200;
    state.counters["series"] = static_cast<double>(ticks[0].sample.points.size());
    state.counters["incidents"] = static_cast<double>(incidents);
}
BENCHMARK(BM_backtest_30_days_builtin_rules)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
