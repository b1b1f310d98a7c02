//! The import use case: other registries' exports into the external area (`furrow import`).
//!
//! [`Importer::open`] loads what the area already holds; [`Importer::import`] parses one file with
//! `furrow-import`, sets aside rows whose origin id is already stored with different facts
//! (quarantined as `conflicts_with_imported`), and writes the file's source row, new records and
//! quarantined rows in one transaction; [`Importer::finish`] runs the cross-file, cross-registry
//! and own-project checks over the whole area and stores the flags. Importing a file twice changes
//! nothing: the source, the records and the quarantined rows are keyed, and the flags are a
//! function of the area's contents.
//!
//! The external area is reference data: none of this goes through the sequencer, the log or the
//! ledger.

mod within;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use furrow_domain::Timestamp;
use furrow_import::checks::{self, OwnProject};
use furrow_import::{FileError, FileParser, Item, Kind, Reason, Record, Unit};
use furrow_store::{
    ExternalFlag, ExternalImport, ExternalQuarantined, ExternalRecord, ExternalScan, ExternalSource, Page, Store,
    StoreError,
};
pub use within::DiskIndex;

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileStatus {
    /// Parsed and written (possibly adding nothing, when it was imported before).
    Imported,
    /// Not registry data (checksums, documentation, licence, Parquet beside its CSV).
    Skipped(String),
    /// A data file Furrow could not read.
    Failed(String),
}

/// The import report for one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    pub name: String,
    pub sha256: String,
    pub status: FileStatus,
    pub layout: Option<String>,
    pub rows: u64,
    /// Records this import added to the area.
    pub added: u64,
    /// Records that were already in the area with the same facts (an earlier import of this or
    /// another file).
    pub already_present: u64,
    /// Records an interrupted import of this same file had written before it stopped: with
    /// `added`, what the file brought, as one uninterrupted import would have counted it.
    pub resumed: u64,
    /// Quarantined rows by reason code (including `conflicts_with_imported`).
    pub quarantined: BTreeMap<String, u64>,
    /// Examples of quarantined rows: (line, reason, detail), at most ten.
    pub quarantine_examples: Vec<(u64, String, String)>,
    /// Imported rows worth a note, by code (forward vintages, pooled-buffer reversals, …).
    pub notes: BTreeMap<String, u64>,
    /// False when the same bytes were imported before.
    pub new_file: bool,
}

impl FileReport {
    pub fn quarantined_total(&self) -> u64 {
        self.quarantined.values().sum()
    }
}

/// Imports files into the external area of one store.
///
/// A file streams through: rows are parsed, reconciled against the area and written in chunks of
/// [`CHUNK`] rows, so memory does not grow with the file's text. The file's own duplicates and
/// overlaps are judged against a scratch index on disk ([`DiskIndex`]), so nothing is held per row
/// of the file; each chunk's records are reconciled by looking their keys up in the store
/// (`Store::external_lookup`), so nothing is held per record of the area either;
/// [`Importer::finish`] reads the area back as the store's sorted scans for the cross-registry
/// checks.
pub struct Importer {
    store: Arc<dyn Store>,
}

/// A row of the chunk being read, before it is reconciled with the area.
enum Pending {
    Record(Box<Record>),
    Quarantined(ExternalQuarantined),
}

/// Rows parsed before they are written: one transaction per chunk.
pub const CHUNK: usize = 5_000;

impl Importer {
    /// An importer for the external area of `store`.
    pub async fn open(store: Arc<dyn Store>) -> Result<Self, StoreError> {
        Ok(Importer { store })
    }

    /// Parses and writes one file held in memory. See [`Importer::import_reader`].
    pub async fn import(
        &mut self,
        name: &str,
        bytes: &[u8],
        registry: Option<&str>,
        now: Timestamp,
    ) -> Result<FileReport, StoreError> {
        self.import_reader(name, &furrow_import::file_sha256(bytes), bytes, registry, now).await
    }

    /// Parses and writes one file as it is read. `name` is the path shown to people and used to
    /// recognise per-project files; `sha256` is the file's digest (its identity; the caller reads the
    /// file once to compute it); `registry` overrides the registry of origin.
    ///
    /// Each chunk of rows is one transaction. The file's source row is written with the first
    /// chunk and completed with its counts after the last, so an import that stops half-way (a
    /// crash, a full disk) leaves a source row with zero rows: importing the file again adds the
    /// rest (the rows already written are "already present") and completes it.
    pub async fn import_reader<R: std::io::Read>(
        &mut self,
        name: &str,
        sha256: &str,
        input: R,
        registry: Option<&str>,
        now: Timestamp,
    ) -> Result<FileReport, StoreError> {
        let mut report = FileReport {
            name: name.to_string(),
            sha256: sha256.to_string(),
            status: FileStatus::Imported,
            layout: None,
            rows: 0,
            added: 0,
            already_present: 0,
            resumed: 0,
            quarantined: BTreeMap::new(),
            quarantine_examples: Vec::new(),
            notes: BTreeMap::new(),
            new_file: false,
        };
        let parser = match FileParser::open(name, input, registry) {
            Ok(p) => p,
            Err(FileError::NotData(why)) => {
                report.status = FileStatus::Skipped(why);
                return Ok(report);
            }
            Err(FileError::Unrecognised(why)) => {
                report.status = FileStatus::Failed(why);
                return Ok(report);
            }
        };
        // The file's own duplicates and overlaps are judged against an index on disk, so that
        // memory does not grow with the file's length.
        let mut parser = match DiskIndex::create() {
            Ok(index) => parser.with_index(Box::new(index)),
            Err(e) => {
                report.status = FileStatus::Failed(e.to_string());
                return Ok(report);
            }
        };
        let layout = parser.layout().name().to_string();
        report.layout = Some(layout.clone());
        // A source row left with zero rows is an import of this file that stopped half-way: the
        // records it wrote count as this file's, not as already present.
        let resuming = self.store.external_sources().await?.iter().any(|s| s.sha256 == sha256 && s.rows == 0);
        let mut source = ExternalSource {
            sha256: sha256.to_string(),
            file_name: name.to_string(),
            layout,
            rows: 0,
            imported: 0,
            already_present: 0,
            quarantined: 0,
            imported_at: now.0,
        };
        let mut chunk = ExternalImport { source: source.clone(), records: Vec::new(), quarantined: Vec::new() };
        let mut first = true;
        // The chunk's rows in file order, until they are reconciled and written together.
        let mut pending = Vec::new();
        loop {
            let item = parser.next_item();
            let end = item.is_none();
            match item {
                None => {}
                Some(Err(FileError::NotData(why) | FileError::Unrecognised(why))) => {
                    // The rows before stand (each chunk is complete); the source stays incomplete.
                    self.reconcile(&mut pending, sha256, resuming, &mut chunk, &mut report).await?;
                    self.write(&mut chunk, &mut first, &mut report).await?;
                    report.rows = parser.rows();
                    report.status = FileStatus::Failed(why);
                    return Ok(report);
                }
                Some(Ok(Item::Note(n))) => *report.notes.entry(n.code.to_string()).or_insert(0) += 1,
                Some(Ok(Item::Quarantined(q))) => pending.push(Pending::Quarantined(quarantined_row(sha256, q))),
                Some(Ok(Item::Record(r))) => pending.push(Pending::Record(Box::new(r))),
            }
            if end || pending.len() >= CHUNK {
                self.reconcile(&mut pending, sha256, resuming, &mut chunk, &mut report).await?;
                self.write(&mut chunk, &mut first, &mut report).await?;
            }
            if end {
                break;
            }
        }
        report.rows = parser.rows();
        source.rows = report.rows;
        source.imported = report.added + report.resumed;
        source.already_present = report.already_present;
        source.quarantined = report.quarantined_total();
        self.store.external_complete_source(&source).await?;
        Ok(report)
    }

    /// Reconciles a chunk's rows with the area, in file order: a record already stored with the
    /// same facts is set aside (counted as resumed when an interrupted import of this same file
    /// stored it, else as already present), one stored with other facts is quarantined, a new one
    /// is queued in `chunk` with the quarantined rows.
    async fn reconcile(
        &self,
        pending: &mut Vec<Pending>,
        sha256: &str,
        resuming: bool,
        chunk: &mut ExternalImport,
        report: &mut FileReport,
    ) -> Result<(), StoreError> {
        let keys: Vec<(String, String, String)> = pending
            .iter()
            .filter_map(|p| match p {
                Pending::Record(r) => Some((r.registry.clone(), r.kind.as_str().to_string(), r.origin_id.clone())),
                Pending::Quarantined(_) => None,
            })
            .collect();
        let mut stored: HashMap<(String, String, String), ExternalRecord> = HashMap::new();
        if !keys.is_empty() {
            for r in self.store.external_lookup(&keys).await? {
                stored.insert((r.registry.clone(), r.kind.clone(), r.origin_id.clone()), r);
            }
        }
        for p in pending.drain(..) {
            let r = match p {
                Pending::Quarantined(q) => {
                    chunk.quarantined.push(q);
                    continue;
                }
                Pending::Record(r) => r,
            };
            let digest = r.digest();
            let key = (r.registry.clone(), r.kind.as_str().to_string(), r.origin_id.clone());
            match stored.get(&key) {
                Some(old) if old.digest == digest && resuming && old.source_sha256 == sha256 => report.resumed += 1,
                Some(old) if old.digest == digest => report.already_present += 1,
                Some(old) => chunk.quarantined.push(ExternalQuarantined {
                    source_sha256: sha256.to_string(),
                    line: r.line as i64,
                    reason: Reason::ConflictsWithImported.code().to_string(),
                    registry: Some(r.registry.clone()),
                    origin_id: Some(r.origin_id.clone()),
                    detail: format!(
                        "{} {:?} is already in the external area with other facts (from {} line {})",
                        r.kind, r.origin_id, old.dataset, old.line
                    ),
                    raw: r.raw.clone(),
                }),
                None => {
                    let record = to_stored(&r, sha256, digest);
                    // A key twice in one chunk (a file's own duplicates are quarantined before
                    // this, so only defensively): the second is compared with the first.
                    stored.insert(key, record.clone());
                    chunk.records.push(record);
                }
            }
        }
        Ok(())
    }

    /// Writes a chunk in one transaction and counts it in the report.
    async fn write(
        &self,
        chunk: &mut ExternalImport,
        first: &mut bool,
        report: &mut FileReport,
    ) -> Result<(), StoreError> {
        let outcome = self.store.external_import(chunk).await?;
        if std::mem::take(first) {
            report.new_file = outcome.new_source;
        }
        report.added += outcome.records_added;
        for q in &chunk.quarantined {
            *report.quarantined.entry(q.reason.clone()).or_insert(0) += 1;
            if report.quarantine_examples.len() < 10 {
                report.quarantine_examples.push((q.line as u64, q.reason.clone(), q.detail.clone()));
            }
        }
        chunk.records.clear();
        chunk.quarantined.clear();
        Ok(())
    }

    /// Runs the checks over the whole area and Furrow's own projects, stores the flags, and
    /// returns them with how many were added and removed.
    ///
    /// Each check reads the area as one of the store's sorted scans ([`ExternalScan`]): the range
    /// sweep holds one record per range class, the sums one (registry, project) group; the
    /// projects' name keys and the per-credit ledgers' serials and retirements go to scratch
    /// indexes on disk ([`DiskIndex`]). What memory holds grows with the number of projects (the
    /// ledgers' sums per project), not with the area's records.
    pub async fn finish(&self, own: &[OwnProject]) -> Result<(Vec<ExternalFlag>, u64, u64), StoreError> {
        let mut strings = checks::Strings::default();
        let mut flags = BTreeSet::new();
        let mut sweep = checks::RangeSweep::default();
        self.scan(
            ExternalScan::Ranges,
            &mut strings,
            &mut |r, flags| {
                sweep.push(r, flags);
                Ok(())
            },
            &mut flags,
        )
        .await?;
        let mut sums = checks::Sums::default();
        self.scan(
            ExternalScan::Sums,
            &mut strings,
            &mut |r, flags| {
                sums.push(r, flags);
                Ok(())
            },
            &mut flags,
        )
        .await?;
        sums.finish(&mut flags);
        let mut projects = checks::Projects::with_index(own, DiskIndex::create().map_err(index_failed)?);
        let push = &mut |r, flags: &mut BTreeSet<checks::Flag>| projects.push(r, flags).map_err(index_failed);
        self.scan(ExternalScan::Projects, &mut strings, push, &mut flags).await?;
        projects.finish(&mut flags).map_err(index_failed)?;
        let mut ledgers = checks::Ledgers::with_index(DiskIndex::create().map_err(index_failed)?);
        self.scan(ExternalScan::Ledgers, &mut strings, &mut |r, _| ledgers.push(r).map_err(index_failed), &mut flags)
            .await?;
        ledgers.finish(&mut flags).map_err(index_failed)?;
        let flags: Vec<ExternalFlag> = flags
            .into_iter()
            .map(|f| ExternalFlag { code: f.code.to_string(), subject: f.subject, detail: f.detail })
            .collect();
        let (added, removed) = self.store.external_set_flags(&flags).await?;
        Ok((flags, added, removed))
    }

    /// Feeds one of the store's scans to a check, each record in its compact form.
    async fn scan(
        &self,
        scan: ExternalScan,
        strings: &mut checks::Strings,
        check: &mut Check<'_>,
        flags: &mut BTreeSet<checks::Flag>,
    ) -> Result<(), StoreError> {
        self.store.external_scan(scan, &mut |r| check(checks::for_checks(from_stored(r)?, strings), flags)).await
    }
}

/// A check fed by one of the store's scans.
type Check<'a> = dyn FnMut(checks::CheckRecord, &mut BTreeSet<checks::Flag>) -> Result<(), StoreError> + Send + 'a;

/// The scratch index failing (the temporary directory's disk full or gone) stops the checks.
fn index_failed(e: checks::IndexError) -> StoreError {
    StoreError::Other(e.to_string())
}

fn quarantined_row(sha256: &str, q: furrow_import::Quarantined) -> ExternalQuarantined {
    ExternalQuarantined {
        source_sha256: sha256.to_string(),
        line: q.line as i64,
        reason: q.reason.code().to_string(),
        registry: q.registry,
        origin_id: q.origin_id,
        detail: q.detail,
        raw: q.raw,
    }
}

/// Furrow's own projects as the registry knows them today: the project code, country and vintages
/// of its batches. Issue #5's projects (methodology, crediting period, parcel locations) fill in
/// the other fields of [`OwnProject`] without changing the check.
pub async fn own_projects(store: &dyn Store) -> Result<Vec<OwnProject>, StoreError> {
    let mut by_code: BTreeMap<String, OwnProject> = BTreeMap::new();
    let mut after = None;
    loop {
        let page = store.batches(Page { after, limit: 1_000 }).await?;
        let Some((last, _)) = page.last() else { break };
        after = Some(last.id.0);
        for (batch, _) in page {
            let code = batch.project.to_string();
            let vintage = i32::from(batch.vintage.year());
            let p = by_code.entry(code.clone()).or_insert_with(|| OwnProject {
                code,
                country: Some(batch.country.as_str().to_string()),
                ..OwnProject::default()
            });
            p.first_year = Some(p.first_year.map_or(vintage, |y| y.min(vintage)));
            p.last_year = Some(p.last_year.map_or(vintage, |y| y.max(vintage)));
        }
    }
    Ok(by_code.into_values().collect())
}

fn to_stored(r: &Record, sha256: &str, digest: String) -> ExternalRecord {
    ExternalRecord {
        registry: r.registry.clone(),
        kind: r.kind.as_str().to_string(),
        origin_id: r.origin_id.clone(),
        dataset: r.dataset.clone(),
        project: r.project.clone(),
        name: r.name.clone(),
        country: r.country.clone(),
        methodology: r.methodology.clone(),
        vintage: r.vintage.map(i64::from),
        quantity: r.quantity,
        unit: r.unit.as_str().to_string(),
        serial: r.serial.clone(),
        namespace: r.range.as_ref().map(|x| x.namespace.clone()),
        range_start: r.range.as_ref().map(|x| x.start as i64),
        range_end: r.range.as_ref().map(|x| x.end as i64),
        event_date: r.date.clone(),
        period_start: r.period_start.clone(),
        period_end: r.period_end.clone(),
        beneficiary: r.beneficiary.clone(),
        latitude: r.latitude,
        longitude: r.longitude,
        digest,
        source_sha256: sha256.to_string(),
        line: r.line as i64,
        raw: r.raw.clone(),
    }
}

fn from_stored(r: ExternalRecord) -> Result<Record, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("external record {:?}: {what}", r.origin_id));
    let kind = Kind::parse(&r.kind).ok_or_else(|| corrupt("unknown kind"))?;
    let unit = match r.unit.as_str() {
        "credits" => Unit::Credits,
        "kg" => Unit::Kilograms,
        _ => return Err(corrupt("unknown unit")),
    };
    let range = match (r.namespace.clone(), r.range_start, r.range_end) {
        (Some(namespace), Some(s), Some(e)) if s >= 0 && e >= s => {
            Some(furrow_import::Range { namespace, start: s as u64, end: e as u64 })
        }
        (None, None, None) => None,
        _ => return Err(corrupt("inconsistent serial range")),
    };
    Ok(Record {
        registry: r.registry,
        kind,
        origin_id: r.origin_id,
        dataset: r.dataset,
        project: r.project,
        name: r.name,
        country: r.country,
        methodology: r.methodology,
        vintage: r.vintage.and_then(|v| i32::try_from(v).ok()),
        quantity: r.quantity,
        unit,
        serial: r.serial,
        range,
        date: r.event_date,
        period_start: r.period_start,
        period_end: r.period_end,
        beneficiary: r.beneficiary,
        latitude: r.latitude,
        longitude: r.longitude,
        line: u64::try_from(r.line).unwrap_or(0),
        raw: r.raw,
    })
}
