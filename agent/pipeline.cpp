#include "agent/pipeline.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <utility>

#include <spdlog/spdlog.h>

#include "agent/exposition.hpp"
#include "core/metric_format.hpp"

namespace boxmon::agent {

namespace {

// A day of ticks at the default interval; older ones are dropped (and counted) when the store
// stays unwritable longer than that.
constexpr std::size_t k_backlog_max = 1440;

std::size_t ring_capacity(const Config& c) {
    const auto interval = std::max<std::int64_t>(c.general.interval.count(), 1);
    const auto window = std::max(c.storage.ring_window, c.alerting.window);
    return static_cast<std::size_t>(window.count() / interval) + 2;
}

// `quick_check` reads the whole file (about 0.7 s for 30 days): the daemon's main connection
// does it once at start; a one-shot sample every minute and the second connection do not (the
// header and schema are still checked).
store::StoreOptions store_options(const Config& c, bool quick_check) {
    store::StoreOptions o = writer_store_options(c);
    o.quick_check = quick_check;
    return o;
}

}  // namespace

store::StoreOptions writer_store_options(const Config& c) {
    store::StoreOptions o;
    o.path = c.database_path();
    o.busy_timeout = c.storage.busy_timeout;
    o.retention_raw = c.storage.retention_raw;
    o.retention_5m = c.storage.retention_5m;
    o.retention_1h = c.storage.retention_1h;
    return o;
}

namespace {

void log_open_report(const store::Store& s) {
    const auto& r = s.open_report();
    if (r.created) spdlog::info("created the database {}", s.path().string());
    if (r.migrated_from >= 0) spdlog::info("migrated the database from schema version {}", r.migrated_from);
    if (!r.network_filesystem.empty())
        spdlog::warn("the state directory {} is on {}, a network or FUSE filesystem; SQLite's WAL needs a local "
                     "filesystem (shared memory, locks), so the database can be corrupted or stay locked: point "
                     "[general] state_dir (or [storage] path) at a local disk (said once for this database)",
                     s.path().parent_path().string(), r.network_filesystem);
    // A corrupt database moved aside is logged by the store, as an error.
}

}  // namespace

std::string host_name(const Config& config) {
    if (!config.general.hostname.empty()) return config.general.hostname;
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
    return buf;
}

Pipeline::Pipeline(const Config& config, PipelineOptions options)
    : m_config(config),
      m_options(std::move(options)),
      m_collectors(m_config),
      // A one-shot process takes one tick: its ring holds that one (the window comes from the
      // database), so it does not reserve the daemon's whole window for every series.
      m_ring(m_options.one_shot ? 1 : ring_capacity(m_config)),
      m_engine(m_config.rules) {}

Pipeline::~Pipeline() {
    if (m_dispatcher) m_dispatcher->stop(std::chrono::seconds(1));
}

Result<std::unique_ptr<Pipeline>> Pipeline::open(const Config& config, PipelineOptions options) {
    if (!options.clock) options.clock = &SystemClock::instance();
    std::unique_ptr<Pipeline> p(new Pipeline(config, std::move(options)));
    BOXMON_TRY(preparer, alerting::Preparer::create(p->m_config));
    p->m_preparer = std::make_unique<alerting::Preparer>(std::move(preparer));
    BOXMON_CHECK(p->open_storage(""));

    BOXMON_TRY(counters, p->m_store->load_counters());
    p->m_counters = std::move(counters);
    BOXMON_TRY(last, p->m_store->last_tick());
    p->m_last_tick = last;
    BOXMON_TRY(states, p->m_store->load_rule_states());
    for (const auto& problem : p->m_engine.restore(states)) spdlog::warn("rule state dropped: {}", problem);
    return p;
}

Result<void> Pipeline::open_storage(const std::string& move_aside_reason) {
    auto so = store_options(m_config, !m_options.one_shot);
    if (m_options.one_shot) {
        // A sample a minute: checkpoint every ~40 ticks (about 3 pages each) rather than at
        // every exit; the next sample's open then reads at most ~512 KiB of log.
        so.checkpoint_on_close = false;
        so.wal_autocheckpoint_pages = 128;
    }
    so.move_aside_reason = move_aside_reason;
    BOXMON_TRY(store, store::Store::open(so));
    m_store = std::move(store);
    log_open_report(*m_store);
    if (m_store->open_report().moved_aside) queue_moved_aside_notice(m_store->open_report());

    OutboxStore* outbox = &m_store->outbox();
    if (!m_options.one_shot) {
        // The dispatcher's threads use their own connection, so a slow send never holds the
        // tick's connection and the tick's transaction never waits on a send.
        BOXMON_TRY(second, store::Store::open(store_options(m_config, false)));
        m_dispatch_store = std::move(second);
        outbox = &m_dispatch_store->outbox();
    }
    m_dispatcher = std::make_unique<alerting::Dispatcher>(m_config, *outbox, *m_options.clock);
    return ok();
}

void Pipeline::queue_moved_aside_notice(const store::OpenReport& report) {
    const WallTime now = m_options.clock->wall();
    Notification n = alerting::internal_notification(
        fmt::format("boxmon-database-moved-aside-{}", to_unix_ms(now)), NotificationKind::firing, "database_corrupt",
        fmt::format("the database {} was corrupt ({}); boxmon moved it aside to {} (kept, with its -wal and -shm) and "
                    "started a new one, so history before this point is in the moved file. Corruption usually "
                    "means a failing disk or a filesystem that lost writes: check the kernel log and the disk's "
                    "health",
                    m_store->path().string(), report.corruption, report.moved_aside->string()),
        now);
    n.host = host_name(m_config);
    auto items = m_preparer->prepare(n, now);
    m_notices.insert(m_notices.end(), std::make_move_iterator(items.begin()), std::make_move_iterator(items.end()));
}

bool Pipeline::note_corruption() {
    if (m_corrupt) return true;
    auto seen = m_store->corruption();
    if (!seen && m_dispatch_store) seen = m_dispatch_store->corruption();
    if (!seen) return false;
    m_corrupt = std::move(seen);
    spdlog::error("the database {} is corrupt: {}; nothing more is written to it: it is moved aside (kept) and a "
                  "new one started",
                  m_store->path().string(), *m_corrupt);
    return true;
}

void Pipeline::recover_from_corruption(TickOutcome& out, const Sample& sample) {
    if (!note_corruption()) return;
    // The stamp in the moved file's name is the system clock's.
    const WallTime now = std::chrono::floor<Millis>(std::chrono::system_clock::now());
    if (const auto last = store::newest_move_aside(m_store->path());
        last && now >= *last && now - *last < std::chrono::hours(1)) {
        if (!m_corrupt_held_said)
            spdlog::error("a corrupt database was already moved aside here at {}; boxmon moves at most one "
                          "an hour (a disk that keeps damaging files needs a person), so ticks wait in memory "
                          "until {} and are then written to a new database",
                          format_iso8601(*last), format_iso8601(*last + std::chrono::hours(1)));
        m_corrupt_held_said = true;
        return;
    }

    // What the old file still gives, as far as it can be read: the alerts not yet delivered
    // (from the database and from memory) and the open incidents.
    m_dispatcher->stop(std::chrono::seconds(5));
    std::vector<OutboxItem> carried;
    for (auto& row : m_dispatcher->take_unpersisted())
        if (row.state == OutboxState::pending) carried.push_back(std::move(row.item));
    if (auto due = m_store->outbox().due(WallTime::max(), 100000)) {
        for (auto& row : *due) carried.push_back(std::move(row.item));
    } else {
        spdlog::error("cannot read the undelivered alerts from the corrupt database ({}); they stay in the moved "
                      "file and are not sent", due.error().message);
    }
    std::vector<Incident> open_incidents;
    if (auto inc = m_store->incidents(WallTime{}, WallTime::max(), true)) open_incidents = std::move(*inc);
    else spdlog::warn("cannot read the open incidents from the corrupt database: {}", inc.error().message);

    const std::string reason = *m_corrupt;
    m_dispatcher.reset();
    m_dispatch_store.reset();
    m_store.reset();
    if (auto opened = open_storage(reason); !opened) {
        spdlog::error("cannot move the corrupt database aside and start a new one: {}", opened.error().message);
        // Back to the file as it is (never left without a store); tried again within the hour
        // only if the move did not happen.
        if (auto again = open_storage(""); !again) {
            spdlog::critical("cannot open any database ({}); exiting so that the service manager restarts boxmon",
                             again.error().message);
            std::exit(1);
        }
        if (!m_options.one_shot) m_dispatcher->start();
        return;
    }
    m_corrupt.reset();
    m_corrupt_held_said = false;

    // The new database carries on where the old one stopped: the waiting ticks (or this one
    // again, when it was committed to the old file) with the undelivered alerts and open
    // incidents before them and the rule states after them.
    if (m_backlog.empty()) {
        store::TickWrite again;
        again.sample = sample;
        again.counters = m_counters;
        m_backlog.push_back(std::move(again));
    }
    auto& first = m_backlog.front();
    first.incidents.insert(first.incidents.begin(), open_incidents.begin(), open_incidents.end());
    first.outbox.insert(first.outbox.begin(), std::make_move_iterator(carried.begin()),
                        std::make_move_iterator(carried.end()));
    first.outbox.insert(first.outbox.end(), std::make_move_iterator(m_notices.begin()),
                        std::make_move_iterator(m_notices.end()));
    m_notices.clear();
    auto states = m_engine.snapshot(m_backlog.back().sample.ts);
    auto& last = m_backlog.back().rule_states;
    last.insert(last.begin(), std::make_move_iterator(states.begin()), std::make_move_iterator(states.end()));
    if (!m_options.one_shot) m_dispatcher->start();
    flush_backlog(out);
}

bool Pipeline::counters_from_other_boot(const std::string& boot_id) const {
    return m_counters && !m_counters->boot_id.empty() && m_counters->boot_id != boot_id;
}

std::vector<WindowPoint> Pipeline::window_for(const SeriesKey& key, WallTime ts) {
    const WallTime since = ts - std::chrono::duration_cast<std::chrono::milliseconds>(m_config.alerting.window);
    auto points = m_ring.window(key, since);
    // One-shot mode starts with an empty ring: the window comes from the database.
    if (points.size() <= 1 && m_store) {
        if (auto history = m_store->query(key, since, ts); history && !history->empty()) {
            std::vector<WindowPoint> out;
            for (const auto& h : *history) out.push_back({h.ts, h.value});
            for (const auto& p : points)
                if (out.empty() || p.ts > out.back().ts) out.push_back(p);
            return out;
        }
    }
    return points;
}

void Pipeline::flush_backlog(TickOutcome& out) {
    // Damage met since the last write (a query, maintenance, the dispatcher): write no more.
    while (!m_backlog.empty() && !note_corruption()) {
        auto& next = m_backlog.front();
        auto r = m_store->commit_tick(next);
        if (!r) {
            out.store_error = r.error().message;
            if (m_store->corruption()) break;  // said by note_corruption; moved aside after the tick
            if (!m_degraded)
                spdlog::error("cannot write to the database {}: {}; samples are kept in memory and written "
                              "when it recovers",
                              m_store->path().string(), out.store_error);
            m_degraded = true;
            break;
        }
        m_last_tick = next.sample.ts;
        m_backlog.pop_front();
    }
    if (m_backlog.empty() && m_degraded) {
        m_degraded = false;
        spdlog::info("the database is writable again; the waiting ticks are written");
        // Alerts raised while it was not were sent from memory; they now go to the outbox as they
        // stand, those delivered as delivered (never sent twice), the rest to survive a restart.
        if (auto r = m_dispatcher->persist_unpersisted(m_store->outbox()); !r)
            spdlog::error("cannot write the alerts raised meanwhile to the outbox: {}; they stay in memory",
                          r.error().message);
    }
    out.stored = m_backlog.empty();
    out.backlog = m_backlog.size();
    if (!out.stored && m_corrupt && out.store_error.empty())
        out.store_error = "the database is corrupt (" + *m_corrupt + "); ticks wait in memory";
}

SelfMetrics Pipeline::self_metrics(const TickOutcome* outcome) {
    SelfMetrics self;
    self.last_tick = m_last_tick;
    if (outcome) self.tick_seconds = std::chrono::duration<double>(outcome->duration).count();
    if (auto counts = m_store->outbox().counts()) self.outbox = *counts;
    self.store_backlog = m_backlog.size();
    self.store_dropped = m_dropped;
    // Every phase, zeros included, so the series never come and go.
    std::vector<std::pair<std::string, int>> phases = {{"ok", 0}, {"pending", 0}, {"firing", 0}, {"absent", 0}};
    rules::TickContext ctx;
    ctx.ts = m_last_tick.value_or(WallTime{});
    ctx.boottime = m_options.clock->now().boottime;
    if (m_counters) ctx.boot_id = m_counters->boot_id;
    ctx.interval = m_config.general.interval;
    for (const auto& st : m_engine.status(ctx)) {
        auto it = std::find_if(phases.begin(), phases.end(), [&](const auto& p) { return p.first == st.phase; });
        if (it == phases.end()) phases.emplace_back(st.phase, 1);
        else ++it->second;
    }
    self.rule_states = std::move(phases);
    return self;
}

void Pipeline::write_textfile(const Sample& sample, const TickOutcome& out) {
    // Atomic (temporary file + rename): node_exporter never reads half a file.
    if (auto r = write_file_atomic(m_config.http.textfile, to_exposition(sample, self_metrics(&out)), 0644); !r)
        spdlog::warn("cannot write the metrics textfile: {}", r.error().message);
}

TickOutcome Pipeline::tick(WallTime ts, const Instant& now, bool gap_before) {
    TickOutcome out;
    const auto started = std::chrono::steady_clock::now();
    auto pass = m_collectors.collect(m_options.root, now, ts, m_counters ? &*m_counters : nullptr);
    m_ring.append(pass.sample);

    rules::TickContext ctx;
    ctx.ts = ts;
    ctx.boottime = now.boottime;
    ctx.boot_id = pass.counters.boot_id;
    ctx.interval = m_config.general.interval;
    ctx.host = host_name(m_config);
    ctx.refresh = alerting::refresh_period(m_config);
    auto eval = m_engine.evaluate(pass.sample, ctx, gap_before);
    if (spdlog::should_log(spdlog::level::debug)) {
        // What `--log-level debug` is for: what each collector did and why each rule moved.
        for (const auto& c : pass.sample.collectors)
            spdlog::debug("collector {}: {} in {} us{}{}", c.name, c.ok ? "ok" : "failed", c.duration.count(),
                          c.error.empty() ? "" : ": ", c.error);
        for (const auto& d : eval.decisions)
            spdlog::debug("rule {} on {}: {}{}", d.rule, d.series.to_string(), d.reason,
                          std::isfinite(d.value) ? fmt::format(" (value {})", format_metric_value(d.series.name(), d.value))
                                                 : std::string());
    }

    store::TickWrite write;
    write.outbox = std::exchange(m_notices, {});
    for (auto& n : eval.notifications) {
        n.host = ctx.host;
        if (n.window.empty() && n.kind != NotificationKind::refresh) n.window = window_for(n.series, ts);
        // Due at once: a one-shot tick's stamp (the nearest slot) can lie ahead of the clock.
        auto items = m_preparer->prepare(n, std::min(ts, now.wall));
        write.outbox.insert(write.outbox.end(), std::make_move_iterator(items.begin()),
                            std::make_move_iterator(items.end()));
    }
    out.notifications = eval.notifications.size();
    out.decisions = std::move(eval.decisions);

    write.sample = pass.sample;
    write.counters = pass.counters;
    write.rule_states = std::move(eval.states);
    write.rule_states_removed = std::move(eval.removed);
    write.incidents = std::move(eval.incidents);
    write.gap_before = gap_before;
    m_counters = std::move(pass.counters);

    std::vector<OutboxItem> outbox_copy;
    if (!write.outbox.empty()) outbox_copy = write.outbox;
    m_backlog.push_back(std::move(write));
    if (m_backlog.size() > k_backlog_max) {
        m_backlog.pop_front();
        if (++m_dropped == 1 || m_dropped % 60 == 0)
            spdlog::error("the database has been unwritable for more than {} ticks; {} oldest ticks dropped",
                          k_backlog_max, m_dropped);
    }
    flush_backlog(out);
    recover_from_corruption(out, pass.sample);
    out.duration = std::chrono::steady_clock::now() - started;

    if (!out.stored && !outbox_copy.empty()) {
        // The alerts of a tick that could not be written still go out, from memory; the tick
        // waits in the backlog without them so they are not sent twice.
        m_backlog.back().outbox.clear();
        m_dispatcher->submit_unpersisted(std::move(outbox_copy));
    }
    if (out.stored && !m_config.http.textfile.empty()) write_textfile(pass.sample, out);
    if (out.stored) {
        if (auto r = m_store->maintenance_step(ts); !r)
            spdlog::warn("database maintenance: {}", r.error().message);
        m_dispatcher->wake();
    }
    out.sample = std::move(pass.sample);
    return out;
}

}  // namespace boxmon::agent
