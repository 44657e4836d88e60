-- Two-step sign-in (TOTP, RFC 6238). The seeds are sealed under a key kept outside the database
-- (crypto::SealSecret); recovery codes are kept as the SHA-256 of each unused code.
ALTER TABLE credentials ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';     -- sealed; '' when off
ALTER TABLE credentials ADD COLUMN totp_pending TEXT NOT NULL DEFAULT '';    -- sealed; set-up not yet confirmed
ALTER TABLE credentials ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0; -- newest time step used: codes are single-use
ALTER TABLE credentials ADD COLUMN recovery_codes TEXT NOT NULL DEFAULT '';  -- space-separated SHA-256 hex

-- Whether the session was opened with a second factor (or the user set one up in it).
ALTER TABLE sessions ADD COLUMN second_factor INTEGER NOT NULL DEFAULT 0;
