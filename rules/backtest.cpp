#include "rules/backtest.hpp"

#include <algorithm>
#include <unordered_map>

namespace boxmon::rules {

BacktestResult backtest(std::vector<RuleConfig> rules, const std::vector<BacktestTick>& ticks,
                        const BacktestOptions& options) {
    BacktestResult result;
    Engine engine(std::move(rules));
    result.errors = engine.restore(options.initial_states);

    std::unordered_map<std::string, std::size_t> incident_index;  // id -> position in result
    TickContext ctx;
    ctx.boot_id = "backtest";
    ctx.interval = options.interval;
    ctx.host = options.host;
    for (const BacktestTick& tick : ticks) {
        ctx.ts = tick.sample.ts;
        ctx.boottime = std::chrono::duration_cast<Nanos>(tick.sample.ts.time_since_epoch());
        Evaluation ev = engine.evaluate(tick.sample, ctx, tick.gap_before);
        ++result.ticks;
        for (Incident& inc : ev.incidents) {
            auto [it, inserted] = incident_index.try_emplace(inc.id, result.incidents.size());
            if (inserted) {
                result.incidents.push_back(std::move(inc));
            } else {
                result.incidents[it->second] = std::move(inc);
            }
        }
        for (Notification& n : ev.notifications) result.notifications.push_back(std::move(n));
        for (Decision& d : ev.decisions) result.decisions.push_back({tick.sample.ts, std::move(d)});
    }
    std::stable_sort(result.incidents.begin(), result.incidents.end(),
                     [](const Incident& a, const Incident& b) { return a.start < b.start; });
    return result;
}

std::vector<BacktestTick> group_into_ticks(const std::vector<std::pair<WallTime, bool>>& ticks,
                                           std::vector<SeriesHistory> series) {
    std::sort(series.begin(), series.end(),
              [](const SeriesHistory& a, const SeriesHistory& b) { return a.key < b.key; });
    std::vector<std::size_t> cursor(series.size(), 0);
    std::vector<BacktestTick> out;
    out.reserve(ticks.size());
    for (const auto& [ts, gap] : ticks) {
        BacktestTick tick;
        tick.sample.ts = ts;
        tick.gap_before = gap;
        for (std::size_t i = 0; i < series.size(); ++i) {
            const auto& points = series[i].points;
            std::size_t& c = cursor[i];
            while (c < points.size() && points[c].first < ts) ++c;
            if (c < points.size() && points[c].first == ts) tick.sample.add(series[i].key, points[c].second);
        }
        out.push_back(std::move(tick));
    }
    return out;
}

}  // namespace boxmon::rules
