//! Furrow's side of the bench: durable transfers and retirements through `Registry::execute`,
//! proofs, lookups and `furrow verify` on generated datasets, HTTP pages next to a static server
//! sending the same bytes, and the import of real exports.
//!
//! The write workloads use the application layer rather than HTTP on purpose: SPEC §10's bars
//! are about the sequencer's group commit, and on 2 cores an HTTP client in the same process
//! would take CPU from the server and measure itself. HTTP's own cost is measured by the page
//! rows, against a static server on the same loopback.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use furrow_app::store::Store;
use furrow_app::{Principal, Registry, SequencerOptions, transparency};
use furrow_domain::*;
use furrow_store_sqlite::SqliteStore;

use super::generate::Dataset;
use super::probes::output;
use super::stats::{Rng, Zipf, percentile_sorted};
use super::{Plan, p};

/// How a client picks the account it moves credits from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    Uniform,
    /// Every operation from the same account.
    Hot,
    /// Zipf(1.1) over the accounts.
    Zipf,
}

/// What a closed-loop run's clients do.
#[derive(Debug, Clone, Copy)]
pub struct Mix {
    pub pick: Pick,
    /// With the log's checkpointer.
    pub log: bool,
    /// Every operation with an Idempotency-Key of its own, as a client that retries sends it.
    pub keyed: bool,
}

impl Mix {
    /// Uniformly chosen accounts, log on, no keys: the reference the other mixes are compared to.
    pub const UNIFORM: Mix = Mix { pick: Pick::Uniform, log: true, keyed: false };
}

pub struct Workloads<'a> {
    pub plan: &'a Plan,
    pub dir: &'a Path,
    pub seed: u64,
}

/// One run's throughput and the latency of each acknowledged operation.
pub struct Run {
    pub ops_per_s: f64,
    /// Sorted, in seconds.
    pub latencies: Vec<f64>,
    /// Open loop only: (scheduled arrival, latency) in seconds, in arrival order.
    pub timeline: Vec<(f64, f64)>,
}

impl Run {
    pub fn percentile_ms(&self, q: f64) -> f64 {
        percentile_sorted(&self.latencies, q).map_or(f64::NAN, |s| s * 1000.0)
    }

    pub fn p99_ms(&self) -> f64 {
        self.percentile_ms(99.0)
    }
}

/// A fresh registry with `accounts` funded accounts.
struct Fresh {
    registry: Registry,
    accounts: Arc<Vec<AccountId>>,
    _dir: Option<tempfile::TempDir>,
}

fn operator() -> Principal {
    Principal { subject: "bench".into(), role: Role::Operator, accounts: vec![], proof: furrow_app::Proof::Token }
}

impl Workloads<'_> {
    async fn fresh(&self, log: bool, database_url: Option<&str>) -> Result<Fresh> {
        let (store, dir): (Arc<dyn Store>, _) = match database_url {
            Some(url) => (Arc::new(furrow_store_postgres::PgStore::connect(url, None).await?), None),
            None => {
                let dir = tempfile::Builder::new().prefix("run-").tempdir_in(self.dir)?;
                (Arc::new(SqliteStore::open(&dir.path().join("furrow.db")).await?), Some(dir))
            }
        };
        let log = if log {
            let signer = transparency::generate_signer("bench.furrow/log")?;
            Some(transparency::log_options(signer))
        } else {
            None
        };
        let registry = Registry::start(store.clone(), SequencerOptions { log, ..SequencerOptions::default() }).await?;
        registry.execute(&Principal::system(), sim::genesis(), None).await?;
        // Open and fund the accounts concurrently, so the setup rides the group commit too.
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..self.plan.accounts {
            let registry = registry.clone();
            tasks.spawn(async move {
                let open = Command::OpenAccount { kind: AccountKind::Buyer, name: format!("Bench buyer {i}") };
                let committed = registry.execute(&operator(), open, None).await?;
                let Some(Event::AccountOpened { account }) = committed.entries.first().map(|e| e.event.clone()) else {
                    bail!("opening an account produced no AccountOpened");
                };
                let issue = IssueCommand {
                    project: ProjectCode(1 + i as u64 % 50),
                    country: None,
                    vintage: Vintage::new(2025).context("vintage")?,
                    quantity: Quantity(10_000_000),
                    buffer: Quantity(0),
                    to: account.id,
                    labels: vec![],
                };
                registry.execute(&Principal::system(), Command::Issue(issue), None).await?;
                Ok((i, account.id))
            });
        }
        let mut accounts = vec![AccountId(0); self.plan.accounts];
        while let Some(joined) = tasks.join_next().await {
            let (i, id) = joined??;
            accounts[i] = id;
        }
        Ok(Fresh { registry, accounts: Arc::new(accounts), _dir: dir })
    }

    /// `clients` clients, each submitting its next operation when the last is acknowledged,
    /// alternating transfers (1 credit to a uniformly chosen other account) and retirements
    /// (1 credit), for the plan's seconds.
    pub async fn closed_loop(&self, clients: usize, mix: Mix, database_url: Option<&str>) -> Result<Run> {
        let fresh = self.fresh(mix.log, database_url).await?;
        let zipf = Arc::new(Zipf::new(fresh.accounts.len(), 1.1));
        let deadline = Instant::now() + Duration::from_secs_f64(self.plan.seconds);
        let start = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for c in 0..clients {
            let (registry, accounts, zipf) = (fresh.registry.clone(), fresh.accounts.clone(), zipf.clone());
            let mut rng = Rng::new(self.seed.wrapping_mul(1_000_003).wrapping_add(c as u64));
            tasks.spawn(async move {
                let mut latencies = Vec::new();
                let mut n = c as u64;
                while Instant::now() < deadline {
                    let command = next_command(&mut rng, &accounts, mix.pick, &zipf, n);
                    let key = mix.keyed.then(|| request_key(c, n)).transpose()?;
                    let t = Instant::now();
                    registry.execute(&operator(), command, key).await?;
                    latencies.push(t.elapsed().as_secs_f64());
                    n += 1;
                }
                anyhow::Ok(latencies)
            });
        }
        let mut latencies = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            latencies.extend(joined??);
        }
        let elapsed = start.elapsed().as_secs_f64();
        close(fresh).await;
        latencies.sort_by(f64::total_cmp);
        Ok(Run { ops_per_s: latencies.len() as f64 / elapsed, latencies, timeline: Vec::new() })
    }

    /// Poisson arrivals at `rate` per second, each submitted at its scheduled time whatever the
    /// backlog; latency counts from the scheduled time, so queueing is included (no coordinated
    /// omission).
    pub async fn open_loop(&self, rate: f64, seconds: f64) -> Result<Run> {
        let fresh = self.fresh(true, None).await?;
        let zipf = Arc::new(Zipf::new(fresh.accounts.len(), 1.1));
        let mut rng = Rng::new(self.seed ^ 0x6f70_656e);
        let start = tokio::time::Instant::now();
        let mut at = 0.0;
        let mut tasks = tokio::task::JoinSet::new();
        let mut n = 0u64;
        let rate = rate.max(1.0);
        loop {
            at += rng.exponential(1.0 / rate);
            if at >= seconds {
                break;
            }
            let scheduled = start + Duration::from_secs_f64(at);
            tokio::time::sleep_until(scheduled).await;
            let command = next_command(&mut rng, &fresh.accounts, Pick::Uniform, &zipf, n);
            n += 1;
            let registry = fresh.registry.clone();
            tasks.spawn(async move {
                registry.execute(&operator(), command, None).await?;
                anyhow::Ok((at, scheduled.elapsed().as_secs_f64()))
            });
        }
        let mut timeline = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            timeline.push(joined??);
        }
        let elapsed = start.elapsed().as_secs_f64();
        close(fresh).await;
        timeline.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut latencies: Vec<f64> = timeline.iter().map(|(_, latency)| *latency).collect();
        latencies.sort_by(f64::total_cmp);
        Ok(Run { ops_per_s: latencies.len() as f64 / elapsed, latencies, timeline })
    }
}

impl Workloads<'_> {
    /// The closed loop of [`Workloads::closed_loop`] (uniform accounts, log on) through Furrow's
    /// real HTTP server on loopback: each operation is a `POST /api/v1/transfers` or
    /// `/api/v1/retirements` with a bearer token and a JSON body, acknowledged with 201 only
    /// after the durable commit. The clients share the machine's two cores with the server.
    pub async fn http_writes(&self, clients: usize) -> Result<Run> {
        let fresh = self.fresh(true, None).await?;
        // One operator token for every client: its per-minute request limit is there to stop a
        // runaway token, and this is one on purpose.
        fresh.registry.set_rate_limits(furrow_app::RateLimitSettings {
            token_requests_per_minute: u32::MAX,
            ..furrow_app::RateLimitSettings::default()
        });
        let token = fresh.registry.create_token("bench-http", Role::Operator, &[]).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}/api/v1", listener.local_addr()?);
        let serving = fresh.registry.clone();
        let server = tokio::spawn(async move {
            let _ = furrow_http::serve(listener, serving, std::future::pending()).await;
        });
        let client = reqwest::Client::builder().pool_max_idle_per_host(clients).build()?;
        let zipf = Arc::new(Zipf::new(fresh.accounts.len(), 1.1));
        let deadline = Instant::now() + Duration::from_secs_f64(self.plan.seconds);
        let start = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for c in 0..clients {
            let (accounts, zipf, client, base, token) =
                (fresh.accounts.clone(), zipf.clone(), client.clone(), base.clone(), token.clone());
            let mut rng = Rng::new(self.seed.wrapping_mul(1_000_003).wrapping_add(c as u64));
            tasks.spawn(async move {
                let mut latencies = Vec::new();
                let mut n = c as u64;
                while Instant::now() < deadline {
                    let (path, body) = http_body(&next_command(&mut rng, &accounts, Pick::Uniform, &zipf, n))?;
                    let t = Instant::now();
                    let response = client.post(format!("{base}{path}")).bearer_auth(&token).json(&body).send().await?;
                    let status = response.status();
                    let text = response.text().await?;
                    if status != reqwest::StatusCode::CREATED {
                        bail!("POST {path} answered {status}: {text}");
                    }
                    latencies.push(t.elapsed().as_secs_f64());
                    n += 1;
                }
                anyhow::Ok(latencies)
            });
        }
        let mut latencies = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            latencies.extend(joined??);
        }
        let elapsed = start.elapsed().as_secs_f64();
        server.abort();
        close(fresh).await;
        latencies.sort_by(f64::total_cmp);
        Ok(Run { ops_per_s: latencies.len() as f64 / elapsed, latencies, timeline: Vec::new() })
    }
}

/// The API request for one of the bench's commands: its path under `/api/v1` and JSON body.
fn http_body(command: &Command) -> Result<(&'static str, serde_json::Value)> {
    use serde_json::json;
    Ok(match command {
        Command::Transfer { from, to, .. } => {
            ("/transfers", json!({"from": from.to_string(), "to": to.to_string(), "quantity": 1}))
        }
        Command::Retire { from, .. } => (
            "/retirements",
            json!({
                "from": from.to_string(),
                "quantity": 1,
                "beneficiary": {"name": "Bench Beneficiary KK", "country": "JP"},
                "purpose": "scope1",
                "claim_period": {"from": "2025-04-01", "to": "2026-03-31"},
                "jurisdiction": "JP-27",
            }),
        ),
        other => bail!("the bench sends transfers and retirements only, not {}", other.name()),
    })
}

/// Stops the checkpointer. The store is not closed: the checkpointer may be mid-round and would
/// log an error; the connections close when its task lets go of the store (within a second).
async fn close(fresh: Fresh) {
    fresh.registry.stop_background();
}

/// A key no other operation of the run uses, and the fingerprint of its request.
fn request_key(client: usize, n: u64) -> Result<furrow_app::RequestKey> {
    let key = format!("bench-{client}-{n}");
    furrow_app::RequestKey::new("bench", &key, "POST", "/bench", &n.to_le_bytes()).map_err(|e| anyhow::anyhow!("{e}"))
}

fn next_command(rng: &mut Rng, accounts: &[AccountId], pick: Pick, zipf: &Zipf, n: u64) -> Command {
    let from_index = match pick {
        Pick::Uniform => rng.below(accounts.len() as u64) as usize,
        Pick::Hot => 0,
        Pick::Zipf => zipf.sample(rng),
    };
    let from = accounts[from_index];
    let selection = Selection::Quantity { quantity: Quantity(1), batch: None };
    if n.is_multiple_of(2) && accounts.len() > 1 {
        let mut to_index = rng.below(accounts.len() as u64 - 1) as usize;
        if to_index >= from_index {
            to_index += 1;
        }
        Command::Transfer { from, to: accounts[to_index], selection }
    } else {
        Command::Retire { from, selection, claim: sim::claim(n) }
    }
}

/// Inclusion and consistency proof p99 (µs) on a generated dataset, as the server computes them.
pub async fn proofs(dir: &Path, dataset: &Dataset, samples: usize, seed: u64) -> Result<(f64, f64)> {
    let store = SqliteStore::open_read_only(&crate::database_path(dir)).await?;
    let size = dataset.log_size;
    let mut rng = Rng::new(seed ^ size);
    let mut inclusion = Vec::with_capacity(samples);
    for _ in 0..samples {
        let index = rng.below(size);
        let t = Instant::now();
        transparency::inclusion_proof(&store, index).await?;
        inclusion.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let mut consistency = Vec::with_capacity(samples / 4 + 1);
    for _ in 0..samples / 4 + 1 {
        let old = 1 + rng.below(size - 1);
        let t = Instant::now();
        transparency::consistency_proof(&store, old, size).await?;
        consistency.push(t.elapsed().as_secs_f64() * 1e6);
    }
    store.close().await;
    Ok((p(&inclusion, 99.0), p(&consistency, 99.0)))
}

/// The serials a round looks up: the same for Furrow and for the raw baseline.
pub fn lookup_serials(dataset: &Dataset, samples: usize, seed: u64) -> Vec<u64> {
    let mut rng = Rng::new(seed ^ 0x6c6f_6f6b);
    (0..samples).map(|_| 1 + rng.below(dataset.max_serial)).collect()
}

/// Serial lookup ("who holds serial X?") p99 (µs) on a generated dataset, through the store.
pub async fn lookups(dir: &Path, serials: &[u64]) -> Result<f64> {
    let store = SqliteStore::open_read_only(&crate::database_path(dir)).await?;
    let mut micros = Vec::with_capacity(serials.len());
    let mut found = 0;
    for &serial in serials {
        let t = Instant::now();
        found += usize::from(store.block_at(serial).await?.is_some());
        micros.push(t.elapsed().as_secs_f64() * 1e6);
    }
    store.close().await;
    if found == 0 {
        bail!("no serial lookup found a block: the dataset is wrong");
    }
    Ok(p(&micros, 99.0))
}

/// `furrow verify --data-dir` (this same binary) on a dataset: log entries per second. A failed
/// verification fails the bench.
pub async fn verify(dir: &Path, dataset: &Dataset) -> Result<f64> {
    let exe = std::env::current_exe()?;
    let t = Instant::now();
    let mut command = std::process::Command::new(exe);
    command.args(["verify", "--data-dir"]).arg(dir).args(["--key", &dataset.vkey]);
    // The witness file stays with the dataset rather than in ~/.furrow.
    command.arg("--witness").arg(dir.join("witness"));
    let output = output(command).await?;
    let seconds = t.elapsed().as_secs_f64();
    if !output.status.success() {
        bail!(
            "furrow verify rejected the generated dataset in {}:\n{}{}",
            dir.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(dataset.log_size as f64 / seconds)
}

/// `furrow init` + `furrow import` of the real exports: rows per second (the rows of the import
/// report over the import's wall time). `None` when the import fails (reported, not fatal).
pub async fn import(dir: &Path, real: &Path) -> Result<Option<f64>> {
    let exe = std::env::current_exe()?;
    let target = tempfile::Builder::new().prefix("import-").tempdir_in(dir)?;
    let report = target.path().join("report.json");
    let mut command = std::process::Command::new(&exe);
    command.args(["init", "--data-dir"]).arg(target.path());
    let init = output(command).await?;
    if !init.status.success() {
        bail!("furrow init failed: {}", String::from_utf8_lossy(&init.stderr));
    }
    let t = Instant::now();
    let mut command = std::process::Command::new(&exe);
    command.arg("import").arg(real).arg("--data-dir").arg(target.path()).arg("--report").arg(&report);
    let output = output(command).await?;
    let seconds = t.elapsed().as_secs_f64();
    if !output.status.success() {
        eprintln!(
            "note: furrow import of {} failed; no import rate: {}",
            real.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        return Ok(None);
    }
    let body: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report)?)?;
    let rows: u64 = body["files"].as_array().map_or(0, |files| files.iter().filter_map(|f| f["rows"].as_u64()).sum());
    Ok(Some(rows as f64 / seconds))
}

/// Furrow's HTTP server over the small dataset, and a static server on another port that sends
/// the same bytes with the same content type.
pub struct PageServers {
    furrow: String,
    statics: String,
    client: reqwest::Client,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    registry: Registry,
}

const PAGES: [&str; 2] = ["/api/v1/status", "/verify"];
/// Concurrent HTTP clients for the page measurements.
const PAGE_CLIENTS: usize = 16;

impl PageServers {
    pub async fn start(dataset_dir: &Path) -> Result<Self> {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&crate::database_path(dataset_dir)).await?);
        let log = crate::keys::load(dataset_dir)?.map(transparency::log_options);
        let registry = Registry::start(store, SequencerOptions { log, ..SequencerOptions::default() }).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let furrow = format!("http://{}", listener.local_addr()?);
        let serving = registry.clone();
        let mut tasks = vec![tokio::spawn(async move {
            let _ = furrow_http::serve(listener, serving, std::future::pending()).await;
        })];
        let client = reqwest::Client::builder().pool_max_idle_per_host(PAGE_CLIENTS).build()?;
        let mut router = axum::Router::new();
        for page in PAGES {
            let response = client.get(format!("{furrow}{page}")).send().await?;
            if !response.status().is_success() {
                bail!("GET {page} answered {}", response.status());
            }
            let content_type = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("application/octet-stream")
                .to_owned();
            let bytes = response.bytes().await?;
            router = router.route(
                page,
                axum::routing::get(move || {
                    let (content_type, bytes) = (content_type.clone(), bytes.clone());
                    async move { ([(axum::http::header::CONTENT_TYPE, content_type)], bytes) }
                }),
            );
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let statics = format!("http://{}", listener.local_addr()?);
        tasks.push(tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        }));
        Ok(Self { furrow, statics, client, tasks, registry })
    }

    /// Requests per second of (status, verify page) from the static server.
    pub async fn measure_static(&self, seconds: f64) -> Result<(f64, f64)> {
        Ok((self.rate(&self.statics, PAGES[0], seconds).await?, self.rate(&self.statics, PAGES[1], seconds).await?))
    }

    /// Requests per second of (status, verify page) from Furrow.
    pub async fn measure_furrow(&self, seconds: f64) -> Result<(f64, f64)> {
        Ok((self.rate(&self.furrow, PAGES[0], seconds).await?, self.rate(&self.furrow, PAGES[1], seconds).await?))
    }

    async fn rate(&self, base: &str, page: &str, seconds: f64) -> Result<f64> {
        let url = format!("{base}{page}");
        let deadline = Instant::now() + Duration::from_secs_f64(seconds);
        let start = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..PAGE_CLIENTS {
            let (client, url) = (self.client.clone(), url.clone());
            tasks.spawn(async move {
                let mut n = 0u64;
                while Instant::now() < deadline {
                    let response = client.get(&url).send().await?;
                    if !response.status().is_success() {
                        bail!("GET {url} answered {}", response.status());
                    }
                    response.bytes().await?;
                    n += 1;
                }
                anyhow::Ok(n)
            });
        }
        let mut n = 0;
        while let Some(joined) = tasks.join_next().await {
            n += joined??;
        }
        Ok(n as f64 / start.elapsed().as_secs_f64())
    }

    pub fn stop(self) {
        self.registry.stop_background();
        for task in self.tasks {
            task.abort();
        }
    }
}
