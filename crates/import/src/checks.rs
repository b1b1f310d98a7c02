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

/// The within-file checks, decided row by row as a file streams past: a row is judged against the
/// rows before it (the earlier row wins), so nothing already decided changes and a file of any
/// length is checked in memory proportional to a few dozen bytes per row, never to the rows'
/// text.
/// A namespace and a range class (`issued`, `used`, `credit`).
type RangeClass = (String, &'static str);

#[derive(Default)]
pub(crate) struct WithinFile {
    /// Per kind, a 128-bit digest of each origin id seen, with its line: an origin id appears once.
    seen: BTreeMap<(Kind, [u8; 16]), u64>,
    /// Per (namespace, range class), the ranges of rows kept so far. They never overlap each other.
    /// start → (end, line).
    kept: BTreeMap<RangeClass, BTreeMap<u64, (u64, u64)>>,
    /// Per (namespace, range class), the union of the ranges of rows quarantined for overlapping
    /// (and of CDM ranges, which only get a note): a later row overlapping one of them is no better.
    other: BTreeMap<RangeClass, BTreeMap<u64, u64>>,
    /// Verra: per vintage key, its published total and the sum of its blocks so far.
    vintages: BTreeMap<String, i64>,
    /// The first serial of every credit of a per-credit ledger.
    credits: Vec<u64>,
}

fn origin_digest(origin_id: &str) -> [u8; 16] {
    use sha2::{Digest, Sha256};
    let mut out = [0u8; 16];
    out.copy_from_slice(&Sha256::digest(origin_id.as_bytes())[..16]);
    out
}

/// The entry of a map of disjoint ranges (start → end) that overlaps `start..=end`, if any.
fn overlapping<V: Copy>(
    ranges: &BTreeMap<u64, V>,
    start: u64,
    end: u64,
    end_of: impl Fn(V) -> u64,
) -> Option<(u64, V)> {
    // Disjoint ranges sorted by start are sorted by end too: only the last one starting at or
    // before `end` can reach `start`.
    let (&s, &v) = ranges.range(..=end).next_back()?;
    (end_of(v) >= start).then_some((s, v))
}

/// Adds `start..=end` to a union of disjoint ranges, merging what it touches.
fn merge_into(union: &mut BTreeMap<u64, u64>, mut start: u64, mut end: u64) {
    while let Some((s, e)) = overlapping(union, start, end, |e| e) {
        union.remove(&s);
        start = start.min(s);
        end = end.max(e);
    }
    union.insert(start, end);
}

impl WithinFile {
    /// Judges one parsed row against the rows before it: `Err` quarantines it. Notes about legitimate
    /// but unusual overlaps go to `notes`.
    pub(crate) fn check(
        &mut self,
        r: &Record,
        vintage_total: Option<&(String, i64)>,
        notes: &mut Vec<Note>,
    ) -> Result<(), (Reason, String)> {
        // 1. An origin id (a serial, an id) appears once per kind.
        match self.seen.entry((r.kind, origin_digest(&r.origin_id))) {
            std::collections::btree_map::Entry::Occupied(first) => {
                return Err((
                    Reason::Duplicate,
                    format!("{} {:?} already appears on line {}", r.kind, r.origin_id, first.get()),
                ));
            }
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(r.line);
            }
        }
        if r.kind == Kind::Credit
            && let Some(range) = &r.range
        {
            self.credits.push(range.start);
        }

        // 2. Ranges of one class never overlap within a namespace.
        if let (Some(range), Some(class)) = (&r.range, r.kind.range_class()) {
            let key = (range.namespace.clone(), class);
            let kept = self.kept.entry(key.clone()).or_default();
            let clash = overlapping(kept, range.start, range.end, |(e, _)| e)
                .map(|(s, (e, line))| format!("the range {s}–{e} on line {line}"))
                .or_else(|| {
                    let other = self.other.get(&key)?;
                    overlapping(other, range.start, range.end, |e| e)
                        .map(|(s, e)| format!("the quarantined or noted ranges {s}–{e}"))
                });
            match clash {
                None => {
                    kept.insert(range.start, (range.end, r.line));
                }
                Some(what) => {
                    merge_into(self.other.entry(key).or_default(), range.start, range.end);
                    let detail = format!("range {}–{} overlaps {what}", range.start, range.end);
                    if range.namespace.starts_with("CDM-") {
                        // CDM ranges are Gold Standard's transcription of another registry's
                        // serials: an overlap is noted here and flagged by the cross-file checks,
                        // not quarantined.
                        notes.push(Note { line: r.line, code: "cdm_range_overlap", detail });
                    } else {
                        return Err((Reason::OverlappingRange, detail));
                    }
                }
            }
        }

        // 3. Verra: the blocks of a vintage add up to at most the vintage's published total.
        if let Some((key, total)) = vintage_total {
            let sum = self.vintages.entry(key.clone()).or_insert(0);
            *sum += r.quantity.unwrap_or(0);
            if *sum > *total {
                return Err((
                    Reason::ExceedsVintageTotal,
                    format!("blocks of this vintage reach {sum} > total {total}"),
                ));
            }
        }
        Ok(())
    }

    /// What can only be said once the whole file has been read: a per-credit ledger numbers its
    /// credits without gaps (a note, not a violation).
    pub(crate) fn finish(&mut self) -> Option<Note> {
        let mut credits = std::mem::take(&mut self.credits);
        credits.sort_unstable();
        let w = credits.windows(2).find(|w| w[1] != w[0] + 1 && w[1] != w[0])?;
        Some(Note { line: 0, code: "serial_gap", detail: format!("no credit between {} and {}", w[0], w[1]) })
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
    for r in records {
        projects.push(r.clone(), &mut flags);
        ledgers.push(r.clone());
    }
    projects.finish(&mut flags);
    ledgers.finish(&mut flags);
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

/// One copy of each repeated name (registries, datasets, namespaces), shared by the records.
#[derive(Debug, Default)]
pub struct Strings(BTreeSet<Arc<str>>);

impl Strings {
    pub fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(found) = self.0.get(s) {
            return found.clone();
        }
        let shared: Arc<str> = Arc::from(s);
        self.0.insert(shared.clone());
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
        range: r.range.map(|x| CheckRange { namespace: strings.get(&x.namespace), start: x.start, end: x.end }),
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

/// A project listed by two registries: by an explicit cross-reference (CARB's `OPR Project ID`),
/// or by the same name (at least 12 letters and digits) in the same country; and an own project
/// that resembles an imported one. Reads project rows and CARB's rows in any order. It holds a
/// name key, country, registry and project id per project row (not per block, issuance or
/// retirement): memory grows with the number of projects in the area, not with its records.
pub struct Projects<'a> {
    own: &'a [OwnProject],
    carb_seen: BTreeSet<(Box<str>, String)>,
    by_name: BTreeMap<(String, String), BTreeSet<(String, String)>>,
}

impl<'a> Projects<'a> {
    pub fn new(own: &'a [OwnProject]) -> Self {
        Projects { own, carb_seen: BTreeSet::new(), by_name: BTreeMap::new() }
    }

    /// Reads one record; what the checks do not look at is ignored.
    pub fn push(&mut self, r: CheckRecord, flags: &mut BTreeSet<Flag>) {
        if &*r.registry == "carb"
            && let (Some(carb), Some(opr)) = (&r.project, raw_cell(&r, "OPR Project ID"))
            && self.carb_seen.insert((carb.clone(), opr.clone()))
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
            return;
        }
        own_project_resembles(&r, self.own, flags);
        let d = r.details();
        let (Some(name), Some(country), Some(project)) = (&d.name, &d.country, &r.project) else { return };
        let key = squash_name(name);
        if key.len() >= 12 {
            self.by_name
                .entry((key, country.clone()))
                .or_default()
                .insert((r.registry.to_string(), project.to_string()));
        }
    }

    /// Flags the names listed by more than one registry.
    pub fn finish(self, flags: &mut BTreeSet<Flag>) {
        for ((_, country), ids) in self.by_name {
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
        }
    }
}

/// The per-credit ledgers' checks, over the ledgers' rows (credits, monitoring, summaries,
/// portfolio retirements) held until [`Ledgers::finish`]. Only per-credit layouts (Climate
/// Refarm) have such rows: memory grows with those ledgers, not with the rest of the area.
#[derive(Default)]
pub struct Ledgers(Vec<CheckRecord>);

impl Ledgers {
    /// Reads one record, keeping it if a ledger check reads it.
    pub fn push(&mut self, r: CheckRecord) {
        let keep = matches!(r.kind, Kind::Credit | Kind::Monitoring | Kind::Summary)
            || (r.kind == Kind::Retirement && &*r.registry == "climate-refarm");
        if keep {
            self.0.push(r);
        }
    }

    pub fn finish(self, flags: &mut BTreeSet<Flag>) {
        per_credit_ledgers(&self.0, flags);
    }
}

/// Per-credit ledgers (Climate Refarm): credits per project ≤ the monitored reductions and equal to
/// the monitoring's credits issued; every portfolio retirement names a credit of the ledger; the
/// portfolio summary's total equals the ledger's count.
fn per_credit_ledgers(records: &[CheckRecord], flags: &mut BTreeSet<Flag>) {
    let mut credits: BTreeMap<(&str, &str), i64> = BTreeMap::new();
    let mut serials: BTreeSet<(&str, u64)> = BTreeSet::new();
    let mut total_by_registry: BTreeMap<&str, i64> = BTreeMap::new();
    for r in records.iter().filter(|r| r.kind == Kind::Credit) {
        if let Some(p) = &r.project {
            *credits.entry((&*r.registry, &**p)).or_default() += 1;
        }
        if let Some(range) = &r.range {
            serials.insert((&*r.registry, range.start));
        }
        *total_by_registry.entry(&*r.registry).or_default() += 1;
    }
    let mut monitored: BTreeMap<(&str, &str), (i64, i64)> = BTreeMap::new();
    for r in records.iter().filter(|r| r.kind == Kind::Monitoring) {
        let (Some(p), Some(q)) = (&r.project, r.quantity) else { continue };
        let tonnes = raw_cell(r, "total_emission_reductions_tons_co2").and_then(|t| crate::values::milli(&t).ok());
        let e = monitored.entry((&*r.registry, &**p)).or_default();
        e.0 += q;
        e.1 += tonnes.unwrap_or(0);
    }
    for ((registry, project), (issued, milli_t)) in &monitored {
        let held = credits.get(&(*registry, *project)).copied().unwrap_or(0);
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
    for r in records.iter().filter(|r| r.kind == Kind::Retirement && &*r.registry == "climate-refarm") {
        let Some(range) = &r.range else { continue };
        if total_by_registry.contains_key(&*r.registry) && !serials.contains(&(&*r.registry, range.start)) {
            flags.insert(Flag {
                code: "portfolio_serial_unknown",
                subject: format!("{}:{}", r.registry, r.origin_id),
                detail: "a portfolio retirement names a credit the ledger does not hold".into(),
            });
        }
    }
    for r in records.iter().filter(|r| r.kind == Kind::Summary) {
        let held = total_by_registry.get(&*r.registry).copied().unwrap_or(0);
        if let Some(q) = r.quantity
            && held > 0
            && q != held
        {
            flags.insert(Flag {
                code: "summary_mismatch",
                subject: format!("{}:{}", r.registry, r.origin_id),
                detail: format!("the summary reports {q} credits issued; the ledger holds {held}"),
            });
        }
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
