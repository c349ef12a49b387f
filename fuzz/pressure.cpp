// Fuzz target: parse_pressure() on arbitrary bytes (RELIABILITY B9). It must return a value or an error,
// never crash, read out of bounds or trip UBSan; a value it returns must be self-consistent.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "collector/linux/parse_proc.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto parsed = boxmon::collector::kernel::parse_pressure(text);
    if (parsed) {
        if (!parsed->some) std::abort();
        for (const auto& line : {parsed->some, parsed->full}) {
            if (line && (line->avg10 < 0 || line->avg10 > 100 || line->avg300 < 0 || line->avg300 > 100)) std::abort();
        }
    }
    return 0;
}
