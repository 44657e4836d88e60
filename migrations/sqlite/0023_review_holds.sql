-- A third reason to hold a message: "review". A patient's post that names someone in the
-- patient index is held for a moderator without saying why (the author must not learn who is a
-- patient here); see docs/architecture.md, "Who learns the patient index".
--
-- Only the CHECK constraint changes, rewritten in place as 0010 did (a CHECK does not touch the
-- file's format; SQLite documents this edit under writable_schema). Creating and dropping a table
-- moves the schema version on, so that every other connection reloads the schema.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(sql,
  'CHECK (hold_reason = '''' OR hold_reason = ''pre_moderation'' OR hold_reason = ''phi'')',
  'CHECK (hold_reason = '''' OR hold_reason = ''pre_moderation'' OR hold_reason = ''phi'' OR hold_reason = ''review'')')
  WHERE type = 'table' AND name = 'messages';
PRAGMA writable_schema = RESET;
CREATE TABLE schema_version_bump (unused INTEGER);
DROP TABLE schema_version_bump;
