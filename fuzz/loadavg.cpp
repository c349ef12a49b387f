// Fuzz target: parse_loadavg() and parse_uptime() on arbitrary bytes (RELIABILITY B9). It must return a value or an error,
// never crash, read out of bounds or trip UBSan; a value it returns must be self-consistent.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "collector/linux/parse_proc.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto parsed = boxmon::collector::kernel::parse_loadavg(text);
    if (parsed && (parsed->load1 < 0 || parsed->load5 < 0 || parsed->load15 < 0)) std::abort();
    // uptime shares the number helpers and the file shape: fuzz it here too.
    auto up = boxmon::collector::kernel::parse_uptime(text);
    if (up && up->uptime_seconds < 0) std::abort();
    return 0;
}
