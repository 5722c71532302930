-- What the journal records, as events in commit order: written by the
-- runtime inside the same transaction as the step, run or signal row they
-- describe (so an event exists exactly when its change committed). They are
-- the outbox of the audit trail (appended to the hash chain in id order,
-- after the commit, by whichever process gets there first: audit_sources
-- holds how far each source has been appended) and the progress feed that a
-- process which did not start a run follows.
CREATE TABLE run_events (
  id       INTEGER PRIMARY KEY,
  run_id   TEXT NOT NULL,
  at       TEXT NOT NULL,
  event    TEXT NOT NULL
) STRICT;
CREATE INDEX run_events_by_run ON run_events(run_id, id);

-- Up to which event of each source the audit chain holds entries (appended
-- in the same transaction as those entries).
CREATE TABLE audit_sources (
  source   TEXT PRIMARY KEY,
  last_id  INTEGER NOT NULL
) STRICT;

-- A start request's idempotency key (a retried alert, a double click): the
-- first start with a key opens the incident and the run; the others get that run.
CREATE TABLE start_keys (
  key         TEXT PRIMARY KEY,
  run_id      TEXT NOT NULL,
  incident_id TEXT,
  created_at  TEXT NOT NULL
) STRICT;

-- A step row's sequence number is the next of its run, found through this
-- index instead of counting the run's rows.
CREATE INDEX steps_by_run_seq ON steps(run_id, seq);

-- The newest signed checkpoint a full verification of the chain reached: a
-- later verification (a report's) recomputes only the entries after it,
-- once it has checked that checkpoint's signature and hash again.
CREATE TABLE audit_verified (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  seq         INTEGER NOT NULL,
  hash        TEXT NOT NULL,
  verified_at TEXT NOT NULL
) STRICT;
