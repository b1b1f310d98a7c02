//! `furrow import` killed with SIGKILL at random moments (issue #10's kill -9 test, for the
//! importer): a real process, cut off mid-file several times, then run to the end, leaves exactly
//! what one uninterrupted import leaves on a fresh registry — the same records, quarantined rows,
//! flags and source rows (with the counts of a whole import). The moments come from a seed that is
//! printed; `FURROW_KILL_SEED=N` replays a run.

mod common;

use common::furrow;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Rows of the generated export: enough for an import of a couple of seconds in a debug build.
const ROWS: u64 = 30_000;
/// Imports killed before the one that is let finish.
const KILLS: usize = 5;

fn data_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/real")
}

/// A Verra VCU export of `rows` blocks of 10 credits, every 1 000th row repeated (quarantined as a
/// duplicate), so that the comparison covers the quarantine as well as the records.
fn generate(path: &Path, rows: u64) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    out.write_all(
        b"Issuance Date,Sustainable Development Goals,Vintage Start,Vintage End,ID,Name,Country/Area,Project Type,\
Methodology,Total Vintage Quantity,Quantity Issued,Serial Number,Additional Certifications,\
Retirement/Cancellation Date,Retirement Beneficiary,Retirement Reason,Retirement Details\n",
    )
    .expect("write");
    for i in 0..rows {
        let project = 1000 + i / 1000;
        let start = 100_000_000 + i * 10;
        let end = start + 9;
        let row = format!(
            "2021-03-01,13: Climate Action,2020-01-01,2020-12-31,{project},Synthetic project {project},Australia,\
             Agriculture Forestry and Other Land Use,VM0042,\"10,000\",10,\
             {}-{start}-{end}-VCS-VCU-263-VER-AU-7-{project}-01012020-31122020-0,,2022-06-30,Company {},Other,synthetic\n",
            20_000 + i / 1000,
            i % 5000
        );
        out.write_all(row.as_bytes()).expect("write");
        if i % 1000 == 999 {
            out.write_all(row.as_bytes()).expect("write");
        }
    }
    out.flush().expect("flush");
}

fn init(data: &Path) {
    let o = furrow().arg("init").arg("--data-dir").arg(data).output().expect("init");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn import(data: &Path, files: &[&Path]) -> Command {
    let mut command = furrow();
    command.arg("import").args(files).arg("--data-dir").arg(data).stdout(Stdio::null()).stderr(Stdio::null());
    // A killed import leaves its scratch indexes behind: in the test's directory, not the machine's.
    command.env("TMPDIR", data.parent().unwrap_or(data));
    command
}

/// SplitMix64: the kill moments, replayable from the seed.
struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// What an import leaves in the external area, without the import times.
#[derive(Debug, PartialEq)]
struct Area {
    sources: Vec<(String, String, String, i64, i64, i64, i64)>,
    records: Vec<(String, String, String, String, String, i64)>,
    quarantined: Vec<(String, i64, String, String, String)>,
    flags: Vec<(String, String, String)>,
}

fn area(data: &Path) -> Area {
    use sqlx::Connection;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let url = format!("sqlite://{}", data.join("furrow.db").display());
        let mut db = sqlx::SqliteConnection::connect(&url).await.expect("open");
        let sources = sqlx::query_as(
            "SELECT sha256, file_name, layout, row_count, imported, already_present, quarantined
             FROM external_sources ORDER BY sha256",
        )
        .fetch_all(&mut db)
        .await
        .expect("sources");
        let records = sqlx::query_as(
            "SELECT registry, kind, origin_id, digest, source_sha256, line FROM external_records
             ORDER BY registry, kind, origin_id",
        )
        .fetch_all(&mut db)
        .await
        .expect("records");
        let quarantined = sqlx::query_as(
            "SELECT source_sha256, line, reason, detail, raw FROM external_quarantine ORDER BY source_sha256, line, reason",
        )
        .fetch_all(&mut db)
        .await
        .expect("quarantine");
        let flags = sqlx::query_as("SELECT code, subject, detail FROM external_flags ORDER BY code, subject")
            .fetch_all(&mut db)
            .await
            .expect("flags");
        Area { sources, records, quarantined, flags }
    })
}

/// Where a kill left the import, for the log and to know that one cut a file off: a source row
/// still incomplete is an import stopped mid-file.
fn state(data: &Path) -> &'static str {
    let now = area(data);
    match now.sources.iter().map(|s| s.3).min() {
        None => "before the first chunk",
        Some(0) => "mid-file",
        Some(_) if now.flags.is_empty() => "after the files, before the flags",
        Some(_) => "after the import",
    }
}

#[test]
fn an_import_killed_at_random_moments_resumes_to_what_one_import_leaves() {
    let seed = std::env::var("FURROW_KILL_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(7, |d| d.as_nanos() as u64)
    });
    println!("seed {seed}: replay with FURROW_KILL_SEED={seed} cargo test -p furrow --test import_kill");
    let dir = tempfile::tempdir().expect("tempdir");
    let export = dir.path().join("verra.csv");
    generate(&export, ROWS);
    let ledger = data_root().join("climate-refarm-ledger");
    let files = [export.as_path(), ledger.as_path()];

    // One uninterrupted import on a fresh registry: the reference, and how long an import takes.
    let reference = dir.path().join("reference");
    init(&reference);
    let started = Instant::now();
    assert!(import(&reference, &files).status().expect("import").success());
    let took = started.elapsed();
    let expected = area(&reference);
    assert!(expected.records.len() as u64 > ROWS, "records of the reference import: {}", expected.records.len());
    assert_eq!(expected.quarantined.len() as u64, ROWS / 1000, "the repeated rows are quarantined");
    assert!(!expected.flags.is_empty(), "the ledger raises flags");

    let data = dir.path().join("killed");
    init(&data);
    let mut rng = Rng(seed);
    let mut cut_mid_file = 0;
    for kill in 0..KILLS {
        // Each run resumes where the one before stopped, so the kills land early enough that the
        // runs together do not outlast one whole import: most cut a file off mid-way.
        let (low, high) = if kill == 0 { (0.2, 0.4) } else { (0.05, 0.35) };
        let at = took.mul_f64(low + (high - low) * rng.unit());
        let mut child = import(&data, &files).spawn().expect("spawn");
        let deadline = Instant::now() + at;
        while Instant::now() < deadline && child.try_wait().expect("wait").is_none() {
            std::thread::sleep(Duration::from_millis(5));
        }
        let finished = child.try_wait().expect("wait").is_some();
        if !finished {
            child.kill().expect("SIGKILL");
            child.wait().expect("reaped");
        }
        let hit = if finished { "finished first" } else { state(&data) };
        cut_mid_file += usize::from(hit == "mid-file");
        println!("kill {kill} at {at:?} of {took:?}: {hit}");
    }
    assert!(cut_mid_file > 0, "no kill cut an import off mid-file; the test showed nothing (seed {seed})");

    let o = import(&data, &files).stdout(Stdio::piped()).output().expect("import");
    assert!(o.status.success(), "the import after the kills: {}", String::from_utf8_lossy(&o.stdout));
    let got = area(&data);
    // Part by part, the small ones first, so that a failure says what differs.
    assert_eq!(got.sources, expected.sources, "source rows (seed {seed})");
    assert_eq!(got.flags, expected.flags, "flags (seed {seed})");
    assert_eq!(got.quarantined, expected.quarantined, "quarantine (seed {seed})");
    assert_eq!(got.records.len(), expected.records.len(), "records (seed {seed})");
    let differ = got.records.iter().zip(&expected.records).find(|(a, b)| a != b);
    assert!(differ.is_none(), "a record differs (seed {seed}): {differ:?}");
}
