// The network, filesystem and diskio collectors on fixture trees (two snapshots 5 s apart) and
// on hand-made sequences: counter wraps and resets (RELIABILITY K6, K7), a statfs that hangs or
// fails (S10), sandbox mounts (S11), malformed files (B9).

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "collector/linux/mounts.hpp"
#include "collector/rates.hpp"
#include "collector/registry.hpp"
#include "core/config.hpp"
#include "core/fs.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon::collector {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

RootFs fixture_root(const std::string& profile, const std::string& t) {
    const auto dir = test::fixtures_dir() / "linux" / profile / t;
    return RootFs(dir / "proc", dir / "sys");
}

struct Pass {
    Sample sample;
    CounterSnapshot counters;
    bool ok = true;
    std::string error;

    std::optional<double> get(const std::string& name, std::vector<Label> labels = {}) const {
        return sample.find(SeriesKey(name, std::move(labels)));
    }
    std::map<std::string, double> series(const std::string& name) const {
        std::map<std::string, double> out;
        for (const auto& p : sample.points)
            if (p.key.name() == name) out[p.key.to_string()] = p.value;
        return out;
    }
};

// Runs one collection of `c` at boot time `at`, against `previous` counters.
Pass run(Collector& c, const RootFs& root, const Config& config, const CounterSnapshot* previous, Nanos at) {
    Pass pass;
    RateTracker rates(previous, "boot-1", at, WallTime{}, config.general.interval);
    CollectContext ctx{root, config, Instant{WallTime{}, at, at}, rates};
    auto r = c.collect(ctx, pass.sample);
    if (!r) {
        pass.ok = false;
        pass.error = r.error().message;
    }
    pass.counters = rates.take_snapshot();
    return pass;
}

// Runs t0 then t1 (5 s later) of a fixture profile; returns the t1 pass.
Pass run_fixture(Collector& c, const std::string& profile, const Config& config = {}) {
    const auto p0 = run(c, fixture_root(profile, "t0"), config, nullptr, 100s);
    EXPECT_TRUE(p0.ok) << p0.error;
    return run(c, fixture_root(profile, "t1"), config, &p0.counters, 105s);
}

// ---- network ----------------------------------------------------------------------------------

TEST(NetworkCollector, GivesNoRateOnTheFirstReading) {
    Config config;
    auto c = make_network_collector(config);
    const auto p = run(*c, fixture_root("vm-debian12", "t0"), config, nullptr, 100s);
    ASSERT_TRUE(p.ok) << p.error;
    EXPECT_TRUE(p.sample.points.empty());
    EXPECT_EQ(p.counters.values.at("net/eth0/rx_bytes"), 18448467u);
}

TEST(NetworkCollector, VmDebian12RatesPerInterfaceAndTotalWithoutLoopback) {
    Config config;
    auto c = make_network_collector(config);
    const auto t0 = fixture_root("vm-debian12", "t0");
    const auto t1 = fixture_root("vm-debian12", "t1");
    const auto p0 = run(*c, t0, config, nullptr, 100s);
    const auto p1 = run(*c, t1, config, &p0.counters, 105s);
    ASSERT_TRUE(p1.ok) << p1.error;
    const double rx0 = static_cast<double>(p0.counters.values.at("net/eth0/rx_bytes"));
    const double rx1 = static_cast<double>(p1.counters.values.at("net/eth0/rx_bytes"));
    const auto eth0 = p1.get("net_rx_bytes_per_second", {{"iface", "eth0"}});
    ASSERT_TRUE(eth0);
    EXPECT_DOUBLE_EQ(*eth0, (rx1 - rx0) / 5.0);
    // lo has its own series but is not in the total; ifb0/ifb1 carry no traffic either way.
    EXPECT_TRUE(p1.get("net_rx_bytes_per_second", {{"iface", "lo"}}));
    const auto total = p1.get("net_rx_bytes_per_second");
    ASSERT_TRUE(total);
    EXPECT_DOUBLE_EQ(*total, *eth0);
    EXPECT_TRUE(p1.get("net_tx_bytes_per_second"));
    EXPECT_TRUE(p1.get("net_rx_errors_per_second", {{"iface", "eth0"}}));
    EXPECT_TRUE(p1.get("net_tx_drops_per_second"));
}

TEST(NetworkCollector, GpuServerCountsPhysicalNicsOnceAndSkipsTheWrappedCounter) {
    Config config;
    auto c = make_network_collector(config);
    const auto p = run_fixture(*c, "gpu-server-96c", config);
    ASSERT_TRUE(p.ok) << p.error;
    // ens1f1's rx counter wrapped at 2^32 between t0 and t1 (K6): no rate, never a 2^32 spike.
    EXPECT_FALSE(p.get("net_rx_bytes_per_second", {{"iface", "ens1f1"}}));
    EXPECT_DOUBLE_EQ(*p.get("net_tx_bytes_per_second", {{"iface", "ens1f1"}}), 100'000'000.0);
    EXPECT_DOUBLE_EQ(*p.get("net_rx_bytes_per_second", {{"iface", "ens1f0"}}), 500'000'000.0);
    // So the rx total is absent for this tick rather than low...
    EXPECT_FALSE(p.get("net_rx_bytes_per_second"));
    // ...and the tx total is eno1 + ens1f0 + ens1f1, not bond0, its VLAN, docker0 or veths again.
    EXPECT_DOUBLE_EQ(*p.get("net_tx_bytes_per_second"), 2'000.0 + 100'000'000.0 + 100'000'000.0);
    EXPECT_DOUBLE_EQ(*p.get("net_rx_errors_per_second", {{"iface", "ens1f0"}}), 1.0);
    EXPECT_DOUBLE_EQ(*p.get("net_rx_drops_per_second", {{"iface", "ens1f0"}}), 10.0);
    // bond0 still has its own series.
    EXPECT_TRUE(p.get("net_rx_bytes_per_second", {{"iface", "bond0"}}));
    // The veth that vanished with its container is absent, not 0 (K7).
    for (const auto& [key, value] : p.series("net_rx_bytes_per_second"))
        EXPECT_EQ(key.find("veth1a2b3c4"), std::string::npos) << key;
    EXPECT_TRUE(p.get("net_rx_bytes_per_second", {{"iface", "veth9f8e7d6"}}));
}

TEST(NetworkCollector, SmallBoxTotalIsTheWifiNotTheTunnelOnTopOfIt) {
    Config config;
    auto c = make_network_collector(config);
    const auto p = run_fixture(*c, "small-box", config);
    ASSERT_TRUE(p.ok) << p.error;
    EXPECT_DOUBLE_EQ(*p.get("net_rx_bytes_per_second", {{"iface", "wlp2s0"}}), 400'000.0);
    EXPECT_DOUBLE_EQ(*p.get("net_rx_bytes_per_second", {{"iface", "wg0"}}), 200'000.0);
    EXPECT_DOUBLE_EQ(*p.get("net_rx_bytes_per_second"), 400'000.0);
    EXPECT_DOUBLE_EQ(*p.get("net_tx_bytes_per_second"), 100'000.0);
}

TEST(NetworkCollector, ExcludedInterfacesHaveNoSeries) {
    Config config;
    config.collectors.exclude_interfaces = {"veth*", "docker0"};
    auto c = make_network_collector(config);
    const auto p = run_fixture(*c, "gpu-server-96c", config);
    ASSERT_TRUE(p.ok) << p.error;
    for (const auto& [key, value] : p.series("net_tx_bytes_per_second")) {
        EXPECT_EQ(key.find("veth"), std::string::npos) << key;
        EXPECT_EQ(key.find("docker0"), std::string::npos) << key;
    }
    EXPECT_TRUE(p.get("net_tx_bytes_per_second", {{"iface", "bond0"}}));
}

// A writable tree for hand-made sequences.
class NetSequence {
public:
    explicit NetSequence(bool physical_eth0 = true) {
        if (physical_eth0) test::write_file(m_dir / "sys/class/net/eth0/device/.keep", "");
    }
    RootFs root() const { return RootFs(m_dir / "proc", m_dir / "sys"); }
    void set(const std::string& dev_lines) {
        test::write_file(m_dir / "proc/net/dev",
                         "Inter-| Receive | Transmit\n face |bytes ... |bytes ...\n" + dev_lines);
    }
    static std::string line(const std::string& name, std::uint64_t rx, std::uint64_t tx = 0) {
        return fmt::format("{}: {} 0 0 0 0 0 0 0 {} 0 0 0 0 0 0 0\n", name, rx, tx);
    }

private:
    test::TempDir m_dir;
};

TEST(NetworkCollector, A32BitWrapGivesNoRateThenTheNextTickIsNormal) {
    // RELIABILITY K6: t0 rx = 4294967000, t1 rx = 200, t2 rx = 1200.
    Config config;
    auto c = make_network_collector(config);
    NetSequence seq;
    seq.set(NetSequence::line("eth0", 4294967000));
    const auto p0 = run(*c, seq.root(), config, nullptr, 100s);
    seq.set(NetSequence::line("eth0", 200));
    const auto p1 = run(*c, seq.root(), config, &p0.counters, 110s);
    ASSERT_TRUE(p1.ok) << p1.error;
    EXPECT_FALSE(p1.get("net_rx_bytes_per_second", {{"iface", "eth0"}}));
    EXPECT_FALSE(p1.get("net_rx_bytes_per_second"));
    seq.set(NetSequence::line("eth0", 1200));
    const auto p2 = run(*c, seq.root(), config, &p1.counters, 120s);
    EXPECT_DOUBLE_EQ(*p2.get("net_rx_bytes_per_second", {{"iface", "eth0"}}), 100.0);
    EXPECT_DOUBLE_EQ(*p2.get("net_rx_bytes_per_second"), 100.0);
}

TEST(NetworkCollector, TheZeroGlitchGivesNoRateAndTheNextReadingAnExactOne) {
    // RELIABILITY K7 (netdata#6077): 10 GB -> 0 -> 1 MB.
    Config config;
    auto c = make_network_collector(config);
    NetSequence seq;
    seq.set(NetSequence::line("eth0", 10'000'000'000));
    const auto p0 = run(*c, seq.root(), config, nullptr, 100s);
    seq.set(NetSequence::line("eth0", 0));
    const auto p1 = run(*c, seq.root(), config, &p0.counters, 110s);
    EXPECT_FALSE(p1.get("net_rx_bytes_per_second", {{"iface", "eth0"}}));
    seq.set(NetSequence::line("eth0", 1'000'000));
    const auto p2 = run(*c, seq.root(), config, &p1.counters, 120s);
    EXPECT_DOUBLE_EQ(*p2.get("net_rx_bytes_per_second", {{"iface", "eth0"}}), 100'000.0);
}

TEST(NetworkCollector, ARenamedInterfaceStartsANewSeriesWithoutARateAtFirst) {
    Config config;
    auto c = make_network_collector(config);
    NetSequence seq(false);  // no sysfs: every non-loopback interface counts in the total
    seq.set(NetSequence::line("lo", 5) + NetSequence::line("eth0", 1000, 1000));
    const auto p0 = run(*c, seq.root(), config, nullptr, 100s);
    seq.set(NetSequence::line("lo", 5) + NetSequence::line("enp1s0", 2000, 1000));
    const auto p1 = run(*c, seq.root(), config, &p0.counters, 110s);
    ASSERT_TRUE(p1.ok) << p1.error;
    EXPECT_FALSE(p1.get("net_rx_bytes_per_second", {{"iface", "eth0"}}));
    EXPECT_FALSE(p1.get("net_rx_bytes_per_second", {{"iface", "enp1s0"}}));
    EXPECT_FALSE(p1.get("net_rx_bytes_per_second"));  // enp1s0 has no rate yet: no total
    seq.set(NetSequence::line("lo", 5) + NetSequence::line("enp1s0", 3000, 1000));
    const auto p2 = run(*c, seq.root(), config, &p1.counters, 120s);
    EXPECT_DOUBLE_EQ(*p2.get("net_rx_bytes_per_second", {{"iface", "enp1s0"}}), 100.0);
    EXPECT_DOUBLE_EQ(*p2.get("net_rx_bytes_per_second"), 100.0);
}

TEST(NetworkCollector, AMalformedLineIsReportedAndTheOthersStillMeasured) {
    Config config;
    auto c = make_network_collector(config);
    NetSequence seq;
    seq.set(NetSequence::line("eth0", 1000) + "eth1: 1 2 3\n");
    const auto p0 = run(*c, seq.root(), config, nullptr, 100s);
    seq.set(NetSequence::line("eth0", 2000) + "eth1: 1 2 3\n");
    const auto p1 = run(*c, seq.root(), config, &p0.counters, 110s);
    ASSERT_FALSE(p1.ok);
    EXPECT_EQ(p1.error, fmt::format("{}: line 4: expected 16 counters after \"eth1:\", found 3; other interfaces "
                                    "were read, totals skipped",
                                    seq.root().proc("net/dev").string()));
    EXPECT_DOUBLE_EQ(*p1.get("net_rx_bytes_per_second", {{"iface", "eth0"}}), 100.0);
    EXPECT_FALSE(p1.get("net_rx_bytes_per_second"));
}

TEST(NetworkCollector, AMissingFileFailsNamingThePath) {
    Config config;
    auto c = make_network_collector(config);
    test::TempDir dir;
    const RootFs root(dir / "proc", dir / "sys");
    const auto p = run(*c, root, config, nullptr, 100s);
    ASSERT_FALSE(p.ok);
    EXPECT_NE(p.error.find((dir / "proc/net/dev").string()), std::string::npos) << p.error;
    EXPECT_TRUE(p.sample.points.empty());
}

// ---- diskio -----------------------------------------------------------------------------------

TEST(DiskioCollector, GpuServerRatesForWholeDevicesOnly) {
    Config config;
    auto c = make_diskio_collector(config);
    const auto p = run_fixture(*c, "gpu-server-96c", config);
    ASSERT_TRUE(p.ok) << p.error;
    EXPECT_DOUBLE_EQ(*p.get("disk_write_bytes_per_second", {{"device", "nvme0n1"}}), 102400.0 * 512 / 5);
    EXPECT_DOUBLE_EQ(*p.get("disk_read_bytes_per_second", {{"device", "nvme0n1"}}), 20480.0 * 512 / 5);
    EXPECT_DOUBLE_EQ(*p.get("disk_read_bytes_per_second", {{"device", "md0"}}), 2048000.0 * 512 / 5);
    EXPECT_DOUBLE_EQ(*p.get("disk_writes_per_second", {{"device", "nvme0n1"}}), 200.0);
    EXPECT_DOUBLE_EQ(*p.get("disk_busy_percent", {{"device", "nvme0n1"}}), 50.0);
    const auto devices = p.series("disk_read_bytes_per_second");
    std::vector<std::string> names;
    for (const auto& [key, v] : devices) names.push_back(key);
    EXPECT_EQ(names, (std::vector<std::string>{
                         R"(disk_read_bytes_per_second{device="md0"})", R"(disk_read_bytes_per_second{device="nvme0n1"})",
                         R"(disk_read_bytes_per_second{device="nvme1n1"})", R"(disk_read_bytes_per_second{device="nvme2n1"})",
                         R"(disk_read_bytes_per_second{device="nvme3n1"})"}));
}

TEST(DiskioCollector, WithoutSysBlockPartitionsAreRecognisedByName) {
    Config config;
    auto c = make_diskio_collector(config);
    test::TempDir dir;
    const RootFs root(dir / "proc", dir / "sys");
    const auto write = [&](std::uint64_t sectors) {
        test::write_file(dir / "proc/diskstats",
                         fmt::format(" 8 0 sda 1 0 {0} 0 1 0 {0} 0 0 10 10\n 8 1 sda1 1 0 {0} 0 1 0 {0} 0 0 10 10\n"
                                     " 259 0 nvme0n1 1 0 {0} 0 1 0 {0} 0 0 10 10\n 259 1 nvme0n1p1 1 0 {0} 0 1 0 {0} 0 0 10 10\n"
                                     " 7 0 loop0 1 0 {0} 0 1 0 {0} 0 0 10 10\n",
                                     sectors));
    };
    write(1000);
    const auto p0 = run(*c, root, config, nullptr, 100s);
    write(3000);
    const auto p1 = run(*c, root, config, &p0.counters, 110s);
    ASSERT_TRUE(p1.ok) << p1.error;
    EXPECT_EQ(p1.series("disk_read_bytes_per_second"),
              (std::map<std::string, double>{{R"(disk_read_bytes_per_second{device="nvme0n1"})", 2000.0 * 512 / 10},
                                             {R"(disk_read_bytes_per_second{device="sda"})", 2000.0 * 512 / 10}}));
}

TEST(DiskioCollector, SmallBoxSkipsPartitionsAndLoop) {
    Config config;
    auto c = make_diskio_collector(config);
    const auto p = run_fixture(*c, "small-box", config);
    ASSERT_TRUE(p.ok) << p.error;
    EXPECT_DOUBLE_EQ(*p.get("disk_write_bytes_per_second", {{"device", "sda"}}), 10240.0 * 512 / 5);
    EXPECT_DOUBLE_EQ(*p.get("disk_read_bytes_per_second", {{"device", "sdb"}}), 0.0);
    EXPECT_FALSE(p.get("disk_read_bytes_per_second", {{"device", "sda1"}}));
    EXPECT_FALSE(p.get("disk_read_bytes_per_second", {{"device", "loop0"}}));
}

TEST(DiskioCollector, ACounterGoingBackwardsGivesNoRate) {
    Config config;
    auto c = make_diskio_collector(config);
    test::TempDir dir;
    const RootFs root(dir / "proc", dir / "sys");
    test::write_file(dir / "sys/block/sda/size", "1\n");
    test::write_file(dir / "proc/diskstats", " 8 0 sda 10 0 5000 0 10 0 5000 0 0 100 100\n");
    const auto p0 = run(*c, root, config, nullptr, 100s);
    test::write_file(dir / "proc/diskstats", " 8 0 sda 1 0 50 0 10 0 6000 0 0 50 100\n");
    const auto p1 = run(*c, root, config, &p0.counters, 110s);
    ASSERT_TRUE(p1.ok) << p1.error;
    EXPECT_FALSE(p1.get("disk_read_bytes_per_second", {{"device", "sda"}}));
    EXPECT_FALSE(p1.get("disk_busy_percent", {{"device", "sda"}}));
    EXPECT_DOUBLE_EQ(*p1.get("disk_write_bytes_per_second", {{"device", "sda"}}), 1000.0 * 512 / 10);
}

TEST(DiskioCollector, AMalformedLineIsReportedAndTheOthersStillMeasured) {
    Config config;
    auto c = make_diskio_collector(config);
    test::TempDir dir;
    const RootFs root(dir / "proc", dir / "sys");
    test::write_file(dir / "proc/diskstats", " 8 0 sda 10 0 5000 0 10 0 5000 0 0 100 100\n 8 16 sdb 1 2\n");
    const auto p0 = run(*c, root, config, nullptr, 100s);
    ASSERT_FALSE(p0.ok);
    EXPECT_EQ(p0.error, fmt::format("{}: line 2: expected 11 or more counters after the device name, found 2; the "
                                    "other devices were read",
                                    root.proc("diskstats").string()));
    EXPECT_EQ(p0.counters.values.count("disk/sda/sectors_read"), 1u);
}

// ---- filesystem -------------------------------------------------------------------------------

TEST(FilesystemCollector, VmDebian12ReportsTheRootOnly) {
    Config config;
    auto c = make_filesystem_collector(config);
    const auto p = run(*c, fixture_root("vm-debian12", "t0"), config, nullptr, 100s);
    ASSERT_TRUE(p.ok) << p.error;
    // "/ 4096 66053021 61906759 20938035 16777216 16367635"
    const double used = 66053021.0 - 61906759.0;
    EXPECT_EQ(p.series("disk_used_percent"),
              (std::map<std::string, double>{{R"(disk_used_percent{mount="/"})", 100.0 * used / (used + 20938035.0)}}));
    EXPECT_DOUBLE_EQ(*p.get("disk_inodes_used_percent", {{"mount", "/"}}),
                     100.0 * (16777216.0 - 16367635.0) / 16777216.0);
    EXPECT_DOUBLE_EQ(*p.get("disk_size_bytes", {{"mount", "/"}}), 4096.0 * 66053021.0);
    EXPECT_DOUBLE_EQ(*p.get("disk_avail_bytes", {{"mount", "/"}}), 4096.0 * 20938035.0);
}

std::vector<std::string> mounts_of(const Pass& p) {
    std::vector<std::string> out;
    for (const auto& pt : p.sample.points)
        if (pt.key.name() == "disk_used_percent") out.push_back(*pt.key.label("mount"));
    return out;
}

TEST(FilesystemCollector, GpuServerRealMountsOnceEach) {
    Config config;
    auto c = make_filesystem_collector(config);
    const auto p0 = run(*c, fixture_root("gpu-server-96c", "t0"), config, nullptr, 100s);
    ASSERT_TRUE(p0.ok) << p0.error;
    // Not: tmpfs, overlays of docker, squashfs of snap, the bind mounts /srv/models (of /data) and
    // /var/lib/boxmon (of /). The mount point with a space is unescaped.
    EXPECT_EQ(mounts_of(p0), (std::vector<std::string>{"/", "/boot/efi", "/data", "/mnt/scratch disk", "/home/shared"}));
    EXPECT_DOUBLE_EQ(*p0.get("disk_used_percent", {{"mount", "/home/shared"}}), 80.0);
    EXPECT_FALSE(p0.get("disk_inodes_used_percent", {{"mount", "/home/shared"}}));  // NFS: no inode count
}

TEST(FilesystemCollector, AMountWhoseStatfsFailedIsNamedAndTheOthersRemain) {
    Config config;
    auto c = make_filesystem_collector(config);
    const auto p1 = run(*c, fixture_root("gpu-server-96c", "t1"), config, nullptr, 100s);
    ASSERT_FALSE(p1.ok);
    const auto capture = fixture_root("gpu-server-96c", "t1").proc_root().parent_path() / "statvfs.txt";
    EXPECT_EQ(p1.error, fmt::format("statfs /home/shared: no line for it in {}; the other filesystems were read",
                                    capture.string()));
    EXPECT_EQ(mounts_of(p1), (std::vector<std::string>{"/", "/boot/efi", "/data", "/mnt/scratch disk"}));
}

TEST(FilesystemCollector, SmallBoxOverlayRootBtrfsSubvolumesOnceAndEscapedNames) {
    Config config;
    auto c = make_filesystem_collector(config);
    const auto p = run(*c, fixture_root("small-box", "t0"), config, nullptr, 100s);
    ASSERT_TRUE(p.ok) << p.error;
    EXPECT_EQ(mounts_of(p), (std::vector<std::string>{"/", "/media/root-ro", "/boot/efi", "/home", "/media/usb stick"}));
    // btrfs reports no inode count: no inode series rather than 0 %.
    EXPECT_FALSE(p.get("disk_inodes_used_percent", {{"mount", "/home"}}));
}

TEST(FilesystemCollector, ConfiguredExclusionsApply) {
    Config config;
    config.collectors.exclude_mounts = {"/media/*"};
    config.collectors.exclude_fs_types = {"vfat"};
    auto c = make_filesystem_collector(config);
    const auto p = run(*c, fixture_root("small-box", "t0"), config, nullptr, 100s);
    ASSERT_TRUE(p.ok) << p.error;
    EXPECT_EQ(mounts_of(p), (std::vector<std::string>{"/", "/home"}));
}

TEST(FilesystemCollector, AFixtureTreeWithoutStatvfsCaptureSaysWhatIsMissing) {
    Config config;
    auto c = make_filesystem_collector(config);
    test::TempDir dir;
    test::write_file(dir / "proc/self/mountinfo", "27 1 254:0 / / rw - ext4 /dev/vda rw\n");
    const auto p = run(*c, RootFs(dir / "proc", dir / "sys"), config, nullptr, 100s);
    ASSERT_FALSE(p.ok);
    EXPECT_EQ(p.error, fmt::format("open {}: No such file or directory; a fixture tree needs statvfs.txt beside proc/ "
                                   "(scripts/capture-fixture.sh writes it)",
                                   (dir / "statvfs.txt").string()));
}

// A statfs for tests: "/hang" blocks until released, "/eio" and "/eacces" fail, the rest answer.
class ScriptedStatfs final : public kernel::StatfsProvider {
public:
    Result<kernel::FsStats> statfs(const std::string& mount_point) override {
        if (mount_point == "/hang") {
            std::unique_lock lock(m_mutex);
            ++m_hang_calls;
            ++m_hang_in_flight;
            m_cv.wait(lock, [&] { return m_released; });
            --m_hang_in_flight;
            return kernel::FsStats{4096, 100, 50, 50, 10, 5};
        }
        if (mount_point == "/eio") return fail_errno(EIO, "statfs {}", mount_point);
        if (mount_point == "/eacces") return fail_errno(EACCES, "statfs {}", mount_point);
        return kernel::FsStats{4096, 1000, 250, 250, 100, 50};
    }
    void release() {
        {
            std::lock_guard lock(m_mutex);
            m_released = true;
        }
        m_cv.notify_all();
    }
    int hang_calls() {
        std::lock_guard lock(m_mutex);
        return m_hang_calls;
    }
    int hang_in_flight() {
        std::lock_guard lock(m_mutex);
        return m_hang_in_flight;
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_released = false;
    int m_hang_calls = 0;
    int m_hang_in_flight = 0;
};

class StuckMount : public ::testing::Test {
protected:
    StuckMount() {
        test::write_file(m_dir / "proc/self/mountinfo",
                         "27 1 254:0 / / rw - ext4 /dev/vda rw\n"
                         "30 27 0:45 / /hang rw - nfs4 dead:/x rw\n"
                         "31 27 8:1 / /data rw - xfs /dev/sdb1 rw\n");
        m_config.collectors.filesystem_timeout = 200ms;
    }
    ~StuckMount() override { m_statfs->release(); }
    RootFs root() const { return RootFs(m_dir / "proc", m_dir / "sys"); }

    test::TempDir m_dir;
    Config m_config;
    std::shared_ptr<ScriptedStatfs> m_statfs = std::make_shared<ScriptedStatfs>();
};

TEST_F(StuckMount, NeverStallsATickNorPilesUpCalls) {
    auto c = make_filesystem_collector(m_config, m_statfs);
    const auto start = std::chrono::steady_clock::now();
    const auto p1 = run(*c, root(), m_config, nullptr, 100s);
    const auto first = std::chrono::steady_clock::now() - start;
    EXPECT_GE(first, 200ms);
    EXPECT_LT(first, 2s);
    ASSERT_FALSE(p1.ok);
    EXPECT_EQ(p1.error, "statfs on /hang did not return within 200 ms; skipped until it does; the other filesystems were read");
    EXPECT_EQ(mounts_of(p1), (std::vector<std::string>{"/", "/data"}));

    // Later ticks skip the stuck mount at once, with no second call into it.
    for (int tick = 0; tick < 5; ++tick) {
        const auto t = std::chrono::steady_clock::now();
        const auto p = run(*c, root(), m_config, nullptr, 100s);
        EXPECT_LT(std::chrono::steady_clock::now() - t, 150ms);
        // The same text as the first time, so CollectorSet logs it once (RELIABILITY S10).
        EXPECT_EQ(p.error, p1.error);
        EXPECT_EQ(mounts_of(p), (std::vector<std::string>{"/", "/data"}));
    }
    EXPECT_EQ(m_statfs->hang_calls(), 1);
    EXPECT_EQ(m_statfs->hang_in_flight(), 1);

    // The server comes back: the mount is measured again.
    m_statfs->release();
    ASSERT_TRUE(test::wait_until([&] { return m_statfs->hang_in_flight() == 0; }, 5s));
    ASSERT_TRUE(test::wait_until(
        [&] {
            const auto p = run(*c, root(), m_config, nullptr, 100s);
            return p.ok && mounts_of(p) == std::vector<std::string>{"/", "/hang", "/data"};
        },
        5s));
    EXPECT_EQ(m_statfs->hang_calls(), 2);
}

TEST_F(StuckMount, TheCollectorCanBeDestroyedWhileACallIsStuck) {
    {
        auto c = make_filesystem_collector(m_config, m_statfs);
        const auto p = run(*c, root(), m_config, nullptr, 100s);
        EXPECT_FALSE(p.ok);
    }
    // The abandoned thread still holds the provider and finishes when the call returns.
    EXPECT_EQ(m_statfs->hang_in_flight(), 1);
    m_statfs->release();
    EXPECT_TRUE(test::wait_until([&] { return m_statfs->hang_in_flight() == 0; }, 5s));
}

// Records on which thread each mount was asked.
class ThreadRecordingStatfs final : public kernel::StatfsProvider {
public:
    Result<kernel::FsStats> statfs(const std::string& mount_point) override {
        std::lock_guard lock(m_mutex);
        m_threads[mount_point] = std::this_thread::get_id();
        return kernel::FsStats{4096, 1000, 250, 250, 100, 50};
    }
    std::map<std::string, std::thread::id> threads() {
        std::lock_guard lock(m_mutex);
        return m_threads;
    }

private:
    std::mutex m_mutex;
    std::map<std::string, std::thread::id> m_threads;
};

TEST(FilesystemCollector, ReadsLocalDisksInlineAndOnlyWhatMayBlockOnTheWorker) {
    const test::TempDir dir;
    test::write_file(dir / "proc/self/mountinfo",
                     "27 1 254:0 / / rw - ext4 /dev/vda rw\n"
                     "30 27 0:45 / /nfs rw - nfs4 server:/x rw\n"
                     "31 27 8:1 / /data rw - xfs /dev/sdb1 rw\n"
                     "32 27 0:46 / /sshfs rw - fuse.sshfs host:/x rw\n"
                     "33 27 0:47 / /pool rw - zfs tank rw\n");
    Config config;
    auto statfs = std::make_shared<ThreadRecordingStatfs>();
    auto c = make_filesystem_collector(config, statfs);
    const auto p = run(*c, RootFs(dir / "proc", dir / "sys"), config, nullptr, 100s);
    ASSERT_TRUE(p.ok) << p.error;
    EXPECT_EQ(mounts_of(p), (std::vector<std::string>{"/", "/nfs", "/data", "/sshfs", "/pool"}));
    const auto threads = statfs->threads();
    ASSERT_EQ(threads.size(), 5u);
    EXPECT_EQ(threads.at("/"), std::this_thread::get_id());
    EXPECT_EQ(threads.at("/data"), std::this_thread::get_id());
    for (const char* blocking : {"/nfs", "/sshfs", "/pool"})
        EXPECT_NE(threads.at(blocking), std::this_thread::get_id()) << blocking;
}

TEST(StatfsMayBlock, OnlyLocalDiskFilesystemsAreTrustedToAnswer) {
    for (const char* local : {"ext4", "xfs", "btrfs", "vfat"}) EXPECT_FALSE(kernel::statfs_may_block(local)) << local;
    for (const char* other : {"nfs", "nfs4", "cifs", "smb3", "fuse.sshfs", "9p", "ceph", "zfs", "newfs"})
        EXPECT_TRUE(kernel::statfs_may_block(other)) << other;
}

TEST(TimedStatfs, CountsStuckCallsUntilTheyReturn) {
    auto statfs = std::make_shared<ScriptedStatfs>();
    kernel::TimedStatfs timed(statfs, 100ms);
    auto r = timed.run({"/", "/hang", "/data"});
    ASSERT_EQ(r.size(), 3u);
    EXPECT_TRUE(r[0]);
    ASSERT_FALSE(r[1]);
    EXPECT_EQ(r[1].error().kind, ErrorKind::timeout);
    EXPECT_EQ(r[1].error().message, "statfs on /hang did not return within 100 ms; skipped until it does");
    EXPECT_TRUE(r[2]);
    EXPECT_EQ(timed.stuck_calls(), 1u);
    r = timed.run({"/hang", "/hang"});
    ASSERT_FALSE(r[0]);
    EXPECT_EQ(r[0].error().message, "statfs on /hang did not return within 100 ms; skipped until it does");
    EXPECT_FALSE(r[1]);
    EXPECT_EQ(timed.stuck_calls(), 1u);
    statfs->release();
    EXPECT_TRUE(test::wait_until([&] { return timed.stuck_calls() == 0; }, 5s));
    r = timed.run({"/hang"});
    EXPECT_TRUE(r[0]);
}

TEST(TimedStatfs, SaysSecondsForWholeSeconds) {
    auto statfs = std::make_shared<ScriptedStatfs>();
    kernel::TimedStatfs timed(statfs, 1s);
    const auto r = timed.run({"/hang"});
    statfs->release();
    ASSERT_FALSE(r[0]);
    EXPECT_EQ(r[0].error().message, "statfs on /hang did not return within 1 s; skipped until it does");
}

TEST_F(StuckMount, AFailingStatfsIsNamedAndAForbiddenOneQuietlySkipped) {
    test::write_file(m_dir / "proc/self/mountinfo",
                     "27 1 254:0 / / rw - ext4 /dev/vda rw\n"
                     "30 27 0:45 / /eio rw - fuse.sshfs host:/x rw\n"
                     "31 27 0:46 / /eacces rw - ext4 /dev/sdc rw\n");
    auto c = make_filesystem_collector(m_config, m_statfs);
    const auto p = run(*c, root(), m_config, nullptr, 100s);
    ASSERT_FALSE(p.ok);
    EXPECT_EQ(p.error, "statfs /eio: Input/output error; the other filesystems were read");
    EXPECT_EQ(mounts_of(p), (std::vector<std::string>{"/"}));
    EXPECT_DOUBLE_EQ(*p.get("disk_used_percent", {{"mount", "/"}}), 75.0);
}

TEST(FilesystemCollector, HostStatfsOfTheRootAnswers) {
    auto statfs = kernel::make_host_statfs();
    const auto r = statfs->statfs(RootFs().proc_root().root_path().string());
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_GT(r->blocks, 0u);
    const auto missing = statfs->statfs("/nonexistent/boxmon/test");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().message, "statfs /nonexistent/boxmon/test: No such file or directory");
}

}  // namespace
}  // namespace boxmon::collector
