// Dispatcher: sends due outbox rows through their channels (DESIGN §5, RELIABILITY C2, C3,
// D1-D12). The OutboxStore is the only durable state; what lives here is who is sending what.
//
// One scheduler thread reads due rows and hands them to one worker thread per channel, so a
// receiver that hangs holds up only its own channel. Within a channel rows go oldest first;
// a retry blocks the channel until that row's next attempt, so a receiver that comes back sees
// the rows in their original order. Delivery is at least once: a row is marked only after the
// channel answered, and a row abandoned at shutdown is left exactly as it was (pending, not
// charged), to be sent again, with the same idempotency key, after a restart.
#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <spdlog/spdlog.h>

#include "alerting/alerting.hpp"
#include "alerting/channel.hpp"
#include "alerting/notification_json.hpp"
#include "core/log.hpp"
#include "core/text.hpp"

namespace boxmon::alerting {

namespace {

using SteadyClock = std::chrono::steady_clock;

// Rows a channel may have queued in memory beyond the one it is sending; the rest stay in
// the store (still due) until the channel catches up.
constexpr std::size_t k_queue_max = 32;
// Unclaimed rows asked for per scan, on top of the rows already queued (which due() returns
// again): other channels' rows stay visible however long one channel's backlog is.
constexpr std::size_t k_scan_extra = 64;
// The scheduler looks at the store at least this often, even without wake().
constexpr std::chrono::milliseconds k_scan_max_wait{10'000};
// A receiver's Retry-After is honoured within [this, retry_max].
constexpr std::chrono::seconds k_retry_after_min{1};
// run_for: how long an attempt may still finish after the budget is spent.
constexpr std::chrono::milliseconds k_one_shot_grace{100};
// OutboxRow::last_error holds at most this much.
constexpr std::size_t k_error_max_bytes = 1024;
// Rows counted for DispatchSummary::still_pending.
constexpr std::size_t k_count_limit = 100'000;
// Recent rows read at start to find channels still waiting on a failing row.
constexpr std::size_t k_seed_limit = 1000;

enum class SourceId { store = 0, memory = 1 };

using RowKey = std::pair<int, std::int64_t>;  // (SourceId, row id)

// Rows raised while the store was down (RELIABILITY S2): the same interface, in memory.
class MemoryOutbox final : public OutboxStore {
public:
    Result<std::vector<OutboxRow>> due(WallTime now, std::size_t limit) override {
        std::lock_guard lock(m_mutex);
        std::vector<OutboxRow> out;
        for (const auto& row : m_rows) {
            if (out.size() >= limit) break;
            if (row.state == OutboxState::pending && row.next_attempt <= now) out.push_back(row);
        }
        return out;
    }
    Result<std::optional<WallTime>> next_due() override {
        std::lock_guard lock(m_mutex);
        std::optional<WallTime> next;
        for (const auto& row : m_rows)
            if (row.state == OutboxState::pending && (!next || row.next_attempt < *next)) next = row.next_attempt;
        return next;
    }
    Result<void> mark_delivered(std::int64_t id, WallTime at) override {
        return update(id, [&](OutboxRow& row) {
            row.state = OutboxState::delivered;
            row.attempts += 1;
            row.finished = at;
        });
    }
    Result<void> mark_retry(std::int64_t id, WallTime next_attempt, std::string_view error, bool charge) override {
        return update(id, [&](OutboxRow& row) {
            row.next_attempt = next_attempt;
            row.last_error = std::string(error);
            if (charge) row.attempts += 1;
        });
    }
    Result<void> mark_dead(std::int64_t id, WallTime at, std::string_view reason) override {
        return update(id, [&](OutboxRow& row) {
            row.state = OutboxState::dead;
            row.attempts += 1;
            row.last_error = std::string(reason);
            row.finished = at;
        });
    }
    Result<void> insert(const std::vector<OutboxItem>& items) override {
        std::lock_guard lock(m_mutex);
        for (const auto& item : items) {
            const auto existing = std::find_if(m_rows.begin(), m_rows.end(), [&](const OutboxRow& r) {
                return r.item.channel == item.channel && r.item.idempotency_key == item.idempotency_key;
            });
            if (existing != m_rows.end()) {
                if (item.kind == to_string(NotificationKind::refresh)) rearm_refresh(*existing, item);
                continue;
            }
            OutboxRow row;
            row.id = ++m_last_id;
            row.item = item;
            row.next_attempt = item.created;
            m_rows.push_back(std::move(row));
        }
        return ok();
    }
    Result<OutboxCounts> counts() override {
        std::lock_guard lock(m_mutex);
        OutboxCounts c;
        for (const auto& row : m_rows) {
            if (row.state == OutboxState::pending) {
                ++c.pending;
                if (!c.oldest_pending || row.item.created < *c.oldest_pending) c.oldest_pending = row.item.created;
            } else if (row.state == OutboxState::dead) {
                ++c.dead;
            } else {
                ++c.delivered;
            }
        }
        return c;
    }
    Result<std::vector<OutboxRow>> recent(WallTime since, std::size_t limit) override {
        std::lock_guard lock(m_mutex);
        std::vector<OutboxRow> out;
        for (auto it = m_rows.rbegin(); it != m_rows.rend() && out.size() < limit; ++it)
            if (it->item.created >= since) out.push_back(*it);
        return out;
    }
    // Every row, whatever its state; the outbox is empty afterwards.
    std::vector<OutboxRow> take_all() {
        std::lock_guard lock(m_mutex);
        return std::exchange(m_rows, {});
    }
    // Puts rows take_all() returned back in front (writing them elsewhere failed).
    void put_back(std::vector<OutboxRow> rows) {
        std::lock_guard lock(m_mutex);
        rows.insert(rows.end(), std::make_move_iterator(m_rows.begin()), std::make_move_iterator(m_rows.end()));
        m_rows = std::move(rows);
    }

private:
    // As the store does (core/outbox.hpp): a pending refresh takes the new payload and keeps its
    // schedule; a finished one starts again.
    static void rearm_refresh(OutboxRow& row, const OutboxItem& item) {
        row.item.payload = item.payload;
        if (row.state == OutboxState::pending) return;
        row.item.created = item.created;
        row.state = OutboxState::pending;
        row.attempts = 0;
        row.next_attempt = item.created;
        row.last_error.clear();
        row.finished.reset();
    }

    template <class F>
    Result<void> update(std::int64_t id, F&& change) {
        std::lock_guard lock(m_mutex);
        for (auto& row : m_rows) {
            if (row.id == id) {
                change(row);
                return ok();
            }
        }
        // Handed back by take_unpersisted() while it was being sent: its new home is the store.
        return fail_as(ErrorKind::not_found, "outbox row {} is no longer held in memory", id);
    }

    std::mutex m_mutex;
    std::vector<OutboxRow> m_rows;
    std::int64_t m_last_id = 0;
};

// A row taken for sending, and where it lives.
struct Job {
    SourceId source = SourceId::store;
    OutboxRow row;
    RowKey key() const { return {static_cast<int>(source), row.id}; }
};

// The rows of one channel, oldest first.
using QueueKey = std::tuple<std::int64_t, int, std::int64_t>;  // (created ms, source, id)
QueueKey queue_key(const Job& job) {
    return {to_unix_ms(job.row.item.created), static_cast<int>(job.source), job.row.id};
}

// A channel whose oldest failing row is not due yet: rows created after it wait (order).
struct Block {
    WallTime until{};
    QueueKey after{};
};
using Blocks = std::map<std::string, Block>;

// Whether `job` must wait behind its channel's failing row.
bool blocked(const Blocks& blocks, const Job& job, WallTime now) {
    auto it = blocks.find(job.row.item.channel);
    return it != blocks.end() && now < it->second.until && queue_key(job) > it->second.after;
}

struct Worker {
    std::string name;
    std::unique_ptr<Channel> channel;  // null when it could not be built
    std::string build_error;
    std::chrono::milliseconds min_gap{0};
    std::map<QueueKey, Job> queue;
    std::optional<SteadyClock::time_point> last_send;
    bool in_send = false;
    bool done = false;
    bool abandoned = false;  // stop() gave up on it during a send: it touches nothing shared
    std::thread thread;
};

// One start()..stop() span. Threads hold it by shared_ptr, so a worker abandoned inside a
// hanging send() outlives the Dispatcher safely (it only reads its own Worker afterwards).
struct Run {
    std::shared_ptr<const Config> config;
    ChannelFactory factory;
    OutboxStore* store = nullptr;
    std::shared_ptr<MemoryOutbox> memory;
    const Clock* clock = nullptr;
    bool one_shot = false;

    std::mutex mutex;
    std::condition_variable cv;
    std::atomic<bool> abort{false};
    bool stopping = false;
    bool scan_requested = false;
    bool finished = false;  // one-shot: nothing more to do
    std::map<std::string, std::shared_ptr<Worker>> workers;
    std::set<RowKey> claimed;
    // Sends that ended, numbered in order, until the scans that might have read their rows
    // before the outcome was written are over (scan() reads the outboxes without the lock).
    std::uint64_t sends_ended = 0;
    std::map<RowKey, std::uint64_t> ended;
    Blocks blocks;
    DispatchSummary summary;
    ChangeFilter errors;
    std::thread scheduler;

    OutboxStore& source(SourceId id) { return id == SourceId::store ? *store : *memory; }
};

std::string format_duration(std::chrono::milliseconds d) {
    const auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
    if (s < 120) return fmt::format("{} s", s);
    if (s < 7200) return fmt::format("{} min", s / 60);
    return fmt::format("{:.1f} h", static_cast<double>(s) / 3600.0);
}

// The wait before attempt number `attempts + 1`: retry_min doubled per charged attempt, capped
// at retry_max, stretched by up to 50 % at random so rows that failed together do not come
// back together.
std::chrono::milliseconds backoff(const AlertingConfig& a, int attempts) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    std::uniform_real_distribution<double> jitter(1.0, 1.5);
    const double base = static_cast<double>(a.retry_min.count()) * std::pow(2.0, std::min(attempts, 40));
    const double stretched = std::min(base * jitter(rng), static_cast<double>(a.retry_max.count()));
    return std::max(a.retry_min, std::chrono::milliseconds(static_cast<std::int64_t>(stretched)));
}

SendOutcome send_job(Worker& worker, const Job& job, const std::atomic<bool>& abort, WallTime now) {
    if (!worker.channel) return SendOutcome{SendOutcome::Kind::dead, worker.build_error, std::nullopt};
    auto n = notification_from_json(job.row.item.payload);
    if (!n) return SendOutcome{SendOutcome::Kind::dead, "the outbox row holds no valid notification: " + n.error().message, std::nullopt};
    SendContext ctx;
    ctx.abort = &abort;
    ctx.now = now;
    spdlog::debug("sending alert {} ({}) on channel \"{}\" (attempt {})", job.row.item.idempotency_key,
                  job.row.item.kind, worker.name, job.row.attempts + 1);
    const auto started = std::chrono::steady_clock::now();
    SendOutcome outcome = worker.channel->send(*n, ctx);
    spdlog::debug("channel \"{}\" answered alert {} in {} ms: {}", worker.name, job.row.item.idempotency_key,
                  std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count(),
                  outcome.detail);
    return outcome;
}

// Writes the outcome of one attempt and updates the channel's schedule. Called without the
// run's lock.
void record(Run& run, Worker& worker, const Job& job, const SendOutcome& outcome) {
    const Config& config = *run.config;
    OutboxStore& store = run.source(job.source);
    const OutboxRow& row = job.row;
    const WallTime now = run.clock->wall();
    const std::string what = fmt::format("alert {} ({}) on channel \"{}\"", row.item.idempotency_key, row.item.kind,
                                         worker.name);
    Result<void> written;
    switch (outcome.kind) {
        case SendOutcome::Kind::delivered:
            written = store.mark_delivered(row.id, now);
            spdlog::info("{} delivered{}", what, row.attempts > 0 ? fmt::format(" after {} failed attempts", row.attempts) : "");
            {
                std::lock_guard lock(run.mutex);
                ++run.summary.delivered;
            }
            run.errors.clear("channel:" + worker.name);
            break;
        case SendOutcome::Kind::dead:
            written = store.mark_dead(row.id, now, truncate_utf8(sanitize_utf8(outcome.detail), k_error_max_bytes));
            spdlog::error("{} is dead and will not be sent: {}", what, outcome.detail);
            {
                std::lock_guard lock(run.mutex);
                ++run.summary.dead;
            }
            break;
        case SendOutcome::Kind::retry: {
            const auto age = std::chrono::duration_cast<std::chrono::milliseconds>(now - row.item.created);
            const auto dead_after = std::chrono::duration_cast<std::chrono::milliseconds>(config.alerting.dead_after);
            if (age >= dead_after) {
                const std::string reason = fmt::format("gave up after {} attempts over {} (dead_after {}): {}",
                                                       row.attempts + 1, format_duration(age),
                                                       format_duration(dead_after), outcome.detail);
                written = store.mark_dead(row.id, now, truncate_utf8(sanitize_utf8(reason), k_error_max_bytes));
                spdlog::error("{} is dead and will not be sent: {}", what, reason);
                std::lock_guard lock(run.mutex);
                ++run.summary.dead;
                break;
            }
            std::chrono::milliseconds delay = backoff(config.alerting, row.attempts);
            if (outcome.retry_after) {
                delay = std::clamp<std::chrono::milliseconds>(
                    std::chrono::duration_cast<std::chrono::milliseconds>(*outcome.retry_after), k_retry_after_min,
                    std::max<std::chrono::milliseconds>(config.alerting.retry_max, k_retry_after_min));
            }
            // The last attempt happens at the deadline, not up to retry_max after it.
            WallTime next = std::min(now + delay, row.item.created + dead_after);
            next = std::max(next, now + std::chrono::milliseconds(1));
            written = store.mark_retry(row.id, next, truncate_utf8(sanitize_utf8(outcome.detail), k_error_max_bytes), true);
            if (run.errors.changed("channel:" + worker.name, outcome.detail))
                spdlog::warn("{} failed (attempt {}), retrying in {}: {}", what, row.attempts + 1,
                             format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(next - now)),
                             outcome.detail);
            std::lock_guard lock(run.mutex);
            ++run.summary.retried;
            run.blocks[worker.name] = Block{next, queue_key(job)};
            // Rows queued behind it wait too (order); the store still has them as due.
            for (const auto& [k, queued] : worker.queue) run.claimed.erase(queued.key());
            worker.queue.clear();
            break;
        }
    }
    if (!written) {
        // The row stays as it was: it will be sent again (at least once, same idempotency key).
        if (run.errors.changed("store:" + worker.name, written.error().message))
            spdlog::error("cannot record the outcome of {}: {}", what, written.error().message);
    }
}

void worker_loop(std::shared_ptr<Run> run_ptr, std::shared_ptr<Worker> worker_ptr) {
    Run& run = *run_ptr;
    Worker& worker = *worker_ptr;
    std::unique_lock lock(run.mutex);
    while (!run.stopping) {
        if (worker.queue.empty()) {
            run.cv.wait_for(lock, k_scan_max_wait);
            continue;
        }
        if (worker.last_send && worker.min_gap.count() > 0) {
            const auto ready_at = *worker.last_send + worker.min_gap;
            if (SteadyClock::now() < ready_at) {
                run.cv.wait_until(lock, ready_at);
                continue;
            }
        }
        Job job = std::move(worker.queue.begin()->second);
        worker.queue.erase(worker.queue.begin());
        worker.in_send = true;
        worker.last_send = SteadyClock::now();
        lock.unlock();
        const SendOutcome outcome = send_job(worker, job, run.abort, run.clock->wall());
        lock.lock();
        worker.in_send = false;
        if (worker.abandoned) return;  // detached by stop(); the Run may be all that is left
        const bool aborted = run.abort.load();
        lock.unlock();
        // An attempt cut short by shutdown is not an answer: leave the row untouched (C3).
        if (!aborted || outcome.kind == SendOutcome::Kind::delivered) record(run, worker, job, outcome);
        lock.lock();
        run.claimed.erase(job.key());
        run.ended[job.key()] = ++run.sends_ended;
        run.scan_requested = true;
        run.cv.notify_all();
    }
    worker.done = true;
    run.cv.notify_all();
}

std::shared_ptr<Worker> make_worker(Run& run, const std::string& name) {
    auto worker = std::make_shared<Worker>();
    worker->name = name;
    auto channel = run.factory(name);
    if (channel) {
        worker->channel = std::move(*channel);
    } else {
        worker->build_error = fmt::format("channel \"{}\" cannot be used: {}", name, channel.error().message);
        spdlog::error("{}", worker->build_error);
    }
    if (const ChannelConfig* c = run.config->channel(name)) worker->min_gap = c->min_gap;
    return worker;
}

// Reads due rows from both outboxes and queues the unclaimed ones on their channels. Returns
// how many rows it queued. Called without the lock.
std::size_t scan(const std::shared_ptr<Run>& run_ptr) {
    Run& run = *run_ptr;
    std::size_t claimed_count;
    std::uint64_t ended_before_read;
    {
        std::lock_guard lock(run.mutex);
        claimed_count = run.claimed.size();
        ended_before_read = run.sends_ended;
    }
    const WallTime now = run.clock->wall();
    std::vector<Job> jobs;
    for (SourceId source : {SourceId::store, SourceId::memory}) {
        auto rows = run.source(source).due(now, claimed_count + k_scan_extra);
        if (!rows) {
            if (run.errors.changed("due", rows.error().message))
                spdlog::error("cannot read due alerts from the outbox: {}", rows.error().message);
            continue;
        }
        if (source == SourceId::store) run.errors.clear("due");
        for (auto& row : *rows) jobs.push_back(Job{source, std::move(row)});
    }
    std::size_t queued = 0;
    std::lock_guard lock(run.mutex);
    for (auto& job : jobs) {
        if (run.stopping) break;
        if (run.claimed.count(job.key())) continue;
        // Its send ended while the rows were being read: what was read may be from before its
        // outcome was stored (a delivered row read as still due would go out twice).
        if (auto it = run.ended.find(job.key()); it != run.ended.end() && it->second > ended_before_read) continue;
        auto it = run.workers.find(job.row.item.channel);
        if (it == run.workers.end()) {
            auto worker = make_worker(run, job.row.item.channel);
            worker->thread = std::thread(worker_loop, run_ptr, worker);
            it = run.workers.emplace(job.row.item.channel, std::move(worker)).first;
        }
        Worker& worker = *it->second;
        if (blocked(run.blocks, job, now) || worker.queue.size() >= k_queue_max) continue;
        run.claimed.insert(job.key());
        worker.queue.emplace(queue_key(job), std::move(job));
        ++queued;
    }
    // Outcomes stored before this read are in what it read: no later scan needs them.
    std::erase_if(run.ended, [&](const auto& e) { return e.second <= ended_before_read; });
    if (queued > 0) run.cv.notify_all();
    return queued;
}

// How long the scheduler may sleep before the next scan. Called without the lock.
std::chrono::milliseconds next_scan_wait(Run& run) {
    const WallTime now = run.clock->wall();
    std::optional<WallTime> next;
    for (SourceId source : {SourceId::store, SourceId::memory}) {
        auto n = run.source(source).next_due();
        if (n && *n && (!next || **n < *next)) next = **n;
    }
    std::lock_guard lock(run.mutex);
    std::optional<WallTime> wake;
    if (next && *next > now) wake = *next;
    // Due rows that are claimed or behind a blocked channel: the next chance is a channel's
    // unblocking (or a worker finishing, which asks for a scan).
    for (const auto& [name, block] : run.blocks)
        if (block.until > now && (!wake || block.until < *wake)) wake = block.until;
    if (!wake) return k_scan_max_wait;
    return std::clamp<std::chrono::milliseconds>(std::chrono::duration_cast<std::chrono::milliseconds>(*wake - now),
                                                  std::chrono::milliseconds(1), k_scan_max_wait);
}

void scheduler_loop(std::shared_ptr<Run> run_ptr) {
    Run& run = *run_ptr;
    for (;;) {
        const std::size_t queued = scan(run_ptr);
        const auto wait = next_scan_wait(run);
        std::unique_lock lock(run.mutex);
        if (run.stopping) break;
        if (run.one_shot && queued == 0 && !run.scan_requested) {
            const bool idle = std::all_of(run.workers.begin(), run.workers.end(), [](const auto& w) {
                return w.second->queue.empty() && !w.second->in_send;
            });
            if (idle) {
                run.finished = true;
                run.cv.notify_all();
                break;
            }
        }
        run.cv.wait_for(lock, wait, [&] { return run.stopping || run.scan_requested; });
        run.scan_requested = false;
        if (run.stopping) break;
    }
}

}  // namespace

class Dispatcher::Impl {
public:
    Impl(const Config& config, OutboxStore& store, const Clock& clock, ChannelFactory factory)
        : m_config(std::make_shared<const Config>(config)),
          m_store(&store),
          m_clock(&clock),
          m_factory(std::move(factory)),
          m_memory(std::make_shared<MemoryOutbox>()) {}

    void start(bool one_shot) {
        std::lock_guard guard(m_api_mutex);
        if (m_run) return;
        auto run = std::make_shared<Run>();
        run->config = m_config;
        run->factory = m_factory;
        run->store = m_store;
        run->memory = m_memory;
        run->clock = m_clock;
        run->one_shot = one_shot;
        if (!m_blocks_seeded) {
            m_blocks = seed_blocks();
            m_blocks_seeded = true;
        }
        run->blocks = m_blocks;
        run->scheduler = std::thread(scheduler_loop, run);
        m_run = std::move(run);
    }

    void wake() {
        std::lock_guard guard(m_api_mutex);
        if (!m_run) return;
        std::lock_guard lock(m_run->mutex);
        m_run->scan_requested = true;
        m_run->cv.notify_all();
    }

    // Waits until the one-shot run has nothing left or `deadline` passes.
    void wait_finished(SteadyClock::time_point deadline) {
        std::shared_ptr<Run> run;
        {
            std::lock_guard guard(m_api_mutex);
            run = m_run;
        }
        if (!run) return;
        std::unique_lock lock(run->mutex);
        run->cv.wait_until(lock, deadline, [&] { return run->finished; });
    }

    DispatchSummary stop(std::chrono::milliseconds grace) {
        std::lock_guard guard(m_api_mutex);
        if (!m_run) return {};
        std::shared_ptr<Run> run = std::move(m_run);
        const auto deadline = SteadyClock::now() + grace;
        std::vector<std::shared_ptr<Worker>> workers;
        {
            std::lock_guard lock(run->mutex);
            run->stopping = true;
            run->abort.store(true);
            run->cv.notify_all();
        }
        if (run->scheduler.joinable()) run->scheduler.join();  // only store reads: quick
        {
            std::lock_guard lock(run->mutex);
            for (const auto& [name, worker] : run->workers) workers.push_back(worker);
        }
        std::unique_lock lock(run->mutex);
        run->cv.wait_until(lock, deadline, [&] {
            return std::all_of(workers.begin(), workers.end(), [](const auto& w) { return w->done; });
        });
        std::vector<std::thread> to_join;
        for (const auto& worker : workers) {
            if (!worker->done && worker->in_send) {
                // Still inside a send that ignores the abort flag: leave it behind. Its row
                // stays pending and uncharged; the channel's own timeout ends the thread.
                worker->abandoned = true;
                spdlog::warn("stopping with an alert still being sent on channel \"{}\"; it stays pending and is "
                             "sent again after the restart",
                             worker->name);
                worker->thread.detach();
            } else {
                to_join.push_back(std::move(worker->thread));
            }
        }
        DispatchSummary summary = run->summary;
        m_blocks = run->blocks;
        lock.unlock();
        // Not in a send: each finishes its bookkeeping and sees `stopping` at once.
        for (auto& t : to_join)
            if (t.joinable()) t.join();
        return summary;
    }

    DispatchSummary run_for(std::chrono::milliseconds budget) {
        const auto deadline = SteadyClock::now() + budget;
        // A sample a minute usually has nothing to send: then no scheduler thread is started.
        // A one-shot run sends only rows due now, so one due later changes nothing.
        if (!anything_due_now()) return {};
        start(/*one_shot=*/true);
        wait_finished(deadline);
        DispatchSummary summary = stop(k_one_shot_grace);
        auto left = m_store->due(m_clock->wall(), k_count_limit);
        if (left) summary.still_pending = static_cast<int>(left->size());
        return summary;
    }

    void submit_unpersisted(std::vector<OutboxItem> items) {
        (void)m_memory->insert(items);
        wake();
    }

    std::vector<OutboxRow> take_unpersisted() { return m_memory->take_all(); }

    Result<std::size_t> persist_unpersisted(OutboxStore& store) {
        std::vector<OutboxRow> rows = m_memory->take_all();
        if (rows.empty()) return std::size_t{0};
        auto written = write_as_they_stand(store, rows);
        if (!written) m_memory->put_back(std::move(rows));
        return written;
    }

private:
    std::mutex m_api_mutex;
    std::shared_ptr<const Config> m_config;
    OutboxStore* m_store;
    const Clock* m_clock;
    ChannelFactory m_factory;
    std::shared_ptr<MemoryOutbox> m_memory;
    std::shared_ptr<Run> m_run;
    Blocks m_blocks;  // survives between runs (one-shot mode runs once per sample)
    bool m_blocks_seeded = false;

    // Inserts `rows` into `store`, then records each one's outcome on its stored row (found again
    // by channel and idempotency key among the rows created since the oldest of them).
    static Result<std::size_t> write_as_they_stand(OutboxStore& store, const std::vector<OutboxRow>& rows) {
        std::vector<OutboxItem> items;
        WallTime oldest = rows.front().item.created;
        for (const auto& r : rows) {
            items.push_back(r.item);
            oldest = std::min(oldest, r.item.created);
        }
        BOXMON_CHECK(store.insert(items));
        BOXMON_TRY(stored, store.recent(oldest, rows.size() + k_seed_limit));
        for (const auto& r : rows) {
            const auto it = std::find_if(stored.begin(), stored.end(), [&](const OutboxRow& s) {
                return s.item.channel == r.item.channel && s.item.idempotency_key == r.item.idempotency_key;
            });
            if (it == stored.end() || it->state != OutboxState::pending) continue;
            const WallTime at = r.finished.value_or(r.item.created);
            switch (r.state) {
                case OutboxState::delivered: BOXMON_CHECK(store.mark_delivered(it->id, at)); break;
                case OutboxState::dead: BOXMON_CHECK(store.mark_dead(it->id, at, r.last_error)); break;
                case OutboxState::pending:
                    if (r.attempts > 0) BOXMON_CHECK(store.mark_retry(it->id, r.next_attempt, r.last_error, false));
                    break;
            }
        }
        return rows.size();
    }

    // True when a pending row of the store or of memory is due now, or when the store cannot
    // say (the scheduler then meets the error and logs it).
    bool anything_due_now() {
        const WallTime now = m_clock->wall();
        for (OutboxStore* source : {m_store, static_cast<OutboxStore*>(m_memory.get())}) {
            auto next = source->next_due();
            if (!next || (*next && **next <= now)) return true;
        }
        return false;
    }

    // After a restart: channels whose oldest failing row is not due yet, from the store, so
    // rows behind it keep waiting (order across restarts).
    Blocks seed_blocks() {
        Blocks blocks;
        const WallTime now = m_clock->wall();
        const auto since = now - std::chrono::duration_cast<std::chrono::milliseconds>(m_config->alerting.dead_after);
        auto rows = m_store->recent(since, k_seed_limit);
        if (!rows) return blocks;
        for (const auto& row : *rows) {  // newest first: the last one seen per channel is the oldest
            if (row.state != OutboxState::pending || row.next_attempt <= now) continue;
            const Job job{SourceId::store, row};
            blocks[row.item.channel] = Block{row.next_attempt, queue_key(job)};
        }
        return blocks;
    }
};

Dispatcher::Dispatcher(const Config& config, OutboxStore& store, const Clock& clock, ChannelFactory factory)
    : m_impl(std::make_unique<Impl>(config, store, clock, std::move(factory))) {}

Dispatcher::~Dispatcher() {
    if (m_impl) m_impl->stop(std::chrono::milliseconds(500));
}

void Dispatcher::start() { m_impl->start(/*one_shot=*/false); }
void Dispatcher::wake() { m_impl->wake(); }
void Dispatcher::stop(std::chrono::milliseconds grace) { (void)m_impl->stop(grace); }
DispatchSummary Dispatcher::run_for(std::chrono::milliseconds budget) { return m_impl->run_for(budget); }
void Dispatcher::submit_unpersisted(std::vector<OutboxItem> items) { m_impl->submit_unpersisted(std::move(items)); }
std::vector<OutboxRow> Dispatcher::take_unpersisted() { return m_impl->take_unpersisted(); }
Result<std::size_t> Dispatcher::persist_unpersisted(OutboxStore& store) { return m_impl->persist_unpersisted(store); }

}  // namespace boxmon::alerting
