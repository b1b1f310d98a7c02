-- Verifier keys of the log, in the order the log published them (key rotation).
CREATE TABLE log_keys (
    position INTEGER PRIMARY KEY,
    vkey     TEXT NOT NULL UNIQUE
) STRICT;
