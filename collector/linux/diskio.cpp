// The diskio collector: bytes and operations per second, and the busy share, of each whole
// block device in /proc/diskstats. Partitions are left out (their I/O is already in their disk),
// and so are loop, RAM and zram devices (not disk I/O). Every rate comes from RateTracker.

#include <algorithm>
#include <unordered_set>

#include "collector/linux/parse_diskstats.hpp"
#include "collector/registry.hpp"

namespace boxmon::collector {

namespace {

using kernel::DiskStats;

bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Without /sys/block (a fixture tree or a sandbox without /sys), a device is taken for a
// partition when another device's name plus digits (sda1) or "p" and digits (nvme0n1p1) names it.
bool looks_like_partition(const std::string& name, const std::vector<DiskStats>& all) {
    for (const auto& d : all) {
        if (d.name.size() >= name.size() || !name.starts_with(d.name)) continue;
        std::string_view rest(name);
        rest.remove_prefix(d.name.size());
        if (all_digits(rest) || (rest.size() > 1 && rest[0] == 'p' && all_digits(rest.substr(1)))) return true;
    }
    return false;
}

class DiskioCollector final : public Collector {
public:
    std::string_view name() const override { return "diskio"; }

    Result<void> collect(CollectContext& ctx, Sample& out) override {
        auto text = ctx.root.read_proc("diskstats");
        if (!text) return fail(std::move(text).error());
        auto parsed = kernel::parse_diskstats(*text);
        if (!parsed) return fail("{}: {}", ctx.root.proc("diskstats").string(), parsed.error().message);

        // Whole devices are the entries of /sys/block ('/' in a name is '!' there: cciss!c0d0).
        std::unordered_set<std::string> whole;
        auto block = list_dir(ctx.root.sys("block"));
        if (block) whole.insert(block->begin(), block->end());

        for (const auto& d : parsed->devices) {
            if (kernel::is_memory_or_loop_device(d.name)) continue;
            if (block) {
                std::string sys_name = d.name;
                std::replace(sys_name.begin(), sys_name.end(), '/', '!');
                if (!whole.contains(sys_name)) continue;
            } else if (looks_like_partition(d.name, parsed->devices)) {
                continue;
            }
            add_rates(ctx.rates, out, d);
        }
        if (!parsed->problems.empty())
            return fail("{}: {}{}; the other devices were read", ctx.root.proc("diskstats").string(),
                        parsed->problems.front(),
                        parsed->problems.size() > 1 ? fmt::format(" (and {} more)", parsed->problems.size() - 1)
                                                    : std::string());
        return ok();
    }

private:
    static void add_rates(RateTracker& rates, Sample& out, const DiskStats& d) {
        const auto key = [&](const char* what) { return fmt::format("disk/{}/{}", d.name, what); };
        const auto series = [&](const char* metric) { return SeriesKey(metric, {{"device", d.name}}); };
        constexpr double sector = static_cast<double>(kernel::k_diskstats_sector_bytes);
        if (const auto r = rates.rate(key("sectors_read"), d.sectors_read))
            out.add(series("disk_read_bytes_per_second"), *r * sector);
        if (const auto r = rates.rate(key("sectors_written"), d.sectors_written))
            out.add(series("disk_write_bytes_per_second"), *r * sector);
        if (const auto r = rates.rate(key("reads"), d.reads)) out.add(series("disk_reads_per_second"), *r);
        if (const auto r = rates.rate(key("writes"), d.writes)) out.add(series("disk_writes_per_second"), *r);
        // Milliseconds busy per second, as a percentage; the kernel can count a little over the
        // elapsed time when a tick lands mid-update, hence the clamp.
        if (d.io_ms) {
            if (const auto r = rates.rate(key("io_ms"), *d.io_ms))
                out.add(series("disk_busy_percent"), std::clamp(*r / 10.0, 0.0, 100.0));
        }
    }
};

}  // namespace

std::unique_ptr<Collector> make_diskio_collector(const Config&) { return std::make_unique<DiskioCollector>(); }

}  // namespace boxmon::collector
