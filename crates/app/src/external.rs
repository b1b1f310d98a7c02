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

use std::collections::BTreeMap;
use std::sync::Arc;

use furrow_domain::Timestamp;
use furrow_import::checks::{self, OwnProject};
use furrow_import::{FileError, Kind, Reason, Record, Unit};
use furrow_store::{
    ExternalFilter, ExternalFlag, ExternalImport, ExternalQuarantined, ExternalRecord, ExternalSource, Page, Store,
    StoreError,
};

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
pub struct Importer {
    store: Arc<dyn Store>,
    /// Everything the area holds (and this run added), for reconciling and for the checks.
    records: Vec<Record>,
    index: BTreeMap<(String, Kind, String), usize>,
}

const PAGE: u32 = 5_000;

impl Importer {
    /// Loads the external area's records.
    pub async fn open(store: Arc<dyn Store>) -> Result<Self, StoreError> {
        let mut records = Vec::new();
        let mut after = None;
        loop {
            let page = store.external_records(&ExternalFilter::default(), Page { after, limit: PAGE }).await?;
            let Some((last, _)) = page.last() else { break };
            after = Some(*last);
            for (_, r) in page {
                records.push(from_stored(r)?);
            }
        }
        let index =
            records.iter().enumerate().map(|(i, r)| ((r.registry.clone(), r.kind, r.origin_id.clone()), i)).collect();
        Ok(Importer { store, records, index })
    }

    /// How many records the area holds.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Parses and writes one file. `name` is the path shown to people and used to recognise
    /// per-project files; `registry` overrides the registry of origin.
    pub async fn import(
        &mut self,
        name: &str,
        bytes: &[u8],
        registry: Option<&str>,
        now: Timestamp,
    ) -> Result<FileReport, StoreError> {
        let sha256 = furrow_import::file_sha256(bytes);
        let mut report = FileReport {
            name: name.to_string(),
            sha256: sha256.clone(),
            status: FileStatus::Imported,
            layout: None,
            rows: 0,
            added: 0,
            already_present: 0,
            quarantined: BTreeMap::new(),
            quarantine_examples: Vec::new(),
            notes: BTreeMap::new(),
            new_file: false,
        };
        let parsed = match furrow_import::parse_file(name, bytes, registry) {
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
        report.layout = Some(parsed.layout.name().to_string());
        report.rows = parsed.rows;
        for (code, n) in parsed.notes_by_code() {
            report.notes.insert(code.to_string(), n);
        }
        let mut quarantined: Vec<ExternalQuarantined> = parsed
            .quarantined
            .iter()
            .map(|q| ExternalQuarantined {
                source_sha256: sha256.clone(),
                line: q.line as i64,
                reason: q.reason.code().to_string(),
                registry: q.registry.clone(),
                origin_id: q.origin_id.clone(),
                detail: q.detail.clone(),
                raw: q.raw.clone(),
            })
            .collect();
        let mut fresh = Vec::new();
        for r in parsed.records {
            let key = (r.registry.clone(), r.kind, r.origin_id.clone());
            match self.index.get(&key).map(|&i| &self.records[i]) {
                Some(old) if old.digest() == r.digest() => report.already_present += 1,
                Some(old) => quarantined.push(ExternalQuarantined {
                    source_sha256: sha256.clone(),
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
                    self.index.insert(key, self.records.len() + fresh.len());
                    fresh.push(r);
                }
            }
        }
        quarantined.sort_by_key(|q| q.line);
        for q in &quarantined {
            *report.quarantined.entry(q.reason.clone()).or_insert(0) += 1;
            if report.quarantine_examples.len() < 10 {
                report.quarantine_examples.push((q.line as u64, q.reason.clone(), q.detail.clone()));
            }
        }
        let import = ExternalImport {
            source: ExternalSource {
                sha256: sha256.clone(),
                file_name: name.to_string(),
                layout: parsed.layout.name().to_string(),
                rows: parsed.rows,
                imported: fresh.len() as u64,
                already_present: report.already_present,
                quarantined: quarantined.len() as u64,
                imported_at: now.0,
            },
            records: fresh.iter().map(|r| to_stored(r, &sha256)).collect(),
            quarantined,
        };
        let outcome = match self.store.external_import(&import).await {
            Ok(o) => o,
            Err(e) => {
                // Nothing was written: forget the records this file would have added.
                self.index.retain(|_, i| *i < self.records.len());
                return Err(e);
            }
        };
        report.added = outcome.records_added;
        report.new_file = outcome.new_source;
        self.records.extend(fresh);
        Ok(report)
    }

    /// Runs the checks over the whole area and Furrow's own projects, stores the flags, and
    /// returns them with how many were added and removed.
    pub async fn finish(&self, own: &[OwnProject]) -> Result<(Vec<ExternalFlag>, u64, u64), StoreError> {
        let flags: Vec<ExternalFlag> = checks::across(&self.records, own)
            .into_iter()
            .map(|f| ExternalFlag { code: f.code.to_string(), subject: f.subject, detail: f.detail })
            .collect();
        let (added, removed) = self.store.external_set_flags(&flags).await?;
        Ok((flags, added, removed))
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

fn to_stored(r: &Record, sha256: &str) -> ExternalRecord {
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
        digest: r.digest(),
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
