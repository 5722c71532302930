-- Stage labels of rotated credentials (PENDING, CURRENT, PREVIOUS), by
-- fingerprint (a truncated SHA-256 of the value); the values themselves are
-- only ever sealed in steps.sealed.
CREATE TABLE credential_stages (
  ref          TEXT NOT NULL,
  stage        TEXT NOT NULL,
  fingerprint  TEXT NOT NULL,
  run_id       TEXT NOT NULL,
  labelled_at  TEXT NOT NULL,
  PRIMARY KEY (ref, stage)
) STRICT;
