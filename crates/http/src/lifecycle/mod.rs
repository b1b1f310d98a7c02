//! The program lifecycle's routes: methodologies, projects and their transitions, join
//! applications, participants and parcels, enrolments and withdrawals, monitoring reports,
//! four-eyes issuance, reversals and batch labels. Reads come from the application's committed
//! lifecycle snapshot (`Registry::lifecycle`); mutations go through `Registry::execute` as
//! `Command::Lifecycle`, with the token's subject as the acting user. No rules live here.

pub mod dto;
pub mod ecology;

use std::collections::BTreeMap;
use std::ops::Bound;

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::Response;
use furrow_app::Principal;
use furrow_app::store::Page;
use furrow_domain::lifecycle::*;
use furrow_domain::*;

use self::dto::*;
use crate::AppState;
use crate::dto::PageOf;
use crate::error::{ApiError, Problem};
use crate::extract::{Auth, IdempotencyKey, JsonBody, Path, Query};
use crate::handlers::{created, page, parse};

// ------------------------------------------------------------------ plumbing

/// The caller of a read, if it sent a token: decides whether personal data is shown.
pub struct Viewer(Option<Principal>);

impl FromRequestParts<AppState> for Viewer {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if !parts.headers.contains_key(header::AUTHORIZATION) {
            // A signed-in browser sees what its user may; a dead session reads as the public,
            // since these reads are public anyway.
            let Some(id) = crate::extract::session_cookie(&parts.headers) else { return Ok(Self(None)) };
            return Ok(Self(state.registry.session(&id).await.ok().map(|s| s.principal)));
        }
        crate::extract::bearer(parts, state, furrow_app::Access::Read).await.map(|p| Self(Some(p)))
    }
}

impl Viewer {
    pub fn principal(&self) -> Option<&Principal> {
        self.0.as_ref()
    }

    /// Staff see personal data; a participant sees its own; the public sees none (SPEC §1).
    fn sees(&self, lifecycle: &Lifecycle, participant: Option<ParticipantId>) -> bool {
        match &self.0 {
            None => false,
            Some(p) if matches!(p.role, Role::Admin | Role::Operator | Role::Verifier) => true,
            Some(p) => participant.is_some_and(|id| furrow_app::owns_participant(p, lifecycle, id)),
        }
    }
}

/// Runs a lifecycle command as the caller and answers what it did.
pub(crate) async fn run(
    state: &AppState,
    principal: &Principal,
    key: Option<furrow_app::RequestKey>,
    command: LifecycleCommand,
) -> Result<Response, ApiError> {
    let command = Command::Lifecycle { by: principal.subject.clone(), command };
    let committed = state.registry.execute(principal, command, key).await?;
    Ok(created(&committed, action(&committed.entries)))
}

/// Describes a command's result from its log entries alone, so an idempotent replay answers the
/// same body.
fn action(entries: &[LogEntry]) -> ActionDto {
    use LifecycleEvent as E;
    let mut dto = ActionDto {
        entries: entries.iter().map(|e| EntryRefDto { index: e.index, kind: e.event.kind().into() }).collect(),
        id: String::new(),
        status: None,
        batch: None,
        cancellation: None,
    };
    for entry in entries {
        let (id, status): (String, Option<String>) = match &entry.event {
            Event::BatchIssued(b) => {
                dto.batch = Some(b.id.to_string());
                continue;
            }
            Event::Cancelled { id, .. } => {
                dto.cancellation = Some(id.to_string());
                continue;
            }
            Event::Lifecycle(event) => match event {
                E::WithdrawalGroundsConfigured { .. } => ("withdrawal-grounds".into(), None),
                E::MethodologyDrafted { id, .. } => (id.to_string(), Some("draft".into())),
                E::MethodologyChanged { id, status, .. } => (id.to_string(), Some(status.to_string())),
                E::ProjectDrafted { code, .. } => (code.to_string(), Some("draft".into())),
                E::ProjectTransitioned { project, status, .. } => (project.to_string(), Some(status.to_string())),
                E::ParticipationSet { project, participation, .. } => {
                    (project.to_string(), Some(if participation.is_some() { "open" } else { "closed" }.into()))
                }
                E::ApplicationReceived { id, .. } => (id.to_string(), Some("pending".into())),
                E::ApplicationDecided { id, participant, .. } => {
                    (id.to_string(), Some(if participant.is_some() { "accepted" } else { "declined" }.into()))
                }
                E::ParticipantRegistered { id, .. } => (id.to_string(), None),
                E::ParcelRegistered { id, .. } => (id.to_string(), None),
                E::Enrolled { id, .. } => (id.to_string(), Some("active".into())),
                E::ReportDrafted { id, .. } => (id.to_string(), Some("draft".into())),
                E::ReportChanged { id, status, .. } => (id.to_string(), Some(status.to_string())),
                E::IssuanceRequested { id, .. } => (id.to_string(), Some("pending".into())),
                E::IssuanceApproved { id, .. } => (id.to_string(), Some("approved".into())),
                E::ReversalRequested { id, .. } => (id.to_string(), Some("pending".into())),
                E::KeyRotationRequested { id, .. } => (id.to_string(), Some("pending".into())),
                E::KeyRotationApproved { id, .. } => (id.to_string(), Some("approved".into())),
                E::ReversalRecorded { id, .. } => (id.to_string(), Some("approved".into())),
                E::WithdrawalRequested { enrolment, .. } => {
                    (enrolment.to_string(), Some("withdrawal_requested".into()))
                }
                E::WithdrawalDecided { enrolment, effective, .. } => {
                    (enrolment.to_string(), Some(if effective.is_some() { "withdrawn" } else { "active" }.into()))
                }
                E::LabelAdded { batch, .. } => (batch.to_string(), None),
                E::ControlsConfigured { .. } => ("controls".into(), None),
                E::AccountFrozen { account, frozen, .. } => {
                    (account.to_string(), Some(if *frozen { "frozen" } else { "unfrozen" }.into()))
                }
                E::SerialsFrozen { range, frozen, .. } => {
                    (range.to_string(), Some(if *frozen { "frozen" } else { "unfrozen" }.into()))
                }
                E::CounterpartyProposed { counterparty, .. } => (counterparty.to_string(), Some("proposed".into())),
                E::CounterpartyApproved { counterparty, .. } => (counterparty.to_string(), Some("approved".into())),
                E::CounterpartyRemoved { counterparty, .. } => (counterparty.to_string(), Some("removed".into())),
                E::CancellationRequested { id, .. } => (id.to_string(), Some("pending".into())),
                E::CancellationApproved { id, .. } => (id.to_string(), Some("approved".into())),
                // Sales events are answered by the sales routes (`crate::sales`).
                _ => continue,
            },
            _ => continue,
        };
        // Accepting an application also registers a participant, parcels and enrolments: the
        // last lifecycle entry names the object the command was about.
        dto.id = id;
        dto.status = status;
    }
    dto
}

/// One page of a lifecycle collection, keyed by the id's number, of the items `keep` accepts (the
/// same cursor rules as every list: `next_cursor` on every full page).
fn page_of<K: Ord + Copy, V, D>(
    map: &BTreeMap<K, V>,
    q: &ListParams,
    key: impl Fn(K) -> u64,
    from: impl Fn(u64) -> K,
    keep: impl Fn(&V) -> bool,
    render: impl Fn(&V) -> D,
) -> Result<PageOf<D>, ApiError> {
    let page: Page = page(q.cursor.as_deref(), q.limit)?;
    let lower = page.after.map_or(Bound::Unbounded, |a| Bound::Excluded(from(a)));
    let chosen: Vec<(&K, &V)> =
        map.range((lower, Bound::Unbounded)).filter(|(_, v)| keep(v)).take(page.limit as usize).collect();
    let full = chosen.len() as u32 == page.limit;
    let next_cursor = chosen.last().filter(|_| full).map(|(k, _)| key(**k).to_string());
    Ok(PageOf { items: chosen.into_iter().map(|(_, v)| render(v)).collect(), next_cursor })
}

fn invalid_query(detail: String) -> ApiError {
    ApiError::new(axum::http::StatusCode::BAD_REQUEST, "invalid-query", detail)
}

impl ListParams {
    /// Refuses the filters a list does not have, rather than ignoring them.
    fn only(&self, allowed: &[&str]) -> Result<(), ApiError> {
        let given = [
            ("project", self.project.is_some()),
            ("status", self.status.is_some()),
            ("participant", self.participant.is_some()),
        ];
        match given.iter().find(|(name, set)| *set && !allowed.contains(name)) {
            Some((name, _)) => Err(invalid_query(format!("this list has no `{name}` filter"))),
            None => Ok(()),
        }
    }
    fn project(&self) -> Result<Option<ProjectCode>, ApiError> {
        self.project.as_deref().map(|p| p.parse().map_err(|e: ParseError| invalid_query(e.to_string()))).transpose()
    }
    fn participant(&self) -> Result<Option<ParticipantId>, ApiError> {
        self.participant.as_deref().map(|p| p.parse().map_err(|e: ParseError| invalid_query(e.to_string()))).transpose()
    }
    fn status<T: std::str::FromStr<Err = ParseError>>(&self) -> Result<Option<T>, ApiError> {
        self.status.as_deref().map(|s| s.parse().map_err(|e: ParseError| invalid_query(e.to_string()))).transpose()
    }
}

fn found<T>(value: Option<T>, what: impl std::fmt::Display) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::not_found(what.to_string()))
}

// ------------------------------------------------------------------ methodologies

/// The methodology catalogue, every version.
#[utoipa::path(get, path = "/methodologies", tag = "lifecycle", params(ListParams),
    responses((status = 200, body = PageOf<MethodologyDto>), (status = 400, body = Problem)))]
pub async fn list_methodologies(
    State(state): State<AppState>,
    Query(q): Query<ListParams>,
) -> Result<Json<PageOf<MethodologyDto>>, ApiError> {
    let lc = state.registry.lifecycle();
    q.only(&["status"])?;
    let status = q.status::<MethodologyStatus>()?;
    let keep = |m: &Methodology| status.is_none_or(|s| m.status == s);
    Ok(Json(page_of(&lc.methodologies, &q, |k| k.0, MethodologyId, keep, MethodologyDto::of)?))
}

/// One methodology version.
#[utoipa::path(get, path = "/methodologies/{id}", tag = "lifecycle", params(("id" = String, Path, description = "e.g. M0001")),
    responses((status = 200, body = MethodologyDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn get_methodology(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<MethodologyDto>, ApiError> {
    let id: MethodologyId = parse(&id)?;
    let lc = state.registry.lifecycle();
    Ok(Json(MethodologyDto::of(found(lc.methodologies.get(&id), format!("methodology {id}"))?)))
}

/// Drafts a methodology version (operator). An approved version never changes: a change is a new version.
#[utoipa::path(post, path = "/methodologies", tag = "lifecycle", request_body = MethodologyRequest,
    params(("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = ActionDto), (status = 401, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn draft_methodology(
    State(state): State<AppState>,
    Auth(principal): Auth,
    key: IdempotencyKey,
    body: JsonBody<MethodologyRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    let spec = body.value.into_domain()?;
    run(&state, &principal, key, LifecycleCommand::DraftMethodology { spec }).await
}

/// Moves a methodology version: `approve` (draft → approved) or `deprecate` (approved → deprecated).
#[utoipa::path(post, path = "/methodologies/{id}/{action}", tag = "lifecycle", request_body = ReasonRequest,
    params(("id" = String, Path), ("action" = String, Path, description = "`approve` or `deprecate`"), ("Idempotency-Key" = Option<String>, Header)),
    security(("bearer" = [])),
    responses((status = 201, body = ActionDto), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn change_methodology(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path((id, action)): Path<(String, String)>,
    key: IdempotencyKey,
    body: JsonBody<ReasonRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    let id: MethodologyId = parse(&id)?;
    let command = match action.as_str() {
        "approve" => LifecycleCommand::ApproveMethodology { id },
        "deprecate" => LifecycleCommand::DeprecateMethodology { id },
        _ => return Err(ApiError::not_found("a methodology takes `approve` or `deprecate`")),
    };
    run(&state, &principal, key, command).await
}

// ------------------------------------------------------------------ projects

/// Projects with their state and history.
#[utoipa::path(get, path = "/projects", tag = "lifecycle", params(ListParams),
    responses((status = 200, body = PageOf<ProjectDto>), (status = 400, body = Problem)))]
pub async fn list_projects(
    State(state): State<AppState>,
    Query(q): Query<ListParams>,
) -> Result<Json<PageOf<ProjectDto>>, ApiError> {
    let lc = state.registry.lifecycle();
    q.only(&["status"])?;
    let status = q.status::<ProjectStatus>()?;
    let keep = |p: &Project| status.is_none_or(|s| p.status == s);
    Ok(Json(page_of(&lc.projects, &q, |k| k.0, ProjectCode, keep, ProjectDto::of)?))
}

/// One project.
#[utoipa::path(get, path = "/projects/{code}", tag = "lifecycle", params(("code" = String, Path, description = "e.g. P0001")),
    responses((status = 200, body = ProjectDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn get_project(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<ProjectDto>, ApiError> {
    let code: ProjectCode = parse(&code)?;
    let lc = state.registry.lifecycle();
    Ok(Json(ProjectDto::of(found(lc.projects.get(&code), format!("project {code}"))?)))
}

/// Drafts a project under an approved methodology version (operator).
#[utoipa::path(post, path = "/projects", tag = "lifecycle", request_body = ProjectRequest,
    params(("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = ActionDto), (status = 401, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn draft_project(
    State(state): State<AppState>,
    Auth(principal): Auth,
    key: IdempotencyKey,
    body: JsonBody<ProjectRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    let r = &body.value;
    let spec = ProjectSpec {
        name: r.name.clone(),
        methodology: parse(&r.methodology)?,
        country: parse(&r.country)?,
        region: r.region.clone(),
        crediting: r.crediting_period.parse()?,
    };
    run(&state, &principal, key, LifecycleCommand::DraftProject { spec }).await
}

/// Moves a project: `submit`, `validate` (verifier), `reject` (verifier or operator), `register`,
/// `complete`, `terminate` (operator). Each transition is logged with actor, time and reason.
#[utoipa::path(post, path = "/projects/{code}/transitions", tag = "lifecycle", request_body = TransitionRequest,
    params(("code" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = ActionDto), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn transition_project(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(code): Path<String>,
    key: IdempotencyKey,
    body: JsonBody<TransitionRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    let command = LifecycleCommand::TransitionProject {
        project: parse(&code)?,
        action: parse(&body.value.action)?,
        reason: body.value.reason.clone(),
    };
    run(&state, &principal, key, command).await
}

/// Assigns the project's verifier (operator): from then on only that verifier validates the
/// project and verifies or returns its reports (403 `not-assigned` for any other).
#[utoipa::path(post, path = "/projects/{code}/verifier", tag = "lifecycle", request_body = VerifierRequest,
    params(("code" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = ActionDto), (status = 401, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn assign_verifier(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(code): Path<String>,
    key: IdempotencyKey,
    body: JsonBody<VerifierRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    let command = LifecycleCommand::AssignVerifier { project: parse(&code)?, verifier: body.value.verifier.clone() };
    run(&state, &principal, key, command).await
}

/// Opens a registered project for participation, with its dates and conditions, or closes it.
#[utoipa::path(post, path = "/projects/{code}/participation", tag = "lifecycle", request_body = ParticipationRequest,
    params(("code" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = ActionDto), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn set_participation(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(code): Path<String>,
    key: IdempotencyKey,
    body: JsonBody<ParticipationRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    let project = parse(&code)?;
    let participation = body.value.into_domain()?;
    run(&state, &principal, key, LifecycleCommand::SetParticipation { project, participation }).await
}

/// Applies to join a project open for participation: the farm, its parcels and a contact. An
/// operator records it for a farmer without an account; a participant applies as itself.
#[utoipa::path(post, path = "/projects/{code}/applications", tag = "lifecycle", request_body = ApplicationRequest,
    params(("code" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = ActionDto), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn apply_to_join(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(code): Path<String>,
    key: IdempotencyKey,
    body: JsonBody<ApplicationRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    let r = &body.value;
    let command = LifecycleCommand::ApplyToJoin {
        project: parse(&code)?,
        applicant: r.applicant.as_deref().map(parse).transpose()?,
        application: ApplicationPrivate {
            farm: r.farm.clone().into_domain(),
            parcels: r.parcels.iter().map(ParcelInputDto::to_domain).collect::<Result<_, _>>()?,
        },
        salt: [0; 32],
    };
    run(&state, &principal, key, command).await
}

// ------------------------------------------------------------------ applications

/// Join applications: staff see the farm's details; a participant sees its own; the public, the
/// project, size, prefecture and status only.
#[utoipa::path(get, path = "/applications", tag = "lifecycle", params(ListParams),
    responses((status = 200, body = PageOf<ApplicationDto>), (status = 400, body = Problem)))]
pub async fn list_applications(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<ListParams>,
) -> Result<Json<PageOf<ApplicationDto>>, ApiError> {
    let lc = state.registry.lifecycle();
    let render = |a: &Application| ApplicationDto::of(a, viewer.sees(&lc, a.applicant.or(a.participant)));
    q.only(&["project", "status"])?;
    let (project, status) = (q.project()?, q.status::<ApplicationStatus>()?);
    let keep = |a: &Application| project.is_none_or(|p| a.project == p) && status.is_none_or(|s| a.status == s);
    Ok(Json(page_of(&lc.applications, &q, |k| k.0, ApplicationId, keep, render)?))
}

/// One join application.
#[utoipa::path(get, path = "/applications/{id}", tag = "lifecycle", params(("id" = String, Path, description = "e.g. J000001")),
    responses((status = 200, body = ApplicationDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn get_application(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Json<ApplicationDto>, ApiError> {
    let id: ApplicationId = parse(&id)?;
    let lc = state.registry.lifecycle();
    let a = found(lc.applications.get(&id), format!("application {id}"))?;
    Ok(Json(ApplicationDto::of(a, viewer.sees(&lc, a.applicant.or(a.participant)))))
}

/// Accepts an application (operator): creates the participant (unless it is one), its parcels and
/// their enrolments for the contract period, refusing parcels that overlap active enrolments.
#[utoipa::path(post, path = "/applications/{id}/accept", tag = "lifecycle", request_body = AcceptRequest,
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = ActionDto), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn accept_application(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(id): Path<String>,
    key: IdempotencyKey,
    body: JsonBody<AcceptRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    let command = LifecycleCommand::AcceptApplication {
        application: parse(&id)?,
        period: body.value.contract_period.parse()?,
        salt: [0; 32],
    };
    run(&state, &principal, key, command).await
}

/// Declines an application with a reason (operator).
#[utoipa::path(post, path = "/applications/{id}/decline", tag = "lifecycle", request_body = ReasonRequest,
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = ActionDto), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn decline_application(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(id): Path<String>,
    key: IdempotencyKey,
    body: JsonBody<ReasonRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    let command = LifecycleCommand::DeclineApplication { application: parse(&id)?, reason: body.value.reason.clone() };
    run(&state, &principal, key, command).await
}

// ------------------------------------------------------------------ participants and parcels

fn participant_dto(lc: &Lifecycle, viewer: &Viewer, p: &Participant) -> ParticipantDto {
    let personal = viewer.sees(lc, Some(p.id));
    ParticipantDto {
        id: p.id.to_string(),
        pseudonym: p.pseudonym.clone(),
        account: p.account.to_string(),
        prefecture: p.prefecture.clone(),
        person: p.person.data().filter(|_| personal).map(PersonDto::of),
    }
}

/// Participants: a pseudonym and prefecture for the public; names and contact for staff and the
/// participant itself.
#[utoipa::path(get, path = "/participants", tag = "lifecycle", params(ListParams),
    responses((status = 200, body = PageOf<ParticipantDto>), (status = 400, body = Problem)))]
pub async fn list_participants(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<ListParams>,
) -> Result<Json<PageOf<ParticipantDto>>, ApiError> {
    let lc = state.registry.lifecycle();
    let render = |p: &Participant| participant_dto(&lc, &viewer, p);
    q.only(&[])?;
    Ok(Json(page_of(&lc.participants, &q, |k| k.0, ParticipantId, |_| true, render)?))
}

/// One participant.
#[utoipa::path(get, path = "/participants/{id}", tag = "lifecycle", params(("id" = String, Path, description = "e.g. F000001")),
    responses((status = 200, body = ParticipantDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn get_participant(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Json<ParticipantDto>, ApiError> {
    let id: ParticipantId = parse(&id)?;
    let lc = state.registry.lifecycle();
    let p = found(lc.participants.get(&id), format!("participant {id}"))?;
    Ok(Json(participant_dto(&lc, &viewer, p)))
}

/// Registers a participant and opens its account, named by a pseudonym (operator).
#[utoipa::path(post, path = "/participants", tag = "lifecycle", request_body = ParticipantRequest,
    params(("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = ActionDto), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn register_participant(
    State(state): State<AppState>,
    Auth(principal): Auth,
    key: IdempotencyKey,
    body: JsonBody<ParticipantRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    let command = LifecycleCommand::RegisterParticipant {
        person: body.value.person.clone().into_domain(),
        prefecture: body.value.prefecture.clone(),
        salt: [0; 32],
    };
    run(&state, &principal, key, command).await
}

/// Registers a parcel of a participant: area, prefecture, municipality and GeoJSON polygon (operator).
#[utoipa::path(post, path = "/participants/{id}/parcels", tag = "lifecycle", request_body = ParcelInputDto,
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = ActionDto), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn register_parcel(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(id): Path<String>,
    key: IdempotencyKey,
    body: JsonBody<ParcelInputDto>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    let command =
        LifecycleCommand::RegisterParcel { participant: parse(&id)?, parcel: body.value.to_domain()?, salt: [0; 32] };
    run(&state, &principal, key, command).await
}

/// Parcels: area, prefecture, municipality and a coarse grid cell for the public; the exact
/// geometry and the field's name for staff and the owner.
#[utoipa::path(get, path = "/parcels", tag = "lifecycle", params(ListParams),
    responses((status = 200, body = PageOf<ParcelDto>), (status = 400, body = Problem)))]
pub async fn list_parcels(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<ListParams>,
) -> Result<Json<PageOf<ParcelDto>>, ApiError> {
    let lc = state.registry.lifecycle();
    let render = |p: &Parcel| ParcelDto::of(p, viewer.sees(&lc, Some(p.participant)));
    q.only(&["participant"])?;
    let participant = q.participant()?;
    let keep = |p: &Parcel| participant.is_none_or(|id| p.participant == id);
    Ok(Json(page_of(&lc.parcels, &q, |k| k.0, ParcelId, keep, render)?))
}

/// One parcel.
#[utoipa::path(get, path = "/parcels/{id}", tag = "lifecycle", params(("id" = String, Path, description = "e.g. L000001")),
    responses((status = 200, body = ParcelDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn get_parcel(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Json<ParcelDto>, ApiError> {
    let id: ParcelId = parse(&id)?;
    let lc = state.registry.lifecycle();
    let p = found(lc.parcels.get(&id), format!("parcel {id}"))?;
    Ok(Json(ParcelDto::of(p, viewer.sees(&lc, Some(p.participant)))))
}

// ------------------------------------------------------------------ enrolments and withdrawal

/// Enrolments of parcels in projects, with withdrawal state.
#[utoipa::path(get, path = "/enrolments", tag = "lifecycle", params(ListParams),
    responses((status = 200, body = PageOf<EnrolmentDto>), (status = 400, body = Problem)))]
pub async fn list_enrolments(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<ListParams>,
) -> Result<Json<PageOf<EnrolmentDto>>, ApiError> {
    let lc = state.registry.lifecycle();
    let render = |e: &Enrolment| EnrolmentDto::of(e, viewer.sees(&lc, Some(e.participant)));
    q.only(&["project", "status", "participant"])?;
    let (project, status, participant) = (q.project()?, q.status::<EnrolmentStatus>()?, q.participant()?);
    let keep = |e: &Enrolment| {
        project.is_none_or(|p| e.project == p)
            && status.is_none_or(|s| e.status == s)
            && participant.is_none_or(|id| e.participant == id)
    };
    Ok(Json(page_of(&lc.enrolments, &q, |k| k.0, EnrolmentId, keep, render)?))
}

/// One enrolment.
#[utoipa::path(get, path = "/enrolments/{id}", tag = "lifecycle", params(("id" = String, Path, description = "e.g. E000001")),
    responses((status = 200, body = EnrolmentDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn get_enrolment(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Json<EnrolmentDto>, ApiError> {
    let id: EnrolmentId = parse(&id)?;
    let lc = state.registry.lifecycle();
    let e = found(lc.enrolments.get(&id), format!("enrolment {id}"))?;
    Ok(Json(EnrolmentDto::of(e, viewer.sees(&lc, Some(e.participant)))))
}

/// Enrols a parcel in a registered project for a contract period (operator). A parcel whose
/// geometry overlaps one actively enrolled for an overlapping period is refused (409
/// `parcel-overlap`, naming the conflict), whatever its id or owner.
#[utoipa::path(post, path = "/enrolments", tag = "lifecycle", request_body = EnrolRequest,
    params(("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = ActionDto), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn enrol(
    State(state): State<AppState>,
    Auth(principal): Auth,
    key: IdempotencyKey,
    body: JsonBody<EnrolRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    let r = &body.value;
    let command = LifecycleCommand::Enrol {
        project: parse(&r.project)?,
        parcel: parse(&r.parcel)?,
        period: r.contract_period.parse()?,
    };
    run(&state, &principal, key, command).await
}

/// Requests withdrawal from an enrolment with a recognised ground (the participant itself, or an operator).
#[utoipa::path(post, path = "/enrolments/{id}/withdrawal", tag = "lifecycle", request_body = WithdrawalRequest,
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = ActionDto), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn request_withdrawal(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(id): Path<String>,
    key: IdempotencyKey,
    body: JsonBody<WithdrawalRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    let command = LifecycleCommand::RequestWithdrawal {
        enrolment: parse(&id)?,
        ground: body.value.ground.clone(),
        note: body.value.note.clone(),
        salt: [0; 32],
    };
    run(&state, &principal, key, command).await
}

/// Approves (with the effective date) or refuses (with a reason) a withdrawal request (operator).
#[utoipa::path(post, path = "/enrolments/{id}/withdrawal/decision", tag = "lifecycle", request_body = WithdrawalDecisionRequest,
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = ActionDto), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn decide_withdrawal(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(id): Path<String>,
    key: IdempotencyKey,
    body: JsonBody<WithdrawalDecisionRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    let r = &body.value;
    let effective = match (r.approve, r.effective.as_deref()) {
        (true, Some(d)) => Some(parse::<Date>(d)?),
        (false, None) => None,
        _ => return Err(ApiError::invalid("give `effective` exactly when `approve` is true")),
    };
    let command = LifecycleCommand::DecideWithdrawal { enrolment: parse(&id)?, effective, reason: r.reason.clone() };
    run(&state, &principal, key, command).await
}

/// The program's recognised grounds for withdrawing before the end of a contract.
#[utoipa::path(get, path = "/withdrawal-grounds", tag = "lifecycle", responses((status = 200, body = GroundsDto)))]
pub async fn get_grounds(State(state): State<AppState>) -> Json<GroundsDto> {
    Json(GroundsDto { grounds: state.registry.lifecycle().grounds.clone() })
}

/// Sets the recognised grounds for withdrawal (admin or operator).
#[utoipa::path(post, path = "/withdrawal-grounds", tag = "lifecycle", request_body = GroundsDto,
    params(("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = ActionDto), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn set_grounds(
    State(state): State<AppState>,
    Auth(principal): Auth,
    key: IdempotencyKey,
    body: JsonBody<GroundsDto>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    let command = LifecycleCommand::ConfigureWithdrawalGrounds { grounds: body.value.grounds.clone() };
    run(&state, &principal, key, command).await
}

// ------------------------------------------------------------------ monitoring reports

/// Monitoring reports with their frozen quantifications.
#[utoipa::path(get, path = "/reports", tag = "lifecycle", params(ListParams),
    responses((status = 200, body = PageOf<ReportDto>), (status = 400, body = Problem)))]
pub async fn list_reports(
    State(state): State<AppState>,
    Query(q): Query<ListParams>,
) -> Result<Json<PageOf<ReportDto>>, ApiError> {
    let lc = state.registry.lifecycle();
    q.only(&["project", "status"])?;
    let (project, status) = (q.project()?, q.status::<ReportStatus>()?);
    let keep = |r: &Report| project.is_none_or(|p| r.spec.project == p) && status.is_none_or(|s| r.status == s);
    Ok(Json(page_of(&lc.reports, &q, |k| k.0, ReportId, keep, ReportDto::of)?))
}

/// One monitoring report.
#[utoipa::path(get, path = "/reports/{id}", tag = "lifecycle", params(("id" = String, Path, description = "e.g. N000001")),
    responses((status = 200, body = ReportDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn get_report(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<ReportDto>, ApiError> {
    let id: ReportId = parse(&id)?;
    let lc = state.registry.lifecycle();
    Ok(Json(ReportDto::of(found(lc.reports.get(&id), format!("report {id}"))?)))
}

/// Drafts a monitoring report (operator): per-parcel activity data, validated against the
/// methodology's schema (422 `schema-invalid` names the field), evidence by SHA-256, indicators.
#[utoipa::path(post, path = "/reports", tag = "lifecycle", request_body = ReportRequest,
    params(("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = ActionDto), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn draft_report(
    State(state): State<AppState>,
    Auth(principal): Auth,
    key: IdempotencyKey,
    body: JsonBody<ReportRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    let spec = body.value.into_domain()?;
    run(&state, &principal, key, LifecycleCommand::DraftReport { spec }).await
}

/// Moves a report: `submit` (operator), `verify` (verifier; freezes the quantification) or
/// `return` (verifier, with a reason).
#[utoipa::path(post, path = "/reports/{id}/{action}", tag = "lifecycle", request_body = ReasonRequest,
    params(("id" = String, Path), ("action" = String, Path, description = "`submit`, `verify` or `return`"), ("Idempotency-Key" = Option<String>, Header)),
    security(("bearer" = [])),
    responses((status = 201, body = ActionDto), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn change_report(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path((id, action)): Path<(String, String)>,
    key: IdempotencyKey,
    body: JsonBody<ReasonRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    let report: ReportId = parse(&id)?;
    let command = match action.as_str() {
        "submit" => LifecycleCommand::SubmitReport { report },
        "verify" => LifecycleCommand::VerifyReport { report },
        "return" => LifecycleCommand::ReturnReport { report, reason: body.value.reason.clone() },
        _ => return Err(ApiError::not_found("a report takes `submit`, `verify` or `return`")),
    };
    run(&state, &principal, key, command).await
}

// ------------------------------------------------------------------ issuance, reversals, labels

/// Issuance requests.
#[utoipa::path(get, path = "/issuance-requests", tag = "lifecycle", params(ListParams),
    responses((status = 200, body = PageOf<IssuanceRequestDto>), (status = 400, body = Problem)))]
pub async fn list_requests(
    State(state): State<AppState>,
    Query(q): Query<ListParams>,
) -> Result<Json<PageOf<IssuanceRequestDto>>, ApiError> {
    let lc = state.registry.lifecycle();
    q.only(&["status"])?;
    let status = q.status::<RequestStatus>()?;
    let keep = |r: &IssuanceRequest| status.is_none_or(|s| r.status == s);
    Ok(Json(page_of(&lc.requests, &q, |k| k.0, RequestId, keep, IssuanceRequestDto::of)?))
}

/// One issuance request.
#[utoipa::path(get, path = "/issuance-requests/{id}", tag = "lifecycle", params(("id" = String, Path, description = "e.g. I000001")),
    responses((status = 200, body = IssuanceRequestDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn get_request(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<IssuanceRequestDto>, ApiError> {
    let id: RequestId = parse(&id)?;
    let lc = state.registry.lifecycle();
    Ok(Json(IssuanceRequestDto::of(found(lc.requests.get(&id), format!("issuance request {id}"))?)))
}

/// Requests issuance of a verified report (operator). A report is issued at most once (409
/// `report-already-issued`).
#[utoipa::path(post, path = "/issuance-requests", tag = "lifecycle", request_body = IssuanceRequestRequest,
    params(("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = ActionDto), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn request_issuance(
    State(state): State<AppState>,
    Auth(principal): Auth,
    key: IdempotencyKey,
    body: JsonBody<IssuanceRequestRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    let command =
        LifecycleCommand::RequestIssuance { report: parse(&body.value.report)?, labels: body.value.labels.clone() };
    run(&state, &principal, key, command).await
}

/// Approves an issuance request (an operator other than the requester: 403 `self-approval`
/// otherwise). Issues the batch: floor(net) credits, of which the buffer percentage (rounded up)
/// goes to the buffer pool.
#[utoipa::path(post, path = "/issuance-requests/{id}/approve", tag = "lifecycle", request_body = ReasonRequest,
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = ActionDto), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn approve_issuance(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(id): Path<String>,
    key: IdempotencyKey,
    body: JsonBody<ReasonRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    run(&state, &principal, key, LifecycleCommand::ApproveIssuance { request: parse(&id)? }).await
}

/// Requests and approvals to rotate the log's signing key (public: who agreed to a new key).
#[utoipa::path(get, path = "/log/key-rotations", tag = "transparency", params(ListParams),
    responses((status = 200, body = PageOf<KeyRotationDto>), (status = 400, body = Problem)))]
pub async fn list_key_rotations(
    State(state): State<AppState>,
    Query(q): Query<ListParams>,
) -> Result<Json<PageOf<KeyRotationDto>>, ApiError> {
    let lc = state.registry.lifecycle();
    q.only(&[])?;
    Ok(Json(page_of(&lc.key_rotations, &q, |k| k.0, KeyRotationId, |_| true, KeyRotationDto::of)?))
}

/// Requests a rotation of the log's signing key (admin). Another admin approves it; only then
/// does `furrow key rotate` publish a new key.
#[utoipa::path(post, path = "/log/key-rotations", tag = "transparency", request_body = ReasonRequest,
    params(("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = ActionDto), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn request_key_rotation(
    State(state): State<AppState>,
    Auth(principal): Auth,
    key: IdempotencyKey,
    body: JsonBody<ReasonRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    let command = LifecycleCommand::RequestKeyRotation { reason: body.value.reason.clone() };
    run(&state, &principal, key, command).await
}

/// Approves a key rotation another admin requested (four-eyes: the requester gets 403
/// `four-eyes`; a signed-in admin needs a second factor).
#[utoipa::path(post, path = "/log/key-rotations/{id}/approve", tag = "transparency", request_body = ReasonRequest,
    params(("id" = String, Path, description = "e.g. K000001"), ("Idempotency-Key" = Option<String>, Header)),
    security(("bearer" = [])),
    responses((status = 201, body = ActionDto), (status = 401, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn approve_key_rotation(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(id): Path<String>,
    key: IdempotencyKey,
    body: JsonBody<ReasonRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    run(&state, &principal, key, LifecycleCommand::ApproveKeyRotation { rotation: parse(&id)? }).await
}

/// Reversals: recorded losses of stored carbon and the buffer cancellations that compensated them.
#[utoipa::path(get, path = "/reversals", tag = "lifecycle", params(ListParams),
    responses((status = 200, body = PageOf<ReversalDto>), (status = 400, body = Problem)))]
pub async fn list_reversals(
    State(state): State<AppState>,
    Query(q): Query<ListParams>,
) -> Result<Json<PageOf<ReversalDto>>, ApiError> {
    let lc = state.registry.lifecycle();
    q.only(&["project"])?;
    let project = q.project()?;
    let keep = |r: &Reversal| project.is_none_or(|p| r.project == p);
    Ok(Json(page_of(&lc.reversals, &q, |k| k.0, ReversalId, keep, ReversalDto::of)?))
}

/// Requests a reversal for a project (operator). Once another operator approves it, the same
/// quantity is cancelled from the buffer pool, oldest serials first, as a `reversal_compensation`
/// cancellation.
#[utoipa::path(post, path = "/reversals", tag = "lifecycle", request_body = ReversalRequest,
    params(("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = ActionDto), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn record_reversal(
    State(state): State<AppState>,
    Auth(principal): Auth,
    key: IdempotencyKey,
    body: JsonBody<ReversalRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    let r = &body.value;
    let command = LifecycleCommand::RecordReversal {
        project: parse(&r.project)?,
        quantity: Quantity(r.quantity),
        note: r.note.clone(),
    };
    run(&state, &principal, key, command).await
}

/// Approves a reversal another operator requested (four-eyes: the requester gets 403
/// `four-eyes`) and cancels its quantity from the buffer pool.
#[utoipa::path(post, path = "/reversals/{id}/approve", tag = "lifecycle", request_body = ReasonRequest,
    params(("id" = String, Path, description = "e.g. X000001"), ("Idempotency-Key" = Option<String>, Header)),
    security(("bearer" = [])),
    responses((status = 201, body = ActionDto), (status = 401, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn approve_reversal(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(id): Path<String>,
    key: IdempotencyKey,
    body: JsonBody<ReasonRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    run(&state, &principal, key, LifecycleCommand::ApproveReversal { reversal: parse(&id)? }).await
}

/// A batch's labels, with issuer and validity.
#[utoipa::path(get, path = "/batches/{id}/labels", tag = "lifecycle", params(("id" = String, Path)),
    responses((status = 200, body = Vec<LabelDto>), (status = 422, body = Problem)))]
pub async fn list_labels(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<LabelDto>>, ApiError> {
    let id: BatchId = parse(&id)?;
    let lc = state.registry.lifecycle();
    Ok(Json(lc.labels.get(&id).into_iter().flatten().map(LabelDto::of).collect()))
}

/// Labels a batch (operator): `ICVCM-CCP`, `CORSIA`, `Article6-authorized`,
/// `corresponding-adjustment:applied|pending|none`, `J-Credit-eligible`.
#[utoipa::path(post, path = "/batches/{id}/labels", tag = "lifecycle", request_body = LabelRequest,
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = ActionDto), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn add_label(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(id): Path<String>,
    key: IdempotencyKey,
    body: JsonBody<LabelRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    let r = &body.value;
    let command = LifecycleCommand::AddLabel {
        batch: parse(&id)?,
        kind: parse(&r.kind)?,
        issuer: r.issuer.clone(),
        valid: r.valid.parse()?,
    };
    run(&state, &principal, key, command).await
}
