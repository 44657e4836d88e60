-- Rounds schema, version 3.
--
-- The audit trail: append-only, hash-chained (each record carries the previous record's hash).
-- Written in the same transaction as the change it records.
CREATE TABLE audit_log (
  seq          INTEGER PRIMARY KEY,
  time         INTEGER NOT NULL,
  actor_id     INTEGER NOT NULL,
  actor_role   TEXT NOT NULL,
  action       TEXT NOT NULL,
  object_type  TEXT NOT NULL,
  object_id    TEXT NOT NULL,
  patient_ref  TEXT NOT NULL,
  outcome      TEXT NOT NULL CHECK (outcome IN ('success', 'denied', 'failure')),
  address      TEXT NOT NULL,
  session_hash TEXT NOT NULL,
  reason       TEXT NOT NULL,
  details      TEXT NOT NULL,
  prev_hash    TEXT NOT NULL,
  hash         TEXT NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log(actor_id, seq);
CREATE INDEX audit_log_object ON audit_log(object_type, object_id, seq);

-- Defence in depth: ordinary SQL cannot change or remove a record. Whoever can rewrite the file
-- can drop these too; the hash chain and the signed checkpoints outside the database catch that.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
