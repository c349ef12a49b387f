// The exposition text, checked by Prometheus's own promtool (Debian package prometheus).
#include "agent/exposition.hpp"

#include <cmath>

#include <gtest/gtest.h>

#include "tests/support/test_support.hpp"

namespace boxmon::agent {
namespace {

Sample tricky_sample() {
    Sample s;
    s.ts = from_unix_seconds(1'795'450'200);
    s.add(SeriesKey("cpu_percent"), 12.5);
    s.add(SeriesKey("disk_used_percent", {{"mount", "/"}}), 41.0);
    s.add(SeriesKey("disk_used_percent", {{"mount", "/mnt/a \"quoted\" \\ dir\nx"}}), 3.0);
    s.add(SeriesKey("net_rx_bytes_per_second"), 1.5e9);
    s.add(SeriesKey("cpu_count"), 8);
    s.collectors.push_back({"cpu", true, std::chrono::microseconds(42), ""});
    s.collectors.push_back({"filesystem", false, std::chrono::microseconds(7), "statfs failed"});
    return s;
}

TEST(Exposition, escapes_label_values_and_names_each_family_once) {
    SelfMetrics self;
    self.last_tick = from_unix_seconds(1'795'450'200);
    const auto text = to_exposition(tricky_sample(), self);
    EXPECT_NE(text.find(R"(boxmon_disk_used_percent{mount="/mnt/a \"quoted\" \\ dir\nx"} 3)"), std::string::npos)
        << text;
    EXPECT_NE(text.find("# TYPE boxmon_disk_used_percent gauge\n"), std::string::npos);
    EXPECT_EQ(text.find("# TYPE boxmon_disk_used_percent gauge"), text.rfind("# TYPE boxmon_disk_used_percent gauge"));
    EXPECT_NE(text.find("boxmon_collector_up{collector=\"filesystem\"} 0\n"), std::string::npos);
    EXPECT_NE(text.find("boxmon_last_tick_timestamp_seconds 1795450200\n"), std::string::npos) << text;
}

TEST(Exposition, names_ending_in_a_histogram_suffix_get_value_appended) {
    Sample s;
    s.add(SeriesKey("cpu_count"), 4);
    s.add(SeriesKey("gpu_power_sum"), 300);
    s.add(SeriesKey("latency_bucket"), 1);
    const auto text = to_exposition(s, SelfMetrics{});
    EXPECT_NE(text.find("# TYPE boxmon_cpu_count_value gauge\nboxmon_cpu_count_value 4\n"), std::string::npos)
        << text;
    EXPECT_NE(text.find("\nboxmon_gpu_power_sum_value 300\n"), std::string::npos) << text;
    EXPECT_NE(text.find("\nboxmon_latency_bucket_value 1\n"), std::string::npos) << text;
    EXPECT_EQ(text.find("boxmon_cpu_count "), std::string::npos) << text;
}

TEST(Exposition, passes_promtool_check_metrics) {
    const std::string promtool = "/usr/bin/promtool";
    if (!std::filesystem::exists(promtool)) GTEST_SKIP() << "promtool (Debian package prometheus) is not installed";
    SelfMetrics self;
    self.last_tick = from_unix_seconds(1'795'450'200);
    self.tick_seconds = 0.004;
    self.outbox = OutboxCounts{2, 1, 10, std::nullopt};
    self.rule_states = {{"ok", 5}, {"firing", 1}};
    test::RunOptions o;
    o.stdin_data = to_exposition(tricky_sample(), self);
    const auto r = test::run_process({promtool, "check", "metrics"}, o);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err << "\n--- input ---\n" << *o.stdin_data;
}

}  // namespace
}  // namespace boxmon::agent
