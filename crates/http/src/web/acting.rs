//! What the signed-in pages that act (issue #9: `participant.rs`, `buyer.rs`) share: the session
//! or a trip to `/signin`, the form check (same origin, the session's CSRF token), and refusals
//! shown as a page in the reader's language with the registry's own message beside it.
//!
//! These pages decide nothing: every action is a command run by `Registry::execute` with the
//! session's `Principal`, so `furrow_app::authz` and the domain apply exactly as for the API.

use askama::Template;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use furrow_app::accounts::Session;

use super::account::{forbidden, private, same_origin, see_other, signed_in};
use super::i18n::Lang;
use super::{Chrome, Reader, render};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::same_secret;

#[derive(Template)]
#[template(path = "refused.html")]
pub struct RefusedPage {
    pub l: Lang,
    pub c: Chrome,
    pub status: u16,
    /// The refusal in the reader's language, by the error's stable code.
    pub explain: &'static str,
    /// The registry's own message (English, like the API's `detail`).
    pub detail: String,
    pub back: String,
}

/// The session, or a redirect to sign in.
pub async fn session(state: &AppState, headers: &HeaderMap) -> Result<Session, Response> {
    signed_in(state, headers).await.ok_or_else(|| see_other("/signin", None))
}

/// A form of this session, sent from our own pages.
pub fn check_form(headers: &HeaderMap, session: &Session, csrf: &str) -> Result<(), ApiError> {
    if same_origin(headers) && same_secret(csrf, &session.csrf) {
        Ok(())
    } else {
        Err(forbidden("the form's CSRF token does not match this session"))
    }
}

/// The message key that explains a refusal's code to a reader.
fn explanation(code: &str) -> &'static str {
    match code {
        "forbidden" | "csrf" | "unauthenticated" => "act.refused.forbidden",
        "not-found" | "unknown-object" | "unknown-batch" | "unknown-account" => "act.refused.not_found",
        "insufficient-credits" => "act.refused.insufficient",
        "quote-expired" => "act.refused.expired",
        "wrong-state" => "act.refused.state",
        "unrecognised-withdrawal-ground" => "act.refused.ground",
        "frozen" => "act.refused.frozen",
        _ => "act.refused.invalid",
    }
}

/// What a signed-in page answers: its own response, or the refusal page with a link to `back`.
pub async fn answer(state: &AppState, reader: &Reader, result: Result<Response, ApiError>, back: &str) -> Response {
    match result {
        Ok(response) => response,
        Err(e) => refuse(state, reader, e, back).await,
    }
}

/// A refusal as a page with the error's status (4xx; a server error stays 5xx and is logged).
pub async fn refuse(state: &AppState, reader: &Reader, error: ApiError, back: &str) -> Response {
    if error.status.is_server_error() {
        tracing::error!(code = error.code, detail = %error.detail, "page action failed");
    }
    let page = RefusedPage {
        l: reader.lang,
        c: reader.chrome(state).await,
        status: error.status.as_u16(),
        explain: explanation(error.code),
        detail: error.detail,
        back: back.to_owned(),
    };
    let mut response = private(render(&page));
    *response.status_mut() = error.status;
    response
}

/// A malformed form: the reader's mistake.
pub fn malformed() -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid-form", "the form is malformed")
}

/// After a successful POST: see the result (303), never re-post on reload.
pub fn done(to: &str) -> Response {
    see_other(to, None)
}

/// A signed-in page: never stored by a shared cache.
pub fn page<T: Template>(page: &T) -> Response {
    private(render(page))
}
