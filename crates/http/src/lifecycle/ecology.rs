//! Explanations of quantifications and ecological impact (issue #6): a report's recomputed
//! calculation with every step, the indicator catalogue, project and batch scores, indicator
//! series and their SVG charts. Public reads; the numbers come from the domain
//! (`engine::explain`, `ecology`), this module only shapes them.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use furrow_domain::lifecycle::ecology::{self, Catalogue, Category, Direction, EcoScore, SeriesPoint};
use furrow_domain::lifecycle::engine::{self, Caveat, Status, Step};
use furrow_domain::lifecycle::*;
use furrow_domain::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::dto::{ActivityDto, PeriodDto, QuantificationDto};
use super::found;
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::Path;
use crate::handlers::parse;

// ------------------------------------------------------------------ explanation

#[derive(Debug, Serialize, ToSchema)]
pub struct StepDto {
    pub name: String,
    pub value: String,
    pub unit: String,
    /// The formula with its operands, or the table, key and source a parameter came from.
    pub source: String,
    /// For a parameter from a table: `true` only if verified against a primary source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
    /// For a parameter from a table: `verified`, `secondary` or `unverified`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

fn status_name(s: Status) -> &'static str {
    match s {
        Status::Verified => "verified",
        Status::Secondary => "secondary",
        Status::Unverified => "unverified",
    }
}

impl StepDto {
    fn of(s: &Step) -> Self {
        Self {
            name: s.name.clone(),
            value: s.value.to_string(),
            unit: s.unit.clone(),
            source: s.source.clone(),
            verified: s.status.map(|st| st == Status::Verified),
            status: s.status.map(|st| status_name(st).to_string()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaveatDto {
    pub table: String,
    pub key: String,
    /// `secondary` or `unverified`.
    pub status: String,
    pub source: String,
}

impl CaveatDto {
    fn of(c: &Caveat) -> Self {
        Self {
            table: c.table.clone(),
            key: c.key.clone(),
            status: status_name(c.status).into(),
            source: c.source.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ParameterDto {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AppliedDeductionsDto {
    /// Percent, applied first.
    pub uncertainty_pct: String,
    /// Percent, applied second (with the engines' project emissions).
    pub leakage_pct: String,
    /// Percent of the issuable total, withheld at issuance for the buffer pool.
    pub buffer_pct: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ParcelExplanationDto {
    pub parcel: String,
    pub area_ha: String,
    /// The parcel's stored activity data.
    pub inputs: ActivityDto,
    /// The engine's steps, then the methodology's deductions on this parcel.
    pub steps: Vec<StepDto>,
    pub contribution: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExplanationDto {
    pub report: String,
    pub status: String,
    pub methodology: String,
    pub methodology_code: String,
    pub methodology_version: String,
    pub engine: String,
    pub engine_version: String,
    pub gwp: String,
    /// The methodology's own parameter table (engines with data-file tables cite them in steps).
    pub parameters_version: String,
    pub parameters: Vec<ParameterDto>,
    pub deductions: AppliedDeductionsDto,
    pub parcels: Vec<ParcelExplanationDto>,
    /// Gross, each deduction in SPEC §4's order, net.
    pub totals: Vec<StepDto>,
    /// Every parameter used that is not verified against a primary source.
    pub caveats: Vec<CaveatDto>,
    /// Recomputed now from the stored inputs.
    pub recomputed: QuantificationDto,
    /// Frozen when the report was verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frozen: Option<QuantificationDto>,
    /// Whether the recomputation equals the frozen result; absent before verification.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matches_frozen: Option<bool>,
}

/// A report's quantification explained: the stored inputs, the parameters and every
/// intermediate value, recomputed from the inputs, beside the result frozen at verification.
#[utoipa::path(get, path = "/reports/{id}/explanation", tag = "ecology",
    params(("id" = String, Path, description = "e.g. N000001")),
    responses((status = 200, body = ExplanationDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn get_explanation(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ExplanationDto>, ApiError> {
    let id: ReportId = parse(&id)?;
    Ok(Json(explanation(&state.registry.lifecycle(), id)?))
}

/// The explanation of a report's quantification, recomputed from its stored inputs. The API
/// (`get_explanation`) and the report's web page both show this, so they cannot disagree.
pub fn explanation(lc: &Lifecycle, id: ReportId) -> Result<ExplanationDto, ApiError> {
    let report = found(lc.reports.get(&id), format!("report {id}"))?;
    // The methodology the result was frozen under, or else the project's.
    let methodology_id = match &report.quantification {
        Some(q) => q.methodology,
        None => {
            found(lc.projects.get(&report.spec.project), format!("project {}", report.spec.project))?.spec.methodology
        }
    };
    let m = found(lc.methodologies.get(&methodology_id), format!("methodology {methodology_id}"))?;
    let e = engine::explain(m, &report.areas, &report.spec.activity).map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "quantification-failed",
            format!("report {id}: {e}"),
        )
    })?;
    let d = m.spec.deductions;
    Ok(ExplanationDto {
        report: report.id.to_string(),
        status: report.status.to_string(),
        methodology: m.id.to_string(),
        methodology_code: m.spec.code.clone(),
        methodology_version: m.spec.version.clone(),
        engine: e.quantification.engine.clone(),
        engine_version: e.quantification.engine_version.clone(),
        gwp: m.spec.gwp.clone(),
        parameters_version: m.spec.parameters.version.clone(),
        parameters: m
            .spec
            .parameters
            .values
            .iter()
            .map(|(name, v)| ParameterDto { name: name.clone(), value: v.to_string() })
            .collect(),
        deductions: AppliedDeductionsDto {
            uncertainty_pct: d.uncertainty.to_string(),
            leakage_pct: d.leakage.to_string(),
            buffer_pct: d.buffer.to_string(),
        },
        parcels: e
            .parcels
            .iter()
            .map(|p| ParcelExplanationDto {
                parcel: p.parcel.to_string(),
                area_ha: p.area_ha.to_string(),
                inputs: ActivityDto::of(&ParcelActivity { parcel: p.parcel, values: p.values.clone() }),
                steps: p.steps.iter().map(StepDto::of).collect(),
                contribution: p.contribution.to_string(),
            })
            .collect(),
        totals: e.totals.iter().map(StepDto::of).collect(),
        caveats: e.caveats.iter().map(CaveatDto::of).collect(),
        recomputed: QuantificationDto::of(&e.quantification),
        frozen: report.quantification.as_ref().map(QuantificationDto::of),
        matches_frozen: report.quantification.as_ref().map(|q| *q == e.quantification),
    })
}

// ------------------------------------------------------------------ catalogue

#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorInfoDto {
    pub key: String,
    /// `soil`, `biodiversity`, `water` or `practice`.
    pub category: String,
    pub unit: String,
    pub method: String,
    /// Expected range: values outside it are flagged and scored at its edge.
    pub min: String,
    pub max: String,
    /// `higher`, `lower` or `band`.
    pub direction: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub good_low: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub good_high: Option<String>,
    /// Whether the range and method agree with a primary source (`verified`), one secondary
    /// source (`secondary`) or neither (`unverified`); only `verified` is shown without a marker.
    pub range_status: String,
    /// `true` only when `range_status` is `verified`.
    pub range_verified: bool,
    /// Where the range comes from, and which of its numbers no source covers.
    pub range_source: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogueDto {
    pub version: String,
    pub indicators: Vec<IndicatorInfoDto>,
}

fn catalogue_dto(c: &Catalogue) -> CatalogueDto {
    CatalogueDto {
        version: c.version.clone(),
        indicators: c
            .indicators
            .iter()
            .map(|i| {
                let (direction, band) = match i.direction {
                    Direction::Higher => ("higher", None),
                    Direction::Lower => ("lower", None),
                    Direction::Band { low, high } => ("band", Some((low, high))),
                };
                IndicatorInfoDto {
                    key: i.key.clone(),
                    category: i.category.as_str().into(),
                    unit: i.unit.clone(),
                    method: i.method.clone(),
                    min: i.min.to_string(),
                    max: i.max.to_string(),
                    direction: direction.into(),
                    good_low: band.map(|b| b.0.to_string()),
                    good_high: band.map(|b| b.1.to_string()),
                    range_status: status_name(i.status).into(),
                    range_verified: i.verified(),
                    range_source: i.source.clone(),
                }
            })
            .collect(),
    }
}

/// The ecological indicator catalogue: unit, method, expected range and scoring direction.
#[utoipa::path(get, path = "/indicators", tag = "ecology", responses((status = 200, body = CatalogueDto)))]
pub async fn get_catalogue() -> Json<CatalogueDto> {
    Json(catalogue_dto(ecology::catalogue()))
}

// ------------------------------------------------------------------ scores

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryScoreDto {
    pub category: String,
    /// 0–100, one decimal.
    pub score: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorScoreDto {
    pub name: String,
    pub category: String,
    pub mean: String,
    pub values: usize,
    /// 0–100, one decimal.
    pub score: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TradeOffDto {
    /// `drainage-without-refuge-ditch` or `winter-flooding-methane`.
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parcel: Option<String>,
    pub explanation: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutOfRangeDto {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parcel: Option<String>,
    pub value: String,
}

/// The ecological score of one monitoring period (one verified report).
#[derive(Debug, Serialize, ToSchema)]
pub struct EcoScoreDto {
    pub report: String,
    pub period: PeriodDto,
    /// 0–100, one decimal; absent when no catalogue indicator was measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<String>,
    pub categories: Vec<CategoryScoreDto>,
    pub indicators: Vec<IndicatorScoreDto>,
    /// Indicators outside the catalogue: recorded, not scored.
    pub unscored: Vec<String>,
    pub trade_offs: Vec<TradeOffDto>,
    pub out_of_range: Vec<OutOfRangeDto>,
}

/// One decimal, always ("75.0"), whatever the decimal's own scale.
fn score(d: Decimal) -> String {
    format!("{:.1}", ecology::round_score(d))
}

fn category(c: Category) -> String {
    c.as_str().into()
}

impl EcoScoreDto {
    pub fn of(s: &EcoScore) -> Self {
        Self {
            report: s.report.to_string(),
            period: PeriodDto::of(s.period),
            score: s.score.map(score),
            categories: s
                .categories
                .iter()
                .map(|(c, v)| CategoryScoreDto { category: category(*c), score: score(*v) })
                .collect(),
            indicators: s
                .indicators
                .iter()
                .map(|i| IndicatorScoreDto {
                    name: i.name.clone(),
                    category: category(i.category),
                    mean: i.mean.normalize().to_string(),
                    values: i.values,
                    score: score(i.score),
                })
                .collect(),
            unscored: s.unscored.clone(),
            trade_offs: s
                .trade_offs
                .iter()
                .map(|t| TradeOffDto {
                    kind: t.kind.as_str().into(),
                    parcel: t.parcel.map(|p| p.to_string()),
                    explanation: t.kind.explanation().into(),
                })
                .collect(),
            out_of_range: s
                .out_of_range
                .iter()
                .map(|o| OutOfRangeDto {
                    name: o.name.clone(),
                    parcel: o.parcel.map(|p| p.to_string()),
                    value: o.value.to_string(),
                })
                .collect(),
        }
    }
}

/// A period's score in one line of English for the certificate (HTML and PDF):
/// `72.5 / 100 for the monitoring period 2026-04-01 to 2026-10-31 (biodiversity 56.7, water 75.0)`.
pub fn score_line(s: &EcoScore) -> String {
    let period = format!("the monitoring period {} to {}", s.period.from, s.period.to);
    let Some(total) = s.score else {
        return format!("Not scored: no catalogue indicator was measured in {period}");
    };
    let parts: Vec<String> = s.categories.iter().map(|(c, v)| format!("{} {}", c.as_str(), score(*v))).collect();
    format!("{} / 100 for {period} ({})", score(total), parts.join(", "))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectEcologyDto {
    pub project: String,
    /// Mean of the periods' scores, 0–100, one decimal; absent when nothing was scored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<String>,
    /// One per verified monitoring report, oldest period first.
    pub periods: Vec<EcoScoreDto>,
}

/// A project's ecological scores: overall and per verified monitoring period, with trade-offs.
#[utoipa::path(get, path = "/projects/{code}/ecology", tag = "ecology",
    params(("code" = String, Path, description = "e.g. P0001")),
    responses((status = 200, body = ProjectEcologyDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn get_project_ecology(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<ProjectEcologyDto>, ApiError> {
    let code: ProjectCode = parse(&code)?;
    let lc = state.registry.lifecycle();
    found(lc.projects.get(&code), format!("project {code}"))?;
    Ok(Json(ProjectEcologyDto {
        project: code.to_string(),
        score: lc.project_ecological_score(code).map(score),
        periods: lc.project_ecological_scores(code).iter().map(EcoScoreDto::of).collect(),
    }))
}

/// The ecological score of the monitoring period a batch was issued from.
#[utoipa::path(get, path = "/batches/{id}/ecology", tag = "ecology",
    params(("id" = String, Path, description = "e.g. B000001")),
    responses((status = 200, body = EcoScoreDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn get_batch_ecology(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<EcoScoreDto>, ApiError> {
    let id: BatchId = parse(&id)?;
    let lc = state.registry.lifecycle();
    let s = found(lc.batch_ecological_score(id), format!("ecological score of batch {id} (not issued from a report)"))?;
    Ok(Json(EcoScoreDto::of(&s)))
}

// ------------------------------------------------------------------ series and charts

#[derive(Debug, Serialize, ToSchema)]
pub struct SeriesPointDto {
    pub report: String,
    pub period: PeriodDto,
    pub mean: String,
    pub min: String,
    pub max: String,
    pub values: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeriesDto {
    pub project: String,
    pub indicator: String,
    pub unit: String,
    pub points: Vec<SeriesPointDto>,
    /// The SVG chart of this series.
    pub chart: String,
}

fn series_of(state: &AppState, code: &str, name: &str) -> Result<(ProjectCode, String, Vec<SeriesPoint>), ApiError> {
    let code: ProjectCode = parse(code)?;
    let lc = state.registry.lifecycle();
    found(lc.projects.get(&code), format!("project {code}"))?;
    let points = lc.indicator_series(code, name);
    let unit = match ecology::catalogue().get(name) {
        Some(i) => i.unit.clone(),
        None if points.is_empty() => return Err(ApiError::not_found(format!("indicator {name:?}"))),
        None => String::new(),
    };
    Ok((code, unit, points))
}

/// An indicator's values over a project's verified monitoring periods (mean, min and max of the
/// parcels' values per period).
#[utoipa::path(get, path = "/projects/{code}/indicators/{name}", tag = "ecology",
    params(("code" = String, Path, description = "e.g. P0001"), ("name" = String, Path, description = "e.g. frog_count")),
    responses((status = 200, body = SeriesDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn get_series(
    State(state): State<AppState>,
    Path((code, name)): Path<(String, String)>,
) -> Result<Json<SeriesDto>, ApiError> {
    let (code, unit, points) = series_of(&state, &code, &name)?;
    Ok(Json(SeriesDto {
        project: code.to_string(),
        indicator: name.clone(),
        unit,
        points: points
            .iter()
            .map(|p| SeriesPointDto {
                report: p.report.to_string(),
                period: PeriodDto::of(p.period),
                mean: p.mean.normalize().to_string(),
                min: p.min.to_string(),
                max: p.max.to_string(),
                values: p.values,
            })
            .collect(),
        chart: format!("/api/v1/projects/{code}/indicators/{name}/chart.svg"),
    }))
}

/// The indicator's series as an SVG chart (for the web pages): the mean per period with the
/// parcels' range, over the catalogue's expected range and good band.
#[utoipa::path(get, path = "/projects/{code}/indicators/{name}/chart.svg", tag = "ecology",
    params(("code" = String, Path, description = "e.g. P0001"), ("name" = String, Path, description = "e.g. frog_count")),
    responses((status = 200, content_type = "image/svg+xml", body = String), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn get_chart(
    State(state): State<AppState>,
    Path((code, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (code, unit, points) = series_of(&state, &code, &name)?;
    let svg = crate::charts::indicator_chart(
        &format!("{name} — project {code}"),
        &unit,
        &points,
        ecology::catalogue().get(&name),
    )
    .map_err(|e| ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, "chart-failed", e))?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "no-cache")], svg).into_response())
}
