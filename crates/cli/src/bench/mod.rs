//! `furrow bench`: Furrow's figures next to baselines measured in the same invocation on the same
//! machine, and the ratios between them (SPEC §10, research note §5–6). Absolute numbers on a
//! shared 2-core VM swing by 4× between runs a few minutes apart; ratios to a baseline measured
//! in the same round do not. Every round runs the baselines, then the workloads, then the
//! baselines again (A/B/A), and the table shows the median and min–max over the rounds.

mod generate;
mod probes;
pub mod stats;
mod workloads;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};

pub use generate::Scale;
use stats::{Spread, percentile};
use workloads::{Mix, Pick};

pub const LONG_ABOUT: &str = "\
Measure Furrow against baselines run in the same invocation, and print the ratios.

A number like \"4,000 retirements/s\" means little on a shared VM whose disk does 300 fsyncs/s one
minute and 1,200 the next. So every round measures the baselines (the disk's fsync rate, raw
SQLite inserts with Furrow's settings, raw SHA-256, a static file server, and pgbench when
--database-url is given), then Furrow's workloads, then the baselines again, and reports
Furrow's figure divided by the baseline. The table shows the median and the min–max over the
rounds: a wide min–max means the machine was noisy, not that Furrow was.

Workloads (through the application layer, `Registry::execute`: the sequencer, the domain and
the durable group commit; HTTP is measured separately as page requests/s and as the 64-client
write loop once more through the real server):
durable transfers and retirements at 1, 64 and 256 closed-loop clients; one hot account vs.
uniform vs. Zipf(1.1) account choice; the log's checkpointer on vs. off; an open-loop run at
50 % of the measured maximum with p50/p99/p99.9 latency; inclusion and consistency proofs,
serial lookups and `furrow verify` on generated datasets; HTTP page requests/s; and the import
of the real registry exports in ../shared/data/real when they are there.

Debug builds are measured too (CI runs --quick on its debug build) but their numbers are not
comparable to BENCHMARKS.md, which holds a release build's default run.";

pub const AFTER_HELP: &str = "\
Examples:
  cargo run --release -p furrow -- bench --datasets ./bench-data   # default run; keeps the datasets
  furrow bench --quick --json bench.json                  # < 2 min, for CI and quick checks
  furrow bench --database-url postgres://postgres@127.0.0.1/test   # adds pgbench and PostgreSQL
  furrow bench --large                                    # 10 M-entry log, lookups, verify
  furrow bench generate --out ./verra-scale --seed 7      # the dataset alone; then:
  furrow verify --data-dir ./verra-scale

Modes: --smoke (seconds; checks the harness, numbers meaningless), --quick, default, --large.";

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: Option<BenchCmd>,
    /// Small sizes and short runs: under 2 minutes on 2 cores, still ≥ 3 rounds and every baseline.
    #[arg(long, conflicts_with_all = ["large", "smoke"])]
    quick: bool,
    /// The big sizes: a 10⁷-entry log for proofs, lookups and verify.
    #[arg(long, conflicts_with = "smoke")]
    large: bool,
    /// A few seconds: checks that every step runs and the output's shape. Numbers meaningless.
    #[arg(long)]
    smoke: bool,
    /// Also write the results as JSON here (to compare runs over time).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Where the scratch databases go; the fsync and SQLite baselines measure this directory's
    /// disk. A temporary directory is made inside it and removed afterwards.
    #[arg(long, value_name = "DIR", default_value = ".")]
    dir: PathBuf,
    /// A PostgreSQL server to measure too: pgbench TPC-B and Furrow's PostgreSQL backend, in a
    /// database of the bench's own (`furrow_bench_<pid>`), dropped afterwards.
    #[arg(long, value_name = "URL", env = "FURROW_BENCH_DATABASE_URL")]
    database_url: Option<String>,
    /// Rounds (at least 3).
    #[arg(long, value_parser = clap::value_parser!(u32).range(3..))]
    rounds: Option<u32>,
    /// Seconds per closed-loop workload run.
    #[arg(long)]
    seconds: Option<f64>,
    /// The real exports to import (skipped when missing).
    #[arg(long, value_name = "DIR", default_value = "../shared/data/real")]
    real_data: PathBuf,
    /// Keep the generated datasets here and reuse them in later runs (generating the default
    /// run's million-entry log takes minutes; it is the same every time for the same seed).
    #[arg(long, value_name = "DIR")]
    datasets: Option<PathBuf>,
    /// Seed of the generated datasets and the workloads' random choices.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(Subcommand)]
enum BenchCmd {
    /// Generate a synthetic registry at Verra's scale (10⁴ projects, 10⁵ batches, 10⁶
    /// transactions; --large: 10⁷), deterministic from the seed. `furrow verify` accepts it.
    #[command(
        after_help = "Example:\n  furrow bench generate --out ./verra-scale --seed 7\n  furrow verify --data-dir ./verra-scale"
    )]
    Generate(GenerateArgs),
    /// One closed-loop write workload on its own, for profiling it (e.g. under `perf record`):
    /// prints its ops/s and ack latency percentiles, nothing else.
    Workload(WorkloadArgs),
}

#[derive(Args)]
struct WorkloadArgs {
    /// Concurrent closed-loop clients.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Seconds to run.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Funded accounts the clients move credits between.
    #[arg(long, default_value_t = 1_000)]
    accounts: usize,
    /// Every operation from one hot account instead of uniformly chosen ones.
    #[arg(long)]
    hot: bool,
    /// Without the log's checkpointer.
    #[arg(long)]
    log_off: bool,
    /// Every operation with an Idempotency-Key of its own (as a client that retries sends it).
    #[arg(long)]
    idempotency_keys: bool,
    /// Where the scratch database goes.
    #[arg(long, value_name = "DIR", default_value = ".")]
    dir: PathBuf,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// An open loop instead: Poisson arrivals at this many operations per second, with the
    /// latency of each half second of arrivals (what the full bench runs at 50 % of its maximum).
    #[arg(long, value_name = "OPS")]
    open_rate: Option<f64>,
}

#[derive(Args)]
struct GenerateArgs {
    /// An empty (or new) directory for the registry.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// 10⁷ transactions instead of 10⁶.
    #[arg(long)]
    large: bool,
    /// About this many log entries instead, in Verra's proportions.
    #[arg(long, conflicts_with = "large")]
    entries: Option<u64>,
    /// Write every group through `Store::commit` as the server does, instead of the bulk load
    /// (same database, much slower past a few million entries): to compare the two.
    #[arg(long)]
    through_commit: bool,
}

/// Sizes and durations of one mode.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub mode: &'static str,
    pub rounds: usize,
    /// Seconds per closed-loop run.
    pub seconds: f64,
    /// Seconds per baseline probe.
    pub probe_seconds: f64,
    pub accounts: usize,
    pub clients: [usize; 3],
    /// Log entries of the small and the big dataset.
    pub small: Scale,
    pub big: Scale,
    pub proof_samples: usize,
    pub lookup_samples: usize,
    pub pgbench_scale: u32,
    pub import: bool,
}

impl Plan {
    fn quick() -> Plan {
        Plan {
            mode: "quick",
            rounds: 3,
            seconds: 1.0,
            probe_seconds: 0.5,
            accounts: 100,
            clients: [1, 64, 256],
            small: Scale::with_entries(10_000),
            big: Scale::with_entries(100_000),
            proof_samples: 500,
            lookup_samples: 500,
            pgbench_scale: 10,
            import: false,
        }
    }

    fn for_args(args: &BenchArgs) -> Plan {
        let mut plan = if args.smoke {
            Plan {
                mode: "smoke",
                rounds: 3,
                seconds: 0.2,
                probe_seconds: 0.1,
                accounts: 8,
                clients: [1, 8, 16],
                small: Scale::with_entries(300),
                big: Scale::with_entries(1_000),
                proof_samples: 50,
                lookup_samples: 50,
                pgbench_scale: 1,
                import: false,
            }
        } else if args.quick {
            Plan::quick()
        } else {
            Plan {
                mode: if args.large { "large" } else { "default" },
                rounds: 3,
                seconds: 4.0,
                probe_seconds: 1.5,
                accounts: 1_000,
                clients: [1, 64, 256],
                small: Scale::with_entries(10_000),
                big: if args.large { Scale::LARGE } else { Scale::VERRA },
                proof_samples: 2_000,
                lookup_samples: 2_000,
                pgbench_scale: 10,
                import: true,
            }
        };
        if let Some(r) = args.rounds {
            plan.rounds = r as usize;
        }
        if let Some(s) = args.seconds {
            plan.seconds = s;
        }
        plan
    }
}

pub async fn run(args: BenchArgs) -> Result<()> {
    match args.command {
        Some(BenchCmd::Generate(g)) => return run_generate(g).await,
        Some(BenchCmd::Workload(w)) => return run_workload(w).await,
        None => {}
    }
    let plan = Plan::for_args(&args);
    std::fs::create_dir_all(&args.dir).with_context(|| format!("cannot create {}", args.dir.display()))?;
    let scratch = tempfile::Builder::new().prefix("furrow-bench-").tempdir_in(&args.dir)?;
    let machine = probes::machine(scratch.path());
    let started = Instant::now();
    let debug = cfg!(debug_assertions);
    if debug {
        eprintln!("{}", DEBUG_WARNING);
    }
    eprintln!("furrow bench ({} mode, {} rounds) in {}", plan.mode, plan.rounds, scratch.path().display());

    let mut sheet = Sheet::default();
    let progress = steps_bar(&plan, args.database_url.is_some());
    let pg = match &args.database_url {
        Some(url) => {
            progress.set_message("PostgreSQL: creating the bench database and running pgbench -i");
            Some(probes::PgBench::setup(url, plan.pgbench_scale).await?)
        }
        None => None,
    };
    let result = measure(&plan, &args, scratch.path(), &mut sheet, pg.as_ref(), &progress).await;
    if let Some(pg) = pg {
        pg.teardown().await;
    }
    progress.finish_and_clear();
    result?;

    let elapsed = started.elapsed().as_secs_f64();
    let report = Report { plan: &plan, machine: &machine, sheet: &sheet, elapsed, pg: args.database_url.is_some() };
    print!("{}", report.table());
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report.json())?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    if debug {
        println!("{}", DEBUG_WARNING);
    }
    Ok(())
}

const DEBUG_WARNING: &str = "\
WARNING: this is a DEBUG build. Its numbers are not comparable to BENCHMARKS.md (a release build);
         it shows that the harness works. Measure with: cargo run --release -p furrow -- bench";

fn steps_bar(plan: &Plan, pg: bool) -> ProgressBar {
    let per_round = 6 + usize::from(pg) + 4;
    let steps = 3 + plan.rounds * per_round + 2;
    let bar = ProgressBar::new(steps as u64);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

async fn run_generate(args: GenerateArgs) -> Result<()> {
    let scale = match (args.entries, args.large) {
        (Some(n), _) => Scale::with_entries(n),
        (None, true) => Scale::LARGE,
        (None, false) => Scale::VERRA,
    };
    let bar = entries_bar(scale.entries(), "generating");
    let load = if args.through_commit { generate::Load::Commit } else { generate::Load::Bulk };
    let dataset = generate::generate_with(&args.out, args.seed, scale, load, &|done, _| bar.set_position(done)).await?;
    bar.finish_and_clear();
    println!(
        "Generated {} log entries ({} projects, {} batches, {} accounts, {} transactions, {} blocks) in {:.1} s \
         ({:.0} entries/s, {}) into {}",
        dataset.log_size,
        scale.projects,
        scale.batches,
        scale.accounts,
        scale.transactions,
        dataset.blocks,
        dataset.seconds,
        dataset.log_size as f64 / dataset.seconds,
        if args.through_commit { "through Store::commit" } else { "bulk load" },
        args.out.display()
    );
    println!("Verifier key: {}", dataset.vkey);
    println!("Check it: furrow verify --data-dir {} --key '{}'", args.out.display(), dataset.vkey);
    Ok(())
}

async fn run_workload(args: WorkloadArgs) -> Result<()> {
    let mut plan = Plan::quick();
    plan.seconds = args.seconds;
    plan.accounts = args.accounts;
    std::fs::create_dir_all(&args.dir).with_context(|| format!("cannot create {}", args.dir.display()))?;
    let scratch = tempfile::Builder::new().prefix("furrow-workload-").tempdir_in(&args.dir)?;
    let w = workloads::Workloads { plan: &plan, dir: scratch.path(), seed: args.seed };
    if let Some(rate) = args.open_rate {
        let run = w.open_loop(rate, args.seconds).await?;
        println!(
            "open loop at {rate:.0}/s: achieved {} ops/s; latency p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms",
            fmt_num(run.ops_per_s),
            run.percentile_ms(50.0),
            run.percentile_ms(99.0),
            run.percentile_ms(99.9)
        );
        for arrivals in run.timeline.chunk_by(|a, b| (a.0 * 2.0) as u64 == (b.0 * 2.0) as u64) {
            let mut latencies: Vec<f64> = arrivals.iter().map(|(_, latency)| *latency).collect();
            latencies.sort_by(f64::total_cmp);
            let ms = |q| stats::percentile_sorted(&latencies, q).map_or(f64::NAN, |s| s * 1000.0);
            println!(
                "  arrivals {:>4.1}–{:>4.1} s: {:>5} ops, p50 {:>7.2} ms, p99 {:>7.2} ms, max {:>7.2} ms",
                arrivals[0].0,
                arrivals[arrivals.len() - 1].0,
                latencies.len(),
                ms(50.0),
                ms(99.0),
                ms(100.0)
            );
        }
        return Ok(());
    }
    let pick = if args.hot { Pick::Hot } else { Pick::Uniform };
    let mix = workloads::Mix { pick, log: !args.log_off, keyed: args.idempotency_keys };
    let run = w.closed_loop(args.clients, mix, None).await?;
    println!(
        "{} clients: {} ops/s; ack latency p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms",
        args.clients,
        fmt_num(run.ops_per_s),
        run.percentile_ms(50.0),
        run.percentile_ms(99.0),
        run.percentile_ms(99.9)
    );
    Ok(())
}

fn entries_bar(total: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} entries {msg} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    bar
}

/// Everything the run measures, in order.
async fn measure(
    plan: &Plan,
    args: &BenchArgs,
    dir: &Path,
    sheet: &mut Sheet,
    pg: Option<&probes::PgBench>,
    progress: &ProgressBar,
) -> Result<()> {
    // The datasets first: proofs, lookups and verify run on them in every round. With
    // --datasets they are kept there and reused (they are deterministic from seed and size).
    let root = args.datasets.clone().unwrap_or_else(|| dir.to_path_buf());
    progress.set_message(format!("the small dataset (~{} entries)", plan.small.entries()));
    let (small_dir, small, _) = dataset(&root, "small", args.seed, plan.small, progress).await?;
    progress.inc(1);
    progress.set_message(format!("the big dataset (~{} entries)", plan.big.entries()));
    let (big_dir, big, generated) = dataset(&root, "big", args.seed, plan.big, progress).await?;
    progress.inc(1);
    sheet.dataset("small", &small);
    sheet.dataset("big", &big);
    if generated {
        sheet.record(Key::GenerateRate, big.log_size as f64 / big.seconds);
    }

    let page = workloads::PageServers::start(&small_dir).await?;
    progress.inc(1);
    let mut closed_max: f64 = 0.0;
    for round in 0..plan.rounds {
        sheet.round = round;
        let tag = |what: &str| format!("round {}/{}: {what}", round + 1, plan.rounds);
        // Baselines (A) …
        progress.set_message(tag("baselines"));
        let fsync_before = probes::fsync_rate(dir, plan.probe_seconds)?;
        let sqlite_before = probes::sqlite_rows(dir, 1, plan.probe_seconds).await?;
        sheet.record(Key::Sha256, probes::sha256_rate(plan.probe_seconds));
        sheet.record(Key::Sqlite1000, probes::sqlite_rows(dir, 1000, plan.probe_seconds).await?);
        let statics = page.measure_static(plan.probe_seconds).await?;
        sheet.record(Key::StaticStatus, statics.0);
        sheet.record(Key::StaticVerify, statics.1);
        if let Some(pg) = pg {
            progress.set_message(tag("pgbench"));
            sheet.record(Key::PgBench, pg.run(plan.clients[1], plan.seconds).await?);
            progress.inc(1);
        }
        progress.inc(1);

        // … the workloads (B) …
        let w = workloads::Workloads { plan, dir, seed: args.seed.wrapping_add(round as u64) };
        for (i, &clients) in plan.clients.iter().enumerate() {
            progress.set_message(tag(&format!("{clients} closed-loop clients")));
            let run = w.closed_loop(clients, Mix::UNIFORM, None).await?;
            closed_max = closed_max.max(run.ops_per_s);
            sheet.record([Key::Clients1, Key::Clients64, Key::Clients256][i], run.ops_per_s);
            if i == 1 {
                sheet.record(Key::AckP99Clients64, run.p99_ms());
            }
            progress.inc(1);
        }
        progress.set_message(tag(&format!("{} clients over HTTP", plan.clients[1])));
        sheet.record(Key::HttpWrites64, w.http_writes(plan.clients[1]).await?.ops_per_s);
        progress.set_message(tag("hot account, Zipf, log off, keyed"));
        let hot = w.closed_loop(plan.clients[1], Mix { pick: Pick::Hot, ..Mix::UNIFORM }, None).await?;
        sheet.record(Key::Hot, hot.ops_per_s);
        let zipf = w.closed_loop(plan.clients[1], Mix { pick: Pick::Zipf, ..Mix::UNIFORM }, None).await?;
        sheet.record(Key::Zipf, zipf.ops_per_s);
        progress.inc(1);
        let off = w.closed_loop(plan.clients[1], Mix { log: false, ..Mix::UNIFORM }, None).await?;
        sheet.record(Key::LogOff, off.ops_per_s);
        let keyed = w.closed_loop(plan.clients[1], Mix { keyed: true, ..Mix::UNIFORM }, None).await?;
        sheet.record(Key::Keyed, keyed.ops_per_s);
        progress.inc(1);
        if let Some(pg) = pg {
            progress.set_message(tag("PostgreSQL backend"));
            let url = pg.fresh_schema(round).await?;
            let run = w.closed_loop(plan.clients[1], Mix::UNIFORM, Some(&url)).await?;
            sheet.record(Key::PgFurrow, run.ops_per_s);
        }

        progress.set_message(tag("proofs and lookups"));
        let (inclusion, consistency) = workloads::proofs(&small_dir, &small, plan.proof_samples, args.seed).await?;
        sheet.record(Key::InclusionSmall, inclusion);
        sheet.record(Key::ConsistencySmall, consistency);
        let (inclusion, consistency) = workloads::proofs(&big_dir, &big, plan.proof_samples, args.seed).await?;
        sheet.record(Key::InclusionBig, inclusion);
        sheet.record(Key::ConsistencyBig, consistency);
        let serials = workloads::lookup_serials(&big, plan.lookup_samples, args.seed);
        sheet.record(Key::RawLookupBig, probes::raw_lookup_p99(&crate::database_path(&big_dir), &serials).await?);
        sheet.record(Key::LookupBig, workloads::lookups(&big_dir, &serials).await?);
        progress.inc(1);
        progress.set_message(tag("verify and pages"));
        sheet.record(Key::VerifySmall, workloads::verify(&small_dir, &small).await?);
        let furrow_pages = page.measure_furrow(plan.probe_seconds).await?;
        sheet.record(Key::PageStatus, furrow_pages.0);
        sheet.record(Key::PageVerify, furrow_pages.1);
        progress.inc(1);

        // … and the baselines again (A): the round's baseline is the mean of both sides.
        progress.set_message(tag("baselines again"));
        let fsync_after = probes::fsync_rate(dir, plan.probe_seconds)?;
        let sqlite_after = probes::sqlite_rows(dir, 1, plan.probe_seconds).await?;
        sheet.record(Key::Fsync, (fsync_before + fsync_after) / 2.0);
        sheet.record(Key::Sqlite1, (sqlite_before + sqlite_after) / 2.0);
        progress.inc(1);
    }
    page.stop();

    // Once per run: the open-loop run needs the measured maximum; verify and import of the big
    // inputs take long enough to be a measurement of their own.
    sheet.round = 0;
    progress.set_message("open loop at 50 % of the measured maximum");
    let w = workloads::Workloads { plan, dir, seed: args.seed };
    let rate = closed_max * 0.5;
    let open = w.open_loop(rate, plan.seconds * 2.0).await?;
    sheet.record(Key::OpenRate, open.ops_per_s);
    sheet.record(Key::OpenP50, open.percentile_ms(50.0));
    sheet.record(Key::OpenP99, open.percentile_ms(99.0));
    sheet.record(Key::OpenP999, open.percentile_ms(99.9));
    progress.inc(1);
    progress.set_message(format!("furrow verify of the big dataset ({} entries)", big.log_size));
    sheet.record(Key::VerifyBig, workloads::verify(&big_dir, &big).await?);
    if plan.import && args.real_data.is_dir() {
        progress.set_message("furrow import of the real exports");
        if let Some(rate) = workloads::import(dir, &args.real_data).await? {
            sheet.record(Key::Import, rate);
        }
    }
    progress.inc(1);
    Ok(())
}

/// A generated dataset in `root`: reused when `root` already holds it, else generated (then
/// the third value is true).
async fn dataset(
    root: &Path,
    name: &str,
    seed: u64,
    scale: Scale,
    progress: &ProgressBar,
) -> Result<(PathBuf, generate::Dataset, bool)> {
    let dir = root.join(format!("dataset-{name}-seed{seed}-{}", scale.entries()));
    if let Some(dataset) = generate::Dataset::read(&dir, seed, scale) {
        return Ok((dir, dataset, false));
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("cannot clear the unfinished {}", dir.display()))?;
    }
    let bar = progress_pair(progress, entries_bar(scale.entries(), &format!("generating the {name} dataset")));
    let dataset = generate::generate(&dir, seed, scale, &|done, _| bar.set_position(done)).await?;
    bar.finish_and_clear();
    Ok((dir, dataset, true))
}

/// Keeps the step bar and a detail bar apart: the detail bar is drawn while it lives.
fn progress_pair(steps: &ProgressBar, detail: ProgressBar) -> ProgressBar {
    if steps.is_hidden() {
        detail.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    detail
}

/// What the bench measures. Each has a fixed name in the JSON, so runs compare over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Key {
    Fsync,
    Sqlite1,
    Sqlite1000,
    Sha256,
    PgBench,
    StaticStatus,
    StaticVerify,
    RawLookupBig,
    Clients1,
    Clients64,
    Clients256,
    AckP99Clients64,
    HttpWrites64,
    Hot,
    Zipf,
    LogOff,
    Keyed,
    PgFurrow,
    OpenRate,
    OpenP50,
    OpenP99,
    OpenP999,
    InclusionSmall,
    InclusionBig,
    ConsistencySmall,
    ConsistencyBig,
    LookupBig,
    VerifySmall,
    VerifyBig,
    PageStatus,
    PageVerify,
    GenerateRate,
    Import,
}

impl Key {
    /// (JSON name, label, unit, is a baseline)
    fn describe(self) -> (&'static str, &'static str, &'static str, bool) {
        use Key::*;
        match self {
            Fsync => ("fsync", "F: 4 KiB write + fdatasync, data dir", "/s", true),
            Sqlite1 => ("sqlite_1", "S1: raw SQLite WAL FULL, 1 row/txn (sqlx)", "rows/s", true),
            Sqlite1000 => ("sqlite_1000", "S1000: raw SQLite WAL FULL, 1000 rows/txn", "rows/s", true),
            Sha256 => ("sha256", "H: raw SHA-256 of 64 B", "hashes/s", true),
            PgBench => ("pgbench", "PGB: pgbench TPC-B, scale 10, as many clients", "tps", true),
            StaticStatus => ("static_status", "static server, bytes of /api/v1/status", "req/s", true),
            StaticVerify => ("static_verify", "static server, bytes of /verify", "req/s", true),
            RawLookupBig => {
                ("raw_lookup_p99_big_us", "L: raw SQLite point query p99, big dataset's blocks", "µs", true)
            }
            Clients1 => ("ops_1_client", "transfer+retire, 1 client", "ops/s", false),
            Clients64 => ("ops_64_clients", "transfer+retire, 64 clients", "ops/s", false),
            Clients256 => ("ops_256_clients", "transfer+retire, 256 clients", "ops/s", false),
            AckP99Clients64 => ("ack_p99_64_clients_ms", "ack latency p99, 64 clients", "ms", false),
            HttpWrites64 => ("ops_http_64_clients", "transfer+retire over HTTP, 64 clients", "ops/s", false),
            Hot => ("ops_hot_account", "64 clients, all from one hot account", "ops/s", false),
            Zipf => ("ops_zipf", "64 clients, Zipf(1.1) account choice", "ops/s", false),
            LogOff => ("ops_log_off", "64 clients, checkpointer off", "ops/s", false),
            Keyed => ("ops_keyed", "64 clients, an Idempotency-Key each", "ops/s", false),
            PgFurrow => ("ops_postgres_64_clients", "PostgreSQL backend, 64 clients", "ops/s", false),
            OpenRate => ("open_loop_rate", "open loop (Poisson) at 50 % of max: achieved", "ops/s", false),
            OpenP50 => ("open_loop_p50_ms", "open loop latency p50", "ms", false),
            OpenP99 => ("open_loop_p99_ms", "open loop latency p99", "ms", false),
            OpenP999 => ("open_loop_p999_ms", "open loop latency p99.9", "ms", false),
            InclusionSmall => ("inclusion_p99_small_us", "inclusion proof p99, small log", "µs", false),
            InclusionBig => ("inclusion_p99_big_us", "inclusion proof p99, big log", "µs", false),
            ConsistencySmall => ("consistency_p99_small_us", "consistency proof p99, small log", "µs", false),
            ConsistencyBig => ("consistency_p99_big_us", "consistency proof p99, big log", "µs", false),
            LookupBig => ("lookup_p99_big_us", "serial lookup p99, big dataset", "µs", false),
            VerifySmall => ("verify_small_entries_per_s", "furrow verify, small log", "entries/s", false),
            VerifyBig => ("verify_big_entries_per_s", "furrow verify, big log (once)", "entries/s", false),
            PageStatus => ("page_status", "furrow GET /api/v1/status", "req/s", false),
            PageVerify => ("page_verify", "furrow GET /verify", "req/s", false),
            GenerateRate => ("generate_entries_per_s", "dataset generator (once)", "entries/s", false),
            Import => ("import_rows_per_s", "furrow import of ../shared/data/real (once)", "rows/s", false),
        }
    }
}

/// Per-round values of every measurement.
#[derive(Default)]
pub(crate) struct Sheet {
    round: usize,
    values: std::collections::BTreeMap<Key, Vec<Option<f64>>>,
    datasets: Vec<(String, Value)>,
}

impl Sheet {
    fn record(&mut self, key: Key, value: f64) {
        let values = self.values.entry(key).or_default();
        if values.len() <= self.round {
            values.resize(self.round + 1, None);
        }
        values[self.round] = Some(value);
    }

    fn dataset(&mut self, name: &str, dataset: &generate::Dataset) {
        self.datasets.push((name.to_owned(), dataset.to_json()));
    }

    fn values(&self, key: Key) -> Vec<f64> {
        self.values.get(&key).map(|v| v.iter().flatten().copied().collect()).unwrap_or_default()
    }

    /// Per-round quotients `a / b × scale` (rounds where both exist); for a negative scale the
    /// products `a × b × -scale`.
    fn ratio(&self, a: Key, b: Key, scale: f64) -> Vec<f64> {
        let combine = |x: f64, y: f64| if scale < 0.0 { x * y * -scale } else { x / y * scale };
        let (Some(a), Some(b)) = (self.values.get(&a), self.values.get(&b)) else {
            return vec![];
        };
        if a.len() == 1 || b.len() == 1 {
            // A once-per-run figure against the baseline's median.
            let (x, y) = (Spread::of(&self.values_of(a)), Spread::of(&self.values_of(b)));
            return match (x, y) {
                (Some(x), Some(y)) if y.median > 0.0 => vec![combine(x.median, y.median)],
                _ => vec![],
            };
        }
        a.iter()
            .zip(b)
            .filter_map(|(x, y)| match (x, y) {
                (Some(x), Some(y)) if *y > 0.0 => Some(combine(*x, *y)),
                _ => None,
            })
            .collect()
    }

    fn values_of(&self, v: &[Option<f64>]) -> Vec<f64> {
        v.iter().flatten().copied().collect()
    }
}

/// A ratio and the goal it is held to.
struct RatioDef {
    name: &'static str,
    label: &'static str,
    a: Key,
    b: Key,
    /// Multiplies the quotient (e.g. 2 hashes per verified entry). Negative: multiply `a` by
    /// `b` instead of dividing (a latency in fsync times), then by `-scale`.
    scale: f64,
    /// (≥ or ≤, bound)
    goal: Option<(bool, f64)>,
    meaning: &'static str,
}

const RATIOS: &[RatioDef] = &[
    RatioDef {
        name: "clients_1_over_fsync",
        label: "1 client ÷ F",
        a: Key::Clients1,
        b: Key::Fsync,
        scale: 1.0,
        goal: Some((true, 0.8)),
        meaning: "one durable op costs about one fsync, no more (SPEC §10: ≥ 0.8)",
    },
    RatioDef {
        name: "clients_64_over_fsync",
        label: "64 clients ÷ F",
        a: Key::Clients64,
        b: Key::Fsync,
        scale: 1.0,
        goal: Some((true, 30.0)),
        meaning: "group commit: ops per fsync with 64 clients (SPEC §10: ≥ 30)",
    },
    RatioDef {
        name: "clients_256_over_fsync",
        label: "256 clients ÷ F",
        a: Key::Clients256,
        b: Key::Fsync,
        scale: 1.0,
        goal: Some((true, 100.0)),
        meaning: "group commit with 256 clients (research note P1: ≥ 100)",
    },
    RatioDef {
        name: "clients_1_over_sqlite_1",
        label: "1 client ÷ S1",
        a: Key::Clients1,
        b: Key::Sqlite1,
        scale: 1.0,
        goal: None,
        meaning: "one Furrow op vs. one raw SQLite insert with the same durability settings",
    },
    RatioDef {
        name: "ack_p99_x_fsync",
        label: "ack p99 (64 clients) × F",
        a: Key::AckP99Clients64,
        b: Key::Fsync,
        scale: -0.001,
        goal: Some((false, 10.0)),
        meaning: "p99 acknowledgement latency in fsync times (P1: ≤ 10)",
    },
    RatioDef {
        name: "http_over_in_process",
        label: "HTTP writes ÷ in-process (64)",
        a: Key::HttpWrites64,
        b: Key::Clients64,
        scale: 1.0,
        goal: Some((true, 0.3)),
        meaning: "durable writes through the HTTP API vs. Registry::execute, same clients (P3: ≥ 0.3)",
    },
    RatioDef {
        name: "http_writes_over_static",
        label: "HTTP writes ÷ static status",
        a: Key::HttpWrites64,
        b: Key::StaticStatus,
        scale: 1.0,
        goal: None,
        meaning: "a durable write request vs. a static server's GET of the status bytes on the same loopback",
    },
    RatioDef {
        name: "hot_over_uniform",
        label: "hot account ÷ uniform",
        a: Key::Hot,
        b: Key::Clients64,
        scale: 1.0,
        goal: Some((true, 0.8)),
        meaning: "a single hot account costs nothing extra (SPEC §10: ≥ 0.8; PostgreSQL row locks give ~0.14)",
    },
    RatioDef {
        name: "zipf_over_uniform",
        label: "Zipf(1.1) ÷ uniform",
        a: Key::Zipf,
        b: Key::Clients64,
        scale: 1.0,
        goal: Some((true, 0.9)),
        meaning: "skewed account choice (P4: ≥ 0.9)",
    },
    RatioDef {
        name: "log_on_over_off",
        label: "log on ÷ log off",
        a: Key::Clients64,
        b: Key::LogOff,
        scale: 1.0,
        goal: Some((true, 0.8)),
        meaning: "the Merkle tree and signed checkpoints cost little (SPEC §10: ≥ 0.8)",
    },
    RatioDef {
        name: "keyed_over_unkeyed",
        label: "keyed ÷ unkeyed",
        a: Key::Keyed,
        b: Key::Clients64,
        scale: 1.0,
        goal: None,
        meaning: "what idempotency keys cost: the caller's lookup, and a row in the group's transaction",
    },
    RatioDef {
        name: "postgres_over_pgbench",
        label: "PostgreSQL backend ÷ PGB",
        a: Key::PgFurrow,
        b: Key::PgBench,
        scale: 1.0,
        goal: Some((true, 1.0)),
        meaning: "Furrow on PostgreSQL vs. pgbench TPC-B, same server and clients (SPEC §10: ≥ 1, stretch 3)",
    },
    RatioDef {
        name: "inclusion_big_over_small",
        label: "inclusion p99 big ÷ small",
        a: Key::InclusionBig,
        b: Key::InclusionSmall,
        scale: 1.0,
        goal: Some((false, 2.0)),
        meaning: "proof cost barely grows with the log (SPEC §10: p99(10 M) / p99(10 k) ≤ 2)",
    },
    RatioDef {
        name: "lookup_over_raw",
        label: "serial lookup p99 ÷ L",
        a: Key::LookupBig,
        b: Key::RawLookupBig,
        scale: 1.0,
        goal: Some((false, 5.0)),
        meaning: "a serial lookup through the store vs. the raw indexed point query (P11: ≤ 5)",
    },
    RatioDef {
        name: "verify_over_sha256",
        label: "verify entries/s × 2 ÷ H",
        a: Key::VerifySmall,
        b: Key::Sha256,
        scale: 2.0,
        goal: Some((true, 0.2)),
        meaning: "full audit replay vs. raw hashing at ~2 hashes per entry (P9: ≥ 0.2)",
    },
    RatioDef {
        name: "status_page_over_static",
        label: "/api/v1/status ÷ static",
        a: Key::PageStatus,
        b: Key::StaticStatus,
        scale: 1.0,
        goal: None,
        meaning: "a served page vs. a static server sending the same bytes (SPEC §10: reported)",
    },
    RatioDef {
        name: "verify_page_over_static",
        label: "/verify ÷ static",
        a: Key::PageVerify,
        b: Key::StaticVerify,
        scale: 1.0,
        goal: None,
        meaning: "the public verification page vs. a static server sending the same bytes",
    },
    RatioDef {
        name: "import_over_sqlite_1000",
        label: "import rows/s ÷ S1000",
        a: Key::Import,
        b: Key::Sqlite1000,
        scale: 1.0,
        goal: Some((true, 0.25)),
        meaning: "importing real exports vs. raw bulk inserts (P12: ≥ 0.25)",
    },
];

/// Absolute goals (SPEC §10), shown next to the figure.
fn absolute_goal(key: Key, plan: &Plan) -> Option<String> {
    let big_is_10m = plan.big.entries() >= 10_000_000;
    match key {
        Key::InclusionBig if big_is_10m => Some("goal ≤ 1000 µs at 10 M".into()),
        Key::LookupBig if big_is_10m => Some("goal ≤ 5000 µs at 10 M".into()),
        Key::InclusionBig | Key::LookupBig => Some("(goal is at 10 M: --large)".into()),
        Key::VerifyBig => Some("goal: 10 M in ≤ 5 min = ≥ 33,334/s".into()),
        _ => None,
    }
}

struct Report<'a> {
    plan: &'a Plan,
    machine: &'a probes::Machine,
    sheet: &'a Sheet,
    elapsed: f64,
    pg: bool,
}

fn fmt_num(x: f64) -> String {
    let a = x.abs();
    if a >= 100.0 {
        let s = format!("{:.0}", x);
        // thousands separators
        let (sign, digits) = s.strip_prefix('-').map_or(("", s.as_str()), |d| ("-", d));
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        format!("{sign}{out}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

fn fmt_spread(s: Option<Spread>, n: usize) -> String {
    match s {
        None => "n/a".into(),
        Some(s) if n == 1 => fmt_num(s.median),
        Some(s) => format!("{} [{}–{}]", fmt_num(s.median), fmt_num(s.min), fmt_num(s.max)),
    }
}

impl Report<'_> {
    fn table(&self) -> String {
        use std::fmt::Write;
        let mut t = String::new();
        let m = self.machine;
        let _ = writeln!(
            t,
            "\nFurrow bench — {} mode, {} rounds, {} (took {:.0} s)",
            self.plan.mode, self.plan.rounds, m.date, self.elapsed
        );
        let _ = writeln!(t, "Machine: {} · {} cores · {} · kernel {}", m.cpu, m.cores, m.memory, m.kernel);
        let _ = writeln!(t, "Disk:    {}", m.disk);
        let _ = writeln!(t, "Build:   {} · {}", m.build, m.rustc);
        if m.build.starts_with("debug") {
            let _ = writeln!(t, "         DEBUG BUILD: numbers not comparable to BENCHMARKS.md");
        }
        let _ = writeln!(
            t,
            "Datasets: small {} entries, big {} entries ({} blocks); values are median [min–max] over rounds",
            self.dataset_field("small", "log_size"),
            self.dataset_field("big", "log_size"),
            self.dataset_field("big", "blocks"),
        );
        for (title, baseline) in
            [("Baselines (same run, before and after each round's workloads)", true), ("Furrow", false)]
        {
            let _ = writeln!(t, "\n{title}");
            for &key in self.sheet.values.keys() {
                let (_, label, unit, is_baseline) = key.describe();
                if is_baseline != baseline {
                    continue;
                }
                let values = self.sheet.values(key);
                let goal = absolute_goal(key, self.plan).unwrap_or_default();
                let _ =
                    writeln!(t, "  {label:<48} {:>30} {unit:<9} {goal}", fmt_spread(Spread::of(&values), values.len()));
            }
            if baseline && !self.pg {
                let _ = writeln!(t, "  {:<48} {:>30}", "PGB: pgbench TPC-B", "skipped (no --database-url)");
            }
        }
        let _ = writeln!(t, "\nRatios (per round, then median [min–max])");
        for def in RATIOS {
            let values = self.sheet.ratio(def.a, def.b, def.scale);
            let spread = Spread::of(&values);
            let verdict = match (def.goal, spread) {
                (Some((true, bound)), Some(s)) => {
                    format!("goal ≥ {bound}: {}", if s.median >= bound { "met" } else { "NOT MET" })
                }
                (Some((false, bound)), Some(s)) => {
                    format!("goal ≤ {bound}: {}", if s.median <= bound { "met" } else { "NOT MET" })
                }
                (_, None) => "not measured".into(),
                (None, Some(_)) => "reported".into(),
            };
            let _ = writeln!(t, "  {:<32} {:>26}  {verdict}", def.label, fmt_spread(spread, values.len()));
        }
        let _ = writeln!(
            t,
            "\nWorkloads run through Registry::execute (sequencer + domain + durable group commit, WAL, synchronous=FULL);"
        );
        let _ = writeln!(
            t,
            "HTTP is measured by the page rows and the HTTP write row. A wide min–max on a baseline means the machine was noisy."
        );
        t
    }

    fn dataset_field(&self, name: &str, field: &str) -> String {
        self.sheet
            .datasets
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.get(field))
            .map_or("?".into(), |v| v.to_string())
    }

    fn json(&self) -> Value {
        let m = self.machine;
        let spread = |values: &[f64]| match Spread::of(values) {
            Some(s) => json!({"median": s.median, "min": s.min, "max": s.max}),
            None => Value::Null,
        };
        let mut metrics = serde_json::Map::new();
        for &key in self.sheet.values.keys() {
            let (name, label, unit, baseline) = key.describe();
            let values = self.sheet.values(key);
            let mut entry = json!({"label": label, "unit": unit, "baseline": baseline, "values": values});
            if let (Some(obj), Value::Object(s)) = (entry.as_object_mut(), spread(&values)) {
                obj.extend(s);
            }
            metrics.insert(name.to_owned(), entry);
        }
        let mut ratios = serde_json::Map::new();
        for def in RATIOS {
            let values = self.sheet.ratio(def.a, def.b, def.scale);
            let goal = def.goal.map(|(at_least, bound)| json!({"at_least": at_least, "bound": bound}));
            let met = match (def.goal, Spread::of(&values)) {
                (Some((true, bound)), Some(s)) => Some(s.median >= bound),
                (Some((false, bound)), Some(s)) => Some(s.median <= bound),
                _ => None,
            };
            let mut entry =
                json!({"label": def.label, "meaning": def.meaning, "values": values, "goal": goal, "met": met});
            if let (Some(obj), Value::Object(s)) = (entry.as_object_mut(), spread(&values)) {
                obj.extend(s);
            }
            ratios.insert(def.name.to_owned(), entry);
        }
        json!({
            "format": "furrow-bench/1",
            "mode": self.plan.mode,
            "rounds": self.plan.rounds,
            "seconds": self.elapsed,
            "date": m.date,
            "machine": {"cpu": m.cpu, "cores": m.cores, "memory": m.memory, "kernel": m.kernel, "disk": m.disk,
                        "build": m.build, "rustc": m.rustc, "debug": m.build.starts_with("debug")},
            "datasets": self.sheet.datasets.iter().map(|(n, v)| (n.clone(), v.clone())).collect::<serde_json::Map<_, _>>(),
            "metrics": metrics,
            "ratios": ratios,
        })
    }
}

/// A percentile of unsorted samples, NaN for none.
pub(crate) fn p(samples: &[f64], q: f64) -> f64 {
    percentile(samples, q).unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_are_per_round_and_skip_missing_rounds() {
        let mut sheet = Sheet::default();
        for (round, (a, b)) in [(100.0, 10.0), (300.0, 10.0), (200.0, 20.0)].into_iter().enumerate() {
            sheet.round = round;
            sheet.record(Key::Clients64, a);
            if round != 1 {
                sheet.record(Key::Fsync, b);
            }
        }
        assert_eq!(sheet.ratio(Key::Clients64, Key::Fsync, 1.0), vec![10.0, 10.0]);
        assert_eq!(sheet.ratio(Key::Hot, Key::Fsync, 1.0), Vec::<f64>::new());
        assert_eq!(sheet.ratio(Key::Clients64, Key::Fsync, -0.5), vec![500.0, 2000.0], "a product");
    }

    #[test]
    fn a_once_per_run_figure_is_divided_by_the_baseline_median() {
        let mut sheet = Sheet::default();
        for (round, b) in [10.0, 30.0, 20.0].into_iter().enumerate() {
            sheet.round = round;
            sheet.record(Key::Sqlite1000, b);
        }
        sheet.round = 0;
        sheet.record(Key::Import, 10.0);
        assert_eq!(sheet.ratio(Key::Import, Key::Sqlite1000, 1.0), vec![0.5]);
    }

    #[test]
    fn numbers_are_formatted_for_reading() {
        assert_eq!(fmt_num(1234567.8), "1,234,568");
        assert_eq!(fmt_num(512.0), "512");
        assert_eq!(fmt_num(12.34), "12.3");
        assert_eq!(fmt_num(0.8123), "0.81");
        assert_eq!(fmt_spread(Spread::of(&[1.0, 2.0, 3.0]), 3), "2.00 [1.00–3.00]");
    }

    #[test]
    fn every_metric_has_a_distinct_json_name() {
        let names: std::collections::BTreeSet<_> = RATIOS.iter().map(|r| r.name).collect();
        assert_eq!(names.len(), RATIOS.len());
    }
}
