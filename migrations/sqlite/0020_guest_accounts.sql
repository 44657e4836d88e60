-- Guests: people from outside the organization (agency staff, visiting clinicians, vendors) with
-- a staff-side account that reaches only the spaces they are added to, and only where the
-- space's policy template allows guests. A flag beside the kind, not a kind of its own: a guest
-- signs in and is protected like staff (two-step sign-in rules, lock-out) and is never a patient.
ALTER TABLE users ADD COLUMN is_guest INTEGER NOT NULL DEFAULT 0 CHECK (is_guest IN (0, 1));
