//! Checks that look at more than one row.
//!
//! - [`WithinFile`]: duplicates, overlapping ranges and vintage totals inside one file. Offending
//!   rows are quarantined (the earlier row wins), because the file itself contradicts them.
//! - [`across`]: checks over the whole external area (every file imported so far) and Furrow's own
//!   projects. They raise [`Flag`]s for the operator instead of quarantining, because which of two
//!   files is right is not something an importer can know, and the order of imports must not matter.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::{Kind, Note, Reason, Record};

/// A namespace and a range class (`issued`, `used`, `credit`).
pub type RangeClass = (String, &'static str);

/// Why a [`WithinIndex`] could not answer (a disk-backed index's I/O); the file cannot be checked
/// any further.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexError(pub String);

impl std::fmt::Display for IndexError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the checks' scratch index failed: {}", self.0)
    }
}

impl std::error::Error for IndexError {}

/// What the within-file checks remember of the rows before the current one. [`WithinFile`] makes
/// every decision; an index only stores and looks up, so an index in memory ([`MemoryIndex`]) and
/// one on disk (the importer's, whose memory does not grow with the file) judge a file the same.
///
/// "Ranges" here are maps of disjoint inclusive ranges, start → end, per [`RangeClass`]: `kept`
/// (the ranges of rows kept, with their lines) and `other` (the union of the ranges quarantined
/// for overlapping and of noted CDM ranges).
pub trait WithinIndex: Send {
    /// Records that an origin id of `kind` (its 128-bit digest) appears on `line`, unless it
    /// appeared before: then records nothing and returns the earlier line.
    fn first_seen(&mut self, kind: Kind, digest: [u8; 16], line: u64) -> Result<Option<u64>, IndexError>;
    /// The kept range with the greatest start ≤ `at`: (start, end, line).
    fn kept_last_from(&mut self, class: &RangeClass, at: u64) -> Result<Option<(u64, u64, u64)>, IndexError>;
    fn keep(&mut self, class: &RangeClass, start: u64, end: u64, line: u64) -> Result<(), IndexError>;
    /// The range of `other` with the greatest start ≤ `at`: (start, end).
    fn other_last_from(&mut self, class: &RangeClass, at: u64) -> Result<Option<(u64, u64)>, IndexError>;
    /// Inserts into `other`; `start` is not there yet.
    fn other_insert(&mut self, class: &RangeClass, start: u64, end: u64) -> Result<(), IndexError>;
    fn other_remove(&mut self, class: &RangeClass, start: u64) -> Result<(), IndexError>;
    /// Verra: the sum of a vintage's blocks so far (`None` before its first block).
    fn vintage_sum(&mut self, key: &str) -> Result<Option<i64>, IndexError>;
    fn set_vintage_sum(&mut self, key: &str, sum: i64) -> Result<(), IndexError>;
    /// Records the first serial of a credit of a per-credit ledger.
    fn credit(&mut self, start: u64) -> Result<(), IndexError>;
    /// The distinct first serials of the credits recorded, ascending, each passed to `visit` until
    /// it returns false.
    fn credits_in_order(&mut self, visit: &mut dyn FnMut(u64) -> bool) -> Result<(), IndexError>;
}

/// A [`WithinIndex`] in memory: a few dozen bytes per row (origin-id digests, ranges). What
/// [`crate::parse_file`] and [`crate::FileParser::open`] use.
#[derive(Default)]
pub struct MemoryIndex {
    /// Per kind, the digest of each origin id seen, with its line.
    seen: BTreeMap<(Kind, [u8; 16]), u64>,
    /// start → (end, line).
    kept: BTreeMap<RangeClass, BTreeMap<u64, (u64, u64)>>,
    /// start → end.
    other: BTreeMap<RangeClass, BTreeMap<u64, u64>>,
    vintages: BTreeMap<String, i64>,
    credits: BTreeSet<u64>,
}

impl WithinIndex for MemoryIndex {
    fn first_seen(&mut self, kind: Kind, digest: [u8; 16], line: u64) -> Result<Option<u64>, IndexError> {
        match self.seen.entry((kind, digest)) {
            std::collections::btree_map::Entry::Occupied(first) => Ok(Some(*first.get())),
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(line);
                Ok(None)
            }
        }
    }

    fn kept_last_from(&mut self, class: &RangeClass, at: u64) -> Result<Option<(u64, u64, u64)>, IndexError> {
        let Some(ranges) = self.kept.get(class) else { return Ok(None) };
        Ok(ranges.range(..=at).next_back().map(|(&s, &(e, line))| (s, e, line)))
    }

    fn keep(&mut self, class: &RangeClass, start: u64, end: u64, line: u64) -> Result<(), IndexError> {
        self.kept.entry(class.clone()).or_default().insert(start, (end, line));
        Ok(())
    }

    fn other_last_from(&mut self, class: &RangeClass, at: u64) -> Result<Option<(u64, u64)>, IndexError> {
        let Some(ranges) = self.other.get(class) else { return Ok(None) };
        Ok(ranges.range(..=at).next_back().map(|(&s, &e)| (s, e)))
    }

    fn other_insert(&mut self, class: &RangeClass, start: u64, end: u64) -> Result<(), IndexError> {
        self.other.entry(class.clone()).or_default().insert(start, end);
        Ok(())
    }

    fn other_remove(&mut self, class: &RangeClass, start: u64) -> Result<(), IndexError> {
        if let Some(ranges) = self.other.get_mut(class) {
            ranges.remove(&start);
        }
        Ok(())
    }

    fn vintage_sum(&mut self, key: &str) -> Result<Option<i64>, IndexError> {
        Ok(self.vintages.get(key).copied())
    }

    fn set_vintage_sum(&mut self, key: &str, sum: i64) -> Result<(), IndexError> {
        self.vintages.insert(key.to_string(), sum);
        Ok(())
    }

    fn credit(&mut self, start: u64) -> Result<(), IndexError> {
        self.credits.insert(start);
        Ok(())
    }

    fn credits_in_order(&mut self, visit: &mut dyn FnMut(u64) -> bool) -> Result<(), IndexError> {
        for &c in &self.credits {
            if !visit(c) {
                break;
            }
        }
        Ok(())
    }
}

/// The within-file checks, decided row by row as a file streams past: a row is judged against the
/// rows before it (the earlier row wins), so nothing already decided changes. What they remember
/// lives in a [`WithinIndex`]: in memory it is a few dozen bytes per row, never the rows' text; on
/// disk, a bounded cache.
pub struct WithinFile {
    index: Box<dyn WithinIndex>,
}

impl Default for WithinFile {
    fn default() -> Self {
        WithinFile::new(Box::new(MemoryIndex::default()))
    }
}

/// A row's verdict: `Err` quarantines it, with the reason and its detail.
pub type Verdict = Result<(), (Reason, String)>;

fn origin_digest(origin_id: &str) -> [u8; 16] {
    use sha2::{Digest, Sha256};
    let mut out = [0u8; 16];
    out.copy_from_slice(&Sha256::digest(origin_id.as_bytes())[..16]);
    out
}

impl WithinFile {
    pub fn new(index: Box<dyn WithinIndex>) -> Self {
        WithinFile { index }
    }

    /// The `other` range that overlaps `start..=end`, if any. Disjoint ranges sorted by start are
    /// sorted by end too: only the last one starting at or before `end` can reach `start`.
    fn other_overlapping(
        &mut self,
        class: &RangeClass,
        start: u64,
        end: u64,
    ) -> Result<Option<(u64, u64)>, IndexError> {
        Ok(self.index.other_last_from(class, end)?.filter(|&(_, e)| e >= start))
    }

    /// Adds `start..=end` to the `other` union, merging what it touches.
    fn merge_other(&mut self, class: &RangeClass, mut start: u64, mut end: u64) -> Result<(), IndexError> {
        while let Some((s, e)) = self.other_overlapping(class, start, end)? {
            self.index.other_remove(class, s)?;
            start = start.min(s);
            end = end.max(e);
        }
        self.index.other_insert(class, start, end)
    }

    /// Judges one parsed row against the rows before it. Notes about legitimate but unusual
    /// overlaps go to `notes`. The outer `Err` is the index failing, not the row.
    pub fn check(
        &mut self,
        r: &Record,
        vintage_total: Option<&(String, i64)>,
        notes: &mut Vec<Note>,
    ) -> Result<Verdict, IndexError> {
        // 1. An origin id (a serial, an id) appears once per kind.
        if let Some(first) = self.index.first_seen(r.kind, origin_digest(&r.origin_id), r.line)? {
            return Ok(Err((
                Reason::Duplicate,
                format!("{} {:?} already appears on line {first}", r.kind, r.origin_id),
            )));
        }
        if r.kind == Kind::Credit
            && let Some(range) = &r.range
        {
            self.index.credit(range.start)?;
        }

        // 2. Ranges of one class never overlap within a namespace.
        if let (Some(range), Some(class)) = (&r.range, r.kind.range_class()) {
            let key: RangeClass = (range.namespace.clone(), class);
            let kept = self.index.kept_last_from(&key, range.end)?.filter(|&(_, e, _)| e >= range.start);
            let clash = match kept {
                Some((s, e, line)) => Some(format!("the range {s}–{e} on line {line}")),
                None => self
                    .other_overlapping(&key, range.start, range.end)?
                    .map(|(s, e)| format!("the quarantined or noted ranges {s}–{e}")),
            };
            match clash {
                None => self.index.keep(&key, range.start, range.end, r.line)?,
                Some(what) => {
                    self.merge_other(&key, range.start, range.end)?;
                    let detail = format!("range {}–{} overlaps {what}", range.start, range.end);
                    if range.namespace.starts_with("CDM-") {
                        // CDM ranges are Gold Standard's transcription of another registry's
                        // serials: an overlap is noted here and flagged by the cross-file checks,
                        // not quarantined.
                        notes.push(Note { line: r.line, code: "cdm_range_overlap", detail });
                    } else {
                        return Ok(Err((Reason::OverlappingRange, detail)));
                    }
                }
            }
        }

        // 3. Verra: the blocks of a vintage add up to at most the vintage's published total.
        if let Some((key, total)) = vintage_total {
            let sum = self.index.vintage_sum(key)?.unwrap_or(0).saturating_add(r.quantity.unwrap_or(0));
            self.index.set_vintage_sum(key, sum)?;
            if sum > *total {
                return Ok(Err((
                    Reason::ExceedsVintageTotal,
                    format!("blocks of this vintage reach {sum} > total {total}"),
                )));
            }
        }
        Ok(Ok(()))
    }

    /// What can only be said once the whole file has been read: a per-credit ledger numbers its
    /// credits without gaps (a note, not a violation).
    pub fn finish(&mut self) -> Result<Option<Note>, IndexError> {
        let mut previous: Option<u64> = None;
        let mut gap = None;
        self.index.credits_in_order(&mut |c| {
            // The serials come distinct and ascending: a gap is a step of more than one.
            if let Some(p) = previous
                && p.checked_add(1) != Some(c)
            {
                gap = Some((p, c));
                return false;
            }
            previous = Some(c);
            true
        })?;
        Ok(gap.map(|(a, b)| Note { line: 0, code: "serial_gap", detail: format!("no credit between {a} and {b}") }))
    }
}

/// Something the operator should look at.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Flag {
    /// `range_overlap`, `serial_in_two_registries`, `project_in_two_registries`,
    /// `retired_exceeds_issued`, `credits_exceed_monitoring`, `portfolio_serial_unknown`,
    /// `summary_mismatch`, `own_project_resembles_external`.
    pub code: &'static str,
    /// What the flag is about; (code, subject) is unique.
    pub subject: String,
    pub detail: String,
}

/// One of Furrow's own projects, as much as is known of it today. Batches carry a project code,
/// a country and a vintage; methodology, crediting period and location come with issue #5's
/// projects and parcels and make the comparison sharper without changing it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OwnProject {
    pub code: String,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    pub methodology: Option<String>,
    /// The years the project's credits cover (vintages, or the crediting period).
    pub first_year: Option<i32>,
    pub last_year: Option<i32>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

/// How close two places must be to count as "nearby".
pub const NEARBY_KM: f64 = 25.0;

/// All checks across files, registries and Furrow's own projects, over records held in memory
/// (tests, small areas). Deterministic: flags come out sorted, and the result depends only on the
/// set of records, not the order they were imported in. It feeds the same streaming checks the
/// importer feeds from the store's sorted scans ([`RangeSweep`], [`Sums`], [`Projects`],
/// [`Ledgers`]), sorting the records as the store does; `records` are in import order.
pub fn across(records: &[CheckRecord], own: &[OwnProject]) -> Vec<Flag> {
    let mut flags = BTreeSet::new();
    let mut sorted: Vec<&CheckRecord> = records.iter().collect();
    // Stable sorts: ties stay in import order, as the store's scans break them by id.
    sorted.sort_by(|a, b| range_order(a, b));
    let mut sweep = RangeSweep::default();
    for r in &sorted {
        sweep.push((*r).clone(), &mut flags);
    }
    sorted.sort_by(|a, b| (&a.registry, &a.project).cmp(&(&b.registry, &b.project)));
    let mut sums = Sums::default();
    for r in &sorted {
        sums.push((*r).clone(), &mut flags);
    }
    sums.finish(&mut flags);
    let mut projects = Projects::new(own);
    let mut ledgers = Ledgers::default();
    // The in-memory indexes cannot fail (their errors are `Infallible`).
    for r in records {
        let Ok(()) = projects.push(r.clone(), &mut flags);
        let Ok(()) = ledgers.push(r.clone());
    }
    let Ok(()) = projects.finish(&mut flags);
    let Ok(()) = ledgers.finish(&mut flags);
    flags.into_iter().collect()
}

/// The order [`RangeSweep`] reads records in: (namespace, start, end, registry, origin id),
/// names compared byte by byte; records without a range last.
pub fn range_order(a: &CheckRecord, b: &CheckRecord) -> std::cmp::Ordering {
    let key = |r: &CheckRecord| r.range.as_ref().map(|x| (x.namespace.clone(), x.start, x.end));
    (key(a).is_none(), key(a), &a.registry, &a.origin_id).cmp(&(key(b).is_none(), key(b), &b.registry, &b.origin_id))
}

/// Serial ranges that overlap another of their class in one namespace (`range_overlap`, or
/// `serial_in_two_registries` across registries), found by a sweep over records in
/// [`range_order`]: per range class it holds only the record whose range reaches furthest so far
/// in the current namespace, so memory does not grow with the area.
#[derive(Default)]
pub struct RangeSweep {
    namespace: Option<Arc<str>>,
    /// Per range class, the record reaching furthest in `namespace`, and the last start read (the
    /// input must be sorted; a start going back is a caller's bug).
    reach: BTreeMap<&'static str, CheckRecord>,
    last_start: u64,
}

impl RangeSweep {
    /// Reads the next record in [`range_order`]; records without a range class are ignored.
    pub fn push(&mut self, r: CheckRecord, flags: &mut BTreeSet<Flag>) {
        let (Some(range), Some(class)) = (&r.range, r.kind.range_class()) else { return };
        if self.namespace.as_deref() != Some(&*range.namespace) {
            self.namespace = Some(range.namespace.clone());
            self.reach.clear();
            self.last_start = 0;
        }
        debug_assert!(range.start >= self.last_start, "RangeSweep reads records in range_order");
        self.last_start = range.start;
        if let Some(prev) = self.reach.get(class) {
            let prev_range = prev.range.as_ref().map(|p| (p.start, p.end)).unwrap_or_default();
            if range.start <= prev_range.1 {
                let code = if prev.registry == r.registry { "range_overlap" } else { "serial_in_two_registries" };
                flags.insert(Flag {
                    code,
                    subject: format!(
                        "{} {}–{}",
                        range.namespace,
                        range.start.max(prev_range.0),
                        range.end.min(prev_range.1)
                    ),
                    detail: format!(
                        "{class} range {}:{} {:?} overlaps {}:{} {:?} ({} and {})",
                        r.registry,
                        r.kind,
                        r.origin_id,
                        prev.registry,
                        prev.kind,
                        prev.origin_id,
                        r.dataset,
                        prev.dataset
                    ),
                });
                if range.end <= prev_range.1 {
                    return;
                }
            }
        }
        self.reach.insert(class, r);
    }
}

/// Per publication, per (registry, project, vintage): retired and cancelled ≤ issued. Only for
/// publications that hold both complete issuances and retirements (not the 100-row samples).
///
/// Reads records grouped by (registry, project) (any order within a group, groups contiguous) and
/// holds one group's sums per (publication, vintage) at a time. A retirement with no issuance of
/// its vintage is flagged when its publication issued anything in this registry; until an issuance
/// of that publication is read, such flags wait in `pending` (dropped at the registry's end if none
/// comes).
#[derive(Default)]
pub struct Sums {
    group: Option<(Arc<str>, Box<str>)>,
    /// (publication, vintage) → what the current group issued and used.
    sums: BTreeMap<(Arc<str>, i32), Totals>,
    /// Publications of the current registry with an issuance.
    issuing: BTreeSet<Arc<str>>,
    pending: BTreeMap<Arc<str>, Vec<Flag>>,
}

/// Credits issued, and retired or cancelled; `None` when no record of the kind was read.
#[derive(Default)]
struct Totals {
    issued: Option<i64>,
    used: Option<i64>,
}

impl Sums {
    /// Reads the next record; records the check does not count are ignored.
    pub fn push(&mut self, r: CheckRecord, flags: &mut BTreeSet<Flag>) {
        if &*r.dataset == "registry-export" || r.unit != crate::Unit::Credits {
            return;
        }
        let (Some(project), Some(vintage), Some(q)) = (r.project, r.vintage, r.quantity) else { return };
        if !matches!(r.kind, Kind::Issuance | Kind::Retirement | Kind::Cancellation) {
            return;
        }
        if self.group.as_ref().is_none_or(|(g, p)| *g != r.registry || *p != project) {
            let registry_changes = self.group.as_ref().is_none_or(|(g, _)| *g != r.registry);
            self.close(flags);
            if registry_changes {
                self.issuing.clear();
                self.pending.clear();
            }
            self.group = Some((r.registry.clone(), project));
        }
        let sums = self.sums.entry((r.dataset.clone(), vintage)).or_default();
        if r.kind == Kind::Issuance {
            *sums.issued.get_or_insert(0) += q;
            if self.issuing.insert(r.dataset.clone()) {
                flags.extend(self.pending.remove(&r.dataset).unwrap_or_default());
            }
        } else {
            *sums.used.get_or_insert(0) += q;
        }
    }

    /// Flags what the last group shows.
    pub fn finish(mut self, flags: &mut BTreeSet<Flag>) {
        self.close(flags);
    }

    fn close(&mut self, flags: &mut BTreeSet<Flag>) {
        let Some((registry, project)) = self.group.take() else { return };
        for ((dataset, vintage), Totals { issued, used }) in std::mem::take(&mut self.sums) {
            let Some(u) = used else { continue };
            let subject = format!("{registry}:{project}/{vintage}");
            match issued {
                Some(i) if u > i => {
                    flags.insert(Flag {
                        code: "retired_exceeds_issued",
                        subject,
                        detail: format!("{dataset}: {u} retired or cancelled > {i} issued for vintage {vintage}"),
                    });
                }
                Some(_) => {}
                None => {
                    let flag = Flag {
                        code: "retired_exceeds_issued",
                        subject,
                        detail: format!("{dataset}: {u} retired or cancelled, and no issuance of vintage {vintage}"),
                    };
                    if self.issuing.contains(&dataset) {
                        flags.insert(flag);
                    } else {
                        self.pending.entry(dataset).or_default().push(flag);
                    }
                }
            }
        }
    }
}

fn squash_name(name: &str) -> String {
    name.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect()
}

/// A record with only what [`across`] reads, compactly: the importer holds the whole external
/// area this way while it checks it (a million records), so each costs about 150 bytes instead
/// of a `Record`'s 424 plus its strings. Registry, dataset and namespace names are shared
/// ([`Strings`]); what only project rows need (name, place, methodology, period) and the raw row
/// (kept only for the layouts whose checks read a cell of it: CARB's OPR cross-reference, Climate
/// Refarm's monitoring tonnes) sit behind one pointer that most records leave empty. The serial's
/// text, the beneficiary, the event date and the line are dropped.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckRecord {
    pub registry: Arc<str>,
    pub kind: Kind,
    pub origin_id: Box<str>,
    pub dataset: Arc<str>,
    pub project: Option<Box<str>>,
    pub vintage: Option<i32>,
    pub quantity: Option<i64>,
    pub unit: crate::Unit,
    pub range: Option<CheckRange>,
    pub details: Option<Box<Details>>,
}

/// A record's serial range, its namespace shared.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckRange {
    pub namespace: Arc<str>,
    pub start: u64,
    pub end: u64,
}

/// What only some records carry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Details {
    pub name: Option<String>,
    pub country: Option<String>,
    pub methodology: Option<String>,
    pub period_start: Option<String>,
    pub period_end: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// The row as published, for the layouts whose checks read a cell of it; otherwise empty.
    pub raw: String,
}

/// One copy of each repeated name, shared by the records: registries and datasets (a few dozen),
/// and the namespace of the record before. Namespaces are not all kept, because some registries
/// number each batch in a namespace of its own, so they grow with the area; the range scan reads
/// them in order, and then consecutive records share one copy.
#[derive(Debug, Default)]
pub struct Strings {
    names: BTreeSet<Arc<str>>,
    namespace: Option<Arc<str>>,
}

impl Strings {
    pub fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(found) = self.names.get(s) {
            return found.clone();
        }
        let shared: Arc<str> = Arc::from(s);
        self.names.insert(shared.clone());
        shared
    }

    fn namespace(&mut self, s: &str) -> Arc<str> {
        if let Some(last) = &self.namespace
            && **last == *s
        {
            return last.clone();
        }
        let shared: Arc<str> = Arc::from(s);
        self.namespace = Some(shared.clone());
        shared
    }
}

/// The compact form of a record, for [`across`].
pub fn for_checks(r: Record, strings: &mut Strings) -> CheckRecord {
    let keeps_raw = matches!(r.registry.as_str(), "carb" | "climate-refarm");
    let project_row = matches!(r.kind, Kind::Project | Kind::ProjectRollup);
    let details = (project_row || keeps_raw).then(|| {
        let place = |v: Option<String>| if project_row { v } else { None };
        Box::new(Details {
            name: place(r.name),
            country: place(r.country),
            methodology: place(r.methodology),
            period_start: place(r.period_start),
            period_end: place(r.period_end),
            latitude: r.latitude.filter(|_| project_row),
            longitude: r.longitude.filter(|_| project_row),
            raw: if keeps_raw { r.raw } else { String::new() },
        })
    });
    CheckRecord {
        registry: strings.get(&r.registry),
        kind: r.kind,
        origin_id: r.origin_id.into_boxed_str(),
        dataset: strings.get(&r.dataset),
        project: r.project.map(String::into_boxed_str),
        vintage: r.vintage,
        quantity: r.quantity,
        unit: r.unit,
        range: r.range.map(|x| CheckRange { namespace: strings.namespace(&x.namespace), start: x.start, end: x.end }),
        details,
    }
}

/// Every record in compact form.
pub fn compact(records: impl IntoIterator<Item = Record>) -> Vec<CheckRecord> {
    let mut strings = Strings::default();
    records.into_iter().map(|r| for_checks(r, &mut strings)).collect()
}

impl CheckRecord {
    fn details(&self) -> &Details {
        static NONE: Details = Details {
            name: None,
            country: None,
            methodology: None,
            period_start: None,
            period_end: None,
            latitude: None,
            longitude: None,
            raw: String::new(),
        };
        self.details.as_deref().unwrap_or(&NONE)
    }
}

/// Reads a cell of a record's raw row.
fn raw_cell(r: &CheckRecord, col: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(&r.details().raw).ok()?;
    v.get(col)?.as_str().map(str::trim).filter(|s| !s.is_empty() && *s != "–" && *s != "-").map(str::to_string)
}

/// The (registry, project) pairs listed under one name in one country.
pub type ProjectIds = [(String, String)];

/// Where [`Projects`] keeps its name keys until [`Projects::finish`] groups them: in memory
/// ([`MemoryNames`]), or in the importer's scratch database, whose memory does not grow with the
/// number of project rows.
pub trait NameIndex {
    type Error;
    /// Records that `registry` lists `project` under the name key `key` in `country`.
    fn add(&mut self, key: &str, country: &str, registry: &str, project: &str) -> Result<(), Self::Error>;
    /// Each (key, country) recorded, with its distinct (registry, project) pairs in ascending
    /// order (strings compared byte by byte), passed to `visit` as (country, pairs).
    fn groups(&mut self, visit: &mut dyn FnMut(&str, &ProjectIds)) -> Result<(), Self::Error>;
}

/// A [`NameIndex`] in memory.
#[derive(Default)]
pub struct MemoryNames(BTreeMap<(String, String), BTreeSet<(String, String)>>);

impl NameIndex for MemoryNames {
    type Error = std::convert::Infallible;

    fn add(&mut self, key: &str, country: &str, registry: &str, project: &str) -> Result<(), Self::Error> {
        self.0
            .entry((key.to_string(), country.to_string()))
            .or_default()
            .insert((registry.to_string(), project.to_string()));
        Ok(())
    }

    fn groups(&mut self, visit: &mut dyn FnMut(&str, &ProjectIds)) -> Result<(), Self::Error> {
        for ((_, country), ids) in &self.0 {
            visit(country, &ids.iter().cloned().collect::<Vec<_>>());
        }
        Ok(())
    }
}

/// A project listed by two registries: by an explicit cross-reference (CARB's `OPR Project ID`),
/// or by the same name (at least 12 letters and digits) in the same country; and an own project
/// that resembles an imported one. Reads project rows and CARB's rows in any order. The name keys
/// go to a [`NameIndex`]; a CARB cross-reference is flagged as it is read (the flag set keeps one
/// of each).
pub struct Projects<'a, N: NameIndex = MemoryNames> {
    own: &'a [OwnProject],
    names: N,
}

impl<'a> Projects<'a> {
    pub fn new(own: &'a [OwnProject]) -> Self {
        Projects::with_index(own, MemoryNames::default())
    }
}

impl<'a, N: NameIndex> Projects<'a, N> {
    pub fn with_index(own: &'a [OwnProject], names: N) -> Self {
        Projects { own, names }
    }

    /// Reads one record; what the checks do not look at is ignored.
    pub fn push(&mut self, r: CheckRecord, flags: &mut BTreeSet<Flag>) -> Result<(), N::Error> {
        if &*r.registry == "carb"
            && let (Some(carb), Some(opr)) = (&r.project, raw_cell(&r, "OPR Project ID"))
        {
            let other = if opr.starts_with("ACR") {
                "acr"
            } else if opr.starts_with("CAR") {
                "car"
            } else {
                "other"
            };
            flags.insert(Flag {
                code: "project_in_two_registries",
                subject: format!("carb:{carb} = {other}:{opr}"),
                detail: format!("CARB lists compliance project {carb} as offset project registry project {opr}"),
            });
        }
        if !matches!(r.kind, Kind::Project | Kind::ProjectRollup) {
            return Ok(());
        }
        own_project_resembles(&r, self.own, flags);
        let d = r.details();
        let (Some(name), Some(country), Some(project)) = (&d.name, &d.country, &r.project) else { return Ok(()) };
        let key = squash_name(name);
        if key.len() >= 12 {
            self.names.add(&key, country, &r.registry, project)?;
        }
        Ok(())
    }

    /// Flags the names listed by more than one registry.
    pub fn finish(mut self, flags: &mut BTreeSet<Flag>) -> Result<(), N::Error> {
        self.names.groups(&mut |country, ids| {
            let registries: BTreeSet<&str> = ids.iter().map(|(r, _)| r.as_str()).collect();
            if registries.len() > 1 {
                let list: Vec<String> = ids.iter().map(|(r, p)| format!("{r}:{p}")).collect();
                flags.insert(Flag {
                    code: "project_in_two_registries",
                    subject: list.join(" = "),
                    detail: format!(
                        "the same project name in {country} is listed by {}",
                        registries.into_iter().collect::<Vec<_>>().join(" and ")
                    ),
                });
            }
        })
    }
}

/// Where [`Ledgers`] keeps what grows with a per-credit ledger's length: the first serial of each
/// credit, and Climate Refarm's portfolio retirements until every credit has been read.
pub trait LedgerIndex {
    type Error;
    /// Records that `registry`'s ledger holds a credit whose serial range starts at `start`.
    fn serial(&mut self, registry: &str, start: u64) -> Result<(), Self::Error>;
    /// Records a portfolio retirement of the credit starting at `start`.
    fn retirement(&mut self, registry: &str, origin_id: &str, start: u64) -> Result<(), Self::Error>;
    /// Each retirement recorded whose serial no credit of its registry starts at, passed to
    /// `visit` as (registry, origin id).
    fn unknown_retirements(&mut self, visit: &mut dyn FnMut(&str, &str)) -> Result<(), Self::Error>;
}

/// A [`LedgerIndex`] in memory.
#[derive(Default)]
pub struct MemoryLedger {
    serials: BTreeSet<(String, u64)>,
    retirements: Vec<(String, String, u64)>,
}

impl LedgerIndex for MemoryLedger {
    type Error = std::convert::Infallible;

    fn serial(&mut self, registry: &str, start: u64) -> Result<(), Self::Error> {
        self.serials.insert((registry.to_string(), start));
        Ok(())
    }

    fn retirement(&mut self, registry: &str, origin_id: &str, start: u64) -> Result<(), Self::Error> {
        self.retirements.push((registry.to_string(), origin_id.to_string(), start));
        Ok(())
    }

    fn unknown_retirements(&mut self, visit: &mut dyn FnMut(&str, &str)) -> Result<(), Self::Error> {
        for (registry, origin_id, start) in &self.retirements {
            if !self.serials.contains(&(registry.clone(), *start)) {
                visit(registry, origin_id);
            }
        }
        Ok(())
    }
}

/// The per-credit ledgers' checks (Climate Refarm): credits per project ≤ the monitored reductions
/// and equal to the monitoring's credits issued; every portfolio retirement names a credit of the
/// ledger; the portfolio summary's total equals the ledger's count. Reads the ledgers' rows
/// (credits, monitoring, summaries, portfolio retirements) in any order. It sums per project and
/// per registry as it reads; the credits' serials and the retirements go to a [`LedgerIndex`].
pub struct Ledgers<L: LedgerIndex = MemoryLedger> {
    index: L,
    /// Per (registry, project): credits held.
    credits: BTreeMap<(Arc<str>, Box<str>), i64>,
    /// Per registry: credits held.
    total_by_registry: BTreeMap<Arc<str>, i64>,
    /// Per (registry, project): credits issued and milli-tonnes reduced, by the monitoring.
    monitored: BTreeMap<(Arc<str>, Box<str>), (i64, i64)>,
    /// (registry, origin id, credits issued) of each summary.
    summaries: Vec<(Arc<str>, Box<str>, i64)>,
}

impl Default for Ledgers {
    fn default() -> Self {
        Ledgers::with_index(MemoryLedger::default())
    }
}

impl<L: LedgerIndex> Ledgers<L> {
    pub fn with_index(index: L) -> Self {
        Ledgers {
            index,
            credits: BTreeMap::new(),
            total_by_registry: BTreeMap::new(),
            monitored: BTreeMap::new(),
            summaries: Vec::new(),
        }
    }

    /// Reads one record; what the checks do not look at is ignored.
    pub fn push(&mut self, r: CheckRecord) -> Result<(), L::Error> {
        match r.kind {
            Kind::Credit => {
                if let Some(p) = &r.project {
                    *self.credits.entry((r.registry.clone(), p.clone())).or_default() += 1;
                }
                if let Some(range) = &r.range {
                    self.index.serial(&r.registry, range.start)?;
                }
                *self.total_by_registry.entry(r.registry.clone()).or_default() += 1;
            }
            Kind::Monitoring => {
                let (Some(p), Some(q)) = (&r.project, r.quantity) else { return Ok(()) };
                let tonnes =
                    raw_cell(&r, "total_emission_reductions_tons_co2").and_then(|t| crate::values::milli(&t).ok());
                let e = self.monitored.entry((r.registry.clone(), p.clone())).or_default();
                e.0 += q;
                e.1 += tonnes.unwrap_or(0);
            }
            Kind::Retirement if &*r.registry == "climate-refarm" => {
                if let Some(range) = &r.range {
                    self.index.retirement(&r.registry, &r.origin_id, range.start)?;
                }
            }
            Kind::Summary => {
                if let Some(q) = r.quantity {
                    self.summaries.push((r.registry.clone(), r.origin_id.clone(), q));
                }
            }
            _ => {}
        }
        Ok(())
    }

    pub fn finish(mut self, flags: &mut BTreeSet<Flag>) -> Result<(), L::Error> {
        for ((registry, project), (issued, milli_t)) in &self.monitored {
            let held = self.credits.get(&(registry.clone(), project.clone())).copied().unwrap_or(0);
            if held > milli_t / 1000 || held != *issued {
                flags.insert(Flag {
                    code: "credits_exceed_monitoring",
                    subject: format!("{registry}:{project}"),
                    detail: format!(
                        "the ledger holds {held} credits; monitoring reports {issued} credits issued and {}.{:03} t CO2e reduced",
                        milli_t / 1000,
                        milli_t % 1000
                    ),
                });
            }
        }
        let total_by_registry = &self.total_by_registry;
        self.index.unknown_retirements(&mut |registry, origin_id| {
            if total_by_registry.contains_key(registry) {
                flags.insert(Flag {
                    code: "portfolio_serial_unknown",
                    subject: format!("{registry}:{origin_id}"),
                    detail: "a portfolio retirement names a credit the ledger does not hold".into(),
                });
            }
        })?;
        for (registry, origin_id, q) in &self.summaries {
            let held = total_by_registry.get(registry).copied().unwrap_or(0);
            if held > 0 && *q != held {
                flags.insert(Flag {
                    code: "summary_mismatch",
                    subject: format!("{registry}:{origin_id}"),
                    detail: format!("the summary reports {q} credits issued; the ledger holds {held}"),
                });
            }
        }
        Ok(())
    }
}

fn year(d: &Option<String>) -> Option<i32> {
    d.as_ref()?.get(0..4)?.parse().ok()
}

/// Great-circle distance in km (reference data only; nothing here becomes a credit).
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, lo1, la2, lo2) = (a.0.to_radians(), a.1.to_radians(), b.0.to_radians(), b.1.to_radians());
    let h = ((la2 - la1) / 2.0).sin().powi(2) + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().asin()
}

fn similar_methodology(a: &str, b: &str) -> bool {
    let (a, b) = (squash_name(a), squash_name(b));
    !a.is_empty() && !b.is_empty() && (a.contains(&b) || b.contains(&a))
}

/// What matched between an own project and an external one; `None` if something known differs,
/// or nothing beyond the country could be compared.
pub fn resemblance(own: &OwnProject, ext: &CheckRecord) -> Option<Vec<String>> {
    let d = ext.details();
    let (Some(oc), Some(ec)) = (&own.country, &d.country) else { return None };
    if oc != ec {
        return None;
    }
    let mut why = vec![format!("same country {oc}")];
    if let (Some(m), Some(e)) = (&own.methodology, &d.methodology) {
        if !similar_methodology(m, e) {
            return None;
        }
        why.push(format!("methodology {m} ~ {e}"));
    }
    let ext_first = year(&d.period_start).or(ext.vintage);
    let ext_last = year(&d.period_end).or(ext_first.map(|_| i32::MAX));
    if let (Some(of), Some(ef)) = (own.first_year, ext_first) {
        let ol = own.last_year.unwrap_or(of);
        let el = ext_last.unwrap_or(ef);
        if of > el || ef > ol {
            return None;
        }
        why.push(format!(
            "years {of}–{ol} overlap {ef}–{}",
            if el == i32::MAX { "open".to_string() } else { el.to_string() }
        ));
    }
    if let (Some(la), Some(lo), Some(ela), Some(elo)) = (own.latitude, own.longitude, d.latitude, d.longitude) {
        let d = distance_km((la, lo), (ela, elo));
        if d > NEARBY_KM {
            return None;
        }
        why.push(format!("{d:.1} km apart"));
    }
    (why.len() > 1).then_some(why)
}

fn own_project_resembles(r: &CheckRecord, own: &[OwnProject], flags: &mut BTreeSet<Flag>) {
    for o in own {
        if let Some(why) = resemblance(o, r) {
            flags.insert(Flag {
                code: "own_project_resembles_external",
                subject: format!("own:{} ~ {}:{}", o.code, r.registry, r.project.as_deref().unwrap_or(&r.origin_id)),
                detail: format!("{} ({})", why.join("; "), r.details().name.as_deref().unwrap_or("unnamed")),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Range, Unit};

    fn record(kind: Kind, project: &str, dataset: &str, quantity: i64, range: (u64, u64)) -> Record {
        Record {
            registry: "verra".into(),
            kind,
            origin_id: format!("{kind}-{project}-{}", range.0),
            dataset: dataset.into(),
            project: Some(project.into()),
            name: None,
            country: None,
            methodology: None,
            vintage: Some(2020),
            quantity: Some(quantity),
            unit: Unit::Credits,
            serial: None,
            range: Some(Range { namespace: "VCU-VER".into(), start: range.0, end: range.1 }),
            date: None,
            period_start: None,
            period_end: None,
            beneficiary: None,
            latitude: None,
            longitude: None,
            line: range.0,
            raw: String::new(),
        }
    }

    /// The streaming sums flag a retirement with no issuance of its vintage when its publication
    /// issued anything in the registry, wherever that issuance sorts (here in a later project),
    /// and not when the publication issued nothing; and the flags do not depend on the records'
    /// order, overlaps included.
    #[test]
    fn the_streaming_checks_flag_the_same_whatever_the_order() {
        let records = vec![
            record(Kind::Retirement, "VCS1", "pub-a", 5, (1, 5)),
            record(Kind::Issuance, "VCS2", "pub-a", 10, (100, 109)),
            record(Kind::Retirement, "VCS2", "pub-a", 12, (100, 111)),
            record(Kind::Retirement, "VCS3", "pub-b", 5, (200, 204)),
            record(Kind::Issuance, "VCS4", "pub-a", 10, (105, 114)),
        ];
        let flags = across(&compact(records.clone()), &[]);
        let subjects: Vec<(&str, &str)> = flags.iter().map(|f| (f.code, f.subject.as_str())).collect();
        assert_eq!(
            subjects,
            [
                ("range_overlap", "VCU-VER 105–109"),
                ("retired_exceeds_issued", "verra:VCS1/2020"),
                ("retired_exceeds_issued", "verra:VCS2/2020"),
            ]
        );
        for rotation in 1..records.len() {
            let mut turned = records.clone();
            turned.rotate_left(rotation);
            turned.reverse();
            assert_eq!(across(&compact(turned), &[]), flags, "rotation {rotation}");
        }
    }
}
