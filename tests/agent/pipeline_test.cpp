// The tick pipeline against a real SQLite file, a fixture /proc and /sys tree and a fake clock:
// what one tick stores, that a restart continues where it stopped, and that ticks wait in memory
// while the database is locked and are all written once it is free.
#include "agent/pipeline.hpp"

#include <sqlite3.h>

#include <gtest/gtest.h>

#include "core/config_load.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon::agent {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class PipelineTest : public ::testing::Test {
protected:
    void SetUp() override {
        fs::copy(test::fixtures_dir() / "linux" / "vm-debian12" / "t0", m_dir / "root",
                 fs::copy_options::recursive);
        m_config = default_config();
        m_config.general.state_dir = m_dir / "state";
        m_config.general.hostname = "testhost";
        m_config.storage.busy_timeout = 200ms;
        m_config.rule_defaults.builtin = false;
        // A rule that always breaches, so the wiring from engine to outbox shows in two ticks.
        RuleConfig always;
        always.name = "memory_any";
        always.metric = "mem_used_percent";
        always.op = ">";
        always.warning = 0.0;
        always.for_samples = 2;
        always.channels = {"log"};
        m_config.rules = {always};
    }

    // Replaces the fixture root's files with snapshot t0 or t1.
    void use_snapshot(const char* snap) {
        fs::copy(test::fixtures_dir() / "linux" / "vm-debian12" / snap, m_dir / "root",
                 fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    }

    std::unique_ptr<Pipeline> open() {
        PipelineOptions o;
        o.root = RootFs(m_dir / "root" / "proc", m_dir / "root" / "sys");
        o.clock = &m_clock;
        o.one_shot = true;
        auto p = Pipeline::open(m_config, o);
        EXPECT_TRUE(p) << (p ? "" : p.error().message);
        return p ? std::move(*p) : nullptr;
    }

    TickOutcome tick(Pipeline& p) {
        m_clock.advance(60s);
        const auto now = m_clock.now();
        return p.tick(std::chrono::floor<std::chrono::minutes>(now.wall), now, false);
    }

    test::TempDir m_dir;
    FakeClock m_clock{WallTime{std::chrono::seconds(1'795'450'200)}};
    Config m_config;
};

TEST_F(PipelineTest, a_tick_stores_the_sample_and_the_counters) {
    auto p = open();
    ASSERT_TRUE(p);
    const auto first = tick(*p);
    EXPECT_TRUE(first.stored) << first.store_error;
    EXPECT_FALSE(first.sample.points.empty());
    auto last = p->store().last_tick();
    ASSERT_TRUE(last && *last);
    EXPECT_EQ(**last, first.sample.ts);
    auto counters = p->store().load_counters();
    ASSERT_TRUE(counters && *counters);
    EXPECT_FALSE((*counters)->values.empty());
    auto mem = p->store().query(SeriesKey("mem_used_percent"), first.sample.ts - 1h, first.sample.ts);
    ASSERT_TRUE(mem);
    ASSERT_EQ(mem->size(), 1u);
    EXPECT_GT(mem->front().value, 0.0);
    EXPECT_LT(mem->front().value, 100.0);
}

TEST_F(PipelineTest, a_rule_fires_once_and_a_restart_does_not_repeat_it) {
    {
        auto p = open();
        ASSERT_TRUE(p);
        EXPECT_EQ(tick(*p).notifications, 0u);  // 1 of 2
        use_snapshot("t1");
        EXPECT_EQ(tick(*p).notifications, 1u);  // fired
        auto open_incidents = p->store().incidents(WallTime{}, m_clock.wall(), true);
        ASSERT_TRUE(open_incidents);
        ASSERT_EQ(open_incidents->size(), 1u);
        EXPECT_EQ(open_incidents->front().rule, "memory_any");
        auto rows = p->store().outbox().recent(WallTime{}, 100);
        ASSERT_TRUE(rows);
        ASSERT_EQ(rows->size(), 1u);
        EXPECT_EQ(rows->front().item.channel, "log");
    }
    // A restart: the incident is still firing, nothing is sent again.
    auto p = open();
    ASSERT_TRUE(p);
    ASSERT_TRUE(p->last_tick());
    EXPECT_EQ(tick(*p).notifications, 0u);
    auto rows = p->store().outbox().recent(WallTime{}, 100);
    ASSERT_TRUE(rows);
    EXPECT_EQ(rows->size(), 1u);
}

TEST_F(PipelineTest, ticks_wait_in_memory_while_the_database_is_locked) {
    auto p = open();
    ASSERT_TRUE(p);
    ASSERT_TRUE(tick(*p).stored);

    sqlite3* other = nullptr;
    ASSERT_EQ(sqlite3_open(m_config.database_path().c_str(), &other), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
    const auto locked = tick(*p);
    EXPECT_FALSE(locked.stored);
    EXPECT_EQ(locked.backlog, 1u);
    EXPECT_FALSE(locked.store_error.empty());
    sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(other);

    const auto after = tick(*p);
    EXPECT_TRUE(after.stored) << after.store_error;
    EXPECT_EQ(after.backlog, 0u);
    auto ticks = p->store().ticks(WallTime{}, m_clock.wall());
    ASSERT_TRUE(ticks);
    ASSERT_EQ(ticks->size(), 3u);
    EXPECT_EQ((*ticks)[1].first, locked.sample.ts);  // the locked tick is there, in order
}

}  // namespace
}  // namespace boxmon::agent
