// store_history_gen DB [raw_days] [rollup_days]: writes generated history for the default
// series set, ending now, so `boxmon status/query/export` and sqlite3 have something to read.

#include <cstdio>
#include <cstdlib>

#include "bench/store_history.hpp"

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: store_history_gen DB [raw_days=30] [rollup_days=0]\n");
        return 2;
    }
    const int raw_days = argc > 2 ? std::atoi(argv[2]) : 30;
    const int rollup_days = argc > 3 ? std::atoi(argv[3]) : 0;
    const auto now = std::chrono::floor<std::chrono::minutes>(std::chrono::system_clock::now());
    auto r = boxmon::bench::generate_history(argv[1], boxmon::WallTime(now), raw_days, rollup_days);
    if (!r) {
        std::fprintf(stderr, "%s\n", r.error().message.c_str());
        return 1;
    }
    return 0;
}
