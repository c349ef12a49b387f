#pragma once
// The Apple GPU collector's pure part, kept apart from IOKit (collector/darwin/gpu_apple.cpp) so
// that every platform compiles and tests it: the numbers of one IOAccelerator registry entry's
// "PerformanceStatistics" dictionary, turned into series. Apple does not document the dictionary;
// the keys are the ones `ioreg -r -c IOAccelerator` shows and that monitoring tools read
// unprivileged on Apple Silicon.

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/sample.hpp"

namespace boxmon::collector {

// The numeric entries of one accelerator's "PerformanceStatistics", key -> value; the IOKit
// reader leaves out entries that are not numbers.
using AcceleratorStatistics = std::map<std::string, double, std::less<>>;

// The keys read, matched exactly ("In use system memory (driver)" is another entry).
inline constexpr std::string_view k_apple_utilization_key = "Device Utilization %";
inline constexpr std::string_view k_apple_in_use_memory_key = "In use system memory";
inline constexpr std::string_view k_apple_alloc_memory_key = "Alloc system memory";

// Which accelerator: its place in IOKit's iteration (the gpu label) and a name for people.
struct AcceleratorIdentity {
    unsigned index = 0;
    std::string name;  // the entry's "model" ("Apple M2 Pro"), else its IOKit class name
};

struct AcceleratorPoints {
    std::size_t added = 0;
    // One line per entry that was present but out of range: the key, the value and why.
    std::vector<std::string> rejected;
};

// Adds the series of one accelerator to `out`, labelled {gpu, name}: gpu_util_percent from
// "Device Utilization %" (0..100), gpu_memory_used_bytes from "In use system memory" and
// gpu_memory_allocated_bytes from "Alloc system memory" (whole, non-negative byte counts). A
// missing key leaves its series absent; a value out of range is left out and listed in
// `rejected`. Never fails.
AcceleratorPoints add_apple_gpu_points(const AcceleratorStatistics& stats, const AcceleratorIdentity& id,
                                       Sample& out);

}  // namespace boxmon::collector
