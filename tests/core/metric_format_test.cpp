#include "core/metric_format.hpp"

#include <cmath>

#include <gtest/gtest.h>

namespace boxmon {
namespace {

TEST(MetricFormat, shows_the_unit_the_name_ends_in) {
    EXPECT_EQ(format_metric_value("cpu_percent", 97.14), "97.1%");
    EXPECT_EQ(format_metric_value("mem_available_bytes", 1.5 * 1024 * 1024 * 1024), "1.5 GiB");
    EXPECT_EQ(format_metric_value("net_rx_bytes_per_second", 12.0 * 1024 * 1024), "12.0 MiB/s");
    EXPECT_EQ(format_metric_value("gpu_temperature_celsius", 81), "81.0 °C");
    EXPECT_EQ(format_metric_value("gpu_power_watts", 250.25), "250.2 W");
    EXPECT_EQ(format_metric_value("load1", 1.25), "1.25");
}

TEST(MetricFormat, not_a_number_is_shown_as_absent) {
    EXPECT_EQ(format_metric_value("cpu_percent", NAN), "n/a");
    EXPECT_EQ(format_metric_value("cpu_percent", INFINITY), "n/a");
}

}  // namespace
}  // namespace boxmon
