#include "collector/gpu/nvml_library.hpp"

#include <dlfcn.h>

#include <fmt/format.h>

namespace boxmon::collector {

std::vector<std::string> nvml_library_candidates(std::string_view configured) {
    if (!configured.empty()) return {std::string(configured)};
    // The driver package installs only the versioned name; the plain one comes with the
    // development package, so it is the fallback.
    return {"libnvidia-ml.so.1", "libnvidia-ml.so"};
}

namespace {

// dlsym returns void*; the cast to a function pointer is what POSIX requires to work.
template <class Fn>
Fn resolve(void* handle, const char* name) {
    return reinterpret_cast<Fn>(dlsym(handle, name));
}

}  // namespace

Result<std::unique_ptr<NvmlLibrary>> NvmlLibrary::open(const std::vector<std::string>& candidates) {
    void* handle = nullptr;
    std::string path;
    std::string why;
    for (const auto& candidate : candidates) {
        dlerror();
        handle = dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (handle) {
            path = candidate;
            break;
        }
        const char* err = dlerror();
        if (!why.empty()) why += "; ";
        why += err ? err : fmt::format("{}: cannot be loaded", candidate);
    }
    if (!handle) return fail_as(ErrorKind::not_found, "no NVML library: {}", why);

    std::unique_ptr<NvmlLibrary> lib(new NvmlLibrary(handle, path));
    auto& r = lib->m_required;
    r.init = resolve<nvml::InitFn>(handle, "nvmlInit_v2");
    r.shutdown = resolve<nvml::ShutdownFn>(handle, "nvmlShutdown");
    r.error_string = resolve<nvml::ErrorStringFn>(handle, "nvmlErrorString");
    r.device_get_count = resolve<nvml::DeviceGetCountFn>(handle, "nvmlDeviceGetCount_v2");
    r.device_get_handle_by_index =
        resolve<nvml::DeviceGetHandleByIndexFn>(handle, "nvmlDeviceGetHandleByIndex_v2");
    const std::pair<const char*, bool> required[] = {
        {"nvmlInit_v2", r.init != nullptr},
        {"nvmlShutdown", r.shutdown != nullptr},
        {"nvmlErrorString", r.error_string != nullptr},
        {"nvmlDeviceGetCount_v2", r.device_get_count != nullptr},
        {"nvmlDeviceGetHandleByIndex_v2", r.device_get_handle_by_index != nullptr},
    };
    for (const auto& [name, found] : required) {
        if (!found)
            return fail("{} lacks the symbol {}; it is not an NVML library, or older than NVML 5: "
                        "update the NVIDIA driver or fix [gpu] nvml_library",
                        path, name);
    }

    auto& o = lib->m_optional;
    o.device_get_name = resolve<nvml::DeviceGetNameFn>(handle, "nvmlDeviceGetName");
    o.device_get_uuid = resolve<nvml::DeviceGetUuidFn>(handle, "nvmlDeviceGetUUID");
    o.device_get_utilization_rates =
        resolve<nvml::DeviceGetUtilizationRatesFn>(handle, "nvmlDeviceGetUtilizationRates");
    o.device_get_samples = resolve<nvml::DeviceGetSamplesFn>(handle, "nvmlDeviceGetSamples");
    o.device_get_memory_info = resolve<nvml::DeviceGetMemoryInfoFn>(handle, "nvmlDeviceGetMemoryInfo");
    o.device_get_temperature = resolve<nvml::DeviceGetTemperatureFn>(handle, "nvmlDeviceGetTemperature");
    o.device_get_power_usage = resolve<nvml::DeviceGetPowerUsageFn>(handle, "nvmlDeviceGetPowerUsage");
    o.device_get_total_ecc_errors =
        resolve<nvml::DeviceGetTotalEccErrorsFn>(handle, "nvmlDeviceGetTotalEccErrors");
    // _v3 and _v2 fill the same structure (nvml.h); the newer form the driver has is used.
    o.device_get_compute_processes =
        resolve<nvml::DeviceGetRunningProcessesFn>(handle, "nvmlDeviceGetComputeRunningProcesses_v3");
    if (!o.device_get_compute_processes)
        o.device_get_compute_processes =
            resolve<nvml::DeviceGetRunningProcessesFn>(handle, "nvmlDeviceGetComputeRunningProcesses_v2");
    o.device_get_graphics_processes =
        resolve<nvml::DeviceGetRunningProcessesFn>(handle, "nvmlDeviceGetGraphicsRunningProcesses_v3");
    if (!o.device_get_graphics_processes)
        o.device_get_graphics_processes =
            resolve<nvml::DeviceGetRunningProcessesFn>(handle, "nvmlDeviceGetGraphicsRunningProcesses_v2");
    o.event_set_create = resolve<nvml::EventSetCreateFn>(handle, "nvmlEventSetCreate");
    o.device_register_events = resolve<nvml::DeviceRegisterEventsFn>(handle, "nvmlDeviceRegisterEvents");
    // The _v2 form fills the larger nvmlEventData_t declared in nvml_api.hpp (driver >= 450).
    o.event_set_wait = resolve<nvml::EventSetWaitFn>(handle, "nvmlEventSetWait_v2");
    o.event_set_free = resolve<nvml::EventSetFreeFn>(handle, "nvmlEventSetFree");

    const nvml::Return rc = r.init();
    if (rc != nvml::k_success)
        return fail("nvmlInit_v2 in {} failed: {}; check that the NVIDIA kernel module is loaded "
                    "(nvidia-smi shows the same error)",
                    path, lib->describe(rc));
    lib->m_initialised = true;
    return lib;
}

NvmlLibrary::~NvmlLibrary() {
    if (m_initialised && m_required.shutdown) m_required.shutdown();
    if (m_handle) dlclose(m_handle);
}

std::string NvmlLibrary::describe(nvml::Return code) const {
    const char* text = m_required.error_string ? m_required.error_string(code) : nullptr;
    if (!text || !*text) return fmt::format("NVML error {}", code);
    return fmt::format("{} (NVML error {})", text, code);
}

}  // namespace boxmon::collector
