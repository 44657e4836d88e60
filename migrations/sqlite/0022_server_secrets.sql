-- Rounds schema, version 22.
--
-- Secrets the server derives values from, kept with the data they protect, so that every server
-- on one database and every restored backup derive the same values. The first is the key of the
-- permutation that names members of a space with pseudonyms ("Quiet Heron 2731"): without it, a
-- pseudonym and the id members see under it cannot be turned back into an account. It is drawn
-- once, here, from SQLite's random source, and never leaves the server.
CREATE TABLE server_secrets (
  name  TEXT PRIMARY KEY,
  value BLOB NOT NULL CHECK (length(value) >= 16)
) WITHOUT ROWID;
INSERT INTO server_secrets (name, value) VALUES ('pseudonym_key', randomblob(32));
