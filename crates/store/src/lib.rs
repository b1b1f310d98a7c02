//! The storage contract. The application talks only to this trait; each database backend is a
//! crate of its own that implements it (SQLite, PostgreSQL), and one conformance suite
//! shows they behave alike. Nothing database-specific appears here.

pub mod accounts;
pub mod external;
pub mod program;
pub mod rows;
pub mod security;

pub use accounts::{Organisation, RoleRequest, SessionRecord, UserRecord};
use async_trait::async_trait;
pub use external::{
    ExternalFilter, ExternalFlag, ExternalImport, ExternalImportOutcome, ExternalQuarantined, ExternalRecord,
    ExternalScan, ExternalSource, ExternalTotals,
};
use furrow_domain::{
    Account, AccountId, Batch, BatchId, Block, BlockState, Cancellation, CancellationId, Effects, Ledger, LogEntry,
    Program, Retirement, RetirementId, Role, Timestamp,
};
pub use program::ProgramEntry;
pub use security::{SecurityEvent, TokenListing, TokenPolicy};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness or foreign-key rule of the schema refused the write. With a single writer this
    /// means a bug, or a second writer on the same database.
    #[error("the database refused a write ({constraint})")]
    Conflict { constraint: String },
    /// A transient failure (busy, serialization); the whole unit of work may be retried.
    #[error("the database is busy: {0}")]
    Retryable(String),
    #[error("the stored data is inconsistent: {0}")]
    Corrupt(String),
    /// Another process already holds this database as its writer (see `Store::claim_writer`).
    #[error("{0}")]
    WriterElsewhere(String),
    #[error("database error: {0}")]
    Other(String),
}

/// One log entry with everything its commit writes.
#[derive(Debug, Clone)]
pub struct EntryToCommit {
    pub entry: LogEntry,
    /// The canonical encoding of `entry` (what is hashed).
    pub bytes: Vec<u8>,
    /// RFC 9162 leaf hash of `bytes`.
    pub leaf_hash: [u8; 32],
    pub effects: Effects,
    /// The entry's private payload (personal data and its salt), stored beside it in
    /// `log_private` and never published (`LogEntry::private_payload`).
    pub private: Option<Vec<u8>>,
}

/// The result of a command, remembered under its idempotency key so a replay returns it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// Whose key it is (the token's subject): keys of different callers never collide.
    pub scope: String,
    pub key: String,
    /// SHA-256 of the request (method, path, body): a replay with a different request is refused.
    pub request_hash: [u8; 32],
    /// The serialized outcome, returned verbatim on replay.
    pub outcome: String,
    pub created_at: Timestamp,
}

/// Everything one group commit writes, atomically and durably.
#[derive(Debug, Clone, Default)]
pub struct CommitGroup {
    pub entries: Vec<EntryToCommit>,
    pub idempotency: Vec<IdempotencyRecord>,
}

/// An API token as stored: only the SHA-256 of the secret is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: u64,
    pub hash: [u8; 32],
    /// Who acts with the token; recorded as the actor of every log entry it causes.
    pub subject: String,
    pub role: Role,
    /// The accounts the token may act for (buyers and participants); empty for staff roles.
    pub accounts: Vec<AccountId>,
    pub created_at: Timestamp,
}

/// A stored log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRow {
    pub index: u64,
    pub timestamp: Timestamp,
    pub actor: String,
    pub kind: String,
    pub bytes: Vec<u8>,
    pub leaf_hash: [u8; 32],
}

/// Keyset pagination: items after `after` (exclusive), at most `limit`.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub after: Option<u64>,
    pub limit: u32,
}

/// Filters for listing blocks.
#[derive(Debug, Clone, Copy, Default)]
pub struct BlockFilter {
    pub batch: Option<BatchId>,
    pub account: Option<AccountId>,
    pub state: Option<BlockState>,
}

/// An account's credits by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Balances {
    pub tradable: u64,
    pub escrowed: u64,
    pub retired: u64,
    pub cancelled: u64,
    pub buffer: u64,
}

impl Balances {
    pub fn add(&mut self, state: BlockState, quantity: u64) {
        match state {
            BlockState::Tradable => self.tradable += quantity,
            BlockState::Escrowed => self.escrowed += quantity,
            BlockState::Retired => self.retired += quantity,
            BlockState::Cancelled => self.cancelled += quantity,
            BlockState::Buffer => self.buffer += quantity,
        }
    }
    pub fn total(&self) -> u64 {
        self.tradable + self.escrowed + self.retired + self.cancelled + self.buffer
    }
}

/// Program-wide totals for the status page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub supply: Balances,
    pub accounts: u64,
    pub batches: u64,
    pub retirements: u64,
    pub log_size: u64,
}

/// How far a read replica is behind its primary.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaStatus {
    /// True when the reader is a standby replaying the primary's log (it should be).
    pub in_recovery: bool,
    pub primary_lsn: String,
    pub replay_lsn: Option<String>,
    /// Bytes of the primary's write-ahead log the replica has not replayed yet.
    pub lag_bytes: u64,
    /// Seconds since the replica replayed its last commit, while it is behind; 0 when caught up.
    pub lag_seconds: f64,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    // --- the writer's side: only the sequencer calls these ---

    /// Makes this process the database's only writer, or fails with `WriterElsewhere` if another
    /// process is. The sequencer calls it before loading the ledger. Backends whose exclusivity is
    /// enforced elsewhere (SQLite: the data directory's lock file) need not override it.
    async fn claim_writer(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Closes the store's connections (and, for SQLite, checkpoints the WAL). Call it once the
    /// registry has stopped using the store.
    async fn close(&self) {}

    /// The read replica's lag, when projection reads go to one.
    async fn read_replica(&self) -> Result<Option<ReplicaStatus>, StoreError> {
        Ok(None)
    }

    /// Loads the full projection into memory, as the sequencer needs it to decide commands.
    async fn load_ledger(&self) -> Result<Ledger, StoreError>;

    /// Number of entries in the log; the next entry's index.
    async fn log_size(&self) -> Result<u64, StoreError>;

    /// Writes a group of entries, their effects and idempotency records in one transaction, and
    /// returns only once the transaction is durable. Either everything is written or nothing.
    /// Shared, not borrowed, so a backend can hand it to a writer thread of its own.
    async fn commit(&self, group: std::sync::Arc<CommitGroup>) -> Result<(), StoreError>;

    // --- idempotency and tokens ---

    async fn find_idempotent(&self, scope: &str, key: &str) -> Result<Option<IdempotencyRecord>, StoreError>;
    async fn insert_token(&self, token: &TokenRecord) -> Result<u64, StoreError>;
    async fn find_token(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>, StoreError>;

    // --- security (issue #8) ---

    /// Sets a token's scope and expiry (right after `insert_token`).
    async fn set_token_policy(&self, id: u64, can_write: bool, expires_at: Option<Timestamp>)
    -> Result<(), StoreError>;
    /// The token's settings and last use.
    async fn token_policy(&self, id: u64) -> Result<Option<TokenPolicy>, StoreError>;
    /// Every token, oldest first.
    async fn list_tokens(&self) -> Result<Vec<TokenListing>, StoreError>;
    /// Revokes a token from `at` on; false if there is no such token or it was already revoked.
    async fn revoke_token(&self, id: u64, at: Timestamp) -> Result<bool, StoreError>;
    /// Records that the token was used at `at` (callers throttle how often).
    async fn touch_token(&self, id: u64, at: Timestamp) -> Result<(), StoreError>;
    /// Appends to the security audit trail, which nothing updates or deletes.
    async fn append_security_event(&self, event: &SecurityEvent) -> Result<(), StoreError>;
    /// The audit trail, oldest first; `page.after` is an event id.
    async fn security_events(&self, page: Page) -> Result<Vec<SecurityEvent>, StoreError>;

    // --- users, organisations, sessions, role requests (issue #8) ---
    // Defaults refuse, so that stores which serve no people (the simulator's) need not implement
    // them; both SQL backends do.

    /// Adds an organisation; a name already taken is `Conflict`.
    async fn insert_organisation(&self, name: &str, at: Timestamp) -> Result<u64, StoreError> {
        let _ = (name, at);
        Err(accounts_unsupported())
    }
    async fn organisation(&self, id: u64) -> Result<Option<Organisation>, StoreError> {
        let _ = id;
        Err(accounts_unsupported())
    }
    async fn organisation_named(&self, name: &str) -> Result<Option<Organisation>, StoreError> {
        let _ = name;
        Err(accounts_unsupported())
    }
    /// Adds a user; an e-mail address already taken is `Conflict`.
    async fn insert_user(&self, user: &UserRecord) -> Result<u64, StoreError> {
        let _ = user;
        Err(accounts_unsupported())
    }
    async fn user(&self, id: u64) -> Result<Option<UserRecord>, StoreError> {
        let _ = id;
        Err(accounts_unsupported())
    }
    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError> {
        let _ = email;
        Err(accounts_unsupported())
    }
    /// Every user, oldest first.
    async fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        Err(accounts_unsupported())
    }
    /// Sets (or with `None` removes) a user's TOTP secret.
    async fn set_user_totp(&self, id: u64, secret: Option<&[u8]>) -> Result<(), StoreError> {
        let _ = (id, secret);
        Err(accounts_unsupported())
    }
    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        let _ = session;
        Err(accounts_unsupported())
    }
    async fn session(&self, hash: &[u8; 32]) -> Result<Option<SessionRecord>, StoreError> {
        let _ = hash;
        Err(accounts_unsupported())
    }
    /// Records activity on a session (callers throttle how often).
    async fn touch_session(&self, hash: &[u8; 32], at: Timestamp) -> Result<(), StoreError> {
        let _ = (hash, at);
        Err(accounts_unsupported())
    }
    /// Deletes a session; false if there was none.
    async fn delete_session(&self, hash: &[u8; 32]) -> Result<bool, StoreError> {
        let _ = hash;
        Err(accounts_unsupported())
    }
    async fn insert_role_request(&self, request: &RoleRequest) -> Result<u64, StoreError> {
        let _ = request;
        Err(accounts_unsupported())
    }
    async fn role_request(&self, id: u64) -> Result<Option<RoleRequest>, StoreError> {
        let _ = id;
        Err(accounts_unsupported())
    }
    /// Every role request, oldest first.
    async fn role_requests(&self) -> Result<Vec<RoleRequest>, StoreError> {
        Err(accounts_unsupported())
    }
    /// Applies a pending role request in one transaction: marks it approved and gives the user
    /// the role and accounts. False if it was not pending (already applied, or no such request).
    async fn apply_role_request(&self, id: u64, by: &str, at: Timestamp) -> Result<bool, StoreError> {
        let _ = (id, by, at);
        Err(accounts_unsupported())
    }

    // --- the program's pages (issue #9) ---
    // Defaults refuse, like the users' methods above; both SQL backends implement them.

    /// Every entry of the program's pages, by position.
    async fn program_entries(&self) -> Result<Vec<ProgramEntry>, StoreError> {
        Err(program_unsupported())
    }
    /// Inserts the built-in entries, keeping any entry whose id is already stored (so seeding
    /// twice, or concurrently, changes nothing).
    async fn seed_program_entries(&self, entries: &[ProgramEntry]) -> Result<(), StoreError> {
        let _ = entries;
        Err(program_unsupported())
    }
    /// Adds an entry under the next free id (one more than the largest), which it returns; the
    /// entry's own `id` is ignored.
    async fn insert_program_entry(&self, entry: &ProgramEntry) -> Result<u64, StoreError> {
        let _ = entry;
        Err(program_unsupported())
    }
    /// Replaces an entry's texts and who/when; false if there is no entry with its id. Section
    /// and position stay as stored.
    async fn update_program_entry(&self, entry: &ProgramEntry) -> Result<bool, StoreError> {
        let _ = entry;
        Err(program_unsupported())
    }

    // --- public reads (never through the writer) ---

    async fn program(&self) -> Result<Option<Program>, StoreError>;
    async fn totals(&self) -> Result<Totals, StoreError>;
    async fn accounts(&self, page: Page) -> Result<Vec<Account>, StoreError>;
    async fn account(&self, id: AccountId) -> Result<Option<(Account, Balances)>, StoreError>;
    async fn batches(&self, page: Page) -> Result<Vec<(Batch, Balances)>, StoreError>;
    async fn batch(&self, id: BatchId) -> Result<Option<(Batch, Balances)>, StoreError>;
    /// Blocks matching a filter, by first serial; `page.after` is a serial.
    async fn blocks(&self, filter: BlockFilter, page: Page) -> Result<Vec<Block>, StoreError>;
    /// The block containing a serial, if it was issued.
    async fn block_at(&self, serial: u64) -> Result<Option<Block>, StoreError>;
    /// Log entries that touched any serial of `[start, end]` in `batch`, oldest first.
    async fn serial_history(&self, batch: BatchId, start: u64, end: u64, limit: u32)
    -> Result<Vec<LogRow>, StoreError>;
    async fn retirements(&self, page: Page) -> Result<Vec<Retirement>, StoreError>;
    async fn retirement(&self, id: RetirementId) -> Result<Option<Retirement>, StoreError>;
    async fn cancellations(&self, page: Page) -> Result<Vec<Cancellation>, StoreError>;
    async fn cancellation(&self, id: CancellationId) -> Result<Option<Cancellation>, StoreError>;
    /// Log entries by index; `page.after` is an index.
    async fn log_entries(&self, page: Page) -> Result<Vec<LogRow>, StoreError>;
    /// Log entries by index as (index, bytes, leaf hash) only: what `furrow verify` replays. A
    /// store may answer it with a narrower query than `log_entries` (no actor or kind strings).
    async fn log_entry_bytes(&self, page: Page) -> Result<Vec<(u64, Vec<u8>, [u8; 32])>, StoreError> {
        Ok(self.log_entries(page).await?.into_iter().map(|r| (r.index, r.bytes, r.leaf_hash)).collect())
    }

    // --- the Merkle tree and checkpoints (the checkpointer writes, anyone reads) ---

    /// The index of the log entry with this leaf hash, if any.
    async fn entry_with_leaf_hash(&self, leaf_hash: &[u8; 32]) -> Result<Option<u64>, StoreError>;
    /// Leaf hashes of log entries `[from, from + limit)`, in order.
    async fn leaf_hashes(&self, from: u64, limit: u32) -> Result<Vec<[u8; 32]>, StoreError>;
    /// The stored tree hashes at these indexes, in the same order; missing ones are an error.
    async fn tree_hashes(&self, indexes: &[u64]) -> Result<Vec<[u8; 32]>, StoreError>;
    /// Appends stored tree hashes starting at `first_index`, and records a signed checkpoint of the
    /// tree they complete, in one transaction.
    async fn extend_tree(
        &self,
        first_index: u64,
        hashes: &[[u8; 32]],
        checkpoint: &CheckpointRow,
    ) -> Result<(), StoreError>;
    /// The latest checkpoint, if any.
    async fn latest_checkpoint(&self) -> Result<Option<CheckpointRow>, StoreError>;
    /// The oldest checkpoint whose tree has at least `size` entries: the first signature over a
    /// given entry, which is what vouches for a rotated log key.
    async fn checkpoint_at_least(&self, size: u64) -> Result<Option<CheckpointRow>, StoreError>;
    /// Stored checkpoints with a tree size above `after`, oldest first.
    async fn checkpoints(&self, after: Option<u64>, limit: u32) -> Result<Vec<CheckpointRow>, StoreError>;
    /// Number of stored tree hashes (the next index to write).
    async fn tree_hash_count(&self) -> Result<u64, StoreError>;

    // --- the external area (`furrow import`): other registries' records, reference data only ---
    // Never part of the log, the supply or the ledger; only the importer writes these tables.
    // The defaults refuse, so that wrappers and test doubles need not implement them.
    /// Writes one chunk of an imported file in one transaction: its source row (kept from the
    /// first write of the same bytes), the records whose key is not yet stored, and its
    /// quarantined rows not yet stored. Importing the same file twice therefore changes nothing.
    async fn external_import(&self, import: &ExternalImport) -> Result<ExternalImportOutcome, StoreError> {
        let _ = import;
        Err(external_unsupported())
    }
    /// Completes a source row, written with an import's first chunk with zero rows, with the
    /// file's counts, unless it was completed before (a repeated import keeps the first counts).
    async fn external_complete_source(&self, source: &ExternalSource) -> Result<(), StoreError> {
        let _ = source;
        Err(external_unsupported())
    }
    /// Makes the stored flags equal to `flags` (keyed by code and subject), in one transaction;
    /// returns how many were added and removed. Flags that stay keep their id.
    async fn external_set_flags(&self, flags: &[ExternalFlag]) -> Result<(u64, u64), StoreError> {
        let _ = flags;
        Err(external_unsupported())
    }
    /// Every imported file, in import order.
    async fn external_sources(&self) -> Result<Vec<ExternalSource>, StoreError> {
        Err(external_unsupported())
    }
    /// External records in import order, with their id; `page.after` is an id.
    async fn external_records(
        &self,
        filter: &ExternalFilter,
        page: Page,
    ) -> Result<Vec<(u64, ExternalRecord)>, StoreError> {
        let _ = (filter, page);
        Err(external_unsupported())
    }
    /// Quarantined rows in import order, with their id; `page.after` is an id.
    async fn external_quarantined(&self, page: Page) -> Result<Vec<(u64, ExternalQuarantined)>, StoreError> {
        let _ = page;
        Err(external_unsupported())
    }
    /// Flags, oldest first, with their id; `page.after` is an id.
    async fn external_flags(&self, page: Page) -> Result<Vec<(u64, ExternalFlag)>, StoreError> {
        let _ = page;
        Err(external_unsupported())
    }
    async fn external_totals(&self) -> Result<ExternalTotals, StoreError> {
        Err(external_unsupported())
    }
    /// The stored records with these keys (registry, kind, origin id), in no particular order;
    /// keys not stored are left out. The importer reconciles each chunk of a file this way rather
    /// than holding an index of the area.
    async fn external_lookup(&self, keys: &[(String, String, String)]) -> Result<Vec<ExternalRecord>, StoreError> {
        let _ = keys;
        Err(external_unsupported())
    }
    /// Passes the records of one check's scan to `visit`, one at a time in the scan's order, as
    /// the database reads them (one query, ordered by the database through an index or a sort that
    /// spills to disk), so that the checks of a large area run in bounded memory. An error from
    /// `visit` stops the scan and is returned.
    async fn external_scan(
        &self,
        scan: ExternalScan,
        visit: &mut (dyn FnMut(ExternalRecord) -> Result<(), StoreError> + Send),
    ) -> Result<(), StoreError> {
        let _ = (scan, visit);
        Err(external_unsupported())
    }
}

fn accounts_unsupported() -> StoreError {
    StoreError::Other("this store keeps no users or sessions".into())
}

fn program_unsupported() -> StoreError {
    StoreError::Other("this store keeps no program pages".into())
}

fn external_unsupported() -> StoreError {
    StoreError::Other("this store has no external area".to_string())
}

/// A signed checkpoint as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointRow {
    pub tree_size: u64,
    pub root: [u8; 32],
    /// The C2SP signed note, exactly as served.
    pub note: String,
    pub created_at: Timestamp,
}

/// The blocks a group leaves behind, relative to the database before the group.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct NetBlocks {
    /// First serials of blocks that existed before the group and do not survive it unchanged.
    pub removed: Vec<u64>,
    /// Blocks the group created that still exist after it (some may reuse a removed first serial).
    pub added: Vec<Block>,
}

impl CommitGroup {
    /// Collapses the group's block changes into one delete set and one insert set, so a backend can
    /// write a whole group with a few multi-row statements instead of one per change. A block
    /// added and removed within the group never reaches the database.
    pub fn net_blocks(&self) -> NetBlocks {
        use furrow_domain::BlockChange;
        use std::collections::{BTreeMap, BTreeSet};
        let mut removed = BTreeSet::new();
        let mut added: BTreeMap<u64, Block> = BTreeMap::new();
        for change in self.entries.iter().flat_map(|e| &e.effects.blocks) {
            match change {
                BlockChange::Removed(block) => {
                    if added.remove(&block.range.start()).is_none() {
                        removed.insert(block.range.start());
                    }
                }
                BlockChange::Added(block) => {
                    added.insert(block.range.start(), *block);
                }
            }
        }
        NetBlocks { removed: removed.into_iter().collect(), added: added.into_values().collect() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use furrow_domain::{BlockChange, Effects, Event, LogEntry, SerialRange, Timestamp};

    fn block(start: u64, end: u64, account: u64) -> Block {
        Block {
            range: SerialRange::new(start, end).expect("valid"),
            batch: BatchId(1),
            account: AccountId(account),
            state: BlockState::Tradable,
        }
    }

    fn entry(changes: Vec<BlockChange>) -> EntryToCommit {
        let event = Event::Transferred { from: AccountId(1), to: AccountId(2), ranges: vec![] };
        EntryToCommit {
            entry: LogEntry { index: 0, timestamp: Timestamp(0), actor: String::new(), event },
            bytes: Vec::new(),
            leaf_hash: [0; 32],
            effects: Effects { blocks: changes, ..Effects::default() },
            private: None,
        }
    }

    #[test]
    fn net_blocks_drops_what_the_group_created_and_removed() {
        use BlockChange::{Added, Removed};
        let group = CommitGroup {
            entries: vec![
                // Existing block 1-100 splits: 1-60 stays, 61-100 moves.
                entry(vec![Removed(block(1, 100, 1)), Added(block(1, 60, 1)), Added(block(61, 100, 2))]),
                // The moved block splits again within the same group.
                entry(vec![Removed(block(61, 100, 2)), Added(block(61, 80, 2)), Added(block(81, 100, 3))]),
            ],
            idempotency: vec![],
        };
        let net = group.net_blocks();
        assert_eq!(net.removed, vec![1]);
        assert_eq!(net.added, vec![block(1, 60, 1), block(61, 80, 2), block(81, 100, 3)]);
    }
}
