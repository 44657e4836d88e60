-- Emergency access ("break the glass", HIPAA 164.312(a)(2)(ii)): a staff member's time-boxed,
-- read-only grant to a PHI-bearing space they are not a member of, given after re-authentication
-- and a reason. A grant is never deleted: it ends (by its holder, by expiry or revoked by a
-- compliance officer) and is then reviewed by a compliance officer.
CREATE TABLE emergency_grants (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id),
  space_id INTEGER NOT NULL REFERENCES spaces(id),
  reason TEXT NOT NULL CHECK (length(reason) > 0),
  purpose TEXT NOT NULL DEFAULT 'BTG',
  started_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL CHECK (expires_at > started_at),
  ended_at INTEGER,
  end_kind TEXT CHECK (end_kind IN ('ended', 'expired', 'revoked')),
  ended_by INTEGER REFERENCES users(id),
  review_outcome TEXT CHECK (review_outcome IN ('justified', 'unjustified')),
  review_note TEXT NOT NULL DEFAULT '',
  reviewed_by INTEGER REFERENCES users(id),
  reviewed_at INTEGER,
  CHECK ((ended_at IS NULL) = (end_kind IS NULL)),
  CHECK ((review_outcome IS NULL) = (reviewed_at IS NULL))
);
-- Every read of a space by a non-member looks here: open grants by (space, user).
CREATE INDEX emergency_grants_open ON emergency_grants(space_id, user_id) WHERE ended_at IS NULL;
-- The expiry job: open grants by when they expire.
CREATE INDEX emergency_grants_expiry ON emergency_grants(expires_at) WHERE ended_at IS NULL;
CREATE INDEX emergency_grants_by_user ON emergency_grants(user_id, id);
