// Every collector, run as the agent runs them (CollectorSet, t0 then t1), on the fixture trees
// captured in QEMU guests by scripts/capture-qemu-fixture.sh, compared with what the guest's own
// tools said beside each snapshot (<profile>/t*/tools/: busybox df, free, uptime, nproc, the sysfs
// counters, and the ping and dd that made the interval's traffic). The parametrised suite runs on
// every profile that has such readings; the tests after it check what each guest's shape was
// built to show.

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "collector/collector_set.hpp"
#include "core/config.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon::collector {
namespace {

namespace fs = std::filesystem;

constexpr double k_kib = 1024.0;
constexpr double k_mib = 1024.0 * 1024.0;

fs::path profile_dir(const std::string& profile) { return test::fixtures_dir() / "linux" / profile; }

std::vector<std::string> lines_of(const fs::path& path) {
    std::istringstream in(test::read_file(path));
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

std::vector<std::string> words(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> out;
    for (std::string w; in >> w;) out.push_back(w);
    return out;
}

// ---- the guest's tools, as they printed --------------------------------------------------------

// busybox free: KiB on the "Mem:" and "Swap:" lines.
struct FreeReading {
    double mem_total = 0, mem_available = 0, swap_total = 0, swap_used = 0;  // bytes
};

FreeReading read_free(const fs::path& path) {
    FreeReading r;
    for (const auto& line : lines_of(path)) {
        const auto w = words(line);
        if (w.size() >= 7 && w[0] == "Mem:") {
            r.mem_total = std::stod(w[1]) * k_kib;
            r.mem_available = std::stod(w[6]) * k_kib;
        } else if (w.size() >= 3 && w[0] == "Swap:") {
            r.swap_total = std::stod(w[1]) * k_kib;
            r.swap_used = std::stod(w[2]) * k_kib;
        }
    }
    EXPECT_GT(r.mem_total, 0) << path;
    return r;
}

// busybox df -P: "Filesystem 1024-blocks Used Available Capacity Mounted on", one line a mount.
struct DfLine {
    std::string filesystem;
    double blocks = 0, used = 0, available = 0;  // 1 KiB units (or inodes with -i)
    double capacity = 0;                         // percent, rounded by df
    std::string mount;
};

std::vector<DfLine> read_df(const fs::path& path) {
    std::vector<DfLine> out;
    const auto lines = lines_of(path);
    for (std::size_t i = 1; i < lines.size(); ++i) {
        const auto w = words(lines[i]);
        if (w.size() < 6) continue;
        DfLine d{w[0], std::stod(w[1]), std::stod(w[2]), std::stod(w[3]), std::stod(w[4]), w[5]};
        for (std::size_t j = 6; j < w.size(); ++j) d.mount += " " + w[j];  // "/mnt/backup disk"
        out.push_back(d);
    }
    EXPECT_FALSE(out.empty()) << path;
    return out;
}

// busybox uptime: " 20:33:10 up 1 min,  0 users,  load average: 1.90, 0.50, 0.16" (after an
// hour "up  1:05,"). Parsed by hand: libstdc++'s std::regex breaks the sanitizer build.
struct UptimeReading {
    double minutes_up = -1;
    double load[3] = {-1, -1, -1};
};

UptimeReading read_uptime(const fs::path& path) {
    const std::string text = test::read_file(path);
    UptimeReading r;
    const auto at = text.find("load average: ");
    if (at == std::string::npos) {
        ADD_FAILURE() << "no load average in " << text;
        return r;
    }
    std::istringstream loads(text.substr(at + 14));
    char comma = 0;
    loads >> r.load[0] >> comma >> r.load[1] >> comma >> r.load[2];
    std::istringstream up(text.substr(text.find(" up ") + 4));
    double first = 0;
    char sep = 0;
    up >> first >> sep;
    if (sep == ':') {
        double minutes = 0;
        up >> minutes;
        r.minutes_up = first * 60 + minutes;
    } else if (text.find(" min,") != std::string::npos) {
        r.minutes_up = first;
    } else {
        ADD_FAILURE() << "no uptime in " << text;
    }
    return r;
}

// tools/net.txt: "iface rx_bytes tx_bytes rx_errors tx_errors rx_dropped tx_dropped" from
// /sys/class/net/*/statistics.
using NetReading = std::map<std::string, std::vector<double>>;

NetReading read_net(const fs::path& path) {
    NetReading out;
    for (const auto& line : lines_of(path)) {
        const auto w = words(line);
        if (w.size() != 7) continue;
        for (std::size_t i = 1; i < 7; ++i) out[w[0]].push_back(std::stod(w[i]));
    }
    return out;
}

// tools/block.txt: the whole disks of /sys/block, each with its stat line.
std::set<std::string> read_block_names(const fs::path& path) {
    std::set<std::string> out;
    for (const auto& line : lines_of(path))
        if (const auto w = words(line); !w.empty()) out.insert(w[0]);
    return out;
}

// The whole number just before `suffix` in a tool's output ("15 packets transmitted").
double number_before(const fs::path& path, const std::string& suffix) {
    const std::string text = test::read_file(path);
    const auto at = text.find(suffix);
    std::size_t begin = at;
    while (begin != std::string::npos && begin > 0 && std::isdigit(static_cast<unsigned char>(text[begin - 1])))
        --begin;
    if (at == std::string::npos || begin == at) {
        ADD_FAILURE() << "no number before \"" << suffix << "\" in " << path << ":\n" << text;
        return -1;
    }
    return std::stod(text.substr(begin, at - begin));
}

// ---- boxmon on the captured trees ------------------------------------------------------------

// clock.txt: "wall_ms boottime_ns".
Instant read_clock(const fs::path& dir) {
    std::ifstream in(dir / "clock.txt");
    long long wall_ms = 0, boot_ns = 0;
    in >> wall_ms >> boot_ns;
    Instant now;
    now.wall = WallTime{std::chrono::milliseconds{wall_ms}};
    now.boottime = Nanos{boot_ns};
    now.monotonic = Nanos{boot_ns};
    return now;
}

// All collectors over t0 then t1, as `boxmon sample --fixture` runs them.
struct GuestRun {
    Sample t0, t1;
    double elapsed_s = 0;  // between the two snapshots, from their clocks

    std::optional<double> get(const std::string& name, std::vector<Label> labels = {}) const {
        return t1.find(SeriesKey(name, std::move(labels)));
    }
    // The values of one series name by the value of one label, in sample order.
    std::vector<std::pair<std::string, double>> by_label(const std::string& name, const std::string& label) const {
        std::vector<std::pair<std::string, double>> out;
        for (const auto& p : t1.points)
            if (p.key.name() == name)
                if (const auto* v = p.key.label(label)) out.emplace_back(*v, p.value);
        return out;
    }
    const CollectorStatus* status(const std::string& collector) const {
        for (const auto& s : t1.collectors)
            if (s.name == collector) return &s;
        return nullptr;
    }
};

GuestRun run_guest(const std::string& profile) {
    Config config;
    config.collectors.disable = {"gpu_nvidia", "services"};  // the host's driver, not the guest's
    CollectorSet set(config);
    GuestRun run;
    const fs::path t0 = profile_dir(profile) / "t0";
    const fs::path t1 = profile_dir(profile) / "t1";
    const Instant c0 = read_clock(t0);
    const Instant c1 = read_clock(t1);
    auto p0 = set.collect(RootFs(t0 / "proc", t0 / "sys"), c0, c0.wall, nullptr);
    auto p1 = set.collect(RootFs(t1 / "proc", t1 / "sys"), c1, c1.wall, &p0.counters);
    run.t0 = std::move(p0.sample);
    run.t1 = std::move(p1.sample);
    run.elapsed_s = static_cast<double>((c1.boottime - c0.boottime).count()) / 1e9;
    return run;
}

std::vector<std::string> profiles_with_guest_tools() {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(test::fixtures_dir() / "linux"))
        if (fs::exists(e.path() / "t0/tools") && fs::exists(e.path() / "t1/tools"))
            out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

// ---- every profile with the guest's readings ----------------------------------------------------

class GuestProfile : public ::testing::TestWithParam<std::string> {
protected:
    fs::path tools(const char* t) const { return profile_dir(GetParam()) / t / "tools"; }
};

TEST_P(GuestProfile, CpuCountIsWhatNprocSaid) {
    const auto run = run_guest(GetParam());
    EXPECT_EQ(run.get("cpu_count"), std::stod(test::read_file(tools("t1") / "nproc.txt")));
}

// The snapshot lies between the readings just before and just after it; memory moves by the
// pages the snapshot's own processes take, so 2 MiB of slack either side.
void expect_between(std::optional<double> value, double a, double b, const char* what) {
    constexpr double slack = 2 * k_mib;
    ASSERT_TRUE(value) << what;
    EXPECT_GE(*value, std::min(a, b) - slack) << what;
    EXPECT_LE(*value, std::max(a, b) + slack) << what;
}

TEST_P(GuestProfile, MemoryAndSwapAreWhatFreeSaid) {
    const auto run = run_guest(GetParam());
    for (const char* t : {"t0", "t1"}) {
        const Sample& s = std::string(t) == "t0" ? run.t0 : run.t1;
        const auto before = read_free(tools(t) / "free-before.txt");
        const auto after = read_free(tools(t) / "free.txt");
        SCOPED_TRACE(t);
        EXPECT_EQ(s.find(SeriesKey("mem_total_bytes")), after.mem_total);
        EXPECT_EQ(s.find(SeriesKey("swap_total_bytes")), after.swap_total);
        expect_between(s.find(SeriesKey("mem_available_bytes")), before.mem_available, after.mem_available,
                       "mem_available_bytes");
        expect_between(s.find(SeriesKey("swap_used_bytes")), before.swap_used, after.swap_used, "swap_used_bytes");
        EXPECT_EQ(s.find(SeriesKey("swap_used_percent")).has_value(), after.swap_total > 0);
    }
}

TEST_P(GuestProfile, LoadAveragesAreBetweenWhatUptimeSaidBeforeAndAfter) {
    const auto run = run_guest(GetParam());
    const auto before = read_uptime(tools("t1") / "uptime-before.txt");
    const auto after = read_uptime(tools("t1") / "uptime.txt");
    const char* names[] = {"load1", "load5", "load15"};
    for (int i = 0; i < 3; ++i) {
        const auto v = run.get(names[i]);
        ASSERT_TRUE(v) << names[i];
        EXPECT_GE(*v, std::min(before.load[i], after.load[i])) << names[i];
        EXPECT_LE(*v, std::max(before.load[i], after.load[i])) << names[i];
    }
    // busybox prints whole minutes, read a moment after the snapshot.
    const auto up = run.get("uptime_seconds");
    ASSERT_TRUE(up);
    EXPECT_LE(std::floor(*up / 60), after.minutes_up);
    EXPECT_GE(*up + 60, after.minutes_up * 60);
}

TEST_P(GuestProfile, FilesystemsAreTheDevicesDfListedOnceEachWithDfsFigures) {
    const auto run = run_guest(GetParam());
    const auto df = read_df(tools("t1") / "df.txt");
    const auto dfi = read_df(tools("t1") / "df-inodes.txt");
    // df lists pseudo filesystems, overlays and every bind mount; boxmon keeps each block device
    // once, at its first mount.
    std::vector<std::string> expected;
    std::set<std::string> seen;
    for (const auto& d : df)
        if (d.filesystem.rfind("/dev/", 0) == 0 && seen.insert(d.filesystem).second) expected.push_back(d.mount);
    std::vector<std::string> got;
    for (const auto& [mount, v] : run.by_label("disk_used_percent", "mount")) got.push_back(mount);
    EXPECT_EQ(got, expected);
    for (std::size_t i = 0; i < df.size(); ++i) {
        const auto& d = df[i];
        if (std::find(expected.begin(), expected.end(), d.mount) == expected.end()) continue;
        SCOPED_TRACE(d.mount);
        const std::vector<Label> l = {{"mount", d.mount}};
        EXPECT_EQ(run.get("disk_size_bytes", l), d.blocks * k_kib);
        EXPECT_EQ(run.get("disk_avail_bytes", l), d.available * k_kib);
        // busybox rounds the share to the nearest whole percent.
        EXPECT_NEAR(run.get("disk_used_percent", l).value_or(-1), d.capacity, 0.5);
        ASSERT_EQ(dfi[i].mount, d.mount);
        const auto inodes = run.get("disk_inodes_used_percent", l);
        if (dfi[i].blocks == 0) {
            EXPECT_FALSE(inodes) << "no inode count (btrfs, vfat) gives no series, not 0 %";
        } else {
            EXPECT_NEAR(inodes.value_or(-1), dfi[i].capacity, 0.5);
        }
    }
}

TEST_P(GuestProfile, InterfaceRatesAreWhatSysfsCountedOverTheInterval) {
    const auto run = run_guest(GetParam());
    const auto n0 = read_net(tools("t0") / "net.txt");
    const auto n1 = read_net(tools("t1") / "net.txt");
    const char* series[] = {"net_rx_bytes_per_second", "net_tx_bytes_per_second", "net_rx_errors_per_second",
                            "net_tx_errors_per_second", "net_rx_drops_per_second", "net_tx_drops_per_second"};
    ASSERT_FALSE(n1.empty());
    for (const auto& [iface, v1] : n1) {
        ASSERT_TRUE(n0.count(iface)) << iface;
        for (int i = 0; i < 6; ++i) {
            const double want = (v1[i] - n0.at(iface)[i]) / run.elapsed_s;
            EXPECT_NEAR(run.get(series[i], {{"iface", iface}}).value_or(-1), want, 1e-9 * std::max(1.0, want))
                << iface << " " << series[i];
        }
    }
}

TEST_P(GuestProfile, DiskDevicesAreTheWholeDisksOfSysBlockWithoutLoopDevices) {
    const auto run = run_guest(GetParam());
    std::set<std::string> expected;
    for (const auto& name : read_block_names(tools("t1") / "block.txt"))
        if (name.rfind("loop", 0) != 0 && name.rfind("ram", 0) != 0 && name.rfind("zram", 0) != 0)
            expected.insert(name);
    std::set<std::string> got;
    for (const auto& [device, v] : run.by_label("disk_read_bytes_per_second", "device")) got.insert(device);
    EXPECT_EQ(got, expected);
}

INSTANTIATE_TEST_SUITE_P(Guests, GuestProfile, ::testing::ValuesIn(profiles_with_guest_tools()),
                         [](const ::testing::TestParamInfo<std::string>& tp) {
                             std::string n = tp.param;
                             std::replace(n.begin(), n.end(), '-', '_');
                             return n;
                         });

TEST(GuestProfiles, AtLeastTheTwoQemuCapturesCarryTheGuestsReadings) {
    const auto found = profiles_with_guest_tools();
    for (const char* p : {"qemu-cloud-1c", "qemu-server-12c"})
        EXPECT_NE(std::find(found.begin(), found.end(), p), found.end()) << p;
}

// ---- qemu-server-12c: what its shape was built to show -------------------------------------------

class QemuServer12c : public ::testing::Test {
protected:
    static fs::path tools() { return profile_dir("qemu-server-12c") / "t1/tools"; }
    GuestRun m_run = run_guest("qemu-server-12c");
};

TEST_F(QemuServer12c, EveryCollectorSucceeds) {
    for (const auto& s : m_run.t1.collectors) EXPECT_TRUE(s.ok) << s.name << ": " << s.error;
}

TEST_F(QemuServer12c, TwelveCpusAndTheBusyShareOfTheStatLines) {
    EXPECT_EQ(m_run.get("cpu_count"), 12.0);
    // Independent arithmetic on the aggregate lines. Three vCPUs spun through the interval; under
    // QEMU's TCG a vCPU the host does not run in time loses ticks, so the share reads below 25 %.
    auto agg = [](const char* t) {
        std::istringstream in(lines_of(profile_dir("qemu-server-12c") / t / "proc/stat").at(0));
        std::string cpu;
        double v[8] = {};
        in >> cpu;
        for (double& x : v) in >> x;
        return std::pair<double, double>{v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7], v[3] + v[4]};
    };
    const auto [total0, idle0] = agg("t0");
    const auto [total1, idle1] = agg("t1");
    EXPECT_NEAR(m_run.get("cpu_percent").value_or(-1), 100.0 * (1 - (idle1 - idle0) / (total1 - total0)), 1e-9);
    EXPECT_GT(m_run.get("cpu_percent").value_or(-1), 5.0);
}

TEST_F(QemuServer12c, EthZeroSentExactlyWhatPingSent) {
    // 15 echo requests of 1000 bytes: + 8 ICMP + 20 IPv4 + 14 Ethernet header = 1042 bytes each.
    const double sent = number_before(tools() / "ping-eth0.txt", " packets transmitted");
    EXPECT_EQ(sent, 15);
    EXPECT_DOUBLE_EQ(m_run.get("net_tx_bytes_per_second", {{"iface", "eth0"}}).value_or(-1),
                     sent * 1042 / m_run.elapsed_s);
    // The pings through br0 crossed the bridge, the VLAN and the bond: the same bytes on each.
    for (const char* iface : {"br0", "bond0.100", "veth0"})
        EXPECT_DOUBLE_EQ(m_run.get("net_tx_bytes_per_second", {{"iface", iface}}).value_or(-1),
                         15 * 1042 / m_run.elapsed_s)
            << iface;
}

TEST_F(QemuServer12c, TheTotalIsTheThreeNicsNotTheBondVlanBridgeOrVethAgain) {
    const auto n0 = read_net(profile_dir("qemu-server-12c") / "t0/tools/net.txt");
    const auto n1 = read_net(tools() / "net.txt");
    auto tx = [&](const char* iface) { return (n1.at(iface)[1] - n0.at(iface)[1]) / m_run.elapsed_s; };
    EXPECT_DOUBLE_EQ(m_run.get("net_tx_bytes_per_second").value_or(-1), tx("eth0") + tx("eth1") + tx("eth2"));
    // The bond's own counters are its slaves' sum: counting it too would count them twice.
    EXPECT_DOUBLE_EQ(tx("bond0"), tx("eth1") + tx("eth2"));
    EXPECT_GT(tx("bond0"), 0);
    EXPECT_DOUBLE_EQ(m_run.get("net_rx_bytes_per_second").value_or(-1), 0.0);
}

TEST_F(QemuServer12c, DiskReadsAreWhatDdRead) {
    // dd read 64 blocks of 1 MiB from vdb with O_DIRECT and nothing else read it; 32 from
    // nvme0n1, where btrfs also read a little.
    const double vdb = number_before(tools() / "dd-vdb.txt", "+0 records in");
    const double nvme = number_before(tools() / "dd-nvme0n1.txt", "+0 records in");
    EXPECT_EQ(vdb, 64);
    EXPECT_DOUBLE_EQ(m_run.get("disk_read_bytes_per_second", {{"device", "vdb"}}).value_or(-1),
                     vdb * k_mib / m_run.elapsed_s);
    const double nvme_rate = m_run.get("disk_read_bytes_per_second", {{"device", "nvme0n1"}}).value_or(-1);
    EXPECT_GE(nvme_rate, nvme * k_mib / m_run.elapsed_s);
    EXPECT_LE(nvme_rate, (nvme + 1) * k_mib / m_run.elapsed_s);
    EXPECT_EQ(m_run.get("disk_read_bytes_per_second", {{"device", "sda"}}), 0.0);
}

TEST_F(QemuServer12c, RealFilesystemsOnceEachWithoutOverlayBindMountOrSecondSubvolume) {
    std::vector<std::string> got;
    for (const auto& [mount, v] : m_run.by_label("disk_used_percent", "mount")) got.push_back(mount);
    EXPECT_EQ(got, (std::vector<std::string>{"/", "/srv/data", "/boot/efi", "/home", "/mnt/backup disk",
                                             "/mnt/scratch"}));
}

TEST_F(QemuServer12c, TheNvmeDriveReportsQemusModelTemperature) {
    // QEMU's NVMe controller reports 323 K as its composite temperature, 373 K as critical.
    const std::vector<Label> l = {{"chip", "nvme"}, {"sensor", "Composite"}};
    EXPECT_EQ(m_run.get("temperature_celsius", l), 49.85);
    EXPECT_EQ(m_run.get("temperature_critical_celsius", l), 99.85);
    EXPECT_EQ(m_run.get("temperature_max_celsius"), 49.85);
}

TEST_F(QemuServer12c, PressureSharesArePercentagesOfTheInterval) {
    int n = 0;
    for (const auto& p : m_run.t1.points) {
        if (p.key.name().rfind("pressure_", 0) != 0) continue;
        ++n;
        EXPECT_GE(p.value, 0) << p.key.to_string();
        EXPECT_LE(p.value, 100) << p.key.to_string();
    }
    EXPECT_EQ(n, 5);
}

// ---- qemu-cloud-1c -------------------------------------------------------------------------------

class QemuCloud1c : public ::testing::Test {
protected:
    static fs::path tools() { return profile_dir("qemu-cloud-1c") / "t1/tools"; }
    GuestRun m_run = run_guest("qemu-cloud-1c");
};

TEST_F(QemuCloud1c, OneBusyCpu) {
    EXPECT_EQ(m_run.get("cpu_count"), 1.0);
    EXPECT_GE(m_run.get("cpu_percent").value_or(-1), 99.0);
}

TEST_F(QemuCloud1c, TheFillPushedPagesToSwap) {
    const auto before = read_free(profile_dir("qemu-cloud-1c") / "t0/tools/free.txt");
    const auto after = read_free(tools() / "free.txt");
    EXPECT_LT(before.swap_used, 4 * k_mib);
    EXPECT_GT(after.swap_used, 8 * k_mib);
    const auto used = m_run.get("swap_used_bytes");
    ASSERT_TRUE(used);
    EXPECT_NEAR(m_run.get("swap_used_percent").value_or(-1), 100.0 * *used / after.swap_total, 1e-9);
    // The swap file is on the root partition: the swapping shows as writes to nvme0n1.
    EXPECT_GT(m_run.get("disk_write_bytes_per_second", {{"device", "nvme0n1"}}).value_or(-1), 0);
}

TEST_F(QemuCloud1c, BootedWithPsiOffThePressureCollectorSaysSo) {
    const auto* s = m_run.status("pressure");
    ASSERT_NE(s, nullptr);
    EXPECT_FALSE(s->ok);
    EXPECT_EQ(s->error, (profile_dir("qemu-cloud-1c") / "t1/proc/pressure").string() +
                            ": not present (Linux older than 4.20, or booted with psi=0); no pressure series");
}

TEST_F(QemuCloud1c, NoSensorsAtAllIsNotAnError) {
    const auto* s = m_run.status("temperature");
    ASSERT_NE(s, nullptr);
    EXPECT_TRUE(s->ok) << s->error;
    EXPECT_TRUE(m_run.by_label("temperature_celsius", "chip").empty());
    EXPECT_FALSE(m_run.get("temperature_max_celsius"));
}

TEST_F(QemuCloud1c, TheDisksAndFilesystemsOfACloudImage) {
    std::vector<std::string> mounts;
    for (const auto& [mount, v] : m_run.by_label("disk_used_percent", "mount")) mounts.push_back(mount);
    EXPECT_EQ(mounts, (std::vector<std::string>{"/", "/boot/efi", "/data"}));
    std::set<std::string> devices;
    for (const auto& [device, v] : m_run.by_label("disk_read_bytes_per_second", "device")) devices.insert(device);
    EXPECT_EQ(devices, (std::set<std::string>{"nvme0n1", "vda"}));
}

TEST_F(QemuCloud1c, EthZeroSentExactlyWhatPingSent) {
    // 10 echo requests of 500 bytes: + 8 ICMP + 20 IPv4 + 14 Ethernet header = 542 bytes each.
    const double sent = number_before(tools() / "ping-eth0.txt", " packets transmitted");
    EXPECT_EQ(sent, 10);
    EXPECT_DOUBLE_EQ(m_run.get("net_tx_bytes_per_second", {{"iface", "eth0"}}).value_or(-1),
                     sent * 542 / m_run.elapsed_s);
    EXPECT_DOUBLE_EQ(m_run.get("net_tx_bytes_per_second").value_or(-1), sent * 542 / m_run.elapsed_s);
}

}  // namespace
}  // namespace boxmon::collector
