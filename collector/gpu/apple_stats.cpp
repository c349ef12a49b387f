#include "collector/gpu/apple_stats.hpp"

#include <cmath>

#include <fmt/format.h>

namespace boxmon::collector {

namespace {

// Byte counts fit a double exactly up to 2^53 (8 PiB); a fraction or a sign means the entry is
// not what we think it is.
bool is_byte_count(double v) { return std::isfinite(v) && v >= 0 && v == std::floor(v) && v <= 9007199254740992.0; }

}  // namespace

AcceleratorPoints add_apple_gpu_points(const AcceleratorStatistics& stats, const AcceleratorIdentity& id,
                                       Sample& out) {
    AcceleratorPoints result;
    const std::vector<Label> labels = {{"gpu", std::to_string(id.index)}, {"name", id.name}};
    auto take = [&](std::string_view key, const char* series, bool (*valid)(double), const char* expected) {
        const auto it = stats.find(key);
        if (it == stats.end()) return;
        if (!valid(it->second)) {
            result.rejected.push_back(fmt::format("\"{}\" = {} is not {}", key, it->second, expected));
            return;
        }
        out.add(SeriesKey(series, labels), it->second);
        ++result.added;
    };
    // The driver's own recent figure, not a mean over boxmon's interval (there is no history to
    // average, as with amdgpu's gpu_busy_percent).
    take(k_apple_utilization_key, "gpu_util_percent", [](double v) { return std::isfinite(v) && v >= 0 && v <= 100; },
         "a percentage");
    take(k_apple_in_use_memory_key, "gpu_memory_used_bytes", &is_byte_count, "a byte count");
    // Memory the driver has set aside for the GPU; with unified memory there is no separate total,
    // so no gpu_memory_total_bytes and no used share.
    take(k_apple_alloc_memory_key, "gpu_memory_allocated_bytes", &is_byte_count, "a byte count");
    return result;
}

}  // namespace boxmon::collector
