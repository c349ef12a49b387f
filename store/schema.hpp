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
    // Statements run after the store's own conversion step for this version (if any), in the
    // same transaction; nullptr when there are none.
    const char* sql_after = nullptr;
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

// Version 2: raw samples move from one row per (series, tick) to a tick-major table of recent
// ticks, folded into per-series rows of 60 values (docs/ARCHITECTURE.md "Raw samples"); the old
// table becomes a view of the same name and columns. The v1 rows are converted between kSchemaV2
// and kSchemaV2After by the store (convert_v1_samples), in the same transaction.
inline constexpr const char* kSchemaV2 = R"sql(
CREATE TABLE recent_samples(
  ts   INTEGER PRIMARY KEY,
  vals TEXT NOT NULL
);

CREATE TABLE sample_chunks(
  series_id INTEGER NOT NULL REFERENCES series(id),
  first_ts  INTEGER NOT NULL,
  step_ms   INTEGER NOT NULL,
  n         INTEGER NOT NULL,
  v0 REAL, v1 REAL, v2 REAL, v3 REAL, v4 REAL, v5 REAL, v6 REAL, v7 REAL, v8 REAL, v9 REAL,
  v10 REAL, v11 REAL, v12 REAL, v13 REAL, v14 REAL, v15 REAL, v16 REAL, v17 REAL, v18 REAL,
  v19 REAL, v20 REAL, v21 REAL, v22 REAL, v23 REAL, v24 REAL, v25 REAL, v26 REAL, v27 REAL,
  v28 REAL, v29 REAL, v30 REAL, v31 REAL, v32 REAL, v33 REAL, v34 REAL, v35 REAL, v36 REAL,
  v37 REAL, v38 REAL, v39 REAL, v40 REAL, v41 REAL, v42 REAL, v43 REAL, v44 REAL, v45 REAL,
  v46 REAL, v47 REAL, v48 REAL, v49 REAL, v50 REAL, v51 REAL, v52 REAL, v53 REAL, v54 REAL,
  v55 REAL, v56 REAL, v57 REAL, v58 REAL, v59 REAL,
  PRIMARY KEY(series_id, first_ts)
) WITHOUT ROWID;

CREATE TABLE chunk_slots(i INTEGER PRIMARY KEY);
WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < 59)
INSERT INTO chunk_slots(i) SELECT i FROM k;
)sql";

inline constexpr const char* kSchemaV2After = R"sql(
-- 5-minute buckets are kept only for time the raw samples no longer cover.
DELETE FROM rollup_5m WHERE bucket_ts > (SELECT min(ts) / 300000 * 300000 FROM samples
                                         WHERE series_id = rollup_5m.series_id);
DROP TABLE samples;

CREATE VIEW samples(series_id, ts, value) AS
SELECT c.series_id, CAST(c.first_ts + s.i * c.step_ms AS INTEGER), CAST(CASE s.i
   WHEN 0 THEN c.v0 WHEN 1 THEN c.v1 WHEN 2 THEN c.v2 WHEN 3 THEN c.v3 WHEN 4 THEN c.v4
   WHEN 5 THEN c.v5 WHEN 6 THEN c.v6 WHEN 7 THEN c.v7 WHEN 8 THEN c.v8 WHEN 9 THEN c.v9
   WHEN 10 THEN c.v10 WHEN 11 THEN c.v11 WHEN 12 THEN c.v12 WHEN 13 THEN c.v13 WHEN 14 THEN c.v14
   WHEN 15 THEN c.v15 WHEN 16 THEN c.v16 WHEN 17 THEN c.v17 WHEN 18 THEN c.v18 WHEN 19 THEN c.v19
   WHEN 20 THEN c.v20 WHEN 21 THEN c.v21 WHEN 22 THEN c.v22 WHEN 23 THEN c.v23 WHEN 24 THEN c.v24
   WHEN 25 THEN c.v25 WHEN 26 THEN c.v26 WHEN 27 THEN c.v27 WHEN 28 THEN c.v28 WHEN 29 THEN c.v29
   WHEN 30 THEN c.v30 WHEN 31 THEN c.v31 WHEN 32 THEN c.v32 WHEN 33 THEN c.v33 WHEN 34 THEN c.v34
   WHEN 35 THEN c.v35 WHEN 36 THEN c.v36 WHEN 37 THEN c.v37 WHEN 38 THEN c.v38 WHEN 39 THEN c.v39
   WHEN 40 THEN c.v40 WHEN 41 THEN c.v41 WHEN 42 THEN c.v42 WHEN 43 THEN c.v43 WHEN 44 THEN c.v44
   WHEN 45 THEN c.v45 WHEN 46 THEN c.v46 WHEN 47 THEN c.v47 WHEN 48 THEN c.v48 WHEN 49 THEN c.v49
   WHEN 50 THEN c.v50 WHEN 51 THEN c.v51 WHEN 52 THEN c.v52 WHEN 53 THEN c.v53 WHEN 54 THEN c.v54
   WHEN 55 THEN c.v55 WHEN 56 THEN c.v56 WHEN 57 THEN c.v57 WHEN 58 THEN c.v58 WHEN 59 THEN c.v59
   END AS REAL) AS value
FROM sample_chunks c JOIN chunk_slots s ON s.i < c.n
WHERE value IS NOT NULL
UNION ALL
SELECT CAST(j.key AS INTEGER), CAST(r.ts AS INTEGER), CAST(j.value AS REAL)
FROM recent_samples r, json_each(r.vals) j;
)sql";

inline constexpr Migration kMigrations[] = {
    {1, kSchemaV1},
    {2, kSchemaV2, kSchemaV2After},
};

inline constexpr int kSchemaVersion = 2;

}  // namespace boxmon::store::detail
