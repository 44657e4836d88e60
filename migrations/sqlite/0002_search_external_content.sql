-- Rounds schema, version 2.
--
-- Search: the index no longer keeps its own copy of every title and body. It becomes an
-- external-content FTS5 table over messages (snippets read the live row), kept in step by
-- triggers in the same transaction as every insert, edit and delete of a message, whichever code
-- path writes it. A deleted message has an empty title and body, so nothing of it stays findable;
-- an edit removes the old text from the index before adding the new. Prefix indexes of 2 and 3
-- characters keep "as you type" prefix queries cheap.
DROP TABLE message_search;

CREATE VIRTUAL TABLE message_search USING fts5(
  title, body,
  content = 'messages', content_rowid = 'id',
  tokenize = 'unicode61 remove_diacritics 2',
  prefix = '2 3'
);

CREATE TRIGGER messages_search_insert AFTER INSERT ON messages BEGIN
  INSERT INTO message_search (rowid, title, body) VALUES (new.id, new.title, new.body);
END;

CREATE TRIGGER messages_search_update AFTER UPDATE OF title, body ON messages BEGIN
  INSERT INTO message_search (message_search, rowid, title, body)
    VALUES ('delete', old.id, old.title, old.body);
  INSERT INTO message_search (rowid, title, body) VALUES (new.id, new.title, new.body);
END;

CREATE TRIGGER messages_search_delete AFTER DELETE ON messages BEGIN
  INSERT INTO message_search (message_search, rowid, title, body)
    VALUES ('delete', old.id, old.title, old.body);
END;

INSERT INTO message_search (message_search) VALUES ('rebuild');

-- Usernames are stored lower-case so that sign-in and mentions match one account.
CREATE TRIGGER users_username_lower_insert BEFORE INSERT ON users
  WHEN new.username <> lower(new.username) BEGIN
  SELECT RAISE(ABORT, 'username must be lower-case');
END;

CREATE TRIGGER users_username_lower_update BEFORE UPDATE OF username ON users
  WHEN new.username <> lower(new.username) BEGIN
  SELECT RAISE(ABORT, 'username must be lower-case');
END;

-- The expired-session sweep without a full scan of sessions.
CREATE INDEX sessions_expires_at ON sessions(expires_at);
CREATE INDEX sessions_last_seen_at ON sessions(last_seen_at);
