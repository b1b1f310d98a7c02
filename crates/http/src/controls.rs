//! Registry controls over HTTP (issue #8): the published control settings and freezes, freezing
//! accounts and serial ranges, trusted counterparties, and four-eyes cancellation requests. The
//! rules are the domain's (`furrow_domain::lifecycle::controls`); who may ask is the application's
//! (`furrow_app::authorize`, `authorize_read`). Handlers only translate.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use furrow_app::ReadScope;
use furrow_domain::lifecycle::LifecycleCommand;
use furrow_domain::lifecycle::controls::Controls;
use furrow_domain::{AccountId, CancellationReason, Selection};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::dto::rfc3339;
use crate::error::{ApiError, Problem};
use crate::extract::{Auth, IdempotencyKey, JsonBody, Path, ReadAuth};
use crate::handlers::{parse, parse_range, selection};
use crate::lifecycle::dto::ActionDto;
use crate::lifecycle::{Viewer, run};

/// The program's controls, public: the transfer limit, the trusted-list rule, and every freeze
/// with its reason (a stolen range is published so that nobody buys it).
#[derive(Debug, Serialize, ToSchema)]
pub struct ControlsDto {
    /// The largest quantity one transfer may move; absent: no limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_limit: Option<u64>,
    /// Whether participant and buyer accounts may transfer only to trusted counterparties.
    pub trusted_only: bool,
    /// Seconds between proposing a trusted counterparty and its taking effect.
    pub trusted_delay_seconds: u32,
    pub frozen_accounts: Vec<FrozenDto>,
    pub frozen_serials: Vec<FrozenDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FrozenDto {
    /// An account id (`A000007`) or a serial range (`1-10`).
    pub target: String,
    pub reason: String,
    pub at: String,
}

impl ControlsDto {
    fn of(c: &Controls) -> Self {
        Self {
            transfer_limit: c.transfer_limit.map(|q| q.0),
            trusted_only: c.trusted_only,
            trusted_delay_seconds: c.trusted_delay_seconds,
            frozen_accounts: c
                .frozen_accounts
                .iter()
                .map(|(a, f)| FrozenDto { target: a.to_string(), reason: f.reason.clone(), at: rfc3339(f.at) })
                .collect(),
            frozen_serials: c
                .frozen_serials
                .values()
                .map(|(r, f)| FrozenDto { target: r.to_string(), reason: f.reason.clone(), at: rfc3339(f.at) })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigureControlsRequest {
    /// The largest quantity one transfer may move; absent or null: no limit.
    pub transfer_limit: Option<u64>,
    pub trusted_only: bool,
    pub trusted_delay_seconds: u32,
}

/// Freezes (or, with `frozen: false`, unfreezes) one account or one serial range.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FreezeRequest {
    pub account: Option<String>,
    /// A serial range (`1-10`, or printable serials).
    pub serials: Option<String>,
    #[serde(default = "yes")]
    pub frozen: bool,
    /// Published with the freeze.
    pub reason: String,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CounterpartyRequest {
    pub counterparty: String,
}

/// An empty body, for actions that need no input.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmptyRequest {}

#[derive(Debug, Serialize, ToSchema)]
pub struct CounterpartyDto {
    pub counterparty: String,
    pub proposed_by: String,
    pub proposed_at: String,
    /// When the delay has passed.
    pub effective_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CancellationRequestDto {
    pub id: String,
    pub from: String,
    pub reason: String,
    pub note: String,
    pub requested_by: String,
    /// `pending` or `approved`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancellation: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListOf<T> {
    pub items: Vec<T>,
}

/// The program's controls and every freeze with its reason (public).
#[utoipa::path(get, path = "/controls", tag = "controls", responses((status = 200, body = ControlsDto)))]
pub async fn get_controls(State(state): State<AppState>) -> Json<ControlsDto> {
    Json(ControlsDto::of(&state.registry.lifecycle().controls))
}

/// Sets the per-transfer limit and the trusted-counterparty rule (admin).
#[utoipa::path(post, path = "/controls", tag = "controls", request_body = ConfigureControlsRequest,
    params(("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = ActionDto), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn configure_controls(
    State(state): State<AppState>,
    Auth(principal): Auth,
    key: IdempotencyKey,
    body: JsonBody<ConfigureControlsRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    let r = &body.value;
    let command = LifecycleCommand::ConfigureControls {
        transfer_limit: r.transfer_limit.map(furrow_domain::Quantity),
        trusted_only: r.trusted_only,
        trusted_delay_seconds: r.trusted_delay_seconds,
    };
    run(&state, &principal, key, command).await
}

/// Freezes or unfreezes an account or a serial range (operator or admin); the reason is published.
#[utoipa::path(post, path = "/freezes", tag = "controls", request_body = FreezeRequest,
    params(("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = ActionDto), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn freeze(
    State(state): State<AppState>,
    Auth(principal): Auth,
    key: IdempotencyKey,
    body: JsonBody<FreezeRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    let r = &body.value;
    let (frozen, reason) = (r.frozen, r.reason.clone());
    let command = match (&r.account, &r.serials) {
        (Some(account), None) => LifecycleCommand::FreezeAccount { account: parse(account)?, frozen, reason },
        (None, Some(serials)) => {
            LifecycleCommand::FreezeSerials { range: parse_range(&state, serials).await?, frozen, reason }
        }
        _ => return Err(ApiError::invalid("name exactly one of `account` and `serials`")),
    };
    run(&state, &principal, key, command).await
}

/// An account's trusted counterparties (its holder's tokens and staff).
#[utoipa::path(get, path = "/accounts/{id}/counterparties", tag = "controls",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = ListOf<CounterpartyDto>), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list_counterparties(
    State(state): State<AppState>,
    // A token is required before the path is even parsed: no token is 401, whatever the id.
    ReadAuth(principal): ReadAuth,
    Path(id): Path<String>,
) -> Result<Json<ListOf<CounterpartyDto>>, ApiError> {
    let account: AccountId = parse(&id)?;
    furrow_app::authorize_read(Some(&principal), ReadScope::Account(account))?;
    let lc = state.registry.lifecycle();
    let items = lc
        .controls
        .trusted
        .range((account, AccountId(0))..=(account, AccountId(u64::MAX)))
        .map(|((_, cp), t)| CounterpartyDto {
            counterparty: cp.to_string(),
            proposed_by: t.proposed_by.clone(),
            proposed_at: rfc3339(t.proposed_at),
            effective_at: rfc3339(t.effective_at),
            approved_by: t.approved_by.clone(),
        })
        .collect();
    Ok(Json(ListOf { items }))
}

/// Proposes a trusted counterparty for an account (its holder or an operator). It takes effect
/// after the configured delay, once another person has approved it.
#[utoipa::path(post, path = "/accounts/{id}/counterparties", tag = "controls", request_body = CounterpartyRequest,
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = ActionDto), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn propose_counterparty(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(id): Path<String>,
    key: IdempotencyKey,
    body: JsonBody<CounterpartyRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    let command =
        LifecycleCommand::ProposeCounterparty { account: parse(&id)?, counterparty: parse(&body.value.counterparty)? };
    run(&state, &principal, key, command).await
}

/// Approves a proposed trusted counterparty (operator or admin other than the proposer).
#[utoipa::path(post, path = "/accounts/{id}/counterparties/{counterparty}/approve", tag = "controls",
    request_body = EmptyRequest,
    params(("id" = String, Path), ("counterparty" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    security(("bearer" = [])),
    responses((status = 201, body = ActionDto), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn approve_counterparty(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path((id, counterparty)): Path<(String, String)>,
    key: IdempotencyKey,
    body: JsonBody<EmptyRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    let command = LifecycleCommand::ApproveCounterparty { account: parse(&id)?, counterparty: parse(&counterparty)? };
    run(&state, &principal, key, command).await
}

/// Removes a trusted counterparty (its holder or an operator); takes effect at once.
#[utoipa::path(post, path = "/accounts/{id}/counterparties/{counterparty}/remove", tag = "controls",
    request_body = EmptyRequest,
    params(("id" = String, Path), ("counterparty" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    security(("bearer" = [])),
    responses((status = 201, body = ActionDto), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
pub async fn remove_counterparty(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path((id, counterparty)): Path<(String, String)>,
    key: IdempotencyKey,
    body: JsonBody<EmptyRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    let command = LifecycleCommand::RemoveCounterparty { account: parse(&id)?, counterparty: parse(&counterparty)? };
    run(&state, &principal, key, command).await
}

/// Asks for a cancellation (operator); it happens when another operator approves it. A
/// cancellation is removal that is not a claim, e.g. a correction; never counted as a retirement.
#[utoipa::path(post, path = "/cancellations", tag = "ledger", request_body = crate::dto::CancelRequest,
    params(("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = ActionDto), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn request_cancellation(
    State(state): State<AppState>,
    Auth(principal): Auth,
    key: IdempotencyKey,
    body: JsonBody<crate::dto::CancelRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    let r = &body.value;
    let selection: Selection = selection(&state, r.quantity, r.batch.as_deref(), r.ranges.as_deref()).await?;
    let command = LifecycleCommand::RequestCancellation {
        from: parse(&r.from)?,
        selection,
        reason: parse::<CancellationReason>(&r.reason)?,
        note: r.note.clone(),
    };
    run(&state, &principal, key, command).await
}

/// Cancellation requests, pending and approved (operators and admins).
#[utoipa::path(get, path = "/cancellation-requests", tag = "ledger", security(("bearer" = [])),
    responses((status = 200, body = ListOf<CancellationRequestDto>), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list_cancellation_requests(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Json<ListOf<CancellationRequestDto>>, ApiError> {
    furrow_app::authorize_read(viewer.principal(), ReadScope::Staff)?;
    let lc = state.registry.lifecycle();
    let items = lc
        .controls
        .cancellations
        .values()
        .map(|r| CancellationRequestDto {
            id: r.id.to_string(),
            from: r.from.to_string(),
            reason: r.reason.to_string(),
            note: r.note.clone(),
            requested_by: r.requested_by.clone(),
            status: if r.approved_by.is_some() { "approved" } else { "pending" }.into(),
            cancellation: r.cancellation.map(|c| c.to_string()),
        })
        .collect();
    Ok(Json(ListOf { items }))
}

/// Approves a cancellation request (an operator other than the requester: 403 `four-eyes`
/// otherwise); the credits are cancelled now.
#[utoipa::path(post, path = "/cancellation-requests/{id}/approve", tag = "ledger", request_body = EmptyRequest,
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = ActionDto), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn approve_cancellation(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(id): Path<String>,
    key: IdempotencyKey,
    body: JsonBody<EmptyRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    let request = id.parse::<u64>().map_err(|_| ApiError::invalid(format!("{id:?} is not a request number")))?;
    run(&state, &principal, key, LifecycleCommand::ApproveCancellation { request }).await
}
