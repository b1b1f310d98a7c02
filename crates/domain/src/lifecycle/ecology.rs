//! Ecological impact (SPEC §4): the indicator catalogue, scores per report (a project's
//! monitoring period), project and batch, and trade-off flags.
//!
//! The catalogue is data (`indicators.psv`): each indicator's category, unit, method, expected
//! range and scoring direction. A monitoring report carries indicator values, each for one
//! parcel or for the whole project, with the SHA-256 of its evidence. Scoring (documented in
//! ARCHITECTURE.md, "Ecological impact"):
//!
//! - a value scores 0–100 on its indicator's expected range: `higher` rises linearly from `min`
//!   to `max`, `lower` falls, `band` is 100 between `good_low` and `good_high` and falls linearly
//!   to 0 at `min` and `max`; values outside the range are clamped and flagged;
//! - an indicator's score in a report is the mean of its values' scores (every parcel counts
//!   once, whatever its area: the indicators describe habitats, not tonnes);
//! - a category's score is the mean of its indicators' scores; the report's score is the mean of
//!   the categories measured, so a category with many indicators does not outweigh the others;
//! - a project's score is the mean of its verified reports' scores, a batch's the score of the
//!   report it was issued from (the monitoring period's).
//!
//! Everything is decimal and ordered, so a score is the same on every machine and on replay.

use std::sync::OnceLock;

use rust_decimal::{Decimal, RoundingStrategy};

use super::engine::Status;
use super::model::{FieldValue, Period, Report, ReportStatus};
use super::state::Lifecycle;
use crate::ids::{BatchId, ParcelId, ProjectCode, ReportId};

const CATALOGUE: &str = include_str!("indicators.psv");

/// The four groups of SPEC §4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Category {
    Soil,
    Biodiversity,
    Water,
    Practice,
}

impl Category {
    pub const ALL: [Category; 4] = [Category::Soil, Category::Biodiversity, Category::Water, Category::Practice];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Soil => "soil",
            Category::Biodiversity => "biodiversity",
            Category::Water => "water",
            Category::Practice => "practice",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// How a value turns into a score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Higher,
    Lower,
    /// Best between the two bounds.
    Band {
        low: Decimal,
        high: Decimal,
    },
}

/// One catalogue entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indicator {
    pub key: String,
    pub category: Category,
    pub unit: String,
    pub method: String,
    /// The expected range; `min < max`.
    pub min: Decimal,
    pub max: Decimal,
    pub direction: Direction,
    /// How far the range and method were checked against a source (see `indicators.psv`).
    pub status: Status,
    /// The source, and which numbers of the line it does not cover.
    pub source: String,
}

impl Indicator {
    /// Whether the range may be shown without an "unverified" marker.
    pub fn verified(&self) -> bool {
        self.status == Status::Verified
    }
}

/// The catalogue and its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalogue {
    pub version: String,
    pub indicators: Vec<Indicator>,
}

impl Catalogue {
    pub fn get(&self, key: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.key == key)
    }
}

/// Parses the catalogue format; an error names the line.
pub fn parse_catalogue(text: &str) -> Result<Catalogue, String> {
    let mut version = None;
    let mut indicators: Vec<Indicator> = Vec::new();
    for (n, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(v) = line.strip_prefix("@version ") {
            version = Some(v.trim().to_string());
            continue;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let [key, category, unit, direction, min, max, low, high, method, status, source] = cells[..] else {
            return Err(format!("line {n}: expected 11 cells, found {}", cells.len()));
        };
        let status = match status {
            "verified" => Status::Verified,
            "secondary" => Status::Secondary,
            "unverified" => Status::Unverified,
            other => return Err(format!("line {n}: unknown status {other:?}")),
        };
        if source.is_empty() {
            return Err(format!("line {n}: every range names its source (or says it has none)"));
        }
        let number = |what: &str, s: &str| s.parse::<Decimal>().map_err(|_| format!("line {n}: {what}: {s:?}"));
        let (min, max) = (number("min", min)?, number("max", max)?);
        if min >= max {
            return Err(format!("line {n}: min must be below max"));
        }
        let direction = match direction {
            "higher" => Direction::Higher,
            "lower" => Direction::Lower,
            "band" => {
                let (low, high) = (number("good_low", low)?, number("good_high", high)?);
                if !(min <= low && low <= high && high <= max) || (low == min && high == max) {
                    return Err(format!("line {n}: the band must lie within the range"));
                }
                Direction::Band { low, high }
            }
            other => return Err(format!("line {n}: unknown direction {other:?}")),
        };
        let category = Category::parse(category).ok_or_else(|| format!("line {n}: unknown category {category:?}"))?;
        if indicators.iter().any(|i| i.key == key) {
            return Err(format!("line {n}: {key} appears twice"));
        }
        indicators.push(Indicator {
            key: key.into(),
            category,
            unit: unit.into(),
            method: method.into(),
            min,
            max,
            direction,
            status,
            source: source.into(),
        });
    }
    Ok(Catalogue { version: version.ok_or("no @version line")?, indicators })
}

/// The embedded catalogue. A malformed file is a build defect that the tests catch.
pub fn catalogue() -> &'static Catalogue {
    static PARSED: OnceLock<Catalogue> = OnceLock::new();
    PARSED.get_or_init(|| parse_catalogue(CATALOGUE).expect("indicators.psv is checked by the tests"))
}

fn clamp_ratio(num: Decimal, den: Decimal) -> Decimal {
    (num / den).clamp(Decimal::ZERO, Decimal::ONE)
}

/// A value's score, 0–100 (see the module documentation).
pub fn score_value(indicator: &Indicator, value: Decimal) -> Decimal {
    let (min, max) = (indicator.min, indicator.max);
    let ratio = match indicator.direction {
        Direction::Higher => clamp_ratio(value - min, max - min),
        Direction::Lower => Decimal::ONE - clamp_ratio(value - min, max - min),
        Direction::Band { low, high } => {
            if value < low {
                clamp_ratio(value - min, low - min)
            } else if value > high {
                clamp_ratio(max - value, max - high)
            } else {
                Decimal::ONE
            }
        }
    };
    ratio * Decimal::ONE_HUNDRED
}

fn mean(values: &[Decimal]) -> Option<Decimal> {
    if values.is_empty() {
        return None;
    }
    Some(values.iter().sum::<Decimal>() / Decimal::from(values.len()))
}

/// Scores are shown to one decimal place, rounded half away from zero.
pub fn round_score(score: Decimal) -> Decimal {
    score.round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero)
}

/// One indicator's part of a report's score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorScore {
    pub name: String,
    pub category: Category,
    /// Mean of the values measured (parcels and project-wide).
    pub mean: Decimal,
    pub values: usize,
    pub score: Decimal,
}

/// Why a practice may harm another ecological or climate goal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TradeOffKind {
    /// A long mid-season drainage dries the paddy while tadpoles are still in it; a refuge ditch
    /// (e-mizo) keeps water for them.
    DrainageWithoutRefugeDitch,
    /// Winter flooding feeds waterbirds but keeps the soil anaerobic, so more methane next season.
    WinterFloodingMethane,
}

impl TradeOffKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DrainageWithoutRefugeDitch => "drainage-without-refuge-ditch",
            Self::WinterFloodingMethane => "winter-flooding-methane",
        }
    }

    pub fn explanation(self) -> &'static str {
        match self {
            Self::DrainageWithoutRefugeDitch => {
                "mid-season drainage of 14 days or more without a refuge ditch: tadpoles that have not yet \
                 metamorphosed die when the paddy dries (carbon gain vs. frog survival)"
            }
            Self::WinterFloodingMethane => {
                "winter flooding keeps the soil anaerobic, which raises the next season's methane emissions \
                 (habitat for waterbirds vs. methane)"
            }
        }
    }
}

/// Drainage this long dries a paddy before most tadpoles have metamorphosed.
pub const LONG_DRAINAGE_DAYS: i64 = 14;

/// A trade-off found in a report, for one parcel or the whole project.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TradeOff {
    pub kind: TradeOffKind,
    pub parcel: Option<ParcelId>,
}

/// A value outside its indicator's expected range (scored at the range's edge).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutOfRange {
    pub name: String,
    pub parcel: Option<ParcelId>,
    pub value: Decimal,
}

/// A report's (a monitoring period's) ecological score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcoScore {
    pub report: ReportId,
    pub period: Period,
    /// 0–100, unrounded; `None` when no catalogue indicator was measured.
    pub score: Option<Decimal>,
    pub categories: Vec<(Category, Decimal)>,
    pub indicators: Vec<IndicatorScore>,
    /// Values of indicators the catalogue does not know: kept, never scored.
    pub unscored: Vec<String>,
    pub trade_offs: Vec<TradeOff>,
    pub out_of_range: Vec<OutOfRange>,
}

/// The value of `name` for a parcel: its own measurement, else a project-wide one.
fn value_for(report: &Report, name: &str, parcel: ParcelId) -> Option<Decimal> {
    let own = report.spec.indicators.iter().find(|i| i.name == name && i.parcel == Some(parcel));
    let wide = || report.spec.indicators.iter().find(|i| i.name == name && i.parcel.is_none());
    own.or_else(wide).map(|i| i.value)
}

fn trade_offs(report: &Report) -> Vec<TradeOff> {
    let mut found = Vec::new();
    for activity in &report.spec.activity {
        let parcel = activity.parcel;
        // Drainage days: the indicator if measured, else the activity data of a drainage methodology.
        let drainage = value_for(report, "drainage_days", parcel).or_else(|| {
            activity.values.iter().find(|(n, _)| n == "drainage_days").and_then(|(_, v)| match v {
                FieldValue::Number(d) => Some(*d),
                FieldValue::Flag(_) => None,
            })
        });
        let ditch = value_for(report, "refuge_ditch", parcel).is_some_and(|v| v >= Decimal::ONE);
        if drainage.is_some_and(|d| d >= Decimal::from(LONG_DRAINAGE_DAYS)) && !ditch {
            found.push(TradeOff { kind: TradeOffKind::DrainageWithoutRefugeDitch, parcel: Some(parcel) });
        }
        if value_for(report, "winter_flooding", parcel).is_some_and(|v| v >= Decimal::ONE) {
            found.push(TradeOff { kind: TradeOffKind::WinterFloodingMethane, parcel: Some(parcel) });
        }
    }
    found.sort();
    found
}

/// Scores one report (whatever its state; callers choose verified ones).
pub fn score_report(report: &Report) -> EcoScore {
    let cat = catalogue();
    let (mut indicators, mut unscored, mut out_of_range) = (Vec::new(), Vec::new(), Vec::new());
    // Catalogue order, so the result does not depend on the order the values were sent in.
    for indicator in &cat.indicators {
        let values: Vec<_> = report.spec.indicators.iter().filter(|v| v.name == indicator.key).collect();
        if values.is_empty() {
            continue;
        }
        let raw: Vec<Decimal> = values.iter().map(|v| v.value).collect();
        let scores: Vec<Decimal> = raw.iter().map(|v| score_value(indicator, *v)).collect();
        for v in &values {
            if v.value < indicator.min || v.value > indicator.max {
                out_of_range.push(OutOfRange { name: v.name.clone(), parcel: v.parcel, value: v.value });
            }
        }
        indicators.push(IndicatorScore {
            name: indicator.key.clone(),
            category: indicator.category,
            mean: mean(&raw).unwrap_or_default(),
            values: values.len(),
            score: mean(&scores).unwrap_or_default(),
        });
    }
    for v in &report.spec.indicators {
        if cat.get(&v.name).is_none() && !unscored.contains(&v.name) {
            unscored.push(v.name.clone());
        }
    }
    let categories: Vec<(Category, Decimal)> = Category::ALL
        .into_iter()
        .filter_map(|c| {
            let scores: Vec<Decimal> = indicators.iter().filter(|i| i.category == c).map(|i| i.score).collect();
            mean(&scores).map(|m| (c, m))
        })
        .collect();
    let score = mean(&categories.iter().map(|(_, s)| *s).collect::<Vec<_>>());
    EcoScore {
        report: report.id,
        period: report.spec.period,
        score,
        categories,
        indicators,
        unscored,
        trade_offs: trade_offs(report),
        out_of_range,
    }
}

/// One point of an indicator's series: a verified report's values of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesPoint {
    pub report: ReportId,
    pub period: Period,
    pub mean: Decimal,
    pub min: Decimal,
    pub max: Decimal,
    pub values: usize,
}

impl Lifecycle {
    /// A project's verified reports, oldest monitoring period first.
    fn verified_reports(&self, project: ProjectCode) -> Vec<&Report> {
        let mut reports: Vec<&Report> =
            self.reports.values().filter(|r| r.spec.project == project && r.status == ReportStatus::Verified).collect();
        reports.sort_by_key(|r| (r.spec.period, r.id));
        reports
    }

    /// The scores of each verified monitoring period of a project, oldest first.
    pub fn project_ecological_scores(&self, project: ProjectCode) -> Vec<EcoScore> {
        self.verified_reports(project).into_iter().map(score_report).collect()
    }

    /// The project's score: the mean of its verified periods' scores, if any was scored.
    pub fn project_ecological_score(&self, project: ProjectCode) -> Option<Decimal> {
        let scores: Vec<Decimal> = self.project_ecological_scores(project).iter().filter_map(|s| s.score).collect();
        mean(&scores)
    }

    /// The ecological score of the monitoring period a batch was issued from; `None` for a batch
    /// that did not come from a lifecycle issuance. Certificates and the sales filter read this.
    pub fn batch_ecological_score(&self, batch: BatchId) -> Option<EcoScore> {
        let request = self.request_for_batch(batch)?;
        self.reports.get(&request.report).map(score_report)
    }

    /// An indicator's values over a project's verified monitoring periods, oldest first.
    pub fn indicator_series(&self, project: ProjectCode, name: &str) -> Vec<SeriesPoint> {
        self.verified_reports(project)
            .into_iter()
            .filter_map(|r| {
                let values: Vec<Decimal> =
                    r.spec.indicators.iter().filter(|i| i.name == name).map(|i| i.value).collect();
                Some(SeriesPoint {
                    report: r.id,
                    period: r.spec.period,
                    mean: mean(&values)?,
                    min: values.iter().copied().min()?,
                    max: values.iter().copied().max()?,
                    values: values.len(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::Date;
    use crate::lifecycle::model::{IndicatorValue, ParcelActivity, ReportSpec};

    fn d(s: &str) -> Decimal {
        s.parse().expect("decimal")
    }

    fn value(name: &str, v: &str, parcel: Option<u64>) -> IndicatorValue {
        IndicatorValue {
            name: name.into(),
            value: d(v),
            unit: String::new(),
            parcel: parcel.map(ParcelId),
            evidence: None,
        }
    }

    fn report(indicators: Vec<IndicatorValue>, activity: Vec<ParcelActivity>) -> Report {
        let date = |y, m, d| Date::new(y, m, d).expect("date");
        Report {
            id: ReportId(1),
            spec: ReportSpec {
                project: ProjectCode(1),
                period: Period { from: date(2025, 4, 1), to: date(2025, 10, 31) },
                activity,
                evidence: vec![],
                indicators,
            },
            areas: vec![],
            status: ReportStatus::Verified,
            history: vec![],
            quantification: None,
        }
    }

    fn parcel(id: u64, drainage_days: Option<&str>) -> ParcelActivity {
        let values =
            drainage_days.map(|v| ("drainage_days".to_string(), FieldValue::Number(d(v)))).into_iter().collect();
        ParcelActivity { parcel: ParcelId(id), values }
    }

    #[test]
    fn the_catalogue_parses_and_covers_spec_section_4() {
        let cat = catalogue();
        for key in [
            "soc_pct",
            "ph",
            "available_n",
            "available_p",
            "bulk_density",
            "frog_count",
            "dragonfly_count",
            "spider_count",
            "drainage_days",
            "irrigation_volume",
            "nitrate",
            "refuge_ditch",
            "biotope",
            "fish_ladder",
            "winter_flooding",
        ] {
            let i = cat.get(key).unwrap_or_else(|| panic!("{key} is missing"));
            assert!(!i.unit.is_empty() && !i.method.is_empty() && i.min < i.max, "{key}");
        }
        assert!(parse_catalogue("@version 1\nx | soil | % | band | 0 | 10 | 11 | 12 | m | verified | s").is_err());
        assert!(parse_catalogue("@version 1\nx | air | % | higher | 0 | 10 | - | - | m | verified | s").is_err());
        assert!(parse_catalogue("@version 1\nx | soil | % | higher | 5 | 5 | - | - | m | verified | s").is_err());
        assert!(parse_catalogue("@version 1\nx | soil | % | higher | 0 | 5 | - | - | m | checked | s").is_err());
        assert!(parse_catalogue("@version 1\nx | soil | % | higher | 0 | 5 | - | - | m | verified | ").is_err());
        assert!(parse_catalogue("@version 1\nx | soil | % | higher | 0 | 5 | - | - | m").is_err(), "no status");
    }

    #[test]
    fn values_score_on_their_expected_range() {
        let cat = catalogue();
        let frogs = cat.get("frog_count").expect("frogs");
        assert_eq!(score_value(frogs, d("0")), d("0"));
        assert_eq!(score_value(frogs, d("75")), d("50"));
        assert_eq!(score_value(frogs, d("900")), d("100"), "clamped");
        let nitrate = cat.get("nitrate").expect("nitrate");
        assert_eq!(score_value(nitrate, d("5")), d("75"));
        let ph = cat.get("ph").expect("ph");
        assert_eq!(score_value(ph, d("6.0")), d("100"));
        assert_eq!(score_value(ph, d("5.0")), d("50"), "halfway from 4 up to the band at 6.0");
        assert_eq!(score_value(ph, d("7.25")), d("50"), "halfway from the band at 6.5 to 8");
    }

    #[test]
    fn a_report_scores_categories_equally_and_flags_trade_offs() {
        let r = report(
            vec![
                value("frog_count", "75", Some(1)),
                value("frog_count", "150", Some(2)),
                value("nitrate", "5", None),
                value("refuge_ditch", "1", Some(2)),
                value("winter_flooding", "1", Some(2)),
                value("ph", "9", Some(1)),
                value("heron_sightings", "3", None),
            ],
            vec![parcel(1, Some("20")), parcel(2, Some("20")), parcel(3, Some("10"))],
        );
        let s = score_report(&r);
        // Biodiversity: frogs (50 + 100) / 2 = 75. Water: nitrate 75. Soil: pH 9 → 0 (out of range).
        // Practice: refuge ditch 100, winter flooding 100. Report: (0 + 75 + 75 + 100) / 4.
        assert_eq!(
            s.categories,
            vec![
                (Category::Soil, d("0")),
                (Category::Biodiversity, d("75")),
                (Category::Water, d("75")),
                (Category::Practice, d("100"))
            ]
        );
        assert_eq!(s.score, Some(d("62.5")));
        assert_eq!(s.unscored, vec!["heron_sightings".to_string()]);
        assert_eq!(s.out_of_range, vec![OutOfRange { name: "ph".into(), parcel: Some(ParcelId(1)), value: d("9") }]);
        assert_eq!(
            s.trade_offs,
            vec![
                // Parcel 1 drains 20 days with no ditch; parcel 2 has one; parcel 3 drains briefly.
                TradeOff { kind: TradeOffKind::DrainageWithoutRefugeDitch, parcel: Some(ParcelId(1)) },
                TradeOff { kind: TradeOffKind::WinterFloodingMethane, parcel: Some(ParcelId(2)) },
            ]
        );
        // A project-wide ditch protects every parcel.
        let r = report(vec![value("refuge_ditch", "1", None)], vec![parcel(1, Some("20"))]);
        assert!(score_report(&r).trade_offs.is_empty());
        // Nothing from the catalogue measured: no score.
        assert_eq!(score_report(&report(vec![], vec![parcel(1, None)])).score, None);
    }

    /// Issue #6: every range was checked against the research note's sources. Only the soil
    /// targets the MAFF guideline gives as a band with its method (pH, available N) are verified;
    /// the practices rest on one secondary source; everything else is the registry's own range,
    /// and each line says so.
    #[test]
    fn every_range_names_its_source_and_only_sourced_ones_are_verified() {
        let cat = catalogue();
        assert_eq!(cat.version, "2026.2", "the pH band moved to the MAFF target, so the version moved");
        let verified: Vec<&str> = cat.indicators.iter().filter(|i| i.verified()).map(|i| i.key.as_str()).collect();
        assert_eq!(verified, ["ph", "available_n"]);
        let secondary: Vec<&str> =
            cat.indicators.iter().filter(|i| i.status == Status::Secondary).map(|i| i.key.as_str()).collect();
        assert_eq!(secondary, ["refuge_ditch", "biotope", "fish_ladder", "winter_flooding"]);
        for i in &cat.indicators {
            assert!(i.source.contains("research §"), "{} cites the research note: {}", i.key, i.source);
        }
        // The verified bands are the guideline's targets.
        let band = |key: &str| match cat.get(key).map(|i| i.direction) {
            Some(Direction::Band { low, high }) => (low, high),
            other => panic!("{key}: {other:?}"),
        };
        assert_eq!(band("ph"), (d("6.0"), d("6.5")));
        assert_eq!(band("available_n"), (d("8"), d("20")));
        assert!(cat.get("available_n").is_some_and(|i| i.method.contains("4-week flooded incubation at 30 °C")));
        assert!(cat.get("available_p").is_some_and(|i| i.method == "Truog method" && !i.verified()));
    }
}
