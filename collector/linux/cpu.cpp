// The cpu collector: busy, iowait and steal share of all CPUs over the interval, from the
// aggregate line of /proc/stat. The jiffy counters go through RateTracker (record()), so the
// previous reading is the persisted one and a new boot or an odd elapsed time gives no value.

#include <spdlog/spdlog.h>

#include "collector/linux/parse_proc.hpp"
#include "collector/registry.hpp"

namespace boxmon::collector {

namespace {

using kernel::CpuTimes;

// A share of `total` ticks as a percentage, or nullopt when the counter went backwards or its
// delta exceeds the total (an inconsistent reading, e.g. steal > total on some hypervisors).
std::optional<double> share(std::uint64_t now, std::optional<std::uint64_t> prev, std::uint64_t total_delta) {
    if (!prev || now < *prev || total_delta == 0) return std::nullopt;
    const std::uint64_t delta = now - *prev;
    if (delta > total_delta) return std::nullopt;
    return 100.0 * static_cast<double>(delta) / static_cast<double>(total_delta);
}

class CpuCollector final : public Collector {
public:
    std::string_view name() const override { return "cpu"; }

    Result<void> collect(CollectContext& ctx, Sample& out) override {
        auto text = ctx.root.read_proc("stat");
        if (!text) return fail(std::move(text).error());
        if (auto parsed = kernel::parse_proc_stat(*text, m_stat); !parsed)
            return fail("{}: {}", ctx.root.proc("stat").string(), parsed.error().message);
        note_problem(ctx);

        const CpuTimes& t = m_stat.all;
        RateTracker& rates = ctx.rates;
        const auto prev_total = rates.record(k_total, t.total());
        const auto prev_idle = rates.record(k_idle, t.idle_all());
        const auto prev_iowait = t.has_iowait() ? rates.record(k_iowait, t.iowait) : std::nullopt;
        const auto prev_steal = t.has_steal() ? rates.record(k_steal, t.steal) : std::nullopt;
        if (!m_stat.cpus.empty()) out.add(SeriesKey("cpu_count"), static_cast<double>(m_stat.cpus.size()));

        // Percentages only from a valid delta: not on the first reading, not across a new boot or
        // an elapsed time RateTracker refuses, not when the total went backwards or did not move.
        if (!rates.elapsed_seconds() || !prev_total || t.total() <= *prev_total) return ok();
        const std::uint64_t total_delta = t.total() - *prev_total;
        if (const auto idle = share(t.idle_all(), prev_idle, total_delta))
            out.add(SeriesKey("cpu_percent"), 100.0 - *idle);
        if (t.has_iowait()) {
            if (const auto v = share(t.iowait, prev_iowait, total_delta)) out.add(SeriesKey("cpu_iowait_percent"), *v);
        }
        if (t.has_steal()) {
            if (const auto v = share(t.steal, prev_steal, total_delta)) out.add(SeriesKey("cpu_steal_percent"), *v);
        }
        return ok();
    }

private:
    // A skipped per-CPU line is logged once per distinct text, not every tick.
    void note_problem(const CollectContext& ctx) {
        if (m_stat.problem == m_last_problem) return;
        m_last_problem = m_stat.problem;
        if (!m_last_problem.empty())
            spdlog::warn("collector cpu: {}: {}; that CPU's line is skipped", ctx.root.proc("stat").string(), m_last_problem);
    }

    inline static const std::string k_total = "cpu/total";
    inline static const std::string k_idle = "cpu/idle";  // idle + iowait
    inline static const std::string k_iowait = "cpu/iowait";
    inline static const std::string k_steal = "cpu/steal";

    kernel::ProcStat m_stat;  // reused across ticks: no reallocation of the per-CPU table
    std::string m_last_problem;
};

}  // namespace

std::unique_ptr<Collector> make_cpu_collector(const Config&) { return std::make_unique<CpuCollector>(); }

}  // namespace boxmon::collector
