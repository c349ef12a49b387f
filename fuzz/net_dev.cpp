// Fuzz target: parse_net_dev on arbitrary bytes (RELIABILITY B9). Checks that every parsed
// interface has a name and that a result never comes with neither interfaces nor a header.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "collector/linux/parse_net.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto r = boxmon::collector::kernel::parse_net_dev(text);
    if (r) {
        for (const auto& i : r->interfaces)
            if (i.name.empty() || i.name.find(':') != std::string::npos) std::abort();
    } else if (r.error().message.empty()) {
        std::abort();
    }
    return 0;
}
