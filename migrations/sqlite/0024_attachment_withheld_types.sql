-- What the patient index alone found in a file a patient or a guest uploaded. The uploader is never
-- told (whether someone is a patient is protected), but under a hold, block or redact rule the post
-- that attaches the file waits for a moderator, as a post whose text the index alone flagged does
-- (hold reason "review"). Files uploaded before this column, and every staff upload, hold ''.
ALTER TABLE attachments ADD COLUMN withheld_types TEXT NOT NULL DEFAULT '';
