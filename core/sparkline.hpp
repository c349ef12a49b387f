#pragma once
// Sparklines: a series of values as a row of block characters (▁▂▃▄▅▆▇█), for status, alerts
// and the report.

#include <cstddef>
#include <string>
#include <vector>

namespace boxmon {

// One block per value, scaled between the values' min and max (or [lo, hi] when given); NaN is
// a space. At most `width` blocks: longer input is averaged into `width` buckets.
std::string sparkline(const std::vector<double>& values, std::size_t width = 60);
std::string sparkline(const std::vector<double>& values, double lo, double hi, std::size_t width = 60);

}  // namespace boxmon
