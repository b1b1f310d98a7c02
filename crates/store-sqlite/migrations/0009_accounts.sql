-- Users, organisations, web sessions and role requests (issue #8). Access configuration, not
-- registry state: nothing here is in the log.
CREATE TABLE organisations (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    organisation  INTEGER NOT NULL REFERENCES organisations (id),
    role          TEXT NOT NULL,
    -- Comma-separated account ids, as for tokens.
    accounts      TEXT NOT NULL,
    -- argon2id, PHC string form.
    password_hash TEXT NOT NULL,
    totp_secret   BLOB,
    created_at    INTEGER NOT NULL
) STRICT;

-- Only SHA-256 of the session id is kept.
CREATE TABLE sessions (
    hash          BLOB PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id),
    csrf          TEXT NOT NULL,
    second_factor INTEGER NOT NULL CHECK (second_factor IN (0, 1)),
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE role_requests (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    role         TEXT NOT NULL,
    accounts     TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    approved_by  TEXT,
    approved_at  INTEGER
) STRICT;
