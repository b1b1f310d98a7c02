//! A purpose-built in-memory `Store`, for the deterministic simulator and tests.
//!
//! It exists for speed and determinism: the simulator runs tens of thousands of seeds, and on
//! SQLite each one pays for a database file, a migration copy, a connection pool and a worker
//! thread per connection. Here the tables are ordered maps behind one mutex: no I/O, no threads,
//! nothing that depends on timing, so a seed's run is the same every time.
//!
//! It keeps SQLite's semantics, table for table: a group commit is all-or-nothing (every change
//! is undone if a later one fails, see [`tx`]), primary keys and unique columns refuse a duplicate
//! with `StoreError::Conflict`, foreign keys the backends enforce are checked, ids are the largest
//! so far plus one, and every read orders and pages as the SQL does. The same conformance suite
//! runs against it and the two database backends (`app/tests/conformance`).
//!
//! It is not a production backend: nothing is durable, and `furrow serve` does not offer it.

mod external;
mod people;
mod tx;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use furrow_domain::{
    Account, AccountId, Batch, BatchId, Block, Cancellation, CancellationId, Ledger, Program, Record, Retirement,
    RetirementId, Timestamp,
};
use furrow_store::rows::{LifecycleRow, replay_lifecycle};
use furrow_store::{
    Balances, BlockFilter, CheckpointRow, CommitGroup, ExternalFilter, ExternalFlag, ExternalImport,
    ExternalImportOutcome, ExternalQuarantined, ExternalRecord, ExternalScan, ExternalSource, ExternalTotals,
    IdempotencyRecord, LogRow, Organisation, Page, RoleRequest, SecurityEvent, SessionRecord, Store, StoreError,
    TokenListing, TokenPolicy, TokenRecord, Totals, UserRecord,
};

use tx::Tx;

/// The tables, as the SQL schema has them (`store-sqlite/migrations`).
#[derive(Default)]
pub(crate) struct Tables {
    /// Keyed by the constant 1, like the SQL table's `CHECK (id = 1)`.
    program: BTreeMap<u8, Program>,
    accounts: BTreeMap<AccountId, Account>,
    batches: BTreeMap<BatchId, Batch>,
    blocks: BTreeMap<u64, Block>,
    retirements: BTreeMap<RetirementId, Retirement>,
    cancellations: BTreeMap<CancellationId, Cancellation>,
    /// Position → verifier key; a key appears once.
    log_keys: BTreeMap<u64, String>,
    log: BTreeMap<u64, LogRow>,
    /// (leaf hash, index): the index of `log_entries (leaf_hash)`.
    leaf_hashes: BTreeMap<([u8; 32], u64), ()>,
    /// (batch, first serial, log index, row number) → last serial; the row number keeps rows the
    /// SQL table would hold twice.
    history: BTreeMap<(BatchId, u64, u64, u64), u64>,
    lifecycle: BTreeMap<u64, ()>,
    private: BTreeMap<u64, Vec<u8>>,
    idempotency: BTreeMap<(String, String), IdempotencyRecord>,
    tree: BTreeMap<u64, [u8; 32]>,
    checkpoints: BTreeMap<u64, CheckpointRow>,
    pub(crate) people: people::People,
    pub(crate) external: external::External,
}

/// The in-memory store. Cheap to create: one per simulated seed.
#[derive(Default)]
pub struct MemoryStore {
    tables: Mutex<Tables>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// The tables; a panic while they were held cannot leave them half-written (writes go through
    /// a `Tx`, which undoes itself when dropped), so a poisoned lock is still usable.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The next id of a table whose ids the database assigns: SQLite's rowid is the largest plus one.
pub(crate) fn next_id<V>(map: &BTreeMap<u64, V>) -> u64 {
    map.last_key_value().map_or(1, |(id, _)| id + 1)
}

pub(crate) fn page_after<V: Clone>(map: &BTreeMap<u64, V>, page: Page) -> Vec<(u64, V)> {
    let start = page.after.map_or(0, |a| a.saturating_add(1));
    map.range(start..).take(page.limit as usize).map(|(k, v)| (*k, v.clone())).collect()
}

fn foreign_key(what: &str) -> StoreError {
    StoreError::Conflict { constraint: format!("FOREIGN KEY constraint failed: {what}") }
}

impl Tables {
    fn balances<'a>(&'a self, mut keep: impl FnMut(&Block) -> bool + 'a) -> Balances {
        let mut sum = Balances::default();
        for block in self.blocks.values().filter(|b| keep(b)) {
            sum.add(block.state, block.range.len().0);
        }
        sum
    }

    fn log_size(&self) -> u64 {
        self.log.last_key_value().map_or(0, |(idx, _)| idx + 1)
    }

    fn ledger(&self) -> Result<Ledger, StoreError> {
        let ledger = Ledger::from_parts(
            self.program.get(&1).cloned(),
            self.accounts.values().cloned().collect(),
            self.batches.values().cloned().collect(),
            self.blocks.values().copied().collect(),
            self.retirements.values().cloned().collect(),
            self.cancellations.values().cloned().collect(),
            self.log_keys.values().cloned().collect(),
        );
        let rows = self
            .lifecycle
            .keys()
            .map(|idx| {
                let entry = self.log.get(idx).ok_or_else(|| StoreError::Corrupt(format!("lifecycle entry {idx}")))?;
                Ok(LifecycleRow { entry: entry.bytes.clone(), payload: self.private.get(idx).cloned() })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        replay_lifecycle(ledger, rows)
    }
}

/// Writes one group, in the order `store-sqlite/src/group.rs` does; any failure undoes it all.
fn write_group(tx: &mut Tx<'_>, group: &CommitGroup) -> Result<(), StoreError> {
    for item in &group.entries {
        let e = &item.entry;
        let row = LogRow {
            index: e.index,
            timestamp: e.timestamp,
            actor: e.actor.clone(),
            kind: e.event.kind().to_owned(),
            bytes: item.bytes.clone(),
            leaf_hash: item.leaf_hash,
        };
        tx.insert(|t| &mut t.log, e.index, row, "log_entries.idx")?;
        tx.insert(|t| &mut t.leaf_hashes, (item.leaf_hash, e.index), (), "log_entries.leaf_hash")?;
    }
    for record in group.entries.iter().flat_map(|e| &e.effects.records) {
        insert_record(tx, record)?;
    }
    write_blocks(tx, group)?;
    let mut row_number = tx.tables().history.len() as u64;
    for item in &group.entries {
        for (batch, range) in &item.effects.touched {
            row_number += 1;
            let key = (*batch, range.start(), item.entry.index, row_number);
            tx.insert(|t| &mut t.history, key, range.end(), "serial_history")?;
        }
    }
    for item in &group.entries {
        let index = item.entry.index;
        if matches!(item.entry.event, furrow_domain::Event::Lifecycle(_)) {
            tx.insert(|t| &mut t.lifecycle, index, (), "lifecycle_entries.log_index")?;
        }
        if let Some(payload) = &item.private {
            tx.insert(|t| &mut t.private, index, payload.clone(), "log_private.log_index")?;
        }
    }
    for r in &group.idempotency {
        tx.insert(|t| &mut t.idempotency, (r.scope.clone(), r.key.clone()), r.clone(), "idempotency")?;
    }
    Ok(())
}

fn insert_record(tx: &mut Tx<'_>, record: &Record) -> Result<(), StoreError> {
    match record {
        Record::Program(p) => tx.insert(|t| &mut t.program, 1, p.clone(), "program.id"),
        Record::Account(a) => tx.insert(|t| &mut t.accounts, a.id, a.clone(), "accounts.id"),
        Record::Batch(b) => tx.insert(|t| &mut t.batches, b.id, b.clone(), "batches.id"),
        Record::LogKey(vkey) => {
            if tx.tables().log_keys.values().any(|k| k == vkey) {
                return Err(StoreError::Conflict { constraint: "UNIQUE constraint failed: log_keys.vkey".into() });
            }
            let position = next_id(&tx.tables().log_keys);
            tx.insert(|t| &mut t.log_keys, position, vkey.clone(), "log_keys.position")
        }
        Record::Retirement(r) => {
            if !tx.tables().accounts.contains_key(&r.account) {
                return Err(foreign_key("retirements.account"));
            }
            let ranges = sorted_ranges(&r.ranges, "retirement_ranges")?;
            tx.insert(|t| &mut t.retirements, r.id, Retirement { ranges, ..r.clone() }, "retirements.id")
        }
        Record::Cancellation(c) => {
            if !tx.tables().accounts.contains_key(&c.account) {
                return Err(foreign_key("cancellations.account"));
            }
            let ranges = sorted_ranges(&c.ranges, "cancellation_ranges")?;
            tx.insert(|t| &mut t.cancellations, c.id, Cancellation { ranges, ..c.clone() }, "cancellations.id")
        }
    }
}

/// A record's ranges as the SQL backends read them back: ordered by first serial, each first
/// serial once (the ranges table's primary key).
fn sorted_ranges(
    ranges: &[furrow_domain::SerialRange],
    table: &str,
) -> Result<Vec<furrow_domain::SerialRange>, StoreError> {
    let mut sorted = ranges.to_vec();
    sorted.sort_by_key(|r| r.start());
    if sorted.windows(2).any(|w| w[0].start() == w[1].start()) {
        return Err(StoreError::Conflict { constraint: format!("UNIQUE constraint failed: {table}") });
    }
    Ok(sorted)
}

/// Deletes the blocks the group removed, then inserts the ones it left (`CommitGroup::net_blocks`).
fn write_blocks(tx: &mut Tx<'_>, group: &CommitGroup) -> Result<(), StoreError> {
    let net = group.net_blocks();
    let mut missing = 0;
    for start in &net.removed {
        if !tx.remove(|t| &mut t.blocks, start) {
            missing += 1;
        }
    }
    if missing > 0 {
        return Err(StoreError::Corrupt(format!(
            "{missing} of {} removed blocks were not in the database",
            net.removed.len()
        )));
    }
    for block in net.added {
        let tables = tx.tables();
        if !tables.batches.contains_key(&block.batch) {
            return Err(foreign_key("blocks.batch"));
        }
        if !tables.accounts.contains_key(&block.account) {
            return Err(foreign_key("blocks.account"));
        }
        tx.insert(|t| &mut t.blocks, block.range.start(), block, "blocks.serial_start")?;
    }
    Ok(())
}

#[async_trait]
impl Store for MemoryStore {
    async fn load_ledger(&self) -> Result<Ledger, StoreError> {
        self.lock().ledger()
    }

    async fn log_size(&self) -> Result<u64, StoreError> {
        Ok(self.lock().log_size())
    }

    async fn commit(&self, group: std::sync::Arc<CommitGroup>) -> Result<(), StoreError> {
        let mut tables = self.lock();
        let mut tx = Tx::new(&mut tables);
        write_group(&mut tx, &group)?;
        tx.commit();
        Ok(())
    }

    async fn find_idempotent(&self, scope: &str, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        Ok(self.lock().idempotency.get(&(scope.to_owned(), key.to_owned())).cloned())
    }

    async fn insert_token(&self, token: &TokenRecord) -> Result<u64, StoreError> {
        people::insert_token(&mut self.lock(), token)
    }
    async fn find_token(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>, StoreError> {
        Ok(self.lock().people.token_by_hash(hash).map(|(t, _)| t.clone()))
    }
    async fn set_token_policy(
        &self,
        id: u64,
        can_write: bool,
        expires_at: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        if let Some((_, policy)) = self.lock().people.tokens.get_mut(&id) {
            policy.can_write = can_write;
            policy.expires_at = expires_at;
        }
        Ok(())
    }
    async fn token_policy(&self, id: u64) -> Result<Option<TokenPolicy>, StoreError> {
        Ok(self.lock().people.tokens.get(&id).map(|(_, p)| p.clone()))
    }
    async fn list_tokens(&self) -> Result<Vec<TokenListing>, StoreError> {
        let tables = self.lock();
        let tokens = tables.people.tokens.values();
        Ok(tokens.map(|(token, policy)| TokenListing { token: token.clone(), policy: policy.clone() }).collect())
    }
    async fn revoke_token(&self, id: u64, at: Timestamp) -> Result<bool, StoreError> {
        Ok(match self.lock().people.tokens.get_mut(&id) {
            Some((_, policy)) if policy.revoked_at.is_none() => {
                policy.revoked_at = Some(at);
                true
            }
            _ => false,
        })
    }
    async fn touch_token(&self, id: u64, at: Timestamp) -> Result<(), StoreError> {
        if let Some((_, policy)) = self.lock().people.tokens.get_mut(&id)
            && policy.last_used_at.is_none_or(|last| last < at)
        {
            policy.last_used_at = Some(at);
        }
        Ok(())
    }
    async fn append_security_event(&self, event: &SecurityEvent) -> Result<(), StoreError> {
        let mut tables = self.lock();
        let events = &mut tables.people.security_events;
        let id = next_id(events);
        events.insert(id, SecurityEvent { id, ..event.clone() });
        Ok(())
    }
    async fn security_events(&self, page: Page) -> Result<Vec<SecurityEvent>, StoreError> {
        Ok(page_after(&self.lock().people.security_events, page).into_iter().map(|(_, e)| e).collect())
    }

    async fn insert_organisation(&self, name: &str, at: Timestamp) -> Result<u64, StoreError> {
        people::insert_organisation(&mut self.lock(), name, at)
    }
    async fn organisation(&self, id: u64) -> Result<Option<Organisation>, StoreError> {
        Ok(self.lock().people.organisations.get(&id).cloned())
    }
    async fn organisation_named(&self, name: &str) -> Result<Option<Organisation>, StoreError> {
        Ok(self.lock().people.organisations.values().find(|o| o.name == name).cloned())
    }
    async fn insert_user(&self, user: &UserRecord) -> Result<u64, StoreError> {
        people::insert_user(&mut self.lock(), user)
    }
    async fn user(&self, id: u64) -> Result<Option<UserRecord>, StoreError> {
        Ok(self.lock().people.users.get(&id).cloned())
    }
    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError> {
        Ok(self.lock().people.users.values().find(|u| u.email == email).cloned())
    }
    async fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        Ok(self.lock().people.users.values().cloned().collect())
    }
    async fn set_user_totp(&self, id: u64, secret: Option<&[u8]>) -> Result<(), StoreError> {
        if let Some(user) = self.lock().people.users.get_mut(&id) {
            user.totp_secret = secret.map(<[u8]>::to_vec);
        }
        Ok(())
    }
    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        people::insert_session(&mut self.lock(), session)
    }
    async fn session(&self, hash: &[u8; 32]) -> Result<Option<SessionRecord>, StoreError> {
        Ok(self.lock().people.sessions.get(hash).cloned())
    }
    async fn touch_session(&self, hash: &[u8; 32], at: Timestamp) -> Result<(), StoreError> {
        if let Some(session) = self.lock().people.sessions.get_mut(hash)
            && session.last_seen_at < at
        {
            session.last_seen_at = at;
        }
        Ok(())
    }
    async fn delete_session(&self, hash: &[u8; 32]) -> Result<bool, StoreError> {
        Ok(self.lock().people.sessions.remove(hash).is_some())
    }
    async fn insert_role_request(&self, request: &RoleRequest) -> Result<u64, StoreError> {
        people::insert_role_request(&mut self.lock(), request)
    }
    async fn role_request(&self, id: u64) -> Result<Option<RoleRequest>, StoreError> {
        Ok(self.lock().people.role_requests.get(&id).cloned())
    }
    async fn role_requests(&self) -> Result<Vec<RoleRequest>, StoreError> {
        Ok(self.lock().people.role_requests.values().cloned().collect())
    }
    async fn apply_role_request(&self, id: u64, by: &str, at: Timestamp) -> Result<bool, StoreError> {
        Ok(people::apply_role_request(&mut self.lock(), id, by, at))
    }

    async fn program_entries(&self) -> Result<Vec<furrow_store::ProgramEntry>, StoreError> {
        Ok(people::program_entries(&self.lock()))
    }
    async fn seed_program_entries(&self, entries: &[furrow_store::ProgramEntry]) -> Result<(), StoreError> {
        people::seed_program_entries(&mut self.lock(), entries);
        Ok(())
    }
    async fn insert_program_entry(&self, entry: &furrow_store::ProgramEntry) -> Result<u64, StoreError> {
        Ok(people::insert_program_entry(&mut self.lock(), entry))
    }
    async fn update_program_entry(&self, entry: &furrow_store::ProgramEntry) -> Result<bool, StoreError> {
        Ok(people::update_program_entry(&mut self.lock(), entry))
    }

    async fn program(&self) -> Result<Option<Program>, StoreError> {
        Ok(self.lock().program.get(&1).cloned())
    }

    async fn totals(&self) -> Result<Totals, StoreError> {
        let t = self.lock();
        Ok(Totals {
            supply: t.balances(|_| true),
            accounts: t.accounts.len() as u64,
            batches: t.batches.len() as u64,
            retirements: t.retirements.len() as u64,
            log_size: t.log_size(),
        })
    }

    async fn accounts(&self, page: Page) -> Result<Vec<Account>, StoreError> {
        let t = self.lock();
        let start = AccountId(page.after.map_or(0, |a| a.saturating_add(1)));
        Ok(t.accounts.range(start..).take(page.limit as usize).map(|(_, a)| a.clone()).collect())
    }

    async fn account(&self, id: AccountId) -> Result<Option<(Account, Balances)>, StoreError> {
        let t = self.lock();
        Ok(t.accounts.get(&id).map(|a| (a.clone(), t.balances(|b| b.account == id))))
    }

    async fn batches(&self, page: Page) -> Result<Vec<(Batch, Balances)>, StoreError> {
        let t = self.lock();
        let start = BatchId(page.after.map_or(0, |a| a.saturating_add(1)));
        let page = t.batches.range(start..).take(page.limit as usize);
        Ok(page.map(|(id, batch)| (batch.clone(), t.balances(|b| b.batch == *id))).collect())
    }

    async fn batch(&self, id: BatchId) -> Result<Option<(Batch, Balances)>, StoreError> {
        let t = self.lock();
        Ok(t.batches.get(&id).map(|batch| (batch.clone(), t.balances(|b| b.batch == id))))
    }

    async fn blocks(&self, filter: BlockFilter, page: Page) -> Result<Vec<Block>, StoreError> {
        let t = self.lock();
        let start = page.after.map_or(0, |a| a.saturating_add(1));
        Ok(t.blocks
            .range(start..)
            .map(|(_, b)| b)
            .filter(|b| filter.batch.is_none_or(|x| b.batch == x))
            .filter(|b| filter.account.is_none_or(|x| b.account == x))
            .filter(|b| filter.state.is_none_or(|x| b.state == x))
            .take(page.limit as usize)
            .copied()
            .collect())
    }

    async fn block_at(&self, serial: u64) -> Result<Option<Block>, StoreError> {
        let t = self.lock();
        Ok(t.blocks.range(..=serial).next_back().map(|(_, b)| *b).filter(|b| b.range.end() >= serial))
    }

    async fn serial_history(
        &self,
        batch: BatchId,
        start: u64,
        end: u64,
        limit: u32,
    ) -> Result<Vec<LogRow>, StoreError> {
        let t = self.lock();
        let first = (batch, 0, 0, 0);
        let last = (batch, end, u64::MAX, u64::MAX);
        let indexes: BTreeSet<u64> = t
            .history
            .range(first..=last)
            .filter(|(_, last_serial)| **last_serial >= start)
            .map(|((_, _, index, _), _)| *index)
            .collect();
        Ok(indexes.into_iter().take(limit as usize).filter_map(|i| t.log.get(&i).cloned()).collect())
    }

    async fn retirements(&self, page: Page) -> Result<Vec<Retirement>, StoreError> {
        let t = self.lock();
        let start = RetirementId(page.after.map_or(0, |a| a.saturating_add(1)));
        Ok(t.retirements.range(start..).take(page.limit as usize).map(|(_, r)| r.clone()).collect())
    }

    async fn retirement(&self, id: RetirementId) -> Result<Option<Retirement>, StoreError> {
        Ok(self.lock().retirements.get(&id).cloned())
    }

    async fn cancellations(&self, page: Page) -> Result<Vec<Cancellation>, StoreError> {
        let t = self.lock();
        let start = CancellationId(page.after.map_or(0, |a| a.saturating_add(1)));
        Ok(t.cancellations.range(start..).take(page.limit as usize).map(|(_, c)| c.clone()).collect())
    }

    async fn cancellation(&self, id: CancellationId) -> Result<Option<Cancellation>, StoreError> {
        Ok(self.lock().cancellations.get(&id).cloned())
    }

    async fn log_entries(&self, page: Page) -> Result<Vec<LogRow>, StoreError> {
        Ok(page_after(&self.lock().log, page).into_iter().map(|(_, row)| row).collect())
    }

    async fn entry_with_leaf_hash(&self, leaf_hash: &[u8; 32]) -> Result<Option<u64>, StoreError> {
        let t = self.lock();
        let mut found = t.leaf_hashes.range((*leaf_hash, 0)..=(*leaf_hash, u64::MAX));
        Ok(found.next().map(|((_, index), _)| *index))
    }

    async fn leaf_hashes(&self, from: u64, limit: u32) -> Result<Vec<[u8; 32]>, StoreError> {
        Ok(self.lock().log.range(from..).take(limit as usize).map(|(_, row)| row.leaf_hash).collect())
    }

    async fn tree_hashes(&self, indexes: &[u64]) -> Result<Vec<[u8; 32]>, StoreError> {
        let t = self.lock();
        indexes
            .iter()
            .map(|i| t.tree.get(i).copied().ok_or_else(|| StoreError::Corrupt(format!("tree hash {i} is missing"))))
            .collect()
    }

    async fn extend_tree(
        &self,
        first_index: u64,
        hashes: &[[u8; 32]],
        checkpoint: &CheckpointRow,
    ) -> Result<(), StoreError> {
        let mut tables = self.lock();
        let mut tx = Tx::new(&mut tables);
        for (i, hash) in hashes.iter().enumerate() {
            tx.insert(|t| &mut t.tree, first_index + i as u64, *hash, "tree_hashes.idx")?;
        }
        tx.insert(|t| &mut t.checkpoints, checkpoint.tree_size, checkpoint.clone(), "checkpoints.tree_size")?;
        tx.commit();
        Ok(())
    }

    async fn latest_checkpoint(&self) -> Result<Option<CheckpointRow>, StoreError> {
        Ok(self.lock().checkpoints.last_key_value().map(|(_, c)| c.clone()))
    }

    async fn checkpoint_at_least(&self, size: u64) -> Result<Option<CheckpointRow>, StoreError> {
        Ok(self.lock().checkpoints.range(size..).next().map(|(_, c)| c.clone()))
    }

    async fn checkpoints(&self, after: Option<u64>, limit: u32) -> Result<Vec<CheckpointRow>, StoreError> {
        let page = Page { after, limit };
        Ok(page_after(&self.lock().checkpoints, page).into_iter().map(|(_, c)| c).collect())
    }

    async fn tree_hash_count(&self) -> Result<u64, StoreError> {
        Ok(self.lock().tree.last_key_value().map_or(0, |(i, _)| i + 1))
    }

    async fn external_import(&self, import: &ExternalImport) -> Result<ExternalImportOutcome, StoreError> {
        external::import(&mut self.lock(), import)
    }
    async fn external_complete_source(&self, source: &ExternalSource) -> Result<(), StoreError> {
        external::complete_source(&mut self.lock(), source);
        Ok(())
    }
    async fn external_set_flags(&self, flags: &[ExternalFlag]) -> Result<(u64, u64), StoreError> {
        Ok(external::set_flags(&mut self.lock(), flags))
    }
    async fn external_sources(&self) -> Result<Vec<ExternalSource>, StoreError> {
        Ok(external::sources(&self.lock()))
    }
    async fn external_records(
        &self,
        filter: &ExternalFilter,
        page: Page,
    ) -> Result<Vec<(u64, ExternalRecord)>, StoreError> {
        Ok(external::records(&self.lock(), filter, page))
    }
    async fn external_quarantined(&self, page: Page) -> Result<Vec<(u64, ExternalQuarantined)>, StoreError> {
        Ok(page_after(&self.lock().external.quarantine, page))
    }
    async fn external_flags(&self, page: Page) -> Result<Vec<(u64, ExternalFlag)>, StoreError> {
        Ok(page_after(&self.lock().external.flags, page))
    }
    async fn external_totals(&self) -> Result<ExternalTotals, StoreError> {
        let t = self.lock();
        let e = &t.external;
        Ok(ExternalTotals {
            sources: e.sources.len() as u64,
            records: e.records.len() as u64,
            quarantined: e.quarantine.len() as u64,
            flags: e.flags.len() as u64,
        })
    }
    async fn external_lookup(&self, keys: &[(String, String, String)]) -> Result<Vec<ExternalRecord>, StoreError> {
        Ok(external::lookup(&self.lock(), keys))
    }
    async fn external_scan(
        &self,
        scan: ExternalScan,
        visit: &mut (dyn FnMut(ExternalRecord) -> Result<(), StoreError> + Send),
    ) -> Result<(), StoreError> {
        // The memory backend holds the area anyway; it sorts a copy, outside the lock.
        let mut rows = external::scan(&self.lock(), scan);
        rows.sort_by(|a, b| scan.order((a.0, &a.1), (b.0, &b.1)));
        rows.into_iter().try_for_each(|(_, r)| visit(r))
    }
}
