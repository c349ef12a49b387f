// A small program the store tests run as a child process:
//   store_test_helper commit DB N   commits N ticks of 60 series after the last stored one,
//                                   printing "tick <ms> committed" after each COMMIT returns
//                                   (the crash test SIGKILLs it at random moments, C1);
//   store_test_helper maintain DB NOW_MS RAW_HOURS
//                                   runs retention steps of 50 rows until done, printing
//                                   "step" after each (the test kills it mid-way, C5);
//   store_test_helper open-as-nobody DB
//                                   drops to uid/gid 65534 and opens DB, printing the error
//                                   (permission drift, S8).

#include <grp.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "store/store.hpp"

using namespace boxmon;

namespace {

int commit(const char* path, int n) {
    store::StoreOptions o;
    o.path = path;
    auto s = store::Store::open(o);
    if (!s) {
        std::fprintf(stderr, "open: %s\n", s.error().message.c_str());
        return 1;
    }
    auto last = (*s)->last_tick();
    if (!last) {
        std::fprintf(stderr, "last_tick: %s\n", last.error().message.c_str());
        return 1;
    }
    WallTime ts = last->value_or(from_unix_seconds(1'790'000'000));
    for (int i = 0; i < n; ++i) {
        ts += std::chrono::seconds(1);
        store::TickWrite t;
        t.sample.ts = ts;
        for (int k = 0; k < 60; ++k)
            t.sample.add(SeriesKey("m", {{"k", std::to_string(k)}}), k * 1.5 + i);
        CounterSnapshot c;
        c.boot_id = "boot";
        c.wall = ts;
        c.values["rx"] = static_cast<std::uint64_t>(i);
        t.counters = c;
        t.rule_states.push_back({"r", "m", std::to_string(i), ts});
        OutboxItem item;
        item.channel = "log";
        item.incident_id = "inc";
        item.idempotency_key = std::to_string(to_unix_ms(ts));
        item.kind = "firing";
        item.payload = "{}";
        item.created = ts;
        t.outbox.push_back(item);
        auto r = (*s)->commit_tick(t);
        if (!r) {
            std::fprintf(stderr, "commit: %s\n", r.error().message.c_str());
            return 1;
        }
        std::string line = "tick " + std::to_string(to_unix_ms(ts)) + " committed\n";
        if (::write(1, line.data(), line.size()) < 0) return 1;
    }
    return 0;
}

int maintain(const char* path, std::int64_t now_ms, int raw_hours) {
    store::StoreOptions o;
    o.path = path;
    o.retention_raw = std::chrono::hours(raw_hours);
    o.retention_5m = std::chrono::hours(2 * raw_hours);
    o.retention_1h = std::chrono::hours(4 * raw_hours);
    auto s = store::Store::open(o);
    if (!s) {
        std::fprintf(stderr, "open: %s\n", s.error().message.c_str());
        return 1;
    }
    for (;;) {
        auto r = (*s)->maintenance_step(from_unix_ms(now_ms), 50);
        if (!r) {
            std::fprintf(stderr, "maintenance: %s\n", r.error().message.c_str());
            return 1;
        }
        if (::write(1, "step\n", 5) < 0) return 1;
        if (!*r) return 0;
    }
}

int open_as_nobody(const char* path) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) {
        std::fprintf(stderr, "cannot drop privileges: %s\n", std::strerror(errno));
        return 3;
    }
    store::StoreOptions o;
    o.path = path;
    auto s = store::Store::open(o);
    if (!s) {
        std::fprintf(stderr, "%s\n", s.error().message.c_str());
        return 1;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 4 && std::strcmp(argv[1], "commit") == 0) return commit(argv[2], std::atoi(argv[3]));
    if (argc == 5 && std::strcmp(argv[1], "maintain") == 0)
        return maintain(argv[2], std::atoll(argv[3]), std::atoi(argv[4]));
    if (argc == 3 && std::strcmp(argv[1], "open-as-nobody") == 0) return open_as_nobody(argv[2]);
    std::fprintf(stderr, "usage: store_test_helper commit DB N | maintain DB NOW_MS RAW_HOURS | "
                         "open-as-nobody DB\n");
    return 2;
}
