#pragma once
// The scripting interface of the fake libnvidia-ml (fake_nvml.cpp). Tests resolve these with
// dlsym from the same library the collector dlopens, so the script and the collector share one
// copy of the fake's state. Every function is thread-safe.

#include <cstdint>

extern "C" {
// Back to the start: nvmlInit_v2 succeeds, no GPU, no call made yet.
void fake_nvml_reset();
// What nvmlInit_v2 returns from now on.
void fake_nvml_set_init_result(int rc);
// The next nvmlInit_v2 sleeps `ms` milliseconds before answering.
void fake_nvml_set_init_block(unsigned ms);
// Adds a GPU that supports everything with zero values; returns its index.
unsigned fake_nvml_add_gpu(const char* name, const char* uuid);
// Sets a value of GPU `gpu`: "util", "mem_used", "mem_total", "temp", "power_mw",
// "ecc_corrected", "ecc_uncorrected".
void fake_nvml_set_value(unsigned gpu, const char* what, unsigned long long value);
// Makes `function` (an NVML name, or "*" for every call about this GPU, the handle lookup
// included) return `rc` for GPU `gpu` from now on; 0 restores it.
void fake_nvml_set_result(unsigned gpu, const char* function, int rc);
// Buffers one utilisation sample (time stamp in microseconds, percent).
void fake_nvml_add_sample(unsigned gpu, unsigned long long ts_us, unsigned percent);
// The next call of `function` for GPU `gpu` sleeps `ms` milliseconds before answering.
void fake_nvml_set_block(unsigned gpu, const char* function, unsigned ms);
// Queues an XID event for GPU `gpu`; delivered only when the GPU was registered for XID events.
void fake_nvml_add_xid(unsigned gpu, unsigned long long xid);
// Lists process `pid` on GPU `gpu` as holding `bytes` of its memory (~0ULL: "not available"),
// in the "compute" or "graphics" list.
void fake_nvml_add_process(unsigned gpu, const char* list, unsigned pid, unsigned long long bytes);
// Empties both process lists of GPU `gpu`.
void fake_nvml_clear_processes(unsigned gpu);
// How many calls of `function` were made ("*": all).
unsigned long long fake_nvml_calls(const char* function);
// The most NVML calls that were ever in progress at the same time.
int fake_nvml_max_concurrent();
// Calls still in progress now.
int fake_nvml_in_flight();
}
