// The services collector end to end: series names and labels on a fixture tree, and live
// processes started by the test (one that grows its memory, one that exits, one restarted
// under a new PID), with checks that must not stretch the tick.

#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
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
