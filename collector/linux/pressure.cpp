// The pressure collector: the share of time tasks stalled on CPU, memory and I/O over the
// interval, from the PSI "total" counters (microseconds stalled) of /proc/pressure/*. The
// counters go through RateTracker, so the value covers exactly the interval, like cpu_percent,
// rather than the kernel's fixed 10/60/300 s windows.
// https://docs.kernel.org/accounting/psi.html

#include <algorithm>
#include <array>

#include <spdlog/spdlog.h>

#include "collector/linux/parse_proc.hpp"
#include "collector/registry.hpp"

namespace boxmon::collector {

namespace {

struct Resource {
    std::string_view file;  // under the proc root
    std::string some_key;   // counter keys
    std::string full_key;
    std::string some_metric;
    std::string full_metric;  // "" where the line means nothing
};

// Microseconds stalled per second of wall time, as a percentage.
std::optional<double> stall_percent(RateTracker& rates, const std::string& key, std::uint64_t total) {
    const auto per_second = rates.rate(key, total);
    if (!per_second) return std::nullopt;
    // A stall share cannot exceed 100 %; the small excess comes from the kernel's and boxmon's
    // clocks being read at slightly different moments.
    return std::min(100.0, *per_second / 10'000.0);
}

class PressureCollector final : public Collector {
public:
    std::string_view name() const override { return "pressure"; }

    Result<void> collect(CollectContext& ctx, Sample& out) override {
        std::string problem;
        int read = 0;
        int absent = 0;
        for (const auto& r : m_resources) {
            auto text = ctx.root.read_proc(r.file, 4096);
            if (!text) {
                if (text.error().kind == ErrorKind::not_found) ++absent;
                else if (problem.empty()) problem = text.error().message;
                continue;
            }
            auto p = kernel::parse_pressure(*text);
            if (!p) {
                if (problem.empty()) problem = fmt::format("{}: {}", ctx.root.proc(r.file).string(), p.error().message);
                continue;
            }
            ++read;
            if (const auto v = stall_percent(ctx.rates, r.some_key, p->some->total)) out.add(SeriesKey(r.some_metric), *v);
            if (p->full && !r.full_metric.empty()) {
                if (const auto v = stall_percent(ctx.rates, r.full_key, p->full->total))
                    out.add(SeriesKey(r.full_metric), *v);
            }
        }
        if (absent == static_cast<int>(m_resources.size())) {
            return fail_as(ErrorKind::not_found,
                           "{}: not present (Linux older than 4.20, or booted with psi=0); no pressure series",
                           ctx.root.proc("pressure").string());
        }
        if (read == 0) return fail(Error{problem.empty() ? "no pressure file could be read" : problem});
        if (problem != m_last_problem) {
            m_last_problem = problem;
            if (!problem.empty()) spdlog::warn("collector pressure: {}; the other resources are reported", problem);
        }
        return ok();
    }

private:
    // "full" for CPU is undefined system-wide: Linux 5.13+ prints the line, always zero.
    const std::array<Resource, 3> m_resources{{
        {"pressure/cpu", "psi/cpu/some", "", "pressure_cpu_some_percent", ""},
        {"pressure/memory", "psi/memory/some", "psi/memory/full", "pressure_memory_some_percent",
         "pressure_memory_full_percent"},
        {"pressure/io", "psi/io/some", "psi/io/full", "pressure_io_some_percent", "pressure_io_full_percent"},
    }};
    std::string m_last_problem;
};

}  // namespace

std::unique_ptr<Collector> make_pressure_collector(const Config&) { return std::make_unique<PressureCollector>(); }

}  // namespace boxmon::collector
