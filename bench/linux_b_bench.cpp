// Benchmarks of the part B parsers on large but realistic input: /proc/net/dev with 50
// interfaces, mountinfo with 200 mounts (a Docker and snap host), diskstats with 64 devices; and
// one network, filesystem and diskio collection pass on the gpu-server-96c fixture tree.

#include <benchmark/benchmark.h>

#include <fmt/format.h>

#include "collector/linux/mounts.hpp"
#include "collector/linux/parse_diskstats.hpp"
#include "collector/linux/parse_net.hpp"
#include "collector/rates.hpp"
#include "collector/registry.hpp"

namespace {

namespace k = boxmon::collector::kernel;

std::string net_dev_50() {
    std::string s =
        "Inter-|   Receive                                                |  Transmit\n"
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls "
        "carrier compressed\n";
    s += "    lo: 912345678 1200345 0 0 0 0 0 0 912345678 1200345 0 0 0 0 0 0\n";
    for (int i = 0; i < 49; ++i)
        s += fmt::format("veth{:07x}: {} {} {} {} 0 0 0 1204 {} {} {} {} 0 0 0 0\n", i * 7919, 918273645012ull + i,
                         700123456 + i, i % 3, i % 5, 123456789012ull + i, 300123456 + i, 0, i % 2);
    return s;
}

std::string mountinfo_200() {
    std::string s =
        "21 26 0:20 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
        "22 26 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:14 - proc proc rw\n"
        "26 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro\n";
    for (int i = 0; i < 197; ++i) {
        if (i % 3 == 0)
            s += fmt::format("{} 26 0:{} / /var/lib/docker/overlay2/{:064x}/merged rw,relatime - overlay overlay "
                             "rw,lowerdir=/var/lib/docker/overlay2/l/ABCDEFGHIJ:/var/lib/docker/overlay2/l/KLMNOPQRST,"
                             "upperdir=/var/lib/docker/overlay2/{:064x}/diff,workdir=/var/lib/docker/overlay2/{:064x}/work\n",
                             100 + i, 50 + i, i, i, i);
        else if (i % 3 == 1)
            s += fmt::format("{} 26 7:{} / /snap/pkg{}/12{} ro,nodev,relatime shared:{} - squashfs /dev/loop{} ro\n",
                             100 + i, i, i, i, 40 + i, i);
        else
            s += fmt::format("{} 26 259:{} /vol{} /srv/bind\\040{} rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw\n",
                             100 + i, i % 7 == 0 ? 2 : 10 + i, i, i);
    }
    return s;
}

std::string diskstats_64() {
    std::string s;
    for (int i = 0; i < 64; ++i)
        s += fmt::format(" 259 {} nvme{}n1 812345 120 91234567 8123 1234567 340 223344556 91234 0 4012345 99357 0 0 0 0 "
                         "1234 567\n",
                         i, i);
    return s;
}

void BM_parse_net_dev_50(benchmark::State& state) {
    const auto text = net_dev_50();
    for (auto _ : state) {
        auto r = k::parse_net_dev(text);
        benchmark::DoNotOptimize(r);
    }
}
BENCHMARK(BM_parse_net_dev_50);

void BM_parse_mountinfo_200(benchmark::State& state) {
    const auto text = mountinfo_200();
    for (auto _ : state) {
        auto r = k::parse_mountinfo(text);
        benchmark::DoNotOptimize(r);
    }
}
BENCHMARK(BM_parse_mountinfo_200);

void BM_select_real_mounts_200(benchmark::State& state) {
    const auto parsed = k::parse_mountinfo(mountinfo_200());
    for (auto _ : state) {
        auto r = k::select_real_mounts(parsed->mounts, {});
        benchmark::DoNotOptimize(r);
    }
}
BENCHMARK(BM_select_real_mounts_200);

void BM_parse_diskstats_64(benchmark::State& state) {
    const auto text = diskstats_64();
    for (auto _ : state) {
        auto r = k::parse_diskstats(text);
        benchmark::DoNotOptimize(r);
    }
}
BENCHMARK(BM_parse_diskstats_64);

// One collection pass of `name` on the fixture tree, with a previous snapshot so rates are made.
void collector_pass(benchmark::State& state, std::unique_ptr<boxmon::collector::Collector> (*make)(const boxmon::Config&)) {
    using namespace std::chrono_literals;
    const std::filesystem::path dir = std::filesystem::path(BOXMON_FIXTURES_DIR) / "linux/gpu-server-96c/t0";
    const boxmon::RootFs root(dir / "proc", dir / "sys");
    boxmon::Config config;
    auto c = make(config);
    boxmon::CounterSnapshot previous;
    {
        boxmon::collector::RateTracker rates(nullptr, "b", 100s, {}, config.general.interval);
        boxmon::collector::CollectContext ctx{root, config, {}, rates};
        boxmon::Sample s;
        (void)c->collect(ctx, s);
        previous = rates.take_snapshot();
    }
    for (auto _ : state) {
        boxmon::collector::RateTracker rates(&previous, "b", 105s, {}, config.general.interval);
        boxmon::collector::CollectContext ctx{root, config, {}, rates};
        boxmon::Sample s;
        auto r = c->collect(ctx, s);
        benchmark::DoNotOptimize(r);
    }
}

void BM_network_pass_gpu_server(benchmark::State& state) { collector_pass(state, &boxmon::collector::make_network_collector); }
BENCHMARK(BM_network_pass_gpu_server);
void BM_filesystem_pass_gpu_server(benchmark::State& state) {
    collector_pass(state, &boxmon::collector::make_filesystem_collector);
}
BENCHMARK(BM_filesystem_pass_gpu_server);
void BM_diskio_pass_gpu_server(benchmark::State& state) { collector_pass(state, &boxmon::collector::make_diskio_collector); }
BENCHMARK(BM_diskio_pass_gpu_server);

// The same three on this host's live /proc and /sys (statfs on a worker thread included).
void live_pass(benchmark::State& state, std::unique_ptr<boxmon::collector::Collector> (*make)(const boxmon::Config&)) {
    using namespace std::chrono_literals;
    const boxmon::RootFs root;
    boxmon::Config config;
    auto c = make(config);
    for (auto _ : state) {
        boxmon::collector::RateTracker rates(nullptr, "b", 105s, {}, config.general.interval);
        boxmon::collector::CollectContext ctx{root, config, {}, rates};
        boxmon::Sample s;
        auto r = c->collect(ctx, s);
        benchmark::DoNotOptimize(r);
    }
}
void BM_network_pass_live(benchmark::State& state) { live_pass(state, &boxmon::collector::make_network_collector); }
BENCHMARK(BM_network_pass_live);
void BM_filesystem_pass_live(benchmark::State& state) { live_pass(state, &boxmon::collector::make_filesystem_collector); }
BENCHMARK(BM_filesystem_pass_live);
void BM_diskio_pass_live(benchmark::State& state) { live_pass(state, &boxmon::collector::make_diskio_collector); }
BENCHMARK(BM_diskio_pass_live);

}  // namespace

BENCHMARK_MAIN();
