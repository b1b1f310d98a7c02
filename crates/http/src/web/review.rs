//! The staff's signed-in pages (issue #9): review queues for operators, admins and verifiers,
//! and the operators' editor of the program's pages. Every action is a POST form carrying the
//! session's CSRF token, and runs the same application commands as the JSON API with the
//! session's `Principal`, so `furrow_app::authorize` and the domain decide exactly as they do
//! there. A refusal (not assigned, the same person twice, no second factor) is shown on the
//! queue with the domain's message and its 4xx status, and changes nothing.

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use furrow_app::accounts::Session;
use furrow_app::program::{ProgramTexts, SECTIONS, may_edit};
use furrow_app::store::ProgramEntry;
use furrow_app::{AppError, needs_second_factor};
use furrow_domain::lifecycle::{EnrolmentStatus, Lifecycle, LifecycleCommand, ReportStatus, RequestStatus};
use furrow_domain::sales::{SaleStatus, SalesCommand};
use furrow_domain::{Command, Date, DomainError, Role, SaleId, Selection, Timestamp};
use serde::Deserialize;

use super::account::{forbidden, private, same_origin, see_other, signed_in};
use super::i18n::Lang;
use super::{Chrome, Reader, render};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::same_secret;
use crate::handlers::parse;

// ------------------------------------------------------------------ view models

pub struct IssuanceItem {
    pub id: String,
    pub report: String,
    pub project: String,
    pub period: String,
    /// The report's verified net reductions: the batch is its floor, the buffer share included.
    pub net: String,
    pub requested_by: String,
    pub requested_at: String,
    /// The reader asked for it: another operator must approve.
    pub own: bool,
}

pub struct WithdrawalItem {
    pub enrolment: String,
    pub project: String,
    pub parcel: String,
    pub participant: String,
    pub ground: String,
    pub requested_by: String,
    /// Today, the effective date the form proposes.
    pub today: String,
}

pub struct ReversalItem {
    pub id: String,
    pub project: String,
    pub credits: String,
    pub note: String,
    pub requested_by: String,
    pub requested_at: String,
    pub own: bool,
}

pub struct CancellationItem {
    pub id: String,
    pub from: String,
    pub credits: String,
    pub reason: String,
    pub note: String,
    pub requested_by: String,
    pub own: bool,
}

/// A request to rotate the log's signing key, waiting for a second admin.
pub struct RotationItem {
    pub id: String,
    pub reason: String,
    pub requested_by: String,
    pub requested_at: String,
    pub own: bool,
}

pub struct RoleItem {
    pub id: String,
    pub user: String,
    pub role: String,
    pub requested_by: String,
    pub requested_at: String,
    pub own: bool,
}

pub struct ReportItem {
    pub id: String,
    pub project: String,
    pub project_name: String,
    pub period: String,
    pub parcels: usize,
    pub evidence: usize,
}

/// An escrowed sale waiting for the buyer's payment; settling it retires the credits with the
/// claim the buyer stated.
pub struct SaleItem {
    pub id: String,
    pub buyer: String,
    pub batch: String,
    pub credits: String,
    pub gross: String,
    pub expires_at: String,
    /// The buyer's stated claim in words, or `None` while the buyer has not named it.
    pub claim: Option<String>,
}

/// Why the last action was refused.
pub struct Refusal {
    pub detail: String,
    /// The refusal was for want of a second factor: say how to get one.
    pub totp: bool,
}

#[derive(Template)]
#[template(path = "review.html")]
pub struct QueuePage {
    pub l: Lang,
    pub c: Chrome,
    pub csrf: String,
    pub operator: bool,
    pub admin: bool,
    pub verifier: bool,
    /// Signed in with a password only: approvals will be refused.
    pub weak: bool,
    pub notice: Option<&'static str>,
    pub refusal: Option<Refusal>,
    pub issuance: Vec<IssuanceItem>,
    pub withdrawals: Vec<WithdrawalItem>,
    pub reversals: Vec<ReversalItem>,
    pub cancellations: Vec<CancellationItem>,
    pub roles: Vec<RoleItem>,
    pub rotations: Vec<RotationItem>,
    pub reports: Vec<ReportItem>,
    pub sales: Vec<SaleItem>,
    pub can_edit: bool,
}

pub struct EntryRow {
    pub id: u64,
    pub title: String,
    pub updated_by: String,
    pub updated_at: String,
}

pub struct EntrySection {
    pub code: &'static str,
    pub title: &'static str,
    pub entries: Vec<EntryRow>,
}

#[derive(Template)]
#[template(path = "review_program.html")]
pub struct ProgramListPage {
    pub l: Lang,
    pub c: Chrome,
    pub notice: Option<&'static str>,
    pub sections: Vec<EntrySection>,
}

#[derive(Template)]
#[template(path = "review_entry.html")]
pub struct EntryPage {
    pub l: Lang,
    pub c: Chrome,
    pub csrf: String,
    /// Where the form posts: the entry's address, or `/review/program/new`.
    pub action: String,
    /// The section's code, sent back by the form for a new entry.
    pub section_code: String,
    pub section: &'static str,
    pub texts: ProgramTexts,
    pub updated_by: String,
    pub updated_at: String,
    pub error: Option<String>,
}

// ------------------------------------------------------------------ forms

#[derive(Debug, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    effective: String,
    /// The bank's or processor's reference of the buyer's payment (settling a sale).
    #[serde(default)]
    payment_reference: String,
    /// A checkbox: present when the sale's price is to stay confidential.
    #[serde(default)]
    confidential: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct EntryForm {
    #[serde(default)]
    csrf: String,
    /// For a new entry: the section it goes to.
    #[serde(default)]
    section: String,
    #[serde(default)]
    title_en: String,
    #[serde(default)]
    body_en: String,
    #[serde(default)]
    title_ja: String,
    #[serde(default)]
    body_ja: String,
}

// ------------------------------------------------------------------ helpers

fn when(l: Lang, t: Timestamp) -> String {
    l.when(&furrow_app::rfc3339(t))
}

/// The catalogue key of a section of the program's pages.
pub fn section_title(section: &str) -> &'static str {
    match section {
        "about" => "program.title",
        "companies" => "program.for_companies",
        "farmers" => "program.for_farmers",
        _ => "review.section_page",
    }
}

/// The message shown after a successful action (`?done=`); anything else shows nothing.
fn done_notice(query: Option<&str>) -> Option<&'static str> {
    let value = query?.split('&').filter_map(|kv| kv.split_once('=')).find(|(k, _)| *k == "done")?.1;
    Some(match value {
        "approved" => "review.done_approved",
        "verified" => "review.done_verified",
        "returned" => "review.done_returned",
        "refused" => "review.done_refused",
        "saved" => "review.done_saved",
        "settled" => "review.done_settled",
        _ => return None,
    })
}

fn malformed() -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid-form", "the form is malformed")
}

fn csrf_mismatch() -> ApiError {
    forbidden("the form's CSRF token does not match this session")
}

fn credits(l: Lang, selection: &Selection) -> String {
    match selection {
        Selection::Quantity { quantity, batch: None } => l.tonnes(&quantity.0),
        Selection::Quantity { quantity, batch: Some(b) } => format!("{} ({b})", l.tonnes(&quantity.0)),
        Selection::Ranges(ranges) => ranges.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
    }
}

// ------------------------------------------------------------------ the queues

/// What waits for the reader, by role: operators see the four-eyes approvals and withdrawals,
/// admins the role grants, verifiers the submitted reports of the projects assigned to them.
fn fill_queues(page: &mut QueuePage, lc: &Lifecycle, subject: &str) {
    let l = page.l;
    if page.operator {
        page.issuance = lc
            .requests
            .values()
            .filter(|r| r.status == RequestStatus::Pending)
            .map(|r| {
                let report = lc.reports.get(&r.report);
                IssuanceItem {
                    id: r.id.to_string(),
                    report: r.report.to_string(),
                    project: report.map(|n| n.spec.project.to_string()).unwrap_or_default(),
                    period: report
                        .map(|n| {
                            format!(
                                "{} – {}",
                                l.date(&n.spec.period.from.to_string()),
                                l.date(&n.spec.period.to.to_string())
                            )
                        })
                        .unwrap_or_default(),
                    net: report
                        .and_then(|n| n.quantification.as_ref())
                        .map(|q| format!("{} t CO₂e", q.net.round_dp(2)))
                        .unwrap_or_default(),
                    requested_by: r.requested_by.clone(),
                    requested_at: when(l, r.requested_at),
                    own: r.requested_by == subject,
                }
            })
            .collect();
        let today = furrow_app::rfc3339(furrow_app::now()).get(..10).unwrap_or_default().to_owned();
        page.withdrawals = lc
            .enrolments
            .values()
            .filter(|e| e.status == EnrolmentStatus::WithdrawalRequested)
            .filter_map(|e| e.withdrawal.as_ref().map(|w| (e, w)))
            .map(|(e, w)| WithdrawalItem {
                enrolment: e.id.to_string(),
                project: e.project.to_string(),
                parcel: e.parcel.to_string(),
                participant: lc.participants.get(&e.participant).map(|p| p.pseudonym.clone()).unwrap_or_default(),
                ground: w.ground.clone(),
                requested_by: w.requested_by.clone(),
                today: today.clone(),
            })
            .collect();
        page.reversals = lc
            .reversals
            .values()
            .filter(|r| r.approval.is_none())
            .map(|r| ReversalItem {
                id: r.id.to_string(),
                project: r.project.to_string(),
                credits: l.tonnes(&r.quantity.0),
                note: r.note.clone(),
                requested_by: r.requested_by.clone(),
                requested_at: when(l, r.requested_at),
                own: r.requested_by == subject,
            })
            .collect();
        page.cancellations = lc
            .controls
            .cancellations
            .values()
            .filter(|r| r.approved_by.is_none())
            .map(|r| CancellationItem {
                id: r.id.to_string(),
                from: r.from.to_string(),
                credits: credits(l, &r.selection),
                reason: r.reason.to_string(),
                note: r.note.clone(),
                requested_by: r.requested_by.clone(),
                own: r.requested_by == subject,
            })
            .collect();
    }
    if page.operator {
        page.sales = sales_awaiting_payment(l, lc);
    }
    if page.admin {
        page.rotations = lc
            .key_rotations
            .values()
            .filter(|r| r.approved_by.is_none())
            .map(|r| RotationItem {
                id: r.id.to_string(),
                reason: r.reason.clone(),
                requested_by: r.requested_by.clone(),
                requested_at: when(l, r.requested_at),
                own: r.requested_by == subject,
            })
            .collect();
    }
    if page.verifier {
        page.reports = lc
            .reports
            .values()
            .filter(|n| n.status == ReportStatus::Submitted)
            .filter_map(|n| lc.projects.get(&n.spec.project).map(|p| (n, p)))
            .filter(|(_, p)| p.verifier.as_deref() == Some(subject))
            .map(|(n, p)| ReportItem {
                id: n.id.to_string(),
                project: p.code.to_string(),
                project_name: p.spec.name.clone(),
                period: format!(
                    "{} – {}",
                    l.date(&n.spec.period.from.to_string()),
                    l.date(&n.spec.period.to.to_string())
                ),
                parcels: n.spec.activity.len(),
                evidence: n.spec.evidence.len(),
            })
            .collect();
    }
}

/// How staff read a log actor: a signed-in user's pseudonym `user-{id}` with the e-mail address
/// (staff pages only; the public log shows the pseudonym alone), anyone else as recorded.
async fn person(state: &AppState, subject: &str) -> String {
    let id = subject.strip_prefix("user-").and_then(|n| n.parse::<u64>().ok());
    match id {
        Some(id) => match state.registry.store().user(id).await {
            Ok(Some(user)) => format!("{} ({subject})", user.email),
            _ => subject.to_owned(),
        },
        None => subject.to_owned(),
    }
}

async fn name_people(state: &AppState, page: &mut QueuePage) {
    for r in &mut page.issuance {
        r.requested_by = person(state, &r.requested_by).await;
    }
    for w in &mut page.withdrawals {
        w.requested_by = person(state, &w.requested_by).await;
    }
    for r in &mut page.reversals {
        r.requested_by = person(state, &r.requested_by).await;
    }
    for r in &mut page.cancellations {
        r.requested_by = person(state, &r.requested_by).await;
    }
    for r in &mut page.rotations {
        r.requested_by = person(state, &r.requested_by).await;
    }
}

/// The escrowed sales, oldest first, with the claim each buyer stated.
fn sales_awaiting_payment(l: Lang, lc: &Lifecycle) -> Vec<SaleItem> {
    lc.sales
        .sales
        .values()
        .filter(|s| s.status == SaleStatus::Escrowed)
        .map(|s| SaleItem {
            id: s.id.to_string(),
            buyer: s.buyer.to_string(),
            batch: s.batch.to_string(),
            credits: l.tonnes(&s.quantity.0),
            gross: lc.sales.quotes.get(&s.quote).map(|q| l.money(&q.breakdown.gross)).unwrap_or_default(),
            expires_at: when(l, s.expires_at),
            claim: s.claim.as_ref().map(|c| {
                let purpose = match l.word(c.purpose.as_str()) {
                    "" => c.purpose.to_string(),
                    word => word.to_owned(),
                };
                format!(
                    "{} · {purpose} · {} – {}",
                    c.beneficiary.name,
                    l.date(&c.claim_period.from.to_string()),
                    l.date(&c.claim_period.to.to_string())
                )
            }),
        })
        .collect()
}

async fn queue_page(
    state: &AppState,
    reader: &Reader,
    session: &Session,
    notice: Option<&'static str>,
    refusal: Option<(StatusCode, Refusal)>,
) -> Response {
    let principal = &session.principal;
    let role = principal.role;
    if !matches!(role, Role::Operator | Role::Admin | Role::Verifier) {
        let error = ApiError::new(StatusCode::FORBIDDEN, "forbidden", reader.lang.t("review.not_staff"));
        return private(reader.fail(state, error).await);
    }
    let (status, refusal) = match refusal {
        Some((status, r)) => (status, Some(r)),
        None => (StatusCode::OK, None),
    };
    let mut page = QueuePage {
        l: reader.lang,
        c: reader.chrome(state).await,
        csrf: session.csrf.clone(),
        operator: role == Role::Operator,
        admin: role == Role::Admin,
        verifier: role == Role::Verifier,
        weak: !principal.proof.is_strong() && role != Role::Verifier,
        notice,
        refusal,
        issuance: Vec::new(),
        withdrawals: Vec::new(),
        reversals: Vec::new(),
        cancellations: Vec::new(),
        roles: Vec::new(),
        rotations: Vec::new(),
        reports: Vec::new(),
        sales: Vec::new(),
        can_edit: may_edit(principal),
    };
    fill_queues(&mut page, &state.registry.lifecycle(), &principal.subject);
    name_people(state, &mut page).await;
    if page.admin {
        match state.registry.role_requests(principal).await {
            Ok(requests) => {
                for r in requests.into_iter().filter(|r| r.approved_at.is_none()) {
                    page.roles.push(RoleItem {
                        id: r.id.to_string(),
                        user: person(state, &format!("user-{}", r.user)).await,
                        role: r.role.to_string(),
                        own: r.requested_by == principal.subject,
                        requested_by: person(state, &r.requested_by).await,
                        requested_at: when(reader.lang, r.requested_at),
                    });
                }
            }
            Err(e) => return reader.fail(state, e.into()).await,
        }
    }
    let mut response = private(render(&page));
    *response.status_mut() = status;
    response
}

/// `GET /review`: the reader's queues.
pub async fn queues(State(state): State<AppState>, reader: Reader, headers: HeaderMap) -> Response {
    let Some(session) = signed_in(&state, &headers).await else { return see_other("/signin", None) };
    queue_page(&state, &reader, &session, done_notice(reader.query.as_deref()), None).await
}

/// What a queue's button asks for.
enum Action {
    Lifecycle(Box<LifecycleCommand>),
    /// Role grants are access configuration, not registry state (`Registry::approve_role`).
    ApproveRole(u64),
    /// Settling a sale retires its credits with the claim the buyer stated (`SalesCommand::Settle`).
    Settle {
        sale: SaleId,
        payment_reference: String,
        confidential: bool,
    },
}

/// The action a form names (`/review/{kind}/{id}/{action}`), and the notice shown after it.
fn action(kind: &str, id: &str, verb: &str, form: &ActionForm) -> Result<(Action, &'static str), ApiError> {
    use LifecycleCommand as C;
    let reason = form.reason.trim().to_owned();
    let run = |command: LifecycleCommand| Action::Lifecycle(Box::new(command));
    let number = || id.parse::<u64>().map_err(|_| ApiError::invalid(format!("{id:?} is not a request number")));
    Ok(match (kind, verb) {
        ("issuance", "approve") => (run(C::ApproveIssuance { request: parse(id)? }), "approved"),
        ("reversals", "approve") => (run(C::ApproveReversal { reversal: parse(id)? }), "approved"),
        ("cancellations", "approve") => (run(C::ApproveCancellation { request: number()? }), "approved"),
        ("withdrawals", "approve") => {
            let effective = Some(parse::<Date>(form.effective.trim())?);
            (run(C::DecideWithdrawal { enrolment: parse(id)?, effective, reason }), "approved")
        }
        ("withdrawals", "refuse") => {
            (run(C::DecideWithdrawal { enrolment: parse(id)?, effective: None, reason }), "refused")
        }
        ("reports", "verify") => (run(C::VerifyReport { report: parse(id)? }), "verified"),
        ("reports", "return") => (run(C::ReturnReport { report: parse(id)?, reason }), "returned"),
        ("roles", "approve") => (Action::ApproveRole(number()?), "approved"),
        ("key-rotations", "approve") => (run(C::ApproveKeyRotation { rotation: parse(id)? }), "approved"),
        ("sales", "settle") => (
            Action::Settle {
                sale: parse(id)?,
                payment_reference: form.payment_reference.trim().to_owned(),
                confidential: form.confidential.is_some(),
            },
            "settled",
        ),
        _ => return Err(ApiError::not_found("no such review action")),
    })
}

async fn perform(state: &AppState, session: &Session, action: Action) -> Result<(), (AppError, bool)> {
    let principal = &session.principal;
    match action {
        Action::Lifecycle(command) => {
            let command = Command::Lifecycle { by: principal.subject.clone(), command: *command };
            let second = needs_second_factor(&command);
            state.registry.execute(principal, command, None).await.map(drop).map_err(|e| (e, second))
        }
        Action::ApproveRole(id) => state.registry.approve_role(principal, id).await.map(drop).map_err(|e| (e, true)),
        Action::Settle { sale, payment_reference, confidential } => {
            // The claim is the buyer's, never typed by the operator: without one there is
            // nothing to settle with yet.
            let claim = state.registry.lifecycle().sales.sales.get(&sale).and_then(|s| s.claim.clone());
            let Some(claim) = claim else {
                return Err((
                    AppError::Domain(DomainError::Invalid(format!(
                        "the buyer of sale {sale} has not stated whom the credits are retired for yet"
                    ))),
                    false,
                ));
            };
            let command = SalesCommand::Settle { sale, claim, payment_reference, confidential };
            let command = Command::Sales { by: principal.subject.clone(), command };
            let second = needs_second_factor(&command);
            state.registry.execute(principal, command, None).await.map(drop).map_err(|e| (e, second))
        }
    }
}

/// `POST /review/{kind}/{id}/{action}`: approve, verify, return or refuse one item.
pub async fn act(
    State(state): State<AppState>,
    reader: Reader,
    headers: HeaderMap,
    Path((kind, id, verb)): Path<(String, String, String)>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    let Some(session) = signed_in(&state, &headers).await else { return see_other("/signin", None) };
    let Ok(Form(form)) = form else { return reader.fail(&state, malformed()).await };
    if !same_origin(&headers) || !same_secret(&form.csrf, &session.csrf) {
        return reader.fail(&state, csrf_mismatch()).await;
    }
    let refused = |e: ApiError, totp: bool| (e.status, Refusal { detail: e.detail, totp });
    let (action, done) = match action(&kind, &id, &verb, &form) {
        Ok(found) => found,
        Err(e) if e.status == StatusCode::NOT_FOUND => return reader.fail(&state, e).await,
        Err(e) => return queue_page(&state, &reader, &session, None, Some(refused(e, false))).await,
    };
    match perform(&state, &session, action).await {
        Ok(()) => see_other(&format!("/review?done={done}"), None),
        Err((e, second)) => {
            let totp = second && matches!(e, AppError::Forbidden(_)) && !session.principal.proof.is_strong();
            let e = ApiError::from(e);
            if e.status.is_server_error() {
                return reader.fail(&state, e).await;
            }
            queue_page(&state, &reader, &session, None, Some(refused(e, totp))).await
        }
    }
}

// ------------------------------------------------------------------ the program's pages

/// The session of a program-staff reader, or the response to send instead.
async fn editor(state: &AppState, reader: &Reader, headers: &HeaderMap) -> Result<Session, Response> {
    let Some(session) = signed_in(state, headers).await else { return Err(see_other("/signin", None)) };
    if !may_edit(&session.principal) {
        let error = ApiError::new(StatusCode::FORBIDDEN, "forbidden", reader.lang.t("review.not_editor"));
        return Err(private(reader.fail(state, error).await));
    }
    Ok(session)
}

/// `GET /review/program`: every entry of the program's pages, with a link to edit it.
pub async fn program_entries(State(state): State<AppState>, reader: Reader, headers: HeaderMap) -> Response {
    if let Err(response) = editor(&state, &reader, &headers).await {
        return response;
    }
    let l = reader.lang;
    let entries = match state.registry.program_entries().await {
        Ok(entries) => entries,
        Err(e) => return reader.fail(&state, e.into()).await,
    };
    let mut sections = Vec::new();
    for section in SECTIONS {
        let mut rows = Vec::new();
        for e in entries.iter().filter(|e| e.section == section) {
            rows.push(EntryRow {
                id: e.id,
                title: if l == Lang::Ja { e.title_ja.clone() } else { e.title_en.clone() },
                updated_by: person(&state, &e.updated_by).await,
                updated_at: when(l, e.updated_at),
            });
        }
        sections.push(EntrySection { code: section, title: section_title(section), entries: rows });
    }
    let page =
        ProgramListPage { l, c: reader.chrome(&state).await, notice: done_notice(reader.query.as_deref()), sections };
    private(render(&page))
}

/// The form for an entry: a stored one (`Some`), or a new one in `section`.
async fn entry_page(
    state: &AppState,
    reader: &Reader,
    session: &Session,
    entry: Option<&ProgramEntry>,
    section: &str,
    texts: ProgramTexts,
    error: Option<String>,
) -> Response {
    let l = reader.lang;
    let page = EntryPage {
        l,
        c: reader.chrome(state).await,
        csrf: session.csrf.clone(),
        action: entry.map_or("/review/program/new".to_owned(), |e| format!("/review/program/{}", e.id)),
        section_code: section.to_owned(),
        section: section_title(section),
        texts,
        updated_by: entry.map(|e| e.updated_by.clone()).unwrap_or_default(),
        updated_at: entry.map(|e| when(l, e.updated_at)).unwrap_or_default(),
        error,
    };
    private(render(&page))
}

fn empty_texts() -> ProgramTexts {
    ProgramTexts { title_en: String::new(), body_en: String::new(), title_ja: String::new(), body_ja: String::new() }
}

/// `GET /review/program/new?section=…`: an empty form for a new entry at the end of a section.
pub async fn new_program_entry(State(state): State<AppState>, reader: Reader, headers: HeaderMap) -> Response {
    let session = match editor(&state, &reader, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let query = reader.query.as_deref().unwrap_or("");
    let section = query.split('&').filter_map(|kv| kv.split_once('=')).find(|(k, _)| *k == "section").map(|kv| kv.1);
    match section.filter(|s| SECTIONS.contains(s)) {
        Some(section) => entry_page(&state, &reader, &session, None, section, empty_texts(), None).await,
        None => reader.fail(&state, ApiError::not_found("no such section of the program's pages")).await,
    }
}

/// `POST /review/program/new`: adds the entry; an invalid text shows the form again (422).
pub async fn add_program_entry(
    State(state): State<AppState>,
    reader: Reader,
    headers: HeaderMap,
    form: Result<Form<EntryForm>, FormRejection>,
) -> Response {
    let session = match editor(&state, &reader, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let Ok(Form(form)) = form else { return reader.fail(&state, malformed()).await };
    if !same_origin(&headers) || !same_secret(&form.csrf, &session.csrf) {
        return reader.fail(&state, csrf_mismatch()).await;
    }
    let texts =
        ProgramTexts { title_en: form.title_en, body_en: form.body_en, title_ja: form.title_ja, body_ja: form.body_ja };
    match state.registry.add_program_entry(&session.principal, &form.section, &texts).await {
        Ok(_) => see_other("/review/program?done=saved", None),
        Err(AppError::Invalid(detail)) if SECTIONS.contains(&form.section.as_str()) => {
            let mut response = entry_page(&state, &reader, &session, None, &form.section, texts, Some(detail)).await;
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            response
        }
        Err(e) => reader.fail(&state, e.into()).await,
    }
}

async fn stored_entry(state: &AppState, id: &str) -> Result<ProgramEntry, ApiError> {
    let id: u64 = id.parse().map_err(|_| ApiError::not_found(format!("no program page entry {id:?}")))?;
    let entries = state.registry.program_entries().await?;
    entries.into_iter().find(|e| e.id == id).ok_or_else(|| ApiError::not_found(format!("no program page entry {id}")))
}

/// `GET /review/program/{id}`: the form for one entry, both languages side by side.
pub async fn program_entry(
    State(state): State<AppState>,
    reader: Reader,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let session = match editor(&state, &reader, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    match stored_entry(&state, &id).await {
        Ok(entry) => {
            let texts = ProgramTexts {
                title_en: entry.title_en.clone(),
                body_en: entry.body_en.clone(),
                title_ja: entry.title_ja.clone(),
                body_ja: entry.body_ja.clone(),
            };
            entry_page(&state, &reader, &session, Some(&entry), &entry.section, texts, None).await
        }
        Err(e) => reader.fail(&state, e).await,
    }
}

/// `POST /review/program/{id}`: saves one entry; an invalid text shows the form again (422)
/// with what was typed.
pub async fn save_program_entry(
    State(state): State<AppState>,
    reader: Reader,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<EntryForm>, FormRejection>,
) -> Response {
    let session = match editor(&state, &reader, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let Ok(Form(form)) = form else { return reader.fail(&state, malformed()).await };
    if !same_origin(&headers) || !same_secret(&form.csrf, &session.csrf) {
        return reader.fail(&state, csrf_mismatch()).await;
    }
    let entry = match stored_entry(&state, &id).await {
        Ok(entry) => entry,
        Err(e) => return reader.fail(&state, e).await,
    };
    let texts =
        ProgramTexts { title_en: form.title_en, body_en: form.body_en, title_ja: form.title_ja, body_ja: form.body_ja };
    match state.registry.edit_program_entry(&session.principal, entry.id, &texts).await {
        Ok(_) => see_other("/review/program?done=saved", None),
        Err(AppError::Invalid(detail)) => {
            let mut response =
                entry_page(&state, &reader, &session, Some(&entry), &entry.section, texts, Some(detail)).await;
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            response
        }
        Err(e) => reader.fail(&state, e.into()).await,
    }
}
