#pragma once
// The NVIDIA collector's pure parts, separate from NVML so tests can table-test them: turning
// the driver's buffered utilisation samples into the interval's mean and maximum, and turning
// one GPU's readings into series.

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/fs.hpp"
#include "core/sample.hpp"

namespace boxmon::collector {

// One nvmlDeviceGetSamples entry: a CPU time stamp in microseconds and a percent.
struct UtilSample {
    std::uint64_t ts_us = 0;
    double percent = 0;
};

struct UtilSummary {
    double mean = 0;
    double max = 0;
    std::uint64_t last_ts_us = 0;  // the newest sample used; the next tick starts after it
    std::size_t count = 0;
};

// Mean and maximum of the samples newer than `after_ts_us` (the previous tick's newest), in any
// order; nullopt when there is none.
std::optional<UtilSummary> summarize_utilization(std::span<const UtilSample> samples,
                                                 std::uint64_t after_ts_us);

// One process with a context on a GPU, and the GPU memory it holds.
struct GpuProcess {
    std::uint32_t pid = 0;
    std::optional<std::uint64_t> memory_bytes;  // absent when the driver does not say
};

// Merges the compute and graphics process lists of one GPU: one entry per PID, the larger of
// its two figures (a process with both kinds of context holds one allocation, listed twice).
std::vector<GpuProcess> merge_gpu_processes(std::span<const GpuProcess> compute,
                                            std::span<const GpuProcess> graphics);

// What one GPU reported in one tick; absent fields were not supported or failed.
struct GpuReading {
    unsigned index = 0;
    std::string name;
    std::string uuid;
    std::vector<UtilSample> util_samples;      // nvmlDeviceGetSamples, when supported
    std::optional<double> util_rate_percent;   // nvmlDeviceGetUtilizationRates
    std::optional<std::uint64_t> memory_used_bytes;
    std::optional<std::uint64_t> memory_total_bytes;
    std::optional<double> temperature_celsius;
    std::optional<double> power_watts;
    std::optional<std::uint64_t> ecc_corrected;    // aggregate counts
    std::optional<std::uint64_t> ecc_uncorrected;
    // XID events (critical driver errors) counted since boot, while boxmon watched; absent
    // when the driver does not deliver them to this process.
    std::optional<std::uint64_t> xid_errors;
    // The processes using this GPU; absent when the driver cannot list them.
    std::optional<std::vector<GpuProcess>> processes;
};

// The series of one GPU, labelled {gpu, name, uuid}. `util` is the interval summary when the
// samples gave one; otherwise the instantaneous rate stands in for both mean and maximum.
void add_gpu_points(const GpuReading& gpu, const std::optional<UtilSummary>& util, Sample& out);

// Whether the NVIDIA kernel driver is loaded: <proc>/driver/nvidia exists (a container sees
// the host's), or, on the host itself, /dev/dxg (WSL 2). Without it NVML cannot initialise, so
// the collector does not look for the library (unless [gpu] nvml_library names one).
bool nvidia_driver_loaded(const RootFs& root);

}  // namespace boxmon::collector
