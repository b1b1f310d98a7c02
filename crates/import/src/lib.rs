//! Importing other registries' public exports into Furrow's read-only external area.
//!
//! Pure: no I/O, no clock. The caller hands in a file's name and bytes; [`parse_file`] recognises
//! the layout from the header (the name only breaks ties), turns every row into either a
//! [`Record`] or a [`Quarantined`] row with a reason, and attaches [`Note`]s to rows that are kept
//! but unusual. [`checks`] then looks across files and registries and raises [`checks::Flag`]s for
//! the operator. The parsers are hand-written over the `csv` crate's records: every layout names
//! its columns differently, several carry the same fact in different units or forms, and
//! quarantining needs the row's position and raw text, which a serde derive would hide.
//!
//! Quarantine means: the row is kept, verbatim, with its file, line and reason, but it is not a
//! record of the external area and no check counts it. Nothing is ever dropped silently.

pub mod checks;
pub mod country;
mod layouts;
pub mod serial;
mod table;
pub mod values;

use std::collections::BTreeMap;
use std::fmt;

pub use layouts::{FileParser, Item, Layout};
pub use serial::{Serial, SerialError};

/// What a record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A project as its registry lists it.
    Project,
    /// A project's totals as an aggregator (Berkeley VROD) rolled them up at one date.
    ProjectRollup,
    /// Credits issued (a batch, or a block of one).
    Issuance,
    Retirement,
    Cancellation,
    /// A Verra block retired or cancelled: the VCU export does not say which.
    RetirementOrCancellation,
    /// One credit of a per-credit ledger.
    Credit,
    /// A monitoring period's results.
    Monitoring,
    /// A published summary of a portfolio.
    Summary,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::Project,
        Kind::ProjectRollup,
        Kind::Issuance,
        Kind::Retirement,
        Kind::Cancellation,
        Kind::RetirementOrCancellation,
        Kind::Credit,
        Kind::Monitoring,
        Kind::Summary,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Project => "project",
            Kind::ProjectRollup => "project_rollup",
            Kind::Issuance => "issuance",
            Kind::Retirement => "retirement",
            Kind::Cancellation => "cancellation",
            Kind::RetirementOrCancellation => "retirement_or_cancellation",
            Kind::Credit => "credit",
            Kind::Monitoring => "monitoring",
            Kind::Summary => "summary",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Ranges of one class must be disjoint within a namespace: issued blocks among themselves, and
    /// used (retired, cancelled) blocks among themselves. A retirement inside an issuance is normal.
    pub fn range_class(self) -> Option<&'static str> {
        match self {
            Kind::Issuance => Some("issued"),
            Kind::Retirement | Kind::Cancellation | Kind::RetirementOrCancellation => Some("used"),
            Kind::Credit => Some("credit"),
            _ => None,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The unit a record's quantity is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Unit {
    /// Whole credits (one tonne CO2e each).
    Credits,
    /// Kilograms CO2e (Isometric: 1 credit = 1 000 kg, fractional credits exist).
    Kilograms,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Credits => "credits",
            Unit::Kilograms => "kg",
        }
    }
}

/// An inclusive serial range in the namespace where its integers are unique.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Range {
    pub namespace: String,
    pub start: u64,
    pub end: u64,
}

/// One row of another registry's export, normalised. Key: (`registry`, `kind`, `origin_id`).
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The registry of origin (`verra`, `gold-standard`, `acr`, `car`, `art-trees`, `isometric`,
    /// `cercarbono`, `carb`, `climate-refarm`), not the aggregator that republished the row.
    pub registry: String,
    pub kind: Kind,
    /// The row's identity in its registry: a serial, a project id, a transaction id, or for
    /// exports without one, the fields that identify the row (documented per layout).
    pub origin_id: String,
    /// The publication the row came from (`vrod-v3`, `offsetsdb-fixtures`, `verra-export`, …).
    pub dataset: String,
    /// The registry's project id, with the registry's prefix (`VCS1340`, `GS1001`, `ACR102`, `CAR1008`).
    pub project: Option<String>,
    pub name: Option<String>,
    /// ISO 3166-1 alpha-2 where recognised, otherwise as published.
    pub country: Option<String>,
    pub methodology: Option<String>,
    pub vintage: Option<i32>,
    pub quantity: Option<i64>,
    pub unit: Unit,
    /// The serial as published (trimmed).
    pub serial: Option<String>,
    pub range: Option<Range>,
    /// The event's date (issuance, retirement, listing), `YYYY-MM-DD`.
    pub date: Option<String>,
    /// The monitoring, vintage or crediting period, `YYYY-MM-DD`.
    pub period_start: Option<String>,
    pub period_end: Option<String>,
    pub beneficiary: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// 1-based line of the row in its file.
    pub line: u64,
    /// The row as published: a JSON object of column name to cell (empty cells left out).
    pub raw: String,
}

impl Record {
    /// A row of `kind` with only its identity known: the fields a layout fills come after.
    pub fn new(registry: &str, kind: Kind, origin_id: String, dataset: &str, line: u64, raw: String) -> Self {
        Record {
            registry: registry.to_string(),
            kind,
            origin_id,
            dataset: dataset.to_string(),
            project: None,
            name: None,
            country: None,
            methodology: None,
            vintage: None,
            quantity: None,
            unit: Unit::Credits,
            serial: None,
            range: None,
            date: None,
            period_start: None,
            period_end: None,
            beneficiary: None,
            latitude: None,
            longitude: None,
            line,
            raw,
        }
    }

    /// Sets the serial and its range.
    pub(crate) fn with_serial(&mut self, text: &str, serial: &Serial) {
        self.serial = Some(text.trim().to_string());
        let (start, end) = serial.range();
        self.range = Some(Range { namespace: serial.namespace(), start, end });
    }

    /// A digest of the facts that identify what the row says (not where it was read): two rows with
    /// one key and different digests contradict each other.
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        let opt = |s: &Option<String>| s.clone().unwrap_or_default();
        let fields = [
            self.registry.clone(),
            self.kind.as_str().to_string(),
            self.origin_id.clone(),
            opt(&self.project),
            self.vintage.map(|v| v.to_string()).unwrap_or_default(),
            self.quantity.map(|v| v.to_string()).unwrap_or_default(),
            self.unit.as_str().to_string(),
            self.range.as_ref().map(|r| format!("{}:{}-{}", r.namespace, r.start, r.end)).unwrap_or_default(),
            opt(&self.date),
        ];
        for f in fields {
            h.update((f.len() as u64).to_be_bytes());
            h.update(f.as_bytes());
        }
        hex::encode(&h.finalize()[..16])
    }
}

/// Why a row was quarantined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    /// A required cell is missing or does not parse (number, date, serial).
    Malformed,
    /// The serial's embedded project, vintage or dates differ from the row's columns.
    SerialMismatch,
    /// The quantity differs from the serial range's length.
    QuantityMismatch,
    /// A total differs from the sum of its parts (issued = project + buffer, …).
    TotalMismatch,
    /// A project rollup's yearly columns do not sum to its totals.
    RollupMismatch,
    /// A project rollup retired more than was issued (negative remaining).
    RetiredExceedsIssued,
    /// Dates in an impossible order (retired before issued, vintage after issuance, …).
    DatesOutOfOrder,
    /// The row's origin id (serial, id) appears earlier in the same file.
    Duplicate,
    /// The row's serial range overlaps an earlier row's in the same namespace.
    OverlappingRange,
    /// The blocks of one vintage add up to more than the vintage's published total.
    ExceedsVintageTotal,
    /// An earlier import holds the same origin id with different facts.
    ConflictsWithImported,
}

impl Reason {
    pub const ALL: [Reason; 11] = [
        Reason::Malformed,
        Reason::SerialMismatch,
        Reason::QuantityMismatch,
        Reason::TotalMismatch,
        Reason::RollupMismatch,
        Reason::RetiredExceedsIssued,
        Reason::DatesOutOfOrder,
        Reason::Duplicate,
        Reason::OverlappingRange,
        Reason::ExceedsVintageTotal,
        Reason::ConflictsWithImported,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Reason::Malformed => "malformed",
            Reason::SerialMismatch => "serial_mismatch",
            Reason::QuantityMismatch => "quantity_mismatch",
            Reason::TotalMismatch => "total_mismatch",
            Reason::RollupMismatch => "rollup_mismatch",
            Reason::RetiredExceedsIssued => "retired_exceeds_issued",
            Reason::DatesOutOfOrder => "dates_out_of_order",
            Reason::Duplicate => "duplicate",
            Reason::OverlappingRange => "overlapping_range",
            Reason::ExceedsVintageTotal => "exceeds_vintage_total",
            Reason::ConflictsWithImported => "conflicts_with_imported",
        }
    }

    pub fn parse(s: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.code() == s)
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A row kept out of the external area, verbatim, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantined {
    pub line: u64,
    pub registry: Option<String>,
    pub origin_id: Option<String>,
    pub reason: Reason,
    pub detail: String,
    pub raw: String,
}

/// Something unusual about a row that was nevertheless imported (a legitimate but surprising
/// pattern that SOURCES.md explains, such as a forward vintage of an ex-ante credit type).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Note {
    pub line: u64,
    pub code: &'static str,
    pub detail: String,
}

/// One file, parsed.
#[derive(Debug, Clone)]
pub struct ParsedFile {
    pub layout: Layout,
    /// Data rows read (the header not counted).
    pub rows: u64,
    pub records: Vec<Record>,
    pub quarantined: Vec<Quarantined>,
    pub notes: Vec<Note>,
}

impl ParsedFile {
    pub fn quarantined_by_reason(&self) -> BTreeMap<Reason, u64> {
        let mut m = BTreeMap::new();
        for q in &self.quarantined {
            *m.entry(q.reason).or_insert(0) += 1;
        }
        m
    }

    pub fn notes_by_code(&self) -> BTreeMap<&'static str, u64> {
        let mut m = BTreeMap::new();
        for n in &self.notes {
            *m.entry(n.code).or_insert(0) += 1;
        }
        m
    }
}

/// Why a file cannot be imported at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileError {
    /// Not a data file (checksums, documentation, licence text): skipped, with the reason.
    NotData(String),
    /// A data file of a layout Furrow does not read, or an unreadable one.
    Unrecognised(String),
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileError::NotData(s) => write!(f, "not a data file: {s}"),
            FileError::Unrecognised(s) => write!(f, "not recognised: {s}"),
        }
    }
}

impl std::error::Error for FileError {}

/// Recognise and parse one file held in memory. `name` is its path (used only to break ties between
/// layouts with the same header and for Climate Refarm's per-project monitoring files, whose
/// project is the directory name). `registry` overrides the registry of origin where a layout
/// cannot tell it. For files of any size, [`FileParser`] gives the same items one at a time.
pub fn parse_file(name: &str, bytes: &[u8], registry: Option<&str>) -> Result<ParsedFile, FileError> {
    let mut parser = FileParser::open(name, bytes, registry)?;
    let mut out = ParsedFile {
        layout: parser.layout(),
        rows: 0,
        records: Vec::new(),
        quarantined: Vec::new(),
        notes: Vec::new(),
    };
    while let Some(item) = parser.next_item() {
        match item? {
            Item::Record(r) => out.records.push(r),
            Item::Quarantined(q) => out.quarantined.push(q),
            Item::Note(n) => out.notes.push(n),
        }
    }
    out.rows = parser.rows();
    Ok(out)
}

/// SHA-256 of a file's bytes, hex: the import's provenance and its idempotency key.
pub fn file_sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

/// SHA-256 of everything a reader yields, hex: [`file_sha256`] for a file too large to hold.
pub fn reader_sha256(mut input: impl std::io::Read) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match input.read(&mut buf) {
            Ok(0) => return Ok(hex::encode(h.finalize())),
            Ok(n) => h.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Parse a `SHA256SUMS` file (`<hex>  <path>` lines) into path → hex.
pub fn parse_sha256sums(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| {
            let (sum, path) = l.split_once(char::is_whitespace)?;
            let path = path.trim_start().trim_start_matches('*').trim_start_matches("./");
            (sum.len() == 64).then(|| (path.to_string(), sum.to_ascii_lowercase()))
        })
        .collect()
}
