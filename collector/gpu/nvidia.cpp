// NVIDIA GPUs through NVML, loaded at run time (collector/gpu/nvml_library.hpp).
//
// Every NVML call runs on one worker thread that the collector owns. collect() hands it a
// request and waits at most a deadline: a driver call that blocks (RELIABILITY K10, e.g. a GPU
// falling off the bus while nvidia-smi holds the lock) then costs the tick that deadline, marks
// the collector stuck, and no second NVML call is made until the blocked one returns. Results of
// a request the collector gave up on are thrown away, so stale values are never served.

#include "collector/gpu/nvidia.hpp"

#include <algorithm>
#include <condition_variable>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "collector/gpu/nvml_library.hpp"
#include "collector/registry.hpp"
#include "core/log.hpp"

namespace boxmon::collector {

using namespace std::chrono_literals;
using SteadyTime = std::chrono::steady_clock::time_point;

std::optional<UtilSummary> summarize_utilization(std::span<const UtilSample> samples,
                                                 std::uint64_t after_ts_us) {
    UtilSummary s;
    double sum = 0;
    for (const auto& sample : samples) {
        if (sample.ts_us <= after_ts_us) continue;
        sum += sample.percent;
        s.max = s.count == 0 ? sample.percent : std::max(s.max, sample.percent);
        s.last_ts_us = std::max(s.last_ts_us, sample.ts_us);
        ++s.count;
    }
    if (s.count == 0) return std::nullopt;
    s.mean = sum / static_cast<double>(s.count);
    return s;
}

std::vector<GpuProcess> merge_gpu_processes(std::span<const GpuProcess> compute,
                                            std::span<const GpuProcess> graphics) {
    std::vector<GpuProcess> out;
    out.reserve(compute.size() + graphics.size());
    for (const auto list : {compute, graphics}) {
        for (const auto& p : list) {
            auto it = std::find_if(out.begin(), out.end(), [&](const GpuProcess& q) { return q.pid == p.pid; });
            if (it == out.end()) {
                out.push_back(p);
            } else if (p.memory_bytes && (!it->memory_bytes || *p.memory_bytes > *it->memory_bytes)) {
                it->memory_bytes = p.memory_bytes;
            }
        }
    }
    return out;
}

void add_gpu_points(const GpuReading& gpu, const std::optional<UtilSummary>& util, Sample& out) {
    const std::vector<Label> labels = {
        {"gpu", std::to_string(gpu.index)}, {"name", gpu.name}, {"uuid", gpu.uuid}};
    auto add = [&](const char* name, double value) { out.add(SeriesKey(name, labels), value); };
    if (util) {
        add("gpu_util_percent", util->mean);
        add("gpu_util_max_percent", util->max);
    } else if (gpu.util_rate_percent) {
        // No buffered samples (not supported, or none since the last tick): the driver's own
        // last-period figure is the best estimate of both.
        add("gpu_util_percent", *gpu.util_rate_percent);
        add("gpu_util_max_percent", *gpu.util_rate_percent);
    }
    if (gpu.memory_used_bytes) add("gpu_memory_used_bytes", static_cast<double>(*gpu.memory_used_bytes));
    if (gpu.memory_total_bytes)
        add("gpu_memory_total_bytes", static_cast<double>(*gpu.memory_total_bytes));
    if (gpu.memory_used_bytes && gpu.memory_total_bytes && *gpu.memory_total_bytes > 0)
        add("gpu_memory_used_percent", 100.0 * static_cast<double>(*gpu.memory_used_bytes) /
                                           static_cast<double>(*gpu.memory_total_bytes));
    if (gpu.temperature_celsius) add("gpu_temperature_celsius", *gpu.temperature_celsius);
    if (gpu.power_watts) add("gpu_power_watts", *gpu.power_watts);
    auto add_ecc = [&](const char* type, std::uint64_t count) {
        std::vector<Label> l = labels;
        l.push_back({"type", type});
        out.add(SeriesKey("gpu_ecc_errors_total", std::move(l)), static_cast<double>(count));
    };
    if (gpu.ecc_corrected) add_ecc("corrected", *gpu.ecc_corrected);
    if (gpu.ecc_uncorrected) add_ecc("uncorrected", *gpu.ecc_uncorrected);
    if (gpu.xid_errors) add("gpu_xid_errors_total", static_cast<double>(*gpu.xid_errors));
}

namespace {

// nvmlInit_v2 takes seconds on a host without persistence mode; until this much time has passed
// a slow first request means "still starting", not "stuck".
constexpr auto k_init_grace = 30s;
// How long the destructor waits for a blocked NVML call before leaving the worker behind.
constexpr auto k_shutdown_wait = 5s;
// NVML supports at most 64 devices per host; a larger count is a broken library.
constexpr unsigned k_max_gpus = 64;
// Room for this many processes per GPU and list at first; grown when the driver asks for more,
// up to the cap (a list longer than that is cut, and said once).
constexpr unsigned k_initial_processes = 32;
constexpr unsigned k_max_processes = 4096;

// A tenth of the interval, between 100 ms and 2 s: healthy NVML answers in well under 1 ms per
// call, so this only ever bounds a call that hangs.
std::chrono::milliseconds call_deadline(std::chrono::milliseconds interval) {
    return std::clamp<std::chrono::milliseconds>(interval / 10, 100ms, 2000ms);
}

// The first request also loads the library and runs nvmlInit_v2, which takes seconds without
// persistence mode; a one-shot `boxmon sample` has only this one tick, so it may wait up to half
// the interval, at most 10 s.
std::chrono::milliseconds first_deadline(std::chrono::milliseconds interval) {
    return std::clamp<std::chrono::milliseconds>(interval / 2, call_deadline(interval), 10'000ms);
}

// What the worker hands back for one request.
struct Reply {
    bool available = false;  // NVML loaded and initialised
    std::vector<GpuReading> gpus;
    std::vector<unsigned> lost;  // indices of the GPUs the driver says are lost
};

// State shared by the collector and its worker; owned by both, so a worker left behind in a
// call that never returns still has it.
struct Shared {
    std::mutex mutex;
    std::condition_variable wake;  // the worker waits here for a request or stop
    std::condition_variable done;  // the collector waits here for a reply or the exit
    std::uint64_t requested = 0;
    std::uint64_t completed = 0;
    bool stop = false;
    bool exited = false;
    Reply reply;
    // The NVML call in progress (nullptr between calls), for the "stuck" message.
    const char* call = nullptr;
    std::optional<unsigned> call_gpu;
    SteadyTime call_started{};
};

// The worker's side: the library and what it knows of each GPU. Used only on the worker thread.
class NvmlSession {
public:
    NvmlSession(std::vector<std::string> candidates, bool configured, bool absence_said, Shared& shared)
        : m_candidates(std::move(candidates)), m_configured(configured), m_absence_said(absence_said),
          m_shared(shared) {}
    ~NvmlSession() {
        // The event set goes before nvmlShutdown (in m_lib's destructor).
        if (m_events) m_lib->opt().event_set_free(m_events);
    }
    NvmlSession(const NvmlSession&) = delete;
    NvmlSession& operator=(const NvmlSession&) = delete;

    Reply read() {
        Reply reply;
        if (!ensure_open()) return reply;
        reply.available = true;
        const auto& req = m_lib->req();
        unsigned count = 0;
        const nvml::Return rc =
            call("nvmlDeviceGetCount_v2", std::nullopt, [&] { return req.device_get_count(&count); });
        if (rc != nvml::k_success) {
            warn_once("count", fmt::format("gpu_nvidia: nvmlDeviceGetCount_v2 failed: {}; no GPU read this tick",
                                           m_lib->describe(rc)));
            return reply;
        }
        m_errors.clear("count");
        count = std::min(count, k_max_gpus);
        if (!m_counted) {
            m_counted = true;
            spdlog::info("gpu_nvidia: {} loaded, {} GPU{} found", m_lib->path(), count, count == 1 ? "" : "s");
        }
        if (m_devices.size() < count) m_devices.resize(count);
        drain_events();
        for (unsigned i = 0; i < count; ++i) {
            if (auto gpu = read_device(i)) reply.gpus.push_back(std::move(*gpu));
            else if (m_devices[i].lost) reply.lost.push_back(i);
        }
        return reply;
    }

private:
    struct Device {
        std::string name;
        std::string uuid;
        bool identified = false;
        bool lost = false;
        bool samples_supported = true;
        unsigned samples_capacity = 0;
        std::uint64_t samples_last_ts = 0;
        std::vector<nvml::SampleValue> buffer;
        nvml::Device handle = nullptr;
        bool xid_watched = false;
        std::uint64_t xid_count = 0;  // since this process started watching
        bool compute_processes_supported = true;
        bool graphics_processes_supported = true;
        std::vector<nvml::ProcessInfo> process_buffer;
    };

    // Outcome of one per-GPU call.
    enum class Got { value, absent, lost };

    // Runs `f` with the call recorded as in progress.
    template <class F>
    auto call_named(const char* function, std::optional<unsigned> gpu, F&& f) {
        {
            std::lock_guard lock(m_shared.mutex);
            m_shared.call = function;
            m_shared.call_gpu = gpu;
            m_shared.call_started = std::chrono::steady_clock::now();
        }
        auto result = f();
        std::lock_guard lock(m_shared.mutex);
        m_shared.call = nullptr;
        return result;
    }
    template <class F>
    nvml::Return call(const char* function, std::optional<unsigned> gpu, F&& f) {
        return call_named(function, gpu, std::forward<F>(f));
    }

    bool ensure_open() {
        if (m_lib) return true;
        if (m_tried) return false;
        m_tried = true;
        auto lib = call_named("nvmlInit_v2", std::nullopt, [&] { return NvmlLibrary::open(m_candidates); });
        if (lib) {
            m_lib = std::move(*lib);
            open_events();
            return true;
        }
        const Error& e = lib.error();
        if (e.kind == ErrorKind::not_found && !m_configured)
            spdlog::log(m_absence_said ? spdlog::level::debug : spdlog::level::info,
                        "gpu_nvidia: {}; no NVIDIA GPU series (normal on a host without an NVIDIA driver)",
                        e.message);
        else if (e.kind == ErrorKind::not_found)
            spdlog::warn("gpu_nvidia: {}; fix [gpu] nvml_library; no NVIDIA GPU series", e.message);
        else
            spdlog::warn("gpu_nvidia: {}; no NVIDIA GPU series until boxmon restarts", e.message);
        return false;
    }

    // XID events reach only a process that registered for them; without the functions, or
    // when the driver refuses, gpu_xid_errors_total is simply absent.
    void open_events() {
        const auto& opt = m_lib->opt();
        if (!opt.has_events()) return;
        nvml::EventSet set = nullptr;
        if (call("nvmlEventSetCreate", std::nullopt, [&] { return opt.event_set_create(&set); }) == nvml::k_success)
            m_events = set;
    }

    void watch_xid(unsigned index, nvml::Device handle) {
        if (!m_events) return;
        const nvml::Return rc = call("nvmlDeviceRegisterEvents", index, [&] {
            return m_lib->opt().device_register_events(handle, nvml::k_event_type_xid_critical_error, m_events);
        });
        if (rc == nvml::k_success) {
            m_devices[index].xid_watched = true;
        } else if (rc != nvml::k_error_not_supported && rc != nvml::k_error_no_permission) {
            classify(index, "nvmlDeviceRegisterEvents", rc);
        }
    }

    // Counts the XID events pending since the previous request, without waiting.
    void drain_events() {
        if (!m_events) return;
        const auto wait = m_lib->opt().event_set_wait;
        // Bounded: an event storm is counted over several ticks rather than stalling this one.
        for (int i = 0; i < 256; ++i) {
            nvml::EventData data{};
            if (call("nvmlEventSetWait_v2", std::nullopt, [&] { return wait(m_events, &data, 0); }) !=
                nvml::k_success)
                break;  // NVML_ERROR_TIMEOUT: nothing pending
            if (!(data.eventType & nvml::k_event_type_xid_critical_error) || !data.device) continue;
            for (unsigned index = 0; index < m_devices.size(); ++index) {
                Device& d = m_devices[index];
                if (d.handle != data.device || !d.xid_watched) continue;
                ++d.xid_count;
                const std::string text = fmt::format(
                    "gpu_nvidia: GPU {} ({}): the driver reported XID {}; see "
                    "https://docs.nvidia.com/deploy/xid-errors/ for what it means",
                    index, d.uuid, data.eventData);
                if (m_errors.changed(fmt::format("xid/{}", index), text)) spdlog::warn("{}", text);
                break;
            }
        }
    }

    void warn_once(const std::string& key, const std::string& text) {
        if (m_errors.changed(key, text)) spdlog::warn("{}", text);
    }

    // Sorts one call's return code: a value, absent (not supported: silently; other errors: one
    // warning per GPU, function and error), or the GPU is lost.
    Got classify(unsigned index, const char* function, nvml::Return rc) {
        if (rc == nvml::k_success) {
            m_errors.clear(fmt::format("{}/{}", index, function));
            return Got::value;
        }
        if (rc == nvml::k_error_not_supported) return Got::absent;
        if (rc == nvml::k_error_gpu_is_lost) {
            Device& d = m_devices[index];
            if (!d.lost) {
                d.lost = true;
                spdlog::warn("gpu_nvidia: GPU {} ({}, {}) lost (fell off the bus?): {} returned {}; its "
                             "series stop until it answers again (a GPU reset or reboot is usually needed)",
                             index, d.name.empty() ? "name unknown" : d.name,
                             d.uuid.empty() ? "uuid unknown" : d.uuid, function, m_lib->describe(rc));
            }
            return Got::lost;
        }
        warn_once(fmt::format("{}/{}", index, function),
                  fmt::format("gpu_nvidia: GPU {}: {} failed: {}; that series is absent", index, function,
                              m_lib->describe(rc)));
        return Got::absent;
    }

    void identify(unsigned index, nvml::Device handle) {
        Device& d = m_devices[index];
        const auto& opt = m_lib->opt();
        char buf[nvml::k_device_uuid_buffer_size + nvml::k_device_name_buffer_size] = {};
        if (opt.device_get_name &&
            call("nvmlDeviceGetName", index,
                 [&] { return opt.device_get_name(handle, buf, nvml::k_device_name_buffer_size); }) ==
                nvml::k_success) {
            buf[nvml::k_device_name_buffer_size - 1] = '\0';
            d.name = buf;
        }
        buf[0] = '\0';
        if (opt.device_get_uuid &&
            call("nvmlDeviceGetUUID", index,
                 [&] { return opt.device_get_uuid(handle, buf, nvml::k_device_uuid_buffer_size); }) ==
                nvml::k_success) {
            buf[nvml::k_device_uuid_buffer_size - 1] = '\0';
            d.uuid = buf;
        }
        d.identified = true;
    }

    static double sample_value(nvml::ValueType type, const nvml::Value& v) {
        switch (type) {
            case nvml::k_value_double: return v.dVal;
            case nvml::k_value_unsigned_int: return static_cast<double>(v.uiVal);
            case nvml::k_value_unsigned_long: return static_cast<double>(v.ulVal);
            case nvml::k_value_unsigned_long_long: return static_cast<double>(v.ullVal);
            case nvml::k_value_signed_long_long: return static_cast<double>(v.sllVal);
            case nvml::k_value_signed_int: return static_cast<double>(v.siVal);
            default: return static_cast<double>(v.uiVal);
        }
    }

    // The utilisation samples buffered by the driver since the previous request.
    Got read_samples(unsigned index, nvml::Device handle, GpuReading& gpu) {
        Device& d = m_devices[index];
        const auto get = m_lib->opt().device_get_samples;
        if (!get || !d.samples_supported) return Got::absent;
        nvml::ValueType type = nvml::k_value_unsigned_int;
        if (d.samples_capacity == 0) {
            // With a null buffer NVML returns how many samples it can hand out at most.
            unsigned capacity = 0;
            const nvml::Return rc = call("nvmlDeviceGetSamples", index, [&] {
                return get(handle, nvml::k_gpu_utilization_samples, 0, &type, &capacity, nullptr);
            });
            if (rc == nvml::k_error_not_supported) d.samples_supported = false;
            const Got got = classify(index, "nvmlDeviceGetSamples", rc);
            if (got != Got::value || capacity == 0) return got == Got::lost ? Got::lost : Got::absent;
            d.samples_capacity = std::min(capacity, 4096u);
            d.buffer.assign(d.samples_capacity, nvml::SampleValue{});
        }
        unsigned n = d.samples_capacity;
        const nvml::Return rc = call("nvmlDeviceGetSamples", index, [&] {
            return get(handle, nvml::k_gpu_utilization_samples, d.samples_last_ts, &type, &n, d.buffer.data());
        });
        // NOT_FOUND: no sample since the last one seen; the rate below stands in.
        if (rc == nvml::k_error_not_found) return Got::absent;
        if (rc == nvml::k_error_insufficient_size) {
            d.samples_capacity = 0;  // asked again next tick
            return Got::absent;
        }
        if (rc == nvml::k_error_not_supported) d.samples_supported = false;
        const Got got = classify(index, "nvmlDeviceGetSamples", rc);
        if (got != Got::value) return got;
        n = std::min(n, d.samples_capacity);
        gpu.util_samples.reserve(n);
        for (unsigned i = 0; i < n; ++i) {
            const auto& s = d.buffer[i];
            gpu.util_samples.push_back({s.timeStamp, sample_value(type, s.sampleValue)});
            d.samples_last_ts = std::max<std::uint64_t>(d.samples_last_ts, s.timeStamp);
        }
        return Got::value;
    }

    // One of the two process lists of a GPU into `out`; absent when the driver cannot list them.
    // `supported` is cleared for good when the card or this user cannot list them.
    Got read_process_list(unsigned index, nvml::Device handle, const char* function,
                          nvml::DeviceGetRunningProcessesFn get, bool& supported, std::vector<GpuProcess>& out) {
        Device& d = m_devices[index];
        if (d.process_buffer.empty()) d.process_buffer.resize(k_initial_processes);
        for (int attempt = 0; attempt < 3; ++attempt) {
            unsigned n = static_cast<unsigned>(d.process_buffer.size());
            const nvml::Return rc = call(function, index, [&] { return get(handle, &n, d.process_buffer.data()); });
            if (rc == nvml::k_error_insufficient_size && d.process_buffer.size() < k_max_processes) {
                // A process may have started since NVML counted: ask for some room to spare.
                d.process_buffer.resize(std::clamp<std::size_t>(std::size_t{n} + n / 4 + 1,
                                                                d.process_buffer.size() * 2, k_max_processes));
                continue;
            }
            if (rc == nvml::k_error_not_supported || rc == nvml::k_error_no_permission) {
                supported = false;
                return Got::absent;
            }
            const Got got = classify(index, function, rc);
            if (got != Got::value) return got;
            n = std::min<unsigned>(n, static_cast<unsigned>(d.process_buffer.size()));
            for (unsigned i = 0; i < n; ++i) {
                const auto& info = d.process_buffer[i];
                GpuProcess p;
                p.pid = info.pid;
                if (info.usedGpuMemory != nvml::k_value_not_available) p.memory_bytes = info.usedGpuMemory;
                out.push_back(p);
            }
            return Got::value;
        }
        warn_once(fmt::format("{}/{}", index, function),
                  fmt::format("gpu_nvidia: GPU {}: {} still lists more than {} processes; GPU memory per "
                              "service is absent for this GPU",
                              index, function, d.process_buffer.size()));
        return Got::absent;
    }

    // The processes using a GPU (compute and graphics contexts), into gpu.processes.
    Got read_processes(unsigned index, nvml::Device handle, GpuReading& gpu) {
        Device& d = m_devices[index];
        const auto& opt = m_lib->opt();
        if (!d.compute_processes_supported || !opt.device_get_compute_processes) return Got::absent;
        std::vector<GpuProcess> compute;
        std::vector<GpuProcess> graphics;
        Got got = read_process_list(index, handle, "nvmlDeviceGetComputeRunningProcesses",
                                    opt.device_get_compute_processes, d.compute_processes_supported, compute);
        if (got != Got::value) return got;
        if (opt.device_get_graphics_processes && d.graphics_processes_supported) {
            got = read_process_list(index, handle, "nvmlDeviceGetGraphicsRunningProcesses",
                                    opt.device_get_graphics_processes, d.graphics_processes_supported, graphics);
            if (got == Got::lost) return got;
        }
        gpu.processes = merge_gpu_processes(compute, graphics);
        return Got::value;
    }

    // Reads one GPU; nullopt when it cannot be addressed or is lost.
    std::optional<GpuReading> read_device(unsigned index) {
        Device& d = m_devices[index];
        const auto& req = m_lib->req();
        const auto& opt = m_lib->opt();
        nvml::Device handle = nullptr;
        const nvml::Return rc = call("nvmlDeviceGetHandleByIndex_v2", index,
                                     [&] { return req.device_get_handle_by_index(index, &handle); });
        if (classify(index, "nvmlDeviceGetHandleByIndex_v2", rc) != Got::value) return std::nullopt;
        if (!d.identified) {
            identify(index, handle);
            watch_xid(index, handle);
        }
        d.handle = handle;

        GpuReading gpu;
        gpu.index = index;
        gpu.name = d.name;
        gpu.uuid = d.uuid;
        if (read_samples(index, handle, gpu) == Got::lost) return std::nullopt;

        if (opt.device_get_utilization_rates) {
            nvml::Utilization u{};
            const auto got = classify(index, "nvmlDeviceGetUtilizationRates",
                                      call("nvmlDeviceGetUtilizationRates", index,
                                           [&] { return opt.device_get_utilization_rates(handle, &u); }));
            if (got == Got::lost) return std::nullopt;
            if (got == Got::value) gpu.util_rate_percent = u.gpu;
        }
        if (opt.device_get_memory_info) {
            nvml::Memory m{};
            const auto got = classify(
                index, "nvmlDeviceGetMemoryInfo",
                call("nvmlDeviceGetMemoryInfo", index, [&] { return opt.device_get_memory_info(handle, &m); }));
            if (got == Got::lost) return std::nullopt;
            if (got == Got::value) {
                gpu.memory_used_bytes = m.used;
                gpu.memory_total_bytes = m.total;
            }
        }
        if (opt.device_get_temperature) {
            unsigned t = 0;
            const auto got = classify(index, "nvmlDeviceGetTemperature",
                                      call("nvmlDeviceGetTemperature", index, [&] {
                                          return opt.device_get_temperature(handle, nvml::k_temperature_gpu, &t);
                                      }));
            if (got == Got::lost) return std::nullopt;
            if (got == Got::value) gpu.temperature_celsius = t;
        }
        if (opt.device_get_power_usage) {
            unsigned mw = 0;
            const auto got = classify(
                index, "nvmlDeviceGetPowerUsage",
                call("nvmlDeviceGetPowerUsage", index, [&] { return opt.device_get_power_usage(handle, &mw); }));
            if (got == Got::lost) return std::nullopt;
            if (got == Got::value) gpu.power_watts = static_cast<double>(mw) / 1000.0;
        }
        if (opt.device_get_total_ecc_errors) {
            for (const int type : {nvml::k_memory_error_corrected, nvml::k_memory_error_uncorrected}) {
                unsigned long long count = 0;
                const auto got = classify(index, "nvmlDeviceGetTotalEccErrors",
                                          call("nvmlDeviceGetTotalEccErrors", index, [&] {
                                              return opt.device_get_total_ecc_errors(handle, type,
                                                                                     nvml::k_aggregate_ecc, &count);
                                          }));
                if (got == Got::lost) return std::nullopt;
                if (got != Got::value) break;  // ECC off or not supported: neither count
                (type == nvml::k_memory_error_corrected ? gpu.ecc_corrected : gpu.ecc_uncorrected) = count;
            }
        }
        if (read_processes(index, handle, gpu) == Got::lost) return std::nullopt;
        if (d.xid_watched) gpu.xid_errors = d.xid_count;
        if (d.lost) {
            d.lost = false;
            spdlog::info("gpu_nvidia: GPU {} ({}) answers again; its series resume", index, d.uuid);
        }
        return gpu;
    }

    std::vector<std::string> m_candidates;
    bool m_configured;
    bool m_absence_said;  // "no driver" was logged already this boot (a previous one-shot run)
    Shared& m_shared;
    std::unique_ptr<NvmlLibrary> m_lib;
    nvml::EventSet m_events = nullptr;
    bool m_tried = false;
    bool m_counted = false;
    std::vector<Device> m_devices;
    ChangeFilter m_errors;
};

void run_worker(const std::shared_ptr<Shared>& shared, std::vector<std::string> candidates, bool configured,
                bool absence_said) {
    {
        NvmlSession session(std::move(candidates), configured, absence_said, *shared);
        std::unique_lock lock(shared->mutex);
        std::uint64_t handled = 0;
        for (;;) {
            shared->wake.wait(lock, [&] { return shared->stop || shared->requested != handled; });
            if (shared->stop) break;
            const std::uint64_t generation = shared->requested;
            lock.unlock();
            Reply reply = session.read();
            lock.lock();
            shared->reply = std::move(reply);
            shared->completed = handled = generation;
            shared->done.notify_all();
        }
    }  // nvmlShutdown and dlclose happen here, outside the lock
    std::lock_guard lock(shared->mutex);
    shared->exited = true;
    shared->done.notify_all();
}

// "16:30:02 UTC", the wall-clock time of a steady-clock instant.
std::string wall_time_of(SteadyTime when) {
    const auto wall = std::chrono::system_clock::now() -
                      std::chrono::duration_cast<std::chrono::system_clock::duration>(
                          std::chrono::steady_clock::now() - when);
    const std::time_t t = std::chrono::system_clock::to_time_t(wall);
    std::tm tm{};
    gmtime_r(&t, &tm);
    return fmt::format("{:02}:{:02}:{:02} UTC", tm.tm_hour, tm.tm_min, tm.tm_sec);
}

}  // namespace

bool nvidia_driver_loaded(const RootFs& root) {
    std::error_code ec;
    if (std::filesystem::exists(root.proc("driver/nvidia"), ec)) return true;
    // WSL 2: the Windows driver, reached through /dev/dxg (NVML in /usr/lib/wsl/lib).
    return root.is_host() && std::filesystem::exists("/dev/dxg", ec);
}

namespace {

class NvidiaCollector final : public Collector {
    static constexpr const char* k_absence_said = "gpu_nvidia/absence_said";

public:
    explicit NvidiaCollector(const Config& config)
        : m_candidates(nvml_library_candidates(config.gpu.nvml_library)),
          m_configured(!config.gpu.nvml_library.empty()),
          m_deadline(call_deadline(config.general.interval)),
          m_first_deadline(first_deadline(config.general.interval)) {}

    ~NvidiaCollector() override {
        if (!m_worker.joinable()) return;
        std::unique_lock lock(m_shared->mutex);
        m_shared->stop = true;
        m_shared->wake.notify_all();
        if (m_shared->done.wait_for(lock, k_shutdown_wait, [&] { return m_shared->exited; })) {
            lock.unlock();
            m_worker.join();
            return;
        }
        // A call that never returns cannot be cancelled; the worker keeps the shared state and
        // the library alive and ends with the process.
        spdlog::warn("gpu_nvidia: {} has not returned after {} s; leaving it behind",
                     m_shared->call ? m_shared->call : "an NVML call",
                     std::chrono::duration_cast<std::chrono::seconds>(k_shutdown_wait).count());
        lock.unlock();
        m_worker.detach();
    }

    std::string_view name() const override { return "gpu_nvidia"; }

    Result<void> collect(CollectContext& ctx, Sample& out) override {
        // "No driver" is said once per boot: the mark travels with the persisted counters, so a
        // timer's one-shot samples do not repeat it every minute.
        const bool absence_said = ctx.rates.record(k_absence_said, 1).has_value();
        if (!m_worker.joinable() && !m_configured && !nvidia_driver_loaded(ctx.root)) {
            // No kernel driver, so NVML cannot work: no worker thread and no search for the
            // library (some 50 failing opens). Checked each tick, so a driver loaded later is
            // found by a running daemon.
            if (!m_said_no_driver) {
                m_said_no_driver = true;
                spdlog::log(absence_said ? spdlog::level::debug : spdlog::level::info,
                            "gpu_nvidia: no NVIDIA driver loaded ({} absent); no NVIDIA GPU series (normal "
                            "on a host without an NVIDIA GPU)",
                            ctx.root.proc("driver/nvidia").string());
            }
            return ok();
        }
        if (!m_worker.joinable()) {
            m_started = std::chrono::steady_clock::now();
            m_worker = std::thread(run_worker, m_shared, m_candidates, m_configured, absence_said);
        }
        // Keep what was persisted so far in this tick's snapshot, even when no answer comes.
        for (const auto& [key, value] : m_persisted) ctx.rates.record(key, value);
        std::unique_lock lock(m_shared->mutex);
        if (m_shared->requested == m_shared->completed) {
            ++m_shared->requested;
            m_shared->wake.notify_one();
            const std::uint64_t want = m_shared->requested;
            const auto deadline = m_answered ? m_deadline : m_first_deadline;
            if (m_shared->done.wait_for(lock, deadline, [&] { return m_shared->completed == want; })) {
                Reply reply = std::move(m_shared->reply);
                lock.unlock();
                m_answered = true;
                add_points(ctx, reply, out);
                return ok();
            }
        }
        // The previous request, or this one, has not been answered: no second call meanwhile.
        if (!m_answered && std::chrono::steady_clock::now() - m_started < k_init_grace) {
            if (!m_said_starting) {
                m_said_starting = true;
                spdlog::info("gpu_nvidia: NVML is still starting; GPU series begin when it answers");
            }
            return ok();
        }
        // Stuck: no value of any GPU is served, but that the GPUs known so far do not answer is
        // this tick's own finding (gpu_up 0), so the gpu_lost rule sees it.
        for (const unsigned index : m_known) add_gpu_up(index, false, out);
        const char* call = m_shared->call ? m_shared->call : "an NVML call";
        const std::string gpu = m_shared->call_gpu ? fmt::format(" on GPU {}", *m_shared->call_gpu) : "";
        return fail_as(ErrorKind::timeout,
                       "GPU collector stuck: {}{} has not returned since {} (deadline {} ms); GPU series are "
                       "withheld and no other NVML call is made until it returns; check the driver (dmesg, "
                       "nvidia-smi)",
                       call, gpu, wall_time_of(m_shared->call_started), m_deadline.count());
    }

private:
    void add_points(CollectContext& ctx, Reply& reply, Sample& out) {
        m_known.clear();
        for (const unsigned index : reply.lost) {
            add_gpu_up(index, false, out);
            m_known.push_back(index);
        }
        for (auto& gpu : reply.gpus) {
            add_gpu_up(gpu.index, true, out);
            m_known.push_back(gpu.index);
            // The newest sample used is kept in memory and with the persisted counters, so the
            // next tick, or the next one-shot run, averages only samples newer than it.
            const std::string key =
                fmt::format("gpu_nvidia/{}/util_sample_us", gpu.uuid.empty() ? std::to_string(gpu.index) : gpu.uuid);
            const auto persisted = ctx.rates.record(key, 0);
            std::uint64_t after = persisted.value_or(0);
            if (const auto it = m_last_sample_us.find(key); it != m_last_sample_us.end()) after = it->second;
            const auto util = summarize_utilization(gpu.util_samples, after);
            const std::uint64_t newest = util ? util->last_ts_us : after;
            ctx.rates.record(key, newest);
            m_last_sample_us[key] = newest;
            m_persisted[key] = newest;
            if (gpu.xid_errors) gpu.xid_errors = xid_total(ctx, gpu, *gpu.xid_errors);
            add_gpu_points(gpu, util, out);
            if (gpu.processes && ctx.facts) add_process_memory(*gpu.processes, *ctx.facts);
        }
    }

    // gpu_up{gpu, vendor}: keyed by index alone, because a lost GPU no longer gives its name or
    // uuid (a one-shot run that meets it lost cannot label it otherwise).
    static void add_gpu_up(unsigned index, bool up, Sample& out) {
        out.add(SeriesKey("gpu_up", {{"gpu", std::to_string(index)}, {"vendor", "nvidia"}}), up ? 1 : 0);
    }

    // Adds this GPU's memory per process to what the services collector will read.
    static void add_process_memory(const std::vector<GpuProcess>& processes, PassFacts& facts) {
        auto& by_pid = facts.gpu_memory_by_pid;
        if (!by_pid) by_pid.emplace();
        for (const auto& p : processes)
            if (p.memory_bytes) (*by_pid)[p.pid] += *p.memory_bytes;
    }

    // The XID count since boot: what the previous processes of this boot counted (persisted
    // with the counters) plus what this one's worker has counted.
    std::uint64_t xid_total(CollectContext& ctx, const GpuReading& gpu, std::uint64_t seen) {
        const std::string key =
            fmt::format("gpu_nvidia/{}/xid_errors", gpu.uuid.empty() ? std::to_string(gpu.index) : gpu.uuid);
        const auto persisted = ctx.rates.record(key, 0);
        const auto it = m_xid_base.try_emplace(key, persisted.value_or(0)).first;
        const std::uint64_t total = it->second + seen;
        ctx.rates.record(key, total);
        m_persisted[key] = total;
        return total;
    }

    std::vector<std::string> m_candidates;
    bool m_configured;
    std::chrono::milliseconds m_deadline;
    std::chrono::milliseconds m_first_deadline;
    std::shared_ptr<Shared> m_shared = std::make_shared<Shared>();
    std::thread m_worker;
    SteadyTime m_started{};
    bool m_answered = false;
    bool m_said_starting = false;
    bool m_said_no_driver = false;
    std::vector<unsigned> m_known;  // the GPUs of the last answer, read or lost
    std::unordered_map<std::string, std::uint64_t> m_last_sample_us;
    std::unordered_map<std::string, std::uint64_t> m_xid_base;
    // Every counter this collector persists, with its last value.
    std::unordered_map<std::string, std::uint64_t> m_persisted;
};

}  // namespace

std::unique_ptr<Collector> make_gpu_nvidia_collector(const Config& config) {
    if (!config.gpu.nvidia) return nullptr;
    return std::make_unique<NvidiaCollector>(config);
}

}  // namespace boxmon::collector
