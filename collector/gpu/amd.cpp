// AMD GPUs through the amdgpu sysfs files (collector/gpu/amd.hpp).

#include "collector/gpu/amd.hpp"

#include <unistd.h>

#include <charconv>
#include <set>
#include <utility>

#include <spdlog/spdlog.h>

#include "collector/registry.hpp"
#include "core/log.hpp"

namespace boxmon::collector {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    return s;
}

// First 40 characters of a bad value, for messages.
std::string quote(std::string_view text) {
    constexpr std::size_t k_max = 40;
    std::string q(text.substr(0, k_max));
    for (auto& c : q)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
    return fmt::format("\"{}{}\"", q, text.size() > k_max ? "..." : "");
}

// Calls f(key, value) for each "key<sep>value" line of text (value trimmed); lines without the
// separator, or with an empty key, are skipped. uevent files use '=', fdinfo files ':'.
template <class F>
void for_each_key_value(std::string_view text, char sep, F&& f) {
    while (!text.empty()) {
        const auto nl = text.find('\n');
        const std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        const auto at = line.find(sep);
        if (at == std::string_view::npos || at == 0) continue;
        f(line.substr(0, at), trim(line.substr(at + 1)));
    }
}

}  // namespace

Result<std::uint64_t> parse_sysfs_uint(std::string_view text) {
    const std::string_view t = trim(text);
    if (t.empty()) return fail("empty value; expected an unsigned integer");
    std::uint64_t v = 0;
    const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec == std::errc::result_out_of_range) return fail("value {} out of range", quote(t));
    if (ec != std::errc() || ptr != t.data() + t.size())
        return fail("value {} is not an unsigned integer", quote(t));
    return v;
}

std::map<std::string, std::string> parse_uevent(std::string_view text) {
    std::map<std::string, std::string> out;
    for_each_key_value(text, '=', [&](std::string_view key, std::string_view value) {
        out[std::string(key)] = std::string(value);
    });
    return out;
}

std::optional<unsigned> drm_card_number(std::string_view entry) {
    if (!entry.starts_with("card") || entry.size() == 4) return std::nullopt;
    const std::string_view digits = entry.substr(4);
    unsigned n = 0;
    const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (ec != std::errc() || ptr != digits.data() + digits.size()) return std::nullopt;
    return n;
}

namespace {

class CardReader {
public:
    CardReader(const RootFs& root, std::string device, AmdScan& scan)
        : m_root(root), m_device(std::move(device)), m_scan(scan) {}

    // The file's text, or nullopt when it is missing (normal: older kernels, other models) or
    // unreadable (recorded as a problem).
    std::optional<std::string> text(std::string_view rel) {
        auto r = m_root.read_sys(fmt::format("{}/{}", m_device, rel), 4096);
        if (r) return std::move(*r);
        if (r.error().kind != ErrorKind::not_found) m_scan.problems.push_back(r.error().message);
        return std::nullopt;
    }

    std::optional<std::uint64_t> uint(std::string_view rel) {
        auto t = text(rel);
        if (!t) return std::nullopt;
        auto v = parse_sysfs_uint(*t);
        if (v) return *v;
        m_scan.problems.push_back(
            fmt::format("{}: {}", m_root.sys(fmt::format("{}/{}", m_device, rel)).string(), v.error().message));
        return std::nullopt;
    }

    const std::string& device() const { return m_device; }

private:
    const RootFs& m_root;
    std::string m_device;
    AmdScan& m_scan;
};

void read_hwmon(const RootFs& root, CardReader& card, AmdGpu& gpu) {
    auto names = list_dir(root.sys(fmt::format("{}/hwmon", card.device())));
    if (!names) return;
    // One hwmon directory per card; its number is not stable across boots.
    for (const auto& hw : *names) {
        if (!hw.starts_with("hwmon")) continue;
        if (!gpu.temperature_celsius)
            if (auto t = card.uint(fmt::format("hwmon/{}/temp1_input", hw)))
                gpu.temperature_celsius = static_cast<double>(*t) / 1000.0;  // millidegrees
        if (!gpu.power_watts) {
            // power1_average on most cards; kernels 6.x report power1_input on some RDNA3 parts.
            auto p = card.uint(fmt::format("hwmon/{}/power1_average", hw));
            if (!p) p = card.uint(fmt::format("hwmon/{}/power1_input", hw));
            if (p) gpu.power_watts = static_cast<double>(*p) / 1e6;  // microwatts
        }
    }
}

}  // namespace

Result<AmdScan> read_amd_gpus(const RootFs& root) {
    BOXMON_TRY(entries, list_dir(root.sys("class/drm")));
    AmdScan scan;
    for (const auto& entry : entries) {
        const auto number = drm_card_number(entry);
        if (!number) continue;
        CardReader card(root, fmt::format("class/drm/{}/device", entry), scan);
        const auto uevent_text = card.text("uevent");
        if (!uevent_text) continue;
        const auto uevent = parse_uevent(*uevent_text);
        const auto driver = uevent.find("DRIVER");
        if (driver == uevent.end() || driver->second != "amdgpu") continue;

        AmdGpu gpu;
        gpu.card = *number;
        if (auto name = card.text("product_name"); name && !trim(*name).empty())
            gpu.name = std::string(trim(*name));
        else if (auto id = uevent.find("PCI_ID"); id != uevent.end())
            gpu.name = fmt::format("AMD GPU {}", id->second);
        else
            gpu.name = "AMD GPU";
        if (auto uid = card.text("unique_id"); uid && !trim(*uid).empty())
            gpu.uuid = std::string(trim(*uid));
        else if (auto slot = uevent.find("PCI_SLOT_NAME"); slot != uevent.end())
            gpu.uuid = slot->second;

        // Reading amdgpu's files wakes a runtime-suspended card (and keeps it awake at the next
        // tick), costing watts on an idle laptop or server: a suspended card is idle, say so and
        // read nothing else. https://docs.kernel.org/gpu/amdgpu/thermal.html
        if (auto pm = card.text("power/runtime_status"); pm && trim(*pm) == "suspended") {
            gpu.busy_percent = 0;
            scan.gpus.push_back(std::move(gpu));
            continue;
        }
        if (auto v = card.uint("gpu_busy_percent")) gpu.busy_percent = static_cast<double>(*v);
        gpu.vram_used_bytes = card.uint("mem_info_vram_used");
        gpu.vram_total_bytes = card.uint("mem_info_vram_total");
        read_hwmon(root, card, gpu);
        scan.gpus.push_back(std::move(gpu));
    }
    return scan;
}

void add_amd_points(const AmdGpu& gpu, Sample& out) {
    const std::vector<Label> labels = {
        {"gpu", std::to_string(gpu.card)}, {"name", gpu.name}, {"uuid", gpu.uuid}};
    auto add = [&](const char* name, double value) { out.add(SeriesKey(name, labels), value); };
    // Found under class/drm: up. A card that drops out of sysfs leaves the series absent, which
    // the gpu_lost rule reports; keyed like the NVIDIA series, by index and vendor alone.
    out.add(SeriesKey("gpu_up", {{"gpu", std::to_string(gpu.card)}, {"vendor", "amd"}}), 1);
    // gpu_busy_percent is the driver's instantaneous figure; there is no buffered history to
    // average, so no gpu_util_max_percent either.
    if (gpu.busy_percent) add("gpu_util_percent", *gpu.busy_percent);
    if (gpu.vram_used_bytes) add("gpu_memory_used_bytes", static_cast<double>(*gpu.vram_used_bytes));
    if (gpu.vram_total_bytes) add("gpu_memory_total_bytes", static_cast<double>(*gpu.vram_total_bytes));
    if (gpu.vram_used_bytes && gpu.vram_total_bytes && *gpu.vram_total_bytes > 0)
        add("gpu_memory_used_percent", 100.0 * static_cast<double>(*gpu.vram_used_bytes) /
                                           static_cast<double>(*gpu.vram_total_bytes));
    if (gpu.temperature_celsius) add("gpu_temperature_celsius", *gpu.temperature_celsius);
    if (gpu.power_watts) add("gpu_power_watts", *gpu.power_watts);
}

std::optional<DrmClient> parse_drm_fdinfo(std::string_view text) {
    DrmClient c;
    bool has_id = false;
    std::optional<std::uint64_t> memory_vram;
    std::optional<std::uint64_t> resident_vram;
    auto bytes = [](std::string_view v) -> std::optional<std::uint64_t> {
        std::uint64_t n = 0;
        const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        if (ec != std::errc()) return std::nullopt;
        const std::string_view unit = trim(v.substr(static_cast<std::size_t>(ptr - v.data())));
        if (unit.empty()) return n;
        if (unit == "KiB") return n << 10;
        if (unit == "MiB") return n << 20;
        return std::nullopt;
    };
    for_each_key_value(text, ':', [&](std::string_view key, std::string_view value) {
        if (key == "drm-driver") {
            c.driver = std::string(value);
        } else if (key == "drm-pdev") {
            c.pdev = std::string(value);
        } else if (key == "drm-client-id") {
            has_id = std::from_chars(value.data(), value.data() + value.size(), c.id).ec == std::errc();
        } else if (key == "drm-memory-vram") {
            memory_vram = bytes(value);
        } else if (key == "drm-resident-vram") {
            resident_vram = bytes(value);
        }
    });
    if (c.driver.empty() || !has_id) return std::nullopt;
    c.vram_bytes = resident_vram ? resident_vram : memory_vram;
    return c;
}

std::uint64_t amdgpu_vram_of(const RootFs& root, std::span<const pid_t> pids) {
    std::set<std::pair<std::string, std::uint64_t>> seen;  // (pdev, client id)
    std::uint64_t total = 0;
    for (const pid_t pid : pids) {
        const std::string dir = std::to_string(pid);
        auto fds = list_dir(root.proc(dir + "/fd"));
        if (!fds) continue;
        for (const auto& fd : *fds) {
            char target[64];
            const auto link = root.proc(dir + "/fd/" + fd);
            const ssize_t n = ::readlink(link.c_str(), target, sizeof target);
            if (n <= 0 || std::string_view(target, static_cast<std::size_t>(n)).rfind("/dev/dri/", 0) != 0) continue;
            auto info = read_bounded(root.proc(dir + "/fdinfo/" + fd), 16 * 1024);
            if (!info) continue;
            auto client = parse_drm_fdinfo(*info);
            if (!client || client->driver != "amdgpu" || !client->vram_bytes) continue;
            if (seen.emplace(client->pdev, client->id).second) total += *client->vram_bytes;
        }
    }
    return total;
}

namespace {

class AmdCollector final : public Collector {
    static constexpr const char* k_absence_said = "gpu_amd/absence_said";

public:
    std::string_view name() const override { return "gpu_amd"; }

    Result<void> collect(CollectContext& ctx, Sample& out) override {
        auto scan = read_amd_gpus(ctx.root);
        if (!scan || scan->gpus.empty()) {
            // No DRM at all, or no amdgpu card: normal; said once per boot (the mark is kept with
            // the persisted counters, so a timer's one-shot samples do not repeat it).
            const bool said_this_boot = ctx.rates.record(k_absence_said, 1).has_value();
            if (!m_said_none) {
                m_said_none = true;
                const auto level = said_this_boot ? spdlog::level::debug : spdlog::level::info;
                spdlog::log(level, "gpu_amd: no amdgpu card under {}; no AMD GPU series",
                            ctx.root.sys("class/drm").string());
            }
            return ok();
        }
        m_said_none = false;
        if (ctx.facts) ctx.facts->amd_gpus = true;
        for (const auto& problem : scan->problems)
            if (m_problems.changed(problem, problem)) spdlog::warn("gpu_amd: {}; that series is absent", problem);
        for (const auto& gpu : scan->gpus) add_amd_points(gpu, out);
        return ok();
    }

private:
    bool m_said_none = false;
    ChangeFilter m_problems;
};

}  // namespace

std::unique_ptr<Collector> make_gpu_amd_collector(const Config& config) {
    if (!config.gpu.amd) return nullptr;
    return std::make_unique<AmdCollector>();
}

}  // namespace boxmon::collector
