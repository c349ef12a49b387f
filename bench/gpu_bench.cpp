// Cost of one GPU collector tick: NVIDIA through the fake libnvidia-ml (so the figure is
// boxmon's own overhead: the hand-off to the NVML worker thread, ~10 NVML calls per GPU,
// averaging 10 new utilisation samples per GPU and building the series; a real driver adds its
// ioctls), for 1, 4 and 8 GPUs; AMD on the RX 6800 fixture tree.

#include <dlfcn.h>

#include <benchmark/benchmark.h>
#include <spdlog/spdlog.h>

#include "collector/gpu/amd.hpp"
#include "collector/registry.hpp"

namespace {

using namespace boxmon;
using namespace boxmon::collector;

template <class Fn>
Fn sym(void* handle, const char* name) {
    return reinterpret_cast<Fn>(dlsym(handle, name));
}

void BM_NvidiaTick(benchmark::State& state) {
    void* fake = dlopen(BOXMON_FAKE_NVML, RTLD_NOW | RTLD_LOCAL);
    if (!fake) {
        state.SkipWithError("cannot load the fake NVML");
        return;
    }
    auto reset = sym<void (*)()>(fake, "fake_nvml_reset");
    auto add_gpu = sym<unsigned (*)(const char*, const char*)>(fake, "fake_nvml_add_gpu");
    auto set_value = sym<void (*)(unsigned, const char*, unsigned long long)>(fake, "fake_nvml_set_value");
    auto add_sample = sym<void (*)(unsigned, unsigned long long, unsigned)>(fake, "fake_nvml_add_sample");
    reset();
    const auto gpus = static_cast<unsigned>(state.range(0));
    for (unsigned i = 0; i < gpus; ++i) {
        const unsigned g = add_gpu("NVIDIA H100 80GB HBM3", ("GPU-" + std::to_string(i)).c_str());
        set_value(g, "util", 50);
        set_value(g, "mem_total", 80ull << 30);
        set_value(g, "mem_used", 20ull << 30);
        set_value(g, "temp", 60);
        set_value(g, "power_mw", 300'000);
        // A minute of the driver's ~6 Hz sampling.
        for (unsigned k = 0; k < 120; ++k) add_sample(g, 1'000'000 + k * 166'000, k % 100);
    }
    Config config;
    config.gpu.nvml_library = BOXMON_FAKE_NVML;
    auto collector = make_gpu_nvidia_collector(config);
    RootFs root;
    std::size_t points = 0;
    unsigned long long ts = 100'000'000;
    for (auto _ : state) {
        // Each tick finds 10 new buffered samples per GPU to average, as a 1 s interval would.
        state.PauseTiming();
        for (unsigned g = 0; g < gpus; ++g)
            for (unsigned k = 0; k < 10; ++k) add_sample(g, ++ts, k * 10);
        state.ResumeTiming();
        RateTracker rates(nullptr, "boot", Nanos{0}, WallTime{}, config.general.interval);
        CollectContext ctx{root, config, Instant{}, rates};
        Sample sample;
        auto r = collector->collect(ctx, sample);
        if (!r) {
            state.SkipWithError(r.error().message.c_str());
            break;
        }
        points = sample.points.size();
        benchmark::DoNotOptimize(sample);
    }
    state.counters["gpus"] = gpus;
    state.counters["points"] = static_cast<double>(points);
    // Wall time per GPU per tick, printed in seconds with an SI prefix ("12.3u" is 12.3 µs).
    state.counters["per_gpu"] = benchmark::Counter(static_cast<double>(gpus) * static_cast<double>(state.iterations()),
                                                   benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    collector.reset();
    dlclose(fake);
}
// Process CPU time: the worker thread does the NVML calls, so thread CPU time would miss them.
BENCHMARK(BM_NvidiaTick)
    ->Arg(1)
    ->Arg(4)
    ->Arg(8)
    ->Unit(benchmark::kMicrosecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();

void BM_AmdTick(benchmark::State& state) {
    const auto base = std::filesystem::path(BOXMON_FIXTURES_DIR) / "gpu" / "amd-rx6800";
    RootFs root(base / "proc", base / "sys");
    Config config;
    auto collector = make_gpu_amd_collector(config);
    for (auto _ : state) {
        RateTracker rates(nullptr, "boot", Nanos{0}, WallTime{}, config.general.interval);
        CollectContext ctx{root, config, Instant{}, rates};
        Sample sample;
        auto r = collector->collect(ctx, sample);
        benchmark::DoNotOptimize(r);
        benchmark::DoNotOptimize(sample);
    }
}
BENCHMARK(BM_AmdTick)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
    spdlog::set_level(spdlog::level::warn);  // no "library loaded" line per run
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
