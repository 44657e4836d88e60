-- Rounds schema, version 5: retention, message lifespan, legal holds, e-discovery exports.
--
-- Legal holds preserve what they cover: the retention job never purges a held message, and a
-- message its author or a moderator deletes while held disappears for users (the tombstone) but
-- keeps its final text in held_deletions for e-discovery. A hold covers a message when it is
-- active (not released), the message was written inside [from_time, to_time) (either end open
-- when NULL), its author is one of the custodians (or the hold names none) and its space is one
-- of the spaces (or the hold names none). A hold always names custodians, spaces or both.
CREATE TABLE legal_holds (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  name          TEXT NOT NULL,
  reason        TEXT NOT NULL DEFAULT '',
  custodian_ids TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(custodian_ids) AND json_type(custodian_ids) = 'array'),
  space_ids     TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(space_ids) AND json_type(space_ids) = 'array'),
  from_time     INTEGER,
  to_time       INTEGER,
  created_by    INTEGER NOT NULL,
  created_at    INTEGER NOT NULL,
  released_by   INTEGER,
  released_at   INTEGER,
  CHECK (custodian_ids <> '[]' OR space_ids <> '[]'),
  CHECK (from_time IS NULL OR to_time IS NULL OR from_time < to_time)
);
CREATE INDEX legal_holds_active ON legal_holds(id) WHERE released_at IS NULL;

-- The one definition of "held": (message, hold) pairs for every active hold covering a message.
CREATE VIEW held_messages AS
  SELECT m.id AS message_id, h.id AS hold_id
  FROM legal_holds h JOIN messages m
  WHERE h.released_at IS NULL
    AND (h.from_time IS NULL OR m.created_at >= h.from_time)
    AND (h.to_time IS NULL OR m.created_at < h.to_time)
    AND (h.custodian_ids = '[]' OR m.author_id IN (SELECT value FROM json_each(h.custodian_ids)))
    AND (h.space_ids = '[]' OR m.space_id IN (SELECT value FROM json_each(h.space_ids)));

-- The final text of a message deleted while a hold covered it. Read only by e-discovery exports;
-- removed with the message when the retention job purges it after every hold on it is released.
CREATE TABLE held_deletions (
  message_id INTEGER PRIMARY KEY REFERENCES messages(id),
  title      TEXT NOT NULL,
  body       TEXT NOT NULL,
  deleted_at INTEGER NOT NULL
);

-- Whichever code path tombstones a message, a held one keeps its text (the trigger sees the row
-- before the tombstone empties it).
CREATE TRIGGER messages_hold_keeps_deleted BEFORE UPDATE OF deleted ON messages
  WHEN new.deleted = 1 AND old.deleted = 0
   AND EXISTS (SELECT 1 FROM held_messages WHERE message_id = old.id) BEGIN
  INSERT OR REPLACE INTO held_deletions (message_id, title, body, deleted_at)
    VALUES (old.id, old.title, old.body, new.edited_at);
END;

-- Set when the retention job scrubbed a message it could not delete yet because replies that
-- are not purgeable still point at it; the row goes when its last reply does.
ALTER TABLE messages ADD COLUMN purged_at INTEGER;
-- The job finds what is past a space's cutoff without scanning the space.
CREATE INDEX messages_space_created ON messages(space_id, created_at);
-- Deleting a message checks that no reply points at it (parent_id is a foreign key): without an
-- index led by parent_id that check scans every message, once per deleted row.
CREATE INDEX messages_parent ON messages(parent_id) WHERE parent_id IS NOT NULL;

-- The message an event is about, so a purge can scrub the events that carry its content while
-- keeping their seq (clients resume by seq without gaps). The expression must match
-- kEventMessageId in sqlite_tx_retention.cpp exactly for the index to be used.
CREATE INDEX space_events_message ON space_events(
  (CASE WHEN json_valid(payload) = 0 THEN NULL
        WHEN type IN ('reaction.changed', 'vote.changed', 'poll.changed') THEN json_extract(payload, '$.message_id')
        WHEN substr(type, 1, 8) = 'message.' OR type = 'answer.accepted' THEN json_extract(payload, '$.id')
   END));

-- One row per run of the retention job. Each batch is one write unit that purges a bounded set of
-- messages, adds its counts here and appends its audit record, so a run killed mid-way leaves
-- whole batches only; the next run starts over from what is still purgeable and closes the
-- interrupted run (finished_at stays NULL until then, interrupted = 1 after).
CREATE TABLE retention_runs (
  id                INTEGER PRIMARY KEY AUTOINCREMENT,
  actor_id          INTEGER NOT NULL,
  started_at        INTEGER NOT NULL,
  finished_at       INTEGER,
  interrupted       INTEGER NOT NULL DEFAULT 0,
  batches           INTEGER NOT NULL DEFAULT 0,
  messages_deleted  INTEGER NOT NULL DEFAULT 0,
  messages_scrubbed INTEGER NOT NULL DEFAULT 0,
  events_scrubbed   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX retention_runs_open ON retention_runs(id) WHERE finished_at IS NULL;

-- E-discovery exports: who ran which query when, and what came out (counts and the manifest's
-- SHA-256; the files themselves live in the export folder).
CREATE TABLE ediscovery_exports (
  id              TEXT PRIMARY KEY,
  created_by      INTEGER NOT NULL,
  created_at      INTEGER NOT NULL,
  query           TEXT NOT NULL CHECK (json_valid(query)),
  folder          TEXT NOT NULL,
  message_count   INTEGER NOT NULL,
  file_count      INTEGER NOT NULL,
  manifest_sha256 TEXT NOT NULL
) WITHOUT ROWID;
