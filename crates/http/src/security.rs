//! Tokens and the security audit trail over HTTP, for admins (issue #8). Who may is decided in
//! the application (`Registry::list_tokens`, `revoke_token`, `security_events`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::controls::{EmptyRequest, ListOf};
use crate::dto::{PageOf, PageParams, rfc3339};
use crate::error::{ApiError, Problem};
use crate::extract::{Auth, JsonBody, Path, Query, ReadAuth};
use crate::handlers::page;

/// A token as admins see it: never its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenDto {
    pub id: u64,
    pub subject: String,
    pub role: String,
    pub accounts: Vec<String>,
    /// `read` or `write`.
    pub scope: String,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    /// To the minute: written at most once a minute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SecurityEventDto {
    pub id: u64,
    pub at: String,
    pub kind: String,
    pub subject: String,
    pub detail: String,
}

/// Every API token with its scope, expiry, revocation and last use (admins).
#[utoipa::path(get, path = "/tokens", tag = "security", security(("bearer" = [])),
    responses((status = 200, body = ListOf<TokenDto>), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    ReadAuth(by): ReadAuth,
) -> Result<Json<ListOf<TokenDto>>, ApiError> {
    let items = state
        .registry
        .list_tokens(&by)
        .await?
        .into_iter()
        .map(|t| TokenDto {
            id: t.token.id,
            subject: t.token.subject,
            role: t.token.role.to_string(),
            accounts: t.token.accounts.iter().map(ToString::to_string).collect(),
            scope: if t.policy.can_write { "write" } else { "read" }.into(),
            created_at: rfc3339(t.token.created_at),
            expires_at: t.policy.expires_at.map(rfc3339),
            revoked_at: t.policy.revoked_at.map(rfc3339),
            last_used_at: t.policy.last_used_at.map(rfc3339),
        })
        .collect();
    Ok(Json(ListOf { items }))
}

/// Revokes a token at once (admins).
#[utoipa::path(post, path = "/tokens/{id}/revoke", tag = "security", request_body = EmptyRequest,
    params(("id" = u64, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    Auth(by): Auth,
    Path(id): Path<u64>,
    _body: JsonBody<EmptyRequest>,
) -> Result<StatusCode, ApiError> {
    state.registry.revoke_token(&by, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The security audit trail, oldest first (admins): sign-ins, token creation and revocation, use
/// of revoked or expired tokens, refused permissions.
#[utoipa::path(get, path = "/security/events", tag = "security", params(PageParams), security(("bearer" = [])),
    responses((status = 200, body = PageOf<SecurityEventDto>), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn security_events(
    State(state): State<AppState>,
    ReadAuth(by): ReadAuth,
    Query(q): Query<PageParams>,
) -> Result<Json<PageOf<SecurityEventDto>>, ApiError> {
    let page = page(q.cursor.as_deref(), q.limit)?;
    let events = state.registry.security_events(&by, page).await?;
    let next_cursor = (events.len() as u32 == page.limit).then(|| events.last().map(|e| e.id.to_string())).flatten();
    let items = events
        .into_iter()
        .map(|e| SecurityEventDto { id: e.id, at: rfc3339(e.at), kind: e.kind, subject: e.subject, detail: e.detail })
        .collect();
    Ok(Json(PageOf { items, next_cursor }))
}
