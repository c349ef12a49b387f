#pragma once
// The tick pipeline, shared by `boxmon run` and `boxmon sample` so both give the same results:
// collect -> ring -> rule engine -> notifications prepared into outbox items -> one store
// transaction (sample, counters, rule states, incidents, outbox) -> bounded maintenance ->
// dispatcher woken. When the store cannot be written (locked, disk full, read-only) ticks wait in
// a bounded backlog and are written, in order, once it recovers; notifications raised meanwhile
// are delivered from memory (RELIABILITY S2). A database found corrupt mid-run is moved aside
// and a new one started in its place (S4e).

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/exposition.hpp"
#include "alerting/alerting.hpp"
#include "collector/collector_set.hpp"
#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/fs.hpp"
#include "core/result.hpp"
#include "rules/engine.hpp"
#include "store/ring.hpp"
#include "store/store.hpp"

namespace boxmon::agent {

struct PipelineOptions {
    RootFs root;
    const Clock* clock = nullptr;  // null: the system clock
    bool one_shot = false;         // `boxmon sample`: no dispatcher threads, no second connection
};

struct TickOutcome {
    Sample sample;
    bool stored = false;            // this tick (and any backlog before it) is committed
    std::string store_error;        // why not, when not
    std::size_t backlog = 0;        // ticks waiting for the store after this one
    std::vector<rules::Decision> decisions;
    std::size_t notifications = 0;
    std::chrono::nanoseconds duration{0};  // collection to commit, on the steady clock
};

class Pipeline {
public:
    // Opens the store (creating it), restores counters and rule states, and builds the
    // collectors, the engine, the preparer and the dispatcher of `config`.
    static Result<std::unique_ptr<Pipeline>> open(const Config& config, PipelineOptions options);
    ~Pipeline();

    // One tick stamped `ts` (aligned), collected at `now`. `gap_before`: the previous tick is
    // more than two intervals back (suspend, downtime).
    TickOutcome tick(WallTime ts, const Instant& now, bool gap_before);

    // The timestamp of the last committed tick, if any.
    std::optional<WallTime> last_tick() const { return m_last_tick; }
    // boxmon's own health for the exposition: the last stored tick, the outbox counts and the
    // number of (rule, series) pairs in each phase, plus the duration of `outcome` when given.
    SelfMetrics self_metrics(const TickOutcome* outcome);
    // Whether the persisted counters belong to another boot (the one-shot gap rule).
    bool counters_from_other_boot(const std::string& boot_id) const;

    const Config& config() const { return m_config; }
    store::Store& store() { return *m_store; }
    alerting::Dispatcher& dispatcher() { return *m_dispatcher; }
    const store::Ring& ring() const { return m_ring; }

private:
    Pipeline(const Config& config, PipelineOptions options);
    std::vector<WindowPoint> window_for(const SeriesKey& key, WallTime ts);
    void flush_backlog(TickOutcome& out);
    void write_textfile(const Sample& sample, const TickOutcome& out);
    // Opens both connections and the dispatcher; a non-empty `move_aside_reason` moves the
    // existing database aside first. A database moved aside (now or by the checks at open)
    // queues one internal notification for the next write.
    Result<void> open_storage(const std::string& move_aside_reason);
    // A connection met corruption (S4e): writing stops at once; at the end of the tick the file
    // is moved aside and a new database started, carrying over the rule states, the open
    // incidents and the undelivered alerts, with the waiting ticks written there. At most one
    // move-aside an hour: a disk that keeps damaging files does not spin.
    void recover_from_corruption(TickOutcome& out, const Sample& sample);
    void queue_moved_aside_notice(const store::OpenReport& report);
    // Whether a connection has met corruption (logged once, when first seen).
    bool note_corruption();

    Config m_config;
    PipelineOptions m_options;
    std::unique_ptr<store::Store> m_store;
    std::unique_ptr<store::Store> m_dispatch_store;  // the dispatcher's own connection (daemon)
    collector::CollectorSet m_collectors;
    store::Ring m_ring;
    rules::Engine m_engine;
    std::unique_ptr<alerting::Preparer> m_preparer;
    std::unique_ptr<alerting::Dispatcher> m_dispatcher;
    std::optional<CounterSnapshot> m_counters;
    std::optional<WallTime> m_last_tick;
    std::deque<store::TickWrite> m_backlog;
    bool m_degraded = false;
    std::size_t m_dropped = 0;
    std::optional<std::string> m_corrupt;  // the damage a connection met; nothing is written meanwhile
    bool m_corrupt_held_said = false;      // the one-an-hour limit has been logged
    std::vector<OutboxItem> m_notices;     // boxmon's own notifications for the next write
};

// The store options of a writer of `config`'s database: its path, busy timeout and retention.
store::StoreOptions writer_store_options(const Config& config);

// The host name notifications carry: [general] hostname, else the system's.
std::string host_name(const Config& config);

}  // namespace boxmon::agent
