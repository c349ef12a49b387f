// The memory collector: memory and swap in use, from /proc/meminfo. Used memory is
// MemTotal - MemAvailable (DESIGN §3): the kernel's own estimate of what can be had without
// swapping, which counts reclaimable cache as available.

#include <spdlog/spdlog.h>

#include "collector/linux/parse_proc.hpp"
#include "collector/registry.hpp"

namespace boxmon::collector {

namespace {

class MemoryCollector final : public Collector {
public:
    std::string_view name() const override { return "memory"; }

    Result<void> collect(CollectContext& ctx, Sample& out) override {
        auto text = ctx.root.read_proc("meminfo");
        if (!text) return fail(std::move(text).error());
        auto info = kernel::parse_meminfo(*text);
        if (!info) return fail("{}: {}", ctx.root.proc("meminfo").string(), info.error().message);
        std::string problem = info->problem;

        const auto total = static_cast<double>(info->mem_total);
        out.add(SeriesKey("mem_total_bytes"), total);
        if (!info->mem_available) {
            // Linux before 3.14 has no MemAvailable; an estimate from MemFree + Cached is wrong
            // by the unreclaimable part of the cache, so boxmon reports nothing rather than that.
            if (problem.empty()) problem = "no MemAvailable line (Linux older than 3.14?); mem_used_percent is not reported";
        } else if (*info->mem_available <= info->mem_total) {
            const auto available = static_cast<double>(*info->mem_available);
            out.add(SeriesKey("mem_available_bytes"), available);
            out.add(SeriesKey("mem_used_bytes"), total - available);
            out.add(SeriesKey("mem_used_percent"), 100.0 * (total - available) / total);
        } else if (problem.empty()) {
            problem = fmt::format("MemAvailable ({} bytes) is above MemTotal ({} bytes); memory use is not reported",
                                  *info->mem_available, info->mem_total);
        }

        if (info->swap_total && info->swap_free && *info->swap_free <= *info->swap_total) {
            const auto swap_total = static_cast<double>(*info->swap_total);
            const auto swap_used = swap_total - static_cast<double>(*info->swap_free);
            out.add(SeriesKey("swap_total_bytes"), swap_total);
            out.add(SeriesKey("swap_used_bytes"), swap_used);
            // No swap configured: a share of nothing is absent, not 0 %.
            if (*info->swap_total > 0) out.add(SeriesKey("swap_used_percent"), 100.0 * swap_used / swap_total);
        } else if (problem.empty()) {
            problem = "SwapTotal/SwapFree missing or inconsistent; swap is not reported";
        }
        note_problem(ctx, problem);
        return ok();
    }

private:
    // Partial results are normal; what was left out is logged once per distinct text.
    void note_problem(const CollectContext& ctx, const std::string& problem) {
        if (problem == m_last_problem) return;
        m_last_problem = problem;
        if (!problem.empty()) spdlog::warn("collector memory: {}: {}", ctx.root.proc("meminfo").string(), problem);
    }

    std::string m_last_problem;
};

}  // namespace

std::unique_ptr<Collector> make_memory_collector(const Config&) { return std::make_unique<MemoryCollector>(); }

}  // namespace boxmon::collector
