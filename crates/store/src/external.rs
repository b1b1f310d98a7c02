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

/// A read of the external area for one of the cross-registry checks: which records, in which
/// order. The checks read the area as sorted streams (a sweep over ranges, a group per project),
/// so the database does the ordering and the importer holds one group at a time, not the area.
///
/// Each scan may return more records than its check reads (the check filters again); what it must
/// keep is the order, which [`ExternalScan::order`] defines for every backend. A scanned record's
/// `raw` is empty except for the registries in [`ExternalScan::KEEPS_RAW`], whose checks read a
/// cell of it: the others' rows are never loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExternalScan {
    /// Records with a serial range of a range class (issuances, retirements, cancellations,
    /// credits), by (namespace, range start, range end, registry, origin id, id), names compared
    /// byte by byte.
    Ranges,
    /// Issuances, retirements and cancellations with a project, vintage and quantity in credits,
    /// outside the registry exports, grouped by (registry, project): each pair's records together.
    Sums,
    /// Project rows, and every row of CARB (whose rows cross-reference other registries), by id.
    Projects,
    /// The per-credit ledgers' rows (credits, monitoring, summaries, Climate Refarm's portfolio
    /// retirements), by id.
    Ledgers,
}

/// `Kind::range_class` in `furrow-import`: the kinds whose ranges the overlap check compares.
const RANGE_KINDS: [&str; 5] = ["issuance", "retirement", "cancellation", "retirement_or_cancellation", "credit"];

impl ExternalScan {
    /// The registries whose scanned records keep their raw row (CARB's cross-references, Climate
    /// Refarm's monitoring tonnes); `furrow_import::checks::for_checks` keeps it for the same.
    pub const KEEPS_RAW: [&'static str; 2] = ["carb", "climate-refarm"];

    /// The columns of `external_records` a scan selects, `raw` only for [`Self::KEEPS_RAW`]
    /// (VROD's rows are large and no other check reads them). Plain SQL both backends accept.
    pub const SQL_COLUMNS: &'static str = "id, registry, kind, origin_id, dataset, project, name, country, \
        methodology, vintage, quantity, unit, serial, namespace, range_start, range_end, event_date, period_start, \
        period_end, beneficiary, latitude, longitude, digest, source_sha256, line, \
        CASE WHEN registry IN ('carb', 'climate-refarm') THEN raw ELSE '' END AS raw";

    /// This scan's `WHERE` clause over `external_records`: the same records as [`Self::includes`],
    /// in plain SQL both backends accept. Fixed text, never built from input.
    pub fn sql_filter(self) -> &'static str {
        match self {
            ExternalScan::Ranges => {
                "namespace IS NOT NULL AND range_start IS NOT NULL AND range_end IS NOT NULL \
                 AND kind IN ('issuance', 'retirement', 'cancellation', 'retirement_or_cancellation', 'credit')"
            }
            ExternalScan::Sums => {
                "kind IN ('issuance', 'retirement', 'cancellation') AND dataset <> 'registry-export' \
                 AND unit = 'credits' AND project IS NOT NULL AND vintage IS NOT NULL AND quantity IS NOT NULL"
            }
            ExternalScan::Projects => "kind IN ('project', 'project_rollup') OR registry = 'carb'",
            ExternalScan::Ledgers => {
                "kind IN ('credit', 'monitoring', 'summary') OR (kind = 'retirement' AND registry = 'climate-refarm')"
            }
        }
    }

    /// Whether `r` is part of this scan (the memory backend's filter; `sql_filter` says the same).
    pub fn includes(self, r: &ExternalRecord) -> bool {
        match self {
            ExternalScan::Ranges => {
                r.namespace.is_some()
                    && r.range_start.is_some()
                    && r.range_end.is_some()
                    && RANGE_KINDS.contains(&r.kind.as_str())
            }
            ExternalScan::Sums => {
                matches!(r.kind.as_str(), "issuance" | "retirement" | "cancellation")
                    && r.dataset != "registry-export"
                    && r.unit == "credits"
                    && r.project.is_some()
                    && r.vintage.is_some()
                    && r.quantity.is_some()
            }
            ExternalScan::Projects => matches!(r.kind.as_str(), "project" | "project_rollup") || r.registry == "carb",
            ExternalScan::Ledgers => {
                matches!(r.kind.as_str(), "credit" | "monitoring" | "summary")
                    || (r.kind == "retirement" && r.registry == "climate-refarm")
            }
        }
    }

    /// The order of this scan, for records with their ids.
    pub fn order(self, a: (u64, &ExternalRecord), b: (u64, &ExternalRecord)) -> std::cmp::Ordering {
        let ((ia, a), (ib, b)) = (a, b);
        match self {
            ExternalScan::Ranges => (&a.namespace, a.range_start, a.range_end, &a.registry, &a.origin_id, ia).cmp(&(
                &b.namespace,
                b.range_start,
                b.range_end,
                &b.registry,
                &b.origin_id,
                ib,
            )),
            ExternalScan::Sums => (&a.registry, &a.project, ia).cmp(&(&b.registry, &b.project, ib)),
            ExternalScan::Projects | ExternalScan::Ledgers => ia.cmp(&ib),
        }
    }
}
