#include "core/sparkline.hpp"

#include <algorithm>
#include <cmath>

namespace boxmon {

namespace {

constexpr const char* k_blocks[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};

std::vector<double> bucket(const std::vector<double>& values, std::size_t width) {
    if (values.size() <= width || width == 0) return values;
    std::vector<double> out(width, NAN);
    for (std::size_t b = 0; b < width; ++b) {
        const std::size_t from = b * values.size() / width;
        const std::size_t to = (b + 1) * values.size() / width;
        double sum = 0;
        std::size_t n = 0;
        for (std::size_t i = from; i < to; ++i)
            if (std::isfinite(values[i])) {
                sum += values[i];
                ++n;
            }
        if (n > 0) out[b] = sum / static_cast<double>(n);
    }
    return out;
}

}  // namespace

std::string sparkline(const std::vector<double>& values, double lo, double hi, std::size_t width) {
    const auto v = bucket(values, width);
    std::string out;
    for (double x : v) {
        if (!std::isfinite(x)) {
            out += ' ';
            continue;
        }
        int level = 0;
        if (hi > lo) level = static_cast<int>(std::floor((x - lo) / (hi - lo) * 7.0 + 0.5));
        out += k_blocks[std::clamp(level, 0, 7)];
    }
    return out;
}

std::string sparkline(const std::vector<double>& values, std::size_t width) {
    double lo = INFINITY, hi = -INFINITY;
    for (double x : values)
        if (std::isfinite(x)) {
            lo = std::min(lo, x);
            hi = std::max(hi, x);
        }
    if (!std::isfinite(lo)) return std::string(std::min(values.size(), width), ' ');
    return sparkline(values, lo, hi, width);
}

}  // namespace boxmon
