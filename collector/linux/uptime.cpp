// The uptime collector: seconds since boot (/proc/uptime, which counts time suspended).

#include "collector/linux/parse_proc.hpp"
#include "collector/registry.hpp"

namespace boxmon::collector {

namespace {

class UptimeCollector final : public Collector {
public:
    std::string_view name() const override { return "uptime"; }

    Result<void> collect(CollectContext& ctx, Sample& out) override {
        auto text = ctx.root.read_proc("uptime", 4096);
        if (!text) return fail(std::move(text).error());
        auto up = kernel::parse_uptime(*text);
        if (!up) return fail("{}: {}", ctx.root.proc("uptime").string(), up.error().message);
        out.add(SeriesKey("uptime_seconds"), up->uptime_seconds);
        return ok();
    }
};

}  // namespace

std::unique_ptr<Collector> make_uptime_collector(const Config&) { return std::make_unique<UptimeCollector>(); }

}  // namespace boxmon::collector
