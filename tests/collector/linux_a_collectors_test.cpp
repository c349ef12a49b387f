// The cpu, memory, pressure, load, uptime and temperature collectors on fixture trees: the
// captured VM, two hand-made machine shapes (a 96-CPU GPU server whose CPU 57 goes offline, and
// a 4-CPU box on Linux 4.19 without PSI, swap or hwmon), and edge cases written to a temporary
// tree (counters going backwards, odd elapsed times, missing and malformed files).

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "collector/collector_set.hpp"
#include "collector/linux/hwmon.hpp"
#include "collector/registry.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon::collector {
namespace {

namespace fs = std::filesystem;
using boxmon::test::fixtures_dir;
using boxmon::test::TempDir;
using boxmon::test::write_file;

fs::path tree(const std::string& machine, const std::string& t) { return fixtures_dir() / "linux" / machine / t; }

// clock.txt: "wall_ms boottime_ns".
Instant read_clock(const fs::path& dir) {
    std::ifstream in(dir / "clock.txt");
    long long wall_ms = 0;
    long long boot_ns = 0;
    in >> wall_ms >> boot_ns;
    Instant now;
    now.wall = WallTime{std::chrono::milliseconds{wall_ms}};
    now.boottime = Nanos{boot_ns};
    now.monotonic = Nanos{boot_ns};
    return now;
}

// Drives one collector through a sequence of snapshot trees, carrying the counters between
// ticks the way the agent does.
class Harness {
public:
    explicit Harness(std::unique_ptr<Collector> (*make)(const Config&)) : m_collector(make(m_config)) {}

    // One tick on `dir` (with proc/, sys/ and clock.txt); the points land in last().
    Result<void> tick(const fs::path& dir) {
        m_sample = Sample{};
        RootFs root(dir / "proc", dir / "sys");
        const Instant now = read_clock(dir);
        RateTracker rates(m_previous.empty() ? nullptr : &m_previous, read_boot_id(root), now.boottime, now.wall,
                          m_config.general.interval);
        CollectContext ctx{root, m_config, now, rates};
        auto r = m_collector->collect(ctx, m_sample);
        m_previous = rates.take_snapshot();
        for (const auto& p : m_sample.points) EXPECT_TRUE(std::isfinite(p.value)) << p.key.to_string();
        return r;
    }
    const Sample& last() const { return m_sample; }
    std::optional<double> value(const std::string& name, std::vector<Label> labels = {}) const {
        return m_sample.find(SeriesKey(name, std::move(labels)));
    }
    std::vector<std::string> names() const {
        std::vector<std::string> out;
        for (const auto& p : m_sample.points) out.push_back(p.key.to_string());
        return out;
    }

private:
    Config m_config;
    std::unique_ptr<Collector> m_collector;
    CounterSnapshot m_previous;
    Sample m_sample;
};

// A hand-written snapshot tree: /proc/stat and friends from strings, and its clock.
class Scratch {
public:
    fs::path snapshot(const std::string& name, long long boot_ms, const std::map<std::string, std::string>& proc,
                      const std::string& boot_id = "11111111-2222-3333-4444-555555555555") {
        const fs::path dir = m_dir / name;
        for (const auto& [rel, text] : proc) write_file(dir / "proc" / rel, text);
        write_file(dir / "proc/sys/kernel/random/boot_id", boot_id + "\n");
        fs::create_directories(dir / "sys");
        write_file(dir / "clock.txt", fmt::format("{} {}\n", 1'795'450'000'000 + boot_ms, boot_ms * 1'000'000));
        return dir;
    }
    const fs::path& path() const { return m_dir.path(); }

private:
    TempDir m_dir;
};

// ---- cpu ----

TEST(CpuCollector, gives_nothing_on_the_first_reading_then_the_busy_share) {
    Harness h(&make_cpu_collector);
    ASSERT_TRUE(h.tick(tree("vm-debian12", "t0")));
    EXPECT_FALSE(h.value("cpu_percent"));
    EXPECT_EQ(h.value("cpu_count"), 2.0);
    ASSERT_TRUE(h.tick(tree("vm-debian12", "t1")));
    // Independent arithmetic on the two aggregate lines of the capture.
    auto agg = [](const fs::path& dir) {
        std::ifstream in(dir / "proc/stat");
        std::string cpu;
        double v[10] = {};
        in >> cpu;
        for (double& x : v) in >> x;
        const double total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
        return std::array<double, 3>{total, v[3] + v[4], v[7]};
    };
    const auto a = agg(tree("vm-debian12", "t0"));
    const auto b = agg(tree("vm-debian12", "t1"));
    const double expected = 100.0 * (1.0 - (b[1] - a[1]) / (b[0] - a[0]));
    ASSERT_TRUE(h.value("cpu_percent"));
    EXPECT_NEAR(*h.value("cpu_percent"), expected, 1e-9);
    EXPECT_TRUE(h.value("cpu_iowait_percent"));
    EXPECT_EQ(h.value("cpu_steal_percent"), 100.0 * (b[2] - a[2]) / (b[0] - a[0]));
}

TEST(CpuCollector, a_96_cpu_server_losing_a_cpu_still_gives_the_right_share) {
    Harness h(&make_cpu_collector);
    ASSERT_TRUE(h.tick(tree("gpu-server-96c", "t0")));
    EXPECT_EQ(h.value("cpu_count"), 96.0);
    ASSERT_TRUE(h.tick(tree("gpu-server-96c", "t1")));
    EXPECT_EQ(h.value("cpu_count"), 95.0);
    // Worked out when the fixture was made: 95 CPUs x 500 jiffies, 16340 of them idle or iowait.
    ASSERT_TRUE(h.value("cpu_percent"));
    EXPECT_NEAR(*h.value("cpu_percent"), 65.59789473684211, 1e-9);
    EXPECT_NEAR(h.value("cpu_iowait_percent").value_or(-1), 0.9810526315789474, 1e-9);
    EXPECT_EQ(h.value("cpu_steal_percent"), 0.0);
}

TEST(CpuCollector, guest_time_is_not_counted_twice) {
    // small-box runs a KVM guest: 80 of each CPU's 200 user jiffies are guest time.
    Harness h(&make_cpu_collector);
    ASSERT_TRUE(h.tick(tree("small-box", "t0")));
    ASSERT_TRUE(h.tick(tree("small-box", "t1")));
    EXPECT_NEAR(h.value("cpu_percent").value_or(-1), 51.0, 1e-9);
    EXPECT_NEAR(h.value("cpu_iowait_percent").value_or(-1), 4.0, 1e-9);
}

struct CpuAnomaly {
    const char* name;
    const char* t0;
    const char* t1;
    long long gap_ms;
    std::optional<double> busy;
    std::optional<double> iowait;
    std::optional<double> steal;
};

class CpuAnomalies : public testing::TestWithParam<CpuAnomaly> {};

TEST_P(CpuAnomalies, never_give_a_wrong_value) {
    const auto& c = GetParam();
    Scratch s;
    Harness h(&make_cpu_collector);
    ASSERT_TRUE(h.tick(s.snapshot("t0", 100'000, {{"stat", c.t0}})));
    ASSERT_TRUE(h.tick(s.snapshot("t1", 100'000 + c.gap_ms, {{"stat", c.t1}})));
    EXPECT_EQ(h.value("cpu_percent"), c.busy);
    EXPECT_EQ(h.value("cpu_iowait_percent"), c.iowait);
    EXPECT_EQ(h.value("cpu_steal_percent"), c.steal);
}

// Columns: user nice system idle iowait irq softirq steal guest guest_nice.
INSTANTIATE_TEST_SUITE_P(
    K8, CpuAnomalies,
    testing::Values(
        CpuAnomaly{"normal", "cpu 100 0 100 700 50 0 0 50 0 0\n", "cpu 200 0 200 1300 150 0 0 150 0 0\n", 5000, 30.0,
                   10.0, 10.0},
        CpuAnomaly{"total_went_backwards", "cpu 200 0 200 1300 150 0 0 150 0 0\n", "cpu 100 0 100 700 50 0 0 50 0 0\n",
                   5000, std::nullopt, std::nullopt, std::nullopt},
        // The kernel's iowait can decrease (NO_HZ accounting); idle + iowait still grew.
        CpuAnomaly{"iowait_decreasing", "cpu 100 0 100 700 50 0 0 0 0 0\n", "cpu 200 0 200 1340 10 0 0 0 0 0\n", 5000,
                   25.0, std::nullopt, 0.0},
        CpuAnomaly{"idle_went_backwards", "cpu 100 0 100 700 50 0 0 0 0 0\n", "cpu 900 0 200 600 50 0 0 0 0 0\n", 5000,
                   std::nullopt, 0.0, 0.0},
        // Some hypervisors report steal jumps while idle goes backwards: steal grows by more than
        // the whole total.
        CpuAnomaly{"steal_above_total", "cpu 100 0 100 700 50 0 0 50 0 0\n", "cpu 100 0 100 600 50 0 0 300 0 0\n",
                   5000, std::nullopt, 0.0, std::nullopt},
        CpuAnomaly{"same_jiffy", "cpu 100 0 100 700 50 0 0 50 0 0\n", "cpu 100 0 100 700 50 0 0 50 0 0\n", 5000,
                   std::nullopt, std::nullopt, std::nullopt},
        CpuAnomaly{"old_kernel_7_columns_has_no_steal", "cpu 100 0 100 700 50 0 0\n", "cpu 200 0 200 1400 150 0 0\n",
                   5000, 20.0, 10.0, std::nullopt},
        CpuAnomaly{"guest_above_zero", "cpu 100 0 100 800 0 0 0 0 60 0\n", "cpu 300 0 100 1600 0 0 0 0 260 0\n", 5000,
                   20.0, 0.0, 0.0},
        CpuAnomaly{"cpu3_offline_in_t1", "cpu 400 0 0 400 0 0 0 0 0 0\ncpu0 100 0 0 100 0 0 0 0 0 0\ncpu3 300 0 0 300 0 0 0 0 0 0\n",
                   "cpu 500 0 0 500 0 0 0 0 0 0\ncpu0 200 0 0 200 0 0 0 0 0 0\n", 5000, 50.0, 0.0, 0.0},
        // K9: too soon (10 ms) and too late (3 days) give no value at all.
        CpuAnomaly{"ten_milliseconds_apart", "cpu 100 0 100 700 50 0 0 50 0 0\n", "cpu 101 0 100 702 50 0 0 50 0 0\n",
                   10, std::nullopt, std::nullopt, std::nullopt},
        CpuAnomaly{"three_days_apart", "cpu 100 0 100 700 50 0 0 50 0 0\n", "cpu 200 0 200 1300 150 0 0 150 0 0\n",
                   3LL * 86'400'000, std::nullopt, std::nullopt, std::nullopt}),
    [](const auto& tp) { return std::string(tp.param.name); });

TEST(CpuCollector, a_new_boot_gives_no_value) {
    Scratch s;
    Harness h(&make_cpu_collector);
    ASSERT_TRUE(h.tick(s.snapshot("t0", 100'000, {{"stat", "cpu 100 0 100 700 50 0 0 50 0 0\n"}})));
    ASSERT_TRUE(h.tick(s.snapshot("t1", 105'000, {{"stat", "cpu 200 0 200 1300 150 0 0 150 0 0\n"}},
                                  "99999999-2222-3333-4444-555555555555")));
    EXPECT_FALSE(h.value("cpu_percent"));
}

TEST(CpuCollector, recovers_on_the_tick_after_a_counter_went_backwards) {
    Scratch s;
    Harness h(&make_cpu_collector);
    ASSERT_TRUE(h.tick(s.snapshot("t0", 100'000, {{"stat", "cpu 900 0 100 7000 0 0 0 0 0 0\n"}})));
    ASSERT_TRUE(h.tick(s.snapshot("t1", 105'000, {{"stat", "cpu 100 0 100 700 0 0 0 0 0 0\n"}})));
    EXPECT_FALSE(h.value("cpu_percent"));
    ASSERT_TRUE(h.tick(s.snapshot("t2", 110'000, {{"stat", "cpu 400 0 100 1400 0 0 0 0 0 0\n"}})));
    EXPECT_EQ(h.value("cpu_percent"), 30.0);
}

TEST(CpuCollector, a_missing_file_fails_naming_the_path) {
    Scratch s;
    Harness h(&make_cpu_collector);
    const fs::path dir = s.snapshot("t0", 100'000, {});
    auto r = h.tick(dir);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, fmt::format("open {}: No such file or directory", (dir / "proc/stat").string()));
    EXPECT_EQ(r.error().kind, ErrorKind::not_found);
}

TEST(CpuCollector, a_malformed_file_fails_naming_the_path_and_the_line) {
    Scratch s;
    Harness h(&make_cpu_collector);
    const fs::path dir = s.snapshot("t0", 100'000, {{"stat", "intr 5\ncpu 1 2 x 4\n"}});
    auto r = h.tick(dir);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, fmt::format(R"({}: line 2: cpu: field 4 "x" is not a non-negative integer below 2^64)",
                                             (dir / "proc/stat").string()));
    EXPECT_TRUE(h.last().points.empty());
}

// ---- memory ----

TEST(MemoryCollector, reports_memory_and_swap_of_the_gpu_server) {
    Harness h(&make_memory_collector);
    ASSERT_TRUE(h.tick(tree("gpu-server-96c", "t0")));
    const double total = 528'151'552.0 * 1024;
    const double available = 389'000'000.0 * 1024;
    EXPECT_EQ(h.value("mem_total_bytes"), total);
    EXPECT_EQ(h.value("mem_available_bytes"), available);
    EXPECT_EQ(h.value("mem_used_bytes"), total - available);
    EXPECT_NEAR(h.value("mem_used_percent").value_or(-1), 100.0 * (total - available) / total, 1e-9);
    EXPECT_EQ(h.value("swap_total_bytes"), 8'388'604.0 * 1024);
    EXPECT_EQ(h.value("swap_used_bytes"), (8'388'604.0 - 6'291'452.0) * 1024);
    EXPECT_NEAR(h.value("swap_used_percent").value_or(-1), 100.0 * (8'388'604.0 - 6'291'452.0) / 8'388'604.0, 1e-9);
}

TEST(MemoryCollector, without_swap_the_swap_share_is_absent_not_zero) {
    Harness h(&make_memory_collector);
    ASSERT_TRUE(h.tick(tree("small-box", "t0")));
    EXPECT_EQ(h.value("swap_total_bytes"), 0.0);
    EXPECT_FALSE(h.value("swap_used_percent"));
    EXPECT_NEAR(h.value("mem_used_percent").value_or(-1), 100.0 * (8'029'100.0 - 5'219'000.0) / 8'029'100.0, 1e-9);
}

TEST(MemoryCollector, an_old_kernel_without_memavailable_reports_no_used_share) {
    Scratch s;
    Harness h(&make_memory_collector);
    ASSERT_TRUE(h.tick(s.snapshot("t0", 1000, {{"meminfo", "MemTotal: 1000 kB\nMemFree: 10 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n"}})));
    EXPECT_EQ(h.value("mem_total_bytes"), 1'024'000.0);
    EXPECT_FALSE(h.value("mem_used_percent"));
    EXPECT_FALSE(h.value("mem_available_bytes"));
}

TEST(MemoryCollector, available_above_total_is_not_reported) {
    Scratch s;
    Harness h(&make_memory_collector);
    ASSERT_TRUE(h.tick(s.snapshot("t0", 1000, {{"meminfo", "MemTotal: 1000 kB\nMemAvailable: 2000 kB\n"}})));
    EXPECT_FALSE(h.value("mem_used_percent"));
    EXPECT_EQ(h.value("mem_total_bytes"), 1'024'000.0);
}

TEST(MemoryCollector, a_malformed_file_fails_naming_the_path) {
    Scratch s;
    Harness h(&make_memory_collector);
    const fs::path dir = s.snapshot("t0", 1000, {{"meminfo", "garbage\n"}});
    auto r = h.tick(dir);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, fmt::format(R"({}: no MemTotal line (the file starts "garbage"); is this /proc/meminfo?)",
                                             (dir / "proc/meminfo").string()));
}

// ---- pressure ----

TEST(PressureCollector, gives_the_stalled_share_over_the_interval) {
    Harness h(&make_pressure_collector);
    ASSERT_TRUE(h.tick(tree("gpu-server-96c", "t0")));
    EXPECT_TRUE(h.last().points.empty());  // first reading: no interval yet
    ASSERT_TRUE(h.tick(tree("gpu-server-96c", "t1")));
    EXPECT_NEAR(h.value("pressure_cpu_some_percent").value_or(-1), 25.0, 1e-9);
    EXPECT_NEAR(h.value("pressure_memory_some_percent").value_or(-1), 2.0, 1e-9);
    EXPECT_NEAR(h.value("pressure_memory_full_percent").value_or(-1), 1.0, 1e-9);
    EXPECT_NEAR(h.value("pressure_io_some_percent").value_or(-1), 8.0, 1e-9);
    EXPECT_NEAR(h.value("pressure_io_full_percent").value_or(-1), 4.0, 1e-9);
    EXPECT_FALSE(h.value("pressure_cpu_full_percent"));
    EXPECT_EQ(h.last().points.size(), 5u);
}

TEST(PressureCollector, a_kernel_without_psi_is_reported_as_not_found) {
    Harness h(&make_pressure_collector);
    auto r = h.tick(tree("small-box", "t0"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::not_found);
    EXPECT_EQ(r.error().message,
              fmt::format("{}: not present (Linux older than 4.20, or booted with psi=0); no pressure series",
                          (tree("small-box", "t0") / "proc/pressure").string()));
}

TEST(PressureCollector, one_malformed_file_does_not_hide_the_others) {
    Scratch s;
    Harness h(&make_pressure_collector);
    const std::string good0 = "some avg10=0.00 avg60=0.00 avg300=0.00 total=1000000\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";
    const std::string good1 = "some avg10=0.00 avg60=0.00 avg300=0.00 total=2000000\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=500000\n";
    ASSERT_TRUE(h.tick(s.snapshot("t0", 100'000, {{"pressure/cpu", good0}, {"pressure/memory", good0}, {"pressure/io", good0}})));
    ASSERT_TRUE(h.tick(s.snapshot("t1", 110'000, {{"pressure/cpu", good1}, {"pressure/memory", "some avg10=x\n"}, {"pressure/io", good1}})));
    EXPECT_NEAR(h.value("pressure_cpu_some_percent").value_or(-1), 10.0, 1e-9);
    EXPECT_NEAR(h.value("pressure_io_full_percent").value_or(-1), 5.0, 1e-9);
    EXPECT_FALSE(h.value("pressure_memory_some_percent"));
}

TEST(PressureCollector, all_files_malformed_fails_with_the_first_reason) {
    Scratch s;
    Harness h(&make_pressure_collector);
    const fs::path dir = s.snapshot("t0", 1000, {{"pressure/cpu", ""}, {"pressure/memory", ""}, {"pressure/io", ""}});
    auto r = h.tick(dir);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, fmt::format(R"({}: no "some" line (the file starts ""))", (dir / "proc/pressure/cpu").string()));
}

// ---- load and uptime ----

TEST(LoadCollector, reports_the_three_averages) {
    Harness h(&make_load_collector);
    ASSERT_TRUE(h.tick(tree("gpu-server-96c", "t1")));
    EXPECT_EQ(h.value("load1"), 61.40);
    EXPECT_EQ(h.value("load5"), 58.95);
    EXPECT_EQ(h.value("load15"), 55.15);
}

TEST(LoadCollector, a_truncated_file_fails_naming_the_path) {
    Scratch s;
    Harness h(&make_load_collector);
    const fs::path dir = s.snapshot("t0", 1000, {{"loadavg", "0.5 0.4"}});
    auto r = h.tick(dir);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, fmt::format(R"({}: the 15-minute load average is missing (the file is "0.5 0.4"))",
                                             (dir / "proc/loadavg").string()));
}

TEST(UptimeCollector, reports_seconds_since_boot) {
    Harness h(&make_uptime_collector);
    ASSERT_TRUE(h.tick(tree("small-box", "t1")));
    EXPECT_EQ(h.value("uptime_seconds"), 4000005.51);
}

TEST(UptimeCollector, a_missing_file_fails) {
    Scratch s;
    Harness h(&make_uptime_collector);
    auto r = h.tick(s.snapshot("t0", 1000, {}));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::not_found);
}

// ---- temperature ----

std::vector<Label> sensor(const std::string& chip, const std::string& name) { return {{"chip", chip}, {"sensor", name}}; }

TEST(TemperatureCollector, finds_every_sensor_of_the_gpu_server) {
    Harness h(&make_temperature_collector);
    ASSERT_TRUE(h.tick(tree("gpu-server-96c", "t1")));
    EXPECT_EQ(h.value("temperature_celsius", sensor("coretemp_0", "Package id 0")), 72.0);
    EXPECT_EQ(h.value("temperature_celsius", sensor("coretemp_1", "Package id 1")), 70.0);
    EXPECT_EQ(h.value("temperature_critical_celsius", sensor("coretemp_1", "Core 3")), 100.0);
    EXPECT_EQ(h.value("temperature_celsius", sensor("nvme_0", "Sensor 2")), 51.85);
    EXPECT_FALSE(h.value("temperature_critical_celsius", sensor("nvme_0", "Sensor 2")));
    EXPECT_EQ(h.value("temperature_critical_celsius", sensor("nvme_0", "Composite")), 84.85);
    EXPECT_EQ(h.value("temperature_celsius", sensor("nvme_1", "Composite")), 39.85);
    // hwmon10 comes after hwmon4, not between hwmon1 and hwmon2.
    EXPECT_EQ(h.value("temperature_celsius", sensor("nvme_2", "Composite")), 36.85);
    EXPECT_EQ(h.value("temperature_celsius", sensor("amdgpu", "junction")), 84.0);
    EXPECT_EQ(h.value("temperature_celsius", sensor("acpitz", "temp1")), 27.8);
    // The acpitz thermal zone is the acpitz hwmon chip again: reported once.
    EXPECT_FALSE(h.value("temperature_celsius", sensor("thermal_zone0", "acpitz")));
    EXPECT_EQ(h.value("temperature_celsius", sensor("thermal_zone1", "x86_pkg_temp")), 72.0);
    EXPECT_FALSE(h.value("temperature_critical_celsius", sensor("thermal_zone1", "x86_pkg_temp")));
    EXPECT_EQ(h.value("temperature_max_celsius"), 84.0);
    int sensors = 0;
    for (const auto& p : h.last().points) sensors += p.key.name() == "temperature_celsius";
    EXPECT_EQ(sensors, 1 + 5 + 5 + 3 + 1 + 3 + 1 + 1);
}

TEST(TemperatureCollector, reads_thermal_zones_with_their_critical_trip_point) {
    Harness h(&make_temperature_collector);
    ASSERT_TRUE(h.tick(tree("small-box", "t0")));
    EXPECT_EQ(h.value("temperature_celsius", sensor("thermal_zone0", "acpitz")), 38.0);
    EXPECT_EQ(h.value("temperature_critical_celsius", sensor("thermal_zone0", "acpitz")), 98.0);
    EXPECT_EQ(h.value("temperature_celsius", sensor("thermal_zone1", "x86_pkg_temp")), 47.0);
    EXPECT_EQ(h.value("temperature_max_celsius"), 47.0);
    EXPECT_EQ(h.last().points.size(), 4u);
}

TEST(TemperatureCollector, a_machine_without_sensors_reports_nothing_and_succeeds) {
    Harness h(&make_temperature_collector);
    ASSERT_TRUE(h.tick(tree("vm-debian12", "t0")));
    EXPECT_TRUE(h.last().points.empty());
}

TEST(TemperatureCollector, a_broken_sensor_does_not_hide_the_others_and_new_chips_are_found) {
    Scratch s;
    const fs::path dir = s.snapshot("t0", 1000, {});
    write_file(dir / "sys/class/hwmon/hwmon0/name", "k10temp\n");
    write_file(dir / "sys/class/hwmon/hwmon0/temp1_input", "55125\n");
    write_file(dir / "sys/class/hwmon/hwmon0/temp1_label", "Tctl\n");
    write_file(dir / "sys/class/hwmon/hwmon0/temp2_input", "-273000\n");  // a driver's "no reading"
    write_file(dir / "sys/class/hwmon/hwmon0/temp3_input", "garbage\n");
    Harness h(&make_temperature_collector);
    ASSERT_TRUE(h.tick(dir));
    EXPECT_EQ(h.value("temperature_celsius", sensor("k10temp", "Tctl")), 55.125);
    EXPECT_EQ(h.names().size(), 2u);  // Tctl and the maximum

    // A chip appears (a drive hot-plugged) and a sensor file vanishes.
    write_file(dir / "sys/class/hwmon/hwmon1/name", "drivetemp\n");
    write_file(dir / "sys/class/hwmon/hwmon1/temp1_input", "30000\n");
    fs::remove(dir / "sys/class/hwmon/hwmon0/temp3_input");
    ASSERT_TRUE(h.tick(dir));
    EXPECT_EQ(h.value("temperature_celsius", sensor("drivetemp", "temp1")), 30.0);
    EXPECT_EQ(h.value("temperature_max_celsius"), 55.125);
}

TEST(TemperatureCollector, fails_when_no_sensor_can_be_read) {
    Scratch s;
    const fs::path dir = s.snapshot("t0", 1000, {});
    write_file(dir / "sys/class/hwmon/hwmon0/name", "k10temp\n");
    write_file(dir / "sys/class/hwmon/hwmon0/temp1_input", "hot\n");
    Harness h(&make_temperature_collector);
    auto r = h.tick(dir);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message,
              fmt::format(R"(no temperature sensor could be read: {}: "hot" is not a temperature in millidegrees)",
                          (dir / "sys/class/hwmon/hwmon0/temp1_input").string()));
}

TEST(Hwmon, labels_repeated_within_a_chip_stay_apart) {
    Scratch s;
    const fs::path dir = s.snapshot("t0", 1000, {});
    for (int i = 1; i <= 2; ++i) {
        write_file(dir / fmt::format("sys/class/hwmon/hwmon0/temp{}_input", i), "40000\n");
        write_file(dir / fmt::format("sys/class/hwmon/hwmon0/temp{}_label", i), "Core 0\n");
    }
    write_file(dir / "sys/class/hwmon/hwmon0/name", "coretemp\n");
    const auto found = kernel::discover_temperature_sensors(RootFs(dir / "proc", dir / "sys"));
    ASSERT_EQ(found.sensors.size(), 2u);
    EXPECT_EQ(found.sensors[0].sensor, "Core 0");
    EXPECT_EQ(found.sensors[1].sensor, "Core 0 (temp2)");
    EXPECT_EQ(found.problem, "");
}

TEST(Hwmon, millidegrees_outside_the_plausible_range_are_refused) {
    EXPECT_EQ(kernel::parse_millidegrees("45000\n"), 45.0);
    EXPECT_EQ(kernel::parse_millidegrees("-5000"), -5.0);
    EXPECT_FALSE(kernel::parse_millidegrees("-273150"));
    EXPECT_FALSE(kernel::parse_millidegrees("65261850"));
    EXPECT_FALSE(kernel::parse_millidegrees(""));
    EXPECT_FALSE(kernel::parse_millidegrees("45.5"));
}

// ---- all of part A together, as the agent runs them ----

TEST(CollectorSetOnFixtures, the_gpu_server_gives_every_headline_series_of_part_a) {
    Config config;
    CollectorSet set(config);
    const fs::path t0 = tree("gpu-server-96c", "t0");
    const fs::path t1 = tree("gpu-server-96c", "t1");
    auto p0 = set.collect(RootFs(t0 / "proc", t0 / "sys"), read_clock(t0), read_clock(t0).wall, nullptr);
    auto p1 = set.collect(RootFs(t1 / "proc", t1 / "sys"), read_clock(t1), read_clock(t1).wall, &p0.counters);
    for (const auto& status : p1.sample.collectors) {
        if (status.name == "cpu" || status.name == "memory" || status.name == "pressure" || status.name == "load" ||
            status.name == "uptime" || status.name == "temperature") {
            EXPECT_TRUE(status.ok) << status.name << ": " << status.error;
        }
    }
    for (const char* name : {"cpu_percent", "mem_used_percent", "swap_used_percent", "load1", "uptime_seconds",
                             "pressure_memory_some_percent", "temperature_max_celsius"})
        EXPECT_TRUE(p1.sample.find(SeriesKey(name))) << name;
}

}  // namespace
}  // namespace boxmon::collector
