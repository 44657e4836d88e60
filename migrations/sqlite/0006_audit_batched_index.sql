-- Rounds schema, version 6.
--
-- The audit trail's search indexes move out of the append path. An index kept by SQLite on every
-- append wrote a leaf page per record wherever its actor or object sorted (each busy user's
-- records sit in a different part of the index), which made auditing a post cost about as much
-- disk as the post. The store's writer now adds index entries in sorted batches, a few thousand
-- records at a time and at least every second; a search reads the indexed records through these
-- tables and scans the short tail after audit_index_state.indexed_seq directly. The records
-- themselves are still written in the same transaction as the change they record; the indexes are
-- derived data and can be rebuilt from audit_log at any time.
DROP INDEX audit_log_actor;
DROP INDEX audit_log_object;

CREATE TABLE audit_index_actor (
  actor_id INTEGER NOT NULL,
  seq      INTEGER NOT NULL,
  PRIMARY KEY (actor_id, seq)
) WITHOUT ROWID;

CREATE TABLE audit_index_object (
  object_type TEXT NOT NULL,
  object_id   TEXT NOT NULL,
  seq         INTEGER NOT NULL,
  PRIMARY KEY (object_type, object_id, seq)
) WITHOUT ROWID;

-- Every record with seq <= indexed_seq has its entries in both tables.
CREATE TABLE audit_index_state (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  indexed_seq INTEGER NOT NULL
);

INSERT INTO audit_index_actor (actor_id, seq) SELECT actor_id, seq FROM audit_log;
INSERT INTO audit_index_object (object_type, object_id, seq) SELECT object_type, object_id, seq FROM audit_log;
INSERT INTO audit_index_state (id, indexed_seq) VALUES (1, (SELECT coalesce(max(seq), 0) FROM audit_log));
