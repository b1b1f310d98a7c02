//! The importer's memory does not grow with the file (issue #10: "a million-row import … handled
//! with bounded memory"): a generated Verra export of N rows and one of 5N are imported into fresh
//! registries whose writer page cache is small, and the peak resident memory each import took is
//! compared. The within-file checks' state (origin ids, ranges, vintage sums) lives in a scratch
//! database on disk with a bounded cache; held in memory it took about 100 bytes a row, 16 MB more
//! for the larger file here. Its own test binary, because it reads the process's peak resident
//! memory, which other tests running beside it would disturb.

use std::sync::Arc;

use furrow_app::external::Importer;
use furrow_app::store::Store;
use furrow_domain::Timestamp;
use furrow_store_sqlite::SqliteStore;

// The parser's memory tests generate their Verra export the same way.
#[path = "../../import/tests/support/mod.rs"]
mod support;
use support::{VerraRows, peak_rss as peak};

const N: u64 = 40_000;

/// Set in the child processes this test starts: the number of rows the child imports.
const ROWS_VAR: &str = "FURROW_TEST_IMPORT_FILE_ROWS";

/// Imports a generated file of `rows` rows into a fresh registry.
async fn import(rows: u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    // A small writer cache, so that SQLite's page cache (bounded, but 256 MiB in the server) does
    // not hide what the importer holds.
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open_for_bulk_load(&dir.path().join("furrow.db"), 2).await.expect("open"));
    let mut importer = Importer::open(store.clone()).await.expect("open");
    let report = importer
        .import_reader("vcus.csv", &format!("{rows:064x}"), VerraRows::new(rows), None, Timestamp(1))
        .await
        .expect("import");
    assert_eq!((report.rows, report.added, report.quarantined_total()), (rows, rows, 0), "{report:?}");
    store.close().await;
}

/// The peak resident memory of a process that imports a file of `rows` rows: each import runs
/// in a process of its own (this test, started again), because memory one import freed would
/// hide what the next one takes.
fn peak_of_an_import(rows: u64) -> u64 {
    let exe = std::env::current_exe().expect("the test binary");
    let out = std::process::Command::new(exe)
        .args(["the_importer_s_memory_does_not_grow_with_the_file", "--exact", "--nocapture", "--test-threads=1"])
        .env(ROWS_VAR, rows.to_string())
        .output()
        .expect("the test binary runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    let line = text.lines().find_map(|l| l.split("peak bytes: ").nth(1)).unwrap_or_else(|| panic!("{text}"));
    line.trim().parse().expect("a number of bytes")
}

#[tokio::test]
async fn the_importer_s_memory_does_not_grow_with_the_file() {
    if let Some(rows) = std::env::var(ROWS_VAR).ok().and_then(|r| r.parse().ok()) {
        import(rows).await;
        println!("peak bytes: {}", peak().unwrap_or(0));
        return;
    }
    if peak().is_none() {
        println!("skipping: no /proc/self/status on this system");
        return;
    }
    let small = peak_of_an_import(N);
    let large = peak_of_an_import(5 * N);
    println!("importing {N} rows: peak {} KB; {} rows: peak {} KB", small >> 10, 5 * N, large >> 10);
    // Within-file state that scales with the file would be about 4N × 100 bytes = 16 MB here; what
    // is left is the page caches (bounded by their sizes) and allocator noise.
    let extra = large.saturating_sub(small);
    assert!(extra < 10 << 20, "a file 5× longer took {} MB more to import", extra >> 20);
}
