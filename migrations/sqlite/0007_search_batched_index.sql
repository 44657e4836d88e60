-- Rounds schema, version 7.
--
-- The search index is brought up to date once per group commit instead of once per message.
-- FTS5 writes its pending terms out as a new segment at every savepoint, and the store runs each
-- write unit in a savepoint of its own, so indexing inside the unit wrote (and later merged) one
-- small segment per message. The triggers now queue each change in search_pending, inside the
-- unit (a unit that fails takes its queued changes back with it); the store's writer applies the
-- queue to message_search in order and empties it in the same transaction, just before COMMIT.
-- Every code path that writes messages is still covered by the triggers, and no committed state
-- ever has a message the index does not reflect.
CREATE TABLE search_pending (
  id         INTEGER PRIMARY KEY,  -- the order of the changes
  op         TEXT NOT NULL CHECK (op IN ('insert', 'delete')),
  message_id INTEGER NOT NULL,
  title      TEXT NOT NULL,
  body       TEXT NOT NULL
);

DROP TRIGGER messages_search_insert;
DROP TRIGGER messages_search_update;
DROP TRIGGER messages_search_delete;

CREATE TRIGGER messages_search_insert AFTER INSERT ON messages BEGIN
  INSERT INTO search_pending (op, message_id, title, body) VALUES ('insert', new.id, new.title, new.body);
END;

CREATE TRIGGER messages_search_update AFTER UPDATE OF title, body ON messages BEGIN
  INSERT INTO search_pending (op, message_id, title, body) VALUES ('delete', old.id, old.title, old.body);
  INSERT INTO search_pending (op, message_id, title, body) VALUES ('insert', new.id, new.title, new.body);
END;

CREATE TRIGGER messages_search_delete AFTER DELETE ON messages BEGIN
  INSERT INTO search_pending (op, message_id, title, body) VALUES ('delete', old.id, old.title, old.body);
END;
