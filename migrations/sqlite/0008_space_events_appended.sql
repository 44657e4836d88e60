-- Rounds schema, version 8.
--
-- Space events are appended in the order they happen instead of being kept in (space_id, seq)
-- order. Clustered by space, each post inserted its ~600-byte event into the middle of the table,
-- at the end of its own space's run: with many active spaces nearly every insert landed on a full
-- page and rebalanced it with its neighbours, and a 1:1 post wrote four to five pages of this table
-- per commit. Appended by rowid, the events fill pages one after another, and the order clients
-- resume in is kept by a small unique index on (space_id, seq).
--
-- The message an event is about is now a column, filled when the event is written, instead of an
-- expression index that parsed the event's JSON twice at every insert. The expression is the one
-- 0005 indexed, and retention scrubs events by it.
CREATE TABLE space_events_appended (
  id            INTEGER PRIMARY KEY,  -- the order events were written in
  space_id      INTEGER NOT NULL,
  seq           INTEGER NOT NULL,
  type          TEXT NOT NULL,
  payload       TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  restricted_to INTEGER NOT NULL DEFAULT 0,
  message_id    INTEGER  -- the message the event is about, if any
);

INSERT INTO space_events_appended (space_id, seq, type, payload, created_at, restricted_to, message_id)
SELECT space_id, seq, type, payload, created_at, restricted_to,
       (CASE WHEN json_valid(payload) = 0 THEN NULL
             WHEN type IN ('reaction.changed', 'vote.changed', 'poll.changed') THEN json_extract(payload, '$.message_id')
             WHEN substr(type, 1, 8) = 'message.' OR type = 'answer.accepted' THEN json_extract(payload, '$.id')
        END)
FROM space_events ORDER BY created_at, space_id, seq;

DROP TABLE space_events;
ALTER TABLE space_events_appended RENAME TO space_events;
CREATE UNIQUE INDEX space_events_space_seq ON space_events(space_id, seq);
CREATE INDEX space_events_message ON space_events(message_id);
