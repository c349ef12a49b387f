// The tick pipeline against a real SQLite file, a fixture /proc and /sys tree and a fake clock:
// what one tick stores, that a restart continues where it stopped, and that ticks wait in memory
// while the database is locked and are all written once it is free, and that a database found
// corrupt mid-run is moved aside for a new one.
#include "agent/pipeline.hpp"

#include <sqlite3.h>

#include <gtest/gtest.h>

#include <fstream>
#include <mutex>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include "core/config_load.hpp"
#include "tests/servers/http_receiver.hpp"
#include "tests/store/crash_vfs.hpp"
#include "tests/support/corrupt_db.hpp"
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

    // `one_shot` false: the daemon's pipeline, the dispatcher's threads (not started) on their
    // own connection.
    std::unique_ptr<Pipeline> open(bool one_shot = true) {
        PipelineOptions o;
        o.root = RootFs(m_dir / "root" / "proc", m_dir / "root" / "sys");
        o.clock = &m_clock;
        o.one_shot = one_shot;
        auto p = Pipeline::open(m_config, o);
        EXPECT_TRUE(p) << (p ? "" : p.error().message);
        return p ? std::move(*p) : nullptr;
    }

    // The rule's alerts go to a webhook channel "hook" at `receiver`.
    void route_to(const test::HttpReceiver& receiver) {
        ChannelConfig c;
        c.name = "hook";
        c.type = ChannelType::webhook;
        c.url.source = SecretRef::Source::inline_value;
        c.url.value = Secret(receiver.url("/alert"));
        c.min_gap = 0ms;
        m_config.channels = {c};
        m_config.rules[0].channels = {"hook"};
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
        // A one-shot ring holds only its tick: the rest of the window came from the database.
        EXPECT_EQ(p->ring().capacity(), 1u);
        const auto payload = nlohmann::json::parse(rows->front().item.payload);
        EXPECT_EQ(payload["window"].size(), 2u) << rows->front().item.payload;
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
    // What `status` cannot see, the exposition says.
    EXPECT_NE(to_exposition(locked.sample, p->self_metrics(&locked)).find("\nboxmon_store_backlog_ticks 1\n"),
              std::string::npos);
    sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(other);

    const auto after = tick(*p);
    EXPECT_TRUE(after.stored) << after.store_error;
    EXPECT_EQ(after.backlog, 0u);
    EXPECT_NE(to_exposition(after.sample, p->self_metrics(&after)).find("\nboxmon_store_backlog_ticks 0\n"),
              std::string::npos);
    auto ticks = p->store().ticks(WallTime{}, m_clock.wall());
    ASSERT_TRUE(ticks);
    ASSERT_EQ(ticks->size(), 3u);
    EXPECT_EQ((*ticks)[1].first, locked.sample.ts);  // the locked tick is there, in order
}

// RELIABILITY S3 under an open database: the filesystem goes read-only while the pipeline runs
// (a fault VFS failing every write with EROFS; the kernel refuses `remount,ro` while a file is
// open for writing). Ticks wait in memory with the reason, and are all written, in order, once
// it is writable again, without reopening anything.
TEST_F(PipelineTest, ticks_wait_in_memory_while_the_filesystem_is_read_only_and_land_after) {
    store::test::CrashVfs vfs;
    auto p = open();
    ASSERT_TRUE(p);
    ASSERT_TRUE(tick(*p).stored);

    vfs.set_read_only(true);
    const auto first = tick(*p);
    EXPECT_FALSE(first.stored);
    EXPECT_EQ(first.backlog, 1u);
    // SQLite does not pass the OS error of a failed write in a step up to sqlite3_system_errno,
    // so the message is its "disk I/O error" with the path and the hint, not the word read-only.
    EXPECT_NE(first.store_error.find("disk I/O error"), std::string::npos) << first.store_error;
    EXPECT_NE(first.store_error.find(m_config.database_path().string()), std::string::npos) << first.store_error;
    const auto second = tick(*p);
    EXPECT_FALSE(second.stored);
    EXPECT_EQ(second.backlog, 2u);
    EXPECT_FALSE(second.sample.points.empty()) << "sampling goes on";

    vfs.set_read_only(false);
    const auto after = tick(*p);
    EXPECT_TRUE(after.stored) << after.store_error;
    EXPECT_EQ(after.backlog, 0u);
    auto ticks = p->store().ticks(WallTime{}, m_clock.wall());
    ASSERT_TRUE(ticks);
    ASSERT_EQ(ticks->size(), 4u);
    EXPECT_EQ((*ticks)[1].first, first.sample.ts);
    EXPECT_EQ((*ticks)[2].first, second.sample.ts);
    EXPECT_EQ((*ticks)[3].first, after.sample.ts);
    p.reset();
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(m_config.database_path().c_str(), &db), SQLITE_OK);
    char** rows = nullptr;
    int n = 0;
    ASSERT_EQ(sqlite3_get_table(db, "PRAGMA integrity_check", &rows, &n, nullptr, nullptr), SQLITE_OK);
    ASSERT_EQ(n, 1);
    EXPECT_STREQ(rows[1], "ok");
    sqlite3_free_table(rows);
    sqlite3_close(db);
}

// One-shot mode refreshes too: every `boxmon sample` is a new Pipeline restored from the
// database, and an incident still firing gets its refresh for the alertmanager channel, which
// stays one row however many samples pass while nothing is delivered.
TEST_F(PipelineTest, one_shot_samples_refresh_an_alertmanager_incident_in_one_row) {
    ChannelConfig am;
    am.name = "am";
    am.type = ChannelType::alertmanager;
    am.url.source = SecretRef::Source::inline_value;
    am.url.value = Secret("http://127.0.0.1:9/");
    m_config.channels = {am};
    m_config.rules[0].channels = {"am"};
    const auto sample = [&] {
        auto p = open();
        EXPECT_TRUE(p);
        return p ? tick(*p).notifications : 0u;
    };
    EXPECT_EQ(sample(), 0u);  // 1 of 2
    use_snapshot("t1");
    EXPECT_EQ(sample(), 1u);  // fired
    for (int i = 0; i < 4; ++i) EXPECT_EQ(sample(), 1u) << "a refresh every minute (tick " << i << ")";
    auto p = open();
    ASSERT_TRUE(p);
    auto rows = p->store().outbox().recent(WallTime{}, 100);
    ASSERT_TRUE(rows);
    ASSERT_EQ(rows->size(), 2u) << "the firing row and one refresh row";
    const OutboxRow& refresh = rows->front();  // newest first
    EXPECT_EQ(refresh.item.kind, "refresh");
    EXPECT_EQ(refresh.item.idempotency_key, refresh.item.incident_id + "#refresh");
    EXPECT_EQ(refresh.state, OutboxState::pending);
    EXPECT_EQ(rows->back().item.kind, "firing");
    auto last = p->store().last_tick();
    ASSERT_TRUE(last && *last);
    EXPECT_NE(refresh.item.payload.find(fmt::format("\"at_ms\":{}", to_unix_ms(**last))), std::string::npos)
        << "the waiting row carries the newest refresh: " << refresh.item.payload;
}

// Log lines as they are written, readable from the test's thread while others log.
class LineSink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    bool contains(std::string_view text) {
        std::lock_guard lock(mutex_);
        return m_text.find(text) != std::string::npos;
    }

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        m_text.append(msg.payload.data(), msg.payload.size());
        m_text += '\n';
    }
    void flush_() override {}

private:
    std::string m_text;
};

// Routes spdlog's default logger to a LineSink while it lives.
class LogLines {
public:
    LogLines() : m_sink(std::make_shared<LineSink>()), m_previous(spdlog::default_logger()) {
        spdlog::set_default_logger(std::make_shared<spdlog::logger>("lines", m_sink));
    }
    ~LogLines() { spdlog::set_default_logger(m_previous); }
    LogLines(const LogLines&) = delete;
    LogLines& operator=(const LogLines&) = delete;
    bool contains(std::string_view text) { return m_sink->contains(text); }

private:
    std::shared_ptr<LineSink> m_sink;
    std::shared_ptr<spdlog::logger> m_previous;
};

// RELIABILITY S2: the alert raised by a tick that cannot be written still goes out (from
// memory), and once the database is writable again it is stored as delivered, never sent twice.
// `boxmon sample` stamps its tick with the nearest interval slot, which can lie ahead of the
// wall clock (a timer firing at 12:00:40 samples 12:01:00). The alert that tick raises is still
// due at once: it goes out within this sample's delivery budget, not a sample later.
TEST_F(PipelineTest, an_alert_from_a_tick_stamped_ahead_of_the_clock_goes_out_in_the_same_sample) {
    test::HttpReceiver hook;
    ASSERT_TRUE(hook.valid());
    route_to(hook);
    m_config.rules[0].for_samples = 1;
    auto p = open();
    ASSERT_TRUE(p);
    m_clock.advance(40s);
    const auto now = m_clock.now();
    const WallTime ahead = std::chrono::ceil<std::chrono::minutes>(now.wall);
    ASSERT_GT(ahead, now.wall);
    const auto fired = p->tick(ahead, now, false);
    ASSERT_EQ(fired.notifications, 1u);
    const auto sent = p->dispatcher().run_for(5s);
    EXPECT_EQ(sent.delivered, 1);
    EXPECT_EQ(hook.count(), 1u);
}

TEST_F(PipelineTest, an_alert_raised_while_the_database_is_locked_goes_out_and_is_kept_as_delivered) {
    test::HttpReceiver hook;
    ASSERT_TRUE(hook.valid());
    LogLines log;
    route_to(hook);
    auto daemon = open(false);
    ASSERT_TRUE(daemon);
    Pipeline& p = *daemon;
    p.dispatcher().start();
    ASSERT_TRUE(tick(p).stored);  // 1 of 2

    sqlite3* other = nullptr;
    ASSERT_EQ(sqlite3_open(m_config.database_path().c_str(), &other), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
    use_snapshot("t1");
    const auto fired = tick(p);
    EXPECT_FALSE(fired.stored);
    EXPECT_EQ(fired.notifications, 1u);
    // Sent and recorded (in memory) while the database is still locked.
    ASSERT_TRUE(test::wait_until([&] { return log.contains("(firing) on channel \"hook\" delivered"); }, 10s))
        << "the alert waited for the database";
    EXPECT_EQ(hook.count(), 1u);
    sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(other);

    ASSERT_TRUE(tick(p).stored);
    auto rows = p.store().outbox().recent(WallTime{}, 100);
    ASSERT_TRUE(rows);
    ASSERT_EQ(rows->size(), 1u);
    EXPECT_EQ(rows->front().item.channel, "hook");
    EXPECT_EQ(rows->front().state, OutboxState::delivered) << rows->front().last_error;
    EXPECT_TRUE(rows->front().finished.has_value());
    // Nothing is due, so nothing goes out again.
    auto due = p.store().outbox().due(m_clock.wall() + 1h, 10);
    ASSERT_TRUE(due);
    EXPECT_TRUE(due->empty());
    p.dispatcher().stop(1s);
    EXPECT_EQ(hook.count(), 1u);
}

// ---- RELIABILITY S4e: damage that only a query meets, mid-run ----------------------------

// The name a database moved aside at `t` gets: <name>.corrupt-YYYYMMDDTHHMMSSZ.
fs::path moved_aside_name(const fs::path& db, WallTime t) {
    std::string stamp;
    for (char c : format_iso8601(t))
        if (c != '-' && c != ':') stamp.push_back(c);
    return fs::path(db.string() + ".corrupt-" + stamp);
}

// The databases moved aside beside `db` (not their -wal and -shm).
std::vector<fs::path> moved_aside_files(const fs::path& db) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(db.parent_path())) {
        const std::string name = e.path().filename().string();
        if (name.rfind(db.filename().string() + ".corrupt-", 0) == 0 && !name.ends_with("-wal") &&
            !name.ends_with("-shm"))
            out.push_back(e.path());
    }
    return out;
}

// The rows of `store`'s outbox whose notification comes from `rule`.
std::size_t outbox_rows_of(store::Store& store, std::string_view rule) {
    auto rows = store.outbox().recent(WallTime{}, 100);
    EXPECT_TRUE(rows) << rows.error().message;
    std::size_t n = 0;
    for (const auto& r : rows ? *rows : std::vector<OutboxRow>{})
        if (nlohmann::json::parse(r.item.payload).value("rule", "") == rule) ++n;
    return n;
}

// `boxmon sample` checks only the header and the schema at open, so damage deeper in the file
// surfaces when a tick writes there. That sample moves the file aside (kept whole), starts a new
// database and lands in it with everything the rules need to carry on: the open incident, the
// rule states (a restart does not notify again) and the alert not yet delivered; plus one
// notification saying what happened.
TEST_F(PipelineTest, a_database_found_corrupt_mid_run_is_moved_aside_and_the_sample_lands_in_a_new_one) {
    const fs::path db = m_config.database_path();
    {
        auto p = open();
        ASSERT_TRUE(p);
        ASSERT_TRUE(tick(*p).stored);  // 1 of 2
        use_snapshot("t1");
        ASSERT_EQ(tick(*p).notifications, 1u);  // fired; its row waits in the outbox
    }
    test::corrupt_table(db, "recent_samples");
    LogLines log;
    auto p = open();
    ASSERT_TRUE(p);
    EXPECT_FALSE(p->store().open_report().moved_aside) << "the checks at open do not read the table";

    const auto t = tick(*p);
    EXPECT_TRUE(t.stored) << t.store_error;
    EXPECT_EQ(t.notifications, 0u) << "the incident was still firing";
    EXPECT_TRUE(log.contains("is corrupt"));
    const auto moved = moved_aside_files(db);
    ASSERT_EQ(moved.size(), 1u);
    auto noted = p->store().last_move_aside();
    ASSERT_TRUE(noted && *noted);
    EXPECT_EQ((*noted)->to, moved[0]);
    EXPECT_NE((*noted)->reason.find("malformed"), std::string::npos) << (*noted)->reason;

    auto ticks = p->store().ticks(WallTime{}, m_clock.wall());
    ASSERT_TRUE(ticks);
    ASSERT_EQ(ticks->size(), 1u);
    EXPECT_EQ(ticks->front().first, t.sample.ts);
    auto open_incidents = p->store().incidents(WallTime{}, m_clock.wall(), true);
    ASSERT_TRUE(open_incidents);
    ASSERT_EQ(open_incidents->size(), 1u);
    EXPECT_EQ(open_incidents->front().rule, "memory_any");
    EXPECT_EQ(outbox_rows_of(p->store(), "memory_any"), 1u) << "the undelivered alert came along";
    EXPECT_EQ(outbox_rows_of(p->store(), "database_corrupt"), 1u);
    auto states = p->store().load_rule_states();
    ASSERT_TRUE(states);
    EXPECT_EQ(states->size(), 1u);

    // The moved file is the damaged one, kept as it was.
    sqlite3* old = nullptr;
    ASSERT_EQ(sqlite3_open_v2(moved[0].c_str(), &old, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(old, "SELECT count(*) FROM recent_samples", nullptr, nullptr, nullptr) & 0xff,
              SQLITE_CORRUPT);
    sqlite3_close(old);

    // The next sample carries on in the new database: nothing notified again, nothing moved.
    p.reset();
    auto next = open();
    ASSERT_TRUE(next);
    const auto t2 = tick(*next);
    EXPECT_TRUE(t2.stored) << t2.store_error;
    EXPECT_EQ(t2.notifications, 0u);
    EXPECT_EQ(outbox_rows_of(next->store(), "database_corrupt"), 1u);
    EXPECT_EQ(moved_aside_files(db).size(), 1u);
}

// A disk that keeps damaging files must not make boxmon move one aside every tick: within an
// hour of the last move-aside the ticks wait in memory, unwritten; after it they land, in
// order, in a new database.
TEST_F(PipelineTest, at_most_one_corrupt_database_is_moved_aside_an_hour) {
    const fs::path db = m_config.database_path();
    {
        auto p = open();
        ASSERT_TRUE(p);
        ASSERT_TRUE(tick(*p).stored);
    }
    test::corrupt_table(db, "recent_samples");
    const WallTime now = std::chrono::floor<Millis>(std::chrono::system_clock::now());
    const fs::path earlier = moved_aside_name(db, now - 10min);
    { std::ofstream(earlier.string()) << "a database moved aside ten minutes ago\n"; }
    LogLines log;
    auto p = open();
    ASSERT_TRUE(p);
    const auto held = tick(*p);
    EXPECT_FALSE(held.stored);
    EXPECT_NE(held.store_error.find("malformed"), std::string::npos) << held.store_error;
    EXPECT_TRUE(log.contains("moves at most one an hour"));
    const auto held2 = tick(*p);
    EXPECT_FALSE(held2.stored);
    EXPECT_EQ(held2.backlog, 2u);
    EXPECT_NE(held2.store_error.find("corrupt"), std::string::npos) << held2.store_error;
    EXPECT_EQ(moved_aside_files(db).size(), 1u) << "nothing moved within the hour";

    // As if the hour had passed.
    fs::rename(earlier, moved_aside_name(db, now - 2h));
    const auto after = tick(*p);
    EXPECT_TRUE(after.stored) << after.store_error;
    EXPECT_EQ(after.backlog, 0u);
    EXPECT_EQ(moved_aside_files(db).size(), 2u);
    auto ticks = p->store().ticks(WallTime{}, m_clock.wall());
    ASSERT_TRUE(ticks);
    ASSERT_EQ(ticks->size(), 3u);
    EXPECT_EQ((*ticks)[0].first, held.sample.ts);
    EXPECT_EQ((*ticks)[1].first, held2.sample.ts);
    EXPECT_EQ((*ticks)[2].first, after.sample.ts);
}

// The daemon: two connections (the tick's and the dispatcher's) and the dispatcher's threads.
// Both are closed, the file moved aside, both reopened on a new database, and the alert that
// was still pending in the old one is delivered from the new one, with the notice.
TEST_F(PipelineTest, the_daemon_moves_a_corrupt_database_aside_mid_run_and_delivers_what_was_pending) {
    test::HttpReceiver hook;
    ASSERT_TRUE(hook.valid());
    route_to(hook);
    auto daemon = open(false);
    ASSERT_TRUE(daemon);
    Pipeline& p = *daemon;
    ASSERT_TRUE(tick(p).stored);
    use_snapshot("t1");
    ASSERT_EQ(tick(p).notifications, 1u);  // pending: the dispatcher has not started
    const fs::path db = m_config.database_path();
    test::corrupt_table(db, "recent_samples");

    const auto t = tick(p);  // the dispatcher's threads run from the new database on
    EXPECT_TRUE(t.stored) << t.store_error;
    EXPECT_EQ(moved_aside_files(db).size(), 1u);
    ASSERT_TRUE(test::wait_until([&] { return hook.count() >= 2; }, 10s)) << "sent " << hook.count();
    p.dispatcher().stop(1s);
    EXPECT_EQ(hook.count(), 2u);
    auto rows = p.store().outbox().recent(WallTime{}, 100);
    ASSERT_TRUE(rows);
    ASSERT_EQ(rows->size(), 2u);
    for (const auto& r : *rows) EXPECT_EQ(r.state, OutboxState::delivered) << r.item.payload;
    EXPECT_EQ(outbox_rows_of(p.store(), "database_corrupt"), 1u);
    ASSERT_TRUE(tick(p).stored);
}

}  // namespace
}  // namespace boxmon::agent
