-- Rounds schema, version 21.
--
-- Two indexes that led with the space go. Each gave a post an entry in the middle of the index,
-- at the end of its own space's (or author's) run, so with many conversations every post of a
-- commit dirtied a leaf page of its own in each of them: about a fifth of the pages a 1:1 commit
-- wrote to the log, sealed, synced and later copied into the database.
--
-- messages_author_space (author_id, space_id) only answered "has this person written in this
-- conversation" for legal holds and e-discovery by custodian. space_authors answers it with one
-- row per author and space, written by the first post only: later posts find the row and write
-- nothing. Rows stay when messages go, so a custodian's conversations stay theirs.
CREATE TABLE space_authors (
  space_id  INTEGER NOT NULL,
  author_id INTEGER NOT NULL,
  PRIMARY KEY (space_id, author_id)
) WITHOUT ROWID;
INSERT OR IGNORE INTO space_authors (space_id, author_id) SELECT space_id, author_id FROM messages;
CREATE TRIGGER messages_space_author AFTER INSERT ON messages BEGIN
  INSERT OR IGNORE INTO space_authors (space_id, author_id) VALUES (new.space_id, new.author_id);
END;

DROP VIEW held_messages;
CREATE VIEW held_messages AS
  SELECT m.id AS message_id, h.id AS hold_id
  FROM legal_holds h JOIN messages m
  WHERE h.released_at IS NULL
    AND (h.from_time IS NULL OR m.created_at >= h.from_time)
    AND (h.to_time IS NULL OR m.created_at < h.to_time)
    AND (h.space_ids = '[]' OR m.space_id IN (SELECT value FROM json_each(h.space_ids)))
    AND (h.custodian_ids = '[]'
         OR m.author_id IN (SELECT value FROM json_each(h.custodian_ids))
         OR EXISTS (SELECT 1 FROM spaces s WHERE s.id = m.space_id AND s.kind = 'direct'
                    AND EXISTS (SELECT 1 FROM json_each(h.custodian_ids) c
                                WHERE EXISTS (SELECT 1 FROM memberships p
                                              WHERE p.space_id = m.space_id AND p.user_id = c.value)
                                   OR EXISTS (SELECT 1 FROM space_authors a
                                              WHERE a.space_id = m.space_id AND a.author_id = c.value))));
DROP INDEX messages_author_space;

-- messages_space_parent_seq (space_id, parent_id, seq) served a space's top-level page and a
-- thread's replies. A thread's replies are found by the thread alone: its parent's id names it,
-- and only replies have entries (the old messages_parent index, which a reply's foreign key
-- check and the purge's "has replies" test use, now ordered by seq as well). A top-level page
-- reads messages_space_seq and passes over the replies between its roots.
DROP INDEX messages_space_parent_seq;
DROP INDEX messages_parent;
CREATE INDEX messages_parent_seq ON messages(parent_id, seq) WHERE parent_id IS NOT NULL;
