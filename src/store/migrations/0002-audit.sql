-- The audit log: append-only, hash-chained. `entry` is the canonical JSON
-- text that was hashed, stored byte for byte. The columns used to filter
-- (kind, incident, run) are generated from that text, never stored apart, so
-- they cannot be edited without editing the hashed text itself.
CREATE TABLE audit_entries (
  seq          INTEGER PRIMARY KEY,
  entry        TEXT NOT NULL,
  hash         TEXT NOT NULL,
  kind         TEXT GENERATED ALWAYS AS (json_extract(entry, '$.kind')) VIRTUAL,
  incident_id  TEXT GENERATED ALWAYS AS (json_extract(entry, '$.incidentId')) VIRTUAL,
  run_id       TEXT GENERATED ALWAYS AS (json_extract(entry, '$.runId')) VIRTUAL
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
