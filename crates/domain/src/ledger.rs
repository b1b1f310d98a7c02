//! The ledger state and the two pure functions over it: `decide` (command → events, or a refusal)
//! and `apply` (event → new state plus the block changes a store must persist).

use std::collections::{BTreeMap, BTreeSet};

use crate::command::{BatchIssued, Command, Event, IssueCommand, Selection};
use crate::error::DomainError;
use crate::ids::{AccountId, BatchId, CancellationId, MAX_QUANTITY, Quantity, RetirementId, Timestamp};
use crate::lifecycle::Lifecycle;
use crate::lifecycle::controls::Movement;
use crate::model::{
    Account, AccountKind, Batch, Block, BlockState, Cancellation, Program, Retirement, RetirementClaim,
};
use crate::serial::SerialRange;

/// The system accounts created by `ProgramInitialised`, in this order and with these ids.
pub const ISSUANCE_ACCOUNT: AccountId = AccountId(1);
pub const BUFFER_ACCOUNT: AccountId = AccountId(2);
pub const RETIREMENT_ACCOUNT: AccountId = AccountId(3);
pub const CANCELLATION_ACCOUNT: AccountId = AccountId(4);

/// Text limits: generous for people, small enough that no request can bloat the log.
pub const MAX_NAME_LEN: usize = 200;
pub const MAX_NOTE_LEN: usize = 2_000;
pub const MAX_LABELS: usize = 16;
pub const MAX_LABEL_LEN: usize = 64;
pub const MAX_RANGES: usize = 1_000;

/// The position of a state in `Ledger::supply`.
fn supply_slot(state: BlockState) -> usize {
    match state {
        BlockState::Tradable => 0,
        BlockState::Escrowed => 1,
        BlockState::Retired => 2,
        BlockState::Cancelled => 3,
        BlockState::Buffer => 4,
    }
}

/// A change to the set of blocks, in the order a store must apply it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockChange {
    Removed(Block),
    Added(Block),
}

/// A new record an event created, for a store's projection tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Program(Program),
    Account(Account),
    Batch(Batch),
    Retirement(Retirement),
    Cancellation(Cancellation),
    /// A verifier key of the log, in publication order.
    LogKey(String),
}

/// Everything a store must persist for one applied event, so that no store re-implements a rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Effects {
    pub blocks: Vec<BlockChange>,
    pub records: Vec<Record>,
    /// The serial ranges the event touched and their batch, for serial history lookups.
    pub touched: Vec<(BatchId, SerialRange)>,
}

/// The whole registry state. Deterministic: only ordered collections.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ledger {
    program: Option<Program>,
    accounts: BTreeMap<AccountId, Account>,
    batches: BTreeMap<BatchId, Batch>,
    /// Blocks keyed by their first serial; blocks never overlap, so the key is unique.
    blocks: BTreeMap<u64, Block>,
    /// (holder, first serial) of every block, to find a holder's blocks oldest first.
    holdings: BTreeSet<(AccountId, u64)>,
    /// Credits in each block state (indexed by `supply_slot`), kept as blocks are added and
    /// removed so the status page's totals cost nothing to read.
    supply: [u64; 5],
    retirements: BTreeMap<RetirementId, Retirement>,
    cancellations: BTreeMap<CancellationId, Cancellation>,
    /// Verifier keys of the log's checkpoints, oldest first.
    log_keys: Vec<String>,
    /// The program lifecycle: methodologies, projects, participants, reports, issuance requests.
    pub(crate) lifecycle: Lifecycle,
}

impl Ledger {
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuilds a ledger from stored rows (the projection), e.g. when a server starts.
    pub fn from_parts(
        program: Option<Program>,
        accounts: Vec<Account>,
        batches: Vec<Batch>,
        blocks: Vec<Block>,
        retirements: Vec<Retirement>,
        cancellations: Vec<Cancellation>,
        log_keys: Vec<String>,
    ) -> Self {
        let mut ledger = Self { program, ..Self::default() };
        ledger.accounts = accounts.into_iter().map(|a| (a.id, a)).collect();
        ledger.batches = batches.into_iter().map(|b| (b.id, b)).collect();
        for block in blocks {
            ledger.insert_block(block);
        }
        ledger.retirements = retirements.into_iter().map(|r| (r.id, r)).collect();
        ledger.cancellations = cancellations.into_iter().map(|c| (c.id, c)).collect();
        ledger.log_keys = log_keys;
        ledger
    }

    /// Adds the lifecycle state (rebuilt by the store from the lifecycle's log entries).
    pub fn with_lifecycle(mut self, lifecycle: Lifecycle) -> Self {
        self.lifecycle = lifecycle;
        self
    }

    pub fn lifecycle(&self) -> &Lifecycle {
        &self.lifecycle
    }

    /// Applies a logged event to the lifecycle state only, when the credit state was loaded from a
    /// store's projection and the lifecycle is rebuilt from its log entries. Other events are
    /// ignored: their effects are already in the projection.
    pub fn replay_lifecycle(&mut self, entry: &crate::LogEntry) {
        if let Event::Lifecycle(event) = &entry.event {
            self.lifecycle.apply(event, entry.timestamp);
        }
    }

    /// The log's verifier keys, oldest first; the last one signs new checkpoints.
    /// Approved key rotations not yet used: each key published after the first uses one up.
    /// Derived from the approvals and the published keys, so it needs no state of its own.
    pub fn approved_key_rotations_left(&self) -> usize {
        let approved = self.lifecycle.key_rotations.values().filter(|r| r.approved_by.is_some()).count();
        approved.saturating_sub(self.log_keys.len().saturating_sub(1))
    }

    pub fn log_keys(&self) -> &[String] {
        &self.log_keys
    }

    pub fn program(&self) -> Option<&Program> {
        self.program.as_ref()
    }
    pub fn accounts(&self) -> impl Iterator<Item = &Account> {
        self.accounts.values()
    }
    pub fn account(&self, id: AccountId) -> Option<&Account> {
        self.accounts.get(&id)
    }
    pub fn batches(&self) -> impl Iterator<Item = &Batch> {
        self.batches.values()
    }
    pub fn batch(&self, id: BatchId) -> Option<&Batch> {
        self.batches.get(&id)
    }
    pub fn blocks(&self) -> impl Iterator<Item = &Block> {
        self.blocks.values()
    }
    pub fn retirements(&self) -> impl Iterator<Item = &Retirement> {
        self.retirements.values()
    }
    pub fn cancellations(&self) -> impl Iterator<Item = &Cancellation> {
        self.cancellations.values()
    }

    /// The block that contains `serial`, if it was issued.
    pub fn block_at(&self, serial: u64) -> Option<&Block> {
        self.blocks.range(..=serial).next_back().map(|(_, b)| b).filter(|b| b.range.contains(serial))
    }

    /// The blocks an account holds, lowest serial first.
    pub fn blocks_of(&self, account: AccountId) -> impl Iterator<Item = &Block> {
        self.holdings.range((account, 0)..=(account, u64::MAX)).map(|(_, start)| &self.blocks[start])
    }

    /// How many credits are in a given state, registry-wide. Kept up to date block by block.
    pub fn supply(&self, state: BlockState) -> Quantity {
        Quantity(self.supply[supply_slot(state)])
    }

    /// (accounts, batches, retirements): the counts the status page shows.
    pub fn counts(&self) -> (u64, u64, u64) {
        let len = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        (len(self.accounts.len()), len(self.batches.len()), len(self.retirements.len()))
    }

    /// How many credits an account holds in a given state.
    pub fn balance(&self, account: AccountId, state: BlockState) -> Quantity {
        Quantity(self.blocks_of(account).filter(|b| b.state == state).map(|b| b.range.len().0).sum())
    }

    fn next_serial(&self) -> u64 {
        self.batches.values().next_back().map_or(1, |b| b.serials.end() + 1)
    }
    pub(crate) fn next_account_id(&self) -> AccountId {
        AccountId(self.accounts.keys().next_back().map_or(1, |id| id.0 + 1))
    }
    pub(crate) fn next_batch_id(&self) -> BatchId {
        BatchId(self.batches.keys().next_back().map_or(1, |id| id.0 + 1))
    }
    pub(crate) fn next_retirement_id(&self) -> RetirementId {
        RetirementId(self.retirements.keys().next_back().map_or(1, |id| id.0 + 1))
    }
    pub(crate) fn next_cancellation_id(&self) -> CancellationId {
        CancellationId(self.cancellations.keys().next_back().map_or(1, |id| id.0 + 1))
    }

    // ---------------------------------------------------------------- decide

    /// Decides what a command does at the start of time: no control's delay has passed, no quote
    /// has expired, no withdrawal has taken effect. For tools and tests without a clock; the
    /// sequencer uses [`Ledger::decide_at`].
    pub fn decide(&self, command: &Command) -> Result<Vec<Event>, DomainError> {
        self.decide_at(command, Timestamp(i64::MIN))
    }

    /// Decides what a command does at `now` (the time its log entries will carry: controls read it
    /// for counterparty delays, sales for quote expiry and withdrawal dates). Reads the state,
    /// never changes it: a refusal leaves no trace.
    pub fn decide_at(&self, command: &Command, now: Timestamp) -> Result<Vec<Event>, DomainError> {
        if self.program.is_none() && !matches!(command, Command::InitialiseProgram { .. }) {
            return Err(DomainError::NotInitialised);
        }
        match command {
            Command::InitialiseProgram { code, country, name } => {
                if self.program.is_some() {
                    return Err(DomainError::AlreadyInitialised);
                }
                check_text("program name", name, MAX_NAME_LEN, true)?;
                let program = Program { code: code.clone(), country: *country, name: name.clone() };
                Ok(vec![Event::ProgramInitialised { program }])
            }
            Command::OpenAccount { kind, name } => {
                if kind.is_system() {
                    return Err(DomainError::Invalid(format!(
                        "{kind} accounts are created by the program itself; open a participant or buyer account"
                    )));
                }
                check_text("account name", name, MAX_NAME_LEN, true)?;
                let account = Account { id: self.next_account_id(), kind: *kind, name: name.clone() };
                Ok(vec![Event::AccountOpened { account }])
            }
            Command::Issue(issue) => self.decide_issue(issue),
            Command::Lifecycle { by, command } => self.decide_lifecycle(by, command, now),
            Command::Sales { by, command } => self.decide_sales(by, command, now),
            Command::Transfer { from, to, selection } => {
                if from == to {
                    return Err(DomainError::Invalid("a transfer needs two different accounts".into()));
                }
                self.require_kind(*from, AccountKind::holds_tradable, "send credits")?;
                self.require_kind(*to, AccountKind::holds_tradable, "receive credits")?;
                let ranges = self.select(*from, BlockState::Tradable, selection)?;
                self.check_movement(*from, Movement::Transfer { to: *to }, &ranges, now)?;
                Ok(vec![Event::Transferred { from: *from, to: *to, ranges }])
            }
            Command::Retire { from, selection, claim } => {
                check_claim(claim)?;
                self.require_kind(*from, AccountKind::holds_tradable, "retire credits")?;
                let ranges = self.select(*from, BlockState::Tradable, selection)?;
                self.check_movement(*from, Movement::Retire, &ranges, now)?;
                let id = self.next_retirement_id();
                Ok(vec![Event::Retired { id, account: *from, ranges, claim: claim.clone() }])
            }
            Command::PublishLogKey { vkey } => {
                let well_formed = !vkey.is_empty() && vkey.len() <= 512 && vkey.bytes().all(|b| b.is_ascii_graphic());
                if !well_formed {
                    return Err(DomainError::Invalid("a log key is 1-512 visible ASCII characters (C2SP vkey)".into()));
                }
                if self.log_keys.contains(vkey) {
                    return Err(DomainError::Invalid("this log key was already published".into()));
                }
                // The first key comes with the program; every later one is a rotation that two
                // admins agreed to (four-eyes, issue #8).
                if !self.log_keys.is_empty() && self.approved_key_rotations_left() == 0 {
                    return Err(DomainError::WrongState {
                        what: "the log's signing key".into(),
                        state: "not approved for rotation".into(),
                        action: "be rotated until an admin requests a rotation (POST /api/v1/log/key-rotations) and another admin approves it",
                    });
                }
                Ok(vec![Event::LogKeyPublished { vkey: vkey.clone() }])
            }
            Command::Cancel { from, selection, reason, note } => {
                check_text("note", note, MAX_NOTE_LEN, false)?;
                let kind =
                    self.require_kind(*from, |k| k.holds_tradable() || k == AccountKind::Buffer, "cancel credits")?;
                let state = if kind == AccountKind::Buffer { BlockState::Buffer } else { BlockState::Tradable };
                let ranges = self.select(*from, state, selection)?;
                self.check_movement(*from, Movement::Cancel, &ranges, now)?;
                let id = self.next_cancellation_id();
                Ok(vec![Event::Cancelled { id, account: *from, ranges, reason: *reason, note: note.clone() }])
            }
        }
    }

    pub(crate) fn decide_issue(&self, issue: &IssueCommand) -> Result<Vec<Event>, DomainError> {
        let program = self.program.as_ref().ok_or(DomainError::NotInitialised)?;
        check_quantity(issue.quantity, "quantity")?;
        if issue.buffer.0 > MAX_QUANTITY {
            return Err(DomainError::Invalid(format!("buffer must be at most {MAX_QUANTITY}")));
        }
        if issue.labels.len() > MAX_LABELS {
            return Err(DomainError::Invalid(format!("at most {MAX_LABELS} labels per batch")));
        }
        for label in &issue.labels {
            check_label(label)?;
        }
        self.require_kind(issue.to, AccountKind::holds_tradable, "receive issued credits")?;
        let total = Quantity(issue.quantity.0 + issue.buffer.0);
        let serials = SerialRange::starting_at(self.next_serial(), total).ok_or(DomainError::SerialOverflow)?;
        Ok(vec![Event::BatchIssued(BatchIssued {
            id: self.next_batch_id(),
            project: issue.project,
            country: issue.country.unwrap_or(program.country),
            vintage: issue.vintage,
            serials,
            buffer: issue.buffer,
            labels: issue.labels.clone(),
            to: issue.to,
        })])
    }

    fn require_kind(
        &self,
        id: AccountId,
        allowed: impl Fn(AccountKind) -> bool,
        action: &'static str,
    ) -> Result<AccountKind, DomainError> {
        let account = self.accounts.get(&id).ok_or(DomainError::UnknownAccount(id))?;
        if allowed(account.kind) {
            Ok(account.kind)
        } else {
            Err(DomainError::WrongAccountKind { account: id, kind: account.kind.as_str(), action })
        }
    }

    /// Resolves a selection into exact ranges, each inside one block, lowest first.
    pub(crate) fn select(
        &self,
        from: AccountId,
        state: BlockState,
        selection: &Selection,
    ) -> Result<Vec<SerialRange>, DomainError> {
        match selection {
            Selection::Quantity { quantity, batch } => self.select_quantity(from, state, *quantity, *batch),
            Selection::Ranges(ranges) => self.select_ranges(from, state, ranges),
        }
    }

    fn select_quantity(
        &self,
        from: AccountId,
        state: BlockState,
        quantity: Quantity,
        batch: Option<BatchId>,
    ) -> Result<Vec<SerialRange>, DomainError> {
        check_quantity(quantity, "quantity")?;
        if let Some(batch) = batch
            && !self.batches.contains_key(&batch)
        {
            return Err(DomainError::UnknownBatch(batch));
        }
        let mut remaining = quantity.0;
        let mut ranges = Vec::new();
        let eligible = self.blocks_of(from).filter(|b| b.state == state && batch.is_none_or(|id| b.batch == id));
        let controls = &self.lifecycle.controls;
        for part in eligible.flat_map(|b| controls.unfrozen_parts(b.range)) {
            let len = part.len().0;
            if len <= remaining {
                ranges.push(part);
                remaining -= len;
            } else {
                // The holder keeps the low range; the top `remaining` serials move.
                let start = part.end() - remaining + 1;
                ranges.push(SerialRange::new(start, part.end()).expect("non-empty sub-range of a block"));
                remaining = 0;
            }
            if remaining == 0 {
                return Ok(ranges);
            }
        }
        let available = Quantity(quantity.0 - remaining);
        let scope = match batch {
            Some(b) => format!(" in batch {b}"),
            None => String::new(),
        };
        Err(DomainError::InsufficientCredits { account: from, available, requested: quantity, scope })
    }

    fn select_ranges(
        &self,
        from: AccountId,
        state: BlockState,
        requested: &[SerialRange],
    ) -> Result<Vec<SerialRange>, DomainError> {
        if requested.is_empty() {
            return Err(DomainError::Invalid("give at least one serial range".into()));
        }
        if requested.len() > MAX_RANGES {
            return Err(DomainError::Invalid(format!("at most {MAX_RANGES} serial ranges per command")));
        }
        let mut sorted = requested.to_vec();
        sorted.sort();
        for pair in sorted.windows(2) {
            if pair[0].overlaps(pair[1]) {
                return Err(DomainError::OverlappingRanges(pair[0], pair[1]));
            }
        }
        let mut pieces = Vec::new();
        for range in sorted {
            let mut next = range.start();
            while next <= range.end() {
                let block = self
                    .block_at(next)
                    .ok_or_else(|| DomainError::NotIssued(SerialRange::new(next, range.end()).expect("next <= end")))?;
                let piece = block.range.intersection(range).expect("block contains `next`, which is in range");
                // Terminal state first: "already retired" is the answer a user needs, not who holds it.
                if block.state.is_terminal() || (block.account == from && block.state != state) {
                    return Err(DomainError::NotTradable {
                        range: piece,
                        state: block.state,
                        hint: state_hint(block.state),
                    });
                }
                if block.account != from {
                    return Err(DomainError::NotHeldBy { range: piece, holder: block.account, account: from });
                }
                if block.state != state {
                    return Err(DomainError::NotTradable {
                        range: piece,
                        state: block.state,
                        hint: state_hint(block.state),
                    });
                }
                pieces.push(piece);
                match piece.end().checked_add(1) {
                    Some(n) => next = n,
                    None => break,
                }
            }
        }
        if pieces.len() > MAX_RANGES {
            return Err(DomainError::Invalid(format!(
                "the ranges span {} blocks; at most {MAX_RANGES} per command",
                pieces.len()
            )));
        }
        Ok(pieces)
    }

    // ---------------------------------------------------------------- apply

    /// Applies an event that `decide` produced (or that the log recorded). Returns what a store
    /// must persist. Panics if the event does not fit the state: that is a bug or a corrupted log,
    /// never a user error.
    pub fn apply(&mut self, event: &Event, at: Timestamp) -> Effects {
        let mut effects = Effects::default();
        self.apply_into(event, at, &mut effects);
        effects
    }

    /// [`Ledger::apply`] into a buffer the caller reuses (cleared first): a replay of millions of
    /// entries (`furrow verify`) then allocates no `Effects` per entry.
    pub fn apply_reusing(&mut self, event: &Event, at: Timestamp, effects: &mut Effects) {
        effects.blocks.clear();
        effects.records.clear();
        effects.touched.clear();
        self.apply_into(event, at, effects);
    }

    fn apply_into(&mut self, event: &Event, at: Timestamp, effects: &mut Effects) {
        match event {
            Event::ProgramInitialised { program } => {
                assert!(self.program.is_none(), "program initialised twice");
                self.program = Some(program.clone());
                let system = [
                    (ISSUANCE_ACCOUNT, AccountKind::Issuance, "Program issuance account"),
                    (BUFFER_ACCOUNT, AccountKind::Buffer, "Program buffer pool"),
                    (RETIREMENT_ACCOUNT, AccountKind::Retirement, "Retirements"),
                    (CANCELLATION_ACCOUNT, AccountKind::Cancellation, "Cancellations"),
                ];
                effects.records.push(Record::Program(program.clone()));
                for (id, kind, name) in system {
                    let account = Account { id, kind, name: name.to_owned() };
                    self.accounts.insert(id, account.clone());
                    effects.records.push(Record::Account(account));
                }
            }
            Event::AccountOpened { account } => {
                let previous = self.accounts.insert(account.id, account.clone());
                assert!(previous.is_none(), "account {} opened twice", account.id);
                effects.records.push(Record::Account(account.clone()));
            }
            Event::BatchIssued(issued) => self.apply_issue(issued, at, effects),
            Event::Transferred { from, to, ranges } => {
                self.move_ranges(*from, ranges, *to, BlockState::Tradable, effects)
            }
            Event::Retired { id, account, ranges, claim } => {
                self.move_ranges(*account, ranges, RETIREMENT_ACCOUNT, BlockState::Retired, effects);
                let retirement =
                    Retirement { id: *id, account: *account, ranges: ranges.clone(), claim: claim.clone(), at };
                assert!(self.retirements.insert(*id, retirement.clone()).is_none(), "retirement {id} recorded twice");
                effects.records.push(Record::Retirement(retirement));
            }
            Event::Lifecycle(event) => self.lifecycle.apply(event, at),
            Event::Escrowed { account, ranges } => {
                self.move_ranges(*account, ranges, *account, BlockState::Escrowed, effects)
            }
            Event::EscrowReleased { account, ranges } => {
                self.move_ranges(*account, ranges, *account, BlockState::Tradable, effects)
            }
            Event::LogKeyPublished { vkey } => {
                self.log_keys.push(vkey.clone());
                effects.records.push(Record::LogKey(vkey.clone()));
            }
            Event::Cancelled { id, account, ranges, reason, note } => {
                self.move_ranges(*account, ranges, CANCELLATION_ACCOUNT, BlockState::Cancelled, effects);
                let cancellation = Cancellation {
                    id: *id,
                    account: *account,
                    ranges: ranges.clone(),
                    reason: *reason,
                    note: note.clone(),
                    at,
                };
                assert!(
                    self.cancellations.insert(*id, cancellation.clone()).is_none(),
                    "cancellation {id} recorded twice"
                );
                effects.records.push(Record::Cancellation(cancellation));
            }
        }
    }

    fn apply_issue(&mut self, issued: &BatchIssued, at: Timestamp, effects: &mut Effects) {
        assert_eq!(issued.serials.start(), self.next_serial(), "batch does not continue the serial counter");
        assert!(issued.serials.len() > issued.buffer, "a batch must give the holder at least one credit");
        let batch = Batch {
            id: issued.id,
            project: issued.project,
            country: issued.country,
            vintage: issued.vintage,
            serials: issued.serials,
            buffer: issued.buffer,
            labels: issued.labels.clone(),
            issued_at: at,
        };
        assert!(self.batches.insert(issued.id, batch.clone()).is_none(), "batch {} issued twice", issued.id);
        effects.records.push(Record::Batch(batch));
        effects.touched.push((issued.id, issued.serials));
        let holder_end = issued.serials.end() - issued.buffer.0;
        let holder = SerialRange::new(issued.serials.start(), holder_end).expect("holder part is non-empty");
        let block = Block { range: holder, batch: issued.id, account: issued.to, state: BlockState::Tradable };
        effects.blocks.push(self.add_block(block));
        if issued.buffer.0 > 0 {
            let buffer = SerialRange::new(holder_end + 1, issued.serials.end()).expect("buffer part is non-empty");
            let block = Block { range: buffer, batch: issued.id, account: BUFFER_ACCOUNT, state: BlockState::Buffer };
            effects.blocks.push(self.add_block(block));
        }
    }

    /// Moves exact ranges (each inside one block of `from`) to `to` in state `state`, splitting
    /// blocks so that the parts outside the range stay where they were.
    fn move_ranges(
        &mut self,
        from: AccountId,
        ranges: &[SerialRange],
        to: AccountId,
        state: BlockState,
        effects: &mut Effects,
    ) {
        let changes = &mut effects.blocks;
        for range in ranges {
            // One search of the map: the block's entry is rewritten in place as the part that
            // keeps its first serial (the low part, or else the moved range), and only the other
            // parts are inserted. A replay of a million transfers spent most of its time in
            // removing and re-inserting that same key.
            let slot = self
                .blocks
                .range_mut(..=range.start())
                .next_back()
                .map(|(_, b)| b)
                .filter(|b| b.range.contains(range.start()))
                .expect("moved range was issued");
            let block = *slot;
            assert!(block.range.covers(*range), "moved range {range} crosses a block boundary");
            assert_eq!(block.account, from, "moved range {range} is not held by {from}");
            assert!(!block.state.is_terminal(), "a terminal block must never change");
            let moved = Block { range: *range, batch: block.batch, account: to, state };
            let low = (block.range.start() < range.start()).then(|| Block {
                range: SerialRange::new(block.range.start(), range.start() - 1).expect("non-empty low part"),
                ..block
            });
            let high = (range.end() < block.range.end()).then(|| Block {
                range: SerialRange::new(range.end() + 1, block.range.end()).expect("non-empty high part"),
                ..block
            });
            let kept = low.unwrap_or(moved);
            *slot = kept;
            self.supply[supply_slot(block.state)] -= block.range.len().0;
            self.supply[supply_slot(kept.state)] += kept.range.len().0;
            if kept.account != block.account {
                self.holdings.remove(&(block.account, block.range.start()));
                self.holdings.insert((kept.account, block.range.start()));
            }
            changes.push(BlockChange::Removed(block));
            changes.push(BlockChange::Added(kept));
            if low.is_some() {
                changes.push(self.add_block(moved));
            }
            if let Some(high) = high {
                changes.push(self.add_block(high));
            }
            effects.touched.push((block.batch, *range));
        }
    }

    fn insert_block(&mut self, block: Block) {
        self.supply[supply_slot(block.state)] += block.range.len().0;
        self.holdings.insert((block.account, block.range.start()));
        let previous = self.blocks.insert(block.range.start(), block);
        assert!(previous.is_none(), "two blocks start at serial {}", block.range.start());
    }

    fn add_block(&mut self, block: Block) -> BlockChange {
        self.insert_block(block);
        BlockChange::Added(block)
    }

    /// Decides and applies in one step; for tests, simulations and replay tools.
    pub fn execute(&mut self, command: &Command, at: Timestamp) -> Result<Vec<Event>, DomainError> {
        let events = self.decide_at(command, at)?;
        for event in &events {
            self.apply(event, at);
        }
        Ok(events)
    }
}

fn state_hint(state: BlockState) -> &'static str {
    match state {
        BlockState::Retired => "retired credits can never be transferred, retired again or refunded",
        BlockState::Cancelled => "cancelled credits can never move again",
        BlockState::Escrowed => "they are reserved for a sale",
        BlockState::Buffer => "they belong to the buffer pool",
        BlockState::Tradable => "they are tradable but not in the state this command needs",
    }
}

pub(crate) fn check_quantity(quantity: Quantity, what: &str) -> Result<(), DomainError> {
    if quantity.0 == 0 || quantity.0 > MAX_QUANTITY {
        return Err(DomainError::Invalid(format!("{what} must be between 1 and {MAX_QUANTITY}")));
    }
    Ok(())
}

pub(crate) fn check_text(what: &str, text: &str, max: usize, required: bool) -> Result<(), DomainError> {
    if required && text.trim().is_empty() {
        return Err(DomainError::Invalid(format!("{what} must not be empty")));
    }
    if text.chars().count() > max {
        return Err(DomainError::Invalid(format!("{what} must be at most {max} characters")));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(DomainError::Invalid(format!("{what} must not contain control characters")));
    }
    Ok(())
}

pub(crate) fn check_label(label: &str) -> Result<(), DomainError> {
    let ok = !label.is_empty()
        && label.len() <= MAX_LABEL_LEN
        && label.chars().all(|c| c.is_ascii_alphanumeric() || "-_:.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(DomainError::Invalid(format!(
            "label {label:?} must be 1-{MAX_LABEL_LEN} characters of letters, digits and - _ : ."
        )))
    }
}

pub(crate) fn check_claim(claim: &RetirementClaim) -> Result<(), DomainError> {
    check_text("beneficiary name", &claim.beneficiary.name, MAX_NAME_LEN, true)?;
    if let Some(identifier) = &claim.beneficiary.identifier {
        check_text("beneficiary identifier", identifier, MAX_NAME_LEN, true)?;
    }
    check_text("note", &claim.note, MAX_NOTE_LEN, false)?;
    if claim.claim_period.from > claim.claim_period.to {
        return Err(DomainError::Invalid("the claim period ends before it starts".into()));
    }
    Ok(())
}
