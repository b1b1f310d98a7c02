//! The external area (`furrow import`) behaves alike on every backend: what is stored equals what
//! the pure parser read, importing the same files again changes nothing, quarantined rows are
//! kept with their reasons, a contradicting re-publication is quarantined, and the flags are the
//! same. The real files are read in place from `../shared/data/real/`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use furrow_app::external::{FileStatus, Importer, own_projects};
use furrow_app::store::{ExternalFilter, ExternalFlag, ExternalQuarantined, ExternalRecord, ExternalScan, Page, Store};
use furrow_domain::Timestamp;
use furrow_testkit::Backend;

use crate::on_every_backend;
use crate::support::start;

fn data_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/real")
}

const FILES: &[&str] = &[
    "climate-refarm-ledger/ledger/main.csv",
    "climate-refarm-ledger/ledger/climate_offset_portfolio/retirements/202309.csv",
    "climate-refarm-ledger/ledger/climate_offset_portfolio/summary.json",
    "climate-refarm-ledger/projects/PR00001/monitoring.csv",
    "climate-refarm-ledger/projects/PR00002/monitoring.csv",
    "vrod-v3-2021-hyperledger/GOLD_issuances.csv",
    "verra-vcus-au-sg/vcus_singapore.csv",
    "carbonplan-offsetsdb-fixtures/arb/nc-arboc_issuance_sheet3.csv",
    "carbonplan-offsetsdb-fixtures/TERMS_OF_DATA_ACCESS",
];

/// A re-publication of one Singapore block with another quantity: it contradicts the import.
const CONTRADICTION: &str = "\
Issuance Date,Sustainable Development Goals,Vintage Start,Vintage End,ID,Name,Country/Area,Project Type,Methodology,Total Vintage Quantity,Quantity Issued,Serial Number,Additional Certifications,Retirement/Cancellation Date,Retirement Beneficiary,Retirement Reason,Retirement Details
2024-02-02,,2021-01-01,2021-12-31,1736,Jurong,Singapore,Energy,AM0029,\"243,482\",427,16257-751880934-751881360-VCS-VCU-997-VER-SG-1-1736-01012021-31122021-0,,2024-06-04,,,
";

#[derive(Debug, PartialEq)]
struct Snapshot {
    sources: Vec<(String, String, String, u64, u64, u64, u64)>,
    records: Vec<ExternalRecord>,
    quarantined: Vec<ExternalQuarantined>,
    flags: Vec<ExternalFlag>,
}

async fn snapshot(store: &dyn Store) -> Snapshot {
    let mut records = Vec::new();
    let mut after = None;
    loop {
        let page =
            store.external_records(&ExternalFilter::default(), Page { after, limit: 3_000 }).await.expect("records");
        let Some((last, _)) = page.last() else { break };
        after = Some(*last);
        records.extend(page.into_iter().map(|(_, r)| r));
    }
    let mut quarantined = Vec::new();
    let mut after = None;
    loop {
        let page = store.external_quarantined(Page { after, limit: 7 }).await.expect("quarantine");
        let Some((last, _)) = page.last() else { break };
        after = Some(*last);
        quarantined.extend(page.into_iter().map(|(_, q)| q));
    }
    let flags = store.external_flags(Page { after: None, limit: 10_000 }).await.expect("flags");
    let sources = store
        .external_sources()
        .await
        .expect("sources")
        .into_iter()
        .map(|s| (s.sha256, s.file_name, s.layout, s.rows, s.imported, s.already_present, s.quarantined))
        .collect();
    Snapshot { sources, records, quarantined, flags: flags.into_iter().map(|(_, f)| f).collect() }
}

async fn import_all(store: Arc<dyn Store>, at: i64) -> Vec<furrow_app::external::FileReport> {
    let mut importer = Importer::open(store.clone()).await.expect("open");
    let mut reports = Vec::new();
    for name in FILES {
        let bytes = std::fs::read(data_root().join(name)).expect("real file");
        reports.push(importer.import(name, &bytes, None, Timestamp(at)).await.expect("import"));
    }
    let own = own_projects(store.as_ref()).await.expect("own projects");
    assert!(!own.is_empty(), "the fixture's batches make own projects");
    importer.finish(&own).await.expect("flags");
    reports
}

async fn importing_twice_changes_nothing(backend: Backend) {
    let Some(fx) = start(backend).await else { return };
    let buyer = fx.open_buyer("buyer").await;
    fx.issue(buyer, 10).await;
    let store = fx.store.clone();
    let supply_before = store.totals().await.expect("totals");

    let first = import_all(store.clone(), 1_000).await;
    let by_name = |name: &str| first.iter().find(|r| r.name.ends_with(name)).expect("report");
    assert!(matches!(by_name("TERMS_OF_DATA_ACCESS").status, FileStatus::Skipped(_)));
    let gold = by_name("GOLD_issuances.csv");
    assert_eq!((gold.rows, gold.added, gold.quarantined_total()), (8083, 8081, 2));
    assert_eq!(gold.quarantined.get("quantity_mismatch"), Some(&1));
    assert_eq!(gold.quarantined.get("duplicate"), Some(&1));
    assert!(first.iter().filter(|r| r.status == FileStatus::Imported).all(|r| r.new_file && r.already_present == 0));
    let after_first = snapshot(store.as_ref()).await;
    assert_eq!(after_first.records.len(), 110 + 110 + 1 + 1 + 1 + 8081 + 92 + 100);
    assert_eq!(after_first.quarantined.len(), 2);
    assert!(after_first.quarantined.iter().any(|q| q.reason == "quantity_mismatch" && q.raw.contains("GS1064")));
    assert!(
        after_first
            .flags
            .iter()
            .any(|f| f.code == "credits_exceed_monitoring" && f.subject == "climate-refarm:PR00002")
    );

    // The stored records are exactly what the pure parser read (every field, on every backend).
    let mut parsed = Vec::new();
    for name in FILES {
        let bytes = std::fs::read(data_root().join(name)).expect("real file");
        if let Ok(f) = furrow_import::parse_file(name, &bytes, None) {
            let sha = furrow_import::file_sha256(&bytes);
            parsed.extend(f.records.into_iter().map(|r| {
                let digest = r.digest();
                (r.registry, r.kind.as_str().to_string(), r.origin_id, digest, sha.clone(), r.line as i64, r.raw)
            }));
        }
    }
    let stored: Vec<_> = after_first
        .records
        .iter()
        .map(|r| {
            (
                r.registry.clone(),
                r.kind.clone(),
                r.origin_id.clone(),
                r.digest.clone(),
                r.source_sha256.clone(),
                r.line,
                r.raw.clone(),
            )
        })
        .collect();
    assert_eq!(stored, parsed);

    // Again: nothing changes, and the report says everything was already there.
    let second = import_all(store.clone(), 2_000).await;
    for (a, b) in first.iter().zip(&second) {
        assert_eq!(b.added, 0, "{}", b.name);
        assert_eq!(b.already_present, a.added, "{}", b.name);
        assert_eq!(b.quarantined, a.quarantined, "{}", b.name);
        assert!(!b.new_file || b.status != FileStatus::Imported, "{}", b.name);
    }
    assert_eq!(snapshot(store.as_ref()).await, after_first);

    // A contradicting re-publication of a stored block is quarantined, not merged.
    let mut importer = Importer::open(store.clone()).await.expect("open");
    let report =
        importer.import("sg-again.csv", CONTRADICTION.as_bytes(), None, Timestamp(3_000)).await.expect("import");
    assert_eq!((report.added, report.quarantined.get("conflicts_with_imported")), (0, Some(&1)));
    let after_conflict = snapshot(store.as_ref()).await;
    assert_eq!(after_conflict.records, after_first.records);
    assert_eq!(after_conflict.quarantined.len(), 3);

    // Reference data only: the registry's own supply and log are untouched.
    assert_eq!(store.totals().await.expect("totals"), supply_before);
}

on_every_backend!(importing_twice_changes_nothing_and_keeps_the_quarantine, super::importing_twice_changes_nothing);

/// A file read that gives out after `left` bytes, like an import killed or a disk gone mid-way.
struct Interrupted<'a> {
    bytes: &'a [u8],
    left: usize,
}

impl std::io::Read for Interrupted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Err(std::io::Error::other("interrupted (injected)"));
        }
        let n = buf.len().min(self.left).min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        (self.bytes, self.left) = (&self.bytes[n..], self.left - n);
        Ok(n)
    }
}

/// An import interrupted mid-way, twice, and then run again to the end leaves exactly what one
/// uninterrupted import leaves (compared with one on a fresh in-memory store): every record once,
/// the quarantine once, the file's source row with the counts of a whole import, the same flags.
async fn an_interrupted_import_resumes(backend: Backend) {
    let Some(fx) = start(backend).await else { return };
    let store = fx.store.clone();
    let name = "vrod-v3-2021-hyperledger/GOLD_issuances.csv";
    let bytes = std::fs::read(data_root().join(name)).expect("real file");
    let sha = furrow_import::file_sha256(&bytes);
    let mut stored = 0;
    for cut in [bytes.len() / 3, bytes.len() * 4 / 5] {
        let mut importer = Importer::open(store.clone()).await.expect("open");
        let interrupted = Interrupted { bytes: &bytes, left: cut };
        let report = importer.import_reader(name, &sha, interrupted, None, Timestamp(1_000)).await.expect("import");
        assert!(matches!(report.status, FileStatus::Failed(_)), "{backend}: {:?}", report.status);
        let now = store.external_totals().await.expect("totals").records;
        assert!(stored < now && now < 8081, "{backend}: cut at {cut} bytes: {stored} → {now} of 8081 records");
        stored = now;
    }
    let mut importer = Importer::open(store.clone()).await.expect("open");
    let report = importer.import(name, &bytes, None, Timestamp(2_000)).await.expect("import");
    assert_eq!((report.resumed, report.added, report.already_present), (stored, 8081 - stored, 0), "{backend}");
    importer.finish(&[]).await.expect("flags");

    let reference: Arc<dyn Store> = Arc::new(furrow_store_memory::MemoryStore::new());
    let mut importer = Importer::open(reference.clone()).await.expect("open");
    importer.import(name, &bytes, None, Timestamp(1_000)).await.expect("import");
    importer.finish(&[]).await.expect("flags");
    assert_eq!(snapshot(store.as_ref()).await, snapshot(reference.as_ref()).await, "{backend}");
}

on_every_backend!(interrupted_import, super::an_interrupted_import_resumes);

/// The importer's checks read the area as the store's sorted scans (bounded memory); they flag
/// exactly what `checks::across` flags over the same records held in memory, and every backend
/// returns each scan in the order `ExternalScan::order` defines (the memory backend's order).
/// The store's key lookup finds stored records and leaves out the others.
async fn the_checks_read_sorted_scans_and_flag_what_across_flags(backend: Backend) {
    let Some(fx) = start(backend).await else { return };
    let buyer = fx.open_buyer("buyer").await;
    fx.issue(buyer, 10).await;
    let store = fx.store.clone();
    import_all(store.clone(), 1_000).await;

    let mut parsed = Vec::new();
    for name in FILES {
        let bytes = std::fs::read(data_root().join(name)).expect("real file");
        if let Ok(f) = furrow_import::parse_file(name, &bytes, None) {
            parsed.extend(f.records);
        }
    }
    let own = own_projects(store.as_ref()).await.expect("own projects");
    let expected: Vec<ExternalFlag> = furrow_import::checks::across(&furrow_import::checks::compact(parsed), &own)
        .into_iter()
        .map(|f| ExternalFlag { code: f.code.to_string(), subject: f.subject, detail: f.detail })
        .collect();
    let mut stored = snapshot(store.as_ref()).await.flags;
    stored.sort();
    let mut expected_sorted = expected.clone();
    expected_sorted.sort();
    expected_sorted.dedup_by(|a, b| a.code == b.code && a.subject == b.subject);
    assert!(expected.len() > 3, "{backend}: the real files raise flags");
    assert_eq!(stored, expected_sorted, "{backend}");

    // Each scan in the memory backend's order (the reference is the same import into one).
    let reference: Arc<dyn Store> = Arc::new(furrow_store_memory::MemoryStore::new());
    let mut importer = Importer::open(reference.clone()).await.expect("open");
    for name in FILES {
        let bytes = std::fs::read(data_root().join(name)).expect("real file");
        importer.import(name, &bytes, None, Timestamp(1_000)).await.expect("import");
    }
    async fn scan(store: &dyn Store, scan: ExternalScan) -> Vec<(String, String, String)> {
        let mut keys = Vec::new();
        store
            .external_scan(scan, &mut |r| {
                assert!(scan.includes(&r), "{scan:?} returned {:?}", r.origin_id);
                let keeps_raw = ExternalScan::KEEPS_RAW.contains(&r.registry.as_str());
                assert_eq!(r.raw.is_empty(), !keeps_raw, "{scan:?}: the raw row of {:?}", r.origin_id);
                keys.push((r.registry, r.kind, r.origin_id));
                Ok(())
            })
            .await
            .expect("scan");
        keys
    }
    for s in [ExternalScan::Ranges, ExternalScan::Projects, ExternalScan::Ledgers] {
        let got = scan(store.as_ref(), s).await;
        assert!(!got.is_empty(), "{backend}: {s:?}");
        assert_eq!(got, scan(reference.as_ref(), s).await, "{backend}: {s:?}");
    }
    // Sums are grouped by (registry, project): the same records, each group in one run.
    let mut sums = Vec::new();
    store
        .external_scan(ExternalScan::Sums, &mut |r| {
            sums.push((r.registry, r.project.unwrap_or_default(), r.origin_id));
            Ok(())
        })
        .await
        .expect("scan");
    let mut runs: Vec<(&str, &str)> = sums.iter().map(|(r, p, _)| (r.as_str(), p.as_str())).collect();
    runs.dedup();
    let groups: std::collections::BTreeSet<_> = runs.iter().collect();
    assert_eq!(runs.len(), groups.len(), "{backend}: a (registry, project) group in two runs");
    let mut reference_sums = scan(reference.as_ref(), ExternalScan::Sums).await;
    let mut got: Vec<_> = sums.into_iter().map(|(r, _, o)| (r, "".to_string(), o)).collect();
    reference_sums.iter_mut().for_each(|k| k.1.clear());
    got.sort();
    reference_sums.sort();
    assert!(!got.is_empty(), "{backend}: sums");
    assert_eq!(got, reference_sums, "{backend}: sums");

    // Lookups by key: the stored records, not the unknown ones.
    let all = snapshot(store.as_ref()).await.records;
    let mut keys: Vec<(String, String, String)> =
        all.iter().step_by(97).map(|r| (r.registry.clone(), r.kind.clone(), r.origin_id.clone())).collect();
    keys.push(("verra".into(), "issuance".into(), "not-stored".into()));
    let mut found = store.external_lookup(&keys).await.expect("lookup");
    found.sort_by(|a, b| (&a.registry, &a.kind, &a.origin_id).cmp(&(&b.registry, &b.kind, &b.origin_id)));
    let mut wanted: Vec<ExternalRecord> = all.into_iter().step_by(97).collect();
    wanted.sort_by(|a, b| (&a.registry, &a.kind, &a.origin_id).cmp(&(&b.registry, &b.kind, &b.origin_id)));
    assert_eq!(found, wanted, "{backend}");
}

on_every_backend!(checks_read_sorted_scans, super::the_checks_read_sorted_scans_and_flag_what_across_flags);
