// The services collector: per configured service, its processes (up, count, RSS, CPU, open
// files, restarts) and its health checks (up, latency). Checks run on a bounded pool while the
// process table is scanned, and the whole collection ends within the largest check timeout
// and within the tick interval.

#include <unistd.h>

#include <algorithm>
#include <system_error>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "collector/gpu/amd.hpp"
#include "collector/registry.hpp"
#include "collector/services/checks.hpp"
#include "collector/services/processes.hpp"
#include "core/log.hpp"

namespace boxmon::collector {
namespace {

using services::CheckOutcome;

// At most this many checks run at once: enough for a box's handful of services, few enough
// that a host under pressure (RELIABILITY L7) is not flooded by its monitor.
constexpr std::size_t k_check_threads = 8;
// The share of the tick interval the checks may use at most, so a tick is never stretched.
constexpr double k_interval_share = 0.8;

struct CheckRef {
    const ServiceConfig* service;
    const CheckConfig* check;
};

class ServicesCollector final : public Collector {
public:
    std::string_view name() const override { return "services"; }

    Result<void> collect(CollectContext& ctx, Sample& out) override {
        const auto& config = ctx.config;
        if (config.services.empty()) return ok();
        const auto start = std::chrono::steady_clock::now();

        std::vector<CheckRef> refs;
        std::vector<const CheckConfig*> checks;
        std::chrono::milliseconds longest{0};
        for (const auto& s : config.services)
            for (const auto& c : s.checks) {
                refs.push_back({&s, &c});
                checks.push_back(&c);
                longest = std::max(longest, c.timeout);
            }
        const auto budget = std::min(
            longest, std::chrono::duration_cast<std::chrono::milliseconds>(config.general.interval * k_interval_share));
        std::vector<CheckOutcome> outcomes;
        std::jthread check_thread;
        auto run = [&] { outcomes = services::run_checks(checks, k_check_threads, start + budget); };
        if (!checks.empty()) {
            try {
                check_thread = std::jthread(run);
            } catch (const std::system_error&) {
                run();  // no thread to spare: checks first, then the scan
            }
        }

        m_check_cmdlines.clear();
        for (const auto* c : checks)
            if (c->type == CheckConfig::Type::command) m_check_cmdlines.push_back(fmt::format("{}", fmt::join(c->command, " ")));
        auto scanned = scan(ctx.root, config);
        if (check_thread.joinable()) check_thread.join();

        if (scanned) {
            for (const auto& s : config.services) add_service(ctx, s, *scanned, out);
        } else {
            // Without the process table nothing is known about the services: no series rather
            // than a false "down" (the absent-series rule notices a lasting outage).
            if (m_log.changed("scan", scanned.error().message))
                spdlog::warn("collector services: {}", scanned.error().message);
        }
        for (std::size_t i = 0; i < refs.size(); ++i) add_check(refs[i], outcomes[i], out);
        if (!scanned) return fail(std::move(scanned).error());
        return ok();
    }

private:
    static Result<std::vector<services::ProcessEntry>> scan(const RootFs& root, const Config& config) {
        services::ScanOptions opt;
        for (const auto& s : config.services) {
            if (s.pidfile.empty() && !s.unit.empty()) opt.cgroups = true;
            if (s.pidfile.empty() && s.unit.empty() && !s.match.empty()) opt.cmdlines = true;
        }
        return services::scan_processes(root, opt);
    }

    void add_service(CollectContext& ctx, const ServiceConfig& s,
                     const std::vector<services::ProcessEntry>& processes, Sample& out) {
        const pid_t self = ctx.root.is_host() ? getpid() : 0;
        auto pids = services::find_service_pids(s, processes, self, m_check_cmdlines);
        const std::string log_key = "service/" + s.name;
        if (!pids) {
            // A pidfile that is gone usually means a stopped service: it is down, said once.
            if (m_log.changed(log_key, pids.error().message))
                spdlog::warn("service {}: {}", s.name, pids.error().message);
            pids = std::vector<pid_t>{};
        } else if (m_log.clear(log_key)) {
            spdlog::info("service {}: its pidfile is readable again", s.name);
        }
        const auto usage = services::measure_usage(ctx.root, *pids, processes);
        const bool up = usage.processes > 0;
        const std::vector<Label> labels = {{"service", s.name}};
        out.add(SeriesKey("service_up", labels), up ? 1 : 0);
        out.add(SeriesKey("service_processes", labels), static_cast<double>(usage.processes));

        // Restarts: the main PID changed since the previous sample. The last PID seen is
        // carried through down periods so a stop-then-start counts as one restart.
        const std::string pid_key = "service/" + s.name + "/main_pid";
        const std::string restarts_key = "service/" + s.name + "/restarts";
        const pid_t main = up ? services::main_pid(s, *pids, processes) : 0;
        const auto prev_main = ctx.rates.record(pid_key, static_cast<std::uint64_t>(main));
        if (main == 0 && prev_main) ctx.rates.record(pid_key, *prev_main);
        const bool restarted = main != 0 && prev_main && *prev_main != 0 && *prev_main != static_cast<std::uint64_t>(main);
        const auto prev_restarts = ctx.rates.record(restarts_key, 0);
        const std::uint64_t restarts = prev_restarts.value_or(0) + (restarted ? 1 : 0);
        ctx.rates.record(restarts_key, restarts);
        out.add(SeriesKey("service_restarts_total", labels), static_cast<double>(restarts));

        if (!up) return;
        out.add(SeriesKey("service_rss_bytes", labels), static_cast<double>(usage.rss_bytes));
        if (usage.open_files) out.add(SeriesKey("service_open_files", labels), static_cast<double>(*usage.open_files));
        // GPU memory of the tree, when a GPU collector listed the processes using its GPUs
        // (NVML), or an amdgpu card is present (the processes' DRM fdinfo); a service with no
        // process among them holds 0.
        if (ctx.facts && (ctx.facts->gpu_memory_by_pid || ctx.facts->amd_gpus)) {
            std::uint64_t gpu_bytes = 0;
            if (const auto& by_pid = ctx.facts->gpu_memory_by_pid) {
                for (const pid_t pid : *pids) {
                    const auto it = by_pid->find(static_cast<std::uint32_t>(pid));
                    if (it != by_pid->end()) gpu_bytes += it->second;
                }
            }
            if (ctx.facts->amd_gpus) gpu_bytes += amdgpu_vram_of(ctx.root, *pids);
            out.add(SeriesKey("service_gpu_memory_bytes", labels), static_cast<double>(gpu_bytes));
        }
        // CPU percent of one CPU (a busy 4-thread server shows 400): the tree's jiffies per
        // second. A new main process brings its whole past CPU time: no rate that tick.
        const std::string cpu_key = "service/" + s.name + "/cpu_ticks";
        if (restarted) {
            ctx.rates.record(cpu_key, usage.cpu_ticks);
        } else if (const auto per_second = ctx.rates.rate(cpu_key, usage.cpu_ticks)) {
            out.add(SeriesKey("service_cpu_percent", labels), *per_second / ticks_per_second() * 100.0);
        }
    }

    void add_check(const CheckRef& ref, const CheckOutcome& o, Sample& out) {
        const std::string log_key = fmt::format("check/{}/{}", ref.service->name, ref.check->name);
        if (!o.ran) {
            // Skipped, not failed: a missing point is not a false "down".
            if (m_log.changed(log_key, "not run"))
                spdlog::warn("service {} check {}: not run, the tick's time ran out (too many slow checks)",
                             ref.service->name, ref.check->name);
            return;
        }
        const std::vector<Label> labels = {{"check", ref.check->name}, {"service", ref.service->name}};
        out.add(SeriesKey("check_up", labels), o.up ? 1 : 0);
        out.add(SeriesKey("check_latency_seconds", labels), o.latency_seconds);
        if (!o.up) {
            if (m_log.changed(log_key, o.detail))
                spdlog::warn("service {} check {} fails: {}", ref.service->name, ref.check->name, o.detail);
        } else if (m_log.clear(log_key)) {
            spdlog::info("service {} check {} passes again", ref.service->name, ref.check->name);
        }
    }

    static double ticks_per_second() {
        static const double hz = [] {
            const long v = sysconf(_SC_CLK_TCK);
            return v > 0 ? static_cast<double>(v) : 100.0;
        }();
        return hz;
    }

    ChangeFilter m_log;
    std::vector<std::string> m_check_cmdlines;  // this tick's command checks, as /proc shows them
};

}  // namespace

std::unique_ptr<Collector> make_services_collector(const Config&) { return std::make_unique<ServicesCollector>(); }

}  // namespace boxmon::collector
