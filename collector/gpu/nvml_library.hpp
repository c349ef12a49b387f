#pragma once
// NvmlLibrary: the one RAII loader of libnvidia-ml (STYLE rule 6). It dlopens the library,
// resolves the symbols boxmon uses, calls nvmlInit_v2 once, and in its destructor calls
// nvmlShutdown and dlcloses. Not thread-safe: the NVIDIA collector uses it from one worker thread.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "collector/gpu/nvml_api.hpp"
#include "core/result.hpp"

namespace boxmon::collector {

// Where to look for the library: `configured` alone when set ([gpu] nvml_library), otherwise
// the versioned soname the driver installs, then the unversioned development link.
std::vector<std::string> nvml_library_candidates(std::string_view configured);

class NvmlLibrary {
public:
    // Functions every driver since NVML 5 has; a library without one of them is not used.
    struct Required {
        nvml::InitFn init = nullptr;
        nvml::ShutdownFn shutdown = nullptr;
        nvml::ErrorStringFn error_string = nullptr;
        nvml::DeviceGetCountFn device_get_count = nullptr;
        nvml::DeviceGetHandleByIndexFn device_get_handle_by_index = nullptr;
    };
    // Functions read per GPU; a missing one (old driver) leaves its series absent.
    struct Optional {
        nvml::DeviceGetNameFn device_get_name = nullptr;
        nvml::DeviceGetUuidFn device_get_uuid = nullptr;
        nvml::DeviceGetUtilizationRatesFn device_get_utilization_rates = nullptr;
        nvml::DeviceGetSamplesFn device_get_samples = nullptr;
        nvml::DeviceGetMemoryInfoFn device_get_memory_info = nullptr;
        nvml::DeviceGetTemperatureFn device_get_temperature = nullptr;
        nvml::DeviceGetPowerUsageFn device_get_power_usage = nullptr;
        nvml::DeviceGetTotalEccErrorsFn device_get_total_ecc_errors = nullptr;
        // The processes using each GPU and their memory: the _v3 form, else _v2 (driver >= 470).
        nvml::DeviceGetRunningProcessesFn device_get_compute_processes = nullptr;
        nvml::DeviceGetRunningProcessesFn device_get_graphics_processes = nullptr;
        // XID events: all four or none are used.
        nvml::EventSetCreateFn event_set_create = nullptr;
        nvml::DeviceRegisterEventsFn device_register_events = nullptr;
        nvml::EventSetWaitFn event_set_wait = nullptr;
        nvml::EventSetFreeFn event_set_free = nullptr;
        bool has_events() const {
            return event_set_create && device_register_events && event_set_wait && event_set_free;
        }
    };

    // Loads the first candidate that opens, resolves its symbols and initialises NVML. Fails
    // with kind not_found when no candidate exists (no NVIDIA driver: normal), and with kind
    // runtime, naming the library and the NVML error string, when a library was found but is
    // unusable (missing symbol, nvmlInit_v2 failed).
    static Result<std::unique_ptr<NvmlLibrary>> open(const std::vector<std::string>& candidates);

    ~NvmlLibrary();
    NvmlLibrary(const NvmlLibrary&) = delete;
    NvmlLibrary& operator=(const NvmlLibrary&) = delete;

    const Required& req() const { return m_required; }
    const Optional& opt() const { return m_optional; }
    // The file that was loaded (as given to dlopen).
    const std::string& path() const { return m_path; }
    // "GPU is lost (NVML error 15)": the library's own text plus the number.
    std::string describe(nvml::Return code) const;

private:
    NvmlLibrary(void* handle, std::string path) : m_handle(handle), m_path(std::move(path)) {}

    void* m_handle = nullptr;
    std::string m_path;
    Required m_required;
    Optional m_optional;
    bool m_initialised = false;
};

}  // namespace boxmon::collector
