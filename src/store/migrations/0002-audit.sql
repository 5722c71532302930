-- The audit log: append-only, hash-chained. `entry` is the canonical JSON
-- text that was hashed, stored byte for byte; the other columns are indexes
-- derived from it (verify checks they agree).
CREATE TABLE audit_entries (
  seq          INTEGER PRIMARY KEY,
  ts           TEXT NOT NULL,
  kind         TEXT NOT NULL,
  incident_id  TEXT,
  run_id       TEXT,
  entry        TEXT NOT NULL,
  hash         TEXT NOT NULL
) STRICT;
CREATE INDEX audit_by_incident ON audit_entries(incident_id, seq);
CREATE INDEX audit_by_run ON audit_entries(run_id, seq);

-- Signed checkpoints: Ed25519 over the canonical {seq, hash, ts, keyId}.
CREATE TABLE audit_checkpoints (
  seq          INTEGER PRIMARY KEY,
  hash         TEXT NOT NULL,
  ts           TEXT NOT NULL,
  key_id       TEXT NOT NULL,
  signature    TEXT NOT NULL
) STRICT;
