-- Furrow registry schema, SQLite. Never edit an applied migration: add a new one.
-- Ledger tables (log_entries, serial_history) are append-only; projections (blocks) change.

CREATE TABLE program (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    code    TEXT NOT NULL,
    country TEXT NOT NULL,
    name    TEXT NOT NULL
) STRICT;

CREATE TABLE accounts (
    id   INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL
) STRICT;

CREATE TABLE batches (
    id           INTEGER PRIMARY KEY,
    project      INTEGER NOT NULL,
    country      TEXT NOT NULL,
    vintage      INTEGER NOT NULL,
    serial_start INTEGER NOT NULL,
    serial_end   INTEGER NOT NULL,
    buffer       INTEGER NOT NULL,
    labels       TEXT NOT NULL,   -- comma-separated; labels never contain commas
    issued_at    INTEGER NOT NULL -- µs since the Unix epoch
) STRICT;

CREATE TABLE blocks (
    serial_start INTEGER PRIMARY KEY,
    serial_end   INTEGER NOT NULL,
    batch        INTEGER NOT NULL REFERENCES batches (id),
    account      INTEGER NOT NULL REFERENCES accounts (id),
    state        TEXT NOT NULL,
    CHECK (serial_start <= serial_end)
) STRICT;
CREATE INDEX blocks_by_account ON blocks (account, serial_start);
CREATE INDEX blocks_by_batch ON blocks (batch, serial_start);

CREATE TABLE retirements (
    id                     INTEGER PRIMARY KEY,
    account                INTEGER NOT NULL REFERENCES accounts (id),
    quantity               INTEGER NOT NULL,
    beneficiary_name       TEXT NOT NULL,
    beneficiary_country    TEXT,
    beneficiary_identifier TEXT,
    purpose                TEXT NOT NULL,
    claim_from             TEXT NOT NULL,
    claim_to               TEXT NOT NULL,
    jurisdiction           TEXT NOT NULL,
    note                   TEXT NOT NULL,
    retired_at             INTEGER NOT NULL
) STRICT;

CREATE TABLE retirement_ranges (
    retirement   INTEGER NOT NULL REFERENCES retirements (id),
    serial_start INTEGER NOT NULL,
    serial_end   INTEGER NOT NULL,
    PRIMARY KEY (retirement, serial_start)
) STRICT;

CREATE TABLE cancellations (
    id           INTEGER PRIMARY KEY,
    account      INTEGER NOT NULL REFERENCES accounts (id),
    quantity     INTEGER NOT NULL,
    reason       TEXT NOT NULL,
    note         TEXT NOT NULL,
    cancelled_at INTEGER NOT NULL
) STRICT;

CREATE TABLE cancellation_ranges (
    cancellation INTEGER NOT NULL REFERENCES cancellations (id),
    serial_start INTEGER NOT NULL,
    serial_end   INTEGER NOT NULL,
    PRIMARY KEY (cancellation, serial_start)
) STRICT;

-- The totally ordered log. `idx` is the Merkle leaf index; `entry` the canonical bytes that
-- `leaf_hash` covers. The tree, checkpoints and tiles live in tables of their own (later), so
-- existing entries never need migrating.
CREATE TABLE log_entries (
    idx          INTEGER PRIMARY KEY,
    timestamp_us INTEGER NOT NULL,
    actor        TEXT NOT NULL,
    kind         TEXT NOT NULL,
    entry        BLOB NOT NULL,
    leaf_hash    BLOB NOT NULL CHECK (length(leaf_hash) = 32)
) STRICT;

-- Which serial ranges each entry touched, for "full history of this serial".
CREATE TABLE serial_history (
    batch        INTEGER NOT NULL,
    serial_start INTEGER NOT NULL,
    serial_end   INTEGER NOT NULL,
    log_index    INTEGER NOT NULL REFERENCES log_entries (idx)
) STRICT;
CREATE INDEX serial_history_by_batch ON serial_history (batch, serial_start);

CREATE TABLE idempotency (
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash BLOB NOT NULL,
    outcome      TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
) STRICT;

CREATE TABLE tokens (
    id         INTEGER PRIMARY KEY,
    hash       BLOB NOT NULL UNIQUE,
    subject    TEXT NOT NULL,
    role       TEXT NOT NULL,
    accounts   TEXT NOT NULL, -- comma-separated account ids
    created_at INTEGER NOT NULL
) STRICT;
