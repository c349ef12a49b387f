// Fuzz target: parse_proc_stat() on arbitrary bytes (RELIABILITY B9). It must return a value or an error,
// never crash, read out of bounds or trip UBSan; a value it returns must be self-consistent.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "collector/linux/parse_proc.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto parsed = boxmon::collector::kernel::parse_proc_stat(text);
    if (parsed) {
        // The total never wraps (it saturates) and covers idle + iowait.
        if (parsed->all.total() < parsed->all.idle && parsed->all.total() != UINT64_MAX) std::abort();
        for (const auto& c : parsed->cpus) {
            if (c.times.fields != parsed->all.fields) std::abort();
        }
    }
    return 0;
}
