-- The audit trail's Merkle tree (RFC 9162; governance/audit/merkle.hpp): the hash of every
-- complete subtree of 256 leaves or more, kept as the trail grows so that a checkpoint's root and a
-- proof cost a few dozen lookups and at most 256 records, not a walk over the whole trail. Leaf i
-- is record seq i + 1; the subtree (level, idx) covers leaves idx * 2^level to (idx + 1) * 2^level - 1.
-- Filled by the checkpoint thread, never by the post path. Whoever can write the database can
-- change these as they can the records: verification recomputes the tree from the records and
-- compares it with the signed roots, and a proof is checked against a signed root, never these.
CREATE TABLE audit_tree (
  level INTEGER NOT NULL,
  idx   INTEGER NOT NULL,
  hash  BLOB NOT NULL,
  PRIMARY KEY (level, idx)
) WITHOUT ROWID;

CREATE TRIGGER audit_tree_no_update BEFORE UPDATE ON audit_tree
BEGIN SELECT RAISE(ABORT, 'the audit tree is append-only'); END;
CREATE TRIGGER audit_tree_no_delete BEFORE DELETE ON audit_tree
BEGIN SELECT RAISE(ABORT, 'the audit tree is append-only'); END;
