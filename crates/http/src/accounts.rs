//! Users and four-eyes role grants over HTTP, for admins (issue #8). Who may is decided in the
//! application (`Registry::users`, `request_role`, `approve_role`). People sign in on the web
//! pages (`web/account.rs`); there is no password endpoint in the JSON API, so that passwords
//! are typed only into our own page.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use furrow_domain::{AccountId, Role};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::controls::{EmptyRequest, ListOf};
use crate::dto::rfc3339;
use crate::error::{ApiError, Problem};
use crate::extract::{Auth, JsonBody, Path, ReadAuth};

/// A user as admins see it: never a password hash or TOTP secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserDto {
    pub id: u64,
    /// The pseudonym the log records as the user's actions' actor.
    pub subject: String,
    pub email: String,
    pub organisation: String,
    pub role: String,
    pub accounts: Vec<String>,
    pub totp: bool,
    pub created_at: String,
}

/// A role grant: pending until a second admin approves it (operator and admin), or applied.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleRequestDto {
    pub id: u64,
    pub user: u64,
    pub role: String,
    pub accounts: Vec<String>,
    pub requested_by: String,
    pub requested_at: String,
    /// `pending` or `granted`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_at: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleRequestBody {
    /// `admin`, `operator`, `verifier`, `participant` or `buyer`.
    pub role: String,
    /// The accounts a buyer or participant acts for (`A…` ids); empty for staff.
    #[serde(default)]
    pub accounts: Vec<String>,
}

fn request_dto(r: furrow_app::store::RoleRequest) -> RoleRequestDto {
    RoleRequestDto {
        id: r.id,
        user: r.user,
        role: r.role.to_string(),
        accounts: r.accounts.iter().map(ToString::to_string).collect(),
        requested_by: r.requested_by,
        requested_at: rfc3339(r.requested_at),
        status: if r.approved_at.is_some() { "granted" } else { "pending" }.into(),
        approved_by: r.approved_by,
        approved_at: r.approved_at.map(rfc3339),
    }
}

/// Every user with organisation, role and accounts (admins).
#[utoipa::path(get, path = "/users", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = ListOf<UserDto>), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list_users(
    State(state): State<AppState>,
    ReadAuth(by): ReadAuth,
) -> Result<Json<ListOf<UserDto>>, ApiError> {
    let items = state
        .registry
        .users(&by)
        .await?
        .into_iter()
        .map(|(u, org)| UserDto {
            id: u.id,
            subject: furrow_app::accounts::subject_of(&u),
            email: u.email,
            organisation: org.name,
            role: u.role.to_string(),
            accounts: u.accounts.iter().map(ToString::to_string).collect(),
            totp: u.totp_secret.is_some(),
            created_at: rfc3339(u.created_at),
        })
        .collect();
    Ok(Json(ListOf { items }))
}

/// Asks to give a user a role (admins). Operator and admin wait for a second admin's approval;
/// other roles are granted at once.
#[utoipa::path(post, path = "/users/{id}/role-requests", tag = "users", request_body = RoleRequestBody,
    params(("id" = u64, Path)), security(("bearer" = [])),
    responses((status = 201, body = RoleRequestDto), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn request_role(
    State(state): State<AppState>,
    Auth(by): Auth,
    Path(id): Path<u64>,
    body: JsonBody<RoleRequestBody>,
) -> Result<(StatusCode, Json<RoleRequestDto>), ApiError> {
    let role: Role = body.value.role.parse()?;
    let accounts = body.value.accounts.iter().map(|a| a.parse::<AccountId>()).collect::<Result<Vec<_>, _>>()?;
    let request = state.registry.request_role(&by, id, role, &accounts).await?;
    Ok((StatusCode::CREATED, Json(request_dto(request))))
}

/// Every role request, oldest first (admins).
#[utoipa::path(get, path = "/role-requests", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = ListOf<RoleRequestDto>), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list_role_requests(
    State(state): State<AppState>,
    ReadAuth(by): ReadAuth,
) -> Result<Json<ListOf<RoleRequestDto>>, ApiError> {
    let items = state.registry.role_requests(&by).await?.into_iter().map(request_dto).collect();
    Ok(Json(ListOf { items }))
}

/// Approves a pending role grant: a second admin, not the one who asked (`four-eyes`, 403), with
/// a token or a session signed in with TOTP.
#[utoipa::path(post, path = "/role-requests/{id}/approve", tag = "users", request_body = EmptyRequest,
    params(("id" = u64, Path)), security(("bearer" = [])),
    responses((status = 200, body = RoleRequestDto), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn approve_role(
    State(state): State<AppState>,
    Auth(by): Auth,
    Path(id): Path<u64>,
    _body: JsonBody<EmptyRequest>,
) -> Result<Json<RoleRequestDto>, ApiError> {
    Ok(Json(request_dto(state.registry.approve_role(&by, id).await?)))
}
