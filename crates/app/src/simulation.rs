//! Deterministic simulation (issue #10), after TigerBeetle's simulator: one seed drives random
//! commands, valid and invalid, of every kind the registry has, through the real application
//! layer (authorization, idempotency, the sequencer and its group commit) on a real store, with a
//! simulated clock and storage failures injected at random commits.
//!
//! A failed commit is either *clean* (nothing written) or *ambiguous* (written, then the error):
//! the caller cannot tell which, so it retries with the same Idempotency-Key, as a real client
//! must. After every step the pure model (the events of every acknowledged command, applied once)
//! must satisfy the invariants of SPEC §9, and the store must hold exactly as many log entries as
//! the model's commands produced; at the end the stored projection and the replayed log must both
//! equal the model. The same seed gives the same log bytes, so a failing seed replays bit for bit:
//! the report carries a hash of the whole log to compare two runs.
//!
//! Reads fail too (`SimOptions::read_fault_rate`): the idempotency look-ups, the reload after a
//! failed commit, the replay of an earlier answer and every read the checkpointer makes. The
//! checkpointer runs now and then beside the clients, through the same faults (its writes fail
//! cleanly or ambiguously like commits); at the end every signed checkpoint must be the root of
//! the stored log at its size, and the stored tree hashes those of the log (SPEC §9.7).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use async_trait::async_trait;
use furrow_domain::invariants::{check, check_transition};
use furrow_domain::sales::SaleStatus;
use furrow_domain::sim::{accounts_of, actor, arbitrary_program_command};
use furrow_domain::{
    Account, AccountId, Batch, BatchId, Block, Cancellation, CancellationId, Ledger, LogEntry, Program, Retirement,
    RetirementId, Timestamp,
};
use furrow_store::{
    Balances, BlockFilter, CheckpointRow, CommitGroup, IdempotencyRecord, LogRow, Page, Store, StoreError, TokenRecord,
    Totals,
};
use sha2::{Digest, Sha256};

use crate::transparency::{LogSigner, extend_once};
use crate::{AppError, Clock, Principal, Registry, RequestKey, SequencerOptions};

/// How one simulation runs.
#[derive(Debug, Clone, Copy)]
pub struct SimOptions {
    /// Commands after the program is set up.
    pub steps: usize,
    /// Chance that a commit fails (half of those after writing).
    pub fault_rate: f64,
    /// A deliberate bug, to show the simulator catches it: some failed commits are instead
    /// acknowledged without being written, like a disk that lies about fsync.
    pub lying_store: bool,
    /// Simulated clients with commands in flight at once. Above 1, each round of the seed draws
    /// up to this many commands from the same model and submits them together, each after a
    /// seeded number of scheduler yields, so the sequencer groups them as the seed says; the
    /// invariants are checked after every group. Bit-for-bit replay then needs a current-thread
    /// runtime and a store that never waits on I/O (the in-memory store): see [`run_seed`].
    pub clients: usize,
    /// A deliberate bug that only groups of several commands can show: a failed commit of such a
    /// group writes its entries but only the first command's idempotency record, so the others'
    /// retries apply again.
    pub torn_groups: bool,
    /// Chance that a read the registry or the checkpointer makes fails (an I/O error).
    pub read_fault_rate: f64,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self { steps: 40, fault_rate: 0.1, lying_store: false, clients: 1, torn_groups: false, read_fault_rate: 0.05 }
    }
}

/// What one seed did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimReport {
    pub seed: u64,
    pub committed: u64,
    pub refused: u64,
    /// Commits that failed without writing, and after writing.
    pub clean_faults: u64,
    pub ambiguous_faults: u64,
    /// Reads that failed on purpose.
    pub read_faults: u64,
    /// Checkpoints the checkpointer signed through the faults.
    pub checkpoints: u64,
    pub log_size: u64,
    /// Sales the seed settled, and sales whose escrow it released (cancelled or expired).
    pub sales_settled: u64,
    pub sales_released: u64,
    /// Settled sales that forfeited a withdrawn participant's share (SPEC §9.9).
    pub sales_forfeited: u64,
    /// Groups that committed the commands of more than one simulated client.
    pub shared_groups: u64,
    /// SHA-256 over every log entry's bytes, in order: equal on a rerun of the same seed.
    pub log_hash: [u8; 32],
}

/// Runs one seed on `store` (fresh and migrated, holding nothing yet). `Err` says what diverged.
///
/// With several clients (`SimOptions::clients`), the order in which their commands reach the
/// sequencer, and so the groups, is decided by the scheduler: call this on a current-thread
/// runtime (nothing runs in parallel; tasks run in the order they were woken) with the in-memory
/// store (whose calls never wait), and the seed alone decides it.
pub async fn run_seed(seed: u64, store: Arc<dyn Store>, options: SimOptions) -> Result<SimReport, String> {
    let faulty = Arc::new(FaultyStore::new(store.clone(), seed));
    let clock = Arc::new(SimClock::default());
    let registry = Registry::start_with_clock(
        faulty.clone(),
        clock.clone(),
        SequencerOptions { check_invariants: false, log: None },
    )
    .await
    .map_err(|e| format!("start: {e}"))?;
    let signer = sim_signer(seed)?;
    let sim = Sim { registry: registry.clone(), faulty, clock, store, signer };
    let outcome = drive(seed, &sim, options).await;
    registry.stop_background();
    outcome
}

/// What a seed runs against: the registry on the faulty store, and beside it the store itself,
/// which the simulator reads to check, never through the faults.
struct Sim {
    registry: Registry,
    faulty: Arc<FaultyStore>,
    clock: Arc<SimClock>,
    store: Arc<dyn Store>,
    signer: LogSigner,
}

/// The log's signing key, derived from the seed so that a rerun signs the same checkpoints.
fn sim_signer(seed: u64) -> Result<LogSigner, String> {
    let origin = "sim.furrow.invalid/log";
    let key: [u8; 32] = Sha256::digest(format!("furrow sim log key {seed}")).into();
    let signer = furrow_tlog::note::Ed25519Signer::from_seed(origin, &key).map_err(|e| e.to_string())?;
    Ok(LogSigner { origin: origin.to_owned(), signer: Arc::new(signer) })
}

async fn drive(seed: u64, sim: &Sim, options: SimOptions) -> Result<SimReport, String> {
    let (registry, faulty, clock, store) = (&sim.registry, &sim.faulty, &sim.clock, sim.store.as_ref());
    let mut rng = SplitMix(seed);
    let mut model = Ledger::new();
    let mut report = SimReport {
        seed,
        committed: 0,
        refused: 0,
        clean_faults: 0,
        ambiguous_faults: 0,
        read_faults: 0,
        checkpoints: 0,
        log_size: 0,
        sales_settled: 0,
        sales_released: 0,
        sales_forfeited: 0,
        shared_groups: 0,
        log_hash: [0; 32],
    };
    let setup = furrow_domain::sim::genesis();
    submit(registry, seed, usize::MAX, setup, &mut model, &mut report).await?;
    if sells(seed) {
        // Something to sell: a batch issued through the lifecycle, priced, and two buyers. Random
        // lifecycle commands alone seldom get that far in a few dozen steps.
        let mut setup = furrow_domain::sim::sales::setup();
        if forfeits(seed) {
            setup.extend(furrow_domain::sim::sales::withdrawal());
        }
        for (i, command) in setup.into_iter().enumerate() {
            let name = command.name();
            let refused = report.refused;
            submit(registry, seed, usize::MAX - 1 - i, command, &mut model, &mut report).await?;
            if report.refused != refused {
                return Err(format!("the sales set-up was refused at {name} (command {i})"));
            }
        }
        clock.advance(SALES_START_US - clock.now().0);
    }
    let faults = match (options.lying_store, options.torn_groups) {
        (true, _) => Faults::Lying,
        (false, true) => Faults::TornGroups,
        (false, false) => Faults::CleanOrAmbiguous,
    };
    faulty.arm(options.fault_rate, faults);
    faulty.arm_reads(options.read_fault_rate);
    if options.clients > 1 {
        drive_concurrently(&mut rng, sim, options, &mut model, &mut report).await?;
    } else {
        drive_one_by_one(&mut rng, sim, options, &mut model, &mut report).await?;
    }
    faulty.disarm();
    (report.clean_faults, report.ambiguous_faults) = faulty.counts();
    report.read_faults = faulty.read_fault_count();
    compare_with_store(store, &model).await?;
    checkpoint(faulty.as_ref(), clock.as_ref(), &sim.signer).await?;
    report.checkpoints = check_log_tree(store).await?;
    for sale in model.lifecycle().sales.sales.values() {
        match sale.status {
            SaleStatus::Settled => {
                report.sales_settled += 1;
                if sale.settlement.as_ref().is_some_and(|s| !s.forfeitures.is_empty()) {
                    report.sales_forfeited += 1;
                }
            }
            SaleStatus::Cancelled | SaleStatus::Expired => report.sales_released += 1,
            SaleStatus::Escrowed => {}
        }
    }
    report.log_hash = log_hash(store).await?;
    Ok(report)
}

/// Runs one command as its simulated actor, retrying with its Idempotency-Key while commits fail,
/// and applies what it committed to the model exactly once.
async fn submit(
    registry: &Registry,
    seed: u64,
    step: usize,
    command: furrow_domain::Command,
    model: &mut Ledger,
    report: &mut SimReport,
) -> Result<(), String> {
    match execute_with_retries(registry, seed, step, command).await? {
        Some(entries) => {
            // One command at a time, its entries must follow the log the model knows: anything
            // else was written behind a caller's back, or decided against a state the log lacks.
            if let Some(gap) = entries.iter().zip(report.log_size..).find(|(entry, expected)| entry.index != *expected)
            {
                return Err(format!(
                    "step {step}: the command was answered with entry {} where entry {} was expected",
                    gap.0.index, gap.1
                ));
            }
            for entry in &entries {
                model.apply(&entry.event, entry.timestamp);
            }
            report.committed += 1;
            report.log_size += entries.len() as u64;
        }
        None => report.refused += 1,
    }
    Ok(())
}

/// Whether a seed starts with something to sell (`furrow_domain::sim::sales::setup`): one in
/// four, so that the rest still explore a program from nothing and CI's 10 000 seeds stay within
/// their time (the set-up is 24 commands).
pub fn sells(seed: u64) -> bool {
    seed.is_multiple_of(4)
}

/// The steps of a seed one command at a time, checking the invariants after each.
async fn drive_one_by_one(
    rng: &mut SplitMix,
    sim: &Sim,
    options: SimOptions,
    model: &mut Ledger,
    report: &mut SimReport,
) -> Result<(), String> {
    let (registry, clock, store) = (&sim.registry, &sim.clock, sim.store.as_ref());
    let seed = report.seed;
    for step in 0..options.steps {
        let numbers = std::array::from_fn(|_| rng.next());
        // Time passes between commands, sometimes hours (quotes expire), sometimes weeks
        // (withdrawals take effect before a settlement).
        clock.advance(time_jump(rng.next()));
        let command = arbitrary_program_command(model, numbers);
        let before = model.clone();
        submit(registry, seed, step, command, model, report).await?;
        check(model).map_err(|v| format!("step {step}: invariants broken: {v:?}"))?;
        check_transition(&before, model).map_err(|v| format!("step {step}: {v:?}"))?;
        let stored = store.log_size().await.map_err(|e| e.to_string())?;
        if stored != report.log_size {
            return Err(format!("step {step}: the store holds {stored} log entries, the model {}", report.log_size));
        }
        if checkpoints_now(rng.next()) {
            checkpoint(sim.faulty.as_ref(), clock.as_ref(), &sim.signer)
                .await
                .map_err(|e| format!("step {step}: {e}"))?;
        }
    }
    Ok(())
}

/// Whether the checkpointer runs after this step (or beside this round's clients): one time in
/// eight, so that checkpoints interleave with commits as in a server.
fn checkpoints_now(x: u64) -> bool {
    x.is_multiple_of(8)
}

/// The steps of a seed as rounds of concurrent commands: each round draws 1 to `clients`
/// commands from the model as it stands, submits them at once from as many simulated clients
/// (each retrying through injected faults with its own Idempotency-Key), and then applies what
/// they committed in log order, one group at a time (a group's entries share its timestamp),
/// checking the invariants after each group.
async fn drive_concurrently(
    rng: &mut SplitMix,
    sim: &Sim,
    options: SimOptions,
    model: &mut Ledger,
    report: &mut SimReport,
) -> Result<(), String> {
    let (registry, clock, store) = (&sim.registry, &sim.clock, sim.store.as_ref());
    let seed = report.seed;
    let mut step = 0;
    while step < options.steps {
        clock.advance(time_jump(rng.next()));
        let round = (1 + rng.next() as usize % options.clients).min(options.steps - step);
        let mut clients = Vec::with_capacity(round);
        for client in 0..round {
            let numbers = std::array::from_fn(|_| rng.next());
            let command = arbitrary_program_command(model, numbers);
            // How long this client waits before sending: the other clients' commands, and the
            // sequencer's groups, fall before or after it as the seed says.
            let yields = rng.next() % 4;
            let registry = registry.clone();
            clients.push(tokio::spawn(async move {
                for _ in 0..yields {
                    tokio::task::yield_now().await;
                }
                execute_with_retries(&registry, seed, step + client, command).await
            }));
        }
        // The checkpointer reads and writes the tree while the clients' groups commit.
        let checkpointer = checkpoints_now(rng.next()).then(|| {
            let (faulty, clock, signer) = (sim.faulty.clone(), sim.clock.clone(), sim.signer.clone());
            tokio::spawn(async move { checkpoint(faulty.as_ref(), clock.as_ref(), &signer).await })
        });
        // (client, entry) of every committed command, in log order.
        let mut entries = Vec::new();
        let first_index = report.log_size;
        for (number, client) in clients.into_iter().enumerate() {
            match client.await.map_err(|e| format!("step {step}: a client panicked: {e}"))?? {
                Some(committed) => {
                    report.committed += 1;
                    report.log_size += committed.len() as u64;
                    entries.extend(committed.into_iter().map(|entry| (number, entry)));
                }
                None => report.refused += 1,
            }
        }
        if let Some(checkpointer) = checkpointer {
            checkpointer
                .await
                .map_err(|e| format!("step {step}: the checkpointer panicked: {e}"))?
                .map_err(|e| format!("step {step}: {e}"))?;
        }
        entries.sort_by_key(|(_, e)| e.index);
        // The answers must account for the log without a gap: an entry that no client was
        // answered for means a command took effect twice or behind a caller's back.
        if let Some(gap) = entries.iter().enumerate().find(|(i, (_, e))| e.index != first_index + *i as u64) {
            return Err(format!(
                "step {step}: the clients were answered for entry {} where entry {} was expected: entries \
                 were committed that no client was answered for",
                gap.1.1.index,
                first_index + gap.0 as u64
            ));
        }
        for group in entries.chunk_by(|(_, a), (_, b)| a.timestamp == b.timestamp) {
            if group.iter().any(|(client, _)| *client != group[0].0) {
                report.shared_groups += 1;
            }
            let before = model.clone();
            for (_, entry) in group {
                model.apply(&entry.event, entry.timestamp);
            }
            let first = group.first().map_or(0, |(_, e)| e.index);
            check(model).map_err(|v| format!("step {step}: group from entry {first}: invariants broken: {v:?}"))?;
            check_transition(&before, model).map_err(|v| format!("step {step}: group from entry {first}: {v:?}"))?;
        }
        let stored = store.log_size().await.map_err(|e| e.to_string())?;
        if stored != report.log_size {
            return Err(format!("step {step}: the store holds {stored} log entries, the model {}", report.log_size));
        }
        step += round;
    }
    Ok(())
}

/// Runs one command as its simulated actor, retrying with its Idempotency-Key while commits fail:
/// the entries it committed, or `None` if it was refused.
async fn execute_with_retries(
    registry: &Registry,
    seed: u64,
    step: usize,
    command: furrow_domain::Command,
) -> Result<Option<Vec<LogEntry>>, String> {
    let (subject, role) = actor(&command);
    let principal =
        Principal { subject: subject.clone(), role, accounts: accounts_of(&subject), proof: crate::Proof::Token };
    let body = format!("{command:?}");
    let key = RequestKey::new(&subject, &format!("sim-{seed}-{step}"), "POST", "/sim", body.as_bytes())
        .map_err(|e| e.to_string())?;
    for _attempt in 0..64 {
        match registry.execute(&principal, command.clone(), Some(key.clone())).await {
            Ok(committed) => return Ok(Some(committed.entries)),
            Err(AppError::Unavailable(_)) => continue,
            Err(AppError::Domain(_) | AppError::Forbidden(_) | AppError::Invalid(_) | AppError::NotFound(_)) => {
                return Ok(None);
            }
            Err(e) => return Err(format!("step {step}: {} failed unexpectedly: {e}", command.name())),
        }
    }
    Err(format!("step {step}: {} never got through the injected faults", command.name()))
}

/// Whether a selling seed also withdraws a farmer of its set-up (`sim::sales::withdrawal`), so
/// that its later settlements forfeit that farmer's share: half of them.
pub fn forfeits(seed: u64) -> bool {
    sells(seed) && seed.is_multiple_of(8)
}

/// Microseconds the simulated clock moves before a command: mostly none, one time in eight up to
/// two hours (longer than the shortest quotes), one in thirty-two up to thirty days.
fn time_jump(x: u64) -> i64 {
    let secs = match x % 32 {
        0..=3 => (x >> 5) % 7_200,
        4 => (x >> 5) % (30 * 86_400),
        _ => 0,
    };
    secs as i64 * 1_000_000
}

/// Where a selling seed's clock stands after its set-up: late March 2026, so that a long jump
/// can carry a settlement past the withdrawals the lifecycle generator dates 1 April 2026.
const SALES_START_US: i64 = 1_774_137_600_000_000;

/// Runs the checkpointer until its tree covers the log, retrying through the injected faults as
/// the server's checkpointer does on its next wake-up.
async fn checkpoint(store: &dyn Store, clock: &dyn Clock, signer: &LogSigner) -> Result<(), String> {
    for _attempt in 0..64 {
        match extend_once(store, clock, signer).await {
            Ok(true) | Err(AppError::Unavailable(_)) => continue,
            Ok(false) => return Ok(()),
            Err(e) => return Err(format!("the checkpointer failed: {e}")),
        }
    }
    Err("the checkpointer never got through the injected faults".into())
}

/// Checks the transparency log against the stored entries: the stored leaf and tree hashes are
/// those of the entries' bytes, and every signed checkpoint's root is the tree's root at its
/// size (so each is consistent with every earlier one). Returns how many checkpoints there are.
async fn check_log_tree(store: &dyn Store) -> Result<u64, String> {
    use furrow_tlog::tree::{MemoryTree, tree_hash};
    let expected: Vec<[u8; 32]> =
        all_entries(store).await?.iter().map(|e| furrow_tlog::leaf_hash(&e.encode())).collect();
    let mut tree = MemoryTree::new();
    for leaf in &expected {
        tree.append(*leaf).map_err(|e| e.to_string())?;
    }
    let size = tree.size();
    let leaves = store.leaf_hashes(0, u32::try_from(size).unwrap_or(u32::MAX)).await.map_err(|e| e.to_string())?;
    if leaves != expected {
        return Err("the stored leaf hashes are not those of the stored entries".into());
    }
    let count = store.tree_hash_count().await.map_err(|e| e.to_string())?;
    let indexes: Vec<u64> = (0..count).collect();
    let stored = store.tree_hashes(&indexes).await.map_err(|e| e.to_string())?;
    if stored.as_slice() != tree.stored_hashes() {
        return Err(format!("the stored tree ({count} hashes) is not the tree of the stored log ({size} entries)"));
    }
    let mut checkpoints = 0;
    let mut after = None;
    loop {
        let page = store.checkpoints(after, 500).await.map_err(|e| e.to_string())?;
        let Some(last) = page.last() else { break };
        after = Some(last.tree_size);
        for row in &page {
            let root = tree_hash(row.tree_size, &tree).map_err(|e| e.to_string())?;
            if root != row.root {
                return Err(format!("the checkpoint of size {} signs a root that is not the log's", row.tree_size));
            }
            checkpoints += 1;
        }
    }
    match store.latest_checkpoint().await.map_err(|e| e.to_string())? {
        Some(latest) if latest.tree_size == size => Ok(checkpoints),
        None if size == 0 => Ok(checkpoints),
        other => Err(format!("the last checkpoint covers {:?} of {size} entries", other.map(|c| c.tree_size))),
    }
}

async fn compare_with_store(store: &dyn Store, model: &Ledger) -> Result<(), String> {
    let stored = store.load_ledger().await.map_err(|e| e.to_string())?;
    if &stored != model {
        return Err("the stored projection differs from the model".into());
    }
    let mut replayed = Ledger::new();
    for entry in all_entries(store).await? {
        replayed.apply(&entry.event, entry.timestamp);
    }
    if &replayed != model {
        return Err("replaying the stored log gives another state than the model".into());
    }
    Ok(())
}

async fn all_entries(store: &dyn Store) -> Result<Vec<LogEntry>, String> {
    let mut entries = Vec::new();
    let mut after = None;
    loop {
        let rows = store.log_entries(Page { after, limit: 500 }).await.map_err(|e| e.to_string())?;
        let Some(last) = rows.last() else { return Ok(entries) };
        after = Some(last.index);
        for row in rows {
            entries.push(LogEntry::decode(&row.bytes).map_err(|e| format!("entry {}: {e}", row.index))?);
        }
    }
}

async fn log_hash(store: &dyn Store) -> Result<[u8; 32], String> {
    let mut hash = Sha256::new();
    for entry in all_entries(store).await? {
        hash.update(entry.encode());
    }
    Ok(hash.finalize().into())
}

/// A clock that advances one microsecond per reading, from 2026-01-01, and jumps when the
/// simulation lets time pass: runs stamp identical times.
pub struct SimClock(AtomicI64);

impl SimClock {
    /// Moves the clock forward by `micros`.
    pub fn advance(&self, micros: i64) {
        self.0.fetch_add(micros.max(0), Ordering::Relaxed);
    }
}

impl Default for SimClock {
    fn default() -> Self {
        Self(AtomicI64::new(1_767_225_600_000_000))
    }
}

impl Clock for SimClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.fetch_add(1, Ordering::Relaxed))
    }
}

/// SplitMix64: small, fast, and the same on every platform.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Which failures an armed [`FaultyStore`] injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Faults {
    /// Nothing is written, and the commit reports an error.
    Clean,
    /// Half clean, half ambiguous: written, then an error (the connection died before the reply).
    CleanOrAmbiguous,
    /// Always ambiguous: written, then an error.
    Ambiguous,
    /// A deliberate bug, to show the simulator catches it: half ambiguous, and the other half is
    /// acknowledged without being written, like a disk that lies about fsync.
    Lying,
    /// A deliberate bug: like `CleanOrAmbiguous`, except that an ambiguous failure of a group
    /// with several idempotency records writes only the first of them.
    TornGroups,
}

/// What one injected failure does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Clean,
    Ambiguous,
    /// Written without all but the first idempotency record, then an error.
    Torn,
    /// Reports success without writing (the deliberate bug of `Faults::Lying`).
    Lie,
}

/// A store whose commits fail on purpose: never, always, or at a seeded random rate, cleanly
/// (nothing written) or ambiguously (written, then an error), like a disk or a network that gives
/// out at the worst moment. The log tree's writes fail the same way, and the reads the registry
/// and the checkpointer depend on fail with an I/O error at a rate of their own. Everything else
/// goes straight to the wrapped store.
pub struct FaultyStore {
    inner: Arc<dyn Store>,
    /// Failure chance in millionths; 0 is off.
    rate_ppm: AtomicU64,
    /// Read failure chance in millionths; 0 is off.
    read_rate_ppm: AtomicU64,
    read_faults: AtomicU64,
    faults: std::sync::Mutex<Faults>,
    rng: std::sync::Mutex<SplitMix>,
    clean: AtomicU64,
    ambiguous: AtomicU64,
    /// While true, commits wait before doing anything: a slow disk, so that tests can act while
    /// a group's commit is in flight.
    held: tokio::sync::watch::Sender<bool>,
    /// Commits waiting because of `held`.
    holding: AtomicU64,
    /// Idempotency keys looked up so far.
    key_lookups: AtomicU64,
    /// Whether the next key lookup, having read, waits for [`FaultyStore::release_key_lookup`]:
    /// a slow read whose answer is already out of date when it arrives.
    hold_next_lookup: std::sync::atomic::AtomicBool,
    lookup_held: tokio::sync::watch::Sender<bool>,
}

impl FaultyStore {
    pub fn new(inner: Arc<dyn Store>, seed: u64) -> Self {
        Self {
            inner,
            rate_ppm: AtomicU64::new(0),
            read_rate_ppm: AtomicU64::new(0),
            read_faults: AtomicU64::new(0),
            faults: std::sync::Mutex::new(Faults::Clean),
            rng: std::sync::Mutex::new(SplitMix(seed ^ 0xfa17)),
            clean: AtomicU64::new(0),
            ambiguous: AtomicU64::new(0),
            held: tokio::sync::watch::Sender::new(false),
            holding: AtomicU64::new(0),
            key_lookups: AtomicU64::new(0),
            hold_next_lookup: std::sync::atomic::AtomicBool::new(false),
            lookup_held: tokio::sync::watch::Sender::new(false),
        }
    }

    /// Makes a share `rate` (0.0–1.0) of commits fail from now on, in the way `faults` says.
    pub fn arm(&self, rate: f64, faults: Faults) {
        *self.faults.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = faults;
        self.rate_ppm.store((rate.clamp(0.0, 1.0) * 1e6) as u64, Ordering::SeqCst);
    }

    /// Makes a share `rate` (0.0–1.0) of reads fail from now on.
    pub fn arm_reads(&self, rate: f64) {
        self.read_rate_ppm.store((rate.clamp(0.0, 1.0) * 1e6) as u64, Ordering::SeqCst);
    }

    pub fn disarm(&self) {
        self.rate_ppm.store(0, Ordering::SeqCst);
        self.read_rate_ppm.store(0, Ordering::SeqCst);
    }

    /// Makes commits wait until [`FaultyStore::release`].
    pub fn hold(&self) {
        self.held.send_replace(true);
    }

    pub fn release(&self) {
        self.held.send_replace(false);
    }

    /// Commits waiting for [`FaultyStore::release`] now.
    pub fn holding(&self) -> u64 {
        self.holding.load(Ordering::SeqCst)
    }

    /// Makes the next idempotency key lookup wait, once it has read, until
    /// [`FaultyStore::release_key_lookup`].
    pub fn hold_next_key_lookup(&self) {
        self.lookup_held.send_replace(true);
        self.hold_next_lookup.store(true, Ordering::SeqCst);
    }

    pub fn release_key_lookup(&self) {
        self.lookup_held.send_replace(false);
    }

    /// Idempotency keys looked up so far, by callers and by the sequencer.
    pub fn key_lookups(&self) -> u64 {
        self.key_lookups.load(Ordering::SeqCst)
    }

    /// Commits failed so far: (clean, ambiguous).
    pub fn counts(&self) -> (u64, u64) {
        (self.clean.load(Ordering::SeqCst), self.ambiguous.load(Ordering::SeqCst))
    }

    /// Reads failed so far.
    pub fn read_fault_count(&self) -> u64 {
        self.read_faults.load(Ordering::SeqCst)
    }

    /// Fails this read, now and then.
    fn read(&self, what: &str) -> Result<(), StoreError> {
        let rate = self.read_rate_ppm.load(Ordering::SeqCst);
        if rate == 0 {
            return Ok(());
        }
        let roll = self.rng.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).next();
        if roll % 1_000_000 >= rate {
            return Ok(());
        }
        self.read_faults.fetch_add(1, Ordering::SeqCst);
        Err(StoreError::Other(format!("disk I/O error reading {what} (injected)")))
    }

    /// What the next commit does, or `None` when it succeeds.
    fn next_fault(&self) -> Option<Fault> {
        let rate = self.rate_ppm.load(Ordering::SeqCst);
        if rate == 0 {
            return None;
        }
        let roll = self.rng.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).next();
        if roll % 1_000_000 >= rate {
            return None;
        }
        let second_half = roll & (1 << 40) != 0;
        Some(match *self.faults.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) {
            Faults::Clean => Fault::Clean,
            Faults::Ambiguous => Fault::Ambiguous,
            Faults::CleanOrAmbiguous if second_half => Fault::Ambiguous,
            Faults::TornGroups if second_half => Fault::Torn,
            Faults::CleanOrAmbiguous | Faults::TornGroups => Fault::Clean,
            Faults::Lying if second_half => Fault::Ambiguous,
            Faults::Lying => Fault::Lie,
        })
    }
}

#[async_trait]
impl Store for FaultyStore {
    async fn claim_writer(&self) -> Result<(), StoreError> {
        self.inner.claim_writer().await
    }
    async fn load_ledger(&self) -> Result<Ledger, StoreError> {
        self.read("the ledger")?;
        self.inner.load_ledger().await
    }
    async fn log_size(&self) -> Result<u64, StoreError> {
        self.read("the log size")?;
        self.inner.log_size().await
    }
    async fn commit(&self, group: Arc<CommitGroup>) -> Result<(), StoreError> {
        // Decided on arrival, so a test can arm a fault for one held commit only.
        let fault = self.next_fault();
        if *self.held.borrow() {
            self.holding.fetch_add(1, Ordering::SeqCst);
            let mut held = self.held.subscribe();
            let _ = held.wait_for(|held| !*held).await;
            self.holding.fetch_sub(1, Ordering::SeqCst);
        }
        match fault {
            None => self.inner.commit(group).await,
            Some(Fault::Lie) => {
                self.clean.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
            Some(Fault::Clean) => {
                self.clean.fetch_add(1, Ordering::SeqCst);
                Err(StoreError::Other("disk I/O error before the commit (injected)".into()))
            }
            Some(Fault::Ambiguous) => {
                self.inner.commit(group).await?;
                self.ambiguous.fetch_add(1, Ordering::SeqCst);
                Err(StoreError::Other("connection lost after the commit (injected)".into()))
            }
            Some(Fault::Torn) => {
                let mut torn = (*group).clone();
                torn.idempotency.truncate(1);
                self.inner.commit(Arc::new(torn)).await?;
                self.ambiguous.fetch_add(1, Ordering::SeqCst);
                Err(StoreError::Other("connection lost after a torn commit (injected)".into()))
            }
        }
    }
    async fn find_idempotent(&self, scope: &str, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.read("an idempotency record")?;
        self.key_lookups.fetch_add(1, Ordering::SeqCst);
        let found = self.inner.find_idempotent(scope, key).await;
        if self.hold_next_lookup.swap(false, Ordering::SeqCst) {
            let _ = self.lookup_held.subscribe().wait_for(|held| !*held).await;
        }
        found
    }
    async fn insert_token(&self, token: &TokenRecord) -> Result<u64, StoreError> {
        self.inner.insert_token(token).await
    }
    async fn find_token(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>, StoreError> {
        self.inner.find_token(hash).await
    }
    async fn set_token_policy(
        &self,
        id: u64,
        can_write: bool,
        expires_at: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        self.inner.set_token_policy(id, can_write, expires_at).await
    }
    async fn token_policy(&self, id: u64) -> Result<Option<furrow_store::TokenPolicy>, StoreError> {
        self.inner.token_policy(id).await
    }
    async fn list_tokens(&self) -> Result<Vec<furrow_store::TokenListing>, StoreError> {
        self.inner.list_tokens().await
    }
    async fn revoke_token(&self, id: u64, at: Timestamp) -> Result<bool, StoreError> {
        self.inner.revoke_token(id, at).await
    }
    async fn touch_token(&self, id: u64, at: Timestamp) -> Result<(), StoreError> {
        self.inner.touch_token(id, at).await
    }
    async fn append_security_event(&self, event: &furrow_store::SecurityEvent) -> Result<(), StoreError> {
        self.inner.append_security_event(event).await
    }
    async fn security_events(&self, page: Page) -> Result<Vec<furrow_store::SecurityEvent>, StoreError> {
        self.inner.security_events(page).await
    }
    async fn program(&self) -> Result<Option<Program>, StoreError> {
        self.inner.program().await
    }
    async fn totals(&self) -> Result<Totals, StoreError> {
        self.inner.totals().await
    }
    async fn accounts(&self, page: Page) -> Result<Vec<Account>, StoreError> {
        self.inner.accounts(page).await
    }
    async fn account(&self, id: AccountId) -> Result<Option<(Account, Balances)>, StoreError> {
        self.inner.account(id).await
    }
    async fn batches(&self, page: Page) -> Result<Vec<(Batch, Balances)>, StoreError> {
        self.inner.batches(page).await
    }
    async fn batch(&self, id: BatchId) -> Result<Option<(Batch, Balances)>, StoreError> {
        self.inner.batch(id).await
    }
    async fn blocks(&self, filter: BlockFilter, page: Page) -> Result<Vec<Block>, StoreError> {
        self.inner.blocks(filter, page).await
    }
    async fn block_at(&self, serial: u64) -> Result<Option<Block>, StoreError> {
        self.inner.block_at(serial).await
    }
    async fn serial_history(
        &self,
        batch: BatchId,
        start: u64,
        end: u64,
        limit: u32,
    ) -> Result<Vec<LogRow>, StoreError> {
        self.inner.serial_history(batch, start, end, limit).await
    }
    async fn retirements(&self, page: Page) -> Result<Vec<Retirement>, StoreError> {
        self.inner.retirements(page).await
    }
    async fn retirement(&self, id: RetirementId) -> Result<Option<Retirement>, StoreError> {
        self.inner.retirement(id).await
    }
    async fn cancellations(&self, page: Page) -> Result<Vec<Cancellation>, StoreError> {
        self.inner.cancellations(page).await
    }
    async fn cancellation(&self, id: CancellationId) -> Result<Option<Cancellation>, StoreError> {
        self.inner.cancellation(id).await
    }
    async fn log_entries(&self, page: Page) -> Result<Vec<LogRow>, StoreError> {
        self.read("log entries")?;
        self.inner.log_entries(page).await
    }
    async fn entry_with_leaf_hash(&self, leaf_hash: &[u8; 32]) -> Result<Option<u64>, StoreError> {
        self.inner.entry_with_leaf_hash(leaf_hash).await
    }
    async fn leaf_hashes(&self, from: u64, limit: u32) -> Result<Vec<[u8; 32]>, StoreError> {
        self.read("leaf hashes")?;
        self.inner.leaf_hashes(from, limit).await
    }
    async fn tree_hashes(&self, indexes: &[u64]) -> Result<Vec<[u8; 32]>, StoreError> {
        self.read("tree hashes")?;
        self.inner.tree_hashes(indexes).await
    }
    async fn extend_tree(
        &self,
        first_index: u64,
        hashes: &[[u8; 32]],
        checkpoint: &CheckpointRow,
    ) -> Result<(), StoreError> {
        // The tree is written in one transaction, like a commit, and fails like one.
        match self.next_fault() {
            None => self.inner.extend_tree(first_index, hashes, checkpoint).await,
            Some(Fault::Clean | Fault::Lie) => {
                self.clean.fetch_add(1, Ordering::SeqCst);
                Err(StoreError::Other("disk I/O error before writing the tree (injected)".into()))
            }
            Some(Fault::Ambiguous | Fault::Torn) => {
                self.inner.extend_tree(first_index, hashes, checkpoint).await?;
                self.ambiguous.fetch_add(1, Ordering::SeqCst);
                Err(StoreError::Other("connection lost after writing the tree (injected)".into()))
            }
        }
    }
    async fn latest_checkpoint(&self) -> Result<Option<CheckpointRow>, StoreError> {
        self.read("the latest checkpoint")?;
        self.inner.latest_checkpoint().await
    }
    async fn checkpoint_at_least(&self, size: u64) -> Result<Option<CheckpointRow>, StoreError> {
        self.inner.checkpoint_at_least(size).await
    }
    async fn checkpoints(&self, after: Option<u64>, limit: u32) -> Result<Vec<CheckpointRow>, StoreError> {
        self.inner.checkpoints(after, limit).await
    }
    async fn tree_hash_count(&self) -> Result<u64, StoreError> {
        self.read("the tree's size")?;
        self.inner.tree_hash_count().await
    }
}
