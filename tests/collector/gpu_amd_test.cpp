// The AMD collector on fixture trees of /sys/class/drm (tests/fixtures/gpu/amd-*), and its
// parsers as table tests.

#include <map>
#include <ostream>
#include <string>

#include <gtest/gtest.h>

#include "collector/gpu/amd.hpp"
#include "collector/registry.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon::collector {
namespace {

RootFs fixture(const char* profile) {
    const auto base = test::fixtures_dir() / "gpu" / profile;
    return RootFs(base / "proc", base / "sys");
}

// Every point of the sample as "series text" -> value.
std::map<std::string, double> points_of(const Sample& s) {
    std::map<std::string, double> out;
    for (const auto& p : s.points) out[p.key.to_string()] = p.value;
    return out;
}

Result<void> collect(const RootFs& root, Sample& out) {
    Config config;
    RateTracker rates(nullptr, "boot", Nanos{0}, WallTime{}, config.general.interval);
    CollectContext ctx{root, config, Instant{}, rates};
    auto c = make_gpu_amd_collector(config);
    EXPECT_EQ(c->name(), "gpu_amd");
    return c->collect(ctx, out);
}

TEST(AmdCollector, ReadsEverySeriesOfAnRx6800) {
    Sample s;
    ASSERT_TRUE(collect(fixture("amd-rx6800"), s));
    const std::string l = R"({gpu="0",name="AMD Radeon RX 6800 XT",uuid="5b2d3c1a8e7f0123"})";
    const std::map<std::string, double> want = {
        {"gpu_util_percent" + l, 37},
        {"gpu_memory_used_bytes" + l, 4294967296.0},
        {"gpu_memory_total_bytes" + l, 17179869184.0},
        {"gpu_memory_used_percent" + l, 25},
        {"gpu_temperature_celsius" + l, 54},
        {"gpu_power_watts" + l, 187},
        {R"(gpu_up{gpu="0",vendor="amd"})", 1},
    };
    EXPECT_EQ(points_of(s), want);
}

TEST(AmdCollector, TellsTheServicesCollectorAnAmdgpuCardIsThere) {
    auto facts_after = [](const RootFs& root) {
        Config config;
        RateTracker rates(nullptr, "boot", Nanos{0}, WallTime{}, config.general.interval);
        PassFacts facts;
        CollectContext ctx{root, config, Instant{}, rates, &facts};
        Sample out;
        EXPECT_TRUE(make_gpu_amd_collector(config)->collect(ctx, out));
        return facts.amd_gpus;
    };
    EXPECT_TRUE(facts_after(fixture("amd-rx6800")));
    test::TempDir empty;
    EXPECT_FALSE(facts_after(RootFs(empty / "proc", empty / "sys")));
}

TEST(AmdCollector, SkipsOtherDriversAndConnectorsAndNamesACardByItsPciId) {
    Sample s;
    ASSERT_TRUE(collect(fixture("amd-mixed"), s));
    const std::string l = R"({gpu="1",name="AMD GPU 1002:744C",uuid="0000:0b:00.0"})";
    const std::map<std::string, double> want = {
        {"gpu_util_percent" + l, 0},
        {"gpu_memory_used_bytes" + l, 536870912.0},
        {"gpu_memory_total_bytes" + l, 25753026560.0},
        {"gpu_memory_used_percent" + l, 100.0 * 536870912.0 / 25753026560.0},
        {"gpu_temperature_celsius" + l, 41},
        {"gpu_power_watts" + l, 21},  // power1_input where power1_average is missing
        {R"(gpu_up{gpu="1",vendor="amd"})", 1},
    };
    EXPECT_EQ(points_of(s), want);
}

TEST(AmdCollector, ABrokenFileLeavesOnlyItsSeriesAbsentAndIsReported) {
    const RootFs root = fixture("amd-broken");
    auto scan = read_amd_gpus(root);
    ASSERT_TRUE(scan) << scan.error().message;
    ASSERT_EQ(scan->gpus.size(), 1u);
    const AmdGpu& g = scan->gpus[0];
    EXPECT_EQ(g.name, "AMD GPU 1002:66AF");  // product_name is empty
    EXPECT_EQ(g.uuid, "0000:41:00.0");
    EXPECT_FALSE(g.busy_percent);
    EXPECT_FALSE(g.vram_used_bytes);
    EXPECT_EQ(g.vram_total_bytes, 8589934592u);
    EXPECT_FALSE(g.temperature_celsius);
    EXPECT_FALSE(g.power_watts);
    ASSERT_EQ(scan->problems.size(), 1u);
    EXPECT_EQ(scan->problems[0],
              (root.sys("class/drm/card0/device/gpu_busy_percent").string() +
               ": value \"garbage\" is not an unsigned integer"));

    Sample s;
    ASSERT_TRUE(collect(root, s));
    const std::map<std::string, double> want = {
        {R"(gpu_memory_total_bytes{gpu="0",name="AMD GPU 1002:66AF",uuid="0000:41:00.0"})", 8589934592.0},
        {R"(gpu_up{gpu="0",vendor="amd"})", 1}};
    EXPECT_EQ(points_of(s), want);
}

TEST(AmdCollector, ARuntimeSuspendedCardIsIdleAndNotWokenUp) {
    // The fixture's files hold values (55 %, 1 GiB) a read would return; none may be read.
    Sample s;
    ASSERT_TRUE(collect(fixture("amd-suspended"), s));
    const std::map<std::string, double> want = {
        {R"(gpu_util_percent{gpu="0",name="AMD GPU 1002:73DF",uuid="0000:03:00.0"})", 0},
        {R"(gpu_up{gpu="0",vendor="amd"})", 1}};
    EXPECT_EQ(points_of(s), want);
}

TEST(AmdCollector, NoDrmDirectoryMeansNoSeriesAndNoError) {
    test::TempDir dir;
    Sample s;
    ASSERT_TRUE(collect(RootFs(dir / "proc", dir / "sys"), s));
    EXPECT_TRUE(s.points.empty());
}

TEST(AmdCollector, SwitchedOffInTheConfigMeansNoCollector) {
    Config config;
    config.gpu.amd = false;
    EXPECT_EQ(make_gpu_amd_collector(config), nullptr);
}

struct UintCase {
    const char* name;
    const char* text;
    std::optional<std::uint64_t> want;
    const char* error;
};

// Names the case in test output instead of dumping its bytes.
void PrintTo(const UintCase& c, std::ostream* os) { *os << c.name; }

class ParseSysfsUint : public ::testing::TestWithParam<UintCase> {};

TEST_P(ParseSysfsUint, ParsesOneUnsignedIntegerOrSaysWhyNot) {
    const auto& c = GetParam();
    const auto got = parse_sysfs_uint(c.text);
    if (c.want) {
        ASSERT_TRUE(got) << got.error().message;
        EXPECT_EQ(*got, *c.want);
    } else {
        ASSERT_FALSE(got);
        EXPECT_EQ(got.error().message, c.error);
    }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ParseSysfsUint,
    ::testing::Values(UintCase{"plain", "42\n", 42u, ""}, UintCase{"no_newline", "7", 7u, ""},
                      UintCase{"zero", "0\n", 0u, ""},
                      UintCase{"max", "18446744073709551615\n", 18446744073709551615u, ""},
                      UintCase{"empty", "", std::nullopt, "empty value; expected an unsigned integer"},
                      UintCase{"only_newline", "\n", std::nullopt, "empty value; expected an unsigned integer"},
                      UintCase{"negative", "-1\n", std::nullopt, "value \"-1\" is not an unsigned integer"},
                      UintCase{"two_fields", "12 34\n", std::nullopt, "value \"12 34\" is not an unsigned integer"},
                      UintCase{"overflow", "18446744073709551616", std::nullopt,
                               "value \"18446744073709551616\" out of range"},
                      UintCase{"binary", "\x01\x02", std::nullopt, "value \"??\" is not an unsigned integer"}),
    [](const ::testing::TestParamInfo<UintCase>& tp) { return std::string(tp.param.name); });

TEST(ParseUevent, ReadsKeyValueLinesAndSkipsOthers) {
    const auto got = parse_uevent("DRIVER=amdgpu\nPCI_ID=1002:73BF\nnot a pair\n=x\nEMPTY=\nPCI_SLOT_NAME=0000:03:00.0");
    const std::map<std::string, std::string> want = {
        {"DRIVER", "amdgpu"}, {"EMPTY", ""}, {"PCI_ID", "1002:73BF"}, {"PCI_SLOT_NAME", "0000:03:00.0"}};
    EXPECT_EQ(got, want);
    EXPECT_TRUE(parse_uevent("").empty());
}

TEST(ParseDrmFdinfo, ReadsAnAmdgpuClientAndPrefersResidentVram) {
    const auto old_kernel = parse_drm_fdinfo(
        "pos:\t0\nflags:\t02100002\ndrm-driver:\tamdgpu\ndrm-pdev:\t0000:03:00.0\ndrm-client-id:\t42\n"
        "drm-memory-vram:\t1048576 KiB\ndrm-memory-gtt:\t4096 KiB\n");
    ASSERT_TRUE(old_kernel);
    EXPECT_EQ(old_kernel->driver, "amdgpu");
    EXPECT_EQ(old_kernel->pdev, "0000:03:00.0");
    EXPECT_EQ(old_kernel->id, 42u);
    EXPECT_EQ(old_kernel->vram_bytes, 1ull << 30);

    const auto new_kernel = parse_drm_fdinfo(
        "drm-driver:\tamdgpu\ndrm-client-id:\t7\ndrm-memory-vram:\t900 MiB\ndrm-total-vram:\t2 MiB\n"
        "drm-resident-vram:\t512 MiB\n");
    ASSERT_TRUE(new_kernel);
    EXPECT_EQ(new_kernel->vram_bytes, 512ull << 20);

    const auto bytes = parse_drm_fdinfo("drm-driver:\tamdgpu\ndrm-client-id:\t1\ndrm-memory-vram:\t4096\n");
    ASSERT_TRUE(bytes);
    EXPECT_EQ(bytes->vram_bytes, 4096u);
}

TEST(ParseDrmFdinfo, AnythingButADrmClientIsAbsentAndABadValueIsNoValue) {
    EXPECT_FALSE(parse_drm_fdinfo("pos:\t0\nflags:\t0100002\nmnt_id:\t29\nino:\t1234\n"));  // a plain file
    EXPECT_FALSE(parse_drm_fdinfo("drm-driver:\tamdgpu\n"));                                   // no client id
    EXPECT_FALSE(parse_drm_fdinfo(""));
    const auto odd = parse_drm_fdinfo("drm-driver:\tamdgpu\ndrm-client-id:\t3\ndrm-memory-vram:\t12 GiB\n");
    ASSERT_TRUE(odd);
    EXPECT_FALSE(odd->vram_bytes) << "an unknown unit is no value, not a wrong one";
}

TEST(DrmCardNumber, AcceptsCardsOnly) {
    EXPECT_EQ(drm_card_number("card0"), 0u);
    EXPECT_EQ(drm_card_number("card12"), 12u);
    EXPECT_EQ(drm_card_number("card0-DP-1"), std::nullopt);
    EXPECT_EQ(drm_card_number("renderD128"), std::nullopt);
    EXPECT_EQ(drm_card_number("card"), std::nullopt);
    EXPECT_EQ(drm_card_number("version"), std::nullopt);
}

}  // namespace
}  // namespace boxmon::collector
