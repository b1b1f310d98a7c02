//! The report page (`/reports/{id}`) and the ecological parts of the project and batch pages
//! (issue #6). The calculation shown is `lifecycle::ecology::explanation`, the very function the
//! API's `GET /reports/{id}/explanation` serves, and the scores are the domain's
//! (`ecology::score_report`, `Lifecycle::project_ecological_score`); this module only turns them
//! into display strings in the reader's language.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use furrow_domain::lifecycle::Lifecycle;
use furrow_domain::lifecycle::ecology::{self, Category, Direction, EcoScore, Indicator, TradeOffKind};
use furrow_domain::{BatchId, ProjectCode, ReportId};

use super::i18n::Lang;
use super::{Chrome, Reader, render};
use crate::AppState;
use crate::error::ApiError;
use crate::handlers::parse;
use crate::lifecycle::ecology::{ExplanationDto, StepDto, explanation};

// ------------------------------------------------------------------ ecological scores

pub struct IndicatorRow {
    pub name: String,
    pub mean: String,
    pub unit: String,
    pub values: usize,
    pub score: String,
    pub range: String,
    /// Set when the catalogue's range is not verified against a source.
    pub unverified: bool,
}

pub struct TradeOffRow {
    pub title: &'static str,
    pub explanation: &'static str,
    pub parcels: String,
}

/// One monitoring period's ecological score, ready to print.
pub struct EcoView {
    pub report: String,
    pub period: String,
    pub score: Option<String>,
    pub categories: Vec<(&'static str, String)>,
    pub indicators: Vec<IndicatorRow>,
    pub trade_offs: Vec<TradeOffRow>,
    pub out_of_range: Vec<String>,
    /// Indicators the catalogue does not know: recorded with the report, not scored.
    pub unscored: Vec<String>,
}

fn score(d: furrow_domain::Decimal) -> String {
    format!("{:.1}", ecology::round_score(d))
}

/// An indicator's name in the reader's language, or its key when the catalogue has no name.
pub fn indicator_name(l: Lang, key: &str) -> String {
    l.lookup(&format!("indicator.{key}")).map_or_else(|| key.to_owned(), str::to_owned)
}

fn category_word(l: Lang, c: Category) -> &'static str {
    match c {
        Category::Soil => l.t("ecology.soil"),
        Category::Biodiversity => l.t("ecology.biodiversity"),
        Category::Water => l.t("ecology.water"),
        Category::Practice => l.t("ecology.practice"),
    }
}

/// The expected range as the reader sees it: `0–150`, with the good band for a `band` indicator.
fn range(i: &Indicator) -> String {
    match i.direction {
        Direction::Band { low, high } => format!("{}–{} ({}–{})", i.min, i.max, low, high),
        _ => format!("{}–{}", i.min, i.max),
    }
}

fn period(l: Lang, p: furrow_domain::lifecycle::Period) -> String {
    format!("{} – {}", l.date(&p.from.to_string()), l.date(&p.to.to_string()))
}

/// A period's score in one sentence of the reader's language: the certificate's line.
pub(crate) fn score_sentence(l: Lang, s: &EcoScore) -> String {
    let period = period(l, s.period);
    let Some(total) = s.score else {
        return format!("{} ({period})", l.t("ecology.no_score"));
    };
    let parts: Vec<String> =
        s.categories.iter().map(|(c, v)| format!("{} {}", category_word(l, *c), score(*v))).collect();
    match l {
        Lang::En => format!("{} / 100 for the monitoring period {period} ({})", score(total), parts.join(", ")),
        Lang::Ja => format!("{} / 100（モニタリング期間 {period}；{}）", score(total), parts.join("、")),
    }
}

pub fn eco_view(l: Lang, s: &EcoScore) -> EcoView {
    let catalogue = ecology::catalogue();
    let indicators = s
        .indicators
        .iter()
        .map(|i| {
            let entry = catalogue.get(&i.name);
            IndicatorRow {
                name: indicator_name(l, &i.name),
                mean: i.mean.round_dp(2).normalize().to_string(),
                unit: entry.map(|e| e.unit.clone()).unwrap_or_default(),
                values: i.values,
                score: score(i.score),
                range: entry.map(range).unwrap_or_default(),
                unverified: entry.is_some_and(|e| !e.verified()),
            }
        })
        .collect();
    // One row per kind of trade-off, naming the parcels it was found on.
    let mut kinds: BTreeMap<TradeOffKind, Vec<String>> = BTreeMap::new();
    for t in &s.trade_offs {
        kinds.entry(t.kind).or_default().push(t.parcel.map_or_else(|| "—".to_owned(), |p| p.to_string()));
    }
    let trade_offs = kinds
        .into_iter()
        .map(|(kind, parcels)| {
            let (title, explanation) = match kind {
                TradeOffKind::DrainageWithoutRefugeDitch => {
                    (l.t("ecology.trade_drainage"), l.t("ecology.trade_drainage_text"))
                }
                TradeOffKind::WinterFloodingMethane => (l.t("ecology.trade_winter"), l.t("ecology.trade_winter_text")),
            };
            TradeOffRow { title, explanation, parcels: parcels.join(", ") }
        })
        .collect();
    EcoView {
        report: s.report.to_string(),
        period: period(l, s.period),
        score: s.score.map(score),
        categories: s.categories.iter().map(|(c, v)| (category_word(l, *c), score(*v))).collect(),
        indicators,
        trade_offs,
        out_of_range: s
            .out_of_range
            .iter()
            .map(|o| match o.parcel {
                Some(p) => format!("{} = {} ({p})", indicator_name(l, &o.name), o.value),
                None => format!("{} = {}", indicator_name(l, &o.name), o.value),
            })
            .collect(),
        unscored: s.unscored.clone(),
    }
}

/// A chart on the project page: the SVG the API draws, loaded as an image (CSP `img-src 'self'`).
pub struct ChartView {
    pub src: String,
    pub name: String,
    pub unit: String,
    pub range: String,
    pub unverified: bool,
}

/// The project page's ecology section.
pub struct ProjectEcology {
    pub score: Option<String>,
    pub periods: Vec<EcoView>,
    pub charts: Vec<ChartView>,
}

pub fn project_ecology(l: Lang, lc: &Lifecycle, code: ProjectCode) -> ProjectEcology {
    let scores = lc.project_ecological_scores(code);
    // Every indicator measured in a verified period gets a chart: the catalogue's in its order,
    // then any others the reports carry.
    let mut names: Vec<String> = ecology::catalogue()
        .indicators
        .iter()
        .filter(|i| scores.iter().any(|s| s.indicators.iter().any(|x| x.name == i.key)))
        .map(|i| i.key.clone())
        .collect();
    for s in &scores {
        for n in &s.unscored {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
    }
    let charts = names
        .iter()
        .map(|n| {
            let entry = ecology::catalogue().get(n);
            ChartView {
                src: format!("/api/v1/projects/{code}/indicators/{}/chart.svg", super::encode(n)),
                name: indicator_name(l, n),
                unit: entry.map(|e| e.unit.clone()).unwrap_or_default(),
                range: entry.map(range).unwrap_or_default(),
                unverified: entry.is_none_or(|e| !e.verified()),
            }
        })
        .collect();
    ProjectEcology {
        score: lc.project_ecological_score(code).map(score),
        periods: scores.iter().map(|s| eco_view(l, s)).collect(),
        charts,
    }
}

/// The batch page's ecological score: the monitoring period it was issued from.
pub fn batch_ecology(l: Lang, lc: &Lifecycle, batch: BatchId) -> Option<EcoView> {
    lc.batch_ecological_score(batch).map(|s| eco_view(l, &s))
}

// ------------------------------------------------------------------ the report page

pub struct StepRow {
    pub name: String,
    pub value: String,
    pub unit: String,
    pub source: String,
    /// The "unverified" marker of a parameter not verified against a primary source.
    pub marker: Option<&'static str>,
}

fn marker(l: Lang, status: Option<&str>) -> Option<&'static str> {
    match status {
        None | Some("verified") => None,
        Some("secondary") => Some(l.t("report.secondary")),
        Some(_) => Some(l.t("report.unverified")),
    }
}

fn step_row(l: Lang, s: &StepDto) -> StepRow {
    StepRow {
        name: s.name.clone(),
        value: s.value.clone(),
        unit: s.unit.clone(),
        source: s.source.clone(),
        marker: marker(l, s.status.as_deref()),
    }
}

pub struct ParcelView {
    pub id: String,
    pub area: String,
    pub inputs: String,
    pub steps: Vec<StepRow>,
    pub contribution: String,
}

pub struct CaveatRow {
    pub parameter: String,
    pub source: String,
    pub marker: Option<&'static str>,
}

pub struct FrozenView {
    pub engine: String,
    pub parameters_version: String,
    pub gwp: String,
    pub inputs_hash: String,
    pub net: String,
    pub matches: bool,
}

pub struct HistoryRow {
    pub when: String,
    pub to: String,
    pub by: String,
}

/// The calculation, when it recomputes.
pub struct Calculation {
    pub engine: String,
    pub parameters_version: String,
    pub gwp: String,
    pub deductions: String,
    pub parcels: Vec<ParcelView>,
    pub totals: Vec<StepRow>,
    pub caveats: Vec<CaveatRow>,
}

#[derive(Template)]
#[template(path = "report.html")]
pub struct ReportPage {
    pub l: Lang,
    pub c: Chrome,
    pub id: String,
    pub project: String,
    pub project_name: String,
    pub methodology: String,
    pub methodology_id: String,
    pub period: String,
    pub status: String,
    pub history: Vec<HistoryRow>,
    pub frozen: Option<FrozenView>,
    pub calculation: Option<Calculation>,
    /// Why the calculation could not be recomputed, instead of a calculation.
    pub problem: Option<String>,
    pub eco: Option<EcoView>,
}

fn word(l: Lang, code: &str) -> String {
    match l.word(code) {
        "" => code.to_owned(),
        w => w.to_owned(),
    }
}

fn calculation(l: Lang, e: &ExplanationDto) -> Calculation {
    Calculation {
        engine: format!("{} {}", e.engine, e.engine_version),
        parameters_version: e.parameters_version.clone(),
        gwp: e.gwp.clone(),
        deductions: format!(
            "{}: {}% · {}: {}% · {}: {}%",
            l.t("methodology.uncertainty"),
            e.deductions.uncertainty_pct,
            l.t("methodology.leakage"),
            e.deductions.leakage_pct,
            l.t("word.buffer"),
            e.deductions.buffer_pct
        ),
        parcels: e
            .parcels
            .iter()
            .map(|p| ParcelView {
                id: p.parcel.clone(),
                area: p.area_ha.clone(),
                inputs: p
                    .inputs
                    .values
                    .iter()
                    .map(|(k, v)| match v {
                        serde_json::Value::String(s) => format!("{k} = {s}"),
                        other => format!("{k} = {other}"),
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                steps: p.steps.iter().map(|s| step_row(l, s)).collect(),
                contribution: p.contribution.clone(),
            })
            .collect(),
        totals: e.totals.iter().map(|s| step_row(l, s)).collect(),
        caveats: e
            .caveats
            .iter()
            .map(|c| CaveatRow {
                parameter: format!("{} · {}", c.table, c.key),
                source: c.source.clone(),
                marker: marker(l, Some(&c.status)),
            })
            .collect(),
    }
}

pub async fn report(State(state): State<AppState>, reader: Reader, Path(id): Path<String>) -> Response {
    match report_page(&state, &reader, &id).await {
        Ok(response) => response,
        Err(e) => reader.fail(&state, e).await,
    }
}

async fn report_page(state: &AppState, r: &Reader, id: &str) -> Result<Response, ApiError> {
    let l = r.lang;
    let id: ReportId = parse(id)?;
    let lc = state.registry.lifecycle();
    let report = lc.reports.get(&id).ok_or_else(|| ApiError::not_found(format!("report {id}")))?;
    let project = lc.projects.get(&report.spec.project);
    let methodology_id = report.quantification.as_ref().map(|q| q.methodology).or(project.map(|p| p.spec.methodology));
    let methodology = methodology_id.and_then(|m| lc.methodologies.get(&m));
    // A report whose inputs no longer quantify still has a page: it says why instead.
    let (calculation, problem, matches) = match explanation(&lc, id) {
        Ok(e) => (Some(calculation(l, &e)), None, e.matches_frozen == Some(true)),
        Err(e) if e.status.is_client_error() => (None, Some(e.detail), false),
        Err(e) => return Err(e),
    };
    let frozen = report.quantification.as_ref().map(|q| FrozenView {
        engine: format!("{} {}", q.engine, q.engine_version),
        parameters_version: q.parameters_version.clone(),
        gwp: q.gwp.clone(),
        inputs_hash: hex::encode(q.inputs_hash),
        net: format!("{} t CO₂e", q.net),
        matches,
    });
    let scored = ecology::score_report(report);
    Ok(render(&ReportPage {
        l,
        c: r.chrome(state).await,
        id: report.id.to_string(),
        project: report.spec.project.to_string(),
        project_name: project.map(|p| p.spec.name.clone()).unwrap_or_default(),
        methodology: methodology.map(|m| format!("{} {}", m.spec.code, m.spec.version)).unwrap_or_default(),
        methodology_id: methodology_id.map(|m| m.to_string()).unwrap_or_default(),
        period: period(l, report.spec.period),
        status: word(l, &report.status.to_string()),
        history: report
            .history
            .iter()
            .map(|t| HistoryRow { when: l.when(&furrow_app::rfc3339(t.at)), to: word(l, &t.to), by: t.by.clone() })
            .collect(),
        frozen,
        calculation,
        problem,
        eco: (!report.spec.indicators.is_empty()).then(|| eco_view(l, &scored)),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Indicator names are looked up at run time, so the catalogue scan cannot see them: every
    /// indicator of the ecological catalogue has a name in both languages.
    #[test]
    fn every_indicator_has_a_name_in_both_languages() {
        for i in &ecology::catalogue().indicators {
            for l in [Lang::En, Lang::Ja] {
                let name = l.lookup(&format!("indicator.{}", i.key));
                assert!(name.is_some_and(|n| !n.trim().is_empty()), "{} has no {} name", i.key, l.code());
            }
        }
        assert_eq!(indicator_name(Lang::Ja, "frog_count"), "カエル類");
        assert_eq!(indicator_name(Lang::Ja, "heron_sightings"), "heron_sightings", "unknown: the key itself");
    }
}
