//! The explorer's page handlers: read through the application, shape a view model of display
//! strings (formatted in the reader's language), render its template. No rules live here.

use std::collections::BTreeSet;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use furrow_app::explorer::{RetirementSearch, search_retirements};
use furrow_app::store::{Balances, Page};
use furrow_domain::lifecycle::{Lifecycle, ProjectStatus};
use furrow_domain::{Batch, BatchId, MethodologyId, ProjectCode, Retirement, RetirementId};
use serde::Deserialize;

use super::i18n::Lang;
use super::{Chrome, Reader, render};
use crate::AppState;
use crate::dto::RetirementDto;
use crate::error::ApiError;
use crate::handlers::{parse, serial_lookup};
use crate::lifecycle::dto::{MethodologyDto, ParcelDto};

type PageResult = Result<Response, ApiError>;

/// Turns a page body into a handler that renders its errors as pages too.
macro_rules! page {
    ($name:ident, $body:ident $(, $arg:ident : $ty:ty)*) => {
        pub async fn $name(State(state): State<AppState>, reader: Reader $(, $arg: $ty)*) -> Response {
            match $body(&state, &reader $(, $arg)*).await {
                Ok(response) => response,
                Err(e) => reader.fail(&state, e).await,
            }
        }
    };
}

/// Parses a page's query string; a malformed one is the reader's mistake (400), shown as a page.
fn query<T: serde::de::DeserializeOwned + Default>(reader: &Reader) -> Result<T, ApiError> {
    match reader.query.as_deref() {
        None => Ok(T::default()),
        Some(q) => serde_urlencoded_from(q),
    }
}

fn serde_urlencoded_from<T: serde::de::DeserializeOwned>(q: &str) -> Result<T, ApiError> {
    let uri: axum::http::Uri = format!("/?{q}")
        .parse()
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "invalid-query", "the query string is malformed"))?;
    axum::extract::Query::<T>::try_from_uri(&uri)
        .map(|q| q.0)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid-query", e.body_text()))
}

// ------------------------------------------------------------------ view models

pub struct ProjectRow {
    pub code: String,
    pub name: String,
    pub region: String,
    pub methodology: String,
    pub methodology_id: String,
    pub status: String,
    pub issued: String,
}

pub struct RetirementRow {
    pub id: String,
    pub beneficiary: String,
    pub purpose: String,
    pub quantity: String,
    pub when: String,
}

pub struct BatchRow {
    pub id: String,
    pub project: String,
    pub vintage: u16,
    pub issued: String,
    pub tradable: String,
    pub retired: String,
    pub buffer: String,
    pub cancelled: String,
}

/// Every batch with its supply, read in pages (batches are few compared with retirements).
async fn all_batches(state: &AppState) -> Result<Vec<(Batch, Balances)>, ApiError> {
    let store = state.registry.store();
    let mut out: Vec<(Batch, Balances)> = Vec::new();
    loop {
        let after = out.last().map(|(b, _)| b.id.0);
        let page = store.batches(Page { after, limit: 500 }).await?;
        let done = page.len() < 500;
        out.extend(page);
        if done {
            return Ok(out);
        }
    }
}

fn issued_of(batches: &[(Batch, Balances)], project: ProjectCode) -> u64 {
    batches.iter().filter(|(b, _)| b.project == project).map(|(_, s)| s.total()).sum()
}

fn batch_row(l: Lang, b: &Batch, s: &Balances) -> BatchRow {
    BatchRow {
        id: b.id.to_string(),
        project: b.project.to_string(),
        vintage: b.vintage.year(),
        issued: l.num(&s.total()),
        tradable: l.num(&(s.tradable + s.escrowed)),
        retired: l.num(&s.retired),
        buffer: l.num(&s.buffer),
        cancelled: l.num(&s.cancelled),
    }
}

fn project_rows(
    l: Lang,
    lc: &Lifecycle,
    batches: &[(Batch, Balances)],
    keep: impl Fn(&furrow_domain::lifecycle::Project) -> bool,
) -> Vec<ProjectRow> {
    lc.projects
        .values()
        .filter(|p| keep(p))
        .map(|p| {
            let m = lc.methodologies.get(&p.spec.methodology);
            ProjectRow {
                code: p.code.to_string(),
                name: p.spec.name.clone(),
                region: p.spec.region.clone(),
                methodology: m
                    .map_or_else(|| p.spec.methodology.to_string(), |m| format!("{} {}", m.spec.code, m.spec.version)),
                methodology_id: p.spec.methodology.to_string(),
                status: status_word(l, &p.status.to_string()),
                issued: l.num(&issued_of(batches, p.code)),
            }
        })
        .collect()
}

fn status_word(l: Lang, code: &str) -> String {
    match l.word(code) {
        "" => code.to_owned(),
        word => word.to_owned(),
    }
}

fn retirement_row(l: Lang, r: &Retirement) -> RetirementRow {
    RetirementRow {
        id: r.id.to_string(),
        beneficiary: r.claim.beneficiary.name.clone(),
        purpose: status_word(l, r.claim.purpose.as_str()),
        quantity: l.num(&furrow_domain::total(&r.ranges).0),
        when: l.when(&furrow_app::rfc3339(r.at)),
    }
}

// ------------------------------------------------------------------ home

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub l: Lang,
    pub c: Chrome,
    pub issued: String,
    pub retired: String,
    pub buffer: String,
    pub tradable: String,
    pub farmers_paid: Option<String>,
    pub projects: Vec<ProjectRow>,
    pub retirements: Vec<RetirementRow>,
}

page!(home, home_page);
async fn home_page(state: &AppState, r: &Reader) -> PageResult {
    let l = r.lang;
    let totals = state.registry.public_status().await?.totals;
    let batches = all_batches(state).await?;
    let lc = state.registry.lifecycle();
    let latest = search_retirements(
        state.registry.store(),
        &RetirementSearch { newest_first: true, limit: 10, ..RetirementSearch::default() },
        totals.retirements,
    )
    .await?;
    let s = totals.supply;
    Ok(render(&HomePage {
        l,
        c: r.chrome(state).await,
        issued: l.tonnes(&s.total()),
        retired: l.tonnes(&s.retired),
        buffer: l.tonnes(&s.buffer),
        tradable: l.tonnes(&(s.tradable + s.escrowed)),
        // Sales and payouts (issue #7) are not recorded yet; the home page says so.
        farmers_paid: None,
        projects: project_rows(l, &lc, &batches, |_| true),
        retirements: latest.items.iter().map(|x| retirement_row(l, x)).collect(),
    }))
}

// ------------------------------------------------------------------ projects

pub struct StatusOption {
    pub value: &'static str,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "projects.html")]
pub struct ProjectsPage {
    pub l: Lang,
    pub c: Chrome,
    pub q: String,
    pub statuses: Vec<StatusOption>,
    pub projects: Vec<ProjectRow>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ProjectsQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    #[allow(dead_code)]
    lang: Option<String>,
}

const PROJECT_STATUSES: [&str; 7] =
    ["draft", "submitted", "validated", "registered", "completed", "rejected", "terminated"];

page!(projects, projects_page);
async fn projects_page(state: &AppState, r: &Reader) -> PageResult {
    let l = r.lang;
    let q: ProjectsQuery = query(r)?;
    let status: Option<ProjectStatus> = match q.status.as_str() {
        "" => None,
        s => Some(parse(s)?),
    };
    let needle = q.q.trim().to_lowercase();
    let batches = all_batches(state).await?;
    let lc = state.registry.lifecycle();
    let keep = |p: &furrow_domain::lifecycle::Project| {
        status.is_none_or(|s| p.status == s)
            && (needle.is_empty()
                || p.spec.name.to_lowercase().contains(&needle)
                || p.code.to_string().to_lowercase().contains(&needle)
                || p.spec.region.to_lowercase().contains(&needle))
    };
    let statuses = PROJECT_STATUSES
        .iter()
        .map(|s| StatusOption { value: s, label: status_word(l, s), selected: q.status == *s })
        .collect();
    Ok(render(&ProjectsPage {
        l,
        c: r.chrome(state).await,
        q: q.q.clone(),
        statuses,
        projects: project_rows(l, &lc, &batches, keep),
    }))
}

pub struct ReportRow {
    pub id: String,
    pub period: String,
    pub status: String,
    pub net: String,
}

#[derive(Template)]
#[template(path = "project.html")]
pub struct ProjectPage {
    pub l: Lang,
    pub c: Chrome,
    pub p: ProjectRow,
    pub country: String,
    pub crediting: String,
    pub parcels: Vec<ParcelDto>,
    pub reports: Vec<ReportRow>,
    pub batches: Vec<BatchRow>,
    /// Scores per verified period, trade-offs and the indicators' charts (issue #6).
    pub ecology: super::ecology::ProjectEcology,
}

page!(project, project_page, code: Path<String>);
async fn project_page(state: &AppState, r: &Reader, Path(code): Path<String>) -> PageResult {
    let l = r.lang;
    let code: ProjectCode = parse(&code)?;
    let lc = state.registry.lifecycle();
    let project = lc.projects.get(&code).ok_or_else(|| ApiError::not_found(format!("project {code}")))?;
    let batches = all_batches(state).await?;
    let row = project_rows(l, &lc, &batches, |p| p.code == code).pop().ok_or_else(|| ApiError::not_found("project"))?;
    // Parcels enrolled in the project, each once, at their generalised location only.
    let parcel_ids: BTreeSet<_> = lc.enrolments.values().filter(|e| e.project == code).map(|e| e.parcel).collect();
    let parcels = parcel_ids.iter().filter_map(|id| lc.parcels.get(id)).map(|p| ParcelDto::of(p, false)).collect();
    let reports = lc
        .reports
        .values()
        .filter(|x| x.spec.project == code)
        .map(|x| ReportRow {
            id: x.id.to_string(),
            period: format!("{} – {}", l.date(&x.spec.period.from.to_string()), l.date(&x.spec.period.to.to_string())),
            status: status_word(l, &x.status.to_string()),
            net: x.quantification.as_ref().map(|q| format!("{} t", q.net.round_dp(1))).unwrap_or_default(),
        })
        .collect();
    let crediting = project.spec.crediting;
    Ok(render(&ProjectPage {
        l,
        c: r.chrome(state).await,
        p: row,
        country: project.spec.country.to_string(),
        crediting: format!("{} – {}", l.date(&crediting.from.to_string()), l.date(&crediting.to.to_string())),
        parcels,
        reports,
        batches: batches.iter().filter(|(b, _)| b.project == code).map(|(b, s)| batch_row(l, b, s)).collect(),
        ecology: super::ecology::project_ecology(l, &lc, code),
    }))
}

// ------------------------------------------------------------------ batches

#[derive(Template)]
#[template(path = "batches.html")]
pub struct BatchesPage {
    pub l: Lang,
    pub c: Chrome,
    pub batches: Vec<BatchRow>,
    pub next: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CursorQuery {
    cursor: Option<String>,
    #[allow(dead_code)]
    lang: Option<String>,
}

const BATCH_PAGE: u32 = 100;

page!(batches, batches_page);
async fn batches_page(state: &AppState, r: &Reader) -> PageResult {
    let l = r.lang;
    let q: CursorQuery = query(r)?;
    let after = match q.cursor.as_deref() {
        None | Some("") => None,
        Some(c) => Some(parse::<BatchId>(c)?.0),
    };
    let page = state.registry.store().batches(Page { after, limit: BATCH_PAGE }).await?;
    let next =
        (page.len() == BATCH_PAGE as usize).then(|| page.last().map(|(b, _)| format!("/batches?cursor={}", b.id)));
    Ok(render(&BatchesPage {
        l,
        c: r.chrome(state).await,
        batches: page.iter().map(|(b, s)| batch_row(l, b, s)).collect(),
        next: next.flatten(),
    }))
}

#[derive(Template)]
#[template(path = "batch.html")]
pub struct BatchPage {
    pub l: Lang,
    pub c: Chrome,
    pub b: BatchRow,
    pub issued_at: String,
    pub serials: String,
    pub buffer_contribution: String,
    pub labels: Vec<String>,
    pub supply: Vec<(String, String)>,
    /// The ecological score of the monitoring period the batch was issued from (issue #6).
    pub eco: Option<super::ecology::EcoView>,
}

page!(batch, batch_page, id: Path<String>);
async fn batch_page(state: &AppState, r: &Reader, Path(id): Path<String>) -> PageResult {
    let l = r.lang;
    let id: BatchId = parse(&id)?;
    let (batch, s) =
        state.registry.store().batch(id).await?.ok_or_else(|| ApiError::not_found(format!("batch {id}")))?;
    let printer = state.printer(batch.serials.end()).await?;
    let supply = [
        ("tradable", s.tradable),
        ("escrowed", s.escrowed),
        ("retired", s.retired),
        ("cancelled", s.cancelled),
        ("buffer", s.buffer),
    ]
    .into_iter()
    .map(|(state, n)| (status_word(l, state), l.num(&n)))
    .chain(std::iter::once((l.t("common.total").to_owned(), l.num(&s.total()))))
    .collect();
    Ok(render(&BatchPage {
        l,
        c: r.chrome(state).await,
        b: batch_row(l, &batch, &s),
        issued_at: l.when(&furrow_app::rfc3339(batch.issued_at)),
        serials: printer.range(batch.id, batch.serials).serial,
        buffer_contribution: l.num(&batch.buffer.0),
        labels: batch.labels.clone(),
        supply,
        eco: super::ecology::batch_ecology(l, &state.registry.lifecycle(), batch.id),
    }))
}

// ------------------------------------------------------------------ serial lookup

pub struct BlockRow {
    pub serial: String,
    pub quantity: String,
    pub batch: String,
    pub account: String,
    pub state: String,
}

pub struct HistoryRow {
    pub index: u64,
    pub when: String,
    pub kind: String,
    pub actor: String,
}

#[derive(Template)]
#[template(path = "serials.html")]
pub struct SerialsPage {
    pub l: Lang,
    pub c: Chrome,
    pub q: String,
    pub problem: Option<String>,
    pub blocks: Vec<BlockRow>,
    pub history: Vec<HistoryRow>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SerialQuery {
    #[serde(default)]
    q: String,
    #[allow(dead_code)]
    lang: Option<String>,
}

page!(serials, serials_page);
async fn serials_page(state: &AppState, r: &Reader) -> PageResult {
    let l = r.lang;
    let q: SerialQuery = query(r)?;
    let wanted = q.q.trim();
    let mut page = SerialsPage {
        l,
        c: r.chrome(state).await,
        q: wanted.to_owned(),
        problem: None,
        blocks: vec![],
        history: vec![],
    };
    if wanted.is_empty() {
        return Ok(render(&page));
    }
    // A serial that does not parse or was never issued is an answer on the page, not an error page.
    let status = match serial_lookup(state, wanted).await {
        Ok(found) => {
            page.blocks = found
                .blocks
                .into_iter()
                .map(|b| BlockRow {
                    serial: b.range.serial,
                    quantity: l.num(&b.range.quantity),
                    batch: b.batch,
                    account: b.account,
                    state: status_word(l, &b.state),
                })
                .collect();
            page.history = found
                .history
                .into_iter()
                .map(|h| HistoryRow {
                    index: h.index,
                    when: l.when(&h.timestamp),
                    kind: status_word(l, &h.kind),
                    actor: h.actor,
                })
                .collect();
            StatusCode::OK
        }
        Err(e) if e.status.is_client_error() => {
            page.problem = Some(e.detail);
            e.status
        }
        Err(e) => return Err(e),
    };
    let mut response = render(&page);
    *response.status_mut() = status;
    Ok(response)
}

// ------------------------------------------------------------------ retirements

#[derive(Template)]
#[template(path = "retirements.html")]
pub struct RetirementsPage {
    pub l: Lang,
    pub c: Chrome,
    pub q: String,
    pub newest: bool,
    pub retirements: Vec<RetirementRow>,
    pub next: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RetirementsQuery {
    #[serde(default)]
    q: String,
    order: Option<String>,
    cursor: Option<String>,
    #[allow(dead_code)]
    lang: Option<String>,
}

/// Rows on one page of the retirement list.
pub const RETIREMENT_PAGE: usize = 50;

page!(retirements, retirements_page);
async fn retirements_page(state: &AppState, r: &Reader) -> PageResult {
    let l = r.lang;
    let q: RetirementsQuery = query(r)?;
    let newest = match q.order.as_deref() {
        None | Some("") | Some("newest") => true,
        Some("oldest") => false,
        Some(other) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid-query",
                format!("order must be newest or oldest, not {other:?}"),
            ));
        }
    };
    let cursor = match q.cursor.as_deref() {
        None | Some("") => None,
        Some(c) => Some(parse::<RetirementId>(c)?),
    };
    let search =
        RetirementSearch { beneficiary: Some(q.q.clone()), newest_first: newest, cursor, limit: RETIREMENT_PAGE };
    let retirements = state.registry.public_status().await?.totals.retirements;
    let hits = search_retirements(state.registry.store(), &search, retirements).await?;
    let next = hits.next.map(|c| {
        let order = if newest { "newest" } else { "oldest" };
        match q.q.trim() {
            "" => format!("/retirements?order={order}&cursor={c}"),
            text => format!("/retirements?q={}&order={order}&cursor={c}", super::encode(text)),
        }
    });
    Ok(render(&RetirementsPage {
        l,
        c: r.chrome(state).await,
        q: q.q.clone(),
        newest,
        retirements: hits.items.iter().map(|x| retirement_row(l, x)).collect(),
        next,
    }))
}

#[derive(Template)]
#[template(path = "retirement.html")]
pub struct RetirementPage {
    pub l: Lang,
    pub c: Chrome,
    pub r: RetirementDto,
    pub purpose: String,
    pub quantity: String,
    pub claim_period: String,
    pub when: String,
}

page!(retirement, retirement_page, id: Path<String>);
async fn retirement_page(state: &AppState, reader: &Reader, Path(id): Path<String>) -> PageResult {
    let l = reader.lang;
    let id: RetirementId = parse(&id)?;
    let found =
        state.registry.store().retirement(id).await?.ok_or_else(|| ApiError::not_found(format!("retirement {id}")))?;
    let max = found.ranges.iter().map(|x| x.end()).max().unwrap_or(0);
    let printer = state.printer(max).await?;
    let dto = printer.retirement(&found);
    Ok(render(&RetirementPage {
        l,
        c: reader.chrome(state).await,
        purpose: status_word(l, &dto.purpose),
        quantity: l.tonnes(&dto.quantity),
        claim_period: format!("{} – {}", l.date(&dto.claim_period.from), l.date(&dto.claim_period.to)),
        when: l.when(&dto.retired_at),
        r: dto,
    }))
}

// ------------------------------------------------------------------ methodologies

pub struct MethodologyRow {
    pub id: String,
    pub code: String,
    pub title: String,
    pub version: String,
    pub status: String,
    pub verification: String,
}

#[derive(Template)]
#[template(path = "methodologies.html")]
pub struct MethodologiesPage {
    pub l: Lang,
    pub c: Chrome,
    pub items: Vec<MethodologyRow>,
}

/// How far a methodology's parameters have been checked: the engine's reference tables carry
/// a status per value (`crates/quantify/tables`); the lowest one counts.
fn verification(l: Lang, engine: &str) -> String {
    use furrow_quantify::{Status, tables};
    let Ok(t) = tables() else { return String::new() };
    let used: Vec<&furrow_quantify::Table> = match engine {
        furrow_quantify::drainage::ENGINE_ID => vec![&t.ag005, &t.gwp],
        furrow_quantify::rice::ENGINE_ID => vec![&t.rice, &t.gwp],
        furrow_quantify::biochar::ENGINE_ID => vec![&t.biochar],
        furrow_quantify::soc::ENGINE_ID => vec![&t.soc],
        furrow_quantify::naro::ENGINE_ID => vec![&t.naro, &t.gwp],
        _ => return l.t("methodology.unverified_engine").to_owned(),
    };
    let (mut v, mut s, mut u) = (0u64, 0u64, 0u64);
    for table in used {
        for p in table.params.values() {
            match p.status {
                Status::Verified => v += 1,
                Status::Secondary => s += 1,
                Status::Unverified => u += 1,
            }
        }
    }
    match l {
        Lang::En => format!("{v} verified, {s} single-source, {u} unverified parameters"),
        Lang::Ja => format!("検証済み {v}・単一出典 {s}・未検証 {u}"),
    }
}

page!(methodologies, methodologies_page);
async fn methodologies_page(state: &AppState, r: &Reader) -> PageResult {
    let l = r.lang;
    let lc = state.registry.lifecycle();
    let items = lc
        .methodologies
        .values()
        .map(|m| MethodologyRow {
            id: m.id.to_string(),
            code: m.spec.code.clone(),
            title: m.spec.title.clone(),
            version: m.spec.version.clone(),
            status: status_word(l, &m.status.to_string()),
            verification: verification(l, &m.spec.engine),
        })
        .collect();
    Ok(render(&MethodologiesPage { l, c: r.chrome(state).await, items }))
}

#[derive(Template)]
#[template(path = "methodology.html")]
pub struct MethodologyPage {
    pub l: Lang,
    pub c: Chrome,
    pub m: MethodologyDto,
    pub status: String,
    pub verification: String,
    pub deductions: String,
    pub projects: Vec<ProjectRow>,
}

page!(methodology, methodology_page, id: Path<String>);
async fn methodology_page(state: &AppState, r: &Reader, Path(id): Path<String>) -> PageResult {
    let l = r.lang;
    let id: MethodologyId = parse(&id)?;
    let lc = state.registry.lifecycle();
    let m = lc.methodologies.get(&id).ok_or_else(|| ApiError::not_found(format!("methodology {id}")))?;
    let dto = MethodologyDto::of(m);
    let batches = all_batches(state).await?;
    let deductions = format!(
        "{}: {}% · {}: {}% · {}: {}%",
        l.t("methodology.uncertainty"),
        dto.deductions.uncertainty,
        l.t("methodology.leakage"),
        dto.deductions.leakage,
        l.t("word.buffer"),
        dto.deductions.buffer
    );
    Ok(render(&MethodologyPage {
        l,
        c: r.chrome(state).await,
        status: status_word(l, &dto.status),
        verification: verification(l, &dto.engine),
        deductions,
        projects: project_rows(l, &lc, &batches, |p| p.spec.methodology == id),
        m: dto,
    }))
}

// ------------------------------------------------------------------ program and joining

/// One text block of the program page: a heading and its paragraphs.
pub struct TextBlock {
    pub title: String,
    pub paragraphs: Vec<String>,
}

pub struct FaqSection {
    pub title: &'static str,
    pub items: Vec<TextBlock>,
}

#[derive(Template)]
#[template(path = "program.html")]
pub struct ProgramPage {
    pub l: Lang,
    pub c: Chrome,
    pub blocks: Vec<TextBlock>,
    pub sections: Vec<FaqSection>,
}

/// An entry in the reader's language. Stored text is plain: the template escapes it, and blank
/// lines separate paragraphs.
fn text_block(l: Lang, e: &furrow_app::store::ProgramEntry) -> TextBlock {
    let (title, body) = if l == Lang::Ja { (&e.title_ja, &e.body_ja) } else { (&e.title_en, &e.body_en) };
    let paragraphs = body.split("\n\n").map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned).collect();
    TextBlock { title: title.clone(), paragraphs }
}

page!(program, program_page);
async fn program_page(state: &AppState, r: &Reader) -> PageResult {
    let l = r.lang;
    let entries = state.registry.program_entries().await?;
    let blocks = entries.iter().filter(|e| e.section == "page").map(|e| text_block(l, e)).collect();
    let sections = furrow_app::program::SECTIONS
        .iter()
        .filter(|s| **s != "page")
        .map(|s| FaqSection {
            title: super::review::section_title(s),
            items: entries.iter().filter(|e| e.section == *s).map(|e| text_block(l, e)).collect(),
        })
        .collect();
    Ok(render(&ProgramPage { l, c: r.chrome(state).await, blocks, sections }))
}

pub struct OpenProject {
    pub code: String,
    pub name: String,
    pub region: String,
    pub opens: String,
    pub starts: String,
    pub conditions: String,
}

#[derive(Template)]
#[template(path = "join.html")]
pub struct JoinPage {
    pub l: Lang,
    pub c: Chrome,
    pub open: Vec<OpenProject>,
}

page!(join, join_page);
async fn join_page(state: &AppState, r: &Reader) -> PageResult {
    let l = r.lang;
    let lc = state.registry.lifecycle();
    let open = lc
        .projects
        .values()
        .filter_map(|p| p.participation.as_ref().map(|x| (p, x)))
        .map(|(p, x)| OpenProject {
            code: p.code.to_string(),
            name: p.spec.name.clone(),
            region: p.spec.region.clone(),
            opens: l.date(&x.opens.to_string()),
            starts: l.date(&x.starts.to_string()),
            conditions: x.conditions.clone(),
        })
        .collect();
    Ok(render(&JoinPage { l, c: r.chrome(state).await, open }))
}

// ------------------------------------------------------------------ transparency

pub struct CheckpointView {
    pub size: String,
    pub when: String,
    pub root: String,
    pub note: String,
}

#[derive(Template)]
#[template(path = "transparency.html")]
pub struct TransparencyPage {
    pub l: Lang,
    pub c: Chrome,
    pub checkpoint: Option<CheckpointView>,
    pub key: Option<String>,
    /// The key as the commands show it (a placeholder when the log is not signed).
    pub key_text: String,
    pub base: String,
}

pub async fn transparency(State(state): State<AppState>, reader: Reader, headers: axum::http::HeaderMap) -> Response {
    match transparency_page(&state, &reader, &headers).await {
        Ok(response) => response,
        Err(e) => reader.fail(&state, e).await,
    }
}

async fn transparency_page(state: &AppState, r: &Reader, headers: &axum::http::HeaderMap) -> PageResult {
    use axum::http::header;
    let l = r.lang;
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1:8080");
    // Behind a TLS-terminating proxy the scheme comes from X-Forwarded-Proto.
    let scheme =
        headers.get("x-forwarded-proto").and_then(|h| h.to_str().ok()).filter(|p| *p == "https").unwrap_or("http");
    let checkpoint = state.registry.store().latest_checkpoint().await?.map(|c| CheckpointView {
        size: l.num(&c.tree_size),
        when: l.when(&furrow_app::rfc3339(c.created_at)),
        root: hex::encode(c.root),
        note: c.note,
    });
    let key = state.registry.log_key().map(str::to_owned);
    Ok(render(&TransparencyPage {
        l,
        c: r.chrome(state).await,
        checkpoint,
        key_text: key.clone().unwrap_or_else(|| "KEY".to_owned()),
        key,
        base: format!("{scheme}://{host}"),
    }))
}

// ------------------------------------------------------------------ downloads

#[derive(Template)]
#[template(path = "downloads.html")]
pub struct DownloadsPage {
    pub l: Lang,
    pub c: Chrome,
    pub kinds: &'static [&'static str],
}

page!(downloads, downloads_page);
async fn downloads_page(state: &AppState, r: &Reader) -> PageResult {
    Ok(render(&DownloadsPage { l: r.lang, c: r.chrome(state).await, kinds: super::EXPORT_KINDS }))
}

// ------------------------------------------------------------------ errors

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub l: Lang,
    pub c: Chrome,
    pub heading: &'static str,
    pub detail: String,
}
