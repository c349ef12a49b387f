// Benchmarks of the Linux /proc parsers (part A) on realistic input, temperature discovery on
// the GPU server fixture, and one full collection pass of every registry collector against the
// live /proc and /sys (target: <= 300 us CPU, no heap growth across passes).

#include <benchmark/benchmark.h>
#include <malloc.h>

#include <fstream>
#include <iterator>
#include <map>
#include <string>

#include "collector/collector_set.hpp"
#include "collector/linux/hwmon.hpp"
#include "collector/linux/parse_proc.hpp"
#include "core/clock.hpp"

namespace {

using namespace boxmon;
using namespace boxmon::collector;

std::string fixture(const std::string& rel) {
    std::ifstream in(std::string(BOXMON_FIXTURES_DIR) + "/linux/" + rel, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void BM_parse_proc_stat_2cpu(benchmark::State& state) {
    const std::string text = fixture("vm-debian12/t0/proc/stat");
    kernel::ProcStat out;
    for (auto _ : state) {
        auto r = kernel::parse_proc_stat(text, out);
        benchmark::DoNotOptimize(r);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_parse_proc_stat_2cpu);

void BM_parse_proc_stat_96cpu(benchmark::State& state) {
    const std::string text = fixture("gpu-server-96c/t0/proc/stat");
    kernel::ProcStat out;
    for (auto _ : state) {
        auto r = kernel::parse_proc_stat(text, out);
        benchmark::DoNotOptimize(r);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_parse_proc_stat_96cpu);

void BM_parse_meminfo(benchmark::State& state) {
    const std::string text = fixture("vm-debian12/t0/proc/meminfo");
    for (auto _ : state) benchmark::DoNotOptimize(kernel::parse_meminfo(text));
}
BENCHMARK(BM_parse_meminfo);

void BM_parse_pressure(benchmark::State& state) {
    const std::string text = fixture("gpu-server-96c/t0/proc/pressure/io");
    for (auto _ : state) benchmark::DoNotOptimize(kernel::parse_pressure(text));
}
BENCHMARK(BM_parse_pressure);

void BM_parse_loadavg(benchmark::State& state) {
    const std::string text = fixture("vm-debian12/t0/proc/loadavg");
    for (auto _ : state) benchmark::DoNotOptimize(kernel::parse_loadavg(text));
}
BENCHMARK(BM_parse_loadavg);

void BM_parse_uptime(benchmark::State& state) {
    const std::string text = fixture("vm-debian12/t0/proc/uptime");
    for (auto _ : state) benchmark::DoNotOptimize(kernel::parse_uptime(text));
}
BENCHMARK(BM_parse_uptime);

void BM_discover_sensors_gpu_server(benchmark::State& state) {
    const std::string dir = std::string(BOXMON_FIXTURES_DIR) + "/linux/gpu-server-96c/t0";
    const RootFs root(dir + "/proc", dir + "/sys");
    for (auto _ : state) benchmark::DoNotOptimize(kernel::discover_temperature_sensors(root));
}
BENCHMARK(BM_discover_sensors_gpu_server);

// One pass of every enabled registry collector on this host, the counters of the previous pass
// carried over as the agent does. heap_growth_bytes: heap in use after the last pass minus after
// the warm-up pass (0 or noise means no growth across passes); us_<name>: each collector's
// wall time per pass, as CollectorSet measures it.
void BM_full_pass_live(benchmark::State& state) {
    Config config;
    CollectorSet set(config);
    const RootFs root;
    const auto& clock = SystemClock::instance();
    Instant start = clock.now();
    auto pass = set.collect(root, start, start.wall, nullptr);
    CounterSnapshot previous = std::move(pass.counters);
    start.boottime += std::chrono::seconds(60);
    start.wall += std::chrono::seconds(60);
    pass = set.collect(root, start, start.wall, &previous);  // warm-up: sensors discovered, buffers sized
    previous = std::move(pass.counters);
    const auto heap_before = mallinfo2().uordblks;
    std::size_t points = 0;
    std::map<std::string, double> wall_us;  // per collector, summed over the iterations
    Instant now = start;
    for (auto _ : state) {
        // Passes here are microseconds apart, which RateTracker rightly refuses to turn into rates;
        // boot time steps by one default interval so every pass computes its rates and percentages.
        now.boottime += std::chrono::seconds(60);
        now.wall += std::chrono::seconds(60);
        auto p = set.collect(root, now, now.wall, &previous);
        points = p.sample.points.size();
        for (const auto& c : p.sample.collectors) wall_us[c.name] += static_cast<double>(c.duration.count());
        previous = std::move(p.counters);
        benchmark::DoNotOptimize(p);
    }
    const auto heap_after = mallinfo2().uordblks;
    for (const auto& [name, us] : wall_us)
        state.counters["us_" + name] = us / static_cast<double>(state.iterations());
    state.counters["points"] = static_cast<double>(points);
    state.counters["heap_growth_bytes"] = static_cast<double>(heap_after) - static_cast<double>(heap_before);
}
BENCHMARK(BM_full_pass_live)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
