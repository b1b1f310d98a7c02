//! `furrow sim`: runs the deterministic simulator (`furrow_app::simulation`) over many seeds, on
//! the in-memory store (`furrow-store-memory`, the default: several times faster) or on SQLite
//! (each seed on a fresh copy of one migrated database), several at a time. A failing seed is
//! printed with the one line that reproduces it; `--seed` runs one seed twice and shows that both
//! runs wrote the same log, byte for byte.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use furrow_app::simulation::{SimOptions, SimReport, run_seed};
use furrow_store_memory::MemoryStore;
use furrow_store_sqlite::SqliteStore;
use indicatif::{ProgressBar, ProgressStyle};

pub const AFTER_HELP: &str = "Examples:\n  furrow sim --seeds 10000              # seeds 0..10000, 40 commands each\n  \
furrow sim --seeds 500 --from 7000 --steps 200 --faults 0.3\n  \
furrow sim --seed 7123 --steps 200    # one seed, twice: the two logs must be identical\n  \
furrow sim --seeds 2000 --store sqlite # the same on SQLite databases in /dev/shm\n  \
furrow sim --seeds 1000 --clients 4   # up to four clients' commands in flight at once\n\n\
Each seed runs random commands (valid and invalid, every kind) through the real application layer on \
the in-memory store or SQLite, with a simulated clock, and fails a share of commits on purpose, before or after writing, and a share of reads. \
The checkpointer signs the log now and then through the same faults. \
The invariants are checked after every command; the database and the replayed log must equal the \
model at the end. Exit status 1 if any seed fails.";

#[derive(Args)]
pub struct SimArgs {
    /// How many seeds to run.
    #[arg(long, default_value_t = 1000, conflicts_with = "seed")]
    seeds: u64,
    /// The first seed.
    #[arg(long, default_value_t = 0)]
    from: u64,
    /// Run only this seed (twice, comparing the two logs).
    #[arg(long)]
    seed: Option<u64>,
    /// Commands per seed after the program is set up.
    #[arg(long, default_value_t = 40)]
    steps: usize,
    /// Share of commits that fail on purpose (0 to 1).
    #[arg(long, default_value_t = 0.1)]
    faults: f64,
    /// Share of reads that fail on purpose (0 to 1): idempotency look-ups, reloads, replays and
    /// the checkpointer's reads.
    #[arg(long, default_value_t = 0.05)]
    read_faults: f64,
    /// Seeds run at once.
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    /// Where the databases go with `--store sqlite` (default: a temporary directory in memory,
    /// /dev/shm, if there is one).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// The store the seeds run on.
    #[arg(long, value_enum, default_value_t = SimStore::Memory)]
    store: SimStore,
    /// Simulated clients with commands in flight at once, grouped by the sequencer as the seed
    /// says (in memory only: SQLite's I/O timing would decide the groups, and a seed would no
    /// longer replay bit for bit).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    clients: u16,
}

/// The stores a simulation can run on. The in-memory one exists for the simulator (and tests):
/// `furrow serve` does not offer it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SimStore {
    Memory,
    Sqlite,
}

pub async fn run(args: SimArgs) -> Result<()> {
    if args.clients > 1 && args.store == SimStore::Sqlite {
        bail!("--clients above 1 runs in memory only: on SQLite, I/O timing would decide the groups");
    }
    let clients = usize::from(args.clients);
    let options = SimOptions {
        steps: args.steps,
        fault_rate: args.faults,
        lying_store: false,
        clients,
        torn_groups: false,
        read_fault_rate: args.read_faults,
    };
    let sqlite = match args.store {
        SimStore::Memory => None,
        SimStore::Sqlite => {
            let scratch = scratch_dir(args.dir.as_deref())?;
            let template = scratch.path().join("template.db");
            let migrated = SqliteStore::open(&template).await.context("create the template database")?;
            furrow_app::store::Store::close(&migrated).await;
            Some(SqliteFiles { template, dir: scratch.path().to_owned(), _scratch: scratch })
        }
    };
    let runner = Arc::new(Runner { sqlite, options });
    match args.seed {
        Some(seed) => replay_one(&runner, seed, &args).await,
        None => run_many(runner, &args).await,
    }
}

async fn replay_one(runner: &Runner, seed: u64, args: &SimArgs) -> Result<()> {
    let first = runner.seed(seed).await.map_err(|e| anyhow::anyhow!("seed {seed} failed: {e}"))?;
    let second = runner.seed(seed).await.map_err(|e| anyhow::anyhow!("seed {seed} failed on the rerun: {e}"))?;
    print_report(&first);
    if first != second {
        bail!("seed {seed} did not replay bit for bit: {second:?}; reproduce with: {}", repro(seed, args));
    }
    println!(
        "Replayed: both runs wrote the same {} log entries (log hash {}).",
        first.log_size,
        hex::encode(first.log_hash)
    );
    Ok(())
}

async fn run_many(runner: Arc<Runner>, args: &SimArgs) -> Result<()> {
    let bar = ProgressBar::new(args.seeds);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} seeds  {per_sec}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let seeds: Vec<u64> = (args.from..args.from + args.seeds).collect();
    let mut totals = Totals::default();
    let mut failures = Vec::new();
    for chunk in seeds.chunks(args.jobs.max(1)) {
        let tasks: Vec<_> = chunk
            .iter()
            .map(|&seed| {
                let runner = runner.clone();
                tokio::spawn(async move { (seed, runner.seed(seed).await) })
            })
            .collect();
        for task in tasks {
            match task.await.context("a seed's task panicked")? {
                (_, Ok(report)) => totals.add(&report),
                (seed, Err(e)) => {
                    bar.println(format!("seed {seed} FAILED: {e}\n  reproduce: {}", repro(seed, args)));
                    failures.push(seed);
                }
            }
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    println!(
        "{} seeds × {} commands on {} ({} at once at most): {} committed, {} refused, {} commits failed on purpose ({} after writing), \
         {} reads failed on purpose, {} checkpoints signed, {} sales settled ({} forfeiting a withdrawn farmer's share) and {} released, {} groups shared by \
         clients, {} seeds failed.",
        args.seeds,
        args.steps,
        args.store.name(),
        args.clients,
        totals.committed,
        totals.refused,
        totals.clean_faults + totals.ambiguous_faults,
        totals.ambiguous_faults,
        totals.read_faults,
        totals.checkpoints,
        totals.sales_settled,
        totals.sales_forfeited,
        totals.sales_released,
        totals.shared_groups,
        failures.len()
    );
    if !failures.is_empty() {
        bail!("failing seeds: {failures:?}");
    }
    Ok(())
}

fn repro(seed: u64, args: &SimArgs) -> String {
    format!(
        "furrow sim --seed {seed} --steps {} --faults {} --read-faults {} --store {} --clients {}",
        args.steps,
        args.faults,
        args.read_faults,
        args.store.name(),
        args.clients
    )
}

impl SimStore {
    fn name(self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::Sqlite => "sqlite",
        }
    }
}

fn print_report(report: &SimReport) {
    println!(
        "Seed {}: {} committed, {} refused, {} clean and {} ambiguous commit failures, {} read failures, {} log entries, {} \
         checkpoints, {} sales settled ({} forfeiting) and {} released.",
        report.seed,
        report.committed,
        report.refused,
        report.clean_faults,
        report.ambiguous_faults,
        report.read_faults,
        report.log_size,
        report.checkpoints,
        report.sales_settled,
        report.sales_forfeited,
        report.sales_released
    );
}

#[derive(Default)]
struct Totals {
    committed: u64,
    refused: u64,
    clean_faults: u64,
    ambiguous_faults: u64,
    read_faults: u64,
    checkpoints: u64,
    sales_settled: u64,
    sales_released: u64,
    sales_forfeited: u64,
    shared_groups: u64,
}

impl Totals {
    fn add(&mut self, report: &SimReport) {
        self.committed += report.committed;
        self.refused += report.refused;
        self.clean_faults += report.clean_faults;
        self.ambiguous_faults += report.ambiguous_faults;
        self.read_faults += report.read_faults;
        self.checkpoints += report.checkpoints;
        self.sales_settled += report.sales_settled;
        self.sales_released += report.sales_released;
        self.sales_forfeited += report.sales_forfeited;
        self.shared_groups += report.shared_groups;
    }
}

/// Runs seeds, each on a fresh in-memory store or its own copy of the migrated SQLite template.
struct Runner {
    sqlite: Option<SqliteFiles>,
    options: SimOptions,
}

/// The migrated template every SQLite seed copies, in a scratch directory removed at the end.
struct SqliteFiles {
    template: PathBuf,
    dir: PathBuf,
    _scratch: tempfile::TempDir,
}

impl Runner {
    async fn seed(&self, seed: u64) -> Result<SimReport, String> {
        let Some(files) = &self.sqlite else {
            // A runtime of its own, on one thread: the seed alone decides how concurrent
            // clients interleave (see `run_seed`), whatever else runs in this process.
            let options = self.options;
            let run = move || {
                let runtime = tokio::runtime::Builder::new_current_thread().build().map_err(|e| e.to_string())?;
                runtime.block_on(run_seed(seed, Arc::new(MemoryStore::new()), options))
            };
            return tokio::task::spawn_blocking(run).await.map_err(|e| format!("the seed's thread failed: {e}"))?;
        };
        let path = files.dir.join(format!("seed-{seed}.db"));
        std::fs::copy(&files.template, &path).map_err(|e| format!("copy the template: {e}"))?;
        let store = Arc::new(SqliteStore::open(&path).await.map_err(|e| e.to_string())?);
        let report = run_seed(seed, store.clone(), self.options).await;
        furrow_app::store::Store::close(store.as_ref()).await;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        report
    }
}

fn scratch_dir(dir: Option<&Path>) -> Result<tempfile::TempDir> {
    let parent = match dir {
        Some(dir) => dir.to_owned(),
        None if Path::new("/dev/shm").is_dir() => PathBuf::from("/dev/shm"),
        None => std::env::temp_dir(),
    };
    std::fs::create_dir_all(&parent)?;
    tempfile::Builder::new().prefix("furrow-sim-").tempdir_in(&parent).context("create a scratch directory")
}
