// Fuzz target: parse_diskstats on arbitrary bytes (RELIABILITY B9).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "collector/linux/parse_diskstats.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto r = boxmon::collector::kernel::parse_diskstats(text);
    if (r) {
        for (const auto& d : r->devices)
            if (d.name.empty()) std::abort();
    }
    return 0;
}
