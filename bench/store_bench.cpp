// store benchmarks. Targets (issue 3, dev-2c): tick append <= 150 us CPU for the default set
// (fsync aside), a 30-day raw query <= 30 ms, 30 days of the default set < 40 MB.
//
//   BM_CommitTick/0   synchronous=OFF (the CPU cost of the write path)
//   BM_CommitTick/1   synchronous=FULL (what the daemon does; wall time includes the fsync)
//   BM_TickWithMaintenance  commit_tick + the maintenance step after it (synchronous=OFF), in
//                     the steady state: hours folded into chunks, chunks expiring (2 h raw)
//   BM_Query30DaysRaw, BM_Query1YearHourly, BM_Query180Days5m, BM_QueryMetric30Days
// The history is generated once per run (30 days at 60 s, then 335 days of rollups before it);
// the counters db_MB_after_30d and rows report its size.

#include <sys/stat.h>

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>

#include "bench/store_history.hpp"
#include "store/store.hpp"

namespace {

namespace fs = std::filesystem;
using namespace boxmon;

fs::path bench_dir() {
    static const fs::path dir = [] {
        const char* base = std::getenv("TMPDIR");
        std::string pattern = std::string(base && *base ? base : "/tmp") + "/boxmon-store-bench-XXXXXX";
        if (::mkdtemp(pattern.data()) == nullptr) std::abort();
        return fs::path(pattern);
    }();
    return dir;
}

// Google Benchmark calls a benchmark several times (growing iteration counts): each run starts
// on a new file, so no run re-writes the ticks of the one before.
void remove_db(const fs::path& db) {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db.string() + suffix, ec);
}

std::uintmax_t db_bytes(const fs::path& db) {
    std::uintmax_t total = 0;
    std::error_code ec;
    for (const char* suffix : {"", "-wal"}) {
        auto n = fs::file_size(db.string() + suffix, ec);
        if (!ec) total += n;
    }
    return total;
}

const WallTime kEnd = from_unix_seconds(1'795'000'020);  // a minute boundary, Nov 2026

struct History {
    fs::path db;
    double mb_after_30d = 0;
};

// 30 days of raw data (and its rollups) through commit_tick; the size is measured before the
// extra year of rollups is added.
const History& history() {
    static const History h = [] {
        History out;
        out.db = bench_dir() / "history.db";
        auto r = bench::generate_history(out.db, kEnd, 30, 0);
        if (!r) {
            std::fprintf(stderr, "generating history: %s\n", r.error().message.c_str());
            std::abort();
        }
        out.mb_after_30d = static_cast<double>(db_bytes(out.db)) / 1e6;
        return out;
    }();
    return h;
}

const fs::path& year_db() {
    static const fs::path db = [] {
        fs::path p = bench_dir() / "year.db";
        auto r = bench::generate_history(p, kEnd, 30, 335);
        if (!r) {
            std::fprintf(stderr, "generating a year: %s\n", r.error().message.c_str());
            std::abort();
        }
        return p;
    }();
    return db;
}

void BM_CommitTick(benchmark::State& state) {
    const bool fsync = state.range(0) != 0;
    const fs::path db = bench_dir() / (fsync ? "tick_full.db" : "tick_off.db");
    remove_db(db);
    store::StoreOptions o;
    o.path = db;
    o.unsafe_no_sync = !fsync;
    auto s = store::Store::open(o);
    if (!s) {
        state.SkipWithError(s.error().message.c_str());
        return;
    }
    std::int64_t i = 0;
    WallTime ts = kEnd;
    // Warm the series cache and the prepared statements, as a running daemon has them.
    (void)(*s)->commit_tick(bench::default_tick(ts, i++));
    for (auto _ : state) {
        state.PauseTiming();
        ts += std::chrono::minutes(1);
        store::TickWrite t = bench::default_tick(ts, i++);
        state.ResumeTiming();
        auto r = (*s)->commit_tick(t);
        if (!r) {
            state.SkipWithError(r.error().message.c_str());
            return;
        }
    }
    state.counters["series"] = static_cast<double>(bench::default_series().size());
}
BENCHMARK(BM_CommitTick)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->MeasureProcessCPUTime();

void BM_TickWithMaintenance(benchmark::State& state) {
    store::StoreOptions o;
    o.path = bench_dir() / "tick_maint.db";
    remove_db(o.path);
    o.unsafe_no_sync = true;
    o.retention_raw = std::chrono::hours(2);
    auto s = store::Store::open(o);
    if (!s) {
        state.SkipWithError(s.error().message.c_str());
        return;
    }
    std::int64_t i = 0;
    WallTime ts = kEnd;
    // Three hours first, so that every iteration is in the steady state.
    for (; i < 180; ++i, ts += std::chrono::minutes(1)) {
        (void)(*s)->commit_tick(bench::default_tick(ts, i));
        (void)(*s)->maintenance_step(ts);
    }
    for (auto _ : state) {
        state.PauseTiming();
        ts += std::chrono::minutes(1);
        store::TickWrite t = bench::default_tick(ts, i++);
        state.ResumeTiming();
        auto r = (*s)->commit_tick(t);
        if (r) {
            auto m = (*s)->maintenance_step(ts);
            if (!m) r = fail(std::move(m).error());
        }
        if (!r) {
            state.SkipWithError(r.error().message.c_str());
            return;
        }
    }
}
BENCHMARK(BM_TickWithMaintenance)->Unit(benchmark::kMicrosecond)->MeasureProcessCPUTime();

std::unique_ptr<store::Store> open_read(const fs::path& db) {
    store::StoreOptions o;
    o.path = db;
    o.read_only = true;
    auto s = store::Store::open(o);
    if (!s) {
        std::fprintf(stderr, "open %s: %s\n", db.c_str(), s.error().message.c_str());
        std::abort();
    }
    return std::move(*s);
}

void BM_Query30DaysRaw(benchmark::State& state) {
    const History& h = history();
    auto s = open_read(h.db);
    const SeriesKey key("cpu_percent");
    std::size_t n = 0;
    for (auto _ : state) {
        auto r = s->query(key, kEnd - std::chrono::hours(24 * 30), kEnd, store::Resolution::raw);
        n = r ? r->size() : 0;
        benchmark::DoNotOptimize(n);
    }
    state.counters["points"] = static_cast<double>(n);
    state.counters["db_MB_after_30d"] = h.mb_after_30d;
}
BENCHMARK(BM_Query30DaysRaw)->Unit(benchmark::kMillisecond);

void BM_QueryMetric30Days5m(benchmark::State& state) {
    auto s = open_read(history().db);
    std::size_t n = 0;
    for (auto _ : state) {
        auto r = s->query_metric("disk_used_percent", kEnd - std::chrono::hours(24 * 30), kEnd,
                                 store::Resolution::five_minutes);
        n = 0;
        if (r)
            for (const auto& [key, points] : *r) n += points.size();
        benchmark::DoNotOptimize(n);
    }
    state.counters["points"] = static_cast<double>(n);
}
BENCHMARK(BM_QueryMetric30Days5m)->Unit(benchmark::kMillisecond);

void BM_Query1YearHourly(benchmark::State& state) {
    auto s = open_read(year_db());
    const SeriesKey key("cpu_percent");
    std::size_t n = 0;
    for (auto _ : state) {
        auto r = s->query(key, kEnd - std::chrono::hours(24 * 365), kEnd, store::Resolution::one_hour);
        n = r ? r->size() : 0;
        benchmark::DoNotOptimize(n);
    }
    state.counters["points"] = static_cast<double>(n);
    state.counters["year_db_MB"] = static_cast<double>(db_bytes(year_db())) / 1e6;
}
BENCHMARK(BM_Query1YearHourly)->Unit(benchmark::kMillisecond);

void BM_Query180Days5m(benchmark::State& state) {
    auto s = open_read(year_db());
    const SeriesKey key("cpu_percent");
    std::size_t n = 0;
    for (auto _ : state) {
        auto r = s->query(key, kEnd - std::chrono::hours(24 * 180), kEnd, store::Resolution::five_minutes);
        n = r ? r->size() : 0;
        benchmark::DoNotOptimize(n);
    }
    state.counters["points"] = static_cast<double>(n);
}
BENCHMARK(BM_Query180Days5m)->Unit(benchmark::kMillisecond);

// One retention step of 2000 rows on a database one day past its raw retention.
void BM_MaintenanceStep(benchmark::State& state) {
    const fs::path db = bench_dir() / "maint.db";
    {
        auto r = bench::generate_history(db, kEnd, 2, 0);
        if (!r) {
            state.SkipWithError(r.error().message.c_str());
            return;
        }
    }
    store::StoreOptions o;
    o.path = db;
    o.retention_raw = std::chrono::hours(24);
    auto s = store::Store::open(o);
    if (!s) {
        state.SkipWithError(s.error().message.c_str());
        return;
    }
    for (auto _ : state) {
        auto r = (*s)->maintenance_step(kEnd, 2000);
        if (!r) {
            state.SkipWithError(r.error().message.c_str());
            return;
        }
    }
}
BENCHMARK(BM_MaintenanceStep)->Unit(benchmark::kMillisecond)->Iterations(20);

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    std::error_code ec;
    fs::remove_all(bench_dir(), ec);
    return 0;
}
