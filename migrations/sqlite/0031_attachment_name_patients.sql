-- Which patients a file's name names (a part of attachments.patient_refs, 0028): a message's
-- readers see the names of its files, not their content, so a post that attaches a file adds these
-- to messages.patient_refs, and each read of the message names them. '' for none, once the name
-- was redacted of them, and for files uploaded before this column (their content and name were
-- screened together).
ALTER TABLE attachments ADD COLUMN name_patient_refs TEXT NOT NULL DEFAULT '';
