-- One active run per target (a device, a CA, a database role): the run that
-- holds a target keeps it until it ends; a later run for the same target is
-- refused while the holder is active, and takes the row over once it ended.
-- No foreign key: the row is taken before the run row exists (same start).
CREATE TABLE run_targets (
  target       TEXT PRIMARY KEY,
  run_id       TEXT NOT NULL,
  acquired_at  TEXT NOT NULL
) STRICT;
