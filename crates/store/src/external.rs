//! The external area: other registries' published records, imported by `furrow import` as
//! reference data for cross-registry checks. Nothing here enters the log, the supply or any
//! balance; the tables are separate (`external_*`) and only the importer writes them.

/// One imported file: the provenance of everything it brought.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalSource {
    /// SHA-256 of the file's bytes, hex: importing the same bytes again is recognised by it.
    pub sha256: String,
    /// The file's name as given on the command line (for people; the hash is the identity).
    pub file_name: String,
    /// The export layout recognised, e.g. `verra/vcu-blocks`.
    pub layout: String,
    pub rows: u64,
    /// Records this file added; rows already present from an earlier import are not counted.
    pub imported: u64,
    pub already_present: u64,
    pub quarantined: u64,
    /// µs since the Unix epoch.
    pub imported_at: i64,
}

/// One record of another registry. Key: (`registry`, `kind`, `origin_id`).
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalRecord {
    pub registry: String,
    pub kind: String,
    pub origin_id: String,
    pub dataset: String,
    pub project: Option<String>,
    pub name: Option<String>,
    pub country: Option<String>,
    pub methodology: Option<String>,
    pub vintage: Option<i64>,
    pub quantity: Option<i64>,
    /// `credits` or `kg`.
    pub unit: String,
    pub serial: Option<String>,
    pub namespace: Option<String>,
    pub range_start: Option<i64>,
    pub range_end: Option<i64>,
    /// `YYYY-MM-DD`.
    pub event_date: Option<String>,
    pub period_start: Option<String>,
    pub period_end: Option<String>,
    pub beneficiary: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// Digest of the facts; an import of the same key with another digest is a conflict.
    pub digest: String,
    /// The file that first brought the record, and the line.
    pub source_sha256: String,
    pub line: i64,
    /// The row as published, a JSON object.
    pub raw: String,
}

/// A row kept out of the external area, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalQuarantined {
    pub source_sha256: String,
    pub line: i64,
    /// A stable code (`quantity_mismatch`, `duplicate`, …).
    pub reason: String,
    pub registry: Option<String>,
    pub origin_id: Option<String>,
    pub detail: String,
    pub raw: String,
}

/// Something for the operator to look at, found across files, registries and own projects.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ExternalFlag {
    pub code: String,
    pub subject: String,
    pub detail: String,
}

/// Everything one file's import writes, in one transaction.
#[derive(Debug, Clone)]
pub struct ExternalImport {
    pub source: ExternalSource,
    /// Records to add; a record whose key is already stored is left as it is.
    pub records: Vec<ExternalRecord>,
    /// Quarantined rows; a row already quarantined from the same file (same line and reason) is left as it is.
    pub quarantined: Vec<ExternalQuarantined>,
}

/// What an import changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExternalImportOutcome {
    /// False when a file with the same SHA-256 was imported before.
    pub new_source: bool,
    pub records_added: u64,
    pub quarantined_added: u64,
}

/// Filters for listing external records.
#[derive(Debug, Clone, Default)]
pub struct ExternalFilter {
    pub registry: Option<String>,
    pub kind: Option<String>,
    pub project: Option<String>,
}

/// Counts of the external area.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExternalTotals {
    pub sources: u64,
    pub records: u64,
    pub quarantined: u64,
    pub flags: u64,
}
