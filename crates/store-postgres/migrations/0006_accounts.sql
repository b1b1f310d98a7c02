-- Users, organisations, web sessions and role requests (issue #8); see the SQLite migration
-- 0009_accounts.sql.
CREATE TABLE organisations (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    organisation  BIGINT NOT NULL REFERENCES organisations (id),
    role          TEXT NOT NULL,
    accounts      TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    totp_secret   BYTEA,
    created_at    BIGINT NOT NULL
);

CREATE TABLE sessions (
    hash          BYTEA PRIMARY KEY,
    user_id       BIGINT NOT NULL REFERENCES users (id),
    csrf          TEXT NOT NULL,
    second_factor BOOLEAN NOT NULL,
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL
);

CREATE TABLE role_requests (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id),
    role         TEXT NOT NULL,
    accounts     TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    approved_by  TEXT,
    approved_at  BIGINT
);
