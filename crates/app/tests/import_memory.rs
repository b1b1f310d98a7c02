//! The importer's memory does not grow with the external area (issue #10: "a million-row import
//! … handled with bounded memory"). An area of N records and one of 5N are stored in SQLite; then
//! an importer opens each, imports a file against it and runs the cross-registry checks, and the
//! peak resident memory that took is compared: it must not grow with the area. (Holding the area
//! for the checks took about 250 bytes a record, and the importer's index of it about 70 more.)
//! Its own test binary, because it reads the process's peak resident memory, which other tests
//! running beside it would disturb.

use std::path::Path;
use std::sync::Arc;

use furrow_app::external::Importer;
use furrow_app::store::{ExternalImport, ExternalRecord, ExternalSource, Store};
use furrow_domain::Timestamp;
use furrow_store_sqlite::SqliteStore;

const N: u64 = 40_000;

/// Resets this process's peak resident memory to what it holds now (Linux ≥ 4.0); false where that
/// cannot be done.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn status(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Record `i` of a Verra-like area: issuances and retirements alternate, each retirement inside the
/// issuance before it, 1 000 records a project, so the checks have ranges and sums to look at and
/// find nothing wrong.
fn record(i: u64, source: &str) -> ExternalRecord {
    let project = 1000 + i / 1000;
    let start = 100_000_000 + (i / 2) * 10;
    let kind = if i.is_multiple_of(2) { "issuance" } else { "retirement" };
    let origin_id = format!("{}-{start}-{}-VCS-VCU-263-VER-AU-7-{project}-01012020-31122020-0", 20_000 + i, start + 9);
    ExternalRecord {
        registry: "verra".into(),
        kind: kind.into(),
        origin_id: origin_id.clone(),
        dataset: "verra-vcus".into(),
        project: Some(project.to_string()),
        name: None,
        country: Some("AU".into()),
        methodology: Some("VM0042".into()),
        vintage: Some(2020),
        quantity: Some(10),
        unit: "credits".into(),
        serial: Some(origin_id),
        namespace: Some("VCU-VER".into()),
        range_start: Some(start as i64),
        range_end: Some(start as i64 + 9),
        event_date: Some("2022-06-30".into()),
        period_start: None,
        period_end: None,
        beneficiary: Some(format!("Company {}", i % 5000)),
        latitude: None,
        longitude: None,
        digest: format!("{i:032x}"),
        source_sha256: source.into(),
        line: i as i64 + 2,
        raw: format!("{{\"Serial Number\":\"{i}\",\"Retirement Details\":\"synthetic row of the memory test\"}}"),
    }
}

async fn area_of(dir: &Path, records: u64) -> Arc<dyn Store> {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.join("furrow.db")).await.expect("open"));
    let source = ExternalSource {
        sha256: "0".repeat(64),
        file_name: "synthetic.csv".into(),
        layout: "verra/vcus".into(),
        rows: records,
        imported: records,
        already_present: 0,
        quarantined: 0,
        imported_at: 1,
    };
    let mut i = 0;
    while i < records {
        let end = (i + 5_000).min(records);
        let chunk = ExternalImport {
            source: source.clone(),
            records: (i..end).map(|i| record(i, &source.sha256)).collect(),
            quarantined: Vec::new(),
        };
        store.external_import(&chunk).await.expect("write");
        i = end;
    }
    store
}

/// Peak memory an importer takes to import a small file against `store`'s area and check it.
async fn import_and_check(store: Arc<dyn Store>) -> Option<u64> {
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/real/verra-vcus-au-sg/vcus_singapore.csv");
    let bytes = std::fs::read(file).expect("real file");
    if !reset_peak() {
        return None;
    }
    let before = status("VmRSS:")?;
    let mut importer = Importer::open(store.clone()).await.expect("open");
    let report = importer.import("vcus_singapore.csv", &bytes, None, Timestamp(2)).await.expect("import");
    assert!(report.added > 0, "{report:?}");
    importer.finish(&[]).await.expect("checks");
    Some(status("VmHWM:")?.saturating_sub(before))
}

#[tokio::test]
async fn the_importer_s_memory_does_not_grow_with_the_area() {
    let mut grown = Vec::new();
    for records in [N, 5 * N] {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = area_of(dir.path(), records).await;
        let Some(g) = import_and_check(store.clone()).await else {
            println!("skipping: this system cannot reset the peak resident memory (/proc/self/clear_refs)");
            return;
        };
        println!("an area of {records} records: importing and checking grew the peak by {} KB", g >> 10);
        grown.push(g);
        store.close().await;
    }
    // Growth that scales with the area would be about 4N × 320 bytes = 51 MB here; what is left is
    // SQLite's page caches (bounded by their sizes) and allocator noise.
    let extra = grown[1].saturating_sub(grown[0]);
    assert!(extra < 12 << 20, "an area 5× larger took {} MB more to import into and check", extra >> 20);
}
