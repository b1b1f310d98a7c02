//! The baselines: what this machine's disk, SQLite, SHA-256 and PostgreSQL do without Furrow,
//! and a description of the machine.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use sha2::Digest;
use sqlx::Connection;

/// The machine, as printed at the top of the table.
pub struct Machine {
    pub date: String,
    pub cpu: String,
    pub cores: usize,
    pub memory: String,
    pub kernel: String,
    pub disk: String,
    pub build: String,
    pub rustc: String,
}

pub fn machine(dir: &Path) -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, v)| v.trim().to_owned()))
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or("unknown memory".into(), |kb| format!("{:.1} GiB RAM", kb / 1024.0 / 1024.0));
    let kernel =
        std::fs::read_to_string("/proc/sys/kernel/osrelease").map_or("unknown".into(), |s| s.trim().to_owned());
    let build = if cfg!(debug_assertions) { "debug build (not comparable)" } else { "release build" }.to_owned();
    let rustc = std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map_or("rustc unknown".into(), |o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    Machine {
        date: furrow_app::rfc3339(furrow_app::now()),
        cpu,
        cores,
        memory,
        kernel,
        disk: disk_of(dir),
        build,
        rustc,
    }
}

/// The mount that holds `dir`: device, file system and mount point.
fn disk_of(dir: &Path) -> String {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    let best = mounts
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 3 && dir.starts_with(f[1])).then(|| (f[0].to_owned(), f[1].to_owned(), f[2].to_owned()))
        })
        .max_by_key(|(_, mount, _)| mount.len());
    match best {
        Some((device, mount, fs)) => format!("{device} ({fs}) mounted at {mount}; data dir {}", dir.display()),
        None => format!("unknown; data dir {}", dir.display()),
    }
}

/// F: 4 KiB appends, each followed by fdatasync, in a temporary file in `dir`.
pub fn fsync_rate(dir: &Path, seconds: f64) -> Result<f64> {
    let path = dir.join("fsync-probe");
    let mut file = std::fs::File::create(&path).context("fsync probe file")?;
    let block = [0x5au8; 4096];
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < seconds || n < 3 {
        file.write_all(&block)?;
        file.sync_data()?;
        n += 1;
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    drop(file);
    let _ = std::fs::remove_file(path);
    Ok(rate)
}

/// S1 / S1000: raw SQLite inserts through sqlx with Furrow's settings (WAL, synchronous=FULL),
/// `per_txn` rows per transaction, rows about as wide as a log entry (~200 B).
pub async fn sqlite_rows(dir: &Path, per_txn: usize, seconds: f64) -> Result<f64> {
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
    let path = dir.join(format!("sqlite-probe-{per_txn}.db"));
    let options = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full);
    let mut conn = sqlx::SqliteConnection::connect_with(&options).await?;
    sqlx::query("CREATE TABLE IF NOT EXISTS probe (idx INTEGER PRIMARY KEY, at INTEGER NOT NULL, bytes BLOB NOT NULL, hash BLOB NOT NULL)")
        .execute(&mut conn)
        .await?;
    let bytes = vec![0xabu8; 160];
    let hash = [0x11u8; 32];
    let start = Instant::now();
    let mut rows = 0u64;
    while start.elapsed().as_secs_f64() < seconds || rows < 3 {
        let mut tx = conn.begin().await?;
        for _ in 0..per_txn {
            sqlx::query("INSERT INTO probe (idx, at, bytes, hash) VALUES (?, ?, ?, ?)")
                .bind(rows as i64)
                .bind(rows as i64)
                .bind(&bytes)
                .bind(&hash[..])
                .execute(&mut *tx)
                .await?;
            rows += 1;
        }
        tx.commit().await?;
    }
    let rate = rows as f64 / start.elapsed().as_secs_f64();
    conn.close().await?;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    Ok(rate)
}

/// L: the raw point query behind a serial lookup, on the same database file, table and index
/// (`blocks`, keyed by its first serial), through one plain sqlx connection: p99 in µs over the
/// same serials `lookups` asks Furrow for. What Furrow adds on top is its pool and row mapping.
pub async fn raw_lookup_p99(db: &Path, serials: &[u64]) -> Result<f64> {
    use sqlx::sqlite::SqliteConnectOptions;
    let options = SqliteConnectOptions::new().filename(db).read_only(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&options).await?;
    let mut micros = Vec::with_capacity(serials.len());
    let mut found = 0usize;
    for &serial in serials {
        let serial = i64::try_from(serial).context("serial out of range")?;
        let t = Instant::now();
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT serial_start, serial_end FROM blocks WHERE serial_start <= ?1 ORDER BY serial_start DESC LIMIT 1",
        )
        .bind(serial)
        .fetch_optional(&mut conn)
        .await?;
        micros.push(t.elapsed().as_secs_f64() * 1e6);
        found += usize::from(row.is_some_and(|(_, end)| end >= serial));
    }
    conn.close().await?;
    if found == 0 {
        bail!("the raw lookup found no block: the dataset is wrong");
    }
    Ok(super::p(&micros, 99.0))
}

/// H: SHA-256 of 64-byte messages per second, one core.
pub fn sha256_rate(seconds: f64) -> f64 {
    let mut block = [7u8; 64];
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < seconds {
        for _ in 0..1024 {
            let digest = sha2::Sha256::digest(block);
            block[..32].copy_from_slice(&digest);
        }
        n += 1024;
    }
    std::hint::black_box(block);
    n as f64 / start.elapsed().as_secs_f64()
}

/// pgbench TPC-B in a database of the bench's own on the given server.
pub struct PgBench {
    admin_url: String,
    database: String,
    pub url: String,
    program: String,
}

/// `url` with its database name replaced (query parameters kept).
pub fn with_database(url: &str, database: &str) -> Result<String> {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let Some(scheme_end) = base.find("://") else { bail!("not a postgres:// URL") };
    let rest = &base[scheme_end + 3..];
    let host_end = rest.find('/').map_or(base.len(), |i| scheme_end + 3 + i);
    let mut out = format!("{}/{database}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    Ok(out)
}

/// `url` with `search_path` set to `schema`.
pub fn with_schema(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}")
}

impl PgBench {
    pub async fn setup(url: &str, scale: u32) -> Result<Self> {
        let program = ["pgbench", "/usr/lib/postgresql/15/bin/pgbench"]
            .into_iter()
            .find(|p| std::process::Command::new(p).arg("--version").output().is_ok_and(|o| o.status.success()))
            .context("pgbench not found (install postgresql-client or the server package)")?
            .to_owned();
        let database = format!("furrow_bench_{}", std::process::id());
        let mut admin = sqlx::PgConnection::connect(url).await.context("cannot connect to --database-url")?;
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {database}"))).execute(&mut admin).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}"))).execute(&mut admin).await?;
        admin.close().await?;
        let bench_url = with_database(url, &database)?;
        let this = Self { admin_url: url.to_owned(), database, url: bench_url, program };
        let mut init = command(&this.program);
        init.args(["-i", "-q", "-s", &scale.to_string(), &this.url]);
        let output = output(init).await?;
        if !output.status.success() {
            let message = String::from_utf8_lossy(&output.stderr).into_owned();
            this.teardown().await;
            bail!("pgbench -i failed: {message}");
        }
        Ok(this)
    }

    /// TPC-B tps with `clients` clients for `seconds`. On a loaded machine, opening 64
    /// connections can take the whole of a short run, which then processes no transaction and
    /// reports no tps; such a run is repeated for twice as long, up to three more times.
    pub async fn run(&self, clients: usize, seconds: f64) -> Result<f64> {
        let mut seconds = seconds.ceil().max(1.0);
        for _attempt in 0..4 {
            if let Some(tps) = self.run_once(clients, seconds).await? {
                return Ok(tps);
            }
            seconds *= 2.0;
        }
        bail!("pgbench processed no transaction in four runs of up to {} s", seconds / 2.0)
    }

    async fn run_once(&self, clients: usize, seconds: f64) -> Result<Option<f64>> {
        let mut run = command(&self.program);
        run.args([
            "-n",
            "-M",
            "prepared",
            "-c",
            &clients.to_string(),
            "-j",
            "2",
            "-T",
            &(seconds as u64).to_string(),
            &self.url,
        ]);
        let output = output(run).await?;
        let text = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            bail!("pgbench failed: {}", String::from_utf8_lossy(&output.stderr));
        }
        Ok(parse_tps(&text).filter(|tps| *tps > 0.0))
    }

    /// A fresh schema for one Furrow run, and the URL that uses it.
    pub async fn fresh_schema(&self, round: usize) -> Result<String> {
        let schema = format!("furrow_round_{round}");
        let mut conn = sqlx::PgConnection::connect(&self.url).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))).execute(&mut conn).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(&mut conn).await?;
        conn.close().await?;
        Ok(with_schema(&self.url, &schema))
    }

    pub async fn teardown(&self) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if let Ok(mut admin) = sqlx::PgConnection::connect(&self.admin_url).await {
            let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.database);
            if let Err(e) = sqlx::query(sqlx::AssertSqlSafe(drop)).execute(&mut admin).await {
                eprintln!("warning: could not drop the bench database {}: {e}", self.database);
            }
            let _ = admin.close().await;
        }
    }
}

/// The `tps = N` figure of pgbench's report.
pub fn parse_tps(text: &str) -> Option<f64> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("tps = "))
        .filter_map(|r| r.split_whitespace().next()?.parse().ok())
        .next_back()
}

/// Runs a program to completion off the async threads (the CLI's tokio has no `process`).
pub async fn output(mut command: std::process::Command) -> Result<std::process::Output> {
    Ok(tokio::task::spawn_blocking(move || command.output()).await??)
}

fn command(program: &str) -> std::process::Command {
    std::process::Command::new(program)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_get_the_bench_database_and_schema() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "b").ok().as_deref(),
            Some("postgres://postgres@127.0.0.1:5432/b")
        );
        assert_eq!(with_database("postgres://h", "b").ok().as_deref(), Some("postgres://h/b"));
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "b").ok().as_deref(),
            Some("postgres://u:p@h/b?sslmode=disable")
        );
        assert_eq!(with_schema("postgres://h/b", "s"), "postgres://h/b?options=-c%20search_path%3Ds");
    }

    #[test]
    fn tps_is_read_from_pgbench_output() {
        let out = "latency average = 11.02 ms\ninitial connection time = 20.1 ms\ntps = 5761.123456 (without initial connection time)\n";
        assert_eq!(parse_tps(out), Some(5761.123456));
        assert_eq!(parse_tps("nothing"), None);
    }
}
