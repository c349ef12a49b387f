#include "agent/render.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/metric_format.hpp"
#include "core/text.hpp"

namespace boxmon::agent {

nlohmann::json sample_to_json(const Sample& sample) {
    nlohmann::json points = nlohmann::json::array();
    for (const auto& p : sample.points) {
        nlohmann::json labels = nlohmann::json::object();
        for (const auto& l : p.key.labels()) labels[l.name] = l.value;
        points.push_back({{"series", p.key.to_string()},
                          {"name", p.key.name()},
                          {"labels", std::move(labels)},
                          {"value", p.value}});
    }
    nlohmann::json collectors = nlohmann::json::array();
    for (const auto& c : sample.collectors) {
        nlohmann::json j = {{"name", c.name}, {"ok", c.ok}, {"duration_us", c.duration.count()}};
        if (!c.ok) j["error"] = c.error;
        collectors.push_back(std::move(j));
    }
    return {{"ts", format_iso8601(sample.ts)}, {"points", std::move(points)}, {"collectors", std::move(collectors)}};
}

std::string render_sample_table(const Sample& sample) {
    std::vector<const Point*> sorted;
    sorted.reserve(sample.points.size());
    for (const auto& p : sample.points) sorted.push_back(&p);
    std::sort(sorted.begin(), sorted.end(), [](const Point* a, const Point* b) { return a->key < b->key; });
    std::size_t width = 6;
    std::vector<std::string> names;
    names.reserve(sorted.size());
    for (const auto* p : sorted) {
        names.push_back(printable(p->key.to_string()));
        width = std::max(width, names.back().size());
    }
    std::string out = fmt::format("sample at {}\n{:<{}}  {}\n", format_iso8601(sample.ts), "SERIES", width, "VALUE");
    for (std::size_t i = 0; i < sorted.size(); ++i)
        out += fmt::format("{:<{}}  {}\n", names[i], width,
                           format_metric_value(sorted[i]->key.name(), sorted[i]->value));
    for (const auto& c : sample.collectors)
        if (!c.ok) out += fmt::format("collector {} failed: {}\n", c.name, printable(c.error));
    return out;
}

}  // namespace boxmon::agent
