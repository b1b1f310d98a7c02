//! Open-data exports: projects, batches, blocks, retirements and cancellations as CSV or JSON,
//! and projects and transactions in the harmonised OffsetsDB layout (CarbonPlan's schema, which
//! aggregators read: `transaction_type` ∈ issuance | retirement | cancellation and the
//! `retirement_*` fields). Every export is streamed: a task reads the store page by page and
//! hands each page, encoded, to the response body through a small bounded channel, so memory
//! stays at a page or two whatever the registry's size, and a client that goes away stops it.

use std::collections::BTreeMap;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use furrow_app::store::{Balances, BlockFilter, Page};
use furrow_domain::{Batch, BatchId, SerialRange};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::AppState;
use crate::dto::Printer;
use crate::error::ApiError;

/// Rows per store read.
const PAGE: u32 = 1_000;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Json,
}

type Chunk = Result<Bytes, std::io::Error>;

/// One row type of an export. `HEADER` is the CSV header; a test checks it names the fields.
pub trait Row: Serialize {
    const HEADER: &'static [&'static str];
}

/// The writing end of a streamed export.
struct Out {
    tx: mpsc::Sender<Chunk>,
    format: Format,
    first: bool,
}

/// The client went away: stop reading.
struct Gone;

impl Out {
    async fn send(&self, bytes: Vec<u8>) -> Result<(), Gone> {
        self.tx.send(Ok(Bytes::from(bytes))).await.map_err(|_| Gone)
    }

    async fn start<T: Row>(&mut self) -> Result<(), Gone> {
        let head = match self.format {
            Format::Json => b"[".to_vec(),
            Format::Csv => {
                let mut w = csv::Writer::from_writer(Vec::new());
                w.write_record(T::HEADER).map_err(|_| Gone)?;
                w.into_inner().map_err(|_| Gone)?
            }
        };
        self.send(head).await
    }

    async fn rows<T: Row>(&mut self, rows: &[T]) -> Result<(), Gone> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut buf = Vec::with_capacity(rows.len() * 160);
        match self.format {
            Format::Csv => {
                let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(&mut buf);
                for row in rows {
                    w.serialize(row).map_err(|_| Gone)?;
                }
                w.flush().map_err(|_| Gone)?;
            }
            Format::Json => {
                for row in rows {
                    buf.extend_from_slice(if self.first { b"\n" } else { b",\n" });
                    self.first = false;
                    serde_json::to_writer(&mut buf, row).map_err(|_| Gone)?;
                }
            }
        }
        self.send(buf).await
    }

    async fn finish(&mut self) -> Result<(), Gone> {
        match self.format {
            Format::Json => self.send(b"\n]\n".to_vec()).await,
            Format::Csv => Ok(()),
        }
    }

    /// A read failed half way: end the body with an error, so the client sees a broken
    /// transfer instead of a file that looks complete.
    async fn fail(&self, e: ApiError) {
        tracing::error!(detail = %e.detail, "an export failed");
        let _ = self.tx.send(Err(std::io::Error::other(e.detail))).await;
    }
}

fn streamed<F, Fut>(state: &AppState, format: Format, name: &str, produce: F) -> Response
where
    F: FnOnce(AppState, Out) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (tx, mut rx) = mpsc::channel::<Chunk>(4);
    tokio::spawn(produce(state.clone(), Out { tx, format, first: true }));
    let body = Body::from_stream(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)));
    let (ext, mime) = match format {
        Format::Csv => ("csv", "text/csv; charset=utf-8"),
        Format::Json => ("json", "application/json"),
    };
    (
        [
            (header::CONTENT_TYPE, mime.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.{ext}\"")),
            (header::CACHE_CONTROL, "no-cache".to_owned()),
        ],
        body,
    )
        .into_response()
}

/// Runs an export body; a failure ends the stream with an error.
macro_rules! run {
    ($out:ident, $body:expr) => {
        match $body.await {
            Ok(Ok(())) | Ok(Err(Gone)) => {}
            Err(e) => $out.fail(e).await,
        }
    };
}

/// `GET /exports/{file}`: `projects.csv`, `retirements.json`, …
pub async fn export(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let Some((what, ext)) = file.rsplit_once('.') else {
        return ApiError::not_found("an export is /exports/<what>.csv or .json").into_response();
    };
    let format = match ext {
        "csv" => Format::Csv,
        "json" => Format::Json,
        _ => return ApiError::not_found("exports come as .csv or .json").into_response(),
    };
    match what {
        "projects" => streamed(&state, format, what, |s, mut o| async move { run!(o, projects(&s, &mut o)) }),
        "batches" => streamed(&state, format, what, |s, mut o| async move { run!(o, batches(&s, &mut o)) }),
        "blocks" => streamed(&state, format, what, |s, mut o| async move { run!(o, blocks(&s, &mut o)) }),
        "retirements" => streamed(&state, format, what, |s, mut o| async move { run!(o, retirements(&s, &mut o)) }),
        "cancellations" => {
            streamed(&state, format, what, |s, mut o| async move { run!(o, cancellations(&s, &mut o)) })
        }
        _ => ApiError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "exports: projects, batches, blocks, retirements, cancellations, offsetsdb/projects, offsetsdb/transactions",
        )
        .into_response(),
    }
}

/// `GET /exports/offsetsdb/{file}`: `projects.csv` or `transactions.csv`.
pub async fn offsetsdb(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    match file.as_str() {
        "projects.csv" => {
            streamed(
                &state,
                Format::Csv,
                "offsetsdb-projects",
                |s, mut o| async move { run!(o, odb_projects(&s, &mut o)) },
            )
        }
        "transactions.csv" => streamed(&state, Format::Csv, "offsetsdb-transactions", |s, mut o| async move {
            run!(o, odb_transactions(&s, &mut o))
        }),
        _ => ApiError::not_found("the OffsetsDB layout has projects.csv and transactions.csv").into_response(),
    }
}

type Step = Result<Result<(), Gone>, ApiError>;

/// `?` for the two failure kinds of an export body.
macro_rules! sent {
    ($e:expr) => {
        if let Err(Gone) = $e {
            return Ok(Err(Gone));
        }
    };
}

fn printable(printer: &Printer, ranges: &[SerialRange]) -> String {
    ranges.iter().map(|r| printer.range_any(*r).serial).collect::<Vec<_>>().join(" ")
}

fn date(t: furrow_domain::Timestamp) -> String {
    furrow_app::rfc3339(t).get(..10).unwrap_or_default().to_owned()
}

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

// ------------------------------------------------------------------ our own layout

#[derive(Serialize)]
pub struct ProjectExport {
    pub code: String,
    pub name: String,
    pub methodology: String,
    pub country: String,
    pub region: String,
    pub status: String,
    pub crediting_from: String,
    pub crediting_to: String,
    pub issued: u64,
    pub retired: u64,
}
impl Row for ProjectExport {
    const HEADER: &'static [&'static str] = &[
        "code",
        "name",
        "methodology",
        "country",
        "region",
        "status",
        "crediting_from",
        "crediting_to",
        "issued",
        "retired",
    ];
}

async fn projects(state: &AppState, out: &mut Out) -> Step {
    let lc = state.registry.lifecycle();
    let batches = all_batches(state).await?;
    let rows: Vec<ProjectExport> = lc
        .projects
        .values()
        .map(|p| {
            let mine = batches.iter().filter(|(b, _)| b.project == p.code);
            ProjectExport {
                code: p.code.to_string(),
                name: p.spec.name.clone(),
                methodology: p.spec.methodology.to_string(),
                country: p.spec.country.to_string(),
                region: p.spec.region.clone(),
                status: p.status.to_string(),
                crediting_from: p.spec.crediting.from.to_string(),
                crediting_to: p.spec.crediting.to.to_string(),
                issued: mine.clone().map(|(_, s)| s.total()).sum(),
                retired: mine.map(|(_, s)| s.retired).sum(),
            }
        })
        .collect();
    sent!(out.start::<ProjectExport>().await);
    sent!(out.rows(&rows).await);
    Ok(out.finish().await)
}

#[derive(Serialize)]
pub struct BatchExport {
    pub id: String,
    pub project: String,
    pub country: String,
    pub vintage: u16,
    pub serial_start: u64,
    pub serial_end: u64,
    pub serials: String,
    pub issued: u64,
    pub buffer_contribution: u64,
    pub tradable: u64,
    pub escrowed: u64,
    pub retired: u64,
    pub cancelled: u64,
    pub buffer: u64,
    pub labels: String,
    pub issued_at: String,
}
impl Row for BatchExport {
    const HEADER: &'static [&'static str] = &[
        "id",
        "project",
        "country",
        "vintage",
        "serial_start",
        "serial_end",
        "serials",
        "issued",
        "buffer_contribution",
        "tradable",
        "escrowed",
        "retired",
        "cancelled",
        "buffer",
        "labels",
        "issued_at",
    ];
}

async fn batches(state: &AppState, out: &mut Out) -> Step {
    let store = state.registry.store();
    sent!(out.start::<BatchExport>().await);
    let mut after = None;
    loop {
        let page = store.batches(Page { after, limit: 500 }).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.0.id.0);
        let printer = state.printer(last.0.serials.end()).await?;
        let rows: Vec<BatchExport> = page
            .iter()
            .map(|(b, s)| BatchExport {
                id: b.id.to_string(),
                project: b.project.to_string(),
                country: b.country.to_string(),
                vintage: b.vintage.year(),
                serial_start: b.serials.start(),
                serial_end: b.serials.end(),
                serials: printer.range(b.id, b.serials).serial,
                issued: s.total(),
                buffer_contribution: b.buffer.0,
                tradable: s.tradable,
                escrowed: s.escrowed,
                retired: s.retired,
                cancelled: s.cancelled,
                buffer: s.buffer,
                labels: b.labels.join(" "),
                issued_at: furrow_app::rfc3339(b.issued_at),
            })
            .collect();
        sent!(out.rows(&rows).await);
    }
    Ok(out.finish().await)
}

#[derive(Serialize)]
pub struct BlockExport {
    pub serial_start: u64,
    pub serial_end: u64,
    pub quantity: u64,
    pub serials: String,
    pub batch: String,
    pub account: String,
    pub state: String,
}
impl Row for BlockExport {
    const HEADER: &'static [&'static str] =
        &["serial_start", "serial_end", "quantity", "serials", "batch", "account", "state"];
}

async fn blocks(state: &AppState, out: &mut Out) -> Step {
    let store = state.registry.store();
    sent!(out.start::<BlockExport>().await);
    let mut after = None;
    loop {
        let page = store.blocks(BlockFilter::default(), Page { after, limit: PAGE }).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.range.start());
        let printer = state.printer(last.range.end()).await?;
        let rows: Vec<BlockExport> = page
            .iter()
            .map(|b| BlockExport {
                serial_start: b.range.start(),
                serial_end: b.range.end(),
                quantity: b.range.len().0,
                serials: printer.range(b.batch, b.range).serial,
                batch: b.batch.to_string(),
                account: b.account.to_string(),
                state: b.state.to_string(),
            })
            .collect();
        sent!(out.rows(&rows).await);
    }
    Ok(out.finish().await)
}

#[derive(Serialize)]
pub struct RetirementExport {
    pub id: String,
    pub account: String,
    pub quantity: u64,
    pub serials: String,
    pub beneficiary: String,
    pub beneficiary_country: String,
    pub beneficiary_identifier: String,
    pub purpose: String,
    pub claim_from: String,
    pub claim_to: String,
    pub jurisdiction: String,
    pub note: String,
    pub retired_at: String,
}
impl Row for RetirementExport {
    const HEADER: &'static [&'static str] = &[
        "id",
        "account",
        "quantity",
        "serials",
        "beneficiary",
        "beneficiary_country",
        "beneficiary_identifier",
        "purpose",
        "claim_from",
        "claim_to",
        "jurisdiction",
        "note",
        "retired_at",
    ];
}

async fn retirements(state: &AppState, out: &mut Out) -> Step {
    let store = state.registry.store();
    sent!(out.start::<RetirementExport>().await);
    let mut after = None;
    loop {
        let page = store.retirements(Page { after, limit: PAGE }).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id.0);
        let max = page.iter().flat_map(|r| r.ranges.iter().map(|x| x.end())).max().unwrap_or(0);
        let printer = state.printer(max).await?;
        let rows: Vec<RetirementExport> = page
            .iter()
            .map(|r| {
                let c = &r.claim;
                RetirementExport {
                    id: r.id.to_string(),
                    account: r.account.to_string(),
                    quantity: furrow_domain::total(&r.ranges).0,
                    serials: printable(&printer, &r.ranges),
                    beneficiary: c.beneficiary.name.clone(),
                    beneficiary_country: c.beneficiary.country.map(|x| x.to_string()).unwrap_or_default(),
                    beneficiary_identifier: c.beneficiary.identifier.clone().unwrap_or_default(),
                    purpose: c.purpose.to_string(),
                    claim_from: c.claim_period.from.to_string(),
                    claim_to: c.claim_period.to.to_string(),
                    jurisdiction: c.jurisdiction.to_string(),
                    note: c.note.clone(),
                    retired_at: furrow_app::rfc3339(r.at),
                }
            })
            .collect();
        sent!(out.rows(&rows).await);
    }
    Ok(out.finish().await)
}

#[derive(Serialize)]
pub struct CancellationExport {
    pub id: String,
    pub account: String,
    pub quantity: u64,
    pub serials: String,
    pub reason: String,
    pub note: String,
    pub cancelled_at: String,
}
impl Row for CancellationExport {
    const HEADER: &'static [&'static str] = &["id", "account", "quantity", "serials", "reason", "note", "cancelled_at"];
}

async fn cancellations(state: &AppState, out: &mut Out) -> Step {
    let store = state.registry.store();
    sent!(out.start::<CancellationExport>().await);
    let mut after = None;
    loop {
        let page = store.cancellations(Page { after, limit: PAGE }).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id.0);
        let max = page.iter().flat_map(|r| r.ranges.iter().map(|x| x.end())).max().unwrap_or(0);
        let printer = state.printer(max).await?;
        let rows: Vec<CancellationExport> = page
            .iter()
            .map(|c| CancellationExport {
                id: c.id.to_string(),
                account: c.account.to_string(),
                quantity: furrow_domain::total(&c.ranges).0,
                serials: printable(&printer, &c.ranges),
                reason: c.reason.to_string(),
                note: c.note.clone(),
                cancelled_at: furrow_app::rfc3339(c.at),
            })
            .collect();
        sent!(out.rows(&rows).await);
    }
    Ok(out.finish().await)
}

// ------------------------------------------------------------------ OffsetsDB layout

/// The registry name our rows carry in the harmonised layout.
const REGISTRY: &str = "furrow";

#[derive(Serialize)]
pub struct OdbProject {
    pub project_id: String,
    pub name: String,
    pub registry: String,
    pub proponent: String,
    pub protocol: String,
    pub category: String,
    pub project_type: String,
    pub status: String,
    pub country: String,
    pub listed_at: String,
    pub is_compliance: bool,
    pub issued: u64,
    pub retired: u64,
    pub first_issuance_at: String,
    pub first_retirement_at: String,
    pub project_url: String,
}
impl Row for OdbProject {
    const HEADER: &'static [&'static str] = &[
        "project_id",
        "name",
        "registry",
        "proponent",
        "protocol",
        "category",
        "project_type",
        "status",
        "country",
        "listed_at",
        "is_compliance",
        "issued",
        "retired",
        "first_issuance_at",
        "first_retirement_at",
        "project_url",
    ];
}

/// A project id in the harmonised layout: our program code and project code, so ids from
/// several registries never collide (`AGR-P0001`).
fn odb_id(program: &str, project: impl std::fmt::Display) -> String {
    format!("{program}-{project}")
}

async fn program_code(state: &AppState) -> Result<String, ApiError> {
    Ok(state.registry.store().program().await?.map(|p| p.code.to_string()).unwrap_or_else(|| "FURROW".into()))
}

async fn odb_projects(state: &AppState, out: &mut Out) -> Step {
    let program = program_code(state).await?;
    let lc = state.registry.lifecycle();
    let batches = all_batches(state).await?;
    // Every project that has credits, whether or not it came through the lifecycle.
    let mut codes: BTreeMap<furrow_domain::ProjectCode, ()> = lc.projects.keys().map(|c| (*c, ())).collect();
    codes.extend(batches.iter().map(|(b, _)| (b.project, ())));
    let rows: Vec<OdbProject> = codes
        .keys()
        .map(|code| {
            let p = lc.projects.get(code);
            let m = p.and_then(|p| lc.methodologies.get(&p.spec.methodology));
            let mine = batches.iter().filter(|(b, _)| b.project == *code);
            let country = p
                .map(|p| p.spec.country.to_string())
                .or_else(|| mine.clone().next().map(|(b, _)| b.country.to_string()))
                .unwrap_or_default();
            OdbProject {
                project_id: odb_id(&program, code),
                name: p.map(|p| p.spec.name.clone()).unwrap_or_default(),
                registry: REGISTRY.into(),
                proponent: String::new(),
                protocol: m.map(|m| format!("{} {}", m.spec.code, m.spec.version)).unwrap_or_default(),
                category: "agriculture".into(),
                project_type: m.map(|m| m.spec.title.clone()).unwrap_or_default(),
                status: p.map(|p| p.status.to_string()).unwrap_or_default(),
                country,
                listed_at: p.and_then(|p| p.history.first()).map(|t| date(t.at)).unwrap_or_default(),
                is_compliance: false,
                issued: mine.clone().map(|(_, s)| s.total()).sum(),
                retired: mine.clone().map(|(_, s)| s.retired).sum(),
                first_issuance_at: mine.map(|(b, _)| b.issued_at).min().map(date).unwrap_or_default(),
                first_retirement_at: String::new(),
                project_url: format!("/projects/{code}"),
            }
        })
        .collect();
    sent!(out.start::<OdbProject>().await);
    sent!(out.rows(&rows).await);
    Ok(out.finish().await)
}

#[derive(Serialize)]
pub struct OdbTransaction {
    pub project_id: String,
    pub vintage: u16,
    pub transaction_date: String,
    pub transaction_type: &'static str,
    pub quantity: u64,
    pub retirement_account: String,
    pub retirement_beneficiary: String,
    pub retirement_reason: String,
    pub retirement_note: String,
    /// Not in OffsetsDB's schema: our id of the row (`B000001`, `R000001/B000001`), so an
    /// importer has a stable origin id.
    pub transaction_id: String,
}
impl Row for OdbTransaction {
    const HEADER: &'static [&'static str] = &[
        "project_id",
        "vintage",
        "transaction_date",
        "transaction_type",
        "quantity",
        "retirement_account",
        "retirement_beneficiary",
        "retirement_reason",
        "retirement_note",
        "transaction_id",
    ];
}

/// Splits a retirement's or cancellation's ranges by batch: one harmonised row per batch.
fn by_batch(printer: &Printer, ranges: &[SerialRange]) -> BTreeMap<BatchId, u64> {
    let mut out = BTreeMap::new();
    for r in ranges {
        if let Some(b) = printer.batches.values().find(|b| b.serials.covers(*r)) {
            *out.entry(b.id).or_insert(0) += r.len().0;
        }
    }
    out
}

async fn odb_transactions(state: &AppState, out: &mut Out) -> Step {
    let program = program_code(state).await?;
    let store = state.registry.store();
    sent!(out.start::<OdbTransaction>().await);
    let row = |printer: &Printer, batch: BatchId, quantity: u64, kind: &'static str, at| {
        let b = printer.batches.get(&batch);
        OdbTransaction {
            project_id: b.map(|b| odb_id(&program, b.project)).unwrap_or_default(),
            vintage: b.map(|b| b.vintage.year()).unwrap_or_default(),
            transaction_date: date(at),
            transaction_type: kind,
            quantity,
            retirement_account: String::new(),
            retirement_beneficiary: String::new(),
            retirement_reason: String::new(),
            retirement_note: String::new(),
            transaction_id: batch.to_string(),
        }
    };
    // Issuances: one row per batch, its whole issued quantity (buffer contribution included).
    let mut after = None;
    loop {
        let page = store.batches(Page { after, limit: 500 }).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.0.id.0);
        let printer = state.printer(last.0.serials.end()).await?;
        let rows: Vec<OdbTransaction> =
            page.iter().map(|(b, s)| row(&printer, b.id, s.total(), "issuance", b.issued_at)).collect();
        sent!(out.rows(&rows).await);
    }
    let mut after = None;
    loop {
        let page = store.retirements(Page { after, limit: PAGE }).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id.0);
        let max = page.iter().flat_map(|r| r.ranges.iter().map(|x| x.end())).max().unwrap_or(0);
        let printer = state.printer(max).await?;
        let mut rows = Vec::with_capacity(page.len());
        for r in &page {
            for (batch, quantity) in by_batch(&printer, &r.ranges) {
                let mut t = row(&printer, batch, quantity, "retirement", r.at);
                t.retirement_account = r.account.to_string();
                t.retirement_beneficiary = r.claim.beneficiary.name.clone();
                t.retirement_reason = r.claim.purpose.to_string();
                t.retirement_note = r.claim.note.clone();
                t.transaction_id = format!("{}/{batch}", r.id);
                rows.push(t);
            }
        }
        sent!(out.rows(&rows).await);
    }
    let mut after = None;
    loop {
        let page = store.cancellations(Page { after, limit: PAGE }).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id.0);
        let max = page.iter().flat_map(|r| r.ranges.iter().map(|x| x.end())).max().unwrap_or(0);
        let printer = state.printer(max).await?;
        let mut rows = Vec::with_capacity(page.len());
        for c in &page {
            for (batch, quantity) in by_batch(&printer, &c.ranges) {
                let mut t = row(&printer, batch, quantity, "cancellation", c.at);
                t.retirement_reason = c.reason.to_string();
                t.retirement_note = c.note.clone();
                t.transaction_id = format!("{}/{batch}", c.id);
                rows.push(t);
            }
        }
        sent!(out.rows(&rows).await);
    }
    Ok(out.finish().await)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written CSV headers name exactly the fields serde writes, in order.
    fn header_matches<T: Row>(row: T) {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.serialize(row).expect("serialize");
        let text = String::from_utf8(w.into_inner().expect("flush")).expect("utf-8");
        assert_eq!(text.lines().next().expect("header"), T::HEADER.join(","));
    }

    #[test]
    fn csv_headers_match_the_rows() {
        header_matches(OdbTransaction {
            project_id: String::new(),
            vintage: 0,
            transaction_date: String::new(),
            transaction_type: "issuance",
            quantity: 0,
            retirement_account: String::new(),
            retirement_beneficiary: String::new(),
            retirement_reason: String::new(),
            retirement_note: String::new(),
            transaction_id: String::new(),
        });
        header_matches(CancellationExport {
            id: String::new(),
            account: String::new(),
            quantity: 0,
            serials: String::new(),
            reason: String::new(),
            note: String::new(),
            cancelled_at: String::new(),
        });
        header_matches(BlockExport {
            serial_start: 0,
            serial_end: 0,
            quantity: 0,
            serials: String::new(),
            batch: String::new(),
            account: String::new(),
            state: String::new(),
        });
    }
}
