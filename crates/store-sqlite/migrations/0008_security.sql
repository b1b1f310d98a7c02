-- Security (issue #8). Tokens gain a scope (read-only tokens cannot change anything), an expiry,
-- a revocation time and a last-use time; existing tokens keep working as unexpiring write tokens.
ALTER TABLE tokens ADD COLUMN can_write INTEGER NOT NULL DEFAULT 1 CHECK (can_write IN (0, 1));
ALTER TABLE tokens ADD COLUMN expires_at INTEGER;
ALTER TABLE tokens ADD COLUMN revoked_at INTEGER;
ALTER TABLE tokens ADD COLUMN last_used_at INTEGER;

-- The security audit trail: append-only (no statement updates or deletes it; the triggers refuse
-- to), readable by admins.
CREATE TABLE security_events (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    kind    TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail  TEXT NOT NULL
) STRICT;

CREATE TRIGGER security_events_no_update BEFORE UPDATE ON security_events
BEGIN
    SELECT RAISE(ABORT, 'the security audit trail is append-only');
END;

CREATE TRIGGER security_events_no_delete BEFORE DELETE ON security_events
BEGIN
    SELECT RAISE(ABORT, 'the security audit trail is append-only');
END;
