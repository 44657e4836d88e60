-- The released legal holds' count at which a finished retention run had looked at every deletion a
-- hold keeps (NULL: it had not, cut short or interrupted). Only a release frees a kept deletion, so
-- while the count stays what the last finished run recorded there is nothing to look for, whichever
-- process runs next. Runs before this column hold NULL: the first run after it looks at them all.
ALTER TABLE retention_runs ADD COLUMN kept_walked_at INTEGER;
