// store_retention_1s DB [days=3] [retention_days=2]: RELIABILITY L6, retention at a 1 s interval.
// Writes `days` of 1 s ticks of the default series set through the real write path (a commit
// and a maintenance step per tick, synchronous=OFF, a simulated clock), with raw retention of
// `retention_days`, and prints every 6 simulated hours: the file size, its free pages, the raw
// values held, and the CPU time per tick (commit + maintenance: p50, p99, max). Expected: the
// file stops growing once retention starts, the raw values converge to `retention_days` worth,
// and the per-tick cost stays flat.

#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include "bench/store_history.hpp"

namespace {

using namespace boxmon;

double thread_cpu_us() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_nsec) / 1e3;
}

long long scalar(sqlite3* c, const char* sql) {
    sqlite3_stmt* s = nullptr;
    long long v = -1;
    if (sqlite3_prepare_v2(c, sql, -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

double percentile(std::vector<double>& v, double q) {
    if (v.empty()) return 0;
    const auto k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: store_retention_1s DB [days=3] [retention_days=2]\n");
        return 2;
    }
    const std::filesystem::path db = argv[1];
    const int days = argc > 2 ? std::atoi(argv[2]) : 3;
    const int keep_days = argc > 3 ? std::atoi(argv[3]) : 2;
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db.string() + suffix);
    store::StoreOptions o;
    o.path = db;
    o.unsafe_no_sync = true;
    o.retention_raw = std::chrono::hours(24 * keep_days);
    auto opened = store::Store::open(o);
    if (!opened) {
        std::fprintf(stderr, "%s\n", opened.error().message.c_str());
        return 1;
    }
    auto& store = **opened;
    const std::int64_t ticks = static_cast<std::int64_t>(days) * 86'400;
    const WallTime start = WallTime(std::chrono::floor<std::chrono::hours>(std::chrono::system_clock::now())) -
                           std::chrono::seconds(ticks);
    const std::int64_t report_every = 6 * 3600;
    std::vector<double> costs;
    costs.reserve(static_cast<std::size_t>(report_every));
    std::printf("%8s %10s %10s %12s %9s %9s %9s\n", "hours", "file MiB", "free MiB", "raw values", "p50 us",
                "p99 us", "max us");
    for (std::int64_t i = 0; i < ticks; ++i) {
        const WallTime ts = start + std::chrono::seconds(i);
        const double t0 = thread_cpu_us();
        auto w = store.commit_tick(bench::default_tick(ts, i));
        auto m = w ? store.maintenance_step(ts) : Result<bool>(fail(w.error()));
        costs.push_back(thread_cpu_us() - t0);
        if (!m) {
            std::fprintf(stderr, "tick %lld: %s\n", static_cast<long long>(i), m.error().message.c_str());
            return 1;
        }
        if ((i + 1) % report_every != 0) continue;
        sqlite3* c = nullptr;
        sqlite3_open_v2(db.c_str(), &c, SQLITE_OPEN_READONLY, nullptr);
        const long long page = scalar(c, "PRAGMA page_size");
        const long long pages = scalar(c, "PRAGMA page_count");
        const long long free_pages = scalar(c, "PRAGMA freelist_count");
        const long long raw =
            scalar(c, "SELECT (SELECT coalesce(sum(n), 0) FROM sample_chunks) + "
                      "(SELECT count(*) FROM recent_samples, json_each(recent_samples.vals))");
        sqlite3_close(c);
        const double max = *std::max_element(costs.begin(), costs.end());
        std::printf("%8lld %10.1f %10.1f %12lld %9.0f %9.0f %9.0f\n", static_cast<long long>((i + 1) / 3600),
                    static_cast<double>(pages * page) / 1048576.0, static_cast<double>(free_pages * page) / 1048576.0,
                    raw, percentile(costs, 0.5), percentile(costs, 0.99), max);
        std::fflush(stdout);
        costs.clear();
    }
    return 0;
}
