//! A synthetic registry at Verra's scale, deterministic from a seed: projects, batches, accounts
//! and a history of transfers and retirements, written as real canonical log entries with their
//! projections and a signed checkpoint, so `furrow verify --data-dir` accepts it.
//!
//! It decides every command with the domain's own `Ledger` (exactly as the sequencer does) and
//! writes through the store's group commit in large groups, skipping the sequencer's queue: that
//! is the only shortcut, and it changes nothing in what is stored.
//!
//! Two ways to write the same entries ([`Load`]): through `Store::commit` as the server would
//! (each group also rewrites the blocks its transfers split), or as a bulk load that appends the
//! log and its append-only projections with the random-order indexes dropped, and writes the
//! final blocks once from the ledger (`SqliteStore::begin_bulk_load`). Both give the same
//! database (`both_loads_write_the_same_database`); the bulk load is the one the bench uses,
//! because the other slowed to about 1 400 entries/s past 3.6 M entries.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use furrow_app::store::{CommitGroup, EntryToCommit, Store};
use furrow_app::{Clock, transparency};
use furrow_domain::*;
use furrow_store_sqlite::SqliteStore;

use super::stats::Rng;

/// How big a dataset to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    pub projects: u64,
    pub batches: u64,
    pub accounts: u64,
    /// Transfers and retirements (one log entry each).
    pub transactions: u64,
}

impl Scale {
    /// Verra's registry in round numbers (research note §3): 10⁴ projects, 10⁵ batches,
    /// 10⁶ transactions.
    pub const VERRA: Scale = Scale { projects: 10_000, batches: 100_000, accounts: 10_000, transactions: 1_000_000 };
    /// `--large`: ten million transactions (about 10⁷ log entries).
    pub const LARGE: Scale = Scale { projects: 10_000, batches: 100_000, accounts: 100_000, transactions: 10_000_000 };

    /// A dataset with about `entries` log entries, in Verra's proportions.
    pub fn with_entries(entries: u64) -> Scale {
        let transactions = (entries * 10 / 12).max(10);
        Scale {
            projects: (transactions / 100).max(1),
            batches: (transactions / 10).max(1),
            accounts: (transactions / 100).max(2),
            transactions,
        }
    }

    pub fn entries(&self) -> u64 {
        2 + self.accounts + self.batches + self.transactions
    }
}

/// What was generated; also written to `bench-dataset.json` in the directory.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub seed: u64,
    pub scale: Scale,
    pub log_size: u64,
    /// Serials run from 1 to this.
    pub max_serial: u64,
    pub blocks: u64,
    pub seconds: f64,
    pub vkey: String,
    /// The signed tree's root, hex: equal seeds and scales give equal roots.
    pub root: String,
}

impl Dataset {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "seed": self.seed,
            "projects": self.scale.projects,
            "batches": self.scale.batches,
            "accounts": self.scale.accounts,
            "transactions": self.scale.transactions,
            "log_size": self.log_size,
            "max_serial": self.max_serial,
            "blocks": self.blocks,
            "seconds": self.seconds,
            "vkey": self.vkey,
            "root": self.root,
        })
    }
}

impl Dataset {
    /// The dataset described by `dir/bench-dataset.json`, if it was generated completely with
    /// this seed and scale (the file is written last).
    pub fn read(dir: &Path, seed: u64, scale: Scale) -> Option<Dataset> {
        let text = std::fs::read_to_string(dir.join("bench-dataset.json")).ok()?;
        let v: serde_json::Value = serde_json::from_str(&text).ok()?;
        let n = |k: &str| v[k].as_u64();
        let stored = Scale {
            projects: n("projects")?,
            batches: n("batches")?,
            accounts: n("accounts")?,
            transactions: n("transactions")?,
        };
        (n("seed")? == seed && stored == scale).then_some(())?;
        Some(Dataset {
            seed,
            scale,
            log_size: n("log_size")?,
            max_serial: n("max_serial")?,
            blocks: n("blocks")?,
            seconds: v["seconds"].as_f64()?,
            vkey: v["vkey"].as_str()?.to_owned(),
            root: v["root"].as_str()?.to_owned(),
        })
    }
}

/// A clock that advances one millisecond per reading from a fixed start: deterministic timestamps.
struct FixedClock(std::sync::atomic::AtomicI64);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.fetch_add(1_000, std::sync::atomic::Ordering::Relaxed))
    }
}

/// 2025-01-01T00:00:00Z in microseconds.
const START: i64 = 1_735_689_600_000_000;
/// Entries per group commit through `Store::commit`.
const GROUP: usize = 20_000;
/// Entries per transaction of a bulk load: larger, since no group rewrites blocks or touches a
/// random index, so a transaction costs what its rows cost (and one fsync).
const BULK_GROUP: usize = 100_000;

/// How the generator writes what it decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Load {
    /// `Store::commit` per group, projections and indexes kept current as the server does.
    Commit,
    /// Append-only with the random-order indexes dropped; the final blocks and the indexes are
    /// written at the end.
    Bulk,
}
/// The writer's page cache while generating: the indexes of a 10⁷-entry log are gigabytes, and
/// every page the cache lacks is read back while inserting.
const BULK_CACHE_MIB: u32 = 2_048;

/// Writes the dataset into `dir` (which must not hold a registry yet): `furrow.db`, the log's
/// signing key `log-signing.key`, and `bench-dataset.json`. `progress` is told the entries written.
pub async fn generate(dir: &Path, seed: u64, scale: Scale, progress: &dyn Fn(u64, u64)) -> Result<Dataset> {
    generate_with(dir, seed, scale, Load::Bulk, progress).await
}

/// [`generate`], written the way `load` says.
pub async fn generate_with(
    dir: &Path,
    seed: u64,
    scale: Scale,
    load: Load,
    progress: &dyn Fn(u64, u64),
) -> Result<Dataset> {
    let started = Instant::now();
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let db = crate::database_path(dir);
    if db.exists() {
        bail!("{} already holds a registry; generate into an empty directory", dir.display());
    }
    // Another size is another log, with another key: a witness that saw one never confuses it
    // with the other.
    let mut rng = Rng::new(seed ^ scale.entries().rotate_left(32));
    let mut key_seed = [0u8; 32];
    for chunk in key_seed.chunks_mut(8) {
        chunk.copy_from_slice(&rng.next_u64().to_le_bytes());
    }
    let origin = "gen.furrow/log";
    let signer = furrow_tlog::note::Ed25519Signer::from_seed(origin, &key_seed)
        .map_err(|e| anyhow::anyhow!("signing key: {e}"))?;
    let vkey = signer.vkey();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(crate::keys::key_path(dir))
        .context("cannot create the signing key file")?;
    writeln!(file, "{}", signer.to_skey())?;

    let sqlite = Arc::new(SqliteStore::open_for_bulk_load(&db, BULK_CACHE_MIB).await?);
    let store: Arc<dyn Store> = sqlite.clone();
    let bulk = match load {
        Load::Commit => None,
        Load::Bulk => Some(sqlite.begin_bulk_load().await?),
    };
    let clock = FixedClock(START.into());
    let mut writer = Writer {
        store: store.clone(),
        ledger: Ledger::new(),
        group: CommitGroup::default(),
        group_size: if bulk.is_some() { BULK_GROUP } else { GROUP },
        keep_blocks: bulk.is_none(),
        next: 0,
        writing: None,
    };
    let total = scale.entries();

    writer.run(genesis_command(), &clock).await?;
    writer.run(Command::PublishLogKey { vkey: vkey.clone() }, &clock).await?;
    let mut accounts = Vec::with_capacity(scale.accounts as usize);
    for i in 0..scale.accounts {
        let kind = if i % 4 == 0 { AccountKind::Participant } else { AccountKind::Buyer };
        let events = writer.run(Command::OpenAccount { kind, name: format!("Account {i}") }, &clock).await?;
        if let Some(Event::AccountOpened { account }) = events.first() {
            accounts.push(account.id);
        }
        progress(writer.next, total);
    }
    let mut max_serial = 0;
    for i in 0..scale.batches {
        let issue = IssueCommand {
            project: ProjectCode(1 + rng.below(scale.projects)),
            country: None,
            vintage: Vintage::new(2015 + (rng.below(11) as u16)).context("vintage")?,
            quantity: Quantity(100 + rng.below(20_000)),
            buffer: Quantity(if i % 5 == 0 { 10 + rng.below(500) } else { 0 }),
            to: accounts[rng.below(accounts.len() as u64) as usize],
            labels: vec![],
        };
        for event in writer.run(Command::Issue(issue), &clock).await? {
            if let Event::BatchIssued(batch) = event {
                max_serial = max_serial.max(batch.serials.end());
            }
        }
        if i % 1024 == 0 {
            progress(writer.next, total);
        }
    }
    let mut done = 0;
    let mut refused = 0u64;
    while done < scale.transactions {
        let from = accounts[rng.below(accounts.len() as u64) as usize];
        let quantity = Quantity(1 + rng.below(50));
        let selection = Selection::Quantity { quantity, batch: None };
        let command = if rng.below(5) == 0 {
            Command::Retire { from, selection, claim: sim::claim(rng.next_u64()) }
        } else {
            let to = accounts[rng.below(accounts.len() as u64) as usize];
            if to == from {
                continue;
            }
            Command::Transfer { from, to, selection }
        };
        match writer.try_run(&command, &clock).await? {
            true => done += 1,
            false => {
                refused += 1;
                if refused > scale.transactions + 1000 {
                    bail!("too many refused commands: the generator's accounts ran dry");
                }
            }
        }
        if done % 4096 == 0 {
            progress(writer.next, total);
        }
    }
    writer.flush().await?;
    writer.written().await?;
    let appended = started.elapsed().as_secs_f64();
    if let Some(bulk) = bulk {
        sqlite.finish_bulk_load(bulk, writer.ledger.blocks()).await.context("cannot finish the bulk load")?;
    }
    let finished = started.elapsed().as_secs_f64();
    progress(writer.next, total);

    // Sign the log: the tree over every entry, and one checkpoint (in rounds, as the server would).
    let log = transparency::log_options(signer);
    while transparency::extend_once(store.as_ref(), &clock, &log.signer.clone()).await? {}
    // Where the time went (`FURROW_LOG=furrow=debug`): the bench's write-up quotes the phases.
    tracing::debug!(
        entries = writer.next,
        appended_s = appended,
        blocks_and_indexes_s = finished - appended,
        signed_s = started.elapsed().as_secs_f64() - finished,
        "generated"
    );
    let blocks = writer.ledger.blocks().count() as u64;
    let log_size = store.log_size().await?;
    let root = store.latest_checkpoint().await?.map(|c| hex::encode(c.root)).unwrap_or_default();
    store.close().await;
    let dataset =
        Dataset { seed, scale, log_size, max_serial, blocks, seconds: started.elapsed().as_secs_f64(), vkey, root };
    std::fs::write(dir.join("bench-dataset.json"), serde_json::to_string_pretty(&dataset.to_json())?)?;
    Ok(dataset)
}

fn genesis_command() -> Command {
    Command::InitialiseProgram {
        code: "GEN".parse().expect("valid code"),
        country: "JP".parse().expect("valid country"),
        name: "Synthetic benchmark program".into(),
    }
}

/// The sequencer's loop without its queue: decide, apply, encode, hash, and commit in groups.
/// One group is written while the next is decided (two cores: the database's thread and ours);
/// groups still commit one after another, in order.
struct Writer {
    store: Arc<dyn Store>,
    ledger: Ledger,
    group: CommitGroup,
    /// Entries per commit.
    group_size: usize,
    /// Whether entries carry their block changes (`Load::Commit`); a bulk load writes the
    /// ledger's final blocks at the end instead.
    keep_blocks: bool,
    next: u64,
    /// The group being committed, if one is.
    writing: Option<tokio::task::JoinHandle<Result<(), furrow_app::store::StoreError>>>,
}

impl Writer {
    async fn run(&mut self, command: Command, clock: &dyn Clock) -> Result<Vec<Event>> {
        let events = self.ledger.decide(&command).map_err(|e| anyhow::anyhow!("{}: {e}", command.name()))?;
        self.append(events.clone(), clock).await?;
        Ok(events)
    }

    /// Runs a command the ledger may refuse (not enough credits); says whether it was accepted.
    async fn try_run(&mut self, command: &Command, clock: &dyn Clock) -> Result<bool> {
        match self.ledger.decide(command) {
            Ok(events) => {
                self.append(events, clock).await?;
                Ok(true)
            }
            Err(_) => Ok(false),
        }
    }

    async fn append(&mut self, events: Vec<Event>, clock: &dyn Clock) -> Result<()> {
        let at = clock.now();
        for event in events {
            let mut effects = self.ledger.apply(&event, at);
            if !self.keep_blocks {
                effects.blocks = Vec::new();
            }
            // The synthetic history is the program's own: verify accepts its direct issuances.
            let actor = furrow_domain::invariants::SYSTEM_ACTOR.into();
            let entry = LogEntry { index: self.next, timestamp: at, actor, event };
            let bytes = entry.encode();
            let leaf_hash = furrow_tlog::leaf_hash(&bytes);
            let private = entry.private_payload();
            self.group.entries.push(EntryToCommit { entry, bytes, leaf_hash, effects, private });
            self.next += 1;
        }
        if self.group.entries.len() >= self.group_size {
            self.flush().await?;
        }
        Ok(())
    }

    /// Starts committing the group, after the one before it has committed.
    async fn flush(&mut self) -> Result<()> {
        self.written().await?;
        if !self.group.entries.is_empty() {
            let (store, group) = (self.store.clone(), Arc::new(std::mem::take(&mut self.group)));
            self.writing = Some(tokio::spawn(async move { store.commit(group).await }));
        }
        Ok(())
    }

    /// Waits for the group being committed.
    async fn written(&mut self) -> Result<()> {
        if let Some(writing) = self.writing.take() {
            writing.await.context("the commit task failed")??;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row of every table (sorted, as SQL literals) and the schema, except the migrator's
    /// own bookkeeping (which records when it ran).
    async fn dump(db: &Path) -> Vec<(String, Vec<String>)> {
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(db).read_only(true);
        let pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect_with(options).await.expect("open");
        let mut schema: Vec<(String, String, String, Option<String>)> =
            sqlx::query_as("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
                .fetch_all(&pool)
                .await
                .expect("schema");
        schema.sort();
        let mut out = vec![("schema".to_owned(), schema.iter().map(|row| format!("{row:?}")).collect())];
        for (kind, table, _, _) in &schema {
            if kind != "table" || table == "_sqlx_migrations" {
                continue;
            }
            let columns: Vec<String> =
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT name FROM pragma_table_info('{table}')")))
                    .fetch_all(&pool)
                    .await
                    .expect("columns");
            let row = columns.iter().map(|c| format!("quote({c})")).collect::<Vec<_>>().join(" || ',' || ");
            let mut rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT {row} FROM {table}")))
                .fetch_all(&pool)
                .await
                .expect("rows");
            rows.sort();
            out.push((table.clone(), rows));
        }
        pool.close().await;
        out
    }

    #[tokio::test]
    async fn both_loads_write_the_same_database() {
        let root = tempfile::tempdir().expect("tempdir");
        let scale = Scale::with_entries(3_000);
        let commit = generate_with(&root.path().join("commit"), 11, scale, Load::Commit, &|_, _| {})
            .await
            .expect("generate through Store::commit");
        let bulk = generate_with(&root.path().join("bulk"), 11, scale, Load::Bulk, &|_, _| {})
            .await
            .expect("generate as a bulk load");
        assert_eq!((bulk.log_size, bulk.blocks, &bulk.root), (commit.log_size, commit.blocks, &commit.root));
        // Transfers split blocks many times over: the projection the bulk load writes once is
        // the end of a long history, not the issued blocks.
        assert!(commit.blocks > scale.batches * 2, "{} blocks from {} batches", commit.blocks, scale.batches);

        let (commit_db, bulk_db) =
            (crate::database_path(&root.path().join("commit")), crate::database_path(&root.path().join("bulk")));
        let (expected, got) = (dump(&commit_db).await, dump(&bulk_db).await);
        assert_eq!(got.iter().map(|(t, _)| t).collect::<Vec<_>>(), expected.iter().map(|(t, _)| t).collect::<Vec<_>>());
        for ((table, want), (_, have)) in expected.iter().zip(&got) {
            assert!(
                have == want,
                "{table} differs: {} rows via the bulk load, {} via Store::commit",
                have.len(),
                want.len()
            );
        }
        let log = expected.iter().find(|(t, _)| t == "log_entries").expect("log_entries");
        assert_eq!(log.1.len() as u64, commit.log_size);

        // The server opens it as it is: the migrations are current and every index is sound.
        let store = SqliteStore::open(&bulk_db).await.expect("open the bulk-loaded database");
        store.integrity_check().await.expect("integrity");
        let ledger = store.load_ledger().await.expect("load the ledger");
        assert_eq!(ledger.blocks().count() as u64, bulk.blocks);
        store.close().await;
    }
}
