-- An export's files removed from the server, once delivered or once they expired: when, and by
-- whom (0: the system, for an expiry or the command line). The record stays, as its audit does:
-- what was exported, by whom, and that the copy on the server is gone.
ALTER TABLE ediscovery_exports ADD COLUMN removed_at INTEGER;
ALTER TABLE ediscovery_exports ADD COLUMN removed_by INTEGER;
-- Exports still on the server, oldest first, for the expiry.
CREATE INDEX ediscovery_exports_kept ON ediscovery_exports(created_at) WHERE removed_at IS NULL;
