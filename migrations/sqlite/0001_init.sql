-- Rounds schema, version 1: directory, sessions, spaces, messages, events, search.
-- Keys lead with space_id where the space is the natural partition.

CREATE TABLE departments (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  name      TEXT NOT NULL UNIQUE COLLATE NOCASE,
  parent_id INTEGER REFERENCES departments(id)
);

CREATE TABLE users (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  username      TEXT NOT NULL UNIQUE,
  display_name  TEXT NOT NULL,
  email         TEXT NOT NULL DEFAULT '',
  job_role      TEXT NOT NULL DEFAULT '',
  kind          TEXT NOT NULL DEFAULT 'staff' CHECK (kind IN ('staff', 'patient')),
  is_admin      INTEGER NOT NULL DEFAULT 0,
  is_compliance INTEGER NOT NULL DEFAULT 0,
  disabled      INTEGER NOT NULL DEFAULT 0,
  created_at    INTEGER NOT NULL
);
CREATE INDEX users_display_name ON users(display_name COLLATE NOCASE);

CREATE TABLE user_departments (
  user_id       INTEGER NOT NULL REFERENCES users(id),
  department_id INTEGER NOT NULL REFERENCES departments(id),
  PRIMARY KEY (user_id, department_id)
) WITHOUT ROWID;
CREATE INDEX user_departments_department ON user_departments(department_id, user_id);

CREATE TABLE credentials (
  user_id         INTEGER PRIMARY KEY REFERENCES users(id),
  password_hash   TEXT NOT NULL,
  failed_attempts INTEGER NOT NULL DEFAULT 0,
  locked_until    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE sessions (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id      INTEGER NOT NULL REFERENCES users(id),
  token_hash   TEXT NOT NULL UNIQUE,
  csrf_token   TEXT NOT NULL,
  is_bearer    INTEGER NOT NULL,
  created_at   INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,
  user_agent   TEXT NOT NULL DEFAULT '',
  address      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE spaces (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  kind         TEXT NOT NULL CHECK (kind IN ('community', 'channel', 'direct')),
  name         TEXT NOT NULL,
  topic        TEXT NOT NULL DEFAULT '',
  visibility   TEXT NOT NULL CHECK (visibility IN ('public', 'private')),
  join_policy  TEXT NOT NULL CHECK (join_policy IN ('open', 'invite')),
  archived     INTEGER NOT NULL DEFAULT 0,
  direct_key   TEXT,
  created_by   INTEGER NOT NULL,
  created_at   INTEGER NOT NULL,
  last_seq     INTEGER NOT NULL DEFAULT 0,
  member_count INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX spaces_direct_key ON spaces(direct_key) WHERE direct_key IS NOT NULL;

CREATE TABLE memberships (
  space_id  INTEGER NOT NULL REFERENCES spaces(id),
  user_id   INTEGER NOT NULL REFERENCES users(id),
  role      TEXT NOT NULL CHECK (role IN ('read_only', 'member', 'moderator', 'owner')),
  read_seq  INTEGER NOT NULL DEFAULT 0,
  joined_at INTEGER NOT NULL,
  PRIMARY KEY (space_id, user_id)
) WITHOUT ROWID;
CREATE INDEX memberships_user ON memberships(user_id, space_id);

CREATE TABLE messages (
  id                 INTEGER PRIMARY KEY AUTOINCREMENT,
  space_id           INTEGER NOT NULL REFERENCES spaces(id),
  seq                INTEGER NOT NULL,
  author_id          INTEGER NOT NULL REFERENCES users(id),
  kind               TEXT NOT NULL,
  parent_id          INTEGER REFERENCES messages(id),
  title              TEXT NOT NULL DEFAULT '',
  body               TEXT NOT NULL,
  client_id          TEXT NOT NULL DEFAULT '',
  created_at         INTEGER NOT NULL,
  edited_at          INTEGER NOT NULL DEFAULT 0,
  deleted            INTEGER NOT NULL DEFAULT 0,
  pinned             INTEGER NOT NULL DEFAULT 0,
  accepted_answer_id INTEGER,
  reply_count        INTEGER NOT NULL DEFAULT 0,
  vote_count         INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX messages_space_seq ON messages(space_id, seq);
CREATE INDEX messages_space_parent_seq ON messages(space_id, parent_id, seq);
CREATE UNIQUE INDEX messages_client_id ON messages(space_id, author_id, client_id) WHERE client_id <> '';

CREATE TABLE message_edits (
  message_id INTEGER NOT NULL REFERENCES messages(id),
  version    INTEGER NOT NULL,
  title      TEXT NOT NULL DEFAULT '',
  body       TEXT NOT NULL,
  edited_at  INTEGER NOT NULL,
  editor_id  INTEGER NOT NULL,
  PRIMARY KEY (message_id, version)
) WITHOUT ROWID;

CREATE TABLE poll_options (
  message_id INTEGER NOT NULL REFERENCES messages(id),
  idx        INTEGER NOT NULL,
  text       TEXT NOT NULL,
  PRIMARY KEY (message_id, idx)
) WITHOUT ROWID;

CREATE TABLE poll_votes (
  message_id INTEGER NOT NULL REFERENCES messages(id),
  user_id    INTEGER NOT NULL,
  idx        INTEGER NOT NULL,
  PRIMARY KEY (message_id, user_id)
) WITHOUT ROWID;

CREATE TABLE idea_votes (
  message_id INTEGER NOT NULL REFERENCES messages(id),
  user_id    INTEGER NOT NULL,
  PRIMARY KEY (message_id, user_id)
) WITHOUT ROWID;

CREATE TABLE reactions (
  message_id INTEGER NOT NULL REFERENCES messages(id),
  emoji      TEXT NOT NULL,
  user_id    INTEGER NOT NULL,
  PRIMARY KEY (message_id, emoji, user_id)
) WITHOUT ROWID;

CREATE TABLE mentions (
  user_id    INTEGER NOT NULL,
  message_id INTEGER NOT NULL REFERENCES messages(id),
  space_id   INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, message_id)
) WITHOUT ROWID;
CREATE INDEX mentions_message ON mentions(message_id);

CREATE TABLE space_events (
  space_id   INTEGER NOT NULL,
  seq        INTEGER NOT NULL,
  type       TEXT NOT NULL,
  payload    TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (space_id, seq)
) WITHOUT ROWID;

-- Search index keyed by message id (rowid). Rows are replaced and removed in the same
-- transaction as the message, so deleted or edited-away text can never be found.
CREATE VIRTUAL TABLE message_search USING fts5(
  title, body, tokenize='unicode61 remove_diacritics 2'
);
