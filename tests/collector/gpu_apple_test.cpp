// The Apple GPU collector's pure part (collector/gpu/apple_stats.cpp): one IOAccelerator's
// "PerformanceStatistics" numbers turned into series, as table tests. The IOKit reader around it
// (collector/darwin/gpu_apple.cpp) builds only on macOS and is not tested here.

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "collector/gpu/apple_stats.hpp"
#include "collector/registry.hpp"
#include "core/config.hpp"

namespace boxmon::collector {
namespace {

struct AppleCase {
    const char* name;
    AcceleratorStatistics stats;
    std::map<std::string, double> points;  // series text -> value
    std::vector<std::string> rejected;
};

void PrintTo(const AppleCase& c, std::ostream* os) { *os << c.name; }

class AppleGpuPoints : public ::testing::TestWithParam<AppleCase> {};

TEST_P(AppleGpuPoints, GiveExactlyTheExpectedSeries) {
    const auto& c = GetParam();
    Sample s;
    const auto r = add_apple_gpu_points(c.stats, AcceleratorIdentity{1, "Apple M2 Pro"}, s);
    std::map<std::string, double> got;
    for (const auto& p : s.points) got[p.key.to_string()] = p.value;
    EXPECT_EQ(got, c.points);
    EXPECT_EQ(r.added, c.points.size());
    EXPECT_EQ(r.rejected, c.rejected);
}

const std::string l = R"({gpu="1",name="Apple M2 Pro"})";
constexpr double nan = std::numeric_limits<double>::quiet_NaN();

INSTANTIATE_TEST_SUITE_P(
    Statistics, AppleGpuPoints,
    ::testing::Values(
        AppleCase{"busy_gpu_with_the_other_keys_a_driver_publishes",
                  {{"Device Utilization %", 63},
                   {"Renderer Utilization %", 58},
                   {"Tiler Utilization %", 12},
                   {"In use system memory", 3'221'225'472},
                   {"In use system memory (driver)", 65'536},
                   {"Alloc system memory", 5'368'709'120},
                   {"recoveryCount", 0}},
                  {{"gpu_util_percent" + l, 63},
                   {"gpu_memory_used_bytes" + l, 3'221'225'472},
                   {"gpu_memory_allocated_bytes" + l, 5'368'709'120}},
                  {}},
        AppleCase{"idle_gpu_reads_zero_not_absent",
                  {{"Device Utilization %", 0}, {"In use system memory", 0}},
                  {{"gpu_util_percent" + l, 0}, {"gpu_memory_used_bytes" + l, 0}},
                  {}},
        AppleCase{"empty_dictionary_gives_nothing", {}, {}, {}},
        // A key that only starts like one we read is another entry.
        AppleCase{"prefix_of_a_key_is_not_the_key",
                  {{"In use system memory (driver)", 4096}, {"Device Utilization", 50}, {"device utilization %", 50}},
                  {},
                  {}},
        AppleCase{"full_utilization_is_kept",
                  {{"Device Utilization %", 100}},
                  {{"gpu_util_percent" + l, 100}},
                  {}},
        AppleCase{"utilization_out_of_range_is_left_out_and_named",
                  {{"Device Utilization %", 140}, {"In use system memory", 1024}},
                  {{"gpu_memory_used_bytes" + l, 1024}},
                  {R"("Device Utilization %" = 140 is not a percentage)"}},
        AppleCase{"negative_utilization_is_left_out",
                  {{"Device Utilization %", -1}},
                  {},
                  {R"("Device Utilization %" = -1 is not a percentage)"}},
        AppleCase{"not_a_number_is_left_out",
                  {{"Device Utilization %", nan}, {"Alloc system memory", nan}},
                  {},
                  {R"("Device Utilization %" = nan is not a percentage)",
                   R"("Alloc system memory" = nan is not a byte count)"}},
        AppleCase{"negative_or_fractional_bytes_are_left_out",
                  {{"In use system memory", -4096}, {"Alloc system memory", 1.5}},
                  {},
                  {R"("In use system memory" = -4096 is not a byte count)",
                   R"("Alloc system memory" = 1.5 is not a byte count)"}},
        AppleCase{"bytes_beyond_exact_doubles_are_left_out",
                  {{"Alloc system memory", 1.8e19}},
                  {},
                  {R"("Alloc system memory" = 1.8e+19 is not a byte count)"}}),
    [](const ::testing::TestParamInfo<AppleCase>& tp) { return std::string(tp.param.name); });

TEST(AppleGpuPoints, TheIndexAndNameBecomeTheLabels) {
    Sample s;
    add_apple_gpu_points({{"Device Utilization %", 7}}, AcceleratorIdentity{0, "AGXAcceleratorG14X"}, s);
    ASSERT_EQ(s.points.size(), 1u);
    EXPECT_EQ(s.points[0].key.to_string(), R"(gpu_util_percent{gpu="0",name="AGXAcceleratorG14X"})");
}

// On Linux the registry still lists gpu_apple (config keys are the same everywhere), but its
// factory makes no collector: nothing reports "not supported" for hardware Linux cannot have.
TEST(AppleGpuCollector, IsAbsentOffMacOs) {
#ifdef __APPLE__
    GTEST_SKIP() << "macOS builds the IOKit collector";
#else
    Config config;
    EXPECT_TRUE(make_gpu_apple_collector(config) == nullptr);
#endif
}

}  // namespace
}  // namespace boxmon::collector
