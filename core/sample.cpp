#include "core/sample.hpp"

namespace boxmon {

std::optional<double> Sample::find(const SeriesKey& key) const {
    for (const auto& p : points)
        if (p.key == key) return p.value;
    return std::nullopt;
}

}  // namespace boxmon
