-- Which patients a file names, in its name or its content (messages.patient_refs, 0027): what the
-- audit record of each download of it names. '' for none, and once the file was redacted of them.
ALTER TABLE attachments ADD COLUMN patient_refs TEXT NOT NULL DEFAULT '';
