#include "collector/collector_set.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>

#include <spdlog/spdlog.h>

#include "collector/registry.hpp"

namespace boxmon::collector {

std::string read_boot_id(const RootFs& root) {
    auto text = root.read_proc("sys/kernel/random/boot_id", 256);
    if (!text) return "";
    std::string id = *text;
    while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
    return id;
}

CollectorSet::CollectorSet(const Config& config) : m_config(config) {
    for (const auto& entry : registry()) {
        if (!entry.enabled_by_default || !config.collector_enabled(entry.name)) continue;
        if (auto c = entry.make(config)) m_collectors.push_back(std::move(c));
    }
}

CollectorSet::~CollectorSet() = default;

std::vector<std::string> CollectorSet::names() const {
    std::vector<std::string> out;
    for (const auto& c : m_collectors) out.emplace_back(c->name());
    return out;
}

CollectionPass CollectorSet::collect(const RootFs& root, const Instant& now, WallTime ts,
                                     const CounterSnapshot* previous) {
    CollectionPass pass;
    pass.sample.ts = ts;
    pass.sample.taken = now;
    RateTracker rates(previous, read_boot_id(root), now.boottime, now.wall, m_config.general.interval);
    PassFacts facts;
    CollectContext ctx{root, m_config, now, rates, &facts};
    for (auto& c : m_collectors) {
        CollectorStatus status;
        status.name = std::string(c->name());
        const std::size_t first_point = pass.sample.points.size();
        const auto start = std::chrono::steady_clock::now();
        try {
            auto r = c->collect(ctx, pass.sample);
            if (!r) {
                status.ok = false;
                status.error = r.error().message;
            }
        } catch (const std::exception& e) {
            status.ok = false;
            status.error = fmt::format("collector {} threw: {}", status.name, e.what());
        } catch (...) {
            status.ok = false;
            status.error = fmt::format("collector {} threw an unknown exception", status.name);
        }
        status.duration = std::chrono::duration_cast<std::chrono::microseconds>(
            std::chrono::steady_clock::now() - start);
        // Never store NaN or infinity: drop them here, once, for every collector.
        auto& pts = pass.sample.points;
        pts.erase(std::remove_if(pts.begin() + static_cast<std::ptrdiff_t>(first_point), pts.end(),
                                 [](const Point& p) { return !std::isfinite(p.value); }),
                  pts.end());
        if (!status.ok) {
            if (m_failures.changed(status.name, status.error))
                spdlog::warn("collector {}: {}", status.name, status.error);
        } else if (m_failures.clear(status.name)) {
            spdlog::info("collector {} recovered", status.name);
        }
        pass.sample.collectors.push_back(std::move(status));
    }
    pass.counters = rates.take_snapshot();
    return pass;
}

}  // namespace boxmon::collector
