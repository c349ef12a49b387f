// The network collector: bytes, errors and drops per second for each interface of
// /proc/net/dev, and their total over the host's physical interfaces (what the built-in
// net_rx_high/net_tx_high rules watch through iface=""). Every rate comes from RateTracker, so
// a wrapped or reset counter, a new interface or a new boot gives no rate for that tick.

#include <fnmatch.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <system_error>

#include "collector/linux/parse_net.hpp"
#include "collector/registry.hpp"

namespace boxmon::collector {

namespace {

using kernel::NetDevCounters;

struct Counter {
    const char* key;     // the RateTracker key suffix
    const char* metric;  // the series name
    std::uint64_t NetDevCounters::*field;
};

constexpr std::array<Counter, 6> k_counters = {{
    {"rx_bytes", "net_rx_bytes_per_second", &NetDevCounters::rx_bytes},
    {"tx_bytes", "net_tx_bytes_per_second", &NetDevCounters::tx_bytes},
    {"rx_errors", "net_rx_errors_per_second", &NetDevCounters::rx_errors},
    {"tx_errors", "net_tx_errors_per_second", &NetDevCounters::tx_errors},
    {"rx_drops", "net_rx_drops_per_second", &NetDevCounters::rx_drops},
    {"tx_drops", "net_tx_drops_per_second", &NetDevCounters::tx_drops},
}};

class NetworkCollector final : public Collector {
public:
    explicit NetworkCollector(const Config& config) : m_exclude(config.collectors.exclude_interfaces) {}

    std::string_view name() const override { return "network"; }

    Result<void> collect(CollectContext& ctx, Sample& out) override {
        auto text = ctx.root.read_proc("net/dev");
        if (!text) return fail(std::move(text).error());
        auto parsed = kernel::parse_net_dev(*text);
        if (!parsed) return fail("{}: {}", ctx.root.proc("net/dev").string(), parsed.error().message);

        std::vector<const NetDevCounters*> ifaces;
        for (const auto& c : parsed->interfaces)
            if (!excluded(c.name)) ifaces.push_back(&c);
        const auto in_total = counted_in_total(ctx.root, ifaces);

        // A total is only written when every counted interface gave a rate: a wrapped counter or
        // a new interface would otherwise make it silently low. A vanished interface is simply
        // not there any more.
        std::array<double, k_counters.size()> total{};
        std::array<bool, k_counters.size()> total_ok{};
        total_ok.fill(parsed->problems.empty());
        for (std::size_t i = 0; i < ifaces.size(); ++i) {
            const auto& c = *ifaces[i];
            for (std::size_t k = 0; k < k_counters.size(); ++k) {
                const auto& ctr = k_counters[k];
                const auto r = ctx.rates.rate(fmt::format("net/{}/{}", c.name, ctr.key), c.*ctr.field);
                if (r) out.add(SeriesKey(ctr.metric, {{"iface", c.name}}), *r);
                if (!in_total[i]) continue;
                if (r)
                    total[k] += *r;
                else
                    total_ok[k] = false;
            }
        }
        const bool any_counted = std::find(in_total.begin(), in_total.end(), true) != in_total.end();
        for (std::size_t k = 0; k < k_counters.size(); ++k)
            if (any_counted && total_ok[k]) out.add(SeriesKey(k_counters[k].metric), total[k]);

        if (!parsed->problems.empty())
            return fail("{}: {}{}; other interfaces were read, totals skipped", ctx.root.proc("net/dev").string(),
                        parsed->problems.front(),
                        parsed->problems.size() > 1 ? fmt::format(" (and {} more)", parsed->problems.size() - 1)
                                                    : std::string());
        return ok();
    }

private:
    bool excluded(const std::string& iface) const {
        for (const auto& p : m_exclude)
            if (::fnmatch(p.c_str(), iface.c_str(), 0) == 0) return true;
        return false;
    }

    // Which interfaces the total counts. Not loopback; and where sysfs shows any interface backed
    // by a device (a NIC, a virtio or wifi adapter), only those: bridges, bonds, veths, VLANs,
    // tunnels and ifb carry traffic that already crossed a physical interface, and adding them
    // would count it two or three times on a Docker host. Without any such interface (inside a
    // container, whose eth0 is a veth) every non-loopback interface counts.
    static std::vector<bool> counted_in_total(const RootFs& root, const std::vector<const NetDevCounters*>& ifaces) {
        std::vector<bool> physical(ifaces.size(), false);
        bool any_physical = false;
        for (std::size_t i = 0; i < ifaces.size(); ++i) {
            if (ifaces[i]->name == "lo") continue;
            std::error_code ec;
            physical[i] = std::filesystem::exists(root.sys(fmt::format("class/net/{}/device", ifaces[i]->name)), ec);
            any_physical = any_physical || physical[i];
        }
        std::vector<bool> out(ifaces.size(), false);
        for (std::size_t i = 0; i < ifaces.size(); ++i)
            out[i] = ifaces[i]->name != "lo" && (!any_physical || physical[i]);
        return out;
    }

    std::vector<std::string> m_exclude;
};

}  // namespace

std::unique_ptr<Collector> make_network_collector(const Config& config) {
    return std::make_unique<NetworkCollector>(config);
}

}  // namespace boxmon::collector
