-- Administration is a separate, time-boxed standing of a session (the HIPAA NPRM's separate
-- administrator identity with step-up): an administrator's account acts as staff until its
-- session is elevated with the password (and a two-step code), and only until this time.
ALTER TABLE sessions ADD COLUMN admin_elevated_until INTEGER NOT NULL DEFAULT 0;
