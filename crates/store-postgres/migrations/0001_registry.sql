-- Furrow registry schema, PostgreSQL. The same tables as the SQLite backend, in PostgreSQL types;
-- never edit an applied migration: add a new one. Ledger tables (log_entries, serial_history,
-- tree_hashes, checkpoints) are append-only; projections (blocks) change.

CREATE TABLE program (
    id      SMALLINT PRIMARY KEY CHECK (id = 1),
    code    TEXT NOT NULL,
    country TEXT NOT NULL,
    name    TEXT NOT NULL
);

CREATE TABLE accounts (
    id   BIGINT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL
);

CREATE TABLE batches (
    id           BIGINT PRIMARY KEY,
    project      BIGINT NOT NULL,
    country      TEXT NOT NULL,
    vintage      BIGINT NOT NULL,
    serial_start BIGINT NOT NULL,
    serial_end   BIGINT NOT NULL,
    buffer       BIGINT NOT NULL,
    labels       TEXT NOT NULL,   -- comma-separated; labels never contain commas
    issued_at    BIGINT NOT NULL  -- µs since the Unix epoch
);

CREATE TABLE blocks (
    serial_start BIGINT PRIMARY KEY,
    serial_end   BIGINT NOT NULL,
    batch        BIGINT NOT NULL REFERENCES batches (id),
    account      BIGINT NOT NULL REFERENCES accounts (id),
    state        TEXT NOT NULL,
    CHECK (serial_start <= serial_end)
);
CREATE INDEX blocks_by_account ON blocks (account, serial_start);
CREATE INDEX blocks_by_batch ON blocks (batch, serial_start);

CREATE TABLE retirements (
    id                     BIGINT PRIMARY KEY,
    account                BIGINT NOT NULL REFERENCES accounts (id),
    quantity               BIGINT NOT NULL,
    beneficiary_name       TEXT NOT NULL,
    beneficiary_country    TEXT,
    beneficiary_identifier TEXT,
    purpose                TEXT NOT NULL,
    claim_from             TEXT NOT NULL,
    claim_to               TEXT NOT NULL,
    jurisdiction           TEXT NOT NULL,
    note                   TEXT NOT NULL,
    retired_at             BIGINT NOT NULL
);

CREATE TABLE retirement_ranges (
    retirement   BIGINT NOT NULL REFERENCES retirements (id),
    serial_start BIGINT NOT NULL,
    serial_end   BIGINT NOT NULL,
    PRIMARY KEY (retirement, serial_start)
);

CREATE TABLE cancellations (
    id           BIGINT PRIMARY KEY,
    account      BIGINT NOT NULL REFERENCES accounts (id),
    quantity     BIGINT NOT NULL,
    reason       TEXT NOT NULL,
    note         TEXT NOT NULL,
    cancelled_at BIGINT NOT NULL
);

CREATE TABLE cancellation_ranges (
    cancellation BIGINT NOT NULL REFERENCES cancellations (id),
    serial_start BIGINT NOT NULL,
    serial_end   BIGINT NOT NULL,
    PRIMARY KEY (cancellation, serial_start)
);

-- The totally ordered log. `idx` is the Merkle leaf index, and its primary key is also the fence
-- against a second writer: two writers can never both append entry n.
CREATE TABLE log_entries (
    idx          BIGINT PRIMARY KEY,
    timestamp_us BIGINT NOT NULL,
    actor        TEXT NOT NULL,
    kind         TEXT NOT NULL,
    entry        BYTEA NOT NULL,
    leaf_hash    BYTEA NOT NULL CHECK (length(leaf_hash) = 32)
);
CREATE INDEX log_entries_by_leaf_hash ON log_entries (leaf_hash);

CREATE TABLE serial_history (
    batch        BIGINT NOT NULL,
    serial_start BIGINT NOT NULL,
    serial_end   BIGINT NOT NULL,
    log_index    BIGINT NOT NULL REFERENCES log_entries (idx)
);
CREATE INDEX serial_history_by_batch ON serial_history (batch, serial_start);

CREATE TABLE idempotency (
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash BYTEA NOT NULL,
    outcome      TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (scope, key)
);

CREATE TABLE tokens (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hash       BYTEA NOT NULL UNIQUE,
    subject    TEXT NOT NULL,
    role       TEXT NOT NULL,
    accounts   TEXT NOT NULL, -- comma-separated account ids
    created_at BIGINT NOT NULL
);

-- The Merkle tree over log_entries in the sumdb "stored hash" layout (see the SQLite schema).
CREATE TABLE tree_hashes (
    idx  BIGINT PRIMARY KEY,
    hash BYTEA NOT NULL CHECK (length(hash) = 32)
);

CREATE TABLE checkpoints (
    tree_size  BIGINT PRIMARY KEY,
    root       BYTEA NOT NULL CHECK (length(root) = 32),
    note       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE log_keys (
    position BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    vkey     TEXT NOT NULL UNIQUE
);
