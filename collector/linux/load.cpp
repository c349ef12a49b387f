// The load collector: the kernel's load averages over 1, 5 and 15 minutes (/proc/loadavg).

#include "collector/linux/parse_proc.hpp"
#include "collector/registry.hpp"

namespace boxmon::collector {

namespace {

class LoadCollector final : public Collector {
public:
    std::string_view name() const override { return "load"; }

    Result<void> collect(CollectContext& ctx, Sample& out) override {
        auto text = ctx.root.read_proc("loadavg", 4096);
        if (!text) return fail(std::move(text).error());
        auto load = kernel::parse_loadavg(*text);
        if (!load) return fail("{}: {}", ctx.root.proc("loadavg").string(), load.error().message);
        out.add(SeriesKey("load1"), load->load1);
        out.add(SeriesKey("load5"), load->load5);
        out.add(SeriesKey("load15"), load->load15);
        return ok();
    }
};

}  // namespace

std::unique_ptr<Collector> make_load_collector(const Config&) { return std::make_unique<LoadCollector>(); }

}  // namespace boxmon::collector
