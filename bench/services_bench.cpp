// Cost of one services-collector tick on the live /proc: 20 services found by command-line
// match and unit, with and without 20 health checks (10 HTTP, 10 TCP) against a small HTTP
// server on 127.0.0.1 inside this process.

#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "collector/registry.hpp"
#include "collector/services/processes.hpp"

namespace {

using namespace boxmon;
using namespace boxmon::collector;

// Answers every connection with a tiny 200 and closes it; one thread is plenty for 20 checks.
class LocalServer {
public:
    LocalServer() {
        m_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const int one = 1;
        setsockopt(m_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(m_fd, 128) != 0) return;
        socklen_t len = sizeof addr;
        getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &len);
        m_port = ntohs(addr.sin_port);
        m_thread = std::thread([this] { serve(); });
    }
    ~LocalServer() {
        m_stop = true;
        shutdown(m_fd, SHUT_RDWR);
        close(m_fd);
        if (m_thread.joinable()) m_thread.join();
    }
    int port() const { return m_port; }

private:
    void serve() {
        static constexpr std::string_view k_answer =
            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n";
        while (!m_stop) {
            const int c = accept4(m_fd, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0) continue;
            std::string got;
            char buf[2048];
            while (got.find("\r\n\r\n") == std::string::npos) {
                const ssize_t n = read(c, buf, sizeof buf);
                if (n <= 0) break;
                got.append(buf, static_cast<std::size_t>(n));
            }
            if (!got.empty()) (void)!write(c, k_answer.data(), k_answer.size());
            close(c);
        }
    }
    int m_fd = -1;
    int m_port = 0;
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
};

Config bench_config(int port, bool with_checks) {
    Config c;
    c.general.interval = std::chrono::seconds(10);
    for (int i = 0; i < 20; ++i) {
        ServiceConfig s;
        s.name = fmt::format("svc{}", i);
        // Half find this benchmark itself (a live process tree), half look for absent things.
        if (i % 4 == 0) s.match = "services_bench";
        else if (i % 4 == 1) s.match = fmt::format("absent-program-{}", i);
        else if (i % 4 == 2) s.unit = "boxmon-bench-absent.service";
        else s.unit = "init.scope";
        if (with_checks) {
            CheckConfig ch;
            ch.name = "health";
            ch.timeout = std::chrono::seconds(2);
            if (i % 2 == 0) {
                ch.type = CheckConfig::Type::http;
                ch.url = fmt::format("http://127.0.0.1:{}/health", port);
            } else {
                ch.type = CheckConfig::Type::tcp;
                ch.address = fmt::format("127.0.0.1:{}", port);
            }
            s.checks.push_back(ch);
        }
        c.services.push_back(s);
    }
    return c;
}

void run_ticks(benchmark::State& state, bool with_checks) {
    LocalServer server;
    const Config config = bench_config(server.port(), with_checks);
    const RootFs root;
    auto collector = make_services_collector(config);
    std::optional<CounterSnapshot> previous;
    std::size_t points = 0;
    for (auto _ : state) {
        const auto mono = std::chrono::duration_cast<Nanos>(std::chrono::steady_clock::now().time_since_epoch());
        RateTracker rates(previous ? &*previous : nullptr, "bench", mono, WallTime{}, config.general.interval);
        CollectContext ctx{root, config, Instant{WallTime{}, mono, mono}, rates};
        Sample out;
        auto r = collector->collect(ctx, out);
        if (!r) state.SkipWithError(r.error().message.c_str());
        points = out.points.size();
        previous = rates.take_snapshot();
    }
    state.counters["points"] = static_cast<double>(points);
}

void BM_services_tick_20_services(benchmark::State& state) { run_ticks(state, false); }
BENCHMARK(BM_services_tick_20_services)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_services_tick_20_services_20_checks(benchmark::State& state) { run_ticks(state, true); }
BENCHMARK(BM_services_tick_20_services_20_checks)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_scan_processes_live(benchmark::State& state) {
    const RootFs root;
    std::size_t n = 0;
    for (auto _ : state) {
        auto r = services::scan_processes(root, {true, true});
        if (r) n = r->size();
        benchmark::DoNotOptimize(r);
    }
    state.counters["processes"] = static_cast<double>(n);
}
BENCHMARK(BM_scan_processes_live)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
