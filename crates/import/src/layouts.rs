//! One function per export layout: which columns hold which fact, which row invariants of
//! `data/real/SOURCES.md` apply, and what identifies a row in its registry (its origin id).

use std::collections::{BTreeSet, VecDeque};
use std::io::{BufRead, BufReader, Read};

use crate::checks::{WithinFile, WithinIndex};
use crate::serial::{self, Serial};
use crate::table::{Rows, Table};
use crate::values;
use crate::{FileError, Kind, Note, ParsedFile, Quarantined, Reason, Record, Unit, country};

/// The export layouts Furrow reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layout {
    VerraVcus,
    VerraToucan,
    VerraProjects,
    VrodV3AcrIssuances,
    VrodV3AcrRetirements,
    VrodV3CarIssuances,
    VrodV3CarRetirements,
    VrodV3GoldIssuances,
    VrodV3VcsIssuances,
    VrodV3Projects,
    Vrod2025Projects,
    AcrIssuances,
    AcrRetirements,
    AcrCancellations,
    AcrProjects,
    CarIssuances,
    CarRetirements,
    CarCancellations,
    CarProjects,
    ArtIssuances,
    ArtRetirements,
    ArtCancellations,
    ArtProjects,
    GoldIssuances,
    GoldRetirements,
    GoldProjects,
    CercarbonoIssuances,
    CercarbonoRetirements,
    CercarbonoProjects,
    IsometricIssuances,
    IsometricRetirements,
    IsometricProjects,
    CarbIssuances,
    RefarmLedger,
    RefarmPortfolio,
    RefarmMonitoring,
    RefarmSummary,
    /// CarbonPlan OffsetsDB's harmonised layout, which registries (Furrow's own exports
    /// included) publish so aggregators can read them.
    OffsetsDbProjects,
    OffsetsDbTransactions,
}

type Bad = (Reason, String);

fn malformed(s: impl Into<String>) -> Bad {
    (Reason::Malformed, s.into())
}

impl Layout {
    /// A stable name: `<publication>/<what>`.
    pub fn name(self) -> &'static str {
        use Layout::*;
        match self {
            VerraVcus => "verra/vcu-blocks",
            VerraToucan => "verra/toucan-tokenized-blocks",
            VerraProjects => "verra/projects",
            VrodV3AcrIssuances => "vrod-v3/acr-issuances",
            VrodV3AcrRetirements => "vrod-v3/acr-retirements",
            VrodV3CarIssuances => "vrod-v3/car-issuances",
            VrodV3CarRetirements => "vrod-v3/car-retirements",
            VrodV3GoldIssuances => "vrod-v3/gold-standard-issuances",
            VrodV3VcsIssuances => "vrod-v3/verra-issuances",
            VrodV3Projects => "vrod-v3/projects",
            Vrod2025Projects => "vrod-2025-12/projects",
            AcrIssuances => "acr/issuances",
            AcrRetirements => "acr/retirements",
            AcrCancellations => "acr/cancellations",
            AcrProjects => "acr/projects",
            CarIssuances => "car/issuances",
            CarRetirements => "car/retirements",
            CarCancellations => "car/cancellations",
            CarProjects => "car/projects",
            ArtIssuances => "art-trees/issuances",
            ArtRetirements => "art-trees/retirements",
            ArtCancellations => "art-trees/cancellations",
            ArtProjects => "art-trees/projects",
            GoldIssuances => "gold-standard/issuances",
            GoldRetirements => "gold-standard/retirements",
            GoldProjects => "gold-standard/projects",
            CercarbonoIssuances => "cercarbono/issuances",
            CercarbonoRetirements => "cercarbono/retirements",
            CercarbonoProjects => "cercarbono/projects",
            IsometricIssuances => "isometric/issuances",
            IsometricRetirements => "isometric/retirements",
            IsometricProjects => "isometric/projects",
            CarbIssuances => "carb/arb-offset-issuances",
            RefarmLedger => "climate-refarm/ledger",
            RefarmPortfolio => "climate-refarm/portfolio-retirements",
            RefarmMonitoring => "climate-refarm/monitoring",
            RefarmSummary => "climate-refarm/portfolio-summary",
            OffsetsDbProjects => "offsetsdb/projects",
            OffsetsDbTransactions => "offsetsdb/transactions",
        }
    }

    /// The publication family: the per-dataset cross-file checks compare only rows of one family.
    pub fn dataset(self) -> &'static str {
        use Layout::*;
        match self {
            VerraVcus | VerraToucan => "verra-export",
            VrodV3AcrIssuances | VrodV3AcrRetirements | VrodV3CarIssuances | VrodV3CarRetirements
            | VrodV3GoldIssuances | VrodV3VcsIssuances | VrodV3Projects => "vrod-v3",
            Vrod2025Projects => "vrod-2025-12",
            RefarmLedger | RefarmPortfolio | RefarmMonitoring | RefarmSummary => "climate-refarm",
            OffsetsDbProjects | OffsetsDbTransactions => "offsetsdb",
            _ => "registry-export",
        }
    }

    /// The registry of origin, when the layout belongs to one (VROD project tables mix registries).
    pub fn registry(self) -> Option<&'static str> {
        use Layout::*;
        Some(match self {
            VerraVcus | VerraToucan | VerraProjects | VrodV3VcsIssuances => "verra",
            VrodV3AcrIssuances | VrodV3AcrRetirements | AcrIssuances | AcrRetirements | AcrCancellations
            | AcrProjects => "acr",
            VrodV3CarIssuances | VrodV3CarRetirements | CarIssuances | CarRetirements | CarCancellations
            | CarProjects => "car",
            VrodV3GoldIssuances | GoldIssuances | GoldRetirements | GoldProjects => "gold-standard",
            ArtIssuances | ArtRetirements | ArtCancellations | ArtProjects => "art-trees",
            CercarbonoIssuances | CercarbonoRetirements | CercarbonoProjects => "cercarbono",
            IsometricIssuances | IsometricRetirements | IsometricProjects => "isometric",
            CarbIssuances => "carb",
            RefarmLedger | RefarmPortfolio | RefarmMonitoring | RefarmSummary => "climate-refarm",
            // The harmonised layout names the registry per project row, not per file.
            VrodV3Projects | Vrod2025Projects | OffsetsDbProjects | OffsetsDbTransactions => return None,
        })
    }

    /// Documentation, checksums and licences are skipped by name, with the reason.
    fn skip_by_name(base: &str) -> Result<(), FileError> {
        if base == "SHA256SUMS"
            || base.ends_with(".md")
            || base == "TERMS_OF_DATA_ACCESS"
            || base.starts_with("LICENSE")
            || base.ends_with(".parquet")
        {
            return Err(if base.ends_with(".parquet") {
                Self::parquet(base)
            } else {
                FileError::NotData(format!("{base}: documentation or checksums, not registry data"))
            });
        }
        Ok(())
    }

    fn parquet(base: &str) -> FileError {
        FileError::NotData(format!(
            "{base}: Apache Parquet; import the CSV conversion beside it instead (same rows, SOURCES.md §E)"
        ))
    }

    /// The layout of a JSON document (only Climate Refarm's portfolio summary is one).
    fn json_layout(base: &str, bytes: &[u8]) -> Result<Layout, FileError> {
        let v: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| FileError::Unrecognised(format!("{base}: JSON that does not parse: {e}")))?;
        if v.get("total_credits_issued").is_some() && v.get("total_emission_reductions_tons_co2").is_some() {
            return Ok(Layout::RefarmSummary);
        }
        Err(FileError::Unrecognised(format!("{base}: a JSON document of no known layout")))
    }

    /// Recognise a file's layout from its content; `name` only breaks ties and skips non-data files.
    pub fn detect(name: &str, bytes: &[u8]) -> Result<Layout, FileError> {
        FileParser::open(name, bytes, None).map(|p| p.layout())
    }

    /// Recognise a CSV layout from its normalised header.
    fn from_header(base: &str, header: &[String]) -> Result<Layout, FileError> {
        let set: BTreeSet<&str> = header.iter().map(String::as_str).collect();
        let h = |n: &str| set.contains(n);
        use Layout::*;
        let layout = if h("transaction_type") && h("retirement_beneficiary") && h("project_id") {
            OffsetsDbTransactions
        } else if h("project_id") && h("registry") && h("first_issuance_at") {
            OffsetsDbProjects
        } else if h("Toucan Bridger") && h("Serial Number") {
            VerraToucan
        } else if h("Quantity Issued") && h("Serial Number") && h("Vintage Start") {
            VerraVcus
        } else if h("Proponent") && h("AFOLU Activities") {
            VerraProjects
        } else if h("Voluntary Registry") && h("issued_by_vintage_1996") {
            Vrod2025Projects
        } else if h("Voluntary Registry") && h("Issued by Reporting 1996") {
            VrodV3Projects
        } else if h("VCS + ID") {
            VrodV3VcsIssuances
        } else if h("GSID") && h("Issuance Year") {
            VrodV3GoldIssuances
        } else if h("GSID") && h("Retirement Date") {
            GoldRetirements
        } else if h("GSID") && h("Serial Number") {
            GoldIssuances
        } else if h("GSID") && h("Estimated Annual Credits") {
            GoldProjects
        } else if h("Date Issued (GMT)") && h("Credits Issued to Buffer Pool") {
            AcrIssuances
        } else if h("Credits Issued to Buffer Pool") && h("Issuance Year") {
            VrodV3AcrIssuances
        } else if h("Offset Credits Converted to VCUs") && h("Issuance Year") {
            VrodV3CarIssuances
        } else if h("Offset Credits Converted to VCUs") {
            CarIssuances
        } else if h("Offset Credit Serial Numbers") && h("CAR Retirement Data") {
            VrodV3CarRetirements
        } else if h("Offset Credit Serial Numbers") && h("Retirement Year") {
            VrodV3AcrRetirements
        } else if h("Offset Credit Serial Numbers") && h("Cancellation Reason") {
            CarCancellations
        } else if h("Offset Credit Serial Numbers") {
            CarRetirements
        } else if h("Program ID") && h("Credits Deposited in Buffer") {
            ArtIssuances
        } else if h("Program ID") && h("Credit Serial Numbers") && h("Cancellation Reason") {
            ArtCancellations
        } else if h("Program ID") && h("Credit Serial Numbers") {
            ArtRetirements
        } else if h("Program ID") && h("Sovereign Program Developer") {
            ArtProjects
        } else if h("Credit Serial Numbers") && h("Cancellation Type") {
            AcrCancellations
        } else if h("Credit Serial Numbers") && h("Retired on Behalf of") {
            AcrRetirements
        } else if h("Compliance Program ID (ARB or Ecology)") {
            AcrProjects
        } else if h("ARB ID") && h("Project Listed Date") {
            CarProjects
        } else if h("CARB Project ID") && h("ARB Offset Credits Issued") {
            CarbIssuances
        } else if h("issued_quantity") && h("is_buffer") {
            CercarbonoIssuances
        } else if h("end_user") && h("from") && h("to") && h("serial") {
            CercarbonoRetirements
        } else if h("quantification_method") && h("serials") {
            CercarbonoProjects
        } else if h("supplier_credit_batch_size_total.credits") {
            IsometricIssuances
        } else if h("retirement_id") && h("credit_batch_size_total.credit_kgs") {
            IsometricRetirements
        } else if h("issued_credits_total.credit_kgs") {
            IsometricProjects
        } else if h("serial_number") && h("issued_by") && h("project_id") {
            RefarmLedger
        } else if header == ["serial_number"] {
            RefarmPortfolio
        } else if h("total_credits_issued") && h("total_emission_reductions_tons_co2") && h("period") {
            RefarmMonitoring
        } else {
            let first: Vec<&str> = header.iter().take(6).map(String::as_str).collect();
            return Err(FileError::Unrecognised(format!(
                "{base}: the header ({}, …) matches no known export layout; see `furrow import --help`",
                first.join(", ")
            )));
        };
        Ok(layout)
    }
}

/// Reads one row's cells by column name.
struct Cells<'a> {
    t: &'a Table,
    row: &'a crate::table::Row,
}

impl<'a> Cells<'a> {
    fn get(&self, col: &str) -> Option<&'a str> {
        self.t.get(self.row, col)
    }
    fn req(&self, col: &str) -> Result<&'a str, Bad> {
        self.get(col).ok_or_else(|| malformed(format!("`{col}` is empty")))
    }
    fn int(&self, col: &str) -> Result<Option<i64>, Bad> {
        self.get(col).map(|c| values::int(c).map_err(|e| malformed(format!("`{col}`: {e}")))).transpose()
    }
    fn req_int(&self, col: &str) -> Result<i64, Bad> {
        values::int(self.req(col)?).map_err(|e| malformed(format!("`{col}`: {e}")))
    }
    /// An integer where an empty cell means 0 (VROD rollups).
    fn int0(&self, col: &str) -> Result<i64, Bad> {
        Ok(self.int(col)?.unwrap_or(0))
    }
    fn milli(&self, col: &str) -> Result<Option<i64>, Bad> {
        self.get(col).map(|c| values::milli(c).map_err(|e| malformed(format!("`{col}`: {e}")))).transpose()
    }
    fn date(&self, col: &str) -> Result<Option<String>, Bad> {
        self.get(col).map(|c| values::date(c).map_err(|e| malformed(format!("`{col}`: {e}")))).transpose()
    }
    fn year(&self, col: &str) -> Result<Option<i32>, Bad> {
        self.get(col).map(|c| values::year(c).map_err(|e| malformed(format!("`{col}`: {e}")))).transpose()
    }
    fn string(&self, col: &str) -> Option<String> {
        self.get(col).map(str::to_string)
    }
    fn float(&self, col: &str) -> Option<f64> {
        self.get(col).and_then(|c| c.parse::<f64>().ok()).filter(|f| f.is_finite())
    }
}

fn country_of(cell: Option<&str>) -> Option<String> {
    let c = cell?;
    Some(country::alpha2(c).unwrap_or_else(|| c.to_string()))
}

fn digits_of(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect::<String>().trim_start_matches('0').to_string()
}

fn year_of(date: &Option<String>) -> Option<i32> {
    date.as_ref().and_then(|d| d.get(0..4)).and_then(|y| y.parse().ok())
}

/// The largest JSON document read whole (Climate Refarm's portfolio summary is a few hundred bytes).
const MAX_JSON_BYTES: u64 = 16 << 20;

/// One decision of the parser, in file order.
// Items are consumed as they are made, one at a time: boxing the record would cost an allocation
// per row to save bytes that are never held in bulk.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Record(Record),
    Quarantined(Quarantined),
    Note(Note),
}

/// A file parsed as it is read: each row is decided (a record, or quarantined with a reason) when
/// it is read, against the rows before it, so a file of any length streams through in bounded
/// memory. [`crate::parse_file`] collects the same items into a [`ParsedFile`].
pub struct FileParser<R: Read> {
    layout: Layout,
    name: String,
    registry: Option<String>,
    /// The CSV header and the rows after it; `None` for a JSON document, whose items are decided
    /// up front.
    body: Option<(Table, Rows<BufReader<R>>)>,
    checks: WithinFile,
    pending: VecDeque<Item>,
    rows: u64,
    finished: bool,
}

impl<R: Read> FileParser<R> {
    /// Recognises the layout from the file's first bytes and header; `name` only breaks ties and
    /// skips non-data files. `registry` overrides the registry of origin.
    pub fn open(name: &str, input: R, registry: Option<&str>) -> Result<Self, FileError> {
        let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
        Layout::skip_by_name(base)?;
        let mut input = BufReader::with_capacity(64 << 10, input);
        let start = input.fill_buf().map_err(|e| FileError::Unrecognised(format!("{base}: {e}")))?;
        if start.starts_with(b"PAR1") {
            return Err(Layout::parquet(base));
        }
        let mut parser = FileParser {
            layout: Layout::RefarmSummary,
            name: name.to_string(),
            registry: registry.map(str::to_string),
            body: None,
            checks: WithinFile::default(),
            pending: VecDeque::new(),
            rows: 0,
            finished: false,
        };
        if start.trim_ascii_start().starts_with(b"{") {
            let mut bytes = Vec::new();
            input
                .take(MAX_JSON_BYTES + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| FileError::Unrecognised(format!("{base}: {e}")))?;
            if bytes.len() as u64 > MAX_JSON_BYTES {
                return Err(FileError::Unrecognised(format!("{base}: a JSON document over {MAX_JSON_BYTES} bytes")));
            }
            Layout::json_layout(base, &bytes)?;
            let summary = refarm_summary(name, &bytes);
            parser.rows = summary.rows;
            parser.pending.extend(summary.records.into_iter().map(Item::Record));
            parser.pending.extend(summary.quarantined.into_iter().map(Item::Quarantined));
            parser.finished = true;
            return Ok(parser);
        }
        let (table, rows) = Table::open(input).map_err(|e| match e.as_str() {
            "empty file" => FileError::Unrecognised(format!("{base}: empty or not CSV")),
            _ => FileError::Unrecognised(format!("{base}: {e}")),
        })?;
        parser.layout = Layout::from_header(base, &table.headers)?;
        parser.body = Some((table, rows));
        Ok(parser)
    }

    /// Keeps what the within-file checks remember of the rows read so far in `index` instead of
    /// in memory (the importer's index on disk, so that memory does not grow with the file). To be
    /// called before the first [`FileParser::next_item`]: the checks start afresh.
    pub fn with_index(mut self, index: Box<dyn WithinIndex>) -> Self {
        self.checks = WithinFile::new(index);
        self
    }

    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Data rows read so far (the header not counted).
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The next decision, `None` at the end of the file. An `Err` means the file cannot be read
    /// any further (an I/O error or unreadable CSV); the items before it stand.
    pub fn next_item(&mut self) -> Option<Result<Item, FileError>> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(Ok(item));
            }
            if self.finished {
                return None;
            }
            let Some((table, rows)) = &mut self.body else {
                self.finished = true;
                continue;
            };
            let row = match rows.next_row() {
                Some(Ok(row)) => row,
                Some(Err(e)) => {
                    self.finished = true;
                    return Some(Err(FileError::Unrecognised(format!("{}: {e}", self.name))));
                }
                None => {
                    self.finished = true;
                    match self.checks.finish() {
                        Ok(note) => self.pending.extend(note.map(Item::Note)),
                        Err(e) => return Some(Err(FileError::Unrecognised(format!("{}: {e}", self.name)))),
                    }
                    continue;
                }
            };
            self.rows += 1;
            let registry = self.registry.as_deref().or(self.layout.registry());
            let raw = table.raw(&row);
            let c = Cells { t: table, row: &row };
            let mut notes = Vec::new();
            let result = if row.lossy {
                Err(malformed("the row is not valid UTF-8"))
            } else {
                parse_row(self.layout, &self.name, registry, &c, row.line, raw.clone(), &mut notes)
            };
            let item = match result {
                Err((reason, detail)) => Item::Quarantined(Quarantined {
                    line: row.line,
                    registry: registry.map(str::to_string),
                    origin_id: None,
                    reason,
                    detail,
                    raw,
                }),
                Ok((record, vintage_total)) => match self.checks.check(&record, vintage_total.as_ref(), &mut notes) {
                    Err(e) => {
                        self.finished = true;
                        return Some(Err(FileError::Unrecognised(format!("{}: {e}", self.name))));
                    }
                    Ok(Ok(())) => Item::Record(record),
                    Ok(Err((reason, detail))) => Item::Quarantined(Quarantined {
                        line: record.line,
                        registry: Some(record.registry),
                        origin_id: Some(record.origin_id),
                        reason,
                        detail,
                        raw: record.raw,
                    }),
                },
            };
            self.pending.extend(notes.into_iter().map(Item::Note));
            self.pending.push_back(item);
        }
    }
}

type Parsed = (Record, Option<(String, i64)>);

fn parse_row(
    layout: Layout,
    name: &str,
    registry: Option<&str>,
    c: &Cells,
    line: u64,
    raw: String,
    notes: &mut Vec<Note>,
) -> Result<Parsed, Bad> {
    use Layout::*;
    let reg = registry.unwrap_or("unknown");
    let ds = layout.dataset();
    let plain = |r: Result<Record, Bad>| r.map(|r| (r, None));
    match layout {
        VerraVcus => verra_block(c, reg, ds, line, raw, "Quantity Issued", "Total Vintage Quantity"),
        VerraToucan => verra_block(c, reg, ds, line, raw, "Quantity", "Vintage Quantity"),
        VerraProjects => plain(project(
            c,
            reg,
            ds,
            line,
            raw,
            &ProjectCols {
                id: "ID",
                id_prefix: "VCS",
                name: "Name",
                country: "Country/Area",
                methodology: Some("Methodology"),
                start: Some("Crediting Period Start Date"),
                end: Some("Crediting Period End Date"),
                listed: Some("Project Registration Date"),
            },
        )),
        VrodV3AcrIssuances => plain(vrod_issuance(c, reg, ds, line, raw, IssCols::ACR_V3)),
        VrodV3CarIssuances => plain(vrod_issuance(c, reg, ds, line, raw, IssCols::CAR_V3)),
        VrodV3VcsIssuances => plain(vrod_issuance(c, reg, ds, line, raw, IssCols::VCS_V3)),
        AcrIssuances => plain(vrod_issuance(c, reg, ds, line, raw, IssCols::ACR)),
        CarIssuances => plain(vrod_issuance(c, reg, ds, line, raw, IssCols::CAR)),
        ArtIssuances => plain(vrod_issuance(c, reg, ds, line, raw, IssCols::ART)),
        VrodV3AcrRetirements => plain(block_row(c, reg, ds, line, raw, &BlockCols::ACR_V3)),
        VrodV3CarRetirements => plain(block_row(c, reg, ds, line, raw, &BlockCols::CAR_V3)),
        AcrRetirements => plain(block_row(c, reg, ds, line, raw, &BlockCols::ACR_RET)),
        AcrCancellations => plain(block_row(c, reg, ds, line, raw, &BlockCols::ACR_CAN)),
        CarRetirements => plain(block_row(c, reg, ds, line, raw, &BlockCols::CAR_RET)),
        CarCancellations => plain(block_row(c, reg, ds, line, raw, &BlockCols::CAR_CAN)),
        ArtRetirements => plain(block_row(c, reg, ds, line, raw, &BlockCols::ART_RET)),
        ArtCancellations => plain(block_row(c, reg, ds, line, raw, &BlockCols::ART_CAN)),
        VrodV3GoldIssuances | GoldIssuances | GoldRetirements => plain(gold_row(layout, c, reg, ds, line, raw, notes)),
        VrodV3Projects => plain(vrod_project(c, ds, line, raw, false, notes)),
        Vrod2025Projects => plain(vrod_project(c, ds, line, raw, true, notes)),
        AcrProjects => plain(project(
            c,
            reg,
            ds,
            line,
            raw,
            &ProjectCols {
                id: "Project ID",
                id_prefix: "",
                name: "Project Name",
                country: "Project Site Country",
                methodology: Some("Project Methodology/Protocol"),
                start: Some("Current Crediting Period Start Date"),
                end: Some("Current Crediting Period End Date"),
                listed: None,
            },
        )),
        CarProjects => plain(project(
            c,
            reg,
            ds,
            line,
            raw,
            &ProjectCols {
                id: "Project ID",
                id_prefix: "",
                name: "Project Name",
                country: "Project Site Country",
                methodology: Some("Project Type"),
                start: None,
                end: None,
                listed: Some("Project Listed Date"),
            },
        )),
        ArtProjects => plain(project(
            c,
            reg,
            ds,
            line,
            raw,
            &ProjectCols {
                id: "Program ID",
                id_prefix: "",
                name: "Program Name",
                country: "Program Country",
                methodology: Some("Crediting Program and Standard"),
                start: Some("Initial Crediting Period Start Date"),
                end: None,
                listed: None,
            },
        )),
        GoldProjects => plain(project(
            c,
            reg,
            ds,
            line,
            raw,
            &ProjectCols {
                id: "GSID",
                id_prefix: "GS",
                name: "Project Name",
                country: "Country",
                methodology: Some("Methodology"),
                start: None,
                end: None,
                listed: None,
            },
        )),
        CercarbonoIssuances => plain(cercarbono_issuance(c, reg, ds, line, raw)),
        CercarbonoRetirements => plain(cercarbono_retirement(c, reg, ds, line, raw)),
        CercarbonoProjects => plain(cercarbono_project(c, reg, ds, line, raw)),
        IsometricIssuances => plain(isometric_issuance(c, reg, ds, line, raw)),
        IsometricRetirements => plain(isometric_retirement(c, reg, ds, line, raw)),
        IsometricProjects => plain(isometric_project(c, reg, ds, line, raw)),
        CarbIssuances => {
            let r = carb_issuance(c, reg, ds, line, raw)?;
            if r.quantity.is_none() {
                let reversal = c.get("Intentional Reversal").or(c.get("Unintentional Reversal"));
                notes.push(Note {
                    line,
                    code: "no_credits_issued",
                    detail: match reversal {
                        Some(q) => format!("{}: a reversal of {q}, no credits issued", r.origin_id),
                        None => format!("{}: a reporting period without credits", r.origin_id),
                    },
                });
            }
            Ok((r, None))
        }
        RefarmLedger => plain(refarm_credit(c, reg, ds, line, raw)),
        RefarmPortfolio => plain(refarm_portfolio(name, c, reg, ds, line, raw)),
        RefarmMonitoring => plain(refarm_monitoring(name, c, reg, ds, line, raw)),
        RefarmSummary => Err(malformed("not a CSV layout")),
        OffsetsDbProjects => plain(offsetsdb_project(c, reg, ds, line, raw)),
        OffsetsDbTransactions => plain(offsetsdb_transaction(c, reg, ds, line, raw)),
    }
}

/// A project in the harmonised layout. Origin id: `project_id` (registry-prefixed there already).
fn offsetsdb_project(c: &Cells, reg: &str, ds: &str, line: u64, raw: String) -> Result<Record, Bad> {
    let id = c.req("project_id")?;
    let reg = c.get("registry").filter(|r| !r.trim().is_empty()).unwrap_or(reg);
    let mut r = Record::new(reg, Kind::Project, id.to_string(), ds, line, raw);
    r.project = Some(id.to_string());
    r.name = c.string("name");
    r.country = country_of(c.get("country"));
    r.methodology = c.string("protocol");
    r.date = c.date("listed_at")?;
    Ok(r)
}

/// A transaction in the harmonised layout. Origin id: `transaction_id` where the publisher
/// gives one (Furrow does), else type, project, vintage, date, quantity and the row's line.
fn offsetsdb_transaction(c: &Cells, reg: &str, ds: &str, line: u64, raw: String) -> Result<Record, Bad> {
    let kind = match c.req("transaction_type")?.trim() {
        "issuance" => Kind::Issuance,
        "retirement" => Kind::Retirement,
        "cancellation" => Kind::Cancellation,
        other => {
            return Err(malformed(format!("transaction_type {other:?} is none of issuance, retirement, cancellation")));
        }
    };
    let project = c.req("project_id")?;
    let quantity = c.req_int("quantity")?;
    let date = c.date("transaction_date")?;
    let vintage = c.year("vintage")?;
    let id = match c.string("transaction_id") {
        Some(id) => id,
        None => format!(
            "{}:{project}:{}:{}:{quantity}:line{line}",
            kind.as_str(),
            vintage.map(|v| v.to_string()).unwrap_or_default(),
            date.clone().unwrap_or_default()
        ),
    };
    let mut r = Record::new(reg, kind, id, ds, line, raw);
    r.project = Some(project.to_string());
    r.quantity = Some(quantity);
    r.vintage = vintage;
    r.date = date;
    r.beneficiary = c.string("retirement_beneficiary");
    Ok(r)
}

/// Verra's VCU export (and the Toucan derivative): one row per block.
fn verra_block(
    c: &Cells,
    reg: &str,
    ds: &str,
    line: u64,
    raw: String,
    qty_col: &str,
    total_col: &str,
) -> Result<Parsed, Bad> {
    let text = c.req("Serial Number")?;
    let s = serial::parse_verra(text).map_err(|e| malformed(e.to_string()))?;
    let quantity = c.req_int(qty_col)?;
    let Serial::Verra { project, vintage_start, vintage_end, country, .. } = &s else {
        return Err(malformed("not a Verra serial"));
    };
    let id = c.req("ID")?;
    if digits_of(id) != project.trim_start_matches('0') {
        return Err((Reason::SerialMismatch, format!("serial names project {project}, column `ID` says {id}")));
    }
    let vs = c.date("Vintage Start")?;
    let ve = c.date("Vintage End")?;
    if vs != values::ddmmyyyy(vintage_start) || ve != values::ddmmyyyy(vintage_end) {
        return Err((
            Reason::SerialMismatch,
            format!(
                "serial vintage {vintage_start}–{vintage_end} differs from the columns {}–{}",
                vs.unwrap_or_default(),
                ve.unwrap_or_default()
            ),
        ));
    }
    if s.len() as i64 != quantity {
        return Err((Reason::QuantityMismatch, format!("quantity {quantity} but the range holds {}", s.len())));
    }
    let issued = c.date("Issuance Date")?;
    let retired = c.date("Retirement/Cancellation Date")?;
    let order = [vs.clone(), ve.clone(), issued.clone(), retired.clone()];
    let known: Vec<&String> = order.iter().flatten().collect();
    if known.windows(2).any(|w| w[0] > w[1]) {
        return Err((
            Reason::DatesOutOfOrder,
            format!(
                "expected vintage start {} ≤ vintage end {} ≤ issuance {} ≤ retirement {}",
                order[0].as_deref().unwrap_or("-"),
                order[1].as_deref().unwrap_or("-"),
                order[2].as_deref().unwrap_or("-"),
                order[3].as_deref().unwrap_or("-")
            ),
        ));
    }
    let kind = if retired.is_some() { Kind::RetirementOrCancellation } else { Kind::Issuance };
    let mut r = Record::new(reg, kind, text.to_string(), ds, line, raw);
    r.with_serial(text, &s);
    r.project = Some(format!("VCS{}", project.trim_start_matches('0')));
    r.name = c.string("Name");
    r.country = Some(country.clone());
    r.methodology = c.string("Methodology");
    r.vintage = year_of(&vs);
    r.quantity = Some(quantity);
    r.date = retired.or(issued);
    r.period_start = vs;
    r.period_end = ve;
    r.beneficiary = c.string("Retirement Beneficiary");
    let total = c.int(total_col)?;
    let key = format!("{}/{}/{}", project, vintage_start, vintage_end);
    Ok((r, total.map(|t| (key, t))))
}

struct IssCols {
    date: &'static str,
    project: &'static str,
    project_prefix: &'static str,
    vintage: &'static str,
    issuance_year: Option<&'static str>,
    total: &'static str,
    /// ACR: total = to project + to buffer.
    parts: Option<(&'static str, &'static str)>,
    country: Option<&'static str>,
    name: &'static str,
    methodology: Option<&'static str>,
    period: Option<(&'static str, &'static str)>,
}

impl IssCols {
    const ACR_V3: &'static IssCols = &IssCols {
        date: "Date Issued",
        project: "Project ID",
        project_prefix: "",
        vintage: "Vintage",
        issuance_year: Some("Issuance Year"),
        total: "Total Credits Issued",
        parts: Some(("Credits Issued to Project", "Credits Issued to Buffer Pool")),
        country: Some("Project Site Country"),
        name: "Project Name",
        methodology: Some("Protocol Version"),
        period: None,
    };
    const CAR_V3: &'static IssCols = &IssCols {
        date: "Date Issued",
        project: "Project ID",
        project_prefix: "",
        vintage: "Vintage",
        issuance_year: Some("Issuance Year"),
        total: "Total Offset Credits Issued",
        parts: None,
        country: Some("Project Site Country"),
        name: "Project Name",
        methodology: Some("Protocol Version"),
        period: None,
    };
    const VCS_V3: &'static IssCols = &IssCols {
        date: "Issuance Date",
        project: "VCS + ID",
        project_prefix: "",
        vintage: "Vintage Year",
        issuance_year: Some("Issuance Year"),
        total: "Credits Issued",
        parts: None,
        country: None,
        name: "Project Name",
        methodology: None,
        period: None,
    };
    const ACR: &'static IssCols = &IssCols {
        date: "Date Issued (GMT)",
        project: "Project ID",
        project_prefix: "",
        vintage: "Vintage",
        issuance_year: None,
        total: "Total Credits Issued",
        parts: Some(("Credits Issued to Project", "Credits Issued to Buffer Pool")),
        country: Some("Project Site Country"),
        name: "Project Name",
        methodology: Some("Project Methodology/Protocol"),
        period: Some(("ReportingPeriodBegin", "ReportingPeriodEnd")),
    };
    const CAR: &'static IssCols = &IssCols {
        date: "Date Issued",
        project: "Project ID",
        project_prefix: "",
        vintage: "Vintage",
        issuance_year: None,
        total: "Total Offset Credits Issued",
        parts: None,
        country: Some("Project Site Country"),
        name: "Project Name",
        methodology: Some("Protocol and Version"),
        period: None,
    };
    const ART: &'static IssCols = &IssCols {
        date: "Date Approved",
        project: "Program ID",
        project_prefix: "",
        vintage: "Vintage",
        issuance_year: None,
        total: "Total Emission Reductions/Removals",
        parts: Some(("Credits Verified", "Credits Deposited in Buffer")),
        country: Some("Program Country"),
        name: "Program Name",
        methodology: Some("Crediting Program and Standard"),
        period: None,
    };
}

/// An issuance row without serials. Origin id: `{project}/{vintage}/{date}/{quantity}` — these
/// exports have no issuance id, and those four facts identify an issuance event.
fn vrod_issuance(c: &Cells, reg: &str, ds: &str, line: u64, raw: String, k: &IssCols) -> Result<Record, Bad> {
    let project = format!("{}{}", k.project_prefix, c.req(k.project)?);
    let vintage = c.year(k.vintage)?.ok_or_else(|| malformed(format!("`{}` is empty", k.vintage)))?;
    let date = c.date(k.date)?.ok_or_else(|| malformed(format!("`{}` is empty", k.date)))?;
    let total = c.req_int(k.total)?;
    if let Some((a, b)) = k.parts {
        let (x, y) = (c.int0(a)?, c.int0(b)?);
        if x + y != total {
            return Err((Reason::TotalMismatch, format!("`{}` {total} ≠ `{a}` {x} + `{b}` {y}", k.total)));
        }
    }
    let issuance_year = match k.issuance_year {
        Some(col) => c.year(col)?,
        None => year_of(&Some(date.clone())),
    };
    // VCS: vintage ≤ issuance year (SOURCES §A.5); ACR/CAR/ART issue ex-post as well.
    if let Some(iy) = issuance_year
        && vintage > iy
        && reg == "verra"
    {
        return Err((Reason::DatesOutOfOrder, format!("vintage {vintage} is after the issuance year {iy}")));
    }
    let origin = format!("{project}/{vintage}/{date}/{total}");
    let mut r = Record::new(reg, Kind::Issuance, origin, ds, line, raw);
    r.project = Some(project);
    r.name = c.string(k.name);
    r.country = k.country.and_then(|col| country_of(c.get(col)));
    r.methodology = k.methodology.and_then(|col| c.string(col));
    r.vintage = Some(vintage);
    r.quantity = Some(total);
    r.date = Some(date);
    if let Some((s, e)) = k.period {
        r.period_start = c.date(s)?;
        r.period_end = c.date(e)?;
    }
    Ok(r)
}

struct BlockCols {
    kind: Kind,
    serial: &'static str,
    quantity: &'static str,
    project: &'static str,
    vintage: &'static str,
    date: &'static str,
    issued: Option<&'static str>,
    beneficiary: &'static [&'static str],
    name: &'static str,
    car: bool,
}

impl BlockCols {
    const ACR_V3: BlockCols = BlockCols {
        kind: Kind::Retirement,
        serial: "Offset Credit Serial Numbers",
        quantity: "Quantity of Offset Credits",
        project: "Project ID",
        vintage: "Vintage",
        date: "Status Effective",
        issued: Some("Date Issued"),
        beneficiary: &["Retirement Reason Details", "Account Holder"],
        name: "Project Name",
        car: false,
    };
    const CAR_V3: BlockCols = BlockCols {
        kind: Kind::Retirement,
        serial: "Offset Credit Serial Numbers",
        quantity: "Quantity of Offset Credits",
        project: "Project ID",
        vintage: "Vintage",
        date: "Status Effective",
        issued: None,
        beneficiary: &["Retirement Reason Details", "Account Holder"],
        name: "Project Name",
        car: true,
    };
    const ACR_RET: BlockCols = BlockCols {
        kind: Kind::Retirement,
        serial: "Credit Serial Numbers",
        quantity: "Quantity of Credits",
        project: "Project ID",
        vintage: "Vintage",
        date: "Status Effective (GMT)",
        issued: Some("Date Issued (GMT)"),
        beneficiary: &["Retired on Behalf of", "Account Holder"],
        name: "Project Name",
        car: false,
    };
    const ACR_CAN: BlockCols = BlockCols {
        kind: Kind::Cancellation,
        serial: "Credit Serial Numbers",
        quantity: "Quantity of Credits",
        project: "Project ID",
        vintage: "Vintage",
        date: "Status Effective (GMT)",
        issued: Some("Date Issued (GMT)"),
        beneficiary: &[],
        name: "Project Name",
        car: false,
    };
    const CAR_RET: BlockCols = BlockCols {
        kind: Kind::Retirement,
        serial: "Offset Credit Serial Numbers",
        quantity: "Quantity of Offset Credits",
        project: "Project ID",
        vintage: "Vintage",
        date: "Status Effective",
        issued: None,
        beneficiary: &["Retirement Reason Details", "Account Holder"],
        name: "Project Name",
        car: true,
    };
    const CAR_CAN: BlockCols = BlockCols {
        kind: Kind::Cancellation,
        serial: "Offset Credit Serial Numbers",
        quantity: "Quantity of Offset Credits",
        project: "Project ID",
        vintage: "Vintage",
        date: "Status Effective",
        issued: None,
        beneficiary: &[],
        name: "Project Name",
        car: true,
    };
    const ART_RET: BlockCols = BlockCols {
        kind: Kind::Retirement,
        serial: "Credit Serial Numbers",
        quantity: "Quantity of Credits",
        project: "Program ID",
        vintage: "Vintage",
        date: "Status Effective",
        issued: None,
        beneficiary: &["Retired on Behalf of", "Account Holder"],
        name: "Program Name",
        car: false,
    };
    const ART_CAN: BlockCols = BlockCols {
        kind: Kind::Cancellation,
        serial: "Credit Serial Numbers",
        quantity: "Quantity of Credits",
        project: "Program ID",
        vintage: "Vintage",
        date: "Status Effective",
        issued: None,
        beneficiary: &[],
        name: "Program Name",
        car: false,
    };
}

/// A retired or cancelled block of ACR, CAR or ART: origin id = the serial range as published.
fn block_row(c: &Cells, reg: &str, ds: &str, line: u64, raw: String, k: &BlockCols) -> Result<Record, Bad> {
    let text = c.req(k.serial)?;
    let s =
        if k.car { serial::parse_car(text) } else { serial::parse_apx(text) }.map_err(|e| malformed(e.to_string()))?;
    let quantity = c.req_int(k.quantity)?;
    let project = c.req(k.project)?;
    let vintage = c.year(k.vintage)?;
    if s.project_number().map(str::to_string) != Some(digits_of(project)) {
        return Err((
            Reason::SerialMismatch,
            format!("serial names project {}, column says {project}", s.project_number().unwrap_or("-")),
        ));
    }
    if vintage.is_some() && s.vintage() != vintage {
        return Err((
            Reason::SerialMismatch,
            format!(
                "serial vintage {} differs from `{}` {}",
                s.vintage().unwrap_or(0),
                k.vintage,
                vintage.unwrap_or(0)
            ),
        ));
    }
    if s.len() as i64 != quantity {
        return Err((Reason::QuantityMismatch, format!("quantity {quantity} but the range holds {}", s.len())));
    }
    let date = c.date(k.date)?;
    if let Some(col) = k.issued {
        let issued = c.date(col)?;
        if let (Some(i), Some(d)) = (&issued, &date)
            && d < i
        {
            return Err((Reason::DatesOutOfOrder, format!("{} {d} is before issuance {i}", k.date)));
        }
    }
    let mut r = Record::new(reg, k.kind, text.to_string(), ds, line, raw);
    r.with_serial(text, &s);
    r.project = Some(project.to_string());
    r.name = c.string(k.name);
    r.country = s.country().map(str::to_string);
    r.vintage = vintage.or(s.vintage());
    r.quantity = Some(quantity);
    r.date = date;
    r.beneficiary = k.beneficiary.iter().find_map(|col| c.string(col));
    Ok(r)
}

/// Gold Standard issuance and retirement blocks (VROD v3 and the registry's own export).
fn gold_row(
    layout: Layout,
    c: &Cells,
    reg: &str,
    ds: &str,
    line: u64,
    raw: String,
    notes: &mut Vec<Note>,
) -> Result<Record, Bad> {
    let text = c.req("Serial Number")?.trim();
    let gsid = c.req("GSID")?;
    let gsid = digits_of(gsid);
    let quantity = c.req_int("Quantity")?;
    let vintage = c.year("Vintage")?;
    let issued = c.date("Issuance Date")?;
    let kind = if layout == Layout::GoldRetirements { Kind::Retirement } else { Kind::Issuance };
    let mut r = Record::new(reg, kind, text.to_string(), ds, line, raw);
    if text.starts_with("GS") {
        let s = serial::parse_gold(text).map_err(|e| malformed(e.to_string()))?;
        if s.project_number() != Some(gsid.as_str()) || (vintage.is_some() && s.vintage() != vintage) {
            return Err((
                Reason::SerialMismatch,
                format!(
                    "serial names GS{} vintage {:?}; columns say GS{gsid} vintage {vintage:?}",
                    s.project_number().unwrap_or("-"),
                    s.vintage()
                ),
            ));
        }
        if s.len() as i64 != quantity {
            return Err((Reason::QuantityMismatch, format!("quantity {quantity} but the range holds {}", s.len())));
        }
        r.with_serial(text, &s);
        r.country = s.country().map(str::to_string);
    } else {
        // CDM CERs: the range is a transcription; keep it only when it agrees with the quantity.
        r.serial = Some(text.to_string());
        match serial::parse_cdm(text) {
            Ok(s) if s.len() as i64 == quantity && s.country().is_some() => r.with_serial(text, &s),
            Ok(s) => notes.push(Note {
                line,
                code: "cdm_range_not_used",
                detail: format!(
                    "CDM range {text:?} holds {} but the row's quantity is {quantity}; range not used",
                    s.len()
                ),
            }),
            Err(e) => notes.push(Note { line, code: "cdm_range_not_used", detail: format!("{e}; range not used") }),
        }
        r.country = country_of(c.get("Country"));
    }
    // Forward vintages: allowed for ex-ante products (PER) and inside a long monitoring period (forestry).
    let iy = match layout {
        Layout::VrodV3GoldIssuances => c.year("Issuance Year")?,
        _ => year_of(&issued),
    };
    let period_end = c.date("Monitoring Period End")?;
    if let (Some(v), Some(iy)) = (vintage, iy)
        && v > iy
    {
        let product = c.get("Product Type").unwrap_or("");
        if product == "PER" || year_of(&period_end).is_some_and(|e| e >= v) {
            notes.push(Note {
                line,
                code: "forward_vintage",
                detail: format!(
                    "vintage {v} after issuance year {iy} ({product}; monitoring period to {})",
                    period_end.as_deref().unwrap_or("-")
                ),
            });
        } else {
            return Err((Reason::DatesOutOfOrder, format!("vintage {v} is after the issuance year {iy}")));
        }
    }
    let retired = c.date("Retirement Date")?;
    if let (Some(i), Some(d)) = (&issued, &retired)
        && d < i
    {
        return Err((Reason::DatesOutOfOrder, format!("retirement {d} is before issuance {i}")));
    }
    r.project = Some(format!("GS{gsid}"));
    r.name = c.string("Project Name");
    r.methodology = c.string("Methodology");
    r.vintage = vintage;
    r.quantity = Some(quantity);
    r.date = retired.or(issued);
    r.period_start = c.date("Monitoring Period Start")?;
    r.period_end = period_end;
    r.beneficiary = c.string("Using Entity");
    Ok(r)
}

struct ProjectCols {
    id: &'static str,
    id_prefix: &'static str,
    name: &'static str,
    country: &'static str,
    methodology: Option<&'static str>,
    start: Option<&'static str>,
    end: Option<&'static str>,
    listed: Option<&'static str>,
}

/// A project as its registry lists it. Origin id: the registry's project id.
fn project(c: &Cells, reg: &str, ds: &str, line: u64, raw: String, k: &ProjectCols) -> Result<Record, Bad> {
    let id = c.req(k.id)?;
    let id = if k.id_prefix.is_empty() { id.to_string() } else { format!("{}{}", k.id_prefix, digits_of(id)) };
    let mut r = Record::new(reg, Kind::Project, id.clone(), ds, line, raw);
    r.project = Some(id);
    r.name = c.string(k.name);
    r.country = country_of(c.get(k.country));
    r.methodology = k.methodology.and_then(|m| c.string(m));
    r.period_start = k.start.map(|s| c.date(s)).transpose()?.flatten();
    r.period_end = k.end.map(|s| c.date(s)).transpose()?.flatten();
    r.date = k.listed.map(|s| c.date(s)).transpose()?.flatten();
    Ok(r)
}

fn vrod_registry(cell: &str) -> Option<&'static str> {
    Some(match cell {
        "ACR" => "acr",
        "CAR" => "car",
        "GOLD" => "gold-standard",
        "VCS" => "verra",
        "ART" => "art-trees",
        _ => return None,
    })
}

/// A VROD project rollup (v3 of 2021 and the 2025 year-end release). Origin id `{project}@{release}`:
/// a rollup is one observation of a project at one date, and two releases disagree legitimately.
fn vrod_project(
    c: &Cells,
    ds: &str,
    line: u64,
    raw: String,
    v2025: bool,
    notes: &mut Vec<Note>,
) -> Result<Record, Bad> {
    let id = c.req("Project ID")?;
    let vr = c.req("Voluntary Registry")?;
    let reg = vrod_registry(vr).ok_or_else(|| malformed(format!("unknown `Voluntary Registry` {vr:?}")))?;
    let (issued, retired, remaining) =
        (c.int0("Total Credits Issued")?, c.int0("Total Credits Retired")?, c.int0("Total Credits Remaining")?);
    let (by_vintage, retired_in, remaining_by, issued_in) = if v2025 {
        ("issued_by_vintage_", "retired_in_year_", "remaining_by_vintage_", "issued_in_year_")
    } else {
        ("Issued by Reporting ", "Retired ", "Remaining ", "Issued ")
    };
    let last = if v2025 { 2025 } else { 2021 };
    let mut sums = [0i64; 4];
    let mut negative = Vec::new();
    for y in 1996..=last {
        for (i, prefix) in [by_vintage, retired_in, remaining_by, issued_in].iter().enumerate() {
            let col = format!("{prefix}{y}");
            let v = c.int0(&col)?;
            if v < 0 {
                negative.push(format!("{col} = {v}"));
            }
            sums[i] += v;
        }
    }
    let unknown = c.int0("Year Unknown")?;
    // Reversals and corrections: legitimate, noted whether or not the row is quarantined below.
    if !negative.is_empty() {
        notes.push(Note { line, code: "negative_yearly_cell", detail: format!("{id}: {}", negative.join(", ")) });
    }
    if retired > issued {
        return Err((
            Reason::RetiredExceedsIssued,
            format!("retired {retired} > issued {issued} (remaining {remaining})"),
        ));
    }
    let checks = [
        (remaining == issued - retired, format!("remaining {remaining} ≠ issued {issued} − retired {retired}")),
        (sums[0] == issued, format!("issued by vintage sums to {} ≠ total issued {issued}", sums[0])),
        (
            sums[1] + unknown == retired,
            format!("retired by year + unknown sums to {} ≠ total retired {retired}", sums[1] + unknown),
        ),
        (sums[2] == remaining, format!("remaining by vintage sums to {} ≠ total remaining {remaining}", sums[2])),
        (sums[3] == issued, format!("issued by issuance year sums to {} ≠ total issued {issued}", sums[3])),
    ];
    if let Some((_, why)) = checks.into_iter().find(|(ok, _)| !ok) {
        return Err((Reason::RollupMismatch, why));
    }
    if v2025 {
        let deposits = c.int0("Total Buffer Pool Deposits")?;
        if deposits > issued {
            return Err((Reason::TotalMismatch, format!("buffer deposits {deposits} > credits issued {issued}")));
        }
        let covered = c.int0("Reversals Covered by Buffer Pool")?;
        if covered > deposits {
            notes.push(Note {
                line,
                code: "pooled_buffer_covered_reversal",
                detail: format!(
                    "{id}: reversals covered by the buffer {covered} > own deposits {deposits} (the buffer is pooled)"
                ),
            });
        }
    }
    let release = if v2025 { "vrod-2025-12" } else { "vrod-v3-2021-12" };
    let mut r = Record::new(reg, Kind::ProjectRollup, format!("{id}@{release}"), ds, line, raw);
    r.project = Some(id.to_string());
    r.name = c.string("Project Name");
    r.country = country_of(c.get("Country"));
    r.methodology = c.string("Methodology / Protocol");
    r.quantity = Some(issued);
    r.vintage = c.year(if v2025 { "First Year of Project (Vintage)" } else { "First Year of Project" }).ok().flatten();
    Ok(r)
}

fn cercarbono_issuance(c: &Cells, reg: &str, ds: &str, line: u64, raw: String) -> Result<Record, Bad> {
    let batch = c.req("serial")?;
    let buffer = c.get("is_buffer") == Some("True");
    let origin = if buffer { format!("{batch}/buffer") } else { batch.to_string() };
    let mut r = Record::new(reg, Kind::Issuance, origin, ds, line, raw);
    r.serial = Some(batch.to_string());
    r.quantity = Some(c.req_int("issued_quantity")?);
    r.vintage = c.year("year")?;
    r.date = c.date("issuance_date")?;
    if let Some((s, e)) = c.get("vintage_of_credits").and_then(|v| v.split_once(" / ")) {
        r.period_start = values::date(s).ok();
        r.period_end = values::date(e).ok();
    }
    Ok(r)
}

/// Origin id: `{batch}/{from}-{to}`.
fn cercarbono_retirement(c: &Cells, reg: &str, ds: &str, line: u64, raw: String) -> Result<Record, Bad> {
    let s = serial::parse_cercarbono(c.req("serial")?, c.req("from")?, c.req("to")?)
        .map_err(|e| malformed(e.to_string()))?;
    let quantity = c.req_int("quantity")?;
    if s.len() as i64 != quantity {
        return Err((Reason::QuantityMismatch, format!("quantity {quantity} but from–to holds {}", s.len())));
    }
    let text = s.to_string();
    let mut r = Record::new(reg, Kind::Retirement, text.clone(), ds, line, raw);
    r.with_serial(&text, &s);
    r.project = c.string("project_id");
    r.name = c.string("project_name");
    r.vintage = c.year("vintage")?;
    r.quantity = Some(quantity);
    r.date = c.date("date")?;
    r.beneficiary = c.string("end_user");
    Ok(r)
}

/// The value after `'key': ` in a Python-repr cell (Cercarbono nests Python dicts in CSV cells).
fn py_field<'a>(cell: &'a str, key: &str) -> Option<&'a str> {
    let at = cell.find(&format!("'{key}': "))? + key.len() + 4;
    let rest = &cell[at..];
    if let Some(q) = rest.strip_prefix('\'') {
        q.split('\'').next()
    } else {
        rest.split([',', '}']).next().map(str::trim)
    }
}

fn cercarbono_project(c: &Cells, reg: &str, ds: &str, line: u64, raw: String) -> Result<Record, Bad> {
    let id = c.req("id")?;
    let mut r = Record::new(reg, Kind::Project, id.to_string(), ds, line, raw);
    r.project = Some(id.to_string());
    r.name = c.string("name");
    r.methodology = c.string("quantification_method");
    if let Some(loc) = c.get("locations") {
        r.country = country_of(py_field(loc, "country"));
        r.latitude = py_field(loc, "latitude").and_then(|v| v.parse().ok());
        r.longitude = py_field(loc, "longitude").and_then(|v| v.parse().ok());
    }
    Ok(r)
}

/// Isometric counts in kilograms; the `.credits` columns must be exactly kg / 1000.
fn kg(c: &Cells, prefix: &str) -> Result<i64, Bad> {
    let kgs = c.req_int(&format!("{prefix}.credit_kgs"))?;
    if let Some(credits) = c.milli(&format!("{prefix}.credits"))?
        && credits != kgs
    {
        return Err((Reason::TotalMismatch, format!("{prefix}: credits ×1000 = {credits} ≠ {kgs} kg")));
    }
    Ok(kgs)
}

fn isometric_issuance(c: &Cells, reg: &str, ds: &str, line: u64, raw: String) -> Result<Record, Bad> {
    let id = c.req("id")?;
    let total = kg(c, "credit_batch_size_total")?;
    let supplier = kg(c, "supplier_credit_batch_size_total")?;
    let buffer = kg(c, "buffer_pool_credit_batch_size_total")?;
    if supplier + buffer != total {
        return Err((Reason::TotalMismatch, format!("batch {total} kg ≠ supplier {supplier} + buffer {buffer}")));
    }
    let mut r = Record::new(reg, Kind::Issuance, id.to_string(), ds, line, raw);
    r.project = c.string("project_id");
    r.quantity = Some(total);
    r.unit = Unit::Kilograms;
    r.date = c.date("issued_at")?;
    Ok(r)
}

fn isometric_retirement(c: &Cells, reg: &str, ds: &str, line: u64, raw: String) -> Result<Record, Bad> {
    let id = c.req("retirement_id")?;
    let mut r = Record::new(reg, Kind::Retirement, id.to_string(), ds, line, raw);
    r.project = c.string("project_id");
    r.quantity = Some(kg(c, "credit_batch_size_total")?);
    r.unit = Unit::Kilograms;
    r.date = c.date("retired_at")?;
    r.beneficiary = c.string("beneficiary.name");
    Ok(r)
}

fn isometric_project(c: &Cells, reg: &str, ds: &str, line: u64, raw: String) -> Result<Record, Bad> {
    let id = c.req("id")?;
    let issued = kg(c, "issued_credits_total")?;
    let retired = kg(c, "retired_credits_total")?;
    if retired > issued {
        return Err((Reason::RetiredExceedsIssued, format!("retired {retired} kg > issued {issued} kg")));
    }
    let mut r = Record::new(reg, Kind::Project, id.to_string(), ds, line, raw);
    r.project = Some(id.to_string());
    r.name = c.string("name");
    r.country = country_of(c.get("location.country_code").or(c.get("country_code")));
    r.methodology = c.string("protocol_slug");
    r.period_start = c.date("crediting_period_start")?;
    r.period_end = c.date("crediting_period_end")?;
    r.latitude = c.float("location.latitude");
    r.longitude = c.float("location.longitude");
    r.quantity = Some(issued);
    r.unit = Unit::Kilograms;
    Ok(r)
}

/// California's ARB offset credit issuances. Origin id: `CARB Issuance ID`. The offset project
/// registry's id (`OPR Project ID`, e.g. ACR1007) is the same project listed in a second registry.
fn carb_issuance(c: &Cells, reg: &str, ds: &str, line: u64, raw: String) -> Result<Record, Bad> {
    // A few rows have no issuance id yet: then project, reporting period and vintage identify them.
    let id = match c.get("CARB Issuance ID") {
        Some(id) => id.to_string(),
        None => format!(
            "{}/{}/{}",
            c.req("CARB Project ID")?,
            c.get("Reporting Period").unwrap_or("-"),
            c.get("Vintage").unwrap_or("-")
        ),
    };
    let mut r = Record::new(reg, Kind::Issuance, id, ds, line, raw);
    r.project = c.string("CARB Project ID");
    r.name = c.string("Offset Project Name");
    r.country = Some("US".to_string());
    r.methodology = c.string("Project Type");
    r.vintage = c.year("Vintage")?;
    // Reporting periods without credits (a zero-credit period, an intentional reversal) are rows too.
    r.quantity = c.int("ARB Offset Credits Issued")?;
    r.date = c.date("Issuance Date")?;
    r.period_start = c.date("Reporting Period Start Date")?;
    r.period_end = c.date("Reporting Period End Date")?;
    Ok(r)
}

fn refarm_credit(c: &Cells, reg: &str, ds: &str, line: u64, raw: String) -> Result<Record, Bad> {
    let text = c.req("serial_number")?;
    let s = serial::parse_refarm(text).map_err(|e| malformed(e.to_string()))?;
    let issued = c.date("date_issued")?;
    let retired = c.date("date_retired")?;
    if let (Some(i), Some(d)) = (&issued, &retired)
        && d < i
    {
        return Err((Reason::DatesOutOfOrder, format!("retired {d} before issued {i}")));
    }
    let mut r = Record::new(reg, Kind::Credit, text.to_string(), ds, line, raw);
    r.with_serial(text, &s);
    r.project = c.string("project_id");
    r.methodology = c.string("methodology");
    r.quantity = Some(1);
    r.date = issued;
    r.vintage = year_of(&r.date);
    Ok(r)
}

fn file_stem(name: &str) -> &str {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    base.rsplit_once('.').map(|(s, _)| s).unwrap_or(base)
}

fn parent_dir(name: &str) -> Option<&str> {
    let mut parts = name.rsplit(['/', '\\']);
    parts.next();
    parts.next().filter(|p| !p.is_empty())
}

/// A portfolio's retirement list: origin id `{list}:{serial}` (the list is the file's stem, e.g. 202309).
fn refarm_portfolio(name: &str, c: &Cells, reg: &str, ds: &str, line: u64, raw: String) -> Result<Record, Bad> {
    let text = c.req("serial_number")?;
    let s = serial::parse_refarm(text).map_err(|e| malformed(e.to_string()))?;
    let mut r = Record::new(reg, Kind::Retirement, format!("{}:{text}", file_stem(name)), ds, line, raw);
    r.with_serial(text, &s);
    r.quantity = Some(1);
    Ok(r)
}

/// A project's monitoring results: the project is the file's directory (`projects/PR00001/monitoring.csv`).
fn refarm_monitoring(name: &str, c: &Cells, reg: &str, ds: &str, line: u64, raw: String) -> Result<Record, Bad> {
    let project = parent_dir(name).ok_or_else(|| malformed("the project is the file's directory name; none given"))?;
    let period = c.req("period")?;
    let mut r = Record::new(reg, Kind::Monitoring, format!("{project}/{period}"), ds, line, raw);
    r.project = Some(project.to_string());
    r.quantity = Some(c.req_int("total_credits_issued")?);
    c.milli("total_emission_reductions_tons_co2")?
        .ok_or_else(|| malformed("`total_emission_reductions_tons_co2` is empty"))?;
    Ok(r)
}

fn refarm_summary(name: &str, bytes: &[u8]) -> ParsedFile {
    let mut out = ParsedFile {
        layout: Layout::RefarmSummary,
        rows: 1,
        records: Vec::new(),
        quarantined: Vec::new(),
        notes: Vec::new(),
    };
    let raw = String::from_utf8_lossy(bytes).into_owned();
    let v: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_default();
    let total = v.get("total_credits_issued").and_then(serde_json::Value::as_f64);
    let updated = v.get("updated_at").and_then(serde_json::Value::as_str).unwrap_or("undated");
    let compact = v.to_string();
    match total {
        Some(t) if t >= 0.0 && t.fract() == 0.0 && t < 1e15 => {
            let mut r = Record::new(
                "climate-refarm",
                Kind::Summary,
                format!("{}@{updated}", parent_dir(name).unwrap_or("portfolio")),
                Layout::RefarmSummary.dataset(),
                1,
                compact,
            );
            r.quantity = Some(t as i64);
            r.date = values::date(updated).ok();
            out.records.push(r);
        }
        _ => out.quarantined.push(Quarantined {
            line: 1,
            registry: Some("climate-refarm".into()),
            origin_id: None,
            reason: Reason::Malformed,
            detail: "`total_credits_issued` is not a whole number".into(),
            raw,
        }),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRANSACTIONS: &str = "project_id,vintage,transaction_date,transaction_type,quantity,retirement_account,retirement_beneficiary,retirement_reason,retirement_note\n\
        VCS1340,2019,2021-03-04,issuance,1000,,,,\n\
        VCS1340,2019,2021-05-06,retirement,40,Acme,Acme Ltd,scope1,\n\
        VCS1340,2019,2021-05-06,retirement,40,Acme,Acme Ltd,scope1,\n\
        VCS1340,2019,2021-07-08,transfer,5,,,,\n";

    #[test]
    fn the_harmonised_layout_is_recognised_and_rows_without_an_id_stay_distinct() {
        let parsed = crate::parse_file("credits.csv", TRANSACTIONS.as_bytes(), Some("verra")).expect("parses");
        assert_eq!(parsed.layout, Layout::OffsetsDbTransactions);
        let kinds: Vec<Kind> = parsed.records.iter().map(|r| r.kind).collect();
        assert_eq!(kinds, [Kind::Issuance, Kind::Retirement, Kind::Retirement]);
        assert_eq!(parsed.records[1].beneficiary.as_deref(), Some("Acme Ltd"));
        // Two identical rows are two transactions: the line is part of the fallback origin id.
        assert_ne!(parsed.records[1].origin_id, parsed.records[2].origin_id);
        // A transaction type outside the three is quarantined, not guessed.
        assert_eq!(parsed.quarantined.len(), 1);
    }

    #[test]
    fn a_harmonised_project_row_names_its_own_registry() {
        let csv = "project_id,name,registry,proponent,protocol,category,project_type,status,country,listed_at,is_compliance,issued,retired,first_issuance_at,first_retirement_at,project_url\n\
            ACR102,Forest,american-carbon-registry,,IFM,forest,,registered,US,2010-01-02,false,10,5,2011-01-01,,\n";
        let parsed = crate::parse_file("projects.csv", csv.as_bytes(), None).expect("parses");
        assert_eq!(parsed.layout, Layout::OffsetsDbProjects);
        assert_eq!(parsed.records[0].registry, "american-carbon-registry");
        assert_eq!(parsed.records[0].country.as_deref(), Some("US"));
    }
}
