#include "collector/gpu/nvml_library.hpp"

#include <dlfcn.h>

#include <fmt/format.h>

#include "core/shared_library.hpp"

namespace boxmon::collector {

std::vector<std::string> nvml_library_candidates(std::string_view configured) {
    if (!configured.empty()) return {std::string(configured)};
    // The driver package installs only the versioned name; the plain one comes with the
    // development package, so it is the fallback.
    return {"libnvidia-ml.so.1", "libnvidia-ml.so"};
}

Result<std::unique_ptr<NvmlLibrary>> NvmlLibrary::open(const std::vector<std::string>& candidates) {
    void* handle = nullptr;
    std::string path;
    std::string why;
    for (const auto& candidate : candidates) {
        auto opened = open_shared_library(candidate);
        if (opened) {
            handle = *opened;
            path = candidate;
            break;
        }
        if (!why.empty()) why += "; ";
        why += opened.error().message;
    }
    if (!handle) return fail_as(ErrorKind::not_found, "no NVML library: {}", why);

    std::unique_ptr<NvmlLibrary> lib(new NvmlLibrary(handle, path));
    auto& r = lib->m_required;
    r.init = find_function<nvml::InitFn>(handle, "nvmlInit_v2");
    r.shutdown = find_function<nvml::ShutdownFn>(handle, "nvmlShutdown");
    r.error_string = find_function<nvml::ErrorStringFn>(handle, "nvmlErrorString");
    r.device_get_count = find_function<nvml::DeviceGetCountFn>(handle, "nvmlDeviceGetCount_v2");
    r.device_get_handle_by_index =
        find_function<nvml::DeviceGetHandleByIndexFn>(handle, "nvmlDeviceGetHandleByIndex_v2");
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
    o.device_get_name = find_function<nvml::DeviceGetNameFn>(handle, "nvmlDeviceGetName");
    o.device_get_uuid = find_function<nvml::DeviceGetUuidFn>(handle, "nvmlDeviceGetUUID");
    o.device_get_utilization_rates =
        find_function<nvml::DeviceGetUtilizationRatesFn>(handle, "nvmlDeviceGetUtilizationRates");
    o.device_get_samples = find_function<nvml::DeviceGetSamplesFn>(handle, "nvmlDeviceGetSamples");
    o.device_get_memory_info = find_function<nvml::DeviceGetMemoryInfoFn>(handle, "nvmlDeviceGetMemoryInfo");
    o.device_get_temperature = find_function<nvml::DeviceGetTemperatureFn>(handle, "nvmlDeviceGetTemperature");
    o.device_get_power_usage = find_function<nvml::DeviceGetPowerUsageFn>(handle, "nvmlDeviceGetPowerUsage");
    o.device_get_total_ecc_errors =
        find_function<nvml::DeviceGetTotalEccErrorsFn>(handle, "nvmlDeviceGetTotalEccErrors");
    // _v3 and _v2 fill the same structure (nvml.h); the newer form the driver has is used.
    o.device_get_compute_processes =
        find_function<nvml::DeviceGetRunningProcessesFn>(handle, "nvmlDeviceGetComputeRunningProcesses_v3");
    if (!o.device_get_compute_processes)
        o.device_get_compute_processes =
            find_function<nvml::DeviceGetRunningProcessesFn>(handle, "nvmlDeviceGetComputeRunningProcesses_v2");
    o.device_get_graphics_processes =
        find_function<nvml::DeviceGetRunningProcessesFn>(handle, "nvmlDeviceGetGraphicsRunningProcesses_v3");
    if (!o.device_get_graphics_processes)
        o.device_get_graphics_processes =
            find_function<nvml::DeviceGetRunningProcessesFn>(handle, "nvmlDeviceGetGraphicsRunningProcesses_v2");
    o.event_set_create = find_function<nvml::EventSetCreateFn>(handle, "nvmlEventSetCreate");
    o.device_register_events = find_function<nvml::DeviceRegisterEventsFn>(handle, "nvmlDeviceRegisterEvents");
    // The _v2 form fills the larger nvmlEventData_t declared in nvml_api.hpp (driver >= 450).
    o.event_set_wait = find_function<nvml::EventSetWaitFn>(handle, "nvmlEventSetWait_v2");
    o.event_set_free = find_function<nvml::EventSetFreeFn>(handle, "nvmlEventSetFree");

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
