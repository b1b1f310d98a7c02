//! The single writer. Every mutating command goes through here; concurrent commands are grouped
//! into one database transaction (group commit), and each caller is answered only after the
//! transaction is durable.
//!
//! The sequencer owns the in-memory ledger, so deciding a command costs no database round trip.
//! Commands of a group are decided one after another against the ledger as the earlier ones left
//! it; a refused command produces nothing and does not affect the others. If the commit fails,
//! every command of the group is told so, and the ledger is reloaded from the database, which
//! is the source of truth.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{SystemTime, UNIX_EPOCH};

use furrow_domain::invariants;
use furrow_domain::lifecycle::Lifecycle;
use furrow_domain::{BlockState, Program};
use furrow_domain::{Command, Ledger, LogEntry, Timestamp};
use furrow_store::{Balances, CommitGroup, EntryToCommit, IdempotencyRecord, Store, Totals};
use tokio::sync::{mpsc, oneshot, watch};

use crate::error::AppError;
use crate::idempotency::{Outcome, RecentKeys, RequestKey};

/// What `GET /status` shows, as of the last acknowledged commit: published by the sequencer from
/// its ledger (whose supply is kept block by block), so serving it reads no table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusSnapshot {
    pub program: Option<Program>,
    pub totals: Totals,
}

impl StatusSnapshot {
    fn of(ledger: &Ledger, log_size: u64) -> Self {
        let mut supply = Balances::default();
        for state in
            [BlockState::Tradable, BlockState::Escrowed, BlockState::Retired, BlockState::Cancelled, BlockState::Buffer]
        {
            supply.add(state, ledger.supply(state).0);
        }
        let (accounts, batches, retirements) = ledger.counts();
        Self { program: ledger.program().cloned(), totals: Totals { supply, accounts, batches, retirements, log_size } }
    }
}

/// The readers of what the sequencer publishes after each commit.
pub(crate) struct Published {
    pub lifecycle: watch::Receiver<Arc<Lifecycle>>,
    pub status: watch::Receiver<Arc<StatusSnapshot>>,
    /// The key mark, read before looking an idempotency key up ([`RecentKeys`]).
    pub keys_mark: Arc<AtomicU64>,
}

/// The largest number of commands committed in one transaction.
const MAX_GROUP: usize = 1024;

/// Where time comes from. Injected so simulations can run on a simulated clock.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let micros = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros());
        Timestamp(i64::try_from(micros).unwrap_or(i64::MAX))
    }
}

#[derive(Clone, Default)]
pub struct SequencerOptions {
    /// Check SPEC §9 invariants 1–3 on the whole ledger after every group. Costly; for tests.
    pub check_invariants: bool,
    /// Sign the log: extend the Merkle tree and publish checkpoints after commits.
    pub log: Option<LogOptions>,
}

/// The log's signer and its published verifier key.
#[derive(Clone)]
pub struct LogOptions {
    pub signer: crate::transparency::LogSigner,
    pub verifier_key: String,
}

/// A command waiting for the sequencer.
pub(crate) struct Submission {
    pub actor: String,
    pub command: Command,
    pub idempotency: Option<RequestKey>,
    /// The key mark read before the caller's own lookup of its key found nothing
    /// ([`RecentKeys`]); `None` if it did not look.
    pub looked_up_at: Option<u64>,
    pub reply: oneshot::Sender<Result<Reply, AppError>>,
}

#[derive(Clone)]
pub(crate) struct SequencerHandle {
    tx: mpsc::Sender<Submission>,
}

impl SequencerHandle {
    pub async fn submit(
        &self,
        actor: String,
        command: Command,
        idempotency: Option<RequestKey>,
        looked_up_at: Option<u64>,
    ) -> Result<Reply, AppError> {
        let (reply, answer) = oneshot::channel();
        let submission = Submission { actor, command, idempotency, looked_up_at, reply };
        self.tx.send(submission).await.map_err(|_| AppError::Unavailable("the sequencer has stopped".into()))?;
        answer.await.map_err(|_| AppError::Unavailable("the sequencer stopped before answering".into()))?
    }
}

pub(crate) async fn start(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    options: SequencerOptions,
    checkpointer: Option<Arc<crate::transparency::CheckpointerHandle>>,
) -> Result<(SequencerHandle, Published), AppError> {
    let ledger = store.load_ledger().await?;
    let next_index = store.log_size().await?;
    let (tx, rx) = mpsc::channel(4 * MAX_GROUP);
    let (lifecycle, lifecycle_reader) = watch::channel(Arc::new(ledger.lifecycle().clone()));
    let (status, status_reader) = watch::channel(Arc::new(StatusSnapshot::of(&ledger, next_index)));
    let recent = RecentKeys::new();
    let keys_mark = recent.mark();
    let sequencer = Sequencer {
        store,
        clock,
        options,
        checkpointer,
        ledger,
        next_index,
        last_timestamp: Timestamp(0),
        in_sync: true,
        lifecycle,
        status,
        recent,
    };
    tokio::spawn(sequencer.run(rx));
    Ok((SequencerHandle { tx }, Published { lifecycle: lifecycle_reader, status: status_reader, keys_mark }))
}

struct Sequencer {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    options: SequencerOptions,
    /// Woken after each commit so the log's tree and checkpoint catch up.
    checkpointer: Option<Arc<crate::transparency::CheckpointerHandle>>,
    ledger: Ledger,
    next_index: u64,
    last_timestamp: Timestamp,
    /// False after a failed commit until the state has been reloaded from the database.
    in_sync: bool,
    /// The committed lifecycle state, published after every group that changed it. Lifecycle
    /// reads are served from it (`Registry::lifecycle`) without waiting for the writer.
    lifecycle: watch::Sender<Arc<Lifecycle>>,
    /// The status page's totals, published after every commit and before anyone is answered.
    status: watch::Sender<Arc<StatusSnapshot>>,
    /// The idempotency keys of the groups committed lately.
    recent: RecentKeys,
}

/// The answer to a submission.
#[derive(Debug)]
pub(crate) enum Reply {
    /// The command was committed now, as these entries.
    Fresh(Vec<LogEntry>),
    /// The idempotency key was used before, with the same request; this was its outcome.
    Earlier(Outcome),
}

/// What to tell a caller once the group is durable.
enum Pending {
    Committed(Vec<LogEntry>),
    /// Same idempotency key as an earlier command of this group (its position in `waiting`).
    SameAs(usize),
    Earlier(Outcome),
    Refused(AppError),
}

/// Idempotency keys of a group: the position of the command in `waiting`, the request's hash
/// and what the command became.
type GroupKeys = BTreeMap<(String, String), (usize, [u8; 32], Outcome)>;

/// A group being decided, or decided and handed to the store.
#[derive(Default)]
struct Group {
    commit: CommitGroup,
    waiting: Vec<(oneshot::Sender<Result<Reply, AppError>>, Pending)>,
    keys: GroupKeys,
    /// The lifecycle state after this group, when it changed it: published once it is durable.
    lifecycle: Option<Arc<Lifecycle>>,
    /// The status page's totals after this group, when it writes: published once it is durable
    /// (by then the ledger may hold the next group's decisions too).
    status: Option<Arc<StatusSnapshot>>,
}

impl Group {
    fn len(&self) -> usize {
        self.waiting.len()
    }
}

/// A group whose commit runs while the next one is decided.
struct InFlight {
    group: Group,
    commit: tokio::task::JoinHandle<Result<(), furrow_store::StoreError>>,
}

impl Sequencer {
    /// Takes submissions and commits them in groups. While one group's commit runs (writing its
    /// pages and waiting for fsync), the next group is decided against the ledger as that group
    /// left it, and keeps taking arrivals until the commit ends; it is then handed to the store at
    /// once. At most one commit is in flight, so groups are durable in the order they were
    /// decided, and each caller is answered only after its own group is durable. If a commit
    /// fails, the group decided after it was decided against a state the database does not have:
    /// it is not committed, its callers hear 503 too, and the ledger is reloaded.
    async fn run(mut self, mut rx: mpsc::Receiver<Submission>) {
        let mut in_flight: Option<InFlight> = None;
        loop {
            let first = match in_flight.as_mut() {
                None => match rx.recv().await {
                    Some(first) => first,
                    None => break,
                },
                Some(running) => tokio::select! {
                    biased;
                    done = &mut running.commit => {
                        if let Some(running) = in_flight.take() {
                            self.finish(running.group, done).await;
                        }
                        continue;
                    }
                    next = rx.recv() => match next {
                        Some(first) => first,
                        None => break,
                    },
                },
            };
            let mut group = Group::default();
            if !self.in_sync {
                // Only after a failed commit (and so with nothing in flight).
                self.reload().await;
                if !self.in_sync {
                    // Refuse what queued up too: one reload attempt per group, not per command.
                    let mut refused = vec![first];
                    while let Ok(next) = rx.try_recv() {
                        refused.push(next);
                    }
                    for submission in refused {
                        let _ = submission.reply.send(Err(AppError::Unavailable("the database cannot be read".into())));
                    }
                    continue;
                }
            }
            // Everything that queued up meanwhile joins this group. It is taken before anything
            // is decided, so an answer sent while deciding (an error) cannot bring its retry
            // into the same group: the groups do not depend on how fast the store is (the
            // simulator runs a seed the same on SQLite and in memory).
            let mut queued = vec![first];
            while queued.len() < MAX_GROUP {
                match rx.try_recv() {
                    Ok(next) => queued.push(next),
                    Err(_) => break,
                }
            }
            let at = self.timestamp();
            for submission in queued {
                let previous = in_flight.as_ref().map(|running| &running.group.keys);
                self.decide(&mut group, submission, at, previous).await;
            }
            // Then, while the previous group's commit runs, so does whatever arrives.
            if let Some(mut running) = in_flight.take() {
                let done = loop {
                    tokio::select! {
                        biased;
                        done = &mut running.commit => break done,
                        next = rx.recv(), if group.len() < MAX_GROUP => match next {
                            Some(next) => self.decide(&mut group, next, at, Some(&running.group.keys)).await,
                            None => break (&mut running.commit).await,
                        },
                    }
                };
                if !self.finish(running.group, done).await {
                    // Decided against the failed group's state, which `finish` has discarded.
                    for (reply, _) in group.waiting {
                        let _ = reply.send(Err(AppError::Unavailable("an earlier group commit failed".into())));
                    }
                    continue;
                }
            }
            if self.options.check_invariants
                && let Err(violations) = invariants::check(&self.ledger)
            {
                panic!("invariant violated after a group was decided: {violations:?}");
            }
            if group.commit.entries.is_empty() {
                // Nothing to write (refusals and earlier results): everything it rests on is durable.
                Self::answer(group);
                continue;
            }
            if group.commit.entries.iter().any(|e| matches!(e.entry.event, furrow_domain::Event::Lifecycle(_))) {
                group.lifecycle = Some(Arc::new(self.ledger.lifecycle().clone()));
            }
            group.status = Some(Arc::new(StatusSnapshot::of(&self.ledger, self.next_index)));
            let store = self.store.clone();
            let commit = Arc::new(std::mem::take(&mut group.commit));
            let entries = commit.entries.len();
            let task = tokio::spawn(async move {
                let result = store.commit(commit).await;
                if let Err(e) = &result {
                    tracing::error!(error = %e, entries, "group commit failed; reloading state");
                }
                result
            });
            in_flight = Some(InFlight { group, commit: task });
        }
        if let Some(running) = in_flight.take() {
            let done = running.commit.await;
            self.finish(running.group, done).await;
        }
    }

    fn timestamp(&mut self) -> Timestamp {
        // Log timestamps never go backwards, even if the wall clock does.
        let now = self.clock.now().max(self.last_timestamp);
        self.last_timestamp = now;
        now
    }

    /// Decides one submission against the ledger as the commands before it left it, adding its
    /// entries and its answer to `group`. `previous` holds the keys of the group being committed.
    async fn decide(&mut self, group: &mut Group, submission: Submission, at: Timestamp, previous: Option<&GroupKeys>) {
        if let Some(key) = &submission.idempotency {
            match self.earlier_result(key, submission.looked_up_at, &group.keys, previous).await {
                Ok(None) => {}
                Ok(Some(found)) => {
                    group.waiting.push((submission.reply, found));
                    return;
                }
                Err(e) => {
                    let _ = submission.reply.send(Err(e));
                    return;
                }
            }
        }
        let events = match self.ledger.decide_at(&submission.command, at) {
            Ok(events) => events,
            Err(refusal) => {
                // Refused: nothing is written, and the rest of the group goes on. The answer
                // waits for the commit, because the refusal may rest on an earlier command
                // of this group or of the one being committed; if a commit fails, the caller
                // hears 503, not a 409.
                group.waiting.push((submission.reply, Pending::Refused(refusal.into())));
                return;
            }
        };
        let first_index = self.next_index;
        let mut entries = Vec::with_capacity(events.len());
        for event in events {
            let effects = self.ledger.apply(&event, at);
            let entry = LogEntry { index: self.next_index, timestamp: at, actor: submission.actor.clone(), event };
            let bytes = entry.encode();
            let leaf_hash = furrow_tlog::leaf_hash(&bytes);
            let private = entry.private_payload();
            entries.push(entry.clone());
            group.commit.entries.push(EntryToCommit { entry, bytes, leaf_hash, effects, private });
            self.next_index += 1;
        }
        let outcome = Outcome { first_index, count: self.next_index - first_index };
        if let Some(key) = submission.idempotency {
            group.keys.insert((key.scope.clone(), key.key.clone()), (group.waiting.len(), key.request_hash, outcome));
            group.commit.idempotency.push(IdempotencyRecord {
                scope: key.scope,
                key: key.key,
                request_hash: key.request_hash,
                outcome: outcome.to_record(),
                created_at: at,
            });
        }
        group.waiting.push((submission.reply, Pending::Committed(entries)));
    }

    /// Ends a group's commit: on success, publishes what it changed and answers its callers; on
    /// failure, reloads the state from the database and tells every caller 503. Returns whether
    /// the commit succeeded.
    async fn finish(
        &mut self,
        group: Group,
        done: Result<Result<(), furrow_store::StoreError>, tokio::task::JoinError>,
    ) -> bool {
        let failure = match done {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(AppError::from(e).to_string()),
            Err(e) => {
                tracing::error!(error = %e, "the group commit task ended without an answer; reloading state");
                Some(format!("the commit did not finish: {e}"))
            }
        };
        if let Some(error) = failure {
            // Reload before answering: a caller that retries at once must be authorized against
            // the reloaded lifecycle snapshot, not race the reload (the simulator's replays
            // depended on which came first).
            self.reload().await;
            for (reply, _) in group.waiting {
                let _ = reply.send(Err(AppError::Unavailable(error.clone())));
            }
            return false;
        }
        self.recent.committed(group.keys.iter().map(|(name, (_, hash, outcome))| (name.clone(), *hash, *outcome)));
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.wake.notify_one();
        }
        if let Some(lifecycle) = &group.lifecycle {
            self.lifecycle.send_replace(lifecycle.clone());
        }
        if let Some(status) = &group.status {
            self.status.send_replace(status.clone());
        }
        Self::answer(group);
        true
    }

    /// Answers every caller of a group whose writes, if any, are durable.
    fn answer(group: Group) {
        // Only a repeated idempotency key within the group needs a copy of another reply.
        let repeated = group.waiting.iter().any(|(_, p)| matches!(p, Pending::SameAs(_)));
        let committed: Vec<Option<Vec<LogEntry>>> = group
            .waiting
            .iter()
            .map(|(_, p)| match p {
                Pending::Committed(entries) if repeated => Some(entries.clone()),
                _ => None,
            })
            .collect();
        for (reply, pending) in group.waiting {
            let answer = match pending {
                Pending::Committed(entries) => Ok(Reply::Fresh(entries)),
                Pending::SameAs(i) => {
                    Ok(Reply::Fresh(committed[i].clone().expect("a key refers to a committed command")))
                }
                Pending::Earlier(outcome) => Ok(Reply::Earlier(outcome)),
                Pending::Refused(error) => Err(error),
            };
            let _ = reply.send(answer);
        }
    }

    /// The earlier result for an idempotency key: from this group, from the group being
    /// committed (`previous`; answered after it is durable, like everything of this group), or
    /// from the database.
    async fn earlier_result(
        &self,
        key: &RequestKey,
        looked_up_at: Option<u64>,
        in_group: &GroupKeys,
        previous: Option<&GroupKeys>,
    ) -> Result<Option<Pending>, AppError> {
        let name = (key.scope.clone(), key.key.clone());
        if let Some((position, hash, _)) = in_group.get(&name) {
            return if *hash == key.request_hash {
                Ok(Some(Pending::SameAs(*position)))
            } else {
                Err(AppError::IdempotencyMismatch)
            };
        }
        if let Some((_, hash, outcome)) = previous.and_then(|keys| keys.get(&name)) {
            return if *hash == key.request_hash {
                Ok(Some(Pending::Earlier(*outcome)))
            } else {
                Err(AppError::IdempotencyMismatch)
            };
        }
        if let Some(found) = looked_up_at.and_then(|mark| self.recent.check(&name, mark)) {
            return match found {
                None => Ok(None),
                Some((hash, outcome)) if hash == key.request_hash => Ok(Some(Pending::Earlier(outcome))),
                Some(_) => Err(AppError::IdempotencyMismatch),
            };
        }
        match self.store.find_idempotent(&key.scope, &key.key).await? {
            None => Ok(None),
            Some(record) if record.request_hash != key.request_hash => Err(AppError::IdempotencyMismatch),
            Some(record) => Outcome::from_record(&record.outcome).map(|o| Some(Pending::Earlier(o))),
        }
    }

    fn publish_lifecycle(&self) {
        self.lifecycle.send_replace(Arc::new(self.ledger.lifecycle().clone()));
    }

    fn publish_status(&self) {
        self.status.send_replace(Arc::new(StatusSnapshot::of(&self.ledger, self.next_index)));
    }

    /// Replaces the in-memory state with the database's. Until that succeeds the sequencer
    /// refuses every command rather than decide against a state the database does not have.
    async fn reload(&mut self) {
        // The failed group's keys may be in the database or not: only a fresh lookup can tell.
        self.recent.forget();
        match (self.store.load_ledger().await, self.store.log_size().await) {
            (Ok(ledger), Ok(size)) => {
                self.ledger = ledger;
                self.next_index = size;
                self.in_sync = true;
                self.publish_lifecycle();
                self.publish_status();
            }
            (Err(e), _) | (_, Err(e)) => {
                tracing::error!(error = %e, "reloading the ledger failed; will retry with the next command");
                self.in_sync = injected::keep_state_after_failed_reload();
            }
        }
    }
}

/// A deliberate bug the simulator must catch (`a_sequencer_trusting_a_failed_reload_is_caught`
/// in `app/tests/simulation.rs`). Off unless a test turns it on, on its own thread.
pub mod injected {
    use std::cell::Cell;

    thread_local! {
        static KEEP_STATE_AFTER_FAILED_RELOAD: Cell<bool> = const { Cell::new(false) };
    }

    /// Makes the sequencer carry on with its in-memory state when the reload after a failed
    /// commit fails, as if the state had not changed: it then holds the failed group's effects.
    pub fn set_keep_state_after_failed_reload(on: bool) {
        KEEP_STATE_AFTER_FAILED_RELOAD.with(|bug| bug.set(on));
    }

    pub(crate) fn keep_state_after_failed_reload() -> bool {
        KEEP_STATE_AFTER_FAILED_RELOAD.with(Cell::get)
    }
}
