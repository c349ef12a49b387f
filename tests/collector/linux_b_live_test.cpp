// Live checks on this machine (label "live"): boxmon's network totals against an independent
// reading of /proc/net/dev around the same window, and disk_used_percent of "/" against df.

#include <gtest/gtest.h>
#include <time.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "collector/rates.hpp"
#include "collector/registry.hpp"
#include "core/config.hpp"
#include "core/fs.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon::collector {
namespace {

using namespace std::chrono_literals;

Nanos boottime_now() {
    timespec ts{};
    ::clock_gettime(CLOCK_BOOTTIME, &ts);
    return Nanos(std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec);
}

struct Totals {
    double rx = 0;
    double tx = 0;
};

// An independent reading: the host's non-loopback interfaces backed by a device (the set boxmon's
// total counts; all non-loopback ones when none is), summed straight from the file with streams.
Totals read_totals_independently() {
    const RootFs host;
    std::ifstream in(host.proc("net/dev"));
    std::string line;
    std::vector<std::pair<std::string, Totals>> all;
    while (std::getline(in, line)) {
        const auto colon = line.find(':');
        if (colon == std::string::npos || line.find('|') != std::string::npos) continue;
        std::string name = line.substr(0, colon);
        name.erase(0, name.find_first_not_of(' '));
        std::istringstream fields(line.substr(colon + 1));
        double v[16] = {};
        for (double& x : v) fields >> x;
        if (name != "lo") all.push_back({name, Totals{v[0], v[8]}});
    }
    bool any_device = false;
    for (const auto& [name, t] : all) any_device = any_device || std::filesystem::exists(host.sys("class/net/" + name + "/device"));
    Totals sum;
    for (const auto& [name, t] : all) {
        if (any_device && !std::filesystem::exists(host.sys("class/net/" + name + "/device"))) continue;
        sum.rx += t.rx;
        sum.tx += t.tx;
    }
    return sum;
}

TEST(LiveNetwork, TotalsLieBetweenTheInnerAndOuterIndependentWindows) {
    // Reading order: A, boxmon, B, (1 s), C, boxmon, D. Counters only grow, so the bytes boxmon
    // saw (rate x elapsed) lie in [C - B, D - A]; the tolerance is that bracket plus 1e-6 relative.
    Config config;
    auto c = make_network_collector(config);
    const RootFs host;
    const auto a = read_totals_independently();
    RateTracker r0(nullptr, "live", boottime_now(), WallTime{}, config.general.interval);
    Sample s0;
    CollectContext ctx0{host, config, Instant{}, r0};
    ASSERT_TRUE(c->collect(ctx0, s0));
    const auto b = read_totals_independently();
    const auto snapshot = r0.take_snapshot();
    std::this_thread::sleep_for(1s);
    const auto cc = read_totals_independently();
    RateTracker r1(&snapshot, "live", boottime_now(), WallTime{}, config.general.interval);
    Sample s1;
    CollectContext ctx1{host, config, Instant{}, r1};
    ASSERT_TRUE(c->collect(ctx1, s1));
    const auto d = read_totals_independently();
    ASSERT_TRUE(r1.elapsed_seconds()) << r1.no_rate_reason();
    const double elapsed = *r1.elapsed_seconds();

    const auto rx = s1.find(SeriesKey("net_rx_bytes_per_second"));
    const auto tx = s1.find(SeriesKey("net_tx_bytes_per_second"));
    if (!rx || !tx) GTEST_SKIP() << "no non-loopback interface on this machine, or a counter was reset in the window";
    const double rx_bytes = *rx * elapsed;
    const double tx_bytes = *tx * elapsed;
    const auto slack = [](double v) { return 1e-6 * std::max(1.0, std::fabs(v)); };
    EXPECT_GE(rx_bytes + slack(rx_bytes), cc.rx - b.rx);
    EXPECT_LE(rx_bytes - slack(rx_bytes), d.rx - a.rx);
    EXPECT_GE(tx_bytes + slack(tx_bytes), cc.tx - b.tx);
    EXPECT_LE(tx_bytes - slack(tx_bytes), d.tx - a.tx);
}

TEST(LiveFilesystem, RootUsedPercentAgreesWithDf) {
    Config config;
    auto c = make_filesystem_collector(config);
    const RootFs host;
    RateTracker rates(nullptr, "live", boottime_now(), WallTime{}, config.general.interval);
    Sample s;
    CollectContext ctx{host, config, Instant{}, rates};
    const auto r = c->collect(ctx, s);
    // Another mount may fail here (this is a live host); "/" must not.
    if (!r) {
        EXPECT_EQ(r.error().message.find("statfs / "), std::string::npos) << r.error().message;
    }
    const auto used = s.find(SeriesKey("disk_used_percent", {{"mount", "/"}}));
    if (!used) GTEST_SKIP() << "\"/\" is not a real filesystem here (it was left out as a pseudo filesystem)";

    const auto df = test::run_process({"/usr/bin/df", "-P", "/"});
    if (df.exit_code != 0) GTEST_SKIP() << "df -P / failed: " << df.err;
    // "Filesystem 1024-blocks Used Available Capacity Mounted on" then one line with "NN%".
    std::istringstream lines(df.out);
    std::string header, row;
    std::getline(lines, header);
    std::getline(lines, row);
    std::istringstream fields(row);
    std::string fsname, blocks, used_k, avail, capacity;
    fields >> fsname >> blocks >> used_k >> avail >> capacity;
    ASSERT_FALSE(capacity.empty()) << df.out;
    ASSERT_EQ(capacity.back(), '%') << df.out;
    const double df_percent = std::stod(capacity.substr(0, capacity.size() - 1));
    // df rounds up to a whole percent; allow one more point for writes between the two readings.
    EXPECT_NEAR(std::ceil(*used), df_percent, 1.0) << "boxmon " << *used << " %, df " << capacity;
}

}  // namespace
}  // namespace boxmon::collector
