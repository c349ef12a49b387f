// Dispatcher fault tests (RELIABILITY C2, C3, D1, D5, D10, S2) against a real HTTP receiver on
// 127.0.0.1 (cpp-httplib) that can accept, refuse (500, 400, 429) or hang.
//
// Every dispatcher test runs twice: on the real SQLite store (Store::outbox() on a file in a temp
// dir) and on a small in-test OutboxStore (TestOutbox) that can also play "storage down" (S2).
// Most tests use an in-test HTTP channel (HttpTestChannel) whose classification is known and
// which ignores the abort flag (so stop() must abandon it); the real webhook channel is used
// through the default channel factory at the end.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "alerting/alerting.hpp"
#include "alerting/channel.hpp"
#include "alerting/notification_json.hpp"
#include "store/store.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon::alerting {
namespace {

using namespace std::chrono_literals;

// ---- the outbox ------------------------------------------------------------------------------

class TestOutbox final : public OutboxStore {
public:
    Result<std::vector<OutboxRow>> due(WallTime now, std::size_t limit) override {
        std::lock_guard lock(m_mutex);
        if (m_down) return fail("database is locked (test)");
        std::vector<OutboxRow> out;
        for (const auto& row : m_rows)  // insertion order is creation order here
            if (row.state == OutboxState::pending && row.next_attempt <= now && out.size() < limit) out.push_back(row);
        return out;
    }
    Result<std::optional<WallTime>> next_due() override {
        std::lock_guard lock(m_mutex);
        if (m_down) return fail("database is locked (test)");
        std::optional<WallTime> next;
        for (const auto& row : m_rows)
            if (row.state == OutboxState::pending && (!next || row.next_attempt < *next)) next = row.next_attempt;
        return next;
    }
    Result<void> mark_delivered(std::int64_t id, WallTime at) override {
        return change(id, [&](OutboxRow& r) {
            r.state = OutboxState::delivered;
            r.attempts++;
            r.finished = at;
        });
    }
    Result<void> mark_retry(std::int64_t id, WallTime next, std::string_view error, bool charge) override {
        return change(id, [&](OutboxRow& r) {
            r.next_attempt = next;
            r.last_error = std::string(error);
            if (charge) r.attempts++;
        });
    }
    Result<void> mark_dead(std::int64_t id, WallTime at, std::string_view reason) override {
        return change(id, [&](OutboxRow& r) {
            r.state = OutboxState::dead;
            r.attempts++;
            r.last_error = std::string(reason);
            r.finished = at;
        });
    }
    Result<void> insert(const std::vector<OutboxItem>& items) override {
        std::lock_guard lock(m_mutex);
        for (const auto& item : items) {
            OutboxRow row;
            row.id = static_cast<std::int64_t>(m_rows.size()) + 1;
            row.item = item;
            row.next_attempt = item.created;
            m_rows.push_back(row);
        }
        return ok();
    }
    Result<OutboxCounts> counts() override { return OutboxCounts{}; }
    Result<std::vector<OutboxRow>> recent(WallTime since, std::size_t limit) override {
        std::lock_guard lock(m_mutex);
        std::vector<OutboxRow> out;
        for (auto it = m_rows.rbegin(); it != m_rows.rend() && out.size() < limit; ++it)
            if (it->item.created >= since) out.push_back(*it);
        return out;
    }

    std::vector<OutboxRow> rows() {
        std::lock_guard lock(m_mutex);
        return m_rows;
    }
    OutboxRow row(std::int64_t id) {
        std::lock_guard lock(m_mutex);
        return m_rows.at(static_cast<std::size_t>(id - 1));
    }
    void set_down(bool down) {
        std::lock_guard lock(m_mutex);
        m_down = down;
    }

private:
    template <class F>
    Result<void> change(std::int64_t id, F&& f) {
        std::lock_guard lock(m_mutex);
        if (m_down) return fail("database is locked (test)");
        if (id < 1 || id > static_cast<std::int64_t>(m_rows.size())) return fail("no row {}", id);
        f(m_rows[static_cast<std::size_t>(id - 1)]);
        return ok();
    }
    std::mutex m_mutex;
    std::vector<OutboxRow> m_rows;
    bool m_down = false;
};

// The outbox a test runs on, with the accessors tests need; converts to OutboxStore&.
class OutboxUnderTest {
public:
    explicit OutboxUnderTest(bool sqlite) {
        if (!sqlite) {
            m_memory = std::make_unique<TestOutbox>();
            m_store = m_memory.get();
            return;
        }
        store::StoreOptions options;
        options.path = m_dir / "boxmon.db";
        auto opened = store::Store::open(options);
        if (!opened) throw std::runtime_error("Store::open: " + opened.error().message);
        m_sqlite = std::move(*opened);
        m_store = &m_sqlite->outbox();
    }
    operator OutboxStore&() { return *m_store; }
    Result<void> insert(const std::vector<OutboxItem>& items) { return m_store->insert(items); }
    // Every row, oldest first.
    std::vector<OutboxRow> rows() {
        auto recent = m_store->recent(WallTime{}, 1'000'000);
        if (!recent) throw std::runtime_error(recent.error().message);
        std::vector<OutboxRow> out(recent->rbegin(), recent->rend());
        std::sort(out.begin(), out.end(), [](const OutboxRow& a, const OutboxRow& b) { return a.id < b.id; });
        return out;
    }
    OutboxRow row(std::int64_t id) {
        for (auto& r : rows())
            if (r.id == id) return r;
        throw std::runtime_error("no outbox row " + std::to_string(id));
    }

private:
    test::TempDir m_dir;
    std::unique_ptr<TestOutbox> m_memory;
    std::unique_ptr<store::Store> m_sqlite;
    OutboxStore* m_store = nullptr;
};

// Passes every call to `inner` and counts the scans (calls of due()).
class ScanCountingOutbox final : public OutboxStore {
public:
    explicit ScanCountingOutbox(OutboxStore& inner) : m_inner(inner) {}
    Result<std::vector<OutboxRow>> due(WallTime now, std::size_t limit) override {
        ++m_scans;
        return m_inner.due(now, limit);
    }
    Result<std::optional<WallTime>> next_due() override { return m_inner.next_due(); }
    Result<void> mark_delivered(std::int64_t id, WallTime at) override { return m_inner.mark_delivered(id, at); }
    Result<void> mark_retry(std::int64_t id, WallTime next, std::string_view error, bool charge) override {
        return m_inner.mark_retry(id, next, error, charge);
    }
    Result<void> mark_dead(std::int64_t id, WallTime at, std::string_view reason) override {
        return m_inner.mark_dead(id, at, reason);
    }
    Result<void> insert(const std::vector<OutboxItem>& items) override { return m_inner.insert(items); }
    Result<OutboxCounts> counts() override { return m_inner.counts(); }
    Result<std::vector<OutboxRow>> recent(WallTime since, std::size_t limit) override {
        return m_inner.recent(since, limit);
    }
    int scans() const { return m_scans.load(); }

private:
    OutboxStore& m_inner;
    std::atomic<int> m_scans{0};
};

// ---- the receiver ----------------------------------------------------------------------------

// An HTTP receiver on 127.0.0.1 whose answer the test sets: a status (with Retry-After), or a
// hang until released. Records the Idempotency-Key of every request it saw.
class Receiver {
public:
    Receiver() {
        m_server.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
            std::unique_lock lock(m_mutex);
            std::string key = req.get_header_value("Idempotency-Key");
            if (key.empty()) key = req.get_header_value("X-Boxmon-Incident");  // the real webhook channel
            m_seen.push_back(key);
            m_cv.notify_all();
            if (m_hang) {
                m_hanging++;
                m_cv.wait(lock, [&] { return !m_hang; });
                m_hanging--;
            }
            res.status = m_status;
            if (!m_retry_after.empty()) res.set_header("Retry-After", m_retry_after);
            res.set_content(m_body, "text/plain");
        });
        m_port = m_server.bind_to_any_port("127.0.0.1");
        m_thread = std::thread([this] { m_server.listen_after_bind(); });
        // stop() before the server thread reaches listen is lost (cpp-httplib 0.11) and the
        // destructor's join would then wait forever: start only once it is listening.
        for (int i = 0; i < 1000 && !m_server.is_running(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ~Receiver() {
        release();
        m_server.stop();
        if (m_thread.joinable()) m_thread.join();
    }
    int port() const { return m_port; }
    void answer(int status, std::string body = "", std::string retry_after = "") {
        std::lock_guard lock(m_mutex);
        m_status = status;
        m_body = std::move(body);
        m_retry_after = std::move(retry_after);
    }
    void hang() {
        std::lock_guard lock(m_mutex);
        m_hang = true;
    }
    void release() {
        std::lock_guard lock(m_mutex);
        m_hang = false;
        m_cv.notify_all();
    }
    std::vector<std::string> seen() {
        std::lock_guard lock(m_mutex);
        return m_seen;
    }
    bool wait_seen(std::size_t n, std::chrono::milliseconds deadline) {
        std::unique_lock lock(m_mutex);
        return m_cv.wait_for(lock, deadline, [&] { return m_seen.size() >= n; });
    }

private:
    httplib::Server m_server;
    int m_port = 0;
    std::thread m_thread;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::vector<std::string> m_seen;
    int m_status = 200;
    std::string m_body = "ok";
    std::string m_retry_after;
    bool m_hang = false;
    int m_hanging = 0;
};

// ---- the channel -----------------------------------------------------------------------------

// Posts the notification to http://127.0.0.1:<port>/hook and classifies the answer: 2xx
// delivered; 408, 429, 5xx and connection failures retry (429 with its Retry-After); other
// answers dead with the status and body. Deliberately ignores SendContext::abort, like a channel
// stuck in a blocking call, so stop() has to abandon it.
class HttpTestChannel final : public Channel {
public:
    HttpTestChannel(std::string name, int port, std::shared_ptr<std::atomic<int>> finished)
        : m_name(std::move(name)), m_port(port), m_finished(std::move(finished)) {}
    const std::string& name() const override { return m_name; }
    ChannelType type() const override { return ChannelType::webhook; }
    SendOutcome send(const Notification& n, const SendContext&) override {
        httplib::Client client("127.0.0.1", m_port);
        client.set_connection_timeout(2s);
        client.set_read_timeout(30s);
        httplib::Headers headers{{"Idempotency-Key", n.idempotency_key()}};
        auto res = client.Post("/hook", headers, notification_to_json(n), "application/json");
        SendOutcome out;
        if (!res) {
            out.kind = SendOutcome::Kind::retry;
            out.detail = "connection failed: " + httplib::to_string(res.error());
        } else if (res->status >= 200 && res->status < 300) {
            out.kind = SendOutcome::Kind::delivered;
            out.detail = res->body;
        } else if (res->status == 408 || res->status == 429 || res->status >= 500) {
            out.kind = SendOutcome::Kind::retry;
            out.detail = "HTTP " + std::to_string(res->status) + ": " + res->body;
            if (res->has_header("Retry-After"))
                out.retry_after = std::chrono::seconds(std::stoi(res->get_header_value("Retry-After")));
        } else {
            out.kind = SendOutcome::Kind::dead;
            out.detail = "HTTP " + std::to_string(res->status) + ": " + res->body;
        }
        if (m_finished) (*m_finished)++;
        return out;
    }

private:
    std::string m_name;
    int m_port;
    std::shared_ptr<std::atomic<int>> m_finished;
};

// ---- fixture ---------------------------------------------------------------------------------

class DispatcherTest : public ::testing::TestWithParam<bool> {
protected:
    DispatcherTest() {
        config.alerting.retry_min = 30s;
        config.alerting.retry_max = 1h;
        config.alerting.dead_after = 24h;
        ChannelConfig hook;
        hook.name = "hook";
        hook.type = ChannelType::webhook;
        hook.min_gap = 0ms;
        ChannelConfig other = hook;
        other.name = "other";
        config.channels = {hook, other};
    }

    // Channels by name: each posts to its receiver's port; unknown names fail like a bad config.
    ChannelFactory factory() {
        return [this](const std::string& name) -> Result<std::unique_ptr<Channel>> {
            auto it = ports.find(name);
            if (it == ports.end()) return fail_as(ErrorKind::config, "no [[channels]] entry named \"{}\"", name);
            return std::unique_ptr<Channel>(std::make_unique<HttpTestChannel>(name, it->second, finished_sends));
        };
    }

    OutboxItem item(const std::string& channel, int incident, WallTime created) {
        Notification n;
        n.incident_id = "inc-" + std::to_string(incident);
        n.sequence = 1;
        n.rule = "cpu_high";
        n.series = SeriesKey("cpu_percent");
        n.at = created;
        n.since = created;
        OutboxItem i;
        i.channel = channel;
        i.incident_id = n.incident_id;
        i.idempotency_key = n.idempotency_key();
        i.kind = "firing";
        i.payload = notification_to_json(n);
        i.created = created;
        return i;
    }

    void insert(const std::string& channel, int incident) {
        ASSERT_TRUE(outbox.insert({item(channel, incident, clock.wall())}).has_value());
    }

    // Waits (for the detached sends of abandoned workers) until every send has returned.
    void wait_sends_returned(int started) {
        test::wait_until([&] { return finished_sends->load() >= started; }, 10s);
    }

    Config config;
    OutboxUnderTest outbox{GetParam()};
    FakeClock clock;
    std::map<std::string, int> ports;
    std::shared_ptr<std::atomic<int>> finished_sends = std::make_shared<std::atomic<int>>(0);
};

// ---- one-shot mode ---------------------------------------------------------------------------

TEST_P(DispatcherTest, DeliversDueRowsOnceOldestFirst) {
    Receiver rx;
    ports["hook"] = rx.port();
    for (int i = 1; i <= 3; ++i) insert("hook", i);
    Dispatcher d(config, outbox, clock, factory());
    const auto summary = d.run_for(10s);
    EXPECT_EQ(summary.delivered, 3);
    EXPECT_EQ(summary.retried, 0);
    EXPECT_EQ(summary.still_pending, 0);
    EXPECT_EQ(rx.seen(), (std::vector<std::string>{"inc-1#1", "inc-2#1", "inc-3#1"}));
    for (const auto& row : outbox.rows()) {
        EXPECT_EQ(row.state, OutboxState::delivered);
        EXPECT_EQ(row.attempts, 1);
        EXPECT_EQ(row.finished, clock.wall());
    }
}

// A sample a minute mostly has nothing to send: no scheduler (no thread, no scan) then.
TEST_P(DispatcherTest, AOneShotRunWithNothingDueStartsNoScheduler) {
    Receiver rx;
    ports["hook"] = rx.port();
    ScanCountingOutbox counting(outbox);
    Dispatcher d(config, counting, clock, factory());
    auto empty = d.run_for(10s);
    EXPECT_EQ(empty.delivered + empty.retried + empty.dead + empty.still_pending, 0);
    EXPECT_EQ(counting.scans(), 0);

    // A row due only in a minute changes nothing now.
    ASSERT_TRUE(outbox.insert({item("hook", 1, clock.wall() + 60s)}).has_value());
    EXPECT_EQ(d.run_for(10s).delivered, 0);
    EXPECT_EQ(counting.scans(), 0);
    EXPECT_TRUE(rx.seen().empty());

    // Once it is due, the scheduler runs and sends it.
    clock.set_wall(clock.wall() + 60s);
    EXPECT_EQ(d.run_for(10s).delivered, 1);
    EXPECT_GT(counting.scans(), 0);
    EXPECT_EQ(rx.seen(), (std::vector<std::string>{"inc-1#1"}));
}

TEST_P(DispatcherTest, ReceiverDownForSeveralAttemptsThenUpDeliversEachOnceInOrder) {
    // D1/D10 with a fake clock: nothing listens on the port, then a receiver does.
    const int port = test::free_port();
    ports["hook"] = port;
    for (int i = 1; i <= 3; ++i) insert("hook", i);
    Dispatcher d(config, outbox, clock, factory());

    // Attempt 1: refused. Only the oldest row is tried; the others wait behind it (order).
    auto s1 = d.run_for(10s);
    EXPECT_EQ(s1.retried, 1);
    EXPECT_EQ(s1.delivered, 0);
    auto r1 = outbox.row(1);
    EXPECT_EQ(r1.state, OutboxState::pending);
    EXPECT_EQ(r1.attempts, 1);
    EXPECT_NE(r1.last_error.find("connection failed"), std::string::npos) << r1.last_error;
    EXPECT_GE(r1.next_attempt, clock.wall() + 30s);
    EXPECT_LE(r1.next_attempt, clock.wall() + 45s);  // retry_min stretched by at most 50 %
    EXPECT_EQ(outbox.row(2).attempts, 0);
    EXPECT_EQ(outbox.row(3).attempts, 0);
    EXPECT_EQ(s1.still_pending, 2);  // rows 2 and 3 are due but wait behind row 1

    // Not due yet: nothing is tried, not even the rows behind it; nor by a new dispatcher
    // (a restart of a one-shot run).
    auto s_early = d.run_for(10s);
    EXPECT_EQ(s_early.retried + s_early.delivered, 0);
    Dispatcher restarted(config, outbox, clock, factory());
    auto s_restarted = restarted.run_for(10s);
    EXPECT_EQ(s_restarted.retried + s_restarted.delivered, 0);
    EXPECT_EQ(outbox.row(2).attempts, 0);

    // Attempt 2 after the wait: the backoff doubles.
    clock.set_wall(r1.next_attempt);
    auto s2 = d.run_for(10s);
    EXPECT_EQ(s2.retried, 1);
    auto r1b = outbox.row(1);
    EXPECT_EQ(r1b.attempts, 2);
    EXPECT_GE(r1b.next_attempt, clock.wall() + 60s);
    EXPECT_LE(r1b.next_attempt, clock.wall() + 90s);

    // Attempt 3 still down.
    clock.set_wall(r1b.next_attempt);
    EXPECT_EQ(d.run_for(10s).retried, 1);
    EXPECT_EQ(outbox.row(1).attempts, 3);

    // The receiver comes up on that port.
    httplib::Server server;
    std::mutex seen_mutex;
    std::vector<std::string> seen;
    server.Post("/hook", [&](const httplib::Request& req, httplib::Response& res) {
        std::lock_guard lock(seen_mutex);
        seen.push_back(req.get_header_value("Idempotency-Key"));
        res.set_content("ok", "text/plain");
    });
    ASSERT_TRUE(server.bind_to_port("127.0.0.1", port));
    std::thread listener([&] { server.listen_after_bind(); });
    clock.set_wall(outbox.row(1).next_attempt);
    auto s4 = d.run_for(10s);
    server.stop();
    listener.join();
    EXPECT_EQ(s4.delivered, 3);
    EXPECT_EQ(seen, (std::vector<std::string>{"inc-1#1", "inc-2#1", "inc-3#1"}));
    for (const auto& row : outbox.rows()) EXPECT_EQ(row.state, OutboxState::delivered) << row.id;
    EXPECT_EQ(outbox.row(1).attempts, 4);
    EXPECT_EQ(outbox.row(2).attempts, 1);
}

TEST_P(DispatcherTest, AStormDuringALongOutageCostsOneAttemptPerBackoffStepAndArrivesInOrder) {
    // D10: 200 incidents within 5 ticks while the receiver answers 503 for 10 minutes, a
    // one-shot dispatch after every minute's tick. Only the channel's oldest row is tried, on
    // its backoff schedule; the other 199 wait behind it (no retry storm).
    Receiver rx;
    rx.answer(503, "overloaded");
    ports["hook"] = rx.port();
    config.channels[0].min_gap = std::chrono::milliseconds(0);
    Dispatcher d(config, outbox, clock, factory());
    const WallTime outage_start = clock.wall();
    int next = 1;
    for (int tick = 0; tick < 5; ++tick) {
        for (int i = 0; i < 40; ++i) insert("hook", next++);
        d.run_for(2s);
        clock.advance(60s);
    }
    while (clock.wall() < outage_start + 10min) {
        d.run_for(2s);
        clock.advance(60s);
    }
    const auto attempts = rx.seen().size();
    // 30 s doubling (at most +50 % jitter), tried at the next minute: 4 to 6 in 10 minutes.
    EXPECT_GE(attempts, 4u);
    EXPECT_LE(attempts, 7u);
    for (const auto& key : rx.seen()) EXPECT_EQ(key, "inc-1#1");
    const auto rows = outbox.rows();
    ASSERT_EQ(rows.size(), 200u);
    for (const auto& row : rows) {
        EXPECT_EQ(row.state, OutboxState::pending) << row.id;
        if (row.id != 1) {
            EXPECT_EQ(row.attempts, 0) << row.id;
        }
    }
    EXPECT_EQ(outbox.row(1).attempts, static_cast<int>(attempts));

    // The receiver recovers: everything goes, oldest first, each incident once.
    rx.answer(200, "ok");
    clock.set_wall(std::max(clock.wall(), outbox.row(1).next_attempt));
    for (int run = 0; run < 10 && rx.seen().size() < attempts + 200; ++run) d.run_for(10s);
    const auto seen = rx.seen();
    ASSERT_EQ(seen.size(), attempts + 200);
    for (int i = 1; i <= 200; ++i)
        EXPECT_EQ(seen[attempts + static_cast<std::size_t>(i) - 1], "inc-" + std::to_string(i) + "#1");
    for (const auto& row : outbox.rows()) EXPECT_EQ(row.state, OutboxState::delivered) << row.id;
}

TEST_P(DispatcherTest, ServerErrorIsRetried) {
    Receiver rx;
    rx.answer(503, "try later");
    ports["hook"] = rx.port();
    insert("hook", 1);
    Dispatcher d(config, outbox, clock, factory());
    auto s = d.run_for(10s);
    EXPECT_EQ(s.retried, 1);
    auto row = outbox.row(1);
    EXPECT_EQ(row.state, OutboxState::pending);
    EXPECT_EQ(row.attempts, 1);
    EXPECT_EQ(row.last_error, "HTTP 503: try later");

    rx.answer(200, "ok");
    clock.set_wall(row.next_attempt);
    EXPECT_EQ(d.run_for(10s).delivered, 1);
    EXPECT_EQ(outbox.row(1).state, OutboxState::delivered);
    EXPECT_EQ(rx.seen().size(), 2u);
}

TEST_P(DispatcherTest, StoredErrorIsCappedAtOneKiB) {
    Receiver rx;
    rx.answer(500, std::string(100'000, 'e'));
    ports["hook"] = rx.port();
    insert("hook", 1);
    Dispatcher d(config, outbox, clock, factory());
    (void)d.run_for(10s);
    auto row = outbox.row(1);
    EXPECT_EQ(row.state, OutboxState::pending);
    EXPECT_LE(row.last_error.size(), 1024u);
    EXPECT_TRUE(row.last_error.starts_with("HTTP 500: eee"));
}

TEST_P(DispatcherTest, BadRequestIsDeadAtOnceWithTheReason) {
    Receiver rx;
    rx.answer(400, "invalid payload: missing text");
    ports["hook"] = rx.port();
    insert("hook", 1);
    insert("hook", 2);
    Dispatcher d(config, outbox, clock, factory());
    auto s = d.run_for(10s);
    EXPECT_EQ(s.dead, 2);
    auto row = outbox.row(1);
    EXPECT_EQ(row.state, OutboxState::dead);
    EXPECT_EQ(row.last_error, "HTTP 400: invalid payload: missing text");
    EXPECT_EQ(row.finished, clock.wall());
    EXPECT_EQ(outbox.row(2).state, OutboxState::dead);  // a dead row does not hold up the next
}

TEST_P(DispatcherTest, RetryAfterIsHonoured) {
    Receiver rx;
    rx.answer(429, "slow down", "7");
    ports["hook"] = rx.port();
    insert("hook", 1);
    Dispatcher d(config, outbox, clock, factory());
    (void)d.run_for(10s);
    auto row = outbox.row(1);
    EXPECT_EQ(row.state, OutboxState::pending);
    EXPECT_EQ(row.next_attempt, clock.wall() + 7s);  // not retry_min (30 s)

    rx.answer(429, "slow down", "999999");  // capped at retry_max
    clock.set_wall(row.next_attempt);
    (void)d.run_for(10s);
    EXPECT_EQ(outbox.row(1).next_attempt, clock.wall() + 1h);
}

TEST_P(DispatcherTest, BackoffIsCappedAtRetryMax) {
    const int port = test::free_port();
    ports["hook"] = port;
    config.alerting.retry_min = 30s;
    config.alerting.retry_max = 5min;
    insert("hook", 1);
    Dispatcher d(config, outbox, clock, factory());
    std::vector<std::chrono::milliseconds> waits;
    for (int i = 0; i < 8; ++i) {
        (void)d.run_for(10s);
        auto row = outbox.row(1);
        waits.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(row.next_attempt - clock.wall()));
        clock.set_wall(row.next_attempt);
    }
    EXPECT_EQ(outbox.row(1).attempts, 8);  // 8 attempts in 8 runs: no retry storm
    for (std::size_t i = 0; i < waits.size(); ++i) {
        EXPECT_GE(waits[i], 30s) << i;
        EXPECT_LE(waits[i], 5min) << i;
    }
    EXPECT_EQ(waits.back(), 5min);
}

TEST_P(DispatcherTest, DeadOnlyAfterDeadAfterWithTheReason) {
    const int port = test::free_port();
    ports["hook"] = port;
    insert("hook", 1);
    Dispatcher d(config, outbox, clock, factory());
    const WallTime created = clock.wall();
    int runs = 0;
    // 25 hours of a receiver that is down: pending until dead_after, then dead.
    while (outbox.row(1).state == OutboxState::pending && runs < 200) {
        (void)d.run_for(10s);
        ++runs;
        auto row = outbox.row(1);
        if (row.state != OutboxState::pending) break;
        EXPECT_LE(row.next_attempt, created + 24h);
        EXPECT_LT(clock.wall(), created + 24h);
        clock.set_wall(row.next_attempt);
    }
    auto row = outbox.row(1);
    EXPECT_EQ(row.state, OutboxState::dead);
    EXPECT_EQ(clock.wall(), created + 24h);  // the last attempt is at the deadline
    EXPECT_NE(row.last_error.find("gave up after"), std::string::npos) << row.last_error;
    EXPECT_NE(row.last_error.find("connection failed"), std::string::npos) << row.last_error;
    EXPECT_LT(runs, 40);  // 30 s doubling to 1 h: about 30 attempts in a day
}

TEST_P(DispatcherTest, UnknownChannelAndBadPayloadAreDeadWithTheReason) {
    insert("nowhere", 1);
    OutboxItem garbage = item("hook", 2, clock.wall());
    garbage.payload = "{not json";
    ASSERT_TRUE(outbox.insert({garbage}).has_value());
    Receiver rx;
    ports["hook"] = rx.port();
    Dispatcher d(config, outbox, clock, factory());
    auto s = d.run_for(10s);
    EXPECT_EQ(s.dead, 2);
    EXPECT_EQ(outbox.row(1).state, OutboxState::dead);
    EXPECT_EQ(outbox.row(1).last_error,
              "channel \"nowhere\" cannot be used: no [[channels]] entry named \"nowhere\"");
    EXPECT_EQ(outbox.row(2).state, OutboxState::dead);
    EXPECT_NE(outbox.row(2).last_error.find("no valid notification"), std::string::npos);
    EXPECT_TRUE(rx.seen().empty());
}

TEST_P(DispatcherTest, OneShotBudgetIsRespectedWhenAReceiverHangs) {
    Receiver rx;
    rx.hang();
    ports["hook"] = rx.port();
    insert("hook", 1);
    Dispatcher d(config, outbox, clock, factory());
    const auto start = std::chrono::steady_clock::now();
    auto s = d.run_for(500ms);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
    EXPECT_EQ(s.delivered, 0);
    EXPECT_EQ(s.still_pending, 1);
    auto row = outbox.row(1);
    EXPECT_EQ(row.state, OutboxState::pending);
    EXPECT_EQ(row.attempts, 0);  // abandoned: not charged
    rx.release();
    wait_sends_returned(1);
}

// ---- daemon mode -----------------------------------------------------------------------------

class DaemonTest : public DispatcherTest {
protected:
    DaemonTest() {
        config.alerting.retry_min = 100ms;
        config.alerting.retry_max = 400ms;
    }
    SystemClock real_clock;
};

TEST_P(DaemonTest, WakeSendsNewRowsAtOnce) {
    Receiver rx;
    ports["hook"] = rx.port();
    Dispatcher d(config, outbox, real_clock, factory());
    d.start();
    ASSERT_TRUE(outbox.insert({item("hook", 1, real_clock.wall())}).has_value());
    const auto start = std::chrono::steady_clock::now();
    d.wake();
    EXPECT_TRUE(rx.wait_seen(1, 5s));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
    EXPECT_TRUE(test::wait_until([&] { return outbox.row(1).state == OutboxState::delivered; }, 5s));
    d.stop(1s);
}

TEST_P(DaemonTest, ChannelMinGapSpacesMessagesOut) {
    // D10: after an outage the backlog drains at the channel's rate, not all at once.
    Receiver rx;
    ports["hook"] = rx.port();
    config.channels[0].min_gap = 200ms;
    const WallTime now = real_clock.wall();
    for (int i = 1; i <= 4; ++i) ASSERT_TRUE(outbox.insert({item("hook", i, now)}).has_value());
    Dispatcher d(config, outbox, real_clock, factory());
    const auto start = std::chrono::steady_clock::now();
    d.start();
    ASSERT_TRUE(rx.wait_seen(4, 10s));
    const auto elapsed = std::chrono::steady_clock::now() - start;
    d.stop(1s);
    EXPECT_GE(elapsed, 600ms);  // three gaps of 200 ms between four messages
    EXPECT_EQ(rx.seen(), (std::vector<std::string>{"inc-1#1", "inc-2#1", "inc-3#1", "inc-4#1"}));
}

TEST_P(DaemonTest, StalledReceiverNeverDelaysAnotherChannel) {
    Receiver slow;
    slow.hang();
    Receiver fast;
    ports["hook"] = slow.port();
    ports["other"] = fast.port();
    const WallTime now = real_clock.wall();
    ASSERT_TRUE(outbox.insert({item("hook", 1, now)}).has_value());  // oldest: the stalled one
    for (int i = 2; i <= 5; ++i) ASSERT_TRUE(outbox.insert({item("other", i, now)}).has_value());
    Dispatcher d(config, outbox, real_clock, factory());
    d.start();
    EXPECT_TRUE(fast.wait_seen(4, 5s)) << fast.seen().size();
    EXPECT_TRUE(test::wait_until([&] {
        auto rows = outbox.rows();
        return std::count_if(rows.begin(), rows.end(), [](const OutboxRow& r) { return r.state == OutboxState::delivered; }) == 4;
    }, 5s));
    EXPECT_EQ(slow.seen().size(), 1u);  // still hanging on the first

    // SIGTERM while the slow send hangs (C3): stop returns within the grace; the row stays
    // pending and the attempt is not charged.
    const auto start = std::chrono::steady_clock::now();
    d.stop(300ms);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
    auto row = outbox.row(1);
    EXPECT_EQ(row.state, OutboxState::pending);
    EXPECT_EQ(row.attempts, 0);
    EXPECT_EQ(row.last_error, "");
    slow.release();
    wait_sends_returned(5);
}

TEST_P(DaemonTest, RowsPendingAtShutdownAreDeliveredByTheNextDispatcher) {
    // C2/C3: the receiver got the request but the answer never came back before shutdown.
    Receiver rx;
    rx.hang();
    ports["hook"] = rx.port();
    ASSERT_TRUE(outbox.insert({item("hook", 1, real_clock.wall())}).has_value());
    {
        Dispatcher first(config, outbox, real_clock, factory());
        first.start();
        ASSERT_TRUE(rx.wait_seen(1, 5s));
        first.stop(200ms);
    }
    EXPECT_EQ(outbox.row(1).state, OutboxState::pending);
    rx.release();
    wait_sends_returned(1);

    Dispatcher second(config, outbox, real_clock, factory());
    second.start();
    EXPECT_TRUE(test::wait_until([&] { return outbox.row(1).state == OutboxState::delivered; }, 5s));
    second.stop(1s);
    // At least once, and every copy carries the same idempotency key.
    EXPECT_EQ(rx.seen(), (std::vector<std::string>{"inc-1#1", "inc-1#1"}));
    EXPECT_EQ(outbox.row(1).attempts, 1);
}

TEST_P(DaemonTest, ReceiverDownThenUpDeliversEveryRowOnceInOrder) {
    const int port = test::free_port();
    ports["hook"] = port;
    const WallTime now = real_clock.wall();
    for (int i = 1; i <= 5; ++i) ASSERT_TRUE(outbox.insert({item("hook", i, now + std::chrono::milliseconds(i))}).has_value());
    Dispatcher d(config, outbox, real_clock, factory());
    d.start();
    EXPECT_TRUE(test::wait_until([&] { return outbox.row(1).attempts >= 3; }, 10s));
    for (int i = 2; i <= 5; ++i) EXPECT_EQ(outbox.row(i).attempts, 0) << i;

    httplib::Server server;
    std::mutex seen_mutex;
    std::vector<std::string> seen;
    server.Post("/hook", [&](const httplib::Request& req, httplib::Response& res) {
        std::lock_guard lock(seen_mutex);
        seen.push_back(req.get_header_value("Idempotency-Key"));
        res.set_content("ok", "text/plain");
    });
    ASSERT_TRUE(server.bind_to_port("127.0.0.1", port));
    std::thread listener([&] { server.listen_after_bind(); });
    const bool all = test::wait_until([&] {
        auto rows = outbox.rows();
        return std::all_of(rows.begin(), rows.end(), [](const OutboxRow& r) { return r.state == OutboxState::delivered; });
    }, 10s);
    d.stop(1s);
    server.stop();
    listener.join();
    EXPECT_TRUE(all);
    EXPECT_EQ(seen, (std::vector<std::string>{"inc-1#1", "inc-2#1", "inc-3#1", "inc-4#1", "inc-5#1"}));
}

TEST_P(DaemonTest, UnpersistedRowsAreDeliveredFromMemoryAndHandedBack) {
    if (GetParam()) GTEST_SKIP() << "needs an outbox that can fail on demand: runs on the in-test outbox";
    TestOutbox failing;
    // S2: the store cannot be written; the alert still goes out.
    Receiver rx;
    ports["hook"] = rx.port();
    failing.set_down(true);
    Dispatcher d(config, failing, real_clock, factory());
    d.start();
    d.submit_unpersisted({item("hook", 7, real_clock.wall())});
    EXPECT_TRUE(rx.wait_seen(1, 5s));
    std::this_thread::sleep_for(500ms);  // the answer travels back and is recorded in memory
    d.stop(1s);
    const std::vector<OutboxRow> back = d.take_unpersisted();
    ASSERT_EQ(back.size(), 1u);
    EXPECT_EQ(back[0].item.idempotency_key, "inc-7#1");
    EXPECT_EQ(back[0].state, OutboxState::delivered);
    EXPECT_EQ(rx.seen(), (std::vector<std::string>{"inc-7#1"}));
}

// ---- the real channels ------------------------------------------------------------------------

TEST_P(DispatcherTest, DefaultFactoryBuildsTheConfiguredWebhookChannel) {
    Receiver rx;
    ChannelConfig hook;
    hook.name = "hook";
    hook.type = ChannelType::webhook;
    hook.min_gap = 0ms;
    hook.url.source = SecretRef::Source::inline_value;
    hook.url.value = Secret(fmt::format("http://127.0.0.1:{}/hook", rx.port()));
    config.channels = {hook};
    insert("hook", 1);
    Dispatcher d(config, outbox, clock);
    auto s = d.run_for(10s);
    EXPECT_EQ(s.delivered, 1) << outbox.row(1).last_error;
    EXPECT_EQ(outbox.row(1).state, OutboxState::delivered);
    EXPECT_EQ(rx.seen(), (std::vector<std::string>{"inc-1#1"}));
}

TEST(SendTest, SendsThroughTheNamedChannelAndSaysWhatHappened) {
    Config config;  // no [[channels]]: only the built-in log channel
    FakeClock clock;
    auto answer = send_test(config, "log", clock);
    ASSERT_TRUE(answer.has_value()) << answer.error().message;
    EXPECT_TRUE(answer->starts_with("log: delivered")) << *answer;

    auto unknown = send_test(config, "pager", clock);
    ASSERT_FALSE(unknown.has_value());
    EXPECT_EQ(unknown.error().kind, ErrorKind::usage);
    EXPECT_EQ(unknown.error().message, "no channel named \"pager\"; configured: none (only the built-in \"log\")");
}

TEST(SendTest, ReceiverFailureIsTheExactError) {
    Receiver rx;
    rx.answer(400, "no such hook");
    Config config;
    ChannelConfig hook;
    hook.name = "hook";
    hook.type = ChannelType::webhook;
    hook.url.source = SecretRef::Source::inline_value;
    hook.url.value = Secret(fmt::format("http://127.0.0.1:{}/hook?token=CANARY123", rx.port()));
    config.channels = {hook};
    FakeClock clock;
    auto answer = send_test(config, "hook", clock);
    ASSERT_FALSE(answer.has_value());
    EXPECT_TRUE(answer.error().message.starts_with("alert test: hook: failed (would not be retried)")) << answer.error().message;
    EXPECT_NE(answer.error().message.find("400"), std::string::npos) << answer.error().message;
    EXPECT_EQ(answer.error().message.find("CANARY123"), std::string::npos) << answer.error().message;
    EXPECT_EQ(rx.seen().size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Outbox, DispatcherTest, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& tp) { return tp.param ? "Sqlite" : "InTest"; });
INSTANTIATE_TEST_SUITE_P(Outbox, DaemonTest, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& tp) { return tp.param ? "Sqlite" : "InTest"; });

}  // namespace
}  // namespace boxmon::alerting
