// The services collector end to end: series names and labels on a fixture tree, and live
// processes started by the test (one that grows its memory, one that exits, one restarted
// under a new PID), with checks that must not stretch the tick.

#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "collector/registry.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon::collector {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Runs ticks of one collector, each with a RateTracker fed by the previous tick's snapshot
// (as the agent does through the store).
class Ticker {
public:
    Ticker(RootFs root, Config config)
        : m_root(std::move(root)), m_config(std::move(config)), m_collector(make_services_collector(m_config)) {}

    Result<void> tick(Sample& out, PassFacts* facts = nullptr) {
        const auto mono = std::chrono::duration_cast<Nanos>(Clock::now().time_since_epoch());
        RateTracker rates(m_previous ? &*m_previous : nullptr, "boot-1", mono, WallTime{}, m_config.general.interval);
        CollectContext ctx{m_root, m_config, Instant{WallTime{}, mono, mono}, rates, facts};
        auto r = m_collector->collect(ctx, out);
        m_previous = rates.take_snapshot();
        return r;
    }
    Sample tick(PassFacts* facts = nullptr) {
        Sample s;
        auto r = tick(s, facts);
        EXPECT_TRUE(r) << r.error().message;
        return s;
    }
    Collector& collector() { return *m_collector; }

private:
    RootFs m_root;
    Config m_config;
    std::unique_ptr<Collector> m_collector;
    std::optional<CounterSnapshot> m_previous;
};

SeriesKey svc(const char* name, const std::string& service) { return SeriesKey(name, {{"service", service}}); }
SeriesKey chk(const char* name, const std::string& service, const std::string& check) {
    return SeriesKey(name, {{"service", service}, {"check", check}});
}

std::string unique_token() {
    std::random_device rd;
    return fmt::format("boxmon-svc-test-{:08x}", rd());
}

// A Python process whose command line carries `token`; it prints "ready" once its memory is
// allocated (grow_mib of it, touched) and then sleeps.
std::unique_ptr<test::Process> start_sleeper(const std::string& token, int grow_mib = 0) {
    const std::string code = fmt::format(
        "import sys, time\nb = b'x' * ({} << 20)\nprint('ready', flush=True)\ntime.sleep(120)\n", grow_mib);
    auto p = std::make_unique<test::Process>(std::vector<std::string>{test::python3(), "-c", code, token});
    EXPECT_TRUE(p->wait_for_out("ready", 20s)) << "the test process did not start";
    return p;
}

Config match_config(const std::string& token) {
    Config c;
    c.general.interval = 10s;
    ServiceConfig s;
    s.name = "chat";
    s.match = token;
    c.services.push_back(s);
    return c;
}

TEST(ServicesCollector, IsInTheRegistryUnderItsName) {
    Config c;
    EXPECT_EQ(make_services_collector(c)->name(), "services");
}

TEST(ServicesCollector, FixtureUnitGivesExactlyTheSeriesTheServiceRulesWatch) {
    const auto dir = test::fixtures_dir() / "services" / "cgroup";
    Config c;
    ServiceConfig web;
    web.name = "web";
    web.unit = "nginx.service";
    ServiceConfig gone;
    gone.name = "gone";
    gone.unit = "absent.service";
    c.services = {web, gone};
    Ticker t(RootFs(dir / "proc", dir / "sys"), c);
    const Sample s = t.tick();
    EXPECT_EQ(s.find(svc("service_up", "web")), 1.0);
    EXPECT_EQ(s.find(svc("service_processes", "web")), 3.0);
    EXPECT_EQ(s.find(svc("service_rss_bytes", "web")), (8000.0 + 12000 + 11000) * 1024);
    EXPECT_EQ(s.find(svc("service_open_files", "web")), 26.0);
    EXPECT_EQ(s.find(svc("service_restarts_total", "web")), 0.0);
    EXPECT_EQ(s.find(svc("service_cpu_percent", "web")), std::nullopt) << "no CPU rate on the first reading";

    EXPECT_EQ(s.find(svc("service_up", "gone")), 0.0);
    EXPECT_EQ(s.find(svc("service_processes", "gone")), 0.0);
    EXPECT_EQ(s.find(svc("service_rss_bytes", "gone")), std::nullopt);
    EXPECT_EQ(s.find(svc("service_cpu_percent", "gone")), std::nullopt);
    EXPECT_EQ(s.find(svc("service_open_files", "gone")), std::nullopt);
}

TEST(ServicesCollector, GpuMemoryIsTheSumOverTheServiceTreeOfWhatTheGpuCollectorsListed) {
    const auto dir = test::fixtures_dir() / "services" / "cgroup";
    Config c;
    ServiceConfig web;
    web.name = "web";
    web.unit = "nginx.service";  // PIDs 640, 641, 642
    ServiceConfig exporter;
    exporter.name = "exporter";
    exporter.unit = "nginx-exporter.service";  // PID 700, on no GPU
    ServiceConfig gone;
    gone.name = "gone";
    gone.unit = "absent.service";
    c.services = {web, exporter, gone};
    Ticker t(RootFs(dir / "proc", dir / "sys"), c);

    PassFacts facts;
    facts.gpu_memory_by_pid.emplace();
    (*facts.gpu_memory_by_pid)[640] = 3ull << 30;
    (*facts.gpu_memory_by_pid)[642] = 512ull << 20;
    (*facts.gpu_memory_by_pid)[4242] = 7ull << 30;  // some other process
    const Sample s = t.tick(&facts);
    EXPECT_EQ(s.find(svc("service_gpu_memory_bytes", "web")), static_cast<double>((3ull << 30) + (512ull << 20)));
    EXPECT_EQ(s.find(svc("service_gpu_memory_bytes", "exporter")), 0.0) << "the GPUs were listed; it holds none";
    EXPECT_EQ(s.find(svc("service_gpu_memory_bytes", "gone")), std::nullopt) << "a service that is down";

    PassFacts no_gpu;  // no GPU collector could list processes
    const Sample s2 = t.tick(&no_gpu);
    EXPECT_EQ(s2.find(svc("service_gpu_memory_bytes", "web")), std::nullopt) << "unknown is not zero";
    EXPECT_EQ(s2.find(svc("service_up", "web")), 1.0);
}

// An amdgpu client as /proc/<pid>/fdinfo/<fd> shows it.
std::string amdgpu_fdinfo(int client, std::uint64_t vram_kib) {
    return fmt::format("pos:\t0\nflags:\t02100002\nmnt_id:\t24\ndrm-driver:\tamdgpu\ndrm-pdev:\t0000:03:00.0\n"
                       "drm-client-id:\t{}\ndrm-memory-gtt:\t2048 KiB\ndrm-memory-vram:\t{} KiB\n",
                       client, vram_kib);
}

TEST(ServicesCollector, WithAnAmdCardGpuMemoryComesFromTheTreesDrmClientsEachCountedOnce) {
    test::TempDir tmp;
    std::filesystem::copy(test::fixtures_dir() / "services" / "cgroup", tmp.path(),
                          std::filesystem::copy_options::recursive);
    const auto proc = tmp.path() / "proc";
    // 640 opened the render node (client 7, 2 GiB); 642, its child, inherited that descriptor
    // and opened its own (client 9, 256 MiB); 700 holds a descriptor of another driver.
    auto drm_fd = [&](int pid, int fd, const std::string& fdinfo) {
        std::filesystem::remove(proc / std::to_string(pid) / "fd" / std::to_string(fd));
        std::filesystem::create_symlink("/dev/dri/renderD128", proc / std::to_string(pid) / "fd" / std::to_string(fd));
        test::write_file(proc / std::to_string(pid) / "fdinfo" / std::to_string(fd), fdinfo);
    };
    drm_fd(640, 40, amdgpu_fdinfo(7, 2u << 20));
    drm_fd(642, 40, amdgpu_fdinfo(7, 2u << 20));
    drm_fd(642, 41, amdgpu_fdinfo(9, 256u << 10));
    drm_fd(700, 40, "drm-driver:\ti915\ndrm-client-id:\t3\ndrm-memory-vram:\t1024 KiB\n");
    // A descriptor that is not a render node is never read, whatever its fdinfo says.
    std::filesystem::create_symlink("/var/log/nginx/access.log", proc / "641" / "fd" / "40");
    test::write_file(proc / "641" / "fdinfo" / "40", amdgpu_fdinfo(11, 1u << 20));

    Config c;
    ServiceConfig web;
    web.name = "web";
    web.unit = "nginx.service";  // PIDs 640, 641, 642
    ServiceConfig exporter;
    exporter.name = "exporter";
    exporter.unit = "nginx-exporter.service";  // PID 700
    c.services = {web, exporter};
    Ticker t(RootFs(proc, tmp.path() / "sys"), c);
    PassFacts facts;
    facts.amd_gpus = true;
    const Sample s = t.tick(&facts);
    EXPECT_EQ(s.find(svc("service_gpu_memory_bytes", "web")), static_cast<double>((2ull << 30) + (256ull << 20)));
    EXPECT_EQ(s.find(svc("service_gpu_memory_bytes", "exporter")), 0.0) << "an i915 client is not amdgpu VRAM";

    PassFacts both = facts;  // NVML listed 641 too: the two add up
    both.gpu_memory_by_pid.emplace();
    (*both.gpu_memory_by_pid)[641] = 1ull << 30;
    const Sample s2 = t.tick(&both);
    EXPECT_EQ(s2.find(svc("service_gpu_memory_bytes", "web")), static_cast<double>((3ull << 30) + (256ull << 20)));
}

TEST(ServicesCollector, CheckSeriesCarryServiceAndCheckLabels) {
    test::TempDir tmp;
    Config c;
    ServiceConfig s;
    s.name = "web";
    s.unit = "nginx.service";
    CheckConfig ok;
    ok.type = CheckConfig::Type::command;
    ok.name = "alive";
    ok.command = {"/bin/true"};
    CheckConfig bad = ok;
    bad.name = "broken";
    bad.command = {"/bin/false"};
    s.checks = {ok, bad};
    c.services = {s};
    const auto dir = test::fixtures_dir() / "services" / "cgroup";
    Ticker t(RootFs(dir / "proc", dir / "sys"), c);
    const Sample out = t.tick();
    EXPECT_EQ(out.find(chk("check_up", "web", "alive")), 1.0);
    EXPECT_EQ(out.find(chk("check_up", "web", "broken")), 0.0);
    const auto latency = out.find(chk("check_latency_seconds", "web", "alive"));
    ASSERT_TRUE(latency);
    EXPECT_GT(*latency, 0.0);
    EXPECT_EQ(SeriesKey("check_up", {{"service", "web"}, {"check", "alive"}}).to_string(),
              R"(check_up{check="alive",service="web"})");
}

TEST(ServicesCollector, LiveProcessIsUpWithRssCpuAndOpenFiles) {
    const auto token = unique_token();
    auto proc = start_sleeper(token, 48);
    Ticker t(RootFs(), match_config(token));
    const Sample first = t.tick();
    EXPECT_EQ(first.find(svc("service_up", "chat")), 1.0);
    EXPECT_EQ(first.find(svc("service_processes", "chat")), 1.0);
    const auto rss = first.find(svc("service_rss_bytes", "chat"));
    ASSERT_TRUE(rss);
    EXPECT_GT(*rss, 48.0 * 1024 * 1024) << "the process touched 48 MiB";
    EXPECT_LT(*rss, 1024.0 * 1024 * 1024);
    const auto fds = first.find(svc("service_open_files", "chat"));
    ASSERT_TRUE(fds);
    EXPECT_GE(*fds, 3.0);
    std::this_thread::sleep_for(600ms);  // rates need 0.5 s between readings
    const Sample second = t.tick();
    const auto cpu = second.find(svc("service_cpu_percent", "chat"));
    ASSERT_TRUE(cpu) << "a second reading 0.6 s later gives a CPU rate";
    EXPECT_GE(*cpu, 0.0);
    EXPECT_LT(*cpu, 100.0) << "a sleeping process uses almost no CPU";
}

TEST(ServicesCollector, ProcessThatGrowsShowsTheGrowth) {
    const auto token = unique_token();
    test::TempDir tmp;
    const auto trigger = tmp / "grow";
    const std::string code =
        "import os, sys, time\nprint('ready', flush=True)\n"
        "while not os.path.exists(sys.argv[2]): time.sleep(0.02)\n"
        "b = b'x' * (96 << 20)\nprint('grown', flush=True)\ntime.sleep(120)\n";
    auto p = std::make_unique<test::Process>(
        std::vector<std::string>{test::python3(), "-c", code, token, trigger.string()});
    ASSERT_TRUE(p->wait_for_out("ready", 20s));
    Ticker t(RootFs(), match_config(token));
    const auto before = t.tick().find(svc("service_rss_bytes", "chat"));
    ASSERT_TRUE(before);
    EXPECT_LT(*before, 64.0 * 1024 * 1024);
    test::write_file(trigger, "");
    ASSERT_TRUE(p->wait_for_out("grown", 20s)) << p->err();
    const auto after = t.tick().find(svc("service_rss_bytes", "chat"));
    ASSERT_TRUE(after);
    EXPECT_GT(*after, *before + 90.0 * 1024 * 1024);
}

TEST(ServicesCollector, ProcessThatExitsIsDownAndARestartIsCounted) {
    const auto token = unique_token();
    Ticker t(RootFs(), match_config(token));
    auto first = start_sleeper(token);
    Sample s = t.tick();
    EXPECT_EQ(s.find(svc("service_up", "chat")), 1.0);
    EXPECT_EQ(s.find(svc("service_restarts_total", "chat")), 0.0);

    first->signal(SIGKILL);
    first->wait(5s);
    s = t.tick();
    EXPECT_EQ(s.find(svc("service_up", "chat")), 0.0);
    EXPECT_EQ(s.find(svc("service_processes", "chat")), 0.0);
    EXPECT_EQ(s.find(svc("service_rss_bytes", "chat")), std::nullopt);
    EXPECT_EQ(s.find(svc("service_cpu_percent", "chat")), std::nullopt);
    EXPECT_EQ(s.find(svc("service_restarts_total", "chat")), 0.0);

    auto second = start_sleeper(token);
    ASSERT_NE(second->pid(), first->pid());
    s = t.tick();
    EXPECT_EQ(s.find(svc("service_up", "chat")), 1.0);
    EXPECT_EQ(s.find(svc("service_restarts_total", "chat")), 1.0) << "a new PID after a stop is one restart";
    s = t.tick();
    EXPECT_EQ(s.find(svc("service_restarts_total", "chat")), 1.0) << "the count is kept, not re-counted";
}

TEST(ServicesCollector, RestartBetweenTwoSamplesIsCountedToo) {
    const auto token = unique_token();
    Ticker t(RootFs(), match_config(token));
    auto first = start_sleeper(token);
    EXPECT_EQ(t.tick().find(svc("service_up", "chat")), 1.0);
    first->signal(SIGKILL);
    first->wait(5s);
    auto second = start_sleeper(token);
    const Sample s = t.tick();
    EXPECT_EQ(s.find(svc("service_up", "chat")), 1.0);
    EXPECT_EQ(s.find(svc("service_restarts_total", "chat")), 1.0);
}

TEST(ServicesCollector, HangingChecksNeverStretchTheTickPastTheInterval) {
    const auto token = unique_token();
    Config c = match_config(token);
    c.general.interval = 2s;
    for (int i = 0; i < 10; ++i) {
        CheckConfig slow;
        slow.type = CheckConfig::Type::command;
        slow.name = fmt::format("slow{}", i);
        slow.command = {"/bin/sleep", "30"};
        slow.timeout = 10s;
        c.services[0].checks.push_back(slow);
    }
    Ticker t(RootFs(), c);
    const auto start = Clock::now();
    Sample s;
    ASSERT_TRUE(t.tick(s));
    const double took = std::chrono::duration<double>(Clock::now() - start).count();
    EXPECT_LT(took, 2.0) << "a 2 s interval bounds the collection even with 10 s check timeouts";
    EXPECT_EQ(s.find(chk("check_up", "chat", "slow0")), 0.0);
    EXPECT_EQ(s.find(chk("check_up", "chat", "slow9")), std::nullopt)
        << "checks that never got a thread report nothing rather than a false down";
}

TEST(ServicesCollector, UnreadableProcIsAFailureWithThePath) {
    test::TempDir tmp;
    Config c = match_config("x");
    Ticker t(RootFs(tmp / "proc", tmp / "sys"), c);
    Sample s;
    auto r = t.tick(s);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find((tmp / "proc").string()), std::string::npos) << r.error().message;
    EXPECT_EQ(s.find(svc("service_up", "chat")), std::nullopt) << "unknown is not down";
}

}  // namespace
}  // namespace boxmon::collector
