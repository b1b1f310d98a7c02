-- Finding an entry by its leaf hash, for inclusion proofs asked for by entry rather than index.
CREATE INDEX log_entries_by_leaf_hash ON log_entries (leaf_hash);
