// RELIABILITY C2 and C3 through the real binary: `boxmon run` killed with SIGKILL after the
// receiver took the request but before its answer came back sends it again after the restart,
// with the same idempotency key; SIGTERM during a delivery exits 0 at once and leaves the row
// pending and uncharged, and the next daemon delivers it. The webhook receiver records each
// request when it arrives and answers late; the CPU is the scripted fixture /proc.

#include <csignal>

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "tests/e2e/e2e_support.hpp"
#include "tests/servers/http_receiver.hpp"

namespace boxmon::test::e2e {
namespace {

class ShutdownDelivery : public ::testing::Test {
protected:
    void SetUp() override {
        m_cpu = scripted_cpu(m_dir / "cpu");
        ASSERT_TRUE(m_hook.valid());
        const std::string config = fmt::format(
            "[general]\ninterval = \"1s\"\nhostname = \"e2e-box\"\n"
            "[collectors]\ndisable = [\"memory\", \"pressure\", \"network\", \"filesystem\", \"diskio\", "
            "\"temperature\", \"gpu_nvidia\", \"gpu_amd\", \"services\"]\n"
            "[alerting]\nretry_min = \"1s\"\nretry_max = \"2s\"\n"
            "[[channels]]\nname = \"hook\"\ntype = \"webhook\"\nurl = \"{}\"\nconnect_timeout = \"2s\"\n"
            "timeout = \"30s\"\n",
            m_hook.url("/boxmon"));
        m_boxmon = std::make_unique<Boxmon>(m_dir.path(), config, m_cpu->boxmon_args());
    }

    // The one row of the cpu_high incident, once it exists.
    nlohmann::json row() const {
        const auto incidents = m_boxmon->incidents("cpu_high");
        if (incidents.size() != 1 || incidents[0].at("deliveries").size() != 1) return nullptr;
        return incidents[0].at("deliveries")[0];
    }

    TempDir m_dir;
    std::unique_ptr<CpuLoad> m_cpu;
    HttpReceiver m_hook;
    std::unique_ptr<Boxmon> m_boxmon;
};

TEST_F(ShutdownDelivery, a_kill_after_the_receiver_took_it_sends_it_again_with_the_same_key) {
    m_hook.set_reply(HttpReceiver::hang(5s));  // takes the request, answers 5 s later
    auto daemon = m_boxmon->start();
    m_cpu->busy();
    ASSERT_TRUE(poll_until([&] { return m_hook.count() == 1; }, 40s)) << daemon->err();
    daemon->signal(SIGKILL);
    (void)daemon->wait(10s);
    nlohmann::json r = row();
    ASSERT_TRUE(r.is_object()) << "the row is in the database";
    EXPECT_EQ(r.value("state", ""), "pending") << r.dump();

    m_hook.set_reply(HttpReceiver::answer(200));
    daemon = m_boxmon->start();
    ASSERT_TRUE(poll_until([&] { return (r = row()).is_object() && r.value("state", "") == "delivered"; }, 40s))
        << r.dump() << daemon->err();
    EXPECT_EQ(Boxmon::stop(*daemon), 0) << daemon->err();
    const auto requests = m_hook.requests();
    ASSERT_EQ(requests.size(), 2u) << "at least once: the second copy, and no third";
    EXPECT_EQ(requests[0].header("X-Boxmon-Incident"), requests[1].header("X-Boxmon-Incident"));
    EXPECT_NE(requests[0].header("X-Boxmon-Incident").find("#1"), std::string::npos);
    EXPECT_EQ(requests[0].body, requests[1].body) << "the same message, so the receiver can deduplicate it";
}

TEST_F(ShutdownDelivery, sigterm_during_a_delivery_exits_at_once_leaving_the_row_pending_and_uncharged) {
    m_hook.set_reply(HttpReceiver::hang(60s));  // never answers while boxmon waits
    auto daemon = m_boxmon->start();
    m_cpu->busy();
    ASSERT_TRUE(poll_until([&] { return m_hook.count() == 1; }, 40s)) << daemon->err();
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(Boxmon::stop(*daemon), 0) << daemon->err();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s) << "far inside TimeoutStopSec (30 s)";
    nlohmann::json r = row();
    ASSERT_TRUE(r.is_object());
    EXPECT_EQ(r.value("state", ""), "pending") << r.dump();
    EXPECT_EQ(r.value("attempts", -1), 0) << "an attempt cut short by shutdown is not charged: " << r.dump();

    m_hook.set_reply(HttpReceiver::answer(200));
    daemon = m_boxmon->start();
    ASSERT_TRUE(poll_until([&] { return (r = row()).is_object() && r.value("state", "") == "delivered"; }, 40s))
        << r.dump() << daemon->err();
    EXPECT_EQ(Boxmon::stop(*daemon), 0) << daemon->err();
    EXPECT_EQ(m_hook.count(), 2u);
}

}  // namespace
}  // namespace boxmon::test::e2e
