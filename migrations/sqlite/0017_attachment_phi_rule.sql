-- The PHI rule a file was screened under at upload ('allow', 'warn', 'hold'; '' for files stored
-- before this column). A space's template may change between the upload and the post that
-- attaches the file: the post applies the rule in force then to what the upload found
-- (phi_types, now kept under every rule that stores PHI), so that a file uploaded while PHI was
-- allowed is not posted into a space that now blocks, redacts, holds or warns of it.
ALTER TABLE attachments ADD COLUMN phi_rule TEXT NOT NULL DEFAULT '';
