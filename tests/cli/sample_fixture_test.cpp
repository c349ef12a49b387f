// End to end: the real binary collects from captured fixture snapshots (t0 then t1) and its JSON
// must equal the golden file beside the fixture (bless with BOXMON_BLESS=1 after a deliberate
// change, and review the diff).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/test_support.hpp"

namespace boxmon {
namespace {

namespace fs = std::filesystem;

test::RunOptions utc_env() {
    test::RunOptions o;
    o.env = {{"TZ", "UTC"}};
    return o;
}

class FixtureSample : public ::testing::TestWithParam<std::string> {};

TEST_P(FixtureSample, matches_its_golden_json) {
    const fs::path dir = test::fixtures_dir() / "linux" / GetParam();
    if (!fs::exists(dir / "t1")) GTEST_SKIP() << dir << " has no t1 snapshot";
    test::TempDir state;
    // The NVIDIA collector reads the host's driver, not the fixture: off here (its own tests use
    // a fake library).
    test::write_file(state / "boxmon.toml", "[collectors]\ndisable = [\"gpu_nvidia\", \"services\"]\n", 0600);
    const auto r = test::run_boxmon({"--config", (state / "boxmon.toml").string(), "--state-dir",
                                     state.path().string(), "sample", "--json", "--fixture", dir.string()},
                                    utc_env());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto actual = nlohmann::json::parse(r.out);
    // Collector timings differ from run to run; everything else is determined by the fixture.
    // Messages name fixture paths: make them independent of where the checkout lives.
    for (auto& c : actual["collectors"]) {
        c.erase("duration_us");
        if (c.contains("error")) {
            auto text = c["error"].get<std::string>();
            const std::string prefix = dir.string();
            for (auto pos = text.find(prefix); pos != std::string::npos; pos = text.find(prefix))
                text.replace(pos, prefix.size(), "<fixture>");
            c["error"] = text;
        }
    }
    const auto golden = dir / "expected.json";
    if (std::getenv("BOXMON_BLESS")) test::write_file(golden, actual.dump(2) + "\n");
    ASSERT_TRUE(fs::exists(golden)) << "missing " << golden << "; run with BOXMON_BLESS=1 and review it";
    const auto expected = nlohmann::json::parse(test::read_file(golden));
    EXPECT_EQ(actual, expected) << "diff:\n" << nlohmann::json::diff(expected, actual).dump(2);
    // Nothing is stored in fixture mode.
    EXPECT_FALSE(fs::exists(state / "boxmon.db"));
}

std::vector<std::string> fixture_machines() {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(test::fixtures_dir() / "linux"))
        if (e.is_directory() && fs::exists(e.path() / "t0")) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

INSTANTIATE_TEST_SUITE_P(Machines, FixtureSample, ::testing::ValuesIn(fixture_machines()),
                         [](const ::testing::TestParamInfo<std::string>& tp) {
                             std::string n = tp.param;
                             for (auto& c : n)
                                 if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                             return n;
                         });

}  // namespace
}  // namespace boxmon
