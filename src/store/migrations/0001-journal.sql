-- The journal: incidents, runs, steps (one row per step and per fan-out item),
-- attempts, signals (approvals and other cross-process messages).
-- Outputs are stored redacted; values a step generates are stored sealed
-- (AES-256-GCM) in steps.sealed, never in clear.

CREATE TABLE incidents (
  id            TEXT PRIMARY KEY,
  kind          TEXT NOT NULL,
  title         TEXT NOT NULL,
  severity      TEXT NOT NULL,
  status        TEXT NOT NULL,
  detected_at   TEXT NOT NULL,
  opened_at     TEXT NOT NULL,
  closed_at     TEXT,
  entities      TEXT NOT NULL DEFAULT '[]',
  rto           TEXT NOT NULL DEFAULT '{}'
) STRICT;

CREATE TABLE incident_events (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  incident_id   TEXT NOT NULL REFERENCES incidents(id),
  ts            TEXT NOT NULL,
  kind          TEXT NOT NULL,
  message       TEXT NOT NULL,
  data          TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX incident_events_by_incident ON incident_events(incident_id, id);

CREATE TABLE runs (
  id              TEXT PRIMARY KEY,
  workflow        TEXT NOT NULL,
  incident_id     TEXT REFERENCES incidents(id),
  input           TEXT NOT NULL,
  status          TEXT NOT NULL,
  initiator       TEXT NOT NULL,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL,
  ended_at        TEXT,
  owner           TEXT,
  heartbeat_at    TEXT,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  result          TEXT,
  error           TEXT
) STRICT;
CREATE INDEX runs_by_incident ON runs(incident_id);
CREATE INDEX runs_by_status ON runs(status);

CREATE TABLE steps (
  run_id       TEXT NOT NULL REFERENCES runs(id),
  step_id      TEXT NOT NULL,
  parent_id    TEXT,
  kind         TEXT NOT NULL,
  status       TEXT NOT NULL,
  attempts     INTEGER NOT NULL DEFAULT 0,
  meta         TEXT NOT NULL DEFAULT '{}',
  output       TEXT,
  sealed       TEXT,
  error        TEXT,
  started_at   TEXT,
  ended_at     TEXT,
  seq          INTEGER NOT NULL,
  PRIMARY KEY (run_id, step_id)
) STRICT;
CREATE INDEX steps_by_parent ON steps(run_id, parent_id);

CREATE TABLE attempts (
  run_id       TEXT NOT NULL,
  step_id      TEXT NOT NULL,
  attempt      INTEGER NOT NULL,
  started_at   TEXT NOT NULL,
  ended_at     TEXT,
  outcome      TEXT,
  error        TEXT,
  PRIMARY KEY (run_id, step_id, attempt)
) STRICT;

CREATE TABLE signals (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id       TEXT NOT NULL REFERENCES runs(id),
  name         TEXT NOT NULL,
  payload      TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  consumed_by  TEXT
) STRICT;
CREATE INDEX signals_by_run ON signals(run_id, name, id);
