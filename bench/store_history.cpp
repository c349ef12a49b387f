#include "bench/store_history.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cmath>

namespace boxmon::bench {

std::vector<SeriesKey> default_series() {
    std::vector<SeriesKey> s;
    for (const char* m : {"cpu_percent", "cpu_iowait_percent", "cpu_steal_percent", "cpu_count",
                          "load1", "load5", "load15", "mem_used_percent", "mem_used_bytes",
                          "mem_available_bytes", "mem_total_bytes", "swap_used_percent",
                          "swap_used_bytes", "swap_total_bytes", "pressure_cpu_some_percent",
                          "pressure_io_some_percent", "pressure_io_full_percent",
                          "pressure_memory_some_percent", "pressure_memory_full_percent",
                          "uptime_seconds", "gpu_util"})
        s.emplace_back(m);
    for (const char* cpu : {"0", "1"}) s.emplace_back("cpu_percent", std::vector<Label>{{"cpu", cpu}});
    for (const char* mount : {"/", "/boot", "/home"})
        for (const char* m : {"disk_used_percent", "disk_avail_bytes", "disk_size_bytes",
                              "disk_inodes_used_percent"})
            s.emplace_back(m, std::vector<Label>{{"mount", mount}});
    for (const char* dev : {"sda", "nvme0n1"})
        for (const char* m : {"disk_read_bytes_per_second", "disk_write_bytes_per_second",
                              "disk_reads_per_second", "disk_writes_per_second", "disk_busy_percent"})
            s.emplace_back(m, std::vector<Label>{{"device", dev}});
    for (const char* iface : {"eth0", "wlan0"})
        for (const char* m : {"net_rx_bytes_per_second", "net_tx_bytes_per_second",
                              "net_rx_errors_per_second", "net_tx_errors_per_second",
                              "net_rx_drops_per_second", "net_tx_drops_per_second"})
            s.emplace_back(m, std::vector<Label>{{"interface", iface}});
    for (const char* zone : {"cpu", "acpitz", "nvme"})
        s.emplace_back("temperature_celsius", std::vector<Label>{{"zone", zone}});
    return s;
}

namespace {

// A smooth, deterministic value per (series index, tick index): realistic decimals, some
// integral series (sizes, counts) like the real collectors produce.
double value_for(std::size_t k, std::int64_t i) {
    const double x = static_cast<double>(i);
    const double wave = std::sin(x / (30.0 + static_cast<double>(k))) * 0.5 + 0.5;
    switch (k % 4) {
        case 0: return 100.0 * wave * (0.9 + 0.1 * std::cos(x * 0.7));  // a percentage
        case 1: return std::floor(8.0e9 * wave);                          // bytes, integral
        case 2: return 1.0e6 * wave + std::fmod(x * 37.31, 1000.0);       // a rate
        default: return 40.0 + 20.0 * wave;                               // degrees, load
    }
}

}  // namespace

store::TickWrite default_tick(WallTime ts, std::int64_t i) {
    static const std::vector<SeriesKey> keys = default_series();
    store::TickWrite t;
    t.sample.ts = ts;
    t.sample.points.reserve(keys.size());
    for (std::size_t k = 0; k < keys.size(); ++k) t.sample.add(keys[k], value_for(k, i));
    for (const char* c : {"cpu", "memory", "disk", "net", "pressure", "thermal", "gpu"})
        t.sample.collectors.push_back({c, true, std::chrono::microseconds(50), ""});
    return t;
}

Result<void> generate_history(const std::filesystem::path& db, WallTime end, int raw_days,
                              int rollup_days) {
    store::StoreOptions o;
    o.path = db;
    o.unsafe_no_sync = true;
    o.retention_raw = std::chrono::hours(24 * (raw_days + 1));
    o.retention_5m = std::chrono::hours(24 * (raw_days + rollup_days + 1));
    o.retention_1h = std::chrono::hours(24 * (raw_days + rollup_days + 1));
    const std::int64_t ticks = static_cast<std::int64_t>(raw_days) * 24 * 60;
    const WallTime start = end - std::chrono::minutes(ticks - 1);
    {
        BOXMON_TRY(store, store::Store::open(o));
        // One maintenance step after each tick, as the daemon runs them: completed hours are
        // folded into chunk rows and get their hourly rollups.
        for (std::int64_t i = 0; i < ticks; ++i) {
            const WallTime ts = start + std::chrono::minutes(i);
            BOXMON_CHECK(store->commit_tick(default_tick(ts, i)));
            BOXMON_CHECK(store->maintenance_step(ts));
        }
    }
    if (rollup_days <= 0) return ok();

    // Older rollups, as the raw data would have produced them before retention removed it.
    sqlite3* c = nullptr;
    if (sqlite3_open(db.c_str(), &c) != SQLITE_OK) {
        sqlite3_close(c);
        return fail("cannot open {} to add rollups", db.string());
    }
    sqlite3_exec(c, "PRAGMA synchronous=OFF; BEGIN", nullptr, nullptr, nullptr);
    const std::int64_t n_series = static_cast<std::int64_t>(default_series().size());
    for (const auto& [table, step_min] : {std::pair{"rollup_5m", 5}, std::pair{"rollup_1h", 60}}) {
        const std::string sql = fmt::format(
            "INSERT OR IGNORE INTO {}(series_id, bucket_ts, min, avg, max, count) "
            "VALUES(?1, ?2, ?3, ?4, ?5, ?6)", table);
        sqlite3_stmt* s = nullptr;
        sqlite3_prepare_v2(c, sql.c_str(), -1, &s, nullptr);
        // 5-minute rollups are kept 180 days by default: 150 days before the raw window.
        const int days = step_min == 5 ? std::min(rollup_days, 150) : rollup_days;
        const std::int64_t buckets = static_cast<std::int64_t>(days) * 24 * 60 / step_min;
        const std::int64_t step_ms = step_min * 60'000;
        const std::int64_t first = (to_unix_ms(start) / step_ms - buckets) * step_ms;
        for (std::int64_t b = 0; b < buckets; ++b) {
            for (std::int64_t id = 1; id <= n_series; ++id) {
                const double v = value_for(static_cast<std::size_t>(id - 1), b * step_min);
                sqlite3_bind_int64(s, 1, id);
                sqlite3_bind_int64(s, 2, first + b * step_ms);
                sqlite3_bind_double(s, 3, v * 0.9);
                sqlite3_bind_double(s, 4, v);
                sqlite3_bind_double(s, 5, v * 1.1);
                sqlite3_bind_int64(s, 6, step_min);
                sqlite3_step(s);
                sqlite3_reset(s);
            }
        }
        sqlite3_finalize(s);
    }
    const int rc = sqlite3_exec(c, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
    sqlite3_close(c);
    if (rc != SQLITE_OK) return fail("cannot add rollups to {}", db.string());
    return ok();
}

}  // namespace boxmon::bench
