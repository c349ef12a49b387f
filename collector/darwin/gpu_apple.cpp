// The Apple GPU collector (macOS only; CMake builds this folder when APPLE): every IOAccelerator
// registry entry's "PerformanceStatistics" dictionary, read unprivileged through IOKit, turned
// into series by add_apple_gpu_points() (collector/gpu/apple_stats.cpp, where the tests are).
// UNTESTED: no macOS machine has built or run this file; see docs/METRICS.md.

#include <CoreFoundation/CoreFoundation.h>
#include <IOKit/IOKitLib.h>

#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "collector/gpu/apple_stats.hpp"
#include "collector/registry.hpp"
#include "core/log.hpp"

namespace boxmon::collector {

namespace {

// Owns one IOKit object reference.
class IoObject {
public:
    explicit IoObject(io_object_t o) : m_o(o) {}
    ~IoObject() {
        if (m_o != 0) IOObjectRelease(m_o);
    }
    IoObject(const IoObject&) = delete;
    IoObject& operator=(const IoObject&) = delete;
    io_object_t get() const { return m_o; }

private:
    io_object_t m_o;
};

// Owns one Core Foundation reference (from a Create or Copy function).
class CfRef {
public:
    explicit CfRef(CFTypeRef r) : m_r(r) {}
    ~CfRef() {
        if (m_r != nullptr) CFRelease(m_r);
    }
    CfRef(const CfRef&) = delete;
    CfRef& operator=(const CfRef&) = delete;
    CFTypeRef get() const { return m_r; }

private:
    CFTypeRef m_r;
};

std::string to_string(CFStringRef s) {
    const CFIndex size = CFStringGetMaximumSizeForEncoding(CFStringGetLength(s), kCFStringEncodingUTF8) + 1;
    std::string out(static_cast<std::size_t>(size), '\0');
    if (!CFStringGetCString(s, out.data(), size, kCFStringEncodingUTF8)) return {};
    out.resize(std::char_traits<char>::length(out.c_str()));
    return out;
}

// CFDictionaryApplyFunction callback: copies a CFString -> CFNumber entry into the map.
void copy_number(const void* key, const void* value, void* context) {
    if (key == nullptr || value == nullptr || CFGetTypeID(key) != CFStringGetTypeID() ||
        CFGetTypeID(value) != CFNumberGetTypeID())
        return;
    const auto number = static_cast<CFNumberRef>(value);
    double v = 0;
    if (CFNumberIsFloatType(number)) {
        if (!CFNumberGetValue(number, kCFNumberDoubleType, &v)) return;
    } else {
        long long i = 0;
        if (!CFNumberGetValue(number, kCFNumberLongLongType, &i)) return;
        v = static_cast<double>(i);
    }
    (*static_cast<AcceleratorStatistics*>(context))[to_string(static_cast<CFStringRef>(key))] = v;
}

// The entry's "model" (a string on Apple Silicon, bytes on some Intel Macs), else its class name.
std::string accelerator_name(io_object_t entry) {
    CfRef model(IORegistryEntryCreateCFProperty(entry, CFSTR("model"), kCFAllocatorDefault, 0));
    if (model.get() != nullptr && CFGetTypeID(model.get()) == CFStringGetTypeID())
        return to_string(static_cast<CFStringRef>(model.get()));
    if (model.get() != nullptr && CFGetTypeID(model.get()) == CFDataGetTypeID()) {
        const auto data = static_cast<CFDataRef>(model.get());
        std::string s(reinterpret_cast<const char*>(CFDataGetBytePtr(data)), static_cast<std::size_t>(CFDataGetLength(data)));
        s.resize(std::char_traits<char>::length(s.c_str()));
        if (!s.empty()) return s;
    }
    io_name_t class_name = {};
    if (IOObjectGetClass(entry, class_name) == KERN_SUCCESS) return class_name;
    return "IOAccelerator";
}

struct Accelerator {
    AcceleratorIdentity id;
    AcceleratorStatistics stats;
};

// Every IOAccelerator entry, with the numbers of its PerformanceStatistics (empty when it has
// none). Fails only when IOKit cannot be asked at all.
Result<std::vector<Accelerator>> read_accelerators() {
    // IOServiceGetMatchingServices consumes the matching dictionary, even when it fails.
    CFMutableDictionaryRef matching = IOServiceMatching("IOAccelerator");
    if (matching == nullptr) return fail("IOServiceMatching(\"IOAccelerator\") returned nothing");
    io_iterator_t raw_iterator = 0;
    // MACH_PORT_NULL is the default main port (kIOMainPortDefault needs macOS 12).
    const kern_return_t kr = IOServiceGetMatchingServices(MACH_PORT_NULL, matching, &raw_iterator);
    if (kr != KERN_SUCCESS) return fail("IOServiceGetMatchingServices(\"IOAccelerator\"): kern_return_t {:#x}", kr);
    IoObject iterator(raw_iterator);
    std::vector<Accelerator> out;
    for (io_object_t raw = IOIteratorNext(iterator.get()); raw != 0; raw = IOIteratorNext(iterator.get())) {
        IoObject entry(raw);
        Accelerator a;
        a.id.index = static_cast<unsigned>(out.size());
        a.id.name = accelerator_name(entry.get());
        CfRef stats(IORegistryEntryCreateCFProperty(entry.get(), CFSTR("PerformanceStatistics"), kCFAllocatorDefault, 0));
        if (stats.get() != nullptr && CFGetTypeID(stats.get()) == CFDictionaryGetTypeID())
            CFDictionaryApplyFunction(static_cast<CFDictionaryRef>(stats.get()), &copy_number, &a.stats);
        out.push_back(std::move(a));
    }
    return out;
}

class AppleGpuCollector final : public Collector {
    static constexpr const char* k_absence_said = "gpu_apple/absence_said";

public:
    std::string_view name() const override { return "gpu_apple"; }

    Result<void> collect(CollectContext& ctx, Sample& out) override {
        BOXMON_TRY(accelerators, read_accelerators());
        std::size_t added = 0;
        for (const auto& a : accelerators) {
            const auto r = add_apple_gpu_points(a.stats, a.id, out);
            added += r.added;
            for (const auto& why : r.rejected)
                if (m_rejected.changed(a.id.name + why, why))
                    spdlog::warn("gpu_apple: {} (gpu {}): {}; that series is absent", a.id.name, a.id.index, why);
        }
        if (added == 0) {
            // Normal on a Mac whose GPU driver publishes no statistics; said once per boot, like
            // gpu_amd's absence (the mark is kept with the persisted counters).
            const bool said_this_boot = ctx.rates.record(k_absence_said, 1).has_value();
            if (!m_said_none) {
                m_said_none = true;
                spdlog::log(said_this_boot ? spdlog::level::debug : spdlog::level::info,
                            "gpu_apple: no IOAccelerator publishes PerformanceStatistics; no GPU series");
            }
        } else {
            m_said_none = false;
        }
        return ok();
    }

private:
    bool m_said_none = false;
    ChangeFilter m_rejected;
};

}  // namespace

std::unique_ptr<Collector> make_gpu_apple_collector(const Config&) { return std::make_unique<AppleGpuCollector>(); }

}  // namespace boxmon::collector
