#pragma once
// The AMD collector's parsers and reader: amdgpu exposes each GPU under
// /sys/class/drm/card<N>/device/ (https://docs.kernel.org/gpu/amdgpu/driver-misc.html and
// .../thermal.html). Parsers are pure; read_amd_gpus() is the thin reader over RootFs.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/fs.hpp"
#include "core/result.hpp"
#include "core/sample.hpp"

namespace boxmon::collector {

// A sysfs file holding one unsigned decimal integer and a newline; fails on anything else,
// quoting the text.
Result<std::uint64_t> parse_sysfs_uint(std::string_view text);

// A uevent file ("KEY=value" lines) as a map; lines without '=' are skipped.
std::map<std::string, std::string> parse_uevent(std::string_view text);

// Whether a /sys/class/drm entry is a card ("card0"), not a connector ("card0-DP-1") or a
// render node ("renderD128"); returns its number.
std::optional<unsigned> drm_card_number(std::string_view entry);

struct AmdGpu {
    unsigned card = 0;
    std::string name;  // product_name, or "AMD GPU 1002:73BF" from the PCI id
    std::string uuid;  // unique_id, or the PCI slot "0000:03:00.0"
    std::optional<double> busy_percent;
    std::optional<std::uint64_t> vram_used_bytes;
    std::optional<std::uint64_t> vram_total_bytes;
    std::optional<double> temperature_celsius;  // hwmon temp1 (edge)
    std::optional<double> power_watts;          // hwmon power1_average, or power1_input
};

struct AmdScan {
    std::vector<AmdGpu> gpus;
    // One line per file that exists but could not be parsed: path and why.
    std::vector<std::string> problems;
};

// Every amdgpu card under <sys>/class/drm; cards of other drivers are skipped. Missing files
// leave their fields absent; a runtime-suspended card reads as 0 % busy and nothing else (reading
// would wake it). Fails (kind not_found) only when class/drm itself is missing.
Result<AmdScan> read_amd_gpus(const RootFs& root);

// The series of one card, labelled {gpu, name, uuid}, and gpu_up{gpu, vendor="amd"} = 1.
void add_amd_points(const AmdGpu& gpu, Sample& out);

// One DRM client as a process's /proc/<pid>/fdinfo/<fd> shows it
// (https://docs.kernel.org/gpu/drm-usage-stats.html). amdgpu has no per-process list in sysfs;
// this is where a process's VRAM is.
struct DrmClient {
    std::string driver;     // drm-driver, e.g. "amdgpu"
    std::string pdev;       // drm-pdev, the PCI slot of the GPU
    std::uint64_t id = 0;   // drm-client-id: one per open of the device, shared by dup() and fork()
    std::optional<std::uint64_t> vram_bytes;  // drm-resident-vram, else drm-memory-vram (older kernels)
};

// Parses an fdinfo file; absent when it is not a DRM client (no drm-driver or drm-client-id).
// A memory value takes an optional KiB or MiB unit, bytes without one.
std::optional<DrmClient> parse_drm_fdinfo(std::string_view text);

// The VRAM held by the amdgpu clients among the processes' open files, each client counted once
// however many descriptors of the processes share it. Reads fdinfo only for descriptors that
// point into /dev/dri; processes and files that vanish meanwhile are skipped.
std::uint64_t amdgpu_vram_of(const RootFs& root, std::span<const pid_t> pids);

}  // namespace boxmon::collector
