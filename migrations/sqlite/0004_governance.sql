-- Rounds schema, version 4: governance in the write path.
--
-- Policy templates are versioned documents; a space points at one (key, version) and moves to a
-- new version only when a compliance officer assigns it. The built-in templates live in the
-- binary (governance/policy) and are never stored here: this table holds the versions compliance
-- officers create. A version never changes once written.
CREATE TABLE policy_templates (
  key        TEXT NOT NULL,
  version    INTEGER NOT NULL CHECK (version >= 1),
  document   TEXT NOT NULL,
  created_by INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (key, version)
) WITHOUT ROWID;

ALTER TABLE spaces ADD COLUMN template_key TEXT NOT NULL DEFAULT 'internal-community';
ALTER TABLE spaces ADD COLUMN template_version INTEGER NOT NULL DEFAULT 1;
-- Direct conversations between staff carry care coordination: PHI is allowed there.
UPDATE spaces SET template_key = 'clinical-team' WHERE kind = 'direct';

-- A message is published, held for review (pre-moderation or the PHI rule), or hidden / removed
-- by a moderator. Only published messages reach members, counts and search; a held message is
-- seen by its author and the space's moderators.
ALTER TABLE messages ADD COLUMN state TEXT NOT NULL DEFAULT 'published'
  CHECK (state IN ('published', 'held', 'hidden', 'removed'));
ALTER TABLE messages ADD COLUMN hold_reason TEXT NOT NULL DEFAULT ''
  CHECK (hold_reason IN ('', 'pre_moderation', 'phi'));
-- The PHI finding types (comma-separated codes, never the text) the scanner reported when the
-- message was written under a warn or hold rule; empty when none.
ALTER TABLE messages ADD COLUMN phi_types TEXT NOT NULL DEFAULT '';
CREATE INDEX messages_unpublished ON messages(space_id, state, seq) WHERE state <> 'published';

-- Events about a message that is not published (held, edited while held) reach only its author
-- and the space's moderators, live and on replay: restricted_to names the author (0: everyone).
ALTER TABLE space_events ADD COLUMN restricted_to INTEGER NOT NULL DEFAULT 0;

-- Reports by members; open until a moderator acts on the message.
CREATE TABLE reports (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id  INTEGER NOT NULL REFERENCES messages(id),
  space_id    INTEGER NOT NULL,
  reporter_id INTEGER NOT NULL,
  reason      TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  resolved_at INTEGER NOT NULL DEFAULT 0,
  UNIQUE (message_id, reporter_id)
);
CREATE INDEX reports_open ON reports(space_id, message_id) WHERE resolved_at = 0;

-- Every moderator decision, with its reason; the author may appeal each once.
CREATE TABLE moderation_actions (
  id                INTEGER PRIMARY KEY AUTOINCREMENT,
  space_id          INTEGER NOT NULL,
  message_id        INTEGER,
  target_user_id    INTEGER NOT NULL,
  moderator_id      INTEGER NOT NULL,
  action            TEXT NOT NULL CHECK (action IN ('approve', 'hide', 'remove', 'warn', 'suspend')),
  reason            TEXT NOT NULL,
  created_at        INTEGER NOT NULL,
  appeal_text       TEXT NOT NULL DEFAULT '',
  appealed_at       INTEGER NOT NULL DEFAULT 0,
  appeal_outcome    TEXT NOT NULL DEFAULT '' CHECK (appeal_outcome IN ('', 'upheld', 'reversed')),
  appeal_reason     TEXT NOT NULL DEFAULT '',
  appeal_decided_by INTEGER NOT NULL DEFAULT 0,
  appeal_decided_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX moderation_actions_target ON moderation_actions(target_user_id, id);
CREATE INDEX moderation_actions_space ON moderation_actions(space_id, id);
CREATE INDEX moderation_actions_appeals ON moderation_actions(appealed_at) WHERE appealed_at > 0 AND appeal_outcome = '';

-- Members suspended from posting in a space (until 0: until lifted).
CREATE TABLE space_suspensions (
  space_id   INTEGER NOT NULL,
  user_id    INTEGER NOT NULL,
  until      INTEGER NOT NULL,
  action_id  INTEGER NOT NULL,
  PRIMARY KEY (space_id, user_id)
) WITHOUT ROWID;

-- The organization's patient index the PHI scanner matches names and MRNs against. Loaded by
-- `rounds admin patients import`, kept current by the API.
CREATE TABLE patients (
  mrn        TEXT PRIMARY KEY,
  first      TEXT NOT NULL,
  last       TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
