// The NVIDIA collector, loading the fake libnvidia-ml (tests/collector/fake_nvml/) through the
// real dlopen: several GPUs, scripted values, functions a card does not support, init failure,
// no library, a GPU lost between ticks and a call that blocks (RELIABILITY K10).

#include <dlfcn.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <ostream>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include "collector/gpu/nvidia.hpp"
#include "collector/gpu/nvml_api.hpp"
#include "collector/collector_set.hpp"
#include "collector/registry.hpp"
#include "core/config_load.hpp"
#include "tests/rules/rules_harness.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon::collector {
namespace {

using namespace std::chrono_literals;

// Log lines captured from spdlog's default logger for the life of the object.
class LogCapture {
public:
    LogCapture() : m_sink(std::make_shared<Sink>()), m_previous(spdlog::default_logger()) {
        auto logger = std::make_shared<spdlog::logger>("test", m_sink);
        logger->set_level(spdlog::level::trace);
        spdlog::set_default_logger(logger);
    }
    ~LogCapture() { spdlog::set_default_logger(m_previous); }
    LogCapture(const LogCapture&) = delete;
    LogCapture& operator=(const LogCapture&) = delete;

    // Lines at `level` ("info", "warning"), as "level: text".
    std::vector<std::string> lines(std::string_view level) const {
        std::vector<std::string> out;
        for (const auto& l : m_sink->lines())
            if (l.starts_with(level)) out.push_back(l);
        return out;
    }
    std::vector<std::string> all() const { return m_sink->lines(); }

private:
    class Sink final : public spdlog::sinks::base_sink<std::mutex> {
    public:
        std::vector<std::string> lines() {
            std::lock_guard lock(mutex_);
            return m_lines;
        }

    protected:
        void sink_it_(const spdlog::details::log_msg& msg) override {
            m_lines.push_back(fmt::format("{}: {}", spdlog::level::to_string_view(msg.level),
                                          std::string_view(msg.payload.data(), msg.payload.size())));
        }
        void flush_() override {}

    private:
        std::vector<std::string> m_lines;
    };
    std::shared_ptr<Sink> m_sink;
    std::shared_ptr<spdlog::logger> m_previous;
};

// The fake library's scripting functions, resolved from the copy the collector loads.
struct FakeNvml {
    FakeNvml() {
        handle = dlopen(BOXMON_FAKE_NVML, RTLD_NOW | RTLD_LOCAL);
        if (!handle) return;
        reset = sym<void (*)()>("fake_nvml_reset");
        set_init_result = sym<void (*)(int)>("fake_nvml_set_init_result");
        add_gpu = sym<unsigned (*)(const char*, const char*)>("fake_nvml_add_gpu");
        set_value = sym<void (*)(unsigned, const char*, unsigned long long)>("fake_nvml_set_value");
        set_result = sym<void (*)(unsigned, const char*, int)>("fake_nvml_set_result");
        add_sample = sym<void (*)(unsigned, unsigned long long, unsigned)>("fake_nvml_add_sample");
        add_process = sym<void (*)(unsigned, const char*, unsigned, unsigned long long)>("fake_nvml_add_process");
        clear_processes = sym<void (*)(unsigned)>("fake_nvml_clear_processes");
        set_block = sym<void (*)(unsigned, const char*, unsigned)>("fake_nvml_set_block");
        calls = sym<unsigned long long (*)(const char*)>("fake_nvml_calls");
        max_concurrent = sym<int (*)()>("fake_nvml_max_concurrent");
        in_flight = sym<int (*)()>("fake_nvml_in_flight");
    }
    ~FakeNvml() {
        if (handle) dlclose(handle);
    }
    FakeNvml(const FakeNvml&) = delete;
    FakeNvml& operator=(const FakeNvml&) = delete;

    template <class Fn>
    Fn sym(const char* name) {
        return reinterpret_cast<Fn>(dlsym(handle, name));
    }
    bool complete() const {
        return handle && reset && set_init_result && add_gpu && set_value && set_result && add_sample &&
               add_process && clear_processes && set_block && calls && max_concurrent && in_flight;
    }

    // A GPU with every value set: util u%, 80 GiB of which `used_gib` in use, temp, power.
    unsigned gpu(const char* name, const char* uuid, unsigned util, unsigned long long used_gib,
                 unsigned temp, unsigned power_mw) {
        const unsigned i = add_gpu(name, uuid);
        set_value(i, "util", util);
        set_value(i, "mem_total", 80ull << 30);
        set_value(i, "mem_used", used_gib << 30);
        set_value(i, "temp", temp);
        set_value(i, "power_mw", power_mw);
        return i;
    }

    void* handle = nullptr;
    void (*reset)() = nullptr;
    void (*set_init_result)(int) = nullptr;
    unsigned (*add_gpu)(const char*, const char*) = nullptr;
    void (*set_value)(unsigned, const char*, unsigned long long) = nullptr;
    void (*set_result)(unsigned, const char*, int) = nullptr;
    void (*add_sample)(unsigned, unsigned long long, unsigned) = nullptr;
    void (*add_process)(unsigned, const char*, unsigned, unsigned long long) = nullptr;
    void (*clear_processes)(unsigned) = nullptr;
    void (*set_block)(unsigned, const char*, unsigned) = nullptr;
    unsigned long long (*calls)(const char*) = nullptr;
    int (*max_concurrent)() = nullptr;
    int (*in_flight)() = nullptr;
};

std::vector<Label> gpu_labels(const char* index, const char* name, const char* uuid) {
    return {{"gpu", index}, {"name", name}, {"uuid", uuid}};
}

std::vector<Label> up_labels(const char* index) { return {{"gpu", index}, {"vendor", "nvidia"}}; }

// Every series of GPU `index` in a sample, by metric name.
std::map<std::string, double> series_of(const Sample& s, const std::string& index) {
    std::map<std::string, double> out;
    for (const auto& p : s.points) {
        const auto* gpu = p.key.label("gpu");
        if (!gpu || *gpu != index) continue;
        std::string name = p.key.name();
        if (const auto* type = p.key.label("type")) name += "/" + *type;
        out[name] = p.value;
    }
    return out;
}

class NvidiaCollectorTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(fake.complete()) << "cannot load the fake NVML " << BOXMON_FAKE_NVML << ": " << dlerror();
        fake.reset();
        config.gpu.nvml_library = BOXMON_FAKE_NVML;
    }

    std::unique_ptr<Collector> make() { return make_gpu_nvidia_collector(config); }

    // One tick; fails the test when collect() does.
    Sample tick(Collector& c) {
        Sample s;
        auto r = collect(c, s);
        EXPECT_TRUE(r) << r.error().message;
        return s;
    }

    Result<void> collect(Collector& c, Sample& s, PassFacts* facts = nullptr) {
        RateTracker rates(&previous, "boot-1", boottime, WallTime{}, config.general.interval);
        CollectContext ctx{root, config, Instant{WallTime{}, boottime, boottime}, rates, facts};
        auto r = c.collect(ctx, s);
        previous = rates.take_snapshot();
        boottime += 60s;
        return r;
    }

    FakeNvml fake;
    Config config;
    RootFs root;
    CounterSnapshot previous;
    Nanos boottime = 1000s;
};

TEST_F(NvidiaCollectorTest, ReportsEverySeriesOfTwoGpusWithIndexNameAndUuid) {
    LogCapture log;
    fake.gpu("NVIDIA H100 80GB HBM3", "GPU-aaaa", 37, 20, 61, 250'500);
    fake.gpu("NVIDIA A100-SXM4-40GB", "GPU-bbbb", 90, 60, 75, 400'000);
    fake.set_value(1, "ecc_corrected", 3);
    fake.set_value(1, "ecc_uncorrected", 1);
    auto c = make();
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->name(), "gpu_nvidia");
    const Sample s = tick(*c);

    const auto labels0 = gpu_labels("0", "NVIDIA H100 80GB HBM3", "GPU-aaaa");
    EXPECT_EQ(s.find(SeriesKey("gpu_util_percent", labels0)), 37.0);
    EXPECT_EQ(s.find(SeriesKey("gpu_util_max_percent", labels0)), 37.0);
    EXPECT_EQ(s.find(SeriesKey("gpu_memory_used_bytes", labels0)), 20.0 * (1ull << 30));
    EXPECT_EQ(s.find(SeriesKey("gpu_memory_total_bytes", labels0)), 80.0 * (1ull << 30));
    EXPECT_EQ(s.find(SeriesKey("gpu_memory_used_percent", labels0)), 25.0);
    EXPECT_EQ(s.find(SeriesKey("gpu_temperature_celsius", labels0)), 61.0);
    EXPECT_EQ(s.find(SeriesKey("gpu_power_watts", labels0)), 250.5);
    EXPECT_EQ(s.find(SeriesKey("gpu_ecc_errors_total", {{"gpu", "0"}, {"name", "NVIDIA H100 80GB HBM3"},
                                                       {"uuid", "GPU-aaaa"}, {"type", "corrected"}})),
              0.0);

    const std::map<std::string, double> want1 = {
        {"gpu_ecc_errors_total/corrected", 3},  {"gpu_ecc_errors_total/uncorrected", 1},
        {"gpu_memory_total_bytes", 80.0 * (1ull << 30)}, {"gpu_memory_used_bytes", 60.0 * (1ull << 30)},
        {"gpu_memory_used_percent", 75},        {"gpu_power_watts", 400},
        {"gpu_temperature_celsius", 75},        {"gpu_util_max_percent", 90},
        {"gpu_util_percent", 90},               {"gpu_xid_errors_total", 0},
        {"gpu_up", 1}};
    EXPECT_EQ(series_of(s, "1"), want1);
    EXPECT_EQ(s.find(SeriesKey("gpu_up", up_labels("0"))), 1.0);
    EXPECT_EQ(s.find(SeriesKey("gpu_util_percent", gpu_labels("1", "NVIDIA A100-SXM4-40GB", "GPU-bbbb"))), 90.0);
    EXPECT_EQ(s.points.size(), 22u);
    EXPECT_TRUE(log.lines("warning").empty()) << log.all().front();
}

TEST_F(NvidiaCollectorTest, UtilIsTheMeanAndMaxOfTheSamplesSinceThePreviousTick) {
    const unsigned g = fake.gpu("NVIDIA L4", "GPU-cccc", 99, 1, 40, 50'000);
    for (unsigned i = 0; i < 5; ++i) fake.add_sample(g, 1'000 + i, 10 * (i + 1));  // 10..50
    auto c = make();
    Sample s = tick(*c);
    const auto labels = gpu_labels("0", "NVIDIA L4", "GPU-cccc");
    EXPECT_EQ(s.find(SeriesKey("gpu_util_percent", labels)), 30.0);
    EXPECT_EQ(s.find(SeriesKey("gpu_util_max_percent", labels)), 50.0);

    // Only the two samples newer than the previous tick count.
    fake.add_sample(g, 2'000, 90);
    fake.add_sample(g, 2'001, 100);
    s = tick(*c);
    EXPECT_EQ(s.find(SeriesKey("gpu_util_percent", labels)), 95.0);
    EXPECT_EQ(s.find(SeriesKey("gpu_util_max_percent", labels)), 100.0);

    // No new sample: the driver's instantaneous figure stands in.
    s = tick(*c);
    EXPECT_EQ(s.find(SeriesKey("gpu_util_percent", labels)), 99.0);
}

TEST_F(NvidiaCollectorTest, AOneShotRunAveragesOnlySamplesNewerThanThePersistedOne) {
    const unsigned g = fake.gpu("NVIDIA L4", "GPU-dddd", 0, 1, 40, 50'000);
    fake.add_sample(g, 100, 80);
    fake.add_sample(g, 200, 60);
    {
        auto daemon = make();
        tick(*daemon);
    }
    // A new collector (a new process) sees the whole driver buffer, but the persisted counter
    // snapshot says which samples the previous run already counted.
    fake.add_sample(g, 300, 20);
    auto one_shot = make();
    const Sample s = tick(*one_shot);
    EXPECT_EQ(s.find(SeriesKey("gpu_util_percent", gpu_labels("0", "NVIDIA L4", "GPU-dddd"))), 20.0);
}

TEST_F(NvidiaCollectorTest, FallsBackToUtilizationRatesWhenSamplesAreNotSupported) {
    LogCapture log;
    const unsigned g = fake.gpu("Tesla K80", "GPU-eeee", 42, 1, 40, 50'000);
    fake.add_sample(g, 100, 80);
    fake.set_result(g, "nvmlDeviceGetSamples", nvml::k_error_not_supported);
    auto c = make();
    const Sample s = tick(*c);
    const auto labels = gpu_labels("0", "Tesla K80", "GPU-eeee");
    EXPECT_EQ(s.find(SeriesKey("gpu_util_percent", labels)), 42.0);
    EXPECT_EQ(s.find(SeriesKey("gpu_util_max_percent", labels)), 42.0);
    EXPECT_TRUE(log.lines("warning").empty());
}

TEST_F(NvidiaCollectorTest, AFunctionTheCardDoesNotSupportLeavesOnlyThatSeriesAbsent) {
    LogCapture log;
    const unsigned g = fake.gpu("GeForce RTX 3090", "GPU-ffff", 5, 2, 45, 30'000);
    fake.set_result(g, "nvmlDeviceGetPowerUsage", nvml::k_error_not_supported);
    fake.set_result(g, "nvmlDeviceGetTotalEccErrors", nvml::k_error_not_supported);
    auto c = make();
    for (int i = 0; i < 3; ++i) {
        const auto got = series_of(tick(*c), "0");
        EXPECT_EQ(got.count("gpu_power_watts"), 0u);
        EXPECT_EQ(got.count("gpu_ecc_errors_total/corrected"), 0u);
        EXPECT_EQ(got.count("gpu_temperature_celsius"), 1u);
        EXPECT_EQ(got.count("gpu_util_percent"), 1u);
        EXPECT_EQ(got.size(), 8u);
    }
    EXPECT_TRUE(log.lines("warning").empty());
}

TEST_F(NvidiaCollectorTest, AFailingFunctionWarnsOncePerGpuAndFunction) {
    LogCapture log;
    const unsigned g = fake.gpu("GeForce RTX 3090", "GPU-ffff", 5, 2, 45, 30'000);
    fake.set_result(g, "nvmlDeviceGetTemperature", nvml::k_error_no_permission);
    auto c = make();
    for (int i = 0; i < 3; ++i) EXPECT_EQ(series_of(tick(*c), "0").count("gpu_temperature_celsius"), 0u);
    const auto warnings = log.lines("warning");
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_EQ(warnings[0],
              "warning: gpu_nvidia: GPU 0: nvmlDeviceGetTemperature failed: Insufficient Permissions (NVML "
              "error 4); that series is absent");
}

TEST_F(NvidiaCollectorTest, InitFailureWarnsOnceWithTheNvmlErrorThenStaysQuiet) {
    LogCapture log;
    fake.gpu("NVIDIA H100", "GPU-aaaa", 1, 1, 1, 1);
    fake.set_init_result(nvml::k_error_driver_not_loaded);
    auto c = make();
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(tick(*c).points.empty());
    const auto warnings = log.lines("warning");
    ASSERT_EQ(warnings.size(), 1u) << ::testing::PrintToString(log.all());
    EXPECT_EQ(warnings[0], fmt::format("warning: gpu_nvidia: nvmlInit_v2 in {} failed: Driver Not Loaded (NVML "
                                       "error 9); check that the NVIDIA kernel module is loaded (nvidia-smi shows "
                                       "the same error); no NVIDIA GPU series until boxmon restarts",
                                       BOXMON_FAKE_NVML));
    EXPECT_EQ(fake.calls("nvmlInit_v2"), 1u);
    EXPECT_EQ(fake.calls("nvmlDeviceGetCount_v2"), 0u);
}

// Not a fixture test: the fixture's own dlopen of the fake would answer to its soname,
// libnvidia-ml.so.1, and so hide the absence this test needs.
TEST(NvidiaCollectorWithoutLibrary, MeansNoSeriesAndOneInfoLine) {
    if (void* real = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL)) {
        dlclose(real);
        GTEST_SKIP() << "libnvidia-ml.so.1 can be loaded here (a real driver, or the fake still loaded), so "
                        "'no library' cannot be provoked";
    }
    LogCapture log;
    Config config;
    const test::TempDir dir;  // a /proc whose driver/nvidia says the kernel driver is loaded
    test::write_file(dir / "proc" / "driver" / "nvidia" / "version", "NVRM version: 550.54.14\n");
    const RootFs root(dir / "proc", dir / "sys");
    auto c = make_gpu_nvidia_collector(config);
    ASSERT_NE(c, nullptr);
    for (int i = 0; i < 3; ++i) {
        RateTracker rates(nullptr, "boot", Nanos{0}, WallTime{}, config.general.interval);
        CollectContext ctx{root, config, Instant{}, rates};
        Sample s;
        auto r = c->collect(ctx, s);
        EXPECT_TRUE(r) << r.error().message;
        EXPECT_TRUE(s.points.empty());
    }
    EXPECT_TRUE(log.lines("warning").empty()) << ::testing::PrintToString(log.all());
    const auto infos = log.lines("info");
    ASSERT_EQ(infos.size(), 1u) << ::testing::PrintToString(log.all());
    EXPECT_TRUE(infos[0].starts_with("info: gpu_nvidia: no NVML library: libnvidia-ml.so.1: cannot open shared "
                                     "object file"))
        << infos[0];
    EXPECT_NE(infos[0].find("libnvidia-ml.so: cannot open shared object file"), std::string::npos) << infos[0];
}

// Without the kernel driver NVML cannot initialise: the library is not looked for (some 50
// failing opens and a thread a process), until the driver shows up.
TEST(NvidiaCollectorWithoutDriver, LooksForNoLibraryUntilTheDriverIsLoaded) {
    if (void* real = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL)) {
        dlclose(real);
        GTEST_SKIP() << "libnvidia-ml.so.1 can be loaded here (a real driver, or the fake still loaded), so "
                        "the search's failure, which shows it ran, cannot be provoked";
    }
    LogCapture log;
    Config config;
    const test::TempDir dir;
    const RootFs root(dir / "proc", dir / "sys");
    std::filesystem::create_directories(dir / "proc");
    auto c = make_gpu_nvidia_collector(config);
    CounterSnapshot previous;
    auto tick = [&] {
        RateTracker rates(&previous, "boot", Nanos{0}, WallTime{}, config.general.interval);
        CollectContext ctx{root, config, Instant{}, rates};
        Sample s;
        auto r = c->collect(ctx, s);
        EXPECT_TRUE(r) << r.error().message;
        EXPECT_TRUE(s.points.empty());
        previous = rates.take_snapshot();
    };
    for (int i = 0; i < 3; ++i) tick();
    const auto before = log.all();
    ASSERT_EQ(before.size(), 1u) << ::testing::PrintToString(before);
    EXPECT_EQ(before[0], fmt::format("info: gpu_nvidia: no NVIDIA driver loaded ({} absent); no NVIDIA GPU "
                                     "series (normal on a host without an NVIDIA GPU)",
                                     (dir / "proc" / "driver" / "nvidia").string()));

    test::write_file(dir / "proc" / "driver" / "nvidia" / "version", "NVRM version: 550.54.14\n");
    tick();
    const auto after = log.all();
    ASSERT_EQ(after.size(), 2u) << ::testing::PrintToString(after);
    // Absence was said this boot already, so the failed search is a debug line.
    EXPECT_TRUE(after[1].starts_with("debug: gpu_nvidia: no NVML library: libnvidia-ml.so.1: ")) << after[1];
}

TEST(NvidiaDriverLoaded, IsTheProcDriverDirectoryInAFixtureTree) {
    const test::TempDir dir;
    const RootFs root(dir / "proc", dir / "sys");
    EXPECT_FALSE(nvidia_driver_loaded(root));
    std::filesystem::create_directories(dir / "proc" / "driver" / "nvidia");
    EXPECT_TRUE(nvidia_driver_loaded(root));
}

TEST_F(NvidiaCollectorTest, AConfiguredLibraryThatIsMissingWarnsOnce) {
    LogCapture log;
    config.gpu.nvml_library = "/nonexistent/libnvidia-ml.so.1";
    auto c = make();
    for (int i = 0; i < 2; ++i) EXPECT_TRUE(tick(*c).points.empty());
    const auto warnings = log.lines("warning");
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("fix [gpu] nvml_library"), std::string::npos) << warnings[0];
}

TEST_F(NvidiaCollectorTest, ALibraryWithoutNvmlSymbolsIsRefused) {
    LogCapture log;
    // Any shared library that is not NVML: the C library itself.
    config.gpu.nvml_library = "libc.so.6";
    auto c = make();
    EXPECT_TRUE(tick(*c).points.empty());
    const auto warnings = log.lines("warning");
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("libc.so.6 lacks the symbol nvmlInit_v2"), std::string::npos) << warnings[0];
}

TEST_F(NvidiaCollectorTest, NoGpuMeansNoSeriesAndNoError) {
    LogCapture log;
    auto c = make();
    EXPECT_TRUE(tick(*c).points.empty());
    EXPECT_TRUE(log.lines("warning").empty());
}

TEST_F(NvidiaCollectorTest, AGpuLostBetweenTicksStopsItsValuesSetsGpuUpToZeroAndWarnsOnce) {
    LogCapture log;
    fake.gpu("NVIDIA H100", "GPU-aaaa", 10, 1, 50, 100'000);
    fake.gpu("NVIDIA H100", "GPU-bbbb", 20, 1, 50, 100'000);
    auto c = make();
    Sample s = tick(*c);
    EXPECT_FALSE(series_of(s, "0").empty());
    EXPECT_FALSE(series_of(s, "1").empty());

    fake.set_result(1, "nvmlDeviceGetMemoryInfo", nvml::k_error_gpu_is_lost);
    for (int i = 0; i < 3; ++i) {
        s = tick(*c);
        EXPECT_EQ(series_of(s, "0").size(), 11u);
        EXPECT_EQ(s.find(SeriesKey("gpu_up", up_labels("0"))), 1.0);
        // Of a lost GPU only that it is lost: gpu_up 0, the series the gpu_lost rule watches.
        EXPECT_EQ(series_of(s, "1"), (std::map<std::string, double>{{"gpu_up", 0}}))
            << "GPU 1 is lost, yet values of it were reported";
        // Once lost, the driver fails every call for it, the handle lookup included.
        fake.set_result(1, "*", nvml::k_error_gpu_is_lost);
    }
    const auto warnings = log.lines("warning");
    ASSERT_EQ(warnings.size(), 1u) << ::testing::PrintToString(log.all());
    EXPECT_EQ(warnings[0],
              "warning: gpu_nvidia: GPU 1 (NVIDIA H100, GPU-bbbb) lost (fell off the bus?): nvmlDeviceGetMemoryInfo "
              "returned GPU is lost (NVML error 15); its series stop until it answers again (a GPU reset or "
              "reboot is usually needed)");

    // After a reset it answers again: its series resume, said once.
    fake.set_result(1, "*", 0);
    fake.set_result(1, "nvmlDeviceGetMemoryInfo", 0);
    s = tick(*c);
    EXPECT_EQ(series_of(s, "1").size(), 11u);
    EXPECT_EQ(s.find(SeriesKey("gpu_up", up_labels("1"))), 1.0);
    EXPECT_EQ(log.lines("info: gpu_nvidia: GPU 1 (GPU-bbbb) answers again").size(), 1u);
}

// K10 (b) end to end with the built-in rules: a lost GPU is an incident of its own (gpu_lost on
// gpu_up), raised after `for` ticks and resolved once the GPU answers again; the other GPU's
// rules see nothing.
TEST_F(NvidiaCollectorTest, ALostGpuOpensTheBuiltInGpuLostIncidentAndItResolvesWhenItAnswers) {
    LogCapture log;
    fake.gpu("NVIDIA H100", "GPU-aaaa", 10, 1, 50, 100'000);
    fake.gpu("NVIDIA H100", "GPU-bbbb", 20, 1, 50, 100'000);
    auto c = make();
    rules::test::Driver rules(default_config().rules);
    rules.tick(tick(*c).points);
    fake.set_result(1, "*", nvml::k_error_gpu_is_lost);
    for (int i = 0; i < 3; ++i) rules.tick(tick(*c).points);
    ASSERT_EQ(rules.notifications.size(), 1u) << rules.summary();
    const Notification fired = rules.notifications[0];  // a copy: later ticks grow the vector
    EXPECT_EQ(fired.rule, "gpu_lost");
    EXPECT_EQ(fired.kind, NotificationKind::firing);
    EXPECT_EQ(fired.severity, Severity::critical);
    EXPECT_EQ(fired.series, SeriesKey("gpu_up", up_labels("1")));
    EXPECT_EQ(fired.value, 0.0);
    EXPECT_NE(fired.description.find("fallen off the bus"), std::string::npos) << fired.description;

    fake.set_result(1, "*", 0);
    for (int i = 0; i < 3; ++i) rules.tick(tick(*c).points);
    ASSERT_EQ(rules.notifications.size(), 2u) << rules.summary();
    EXPECT_EQ(rules.notifications[1].kind, NotificationKind::resolved);
    EXPECT_EQ(rules.notifications[1].incident_id, fired.incident_id);
}

// K10 (c) end to end: NVML stuck in a call is the same incident for the GPUs it last answered
// for, without a stale value, and it resolves once the call has returned.
TEST_F(NvidiaCollectorTest, AStuckNvmlCallOpensTheGpuLostIncidentAndItResolvesOnceItReturns) {
    config.general.interval = 1s;  // deadline: 100 ms
    const unsigned g = fake.gpu("NVIDIA H100", "GPU-aaaa", 10, 1, 50, 100'000);
    auto c = make();
    rules::test::Driver rules(default_config().rules);
    rules.ctx.interval = config.general.interval;
    rules.tick(tick(*c).points);
    fake.set_block(g, "nvmlDeviceGetTemperature", 1500);
    for (int i = 0; i < 3; ++i) {
        Sample s;
        ASSERT_FALSE(collect(*c, s)) << "tick " << i << " succeeded while NVML was blocked";
        rules.tick(s.points);
    }
    ASSERT_EQ(rules.notifications.size(), 1u) << rules.summary();
    EXPECT_EQ(rules.notifications[0].rule, "gpu_lost");
    EXPECT_EQ(rules.notifications[0].series, SeriesKey("gpu_up", up_labels("0")));

    ASSERT_TRUE(test::wait_until(
        [&] {
            Sample s;
            return bool(collect(*c, s));
        },
        10s));
    for (int i = 0; i < 3; ++i) rules.tick(tick(*c).points);
    ASSERT_EQ(rules.notifications.size(), 2u) << rules.summary();
    EXPECT_EQ(rules.notifications[1].kind, NotificationKind::resolved);
}

TEST_F(NvidiaCollectorTest, XidEventsAreCountedPerGpuAndTheCountSurvivesARestart) {
    LogCapture log;
    fake.gpu("NVIDIA H100", "GPU-aaaa", 10, 1, 50, 100'000);
    fake.gpu("NVIDIA H100", "GPU-bbbb", 20, 1, 50, 100'000);
    auto xid = fake.sym<void (*)(unsigned, unsigned long long)>("fake_nvml_add_xid");
    ASSERT_NE(xid, nullptr);
    auto c = make();
    Sample s = tick(*c);  // registers both GPUs for XID events
    EXPECT_EQ(series_of(s, "0").at("gpu_xid_errors_total"), 0.0);
    xid(0, 79);
    xid(0, 79);
    xid(1, 48);
    for (int i = 0; i < 2; ++i) {
        s = tick(*c);
        EXPECT_EQ(series_of(s, "0").at("gpu_xid_errors_total"), 2.0);
        EXPECT_EQ(series_of(s, "1").at("gpu_xid_errors_total"), 1.0);
    }
    const auto warnings = log.lines("warning");
    ASSERT_EQ(warnings.size(), 2u) << ::testing::PrintToString(log.all());
    EXPECT_EQ(warnings[0], "warning: gpu_nvidia: GPU 0 (GPU-aaaa): the driver reported XID 79; see "
                           "https://docs.nvidia.com/deploy/xid-errors/ for what it means");

    // A new process of the same boot continues from the persisted count.
    c = make();
    s = tick(*c);
    EXPECT_EQ(series_of(s, "0").at("gpu_xid_errors_total"), 2.0);
    xid(0, 13);
    s = tick(*c);
    EXPECT_EQ(series_of(s, "0").at("gpu_xid_errors_total"), 3.0);
}

TEST_F(NvidiaCollectorTest, GpuMemoryPerProcessIsSummedOverGpusForTheServicesCollector) {
    LogCapture log;
    const unsigned a = fake.gpu("NVIDIA H100", "GPU-aaaa", 10, 40, 50, 100'000);
    const unsigned b = fake.gpu("NVIDIA H100", "GPU-bbbb", 10, 20, 50, 100'000);
    fake.add_process(a, "compute", 1001, 30ull << 30);
    fake.add_process(a, "graphics", 1001, 30ull << 30);  // the same allocation, listed twice
    fake.add_process(a, "compute", 1002, 10ull << 30);
    fake.add_process(b, "compute", 1001, 20ull << 30);
    fake.add_process(b, "graphics", 1003, nvml::k_value_not_available);
    // More processes than the first buffer holds: the collector grows it and asks again.
    for (unsigned pid = 2000; pid < 2100; ++pid) fake.add_process(b, "compute", pid, 1ull << 20);
    auto c = make();
    PassFacts facts;
    Sample s;
    ASSERT_TRUE(collect(*c, s, &facts));
    ASSERT_TRUE(facts.gpu_memory_by_pid.has_value());
    const auto& by_pid = *facts.gpu_memory_by_pid;
    EXPECT_EQ(by_pid.at(1001), 50ull << 30) << "30 GiB on GPU 0 (once) + 20 GiB on GPU 1";
    EXPECT_EQ(by_pid.at(1002), 10ull << 30);
    EXPECT_EQ(by_pid.count(1003), 0u) << "\"not available\" is not zero";
    EXPECT_EQ(by_pid.at(2099), 1ull << 20);
    EXPECT_EQ(by_pid.size(), 102u);
    EXPECT_TRUE(log.lines("warning").empty()) << ::testing::PrintToString(log.all());

    // A card that cannot list processes: no facts, no warning, asked only once.
    fake.reset();
    fake.set_result(fake.gpu("Tesla T4", "GPU-cccc", 10, 1, 50, 70'000), "nvmlDeviceGetComputeRunningProcesses",
                    nvml::k_error_not_supported);
    auto t4 = make();
    for (int i = 0; i < 3; ++i) {
        PassFacts none;
        Sample s2;
        ASSERT_TRUE(collect(*t4, s2, &none));
        EXPECT_FALSE(none.gpu_memory_by_pid.has_value());
        EXPECT_EQ(series_of(s2, "0").count("gpu_util_percent"), 1u);
    }
    EXPECT_EQ(fake.calls("nvmlDeviceGetComputeRunningProcesses"), 1u);
    EXPECT_TRUE(log.lines("warning").empty()) << ::testing::PrintToString(log.all());
}

TEST(GpuMemoryOfServices, AServiceProcessOnTheGpuShowsItsMemoryInOneCollectorPass) {
    FakeNvml fake;
    ASSERT_TRUE(fake.complete()) << "cannot load the fake NVML " << BOXMON_FAKE_NVML;
    fake.reset();
    // A real process for the service to find by its command line.
    const std::string token = "boxmon-gpu-svc-" + std::to_string(::getpid());
    test::Process chat({test::python3(), "-c", "import time\nprint('ready', flush=True)\ntime.sleep(60)\n", token});
    ASSERT_TRUE(chat.wait_for_out("ready", std::chrono::seconds(20)));
    const unsigned g = fake.gpu("NVIDIA H100", "GPU-aaaa", 10, 40, 50, 100'000);
    fake.add_process(g, "compute", static_cast<unsigned>(chat.pid()), 24ull << 30);
    fake.add_process(g, "compute", static_cast<unsigned>(chat.pid()) + 100000, 1ull << 30);  // not the service

    Config config;
    config.gpu.nvml_library = BOXMON_FAKE_NVML;
    ServiceConfig svc;
    svc.name = "chat";
    svc.match = token;
    config.services.push_back(svc);
    CollectorSet set(config);
    const auto pass = set.collect(RootFs{}, Instant{}, WallTime{}, nullptr);
    EXPECT_EQ(pass.sample.find(SeriesKey("service_up", {{"service", "chat"}})), 1.0);
    EXPECT_EQ(pass.sample.find(SeriesKey("service_gpu_memory_bytes", {{"service", "chat"}})),
              static_cast<double>(24ull << 30));
}

// A host without GPUs: "no driver" / "no card" is said at info level once per boot, even across
// one-shot runs (the mark is kept with the persisted counters), and at debug level after that.
TEST(GpuAbsence, IsSaidOncePerBootAcrossProcesses) {
    if (void* real = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL)) {
        dlclose(real);
        GTEST_SKIP() << "this host has an NVIDIA driver; the test needs one without";
    }
    const test::TempDir empty;  // no /sys/class/drm: no AMD card either
    const RootFs root(empty / "proc", empty / "sys");
    Config config;  // the default library names
    CounterSnapshot previous;
    auto run_process = [&] {
        LogCapture log;
        RateTracker rates(&previous, "boot-1", 1000s, WallTime{}, config.general.interval);
        CollectContext ctx{root, config, Instant{}, rates};
        for (auto make : {&make_gpu_nvidia_collector, &make_gpu_amd_collector}) {
            auto c = make(config);
            Sample s;
            EXPECT_TRUE(c->collect(ctx, s));
            EXPECT_TRUE(s.points.empty());
        }
        previous = rates.take_snapshot();
        return log.lines("info");
    };
    const auto first = run_process();
    ASSERT_EQ(first.size(), 2U) << ::testing::PrintToString(first);
    EXPECT_TRUE(first[0].starts_with("info: gpu_nvidia: no NVIDIA driver loaded (")) << first[0];
    EXPECT_TRUE(first[1].starts_with("info: gpu_amd: no amdgpu card under ")) << first[1];
    EXPECT_TRUE(run_process().empty()) << "a second one-shot run of the same boot repeats it";
    previous.boot_id = "boot-0";  // the counters of an earlier boot: said again
    EXPECT_EQ(run_process().size(), 2U);
}

TEST(MergeGpuProcesses, OneEntryPerPidWithTheLargerFigure) {
    const std::vector<GpuProcess> compute = {{1, 100}, {2, std::nullopt}, {3, 50}};
    const std::vector<GpuProcess> graphics = {{1, 80}, {2, 7}, {4, std::nullopt}};
    const auto got = merge_gpu_processes(compute, graphics);
    ASSERT_EQ(got.size(), 4u);
    EXPECT_EQ(got[0].pid, 1u);
    EXPECT_EQ(got[0].memory_bytes, 100u);
    EXPECT_EQ(got[1].memory_bytes, 7u) << "a figure beats none";
    EXPECT_EQ(got[2].memory_bytes, 50u);
    EXPECT_EQ(got[3].pid, 4u);
    EXPECT_FALSE(got[3].memory_bytes.has_value());
    EXPECT_TRUE(merge_gpu_processes({}, {}).empty());
}

TEST_F(NvidiaCollectorTest, WithoutXidEventsTheirSeriesIsAbsent) {
    LogCapture log;
    const unsigned g = fake.gpu("Tesla T4", "GPU-aaaa", 10, 1, 50, 70'000);
    fake.set_result(g, "nvmlDeviceRegisterEvents", nvml::k_error_not_supported);
    auto c = make();
    const auto got = series_of(tick(*c), "0");
    EXPECT_EQ(got.count("gpu_xid_errors_total"), 0u);
    EXPECT_EQ(got.count("gpu_util_percent"), 1u);
    EXPECT_TRUE(log.lines("warning").empty());
}

TEST_F(NvidiaCollectorTest, ABlockingCallDoesNotStallTheTickServesNoStaleValueAndSetsGpuUpToZero) {
    config.general.interval = 1s;  // deadline: 100 ms
    const unsigned g = fake.gpu("NVIDIA H100", "GPU-aaaa", 10, 1, 50, 100'000);
    auto c = make();
    EXPECT_EQ(series_of(tick(*c), "0").at("gpu_temperature_celsius"), 50.0);

    fake.set_value(g, "temp", 70);
    fake.set_block(g, "nvmlDeviceGetPowerUsage", 1500);
    for (int i = 0; i < 3; ++i) {
        Sample s;
        const auto start = std::chrono::steady_clock::now();
        auto r = collect(*c, s);
        const auto took = std::chrono::steady_clock::now() - start;
        // Bounded: the deadline (100 ms) plus scheduling slack, far below the 1.5 s block.
        EXPECT_LT(took, 1000ms) << "tick " << i;
        ASSERT_FALSE(r) << "tick " << i << " succeeded while NVML was blocked";
        EXPECT_EQ(r.error().kind, ErrorKind::timeout);
        EXPECT_TRUE(r.error().message.starts_with(
            "GPU collector stuck: nvmlDeviceGetPowerUsage on GPU 0 has not returned since "))
            << r.error().message;
        // Only this tick's own finding, that GPU 0 does not answer; no value is served.
        ASSERT_EQ(s.points.size(), 1u) << "values were served while the collector was stuck";
        EXPECT_EQ(s.points[0].key, SeriesKey("gpu_up", up_labels("0")));
        EXPECT_EQ(s.points[0].value, 0.0);
        // The persisted XID count is carried over, so a restart now would not lose it.
        EXPECT_EQ(previous.values.count("gpu_nvidia/GPU-aaaa/xid_errors"), 1u);
    }
    EXPECT_EQ(fake.max_concurrent(), 1) << "a second NVML call was made while one was blocked";

    // The blocked request read the temperature (70) before it blocked; its answer must be
    // dropped, and the first tick after it returns must ask again and see the new value.
    fake.set_value(g, "temp", 80);
    Sample s;
    ASSERT_TRUE(test::wait_until(
        [&] {
            s = Sample{};
            return bool(collect(*c, s));
        },
        10s));
    EXPECT_EQ(series_of(s, "0").at("gpu_temperature_celsius"), 80.0);
    EXPECT_EQ(fake.max_concurrent(), 1);
}

TEST_F(NvidiaCollectorTest, ASlowInitIsWaitedForBrieflyThenTheTickGoesOnWithoutGpuSeries) {
    LogCapture log;
    config.general.interval = 1s;  // the first request may take 500 ms
    fake.gpu("NVIDIA H100", "GPU-aaaa", 10, 1, 50, 100'000);
    auto block_init = fake.sym<void (*)(unsigned)>("fake_nvml_set_init_block");
    ASSERT_NE(block_init, nullptr);
    block_init(1500);
    auto c = make();
    for (int i = 0; i < 2; ++i) {
        Sample s;
        const auto start = std::chrono::steady_clock::now();
        auto r = collect(*c, s);
        EXPECT_LT(std::chrono::steady_clock::now() - start, 1200ms);
        // Starting is not failing: no error, no series yet.
        EXPECT_TRUE(r) << r.error().message;
        EXPECT_TRUE(s.points.empty());
    }
    EXPECT_EQ(log.lines("info: gpu_nvidia: NVML is still starting").size(), 1u);
    Sample s;
    ASSERT_TRUE(test::wait_until(
        [&] {
            s = Sample{};
            return collect(*c, s) && !s.points.empty();
        },
        10s));
    EXPECT_EQ(series_of(s, "0").at("gpu_temperature_celsius"), 50.0);
    EXPECT_EQ(fake.calls("nvmlInit_v2"), 1u);
}

TEST_F(NvidiaCollectorTest, DestroyingTheCollectorShutsNvmlDown) {
    fake.gpu("NVIDIA H100", "GPU-aaaa", 10, 1, 50, 100'000);
    {
        auto c = make();
        tick(*c);
        EXPECT_EQ(fake.calls("nvmlShutdown"), 0u);
    }
    EXPECT_EQ(fake.calls("nvmlInit_v2"), 1u);
    EXPECT_EQ(fake.calls("nvmlShutdown"), 1u);
}

TEST_F(NvidiaCollectorTest, SwitchedOffInTheConfigMeansNoCollector) {
    config.gpu.nvidia = false;
    EXPECT_EQ(make(), nullptr);
    EXPECT_EQ(fake.calls("*"), 0u);
}

struct SummaryCase {
    const char* name;
    std::vector<UtilSample> samples;
    std::uint64_t after;
    std::optional<UtilSummary> want;
};

// Names the case in test output instead of dumping its bytes.
void PrintTo(const SummaryCase& c, std::ostream* os) { *os << c.name; }

class SummarizeUtilization : public ::testing::TestWithParam<SummaryCase> {};

TEST_P(SummarizeUtilization, GivesMeanMaxAndNewestOfTheNewSamples) {
    const auto& c = GetParam();
    const auto got = summarize_utilization(c.samples, c.after);
    ASSERT_EQ(got.has_value(), c.want.has_value());
    if (!got) return;
    EXPECT_DOUBLE_EQ(got->mean, c.want->mean);
    EXPECT_DOUBLE_EQ(got->max, c.want->max);
    EXPECT_EQ(got->last_ts_us, c.want->last_ts_us);
    EXPECT_EQ(got->count, c.want->count);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, SummarizeUtilization,
    ::testing::Values(SummaryCase{"empty", {}, 0, std::nullopt},
                      SummaryCase{"all_older", {{5, 10}, {6, 20}}, 6, std::nullopt},
                      SummaryCase{"one", {{7, 33}}, 0, UtilSummary{33, 33, 7, 1}},
                      SummaryCase{"some_newer", {{5, 100}, {6, 20}, {7, 40}}, 5, UtilSummary{30, 40, 7, 2}},
                      SummaryCase{"unordered", {{9, 0}, {7, 100}, {8, 50}}, 0, UtilSummary{50, 100, 9, 3}},
                      SummaryCase{"all_zero", {{1, 0}, {2, 0}}, 0, UtilSummary{0, 0, 2, 2}}),
    [](const ::testing::TestParamInfo<SummaryCase>& tp) { return std::string(tp.param.name); });

}  // namespace
}  // namespace boxmon::collector
