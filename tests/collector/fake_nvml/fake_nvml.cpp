// A fake libnvidia-ml.so.1 for the NVIDIA collector's tests: the NVML functions boxmon resolves,
// with the same names and ABI (collector/gpu/nvml_api.hpp), answering from a script the test
// writes through fake_nvml.hpp. Built as a shared library and loaded through the real dlopen.

#include "tests/collector/fake_nvml/fake_nvml.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "collector/gpu/nvml_api.hpp"

namespace nvml = boxmon::collector::nvml;

namespace {

struct Gpu {
    std::string name;
    std::string uuid;
    std::map<std::string, unsigned long long> values;
    std::map<std::string, int> results;  // function (or "*") -> forced return code
    std::map<std::string, unsigned> blocks;
    std::vector<nvml::SampleValue> samples;
    std::vector<nvml::ProcessInfo> compute;
    std::vector<nvml::ProcessInfo> graphics;
    bool xid_registered = false;
};

struct State {
    std::mutex mutex;
    int init_result = 0;
    unsigned init_block_ms = 0;
    bool initialised = false;
    std::vector<Gpu> gpus;
    std::vector<nvml::EventData> events;
    int event_sets = 0;  // created and not yet freed
    std::map<std::string, unsigned long long> calls;
    std::atomic<int> in_flight{0};
    std::atomic<int> max_concurrent{0};
};

State& state() {
    static State s;
    return s;
}

constexpr unsigned k_sample_capacity = 120;

// Counts one call while it runs, for fake_nvml_max_concurrent().
class CallScope {
public:
    explicit CallScope(const char* function) {
        State& s = state();
        const int now = ++s.in_flight;
        int seen = s.max_concurrent.load();
        while (now > seen && !s.max_concurrent.compare_exchange_weak(seen, now)) {
        }
        std::lock_guard lock(s.mutex);
        ++s.calls[function];
        ++s.calls["*"];
    }
    ~CallScope() { --state().in_flight; }
    CallScope(const CallScope&) = delete;
    CallScope& operator=(const CallScope&) = delete;
};

unsigned index_of(nvml::Device device) {
    return static_cast<unsigned>(reinterpret_cast<std::uintptr_t>(device) - 1);
}

// Common entry of every per-GPU call: sleeps if told to, then returns the forced result, or
// success with the GPU (under the lock held by `lock`).
nvml::Return enter(std::unique_lock<std::mutex>& lock, unsigned index, const char* function, Gpu** gpu) {
    State& s = state();
    if (!s.initialised) return nvml::k_error_uninitialized;
    if (index >= s.gpus.size()) return nvml::k_error_invalid_argument;
    auto& blocks = s.gpus[index].blocks;
    if (auto it = blocks.find(function); it != blocks.end() && it->second > 0) {
        const unsigned ms = it->second;
        it->second = 0;
        lock.unlock();
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        lock.lock();
    }
    Gpu& g = s.gpus[index];
    for (const char* key : {"*", function}) {
        if (auto it = g.results.find(key); it != g.results.end() && it->second != 0) return it->second;
    }
    *gpu = &g;
    return nvml::k_success;
}

unsigned long long value(const Gpu& g, const char* what) {
    auto it = g.values.find(what);
    return it == g.values.end() ? 0 : it->second;
}

void copy_string(const std::string& text, char* out, unsigned length) {
    if (length == 0) return;
    const std::size_t n = std::min<std::size_t>(text.size(), length - 1);
    std::memcpy(out, text.data(), n);
    out[n] = '\0';
}

}  // namespace

extern "C" {

// ---- scripting ----

void fake_nvml_reset() {
    State& s = state();
    std::lock_guard lock(s.mutex);
    s.init_result = 0;
    s.init_block_ms = 0;
    s.initialised = false;
    s.gpus.clear();
    s.events.clear();
    s.event_sets = 0;
    s.calls.clear();
    s.max_concurrent = 0;
}

void fake_nvml_set_init_result(int rc) {
    std::lock_guard lock(state().mutex);
    state().init_result = rc;
}

void fake_nvml_set_init_block(unsigned ms) {
    std::lock_guard lock(state().mutex);
    state().init_block_ms = ms;
}

unsigned fake_nvml_add_gpu(const char* name, const char* uuid) {
    std::lock_guard lock(state().mutex);
    Gpu g;
    g.name = name;
    g.uuid = uuid;
    state().gpus.push_back(std::move(g));
    return static_cast<unsigned>(state().gpus.size() - 1);
}

void fake_nvml_set_value(unsigned gpu, const char* what, unsigned long long v) {
    std::lock_guard lock(state().mutex);
    state().gpus.at(gpu).values[what] = v;
}

void fake_nvml_set_result(unsigned gpu, const char* function, int rc) {
    std::lock_guard lock(state().mutex);
    state().gpus.at(gpu).results[function] = rc;
}

void fake_nvml_add_sample(unsigned gpu, unsigned long long ts_us, unsigned percent) {
    std::lock_guard lock(state().mutex);
    nvml::SampleValue sample{};
    sample.timeStamp = ts_us;
    sample.sampleValue.uiVal = percent;
    auto& samples = state().gpus.at(gpu).samples;
    samples.push_back(sample);
    // The driver keeps a ring of recent samples; so does the fake.
    if (samples.size() > k_sample_capacity) samples.erase(samples.begin());
}

void fake_nvml_set_block(unsigned gpu, const char* function, unsigned ms) {
    std::lock_guard lock(state().mutex);
    state().gpus.at(gpu).blocks[function] = ms;
}

void fake_nvml_add_xid(unsigned gpu, unsigned long long xid) {
    std::lock_guard lock(state().mutex);
    if (!state().gpus.at(gpu).xid_registered) return;
    nvml::EventData e{};
    e.device = reinterpret_cast<nvml::Device>(static_cast<std::uintptr_t>(gpu) + 1);
    e.eventType = nvml::k_event_type_xid_critical_error;
    e.eventData = xid;
    state().events.push_back(e);
}

void fake_nvml_add_process(unsigned gpu, const char* list, unsigned pid, unsigned long long bytes) {
    std::lock_guard lock(state().mutex);
    Gpu& g = state().gpus.at(gpu);
    nvml::ProcessInfo info{};
    info.pid = pid;
    info.usedGpuMemory = bytes;
    (std::string_view(list) == "graphics" ? g.graphics : g.compute).push_back(info);
}

void fake_nvml_clear_processes(unsigned gpu) {
    std::lock_guard lock(state().mutex);
    state().gpus.at(gpu).compute.clear();
    state().gpus.at(gpu).graphics.clear();
}

unsigned long long fake_nvml_calls(const char* function) {
    std::lock_guard lock(state().mutex);
    auto it = state().calls.find(function);
    return it == state().calls.end() ? 0 : it->second;
}

int fake_nvml_max_concurrent() { return state().max_concurrent.load(); }
int fake_nvml_in_flight() { return state().in_flight.load(); }

// ---- NVML ----

nvml::Return nvmlInit_v2() {
    CallScope scope("nvmlInit_v2");
    std::unique_lock lock(state().mutex);
    if (const unsigned ms = std::exchange(state().init_block_ms, 0u)) {
        lock.unlock();
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        lock.lock();
    }
    if (state().init_result != 0) return state().init_result;
    state().initialised = true;
    return nvml::k_success;
}

nvml::Return nvmlShutdown() {
    CallScope scope("nvmlShutdown");
    std::lock_guard lock(state().mutex);
    if (!state().initialised) return nvml::k_error_uninitialized;
    state().initialised = false;
    return nvml::k_success;
}

const char* nvmlErrorString(nvml::Return rc) {
    switch (rc) {
        case nvml::k_success: return "Success";
        case nvml::k_error_uninitialized: return "Uninitialized";
        case nvml::k_error_invalid_argument: return "Invalid Argument";
        case nvml::k_error_not_supported: return "Not Supported";
        case nvml::k_error_no_permission: return "Insufficient Permissions";
        case nvml::k_error_not_found: return "Not Found";
        case nvml::k_error_driver_not_loaded: return "Driver Not Loaded";
        case nvml::k_error_timeout: return "Timeout";
        case nvml::k_error_gpu_is_lost: return "GPU is lost";
        default: return "Unknown Error";
    }
}

nvml::Return nvmlDeviceGetCount_v2(unsigned int* count) {
    CallScope scope("nvmlDeviceGetCount_v2");
    std::lock_guard lock(state().mutex);
    if (!state().initialised) return nvml::k_error_uninitialized;
    *count = static_cast<unsigned>(state().gpus.size());
    return nvml::k_success;
}

nvml::Return nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvml::Device* device) {
    CallScope scope("nvmlDeviceGetHandleByIndex_v2");
    std::unique_lock lock(state().mutex);
    Gpu* g = nullptr;
    if (auto rc = enter(lock, index, "nvmlDeviceGetHandleByIndex_v2", &g)) return rc;
    *device = reinterpret_cast<nvml::Device>(static_cast<std::uintptr_t>(index) + 1);
    return nvml::k_success;
}

nvml::Return nvmlDeviceGetName(nvml::Device device, char* name, unsigned int length) {
    CallScope scope("nvmlDeviceGetName");
    std::unique_lock lock(state().mutex);
    Gpu* g = nullptr;
    if (auto rc = enter(lock, index_of(device), "nvmlDeviceGetName", &g)) return rc;
    copy_string(g->name, name, length);
    return nvml::k_success;
}

nvml::Return nvmlDeviceGetUUID(nvml::Device device, char* uuid, unsigned int length) {
    CallScope scope("nvmlDeviceGetUUID");
    std::unique_lock lock(state().mutex);
    Gpu* g = nullptr;
    if (auto rc = enter(lock, index_of(device), "nvmlDeviceGetUUID", &g)) return rc;
    copy_string(g->uuid, uuid, length);
    return nvml::k_success;
}

nvml::Return nvmlDeviceGetUtilizationRates(nvml::Device device, nvml::Utilization* u) {
    CallScope scope("nvmlDeviceGetUtilizationRates");
    std::unique_lock lock(state().mutex);
    Gpu* g = nullptr;
    if (auto rc = enter(lock, index_of(device), "nvmlDeviceGetUtilizationRates", &g)) return rc;
    u->gpu = static_cast<unsigned>(value(*g, "util"));
    u->memory = 0;
    return nvml::k_success;
}

nvml::Return nvmlDeviceGetSamples(nvml::Device device, nvml::SamplingType type, unsigned long long last_seen,
                                  nvml::ValueType* value_type, unsigned int* count, nvml::SampleValue* samples) {
    CallScope scope("nvmlDeviceGetSamples");
    std::unique_lock lock(state().mutex);
    Gpu* g = nullptr;
    if (auto rc = enter(lock, index_of(device), "nvmlDeviceGetSamples", &g)) return rc;
    if (type != nvml::k_gpu_utilization_samples) return nvml::k_error_not_supported;
    *value_type = nvml::k_value_unsigned_int;
    if (samples == nullptr) {
        *count = k_sample_capacity;
        return nvml::k_success;
    }
    unsigned n = 0;
    for (const auto& s : g->samples) {
        if (s.timeStamp <= last_seen) continue;
        if (n == *count) break;
        samples[n++] = s;
    }
    *count = n;
    return n == 0 ? nvml::k_error_not_found : nvml::k_success;
}

nvml::Return nvmlDeviceGetMemoryInfo(nvml::Device device, nvml::Memory* memory) {
    CallScope scope("nvmlDeviceGetMemoryInfo");
    std::unique_lock lock(state().mutex);
    Gpu* g = nullptr;
    if (auto rc = enter(lock, index_of(device), "nvmlDeviceGetMemoryInfo", &g)) return rc;
    memory->total = value(*g, "mem_total");
    memory->used = value(*g, "mem_used");
    memory->free = memory->total - std::min(memory->total, memory->used);
    return nvml::k_success;
}

nvml::Return nvmlDeviceGetTemperature(nvml::Device device, int sensor, unsigned int* temp) {
    CallScope scope("nvmlDeviceGetTemperature");
    std::unique_lock lock(state().mutex);
    Gpu* g = nullptr;
    if (auto rc = enter(lock, index_of(device), "nvmlDeviceGetTemperature", &g)) return rc;
    if (sensor != nvml::k_temperature_gpu) return nvml::k_error_invalid_argument;
    *temp = static_cast<unsigned>(value(*g, "temp"));
    return nvml::k_success;
}

nvml::Return nvmlDeviceGetPowerUsage(nvml::Device device, unsigned int* milliwatts) {
    CallScope scope("nvmlDeviceGetPowerUsage");
    std::unique_lock lock(state().mutex);
    Gpu* g = nullptr;
    if (auto rc = enter(lock, index_of(device), "nvmlDeviceGetPowerUsage", &g)) return rc;
    *milliwatts = static_cast<unsigned>(value(*g, "power_mw"));
    return nvml::k_success;
}

nvml::Return nvmlDeviceGetTotalEccErrors(nvml::Device device, int error_type, int counter_type,
                                         unsigned long long* count) {
    CallScope scope("nvmlDeviceGetTotalEccErrors");
    std::unique_lock lock(state().mutex);
    Gpu* g = nullptr;
    if (auto rc = enter(lock, index_of(device), "nvmlDeviceGetTotalEccErrors", &g)) return rc;
    if (counter_type != nvml::k_aggregate_ecc) return nvml::k_error_invalid_argument;
    *count = value(*g, error_type == nvml::k_memory_error_corrected ? "ecc_corrected" : "ecc_uncorrected");
    return nvml::k_success;
}

namespace {

// Both process lists answer like the driver: the count needed when the buffer is too small.
nvml::Return running_processes(nvml::Device device, const char* function, bool graphics, unsigned int* count,
                               nvml::ProcessInfo* infos) {
    CallScope scope(function);
    std::unique_lock lock(state().mutex);
    Gpu* g = nullptr;
    if (auto rc = enter(lock, index_of(device), function, &g)) return rc;
    if (count == nullptr) return nvml::k_error_invalid_argument;
    const auto& list = graphics ? g->graphics : g->compute;
    if (*count < list.size() || (infos == nullptr && !list.empty())) {
        *count = static_cast<unsigned>(list.size());
        return nvml::k_error_insufficient_size;
    }
    std::copy(list.begin(), list.end(), infos);
    *count = static_cast<unsigned>(list.size());
    return nvml::k_success;
}

}  // namespace

nvml::Return nvmlDeviceGetComputeRunningProcesses_v3(nvml::Device device, unsigned int* count,
                                                     nvml::ProcessInfo* infos) {
    return running_processes(device, "nvmlDeviceGetComputeRunningProcesses", false, count, infos);
}

nvml::Return nvmlDeviceGetGraphicsRunningProcesses_v3(nvml::Device device, unsigned int* count,
                                                      nvml::ProcessInfo* infos) {
    return running_processes(device, "nvmlDeviceGetGraphicsRunningProcesses", true, count, infos);
}

nvml::Return nvmlEventSetCreate(nvml::EventSet* set) {
    CallScope scope("nvmlEventSetCreate");
    std::lock_guard lock(state().mutex);
    if (!state().initialised) return nvml::k_error_uninitialized;
    ++state().event_sets;
    // One set per process is all boxmon makes; any non-null pointer will do.
    *set = reinterpret_cast<nvml::EventSet>(&state());
    return nvml::k_success;
}

nvml::Return nvmlDeviceRegisterEvents(nvml::Device device, unsigned long long types, nvml::EventSet set) {
    CallScope scope("nvmlDeviceRegisterEvents");
    std::unique_lock lock(state().mutex);
    Gpu* g = nullptr;
    if (auto rc = enter(lock, index_of(device), "nvmlDeviceRegisterEvents", &g)) return rc;
    if (set == nullptr) return nvml::k_error_invalid_argument;
    if (types & nvml::k_event_type_xid_critical_error) g->xid_registered = true;
    return nvml::k_success;
}

nvml::Return nvmlEventSetWait_v2(nvml::EventSet set, nvml::EventData* data, unsigned int /*timeout_ms*/) {
    CallScope scope("nvmlEventSetWait_v2");
    std::lock_guard lock(state().mutex);
    if (set == nullptr) return nvml::k_error_invalid_argument;
    if (state().events.empty()) return nvml::k_error_timeout;
    *data = state().events.front();
    state().events.erase(state().events.begin());
    return nvml::k_success;
}

nvml::Return nvmlEventSetFree(nvml::EventSet set) {
    CallScope scope("nvmlEventSetFree");
    std::lock_guard lock(state().mutex);
    if (set == nullptr) return nvml::k_error_invalid_argument;
    --state().event_sets;
    return nvml::k_success;
}

}  // extern "C"
