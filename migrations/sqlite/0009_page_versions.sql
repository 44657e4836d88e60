-- Rounds schema, version 9.
--
-- What a page of a space's messages shows, versioned, so that the server can keep rendered pages
-- and know exactly when one is out of date. A page shows the space's message rows, their
-- mentions, poll options and votes, reactions and idea votes, and each author's username and
-- display name. Triggers bump the space's content_version whenever any of those rows of the space
-- changes, and the one directory_version whenever a username or display name changes or a user
-- row goes. Triggers, not the app: every path that writes (the server, the rounds CLI in another
-- process, retention, a migration) moves the versions in the same transaction as the change, so
-- a reader that sees a version sees exactly the rows that version was taken over.
ALTER TABLE spaces ADD COLUMN content_version INTEGER NOT NULL DEFAULT 0;

CREATE TABLE directory_version (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL
);
INSERT INTO directory_version (id, version) VALUES (1, 0);

CREATE TRIGGER messages_page_insert AFTER INSERT ON messages BEGIN
  UPDATE spaces SET content_version = content_version + 1 WHERE id = new.space_id;
END;
-- A message never moves between spaces (nothing updates space_id).
CREATE TRIGGER messages_page_update AFTER UPDATE ON messages BEGIN
  UPDATE spaces SET content_version = content_version + 1 WHERE id = new.space_id;
END;
CREATE TRIGGER messages_page_delete AFTER DELETE ON messages BEGIN
  UPDATE spaces SET content_version = content_version + 1 WHERE id = old.space_id;
END;

-- Rows that belong to a message: the space is the message's.
CREATE TRIGGER reactions_page_insert AFTER INSERT ON reactions BEGIN
  UPDATE spaces SET content_version = content_version + 1
  WHERE id = (SELECT space_id FROM messages WHERE id = new.message_id);
END;
CREATE TRIGGER reactions_page_delete AFTER DELETE ON reactions BEGIN
  UPDATE spaces SET content_version = content_version + 1
  WHERE id = (SELECT space_id FROM messages WHERE id = old.message_id);
END;
-- A mention carries its message's space.
CREATE TRIGGER mentions_page_insert AFTER INSERT ON mentions BEGIN
  UPDATE spaces SET content_version = content_version + 1 WHERE id = new.space_id;
END;
CREATE TRIGGER mentions_page_delete AFTER DELETE ON mentions BEGIN
  UPDATE spaces SET content_version = content_version + 1 WHERE id = old.space_id;
END;
CREATE TRIGGER poll_options_page_insert AFTER INSERT ON poll_options BEGIN
  UPDATE spaces SET content_version = content_version + 1
  WHERE id = (SELECT space_id FROM messages WHERE id = new.message_id);
END;
CREATE TRIGGER poll_options_page_update AFTER UPDATE ON poll_options BEGIN
  UPDATE spaces SET content_version = content_version + 1
  WHERE id IN (SELECT space_id FROM messages WHERE id IN (old.message_id, new.message_id));
END;
CREATE TRIGGER poll_options_page_delete AFTER DELETE ON poll_options BEGIN
  UPDATE spaces SET content_version = content_version + 1
  WHERE id = (SELECT space_id FROM messages WHERE id = old.message_id);
END;
CREATE TRIGGER poll_votes_page_insert AFTER INSERT ON poll_votes BEGIN
  UPDATE spaces SET content_version = content_version + 1
  WHERE id = (SELECT space_id FROM messages WHERE id = new.message_id);
END;
CREATE TRIGGER poll_votes_page_update AFTER UPDATE ON poll_votes BEGIN
  UPDATE spaces SET content_version = content_version + 1
  WHERE id IN (SELECT space_id FROM messages WHERE id IN (old.message_id, new.message_id));
END;
CREATE TRIGGER poll_votes_page_delete AFTER DELETE ON poll_votes BEGIN
  UPDATE spaces SET content_version = content_version + 1
  WHERE id = (SELECT space_id FROM messages WHERE id = old.message_id);
END;
CREATE TRIGGER idea_votes_page_insert AFTER INSERT ON idea_votes BEGIN
  UPDATE spaces SET content_version = content_version + 1
  WHERE id = (SELECT space_id FROM messages WHERE id = new.message_id);
END;
CREATE TRIGGER idea_votes_page_delete AFTER DELETE ON idea_votes BEGIN
  UPDATE spaces SET content_version = content_version + 1
  WHERE id = (SELECT space_id FROM messages WHERE id = old.message_id);
END;

CREATE TRIGGER users_page_update AFTER UPDATE OF username, display_name ON users BEGIN
  UPDATE directory_version SET version = version + 1;
END;
CREATE TRIGGER users_page_delete AFTER DELETE ON users BEGIN
  UPDATE directory_version SET version = version + 1;
END;
