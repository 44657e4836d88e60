-- A CHECK of the form `column IN ('a', 'b', 'c')` with three or more values makes SQLite (3.40)
-- build a temporary b-tree of the list every time it checks a row: a pager, a page cache and a
-- table created and thrown away, about 2.6 µs per row written. A message insert paid it twice,
-- every audit record once. The same constraints written as chains of equalities accept exactly
-- the same values (and NULL, as IN does) and cost a few comparisons.
--
-- A CHECK constraint does not touch the file's format, so it is rewritten in place: SQLite
-- documents editing sqlite_schema under writable_schema for changing CHECK constraints
-- (https://www.sqlite.org/lang_altertable.html, "Making Other Kinds Of Table Schema Changes"),
-- which takes no time on any size of table, unlike copying the table. RESET reloads this
-- connection's schema; creating and dropping a table moves the schema version on, so that every
-- other connection to the file reloads it too. migrations_test checks that the rewritten schema
-- parses, passes integrity_check, keeps every row and still refuses values outside the lists.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(sql,
  'CHECK (kind IN (''community'', ''channel'', ''direct''))',
  'CHECK (kind = ''community'' OR kind = ''channel'' OR kind = ''direct'')')
  WHERE type = 'table' AND name = 'spaces';
UPDATE sqlite_schema SET sql = replace(sql,
  'CHECK (role IN (''read_only'', ''member'', ''moderator'', ''owner''))',
  'CHECK (role = ''read_only'' OR role = ''member'' OR role = ''moderator'' OR role = ''owner'')')
  WHERE type = 'table' AND name = 'memberships';
UPDATE sqlite_schema SET sql = replace(replace(sql,
  'CHECK (state IN (''published'', ''held'', ''hidden'', ''removed''))',
  'CHECK (state = ''published'' OR state = ''held'' OR state = ''hidden'' OR state = ''removed'')'),
  'CHECK (hold_reason IN ('''', ''pre_moderation'', ''phi''))',
  'CHECK (hold_reason = '''' OR hold_reason = ''pre_moderation'' OR hold_reason = ''phi'')')
  WHERE type = 'table' AND name = 'messages';
UPDATE sqlite_schema SET sql = replace(sql,
  'CHECK (outcome IN (''success'', ''denied'', ''failure''))',
  'CHECK (outcome = ''success'' OR outcome = ''denied'' OR outcome = ''failure'')')
  WHERE type = 'table' AND name = 'audit_log';
UPDATE sqlite_schema SET sql = replace(replace(sql,
  'CHECK (action IN (''approve'', ''hide'', ''remove'', ''warn'', ''suspend''))',
  'CHECK (action = ''approve'' OR action = ''hide'' OR action = ''remove'' OR action = ''warn'' OR action = ''suspend'')'),
  'CHECK (appeal_outcome IN ('''', ''upheld'', ''reversed''))',
  'CHECK (appeal_outcome = '''' OR appeal_outcome = ''upheld'' OR appeal_outcome = ''reversed'')')
  WHERE type = 'table' AND name = 'moderation_actions';
PRAGMA writable_schema = RESET;
CREATE TABLE schema_version_bump (unused INTEGER);
DROP TABLE schema_version_bump;
