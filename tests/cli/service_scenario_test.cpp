// The services issue's "done when", end to end: `boxmon run` watches a real HTTP service on
// loopback; stopping it yields, within three samples, one critical alert carrying the service's
// log tail (its failing health check is inhibited, not a second alert), and starting it again
// yields one resolution. The alert goes to a webhook receiver on loopback.
#include <signal.h>

#include <gtest/gtest.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tests/servers/http_receiver.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// A small HTTP server standing in for the chat model: answers /health, logs each request to
// `log` (with a marker the alert must carry), and carries `token` on its command line.
std::unique_ptr<test::Process> start_chat(const std::string& token, const std::filesystem::path& log, int port) {
    const std::string code =
        "import http.server, sys\n"
        "log = open(sys.argv[2], 'a', buffering=1)\n"
        "log.write('chat server starting on port ' + sys.argv[3] + '\\n')\n"
        "class H(http.server.BaseHTTPRequestHandler):\n"
        "    def do_GET(self):\n"
        "        self.send_response(200); self.end_headers(); self.wfile.write(b'ok')\n"
        "        log.write('chat served ' + self.path + '\\n')\n"
        "    def log_message(self, *a): pass\n"
        "http.server.HTTPServer.allow_reuse_address = True\n"
        "s = http.server.HTTPServer(('127.0.0.1', int(sys.argv[3])), H)\n"
        "print('ready', flush=True)\n"
        "s.serve_forever()\n";
    auto p = std::make_unique<test::Process>(
        std::vector<std::string>{test::python3(), "-c", code, token, log.string(), std::to_string(port)});
    EXPECT_TRUE(p->wait_for_out("ready", 20s)) << "the chat server did not start: " << p->err();
    return p;
}

// The boxmon payloads the receiver got, in order.
std::vector<json> alerts_of(const test::HttpReceiver& receiver) {
    std::vector<json> out;
    for (const auto& r : receiver.requests()) {
        auto j = json::parse(r.body, nullptr, false);
        if (!j.is_discarded() && j.contains("boxmon")) out.push_back(j["boxmon"]);
    }
    return out;
}

TEST(ServiceScenario, stopping_a_watched_http_service_alerts_once_with_its_log_and_starting_it_resolves_once) {
    test::TempDir dir;
    test::HttpReceiver receiver;
    ASSERT_TRUE(receiver.valid());
    const std::string token = fmt::format("boxmon-chat-scenario-{}", ::getpid());
    const auto log = dir / "chat.log";
    const int port = test::free_port();
    auto chat = start_chat(token, log, port);

    const std::string config = fmt::format(
        "[general]\ninterval = \"1s\"\n"
        "[collectors]\ndisable = [\"gpu_nvidia\", \"gpu_amd\", \"temperature\"]\n"
        "[rule_defaults]\nbuiltin = false\n"  // the host's own CPU or disk must not alert here
        "[alerting]\nretry_min = \"1s\"\nretry_max = \"2s\"\n"
        "[logs]\nchat = \"{}\"\n"
        "[[services]]\nname = \"chat\"\nmatch = \"{}\"\nlogs = [\"chat\"]\n"
        "[[services.checks]]\nname = \"health\"\ntype = \"http\"\nurl = \"http://127.0.0.1:{}/health\"\n"
        "timeout = \"1s\"\n"
        "[[channels]]\nname = \"hook\"\ntype = \"webhook\"\nurl = \"{}\"\n",
        log.string(), token, port, receiver.url("/hook"));
    test::write_file(dir / "boxmon.toml", config, 0600);
    const std::vector<std::string> base = {test::boxmon_binary().string(), "--config", (dir / "boxmon.toml").string(),
                                           "--state-dir", (dir / "state").string()};
    auto with = [&](std::vector<std::string> rest) {
        auto a = base;
        a.insert(a.end(), rest.begin(), rest.end());
        return a;
    };
    auto status = [&]() -> json {
        auto r = test::run_process(with({"status", "--json"}));
        auto j = json::parse(r.out, nullptr, false);
        return j.is_discarded() ? json() : j;
    };

    test::Process run(with({"run"}));
    // Healthy for a few samples: the service is seen up and the check passes.
    ASSERT_TRUE(test::wait_until(
        [&] {
            const json s = status();
            return s.contains("services") && !s["services"].empty() && s["services"][0]["up"] == true &&
                   s["services"][0]["checks"][0]["up"] == true;
        },
        20s))
        << run.err();
    std::this_thread::sleep_for(2s);
    EXPECT_TRUE(alerts_of(receiver).empty()) << "no alert while the service is healthy";

    // Stop it: one critical alert within three samples (plus delivery), carrying its log tail.
    const auto stopped = std::chrono::steady_clock::now();
    chat->signal(SIGKILL);
    chat->wait(5s);
    ASSERT_TRUE(test::wait_until([&] { return !alerts_of(receiver).empty(); }, 15s))
        << "no alert after the service stopped:\n" << run.err();
    const auto took = std::chrono::steady_clock::now() - stopped;
    EXPECT_LT(took, 8s) << "three 1 s samples, a tick of slack and the delivery";
    std::this_thread::sleep_for(3s);  // anything more would arrive now (retry_min 1 s)
    auto alerts = alerts_of(receiver);
    ASSERT_EQ(alerts.size(), 1U) << "one alert for one cause (the failing check is inhibited):\n"
                                 << json(alerts).dump(2);
    const json fired = alerts[0];
    EXPECT_EQ(fired["rule"], "service_down.chat");
    EXPECT_EQ(fired["kind"], "firing");
    EXPECT_EQ(fired["severity"], "critical");
    ASSERT_FALSE(fired["logs"].empty());
    EXPECT_EQ(fired["logs"][0]["name"], "chat");
    EXPECT_NE(fired["logs"][0]["lines"].dump().find("chat served /health"), std::string::npos) << fired["logs"].dump(2);
    const json down = status();
    ASSERT_FALSE(down["services"].empty());
    EXPECT_EQ(down["services"][0]["up"], false);

    // Start it again: one resolution, for the same incident.
    chat = start_chat(token, log, port);
    ASSERT_TRUE(test::wait_until([&] { return alerts_of(receiver).size() >= 2; }, 15s))
        << "no resolution after the service came back:\n" << run.err();
    std::this_thread::sleep_for(3s);
    alerts = alerts_of(receiver);
    ASSERT_EQ(alerts.size(), 2U) << json(alerts).dump(2);
    EXPECT_EQ(alerts[1]["kind"], "resolved");
    EXPECT_EQ(alerts[1]["rule"], "service_down.chat");
    EXPECT_EQ(alerts[1]["incident_id"], fired["incident_id"]);

    run.signal(SIGTERM);
    EXPECT_EQ(run.wait(5s).exit_code, 0);
}

}  // namespace
}  // namespace boxmon
