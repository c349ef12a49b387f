#pragma once
// The schema of boxmon.db, as an ordered list of migrations. docs/SCHEMA.md describes every
// table and column; keep the two in step. A migration is never edited once released: a change
// is a new migration with the next version, applied in its own transaction together with the
// PRAGMA user_version bump.

#include <span>

namespace boxmon::store::detail {

struct Migration {
    int version;      // PRAGMA user_version after this migration
    const char* sql;  // statements run inside one BEGIN IMMEDIATE transaction
};

// Version 1: the first released schema. Timestamps are Unix milliseconds (UTC).
inline constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE meta(
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE series(
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL,
  key         TEXT NOT NULL UNIQUE,
  labels_json TEXT NOT NULL,
  first_seen  INTEGER NOT NULL,
  last_seen   INTEGER NOT NULL
);
CREATE INDEX series_by_name ON series(name);

CREATE TABLE samples(
  series_id INTEGER NOT NULL REFERENCES series(id),
  ts        INTEGER NOT NULL,
  value     REAL NOT NULL,
  PRIMARY KEY(series_id, ts)
) WITHOUT ROWID;

CREATE TABLE rollup_5m(
  series_id INTEGER NOT NULL REFERENCES series(id),
  bucket_ts INTEGER NOT NULL,
  min       REAL NOT NULL,
  avg       REAL NOT NULL,
  max       REAL NOT NULL,
  count     INTEGER NOT NULL,
  PRIMARY KEY(series_id, bucket_ts)
) WITHOUT ROWID;

CREATE TABLE rollup_1h(
  series_id INTEGER NOT NULL REFERENCES series(id),
  bucket_ts INTEGER NOT NULL,
  min       REAL NOT NULL,
  avg       REAL NOT NULL,
  max       REAL NOT NULL,
  count     INTEGER NOT NULL,
  PRIMARY KEY(series_id, bucket_ts)
) WITHOUT ROWID;

CREATE TABLE ticks(
  ts                INTEGER PRIMARY KEY,
  gap_before        INTEGER NOT NULL DEFAULT 0,
  collectors_ok     INTEGER NOT NULL DEFAULT 0,
  collectors_failed INTEGER NOT NULL DEFAULT 0,
  points            INTEGER NOT NULL DEFAULT 0,
  errors            TEXT
);

CREATE TABLE counters(
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  boot_id     TEXT NOT NULL,
  boottime_ns INTEGER NOT NULL,
  wall        INTEGER NOT NULL
);
CREATE TABLE counter_values(
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE rule_states(
  rule    TEXT NOT NULL,
  series  TEXT NOT NULL,
  state   TEXT NOT NULL,
  updated INTEGER NOT NULL,
  PRIMARY KEY(rule, series)
) WITHOUT ROWID;

CREATE TABLE incidents(
  id            TEXT PRIMARY KEY,
  rule          TEXT NOT NULL,
  series        TEXT NOT NULL,
  kind          TEXT NOT NULL,
  severity      TEXT NOT NULL,
  peak_severity TEXT NOT NULL,
  start         INTEGER NOT NULL,
  "end"         INTEGER,
  peak_value    REAL,
  last_value    REAL
);
CREATE INDEX incidents_by_start ON incidents(start);
CREATE INDEX incidents_open ON incidents("end") WHERE "end" IS NULL;

CREATE TABLE outbox(
  id              INTEGER PRIMARY KEY,
  channel         TEXT NOT NULL,
  incident_id     TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  kind            TEXT NOT NULL,
  payload         TEXT NOT NULL,
  created         INTEGER NOT NULL,
  state           TEXT NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'delivered', 'dead')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt    INTEGER NOT NULL,
  last_error      TEXT NOT NULL DEFAULT '',
  finished        INTEGER,
  UNIQUE(channel, idempotency_key)
);
CREATE INDEX outbox_pending ON outbox(next_attempt) WHERE state = 'pending';
CREATE INDEX outbox_by_created ON outbox(created);
)sql";

inline constexpr Migration kMigrations[] = {
    {1, kSchemaV1},
};

inline constexpr int kSchemaVersion = 1;

}  // namespace boxmon::store::detail
