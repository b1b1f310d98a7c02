-- The Merkle tree over log_entries, in the sumdb "stored hash" layout: every tree node that is
-- the root of a complete subtree is stored once at a deterministic index, so the tree is one
-- append-only table and proofs need O(log n) point reads.
CREATE TABLE tree_hashes (
    idx  INTEGER PRIMARY KEY,
    hash BLOB NOT NULL CHECK (length(hash) = 32)
) STRICT;

-- Signed checkpoints (C2SP signed notes), one per published tree size.
CREATE TABLE checkpoints (
    tree_size  INTEGER PRIMARY KEY,
    root       BLOB NOT NULL CHECK (length(root) = 32),
    note       TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
