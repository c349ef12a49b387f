#pragma once
// The few NVML types and functions boxmon uses, declared locally so that the build never needs
// NVIDIA's headers and one binary runs with or without a GPU (STYLE rule 6). Values and layouts
// are those of nvml.h (CUDA 12 toolkit, NVML API version 12); every one used here has been
// stable since NVML 5. Reference: https://docs.nvidia.com/deploy/nvml-api/
//
// The fake library the tests build (tests/collector/fake_nvml/) includes this header too, so the
// fake and the collector cannot drift apart.

#include <cstdint>

namespace boxmon::collector::nvml {

// nvmlReturn_t: the codes boxmon tells apart; any other value is reported by its number and
// nvmlErrorString().
using Return = int;
inline constexpr Return k_success = 0;
inline constexpr Return k_error_uninitialized = 1;
inline constexpr Return k_error_invalid_argument = 2;
inline constexpr Return k_error_not_supported = 3;
inline constexpr Return k_error_no_permission = 4;
inline constexpr Return k_error_not_found = 6;
inline constexpr Return k_error_insufficient_size = 7;
inline constexpr Return k_error_driver_not_loaded = 9;
inline constexpr Return k_error_timeout = 10;
inline constexpr Return k_error_gpu_is_lost = 15;
inline constexpr Return k_error_unknown = 999;

// nvmlDevice_t: an opaque handle.
struct nvmlDevice_st;
using Device = nvmlDevice_st*;

// nvmlUtilization_t
struct Utilization {
    unsigned int gpu;     // percent of time a kernel ran over the driver's last sample period
    unsigned int memory;  // percent of time device memory was read or written
};

// nvmlMemory_t (the v1 structure of nvmlDeviceGetMemoryInfo)
struct Memory {
    unsigned long long total;  // bytes
    unsigned long long free;
    unsigned long long used;
};

// nvmlValueType_t
using ValueType = int;
inline constexpr ValueType k_value_double = 0;
inline constexpr ValueType k_value_unsigned_int = 1;
inline constexpr ValueType k_value_unsigned_long = 2;
inline constexpr ValueType k_value_unsigned_long_long = 3;
inline constexpr ValueType k_value_signed_long_long = 4;
inline constexpr ValueType k_value_signed_int = 5;

// nvmlValue_t
union Value {
    double dVal;
    int siVal;
    unsigned int uiVal;
    unsigned long ulVal;
    unsigned long long ullVal;
    long long sllVal;
};

// nvmlSample_t
struct SampleValue {
    unsigned long long timeStamp;  // CPU time stamp in microseconds
    Value sampleValue;
};

// nvmlSamplingType_t
using SamplingType = int;
inline constexpr SamplingType k_gpu_utilization_samples = 1;

// nvmlTemperatureSensors_t
inline constexpr int k_temperature_gpu = 0;
// nvmlMemoryErrorType_t
inline constexpr int k_memory_error_corrected = 0;
inline constexpr int k_memory_error_uncorrected = 1;
// nvmlEccCounterType_t: aggregate counts survive driver reloads and reboots.
inline constexpr int k_aggregate_ecc = 1;

// nvmlEventSet_t: an opaque handle.
struct nvmlEventSet_st;
using EventSet = nvmlEventSet_st*;

// nvmlEventData_t (as filled by nvmlEventSetWait_v2)
struct EventData {
    Device device;
    unsigned long long eventType;
    unsigned long long eventData;  // the XID number for XID events
    unsigned int gpuInstanceId;
    unsigned int computeInstanceId;
};

// nvmlEventTypeXidCriticalError
inline constexpr unsigned long long k_event_type_xid_critical_error = 0x8;

// nvmlProcessInfo_v2_t: the layout the _v2 and _v3 forms of
// nvmlDeviceGetComputeRunningProcesses / nvmlDeviceGetGraphicsRunningProcesses fill (the
// unversioned v1 functions fill a shorter struct and are not used). nvml.h, CUDA 11.x-12.x.
struct ProcessInfo {
    unsigned int pid;
    unsigned long long usedGpuMemory;  // bytes; k_value_not_available when the driver cannot tell
    unsigned int gpuInstanceId;
    unsigned int computeInstanceId;
};
// NVML_VALUE_NOT_AVAILABLE for unsigned long long fields (e.g. usedGpuMemory without permission
// to see another user's process, or under WDDM).
inline constexpr unsigned long long k_value_not_available = ~0ULL;

// Buffer sizes nvml.h defines for names and UUIDs.
inline constexpr unsigned k_device_name_buffer_size = 96;
inline constexpr unsigned k_device_uuid_buffer_size = 96;

// The signatures of the functions boxmon resolves with dlsym.
extern "C" {
using InitFn = Return (*)();
using ShutdownFn = Return (*)();
using ErrorStringFn = const char* (*)(Return);
using DeviceGetCountFn = Return (*)(unsigned int* count);
using DeviceGetHandleByIndexFn = Return (*)(unsigned int index, Device* device);
using DeviceGetNameFn = Return (*)(Device device, char* name, unsigned int length);
using DeviceGetUuidFn = Return (*)(Device device, char* uuid, unsigned int length);
using DeviceGetUtilizationRatesFn = Return (*)(Device device, Utilization* utilization);
using DeviceGetSamplesFn = Return (*)(Device device, SamplingType type,
                                      unsigned long long last_seen_time_stamp,
                                      ValueType* sample_val_type, unsigned int* sample_count,
                                      SampleValue* samples);
using DeviceGetMemoryInfoFn = Return (*)(Device device, Memory* memory);
using DeviceGetTemperatureFn = Return (*)(Device device, int sensor, unsigned int* temp);
using DeviceGetPowerUsageFn = Return (*)(Device device, unsigned int* milliwatts);
using DeviceGetTotalEccErrorsFn = Return (*)(Device device, int error_type, int counter_type,
                                             unsigned long long* count);
// nvmlDeviceGet{Compute,Graphics}RunningProcesses_v3 (or _v2): `count` is the buffer's capacity
// in and the number of processes out; NVML_ERROR_INSUFFICIENT_SIZE sets it to the number needed.
using DeviceGetRunningProcessesFn = Return (*)(Device device, unsigned int* count, ProcessInfo* infos);

using EventSetCreateFn = Return (*)(EventSet* set);
using DeviceRegisterEventsFn = Return (*)(Device device, unsigned long long event_types, EventSet set);
using EventSetWaitFn = Return (*)(EventSet set, EventData* data, unsigned int timeout_ms);
using EventSetFreeFn = Return (*)(EventSet set);
}  // extern "C"

}  // namespace boxmon::collector::nvml
