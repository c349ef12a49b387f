// A report over 30 days of 60 s data: 43,200 raw points for each of 14 series (the headline
// series, two mounts, two interfaces, one GPU), summarised, sparklined and written as text.
// The budget is 300 ms (issue 6); certificate and command sections are given, not run.
#include <benchmark/benchmark.h>

#include <cmath>

#include "core/clock.hpp"
#include "report/report.hpp"

namespace {

using namespace boxmon;
using namespace boxmon::report;

ReportInput thirty_days() {
    const WallTime now = FakeClock().wall();
    const WallTime start = now - std::chrono::hours(24 * 30);
    constexpr int k_points = 30 * 24 * 60;
    std::vector<SeriesKey> keys = {
        SeriesKey("cpu_percent"),
        SeriesKey("mem_used_percent"),
        SeriesKey("swap_used_percent"),
        SeriesKey("load1"),
        SeriesKey("net_rx_bytes_per_second", {{"iface", "enp3s0"}}),
        SeriesKey("net_rx_bytes_per_second", {{"iface", "wg0"}}),
        SeriesKey("net_tx_bytes_per_second", {{"iface", "enp3s0"}}),
        SeriesKey("net_tx_bytes_per_second", {{"iface", "wg0"}}),
        SeriesKey("disk_used_percent", {{"mount", "/"}}),
        SeriesKey("disk_used_percent", {{"mount", "/srv/models"}}),
        SeriesKey("temperature_max_celsius"),
        SeriesKey("gpu_util_percent", {{"gpu", "0"}}),
        SeriesKey("gpu_memory_used_percent", {{"gpu", "0"}}),
        SeriesKey("gpu_temperature_celsius", {{"gpu", "0"}}),
    };
    std::vector<SeriesHistory> metrics;
    std::uint64_t x = 88172645463325252ull;  // xorshift: noise without <random>'s cost
    for (const auto& key : keys) {
        SeriesHistory h{key, {}};
        h.points.reserve(k_points);
        for (int i = 0; i < k_points; ++i) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            const double v = 50 + 30 * std::sin(i * 2 * M_PI / 1440) + static_cast<double>(x % 1000) / 100;
            h.points.push_back({start + std::chrono::minutes(i), v, v, v, 1});
        }
        metrics.push_back(std::move(h));
    }
    ReportInput in;
    HostFacts facts;
    facts.hostname = "bench-host";
    in.host = facts;
    in.metrics = std::move(metrics);
    in.incidents = IncidentData{};
    in.path_sizes = std::vector<PathSize>{};
    in.services = std::vector<UnitState>{};
    in.logs = std::vector<LogTail>{};
    in.config = std::string("[general]\n");
    return in;
}

void BM_report_30_days_of_60s_data(benchmark::State& state) {
    const ReportInput in = thirty_days();
    FakeClock clock;
    ReportOptions options;
    options.clock = &clock;
    options.since = clock.wall() - std::chrono::hours(24 * 30);
    std::size_t bytes = 0;
    for (auto _ : state) {
        const std::string text = render_text(in, options);
        bytes = text.size();
        benchmark::DoNotOptimize(text.data());
    }
    state.counters["report_bytes"] = static_cast<double>(bytes);
    state.counters["points"] = 14.0 * 30 * 24 * 60;
}
BENCHMARK(BM_report_30_days_of_60s_data)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
