-- Rounds schema, version 12.
--
-- Attachments. A file is uploaded into a space first (its row and content written in the same
-- transaction), then attached to one message by the post that names it. The content lives in the
-- database, in a table of its own: it commits, backs up, restores and is purged (zeroed, under
-- secure_delete) together with the message it belongs to, with no second store to keep in step.
-- Uploads never attached are removed by the retention job after a day.
CREATE TABLE attachments (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  space_id     INTEGER NOT NULL REFERENCES spaces(id),
  uploader_id  INTEGER NOT NULL REFERENCES users(id),
  message_id   INTEGER REFERENCES messages(id),
  name         TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size         INTEGER NOT NULL CHECK (size >= 0),
  sha256       TEXT NOT NULL,
  phi_types    TEXT NOT NULL DEFAULT '',
  created_at   INTEGER NOT NULL
);
CREATE INDEX attachments_message ON attachments(message_id) WHERE message_id IS NOT NULL;
CREATE INDEX attachments_unattached ON attachments(created_at) WHERE message_id IS NULL;

CREATE TABLE attachment_contents (
  attachment_id INTEGER PRIMARY KEY REFERENCES attachments(id),
  content       BLOB NOT NULL
);
