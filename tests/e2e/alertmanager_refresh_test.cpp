// `boxmon run` pushing to a real Prometheus Alertmanager: an incident that lasts longer than its
// endsAt stays active there because boxmon refreshes it; while Alertmanager is down one refresh
// row waits (no pile-up) and brings the alert back once it returns; the resolution ends it.
// interval 1 s and alertmanager_resend 2 s: endsAt lies 8 s after each push. The CPU is the
// scripted fixture /proc (the test is about delivery, not about the CPU).

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "core/clock.hpp"
#include "tests/e2e/e2e_support.hpp"
#include "tests/servers/alertmanager.hpp"

namespace boxmon::test::e2e {
namespace {

constexpr auto k_ends_ahead = std::chrono::seconds(8);  // 4 x max(2 s resend, 1 s interval)

// The deliveries of `incident` on channel `channel`, as "kind:state" in row order (oldest first).
std::vector<std::string> deliveries(const nlohmann::json& incident, const std::string& channel) {
    std::vector<std::string> out;
    for (const auto& d : incident.at("deliveries"))
        if (d.value("channel", "") == channel) out.push_back(d.value("kind", "") + ":" + d.value("state", ""));
    std::reverse(out.begin(), out.end());  // listed newest first
    return out;
}

std::optional<WallTime> ends_at(const nlohmann::json& alert) {
    auto t = parse_iso8601(alert.value("endsAt", ""));
    return t ? std::optional<WallTime>(*t) : std::nullopt;
}

TEST(AlertmanagerRefresh, an_incident_outlasting_ends_at_stays_active_and_resolves_when_boxmon_resolves_it) {
    if (!Alertmanager::installed())
        GTEST_SKIP() << Alertmanager::k_binary << " is not installed (Debian package prometheus-alertmanager)";
    Alertmanager am;
    ASSERT_TRUE(am.ready()) << "alertmanager did not become ready: " << am.why();
    TempDir dir;
    auto cpu = scripted_cpu(dir.path());
    const std::string config = fmt::format(
        "[general]\ninterval = \"1s\"\nhostname = \"e2e-box\"\n"
        "[collectors]\ndisable = [\"memory\", \"pressure\", \"network\", \"filesystem\", \"diskio\", \"temperature\", "
        "\"gpu_nvidia\", \"gpu_amd\", \"services\"]\n"
        "[alerting]\nalertmanager_resend = \"2s\"\nretry_min = \"1s\"\nretry_max = \"2s\"\n"
        "[[channels]]\nname = \"am\"\ntype = \"alertmanager\"\nurl = \"{}\"\nconnect_timeout = \"2s\"\ntimeout = \"4s\"\n",
        am.base());
    Boxmon boxmon(dir.path(), config, cpu->boxmon_args());
    auto daemon = boxmon.start();
    ASSERT_TRUE(poll_until([&] { return boxmon.last_sample().has_value(); }, 30s)) << daemon->err();

    cpu->busy();
    nlohmann::json alert;
    const auto active = [&] {
        const auto list = am.alerts();
        for (const auto& a : list)
            if (a.at("labels").value("alertname", "") == "cpu_high" && a.at("status").value("state", "") == "active") {
                alert = a;
                return true;
            }
        return false;
    };
    ASSERT_TRUE(poll_until(active, 30s)) << "cpu_high never became active in Alertmanager: " << daemon->err();
    const auto first_ends = ends_at(alert);
    ASSERT_TRUE(first_ends) << alert.dump();
    EXPECT_EQ(alert.at("labels").value("instance", ""), "e2e-box");

    // Past the first endsAt and more: still active at every look, its endsAt moving on.
    WallTime latest_ends = *first_ends;
    std::vector<std::string> gaps;
    const bool outlasted = poll_until(
        [&] {
            if (!active()) {
                gaps.push_back(format_iso8601(SystemClock::instance().wall()));
            } else if (auto e = ends_at(alert); e && *e > latest_ends) {
                latest_ends = *e;
            }
            return SystemClock::instance().wall() > *first_ends + 4s;
        },
        k_ends_ahead + 30s, 200ms);
    ASSERT_TRUE(outlasted);
    EXPECT_TRUE(gaps.empty()) << "the alert was not active at " << gaps.size() << " looks, from "
                              << (gaps.empty() ? std::string() : gaps.front() + " to " + gaps.back());
    EXPECT_GT(latest_ends, *first_ends) << "refreshes must move endsAt on";

    auto incidents = boxmon.incidents("cpu_high");
    ASSERT_EQ(incidents.size(), 1u);
    const std::string id = incidents[0].value("id", "");
    EXPECT_EQ(alert.at("annotations").value("incident_id", ""), id);

    // Alertmanager goes away (and forgets its alerts): refreshes coalesce to one waiting row.
    am.stop();
    ASSERT_TRUE(boxmon.wait_for_ticks(8, 30s)) << daemon->err();  // four refresh periods
    incidents = boxmon.incidents("cpu_high");
    ASSERT_EQ(incidents.size(), 1u);
    EXPECT_EQ(deliveries(incidents[0], "am"), (std::vector<std::string>{"firing:delivered", "refresh:pending"}))
        << incidents[0].dump();

    // It comes back on the same port: the waiting refresh makes the alert active again.
    am.start();
    ASSERT_TRUE(am.ready()) << am.why();
    ASSERT_TRUE(poll_until(active, 30s)) << "the refresh did not bring the alert back: " << daemon->err();

    cpu->idle();
    ASSERT_TRUE(poll_until([&] { return am.alerts().empty(); }, 30s)) << am.alerts().dump();
    ASSERT_TRUE(poll_until(
        [&] {
            incidents = boxmon.incidents("cpu_high");
            return incidents.size() == 1 && !incidents[0].at("end").is_null() &&
                   deliveries(incidents[0], "am").size() == 3 && deliveries(incidents[0], "am").back() == "resolved:delivered";
        },
        30s))
        << (incidents.empty() ? std::string("no incident") : incidents[0].dump());
    EXPECT_EQ(deliveries(incidents[0], "am"),
              (std::vector<std::string>{"firing:delivered", "refresh:delivered", "resolved:delivered"}));
    EXPECT_EQ(Boxmon::stop(*daemon), 0) << daemon->err();
}

}  // namespace
}  // namespace boxmon::test::e2e
