// Render cost per notification per channel: a typical alert (30-point window, one 2-line log
// tail) and a huge one (10 logs x 20 lines of 4 KiB, 2,000-point window) that every receiver
// must cut to its limits.

#include <benchmark/benchmark.h>

#include <chrono>

#include <spdlog/spdlog.h>

#include "alerting/channels/channel_kit.hpp"
#include "alerting/channels/message.hpp"
#include "alerting/channels/render.hpp"

namespace {

using namespace boxmon;

Notification typical() {
    Notification n;
    n.incident_id = "inc-0001";
    n.sequence = 1;
    n.severity = Severity::critical;
    n.rule = "cpu_high";
    n.series = SeriesKey("cpu_percent");
    n.op = ">";
    n.value = 97.1;
    n.threshold = 90;
    n.for_samples = 3;
    n.at = from_unix_seconds(1'795'000'000);
    n.since = n.at - std::chrono::minutes(5);
    n.host = "web1";
    for (int i = 0; i < 30; ++i) n.window.push_back({n.at - std::chrono::minutes(30 - i), 50.0 + i});
    n.tails.push_back(LogTail{"syslog", "/var/log/syslog", {"kernel: something", "app: worker busy"}, ""});
    return n;
}

Notification huge() {
    Notification n = typical();
    n.tails.clear();
    for (int l = 0; l < 10; ++l) {
        LogTail t{"log" + std::to_string(l), "/var/log/app.log", {}, ""};
        for (int i = 0; i < 20; ++i) {
            std::string line = "é€ {} <!channel> @everyone ";
            while (line.size() < 4096) line += "ü€𝄞 abc";
            t.lines.push_back(line);
        }
        n.tails.push_back(t);
    }
    for (int i = 0; i < 2000; ++i) n.window.push_back({n.at, static_cast<double>(i % 100)});
    return n;
}

const Notification& pick(const benchmark::State& state) {
    static const Notification small = typical();
    static const Notification big = huge();
    return state.range(0) == 0 ? small : big;
}

void http_channel(benchmark::State& state, ChannelType type) {
    ChannelConfig c;
    c.name = "bench";
    c.type = type;
    c.url.value = Secret("https://hooks.example.org/T000/B000/XXXX");
    std::unique_ptr<alerting::Channel> ch;
    switch (type) {
        case ChannelType::slack: ch = alerting::detail::make_slack(c); break;
        case ChannelType::discord: ch = alerting::detail::make_discord(c); break;
        case ChannelType::webhook: ch = alerting::detail::make_webhook(c); break;
        default: ch = alerting::detail::make_alertmanager(c, std::chrono::minutes(4)); break;
    }
    spdlog::set_level(spdlog::level::off);  // the truncation WARN is not what is measured
    const auto& http = dynamic_cast<const alerting::detail::HttpChannel&>(*ch);
    const Notification& n = pick(state);
    for (auto _ : state) {
        auto p = http.payload(n);
        benchmark::DoNotOptimize(p.body.data());
    }
    state.SetLabel(state.range(0) == 0 ? "typical" : "huge");
}

void BM_render_slack(benchmark::State& s) { http_channel(s, ChannelType::slack); }
void BM_render_discord(benchmark::State& s) { http_channel(s, ChannelType::discord); }
void BM_render_webhook(benchmark::State& s) { http_channel(s, ChannelType::webhook); }
void BM_render_alertmanager(benchmark::State& s) { http_channel(s, ChannelType::alertmanager); }

void BM_render_email(benchmark::State& state) {
    const Notification& n = pick(state);
    for (auto _ : state) {
        auto m = alerting::detail::build_mail(n, "boxmon@example.org", {"ops@example.org"}, n.at);
        benchmark::DoNotOptimize(m.data());
    }
    state.SetLabel(state.range(0) == 0 ? "typical" : "huge");
}

void BM_render_text(benchmark::State& state) {
    const Notification& n = pick(state);
    for (auto _ : state) {
        auto s = alerting::render_subject(n) + alerting::render_body(n);
        benchmark::DoNotOptimize(s.data());
    }
    state.SetLabel(state.range(0) == 0 ? "typical" : "huge");
}

BENCHMARK(BM_render_text)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_render_email)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_render_slack)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_render_discord)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_render_webhook)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_render_alertmanager)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
