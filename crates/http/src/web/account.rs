//! Signing in and out, and the signed-in home page `/me` (issue #8), in English and Japanese,
//! without JavaScript. The base on which the signed-in pages of issue #9 are built: `signed_in`
//! gives a page its session, or sends the reader to `/signin`.
//!
//! CSRF: the session cookie is SameSite=Strict, every form of a session carries its CSRF token
//! (checked here), and a POST whose `Origin` names another site is refused, which also stops a
//! foreign page from signing a browser into someone else's account.

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use furrow_app::accounts::Session;
use furrow_app::password::Password;
use furrow_app::{AppError, totp};
use serde::Deserialize;

use super::i18n::Lang;
use super::{Chrome, Reader, render};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ClientIp, SESSION_COOKIE, SESSION_COOKIE_TLS, over_tls, same_secret, session_cookie};

#[derive(Template)]
#[template(path = "signin.html")]
pub struct SignInPage {
    pub l: Lang,
    pub c: Chrome,
    pub email: String,
    /// A message key, when the last attempt failed.
    pub error: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "me.html")]
pub struct MePage {
    pub l: Lang,
    pub c: Chrome,
    pub email: String,
    pub organisation: String,
    pub role: String,
    pub accounts: Vec<String>,
    pub subject: String,
    pub since: String,
    pub totp: bool,
    pub csrf: String,
    pub notice: Option<&'static str>,
    /// Program staff and verifiers have review queues (`/review`).
    pub reviews: bool,
}

#[derive(Template)]
#[template(path = "totp.html")]
pub struct TotpPage {
    pub l: Lang,
    pub c: Chrome,
    pub secret: String,
    pub uri: String,
    pub csrf: String,
    pub error: Option<&'static str>,
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

#[derive(Debug, Deserialize)]
pub struct TotpForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    secret: String,
    #[serde(default)]
    code: String,
}

/// The session of the request, if it has a live one.
pub async fn signed_in(state: &AppState, headers: &HeaderMap) -> Option<Session> {
    let id = session_cookie(headers)?;
    state.registry.session(&id).await.ok()
}

/// Refuses a POST sent by a page of another site: browsers send `Origin` with every POST, and a
/// request without one did not come from a foreign page's form.
pub(super) fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else { return true };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let origin_host = origin.split_once("://").map_or("", |(_, rest)| rest);
    !host.is_empty() && origin_host.eq_ignore_ascii_case(host)
}

pub(super) fn forbidden(detail: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "csrf", detail)
}

/// The `Set-Cookie` value for a session (an empty id with `Max-Age=0` removes it). No Max-Age
/// otherwise: the browser forgets it on closing, and the server enforces both timeouts anyway.
fn cookie(headers: &HeaderMap, id: &str) -> HeaderValue {
    let value = if over_tls(headers) {
        format!("{SESSION_COOKIE_TLS}={id}; Path=/; HttpOnly; Secure; SameSite=Strict")
    } else {
        format!("{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict")
    };
    let value = if id.is_empty() { format!("{value}; Max-Age=0") } else { value };
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("furrow_session=; Max-Age=0"))
}

pub(super) fn see_other(to: &str, cookie: Option<HeaderValue>) -> Response {
    let mut response = Redirect::to(to).into_response();
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    // Nothing signed-in may be cached by a shared cache.
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub(super) fn private(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub async fn signin_form(State(state): State<AppState>, reader: Reader) -> Response {
    let page = SignInPage { l: reader.lang, c: reader.chrome(&state).await, email: String::new(), error: None };
    private(render(&page))
}

pub async fn signin(
    State(state): State<AppState>,
    reader: Reader,
    headers: HeaderMap,
    ClientIp(client): ClientIp,
    form: Result<Form<SignInForm>, FormRejection>,
) -> Response {
    if !same_origin(&headers) {
        return reader.fail(&state, forbidden("this form was sent from another site")).await;
    }
    let Ok(Form(form)) = form else {
        return reader
            .fail(&state, ApiError::new(StatusCode::BAD_REQUEST, "invalid-form", "the form is malformed"))
            .await;
    };
    let password = Password::new(form.password);
    let code = Some(form.code.trim()).filter(|c| !c.is_empty());
    let previous = session_cookie(&headers);
    match state.registry.sign_in(&form.email, &password, code, client, previous.as_deref()).await {
        Ok(signed) => see_other("/me", Some(cookie(&headers, &signed.session_id))),
        Err(e) => {
            let (status, error, wait) = match e {
                AppError::TooManyRequests(s) => (StatusCode::TOO_MANY_REQUESTS, "signin.limited", Some(s)),
                AppError::Unauthenticated => (StatusCode::UNAUTHORIZED, "signin.failed", None),
                other => return reader.fail(&state, other.into()).await,
            };
            let page =
                SignInPage { l: reader.lang, c: reader.chrome(&state).await, email: form.email, error: Some(error) };
            let mut response = private(render(&page));
            *response.status_mut() = status;
            if let Some(wait) = wait {
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait));
            }
            response
        }
    }
}

pub async fn signout(
    State(state): State<AppState>,
    reader: Reader,
    headers: HeaderMap,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    let Some(session) = signed_in(&state, &headers).await else { return see_other("/", Some(cookie(&headers, ""))) };
    let csrf = form.map(|f| f.0.csrf).unwrap_or_default();
    if !same_origin(&headers) || !same_secret(&csrf, &session.csrf) {
        return reader.fail(&state, forbidden("the form's CSRF token does not match this session")).await;
    }
    if let Some(id) = session_cookie(&headers)
        && let Err(e) = state.registry.sign_out(&id).await
    {
        return reader.fail(&state, e.into()).await;
    }
    see_other("/", Some(cookie(&headers, "")))
}

async fn me_page(state: &AppState, reader: &Reader, session: Session, notice: Option<&'static str>) -> Response {
    let page = MePage {
        l: reader.lang,
        c: reader.chrome(state).await,
        email: session.user.email.clone(),
        organisation: session.organisation.name.clone(),
        role: session.user.role.to_string(),
        accounts: session.user.accounts.iter().map(ToString::to_string).collect(),
        subject: session.principal.subject.clone(),
        since: furrow_app::rfc3339(session.created_at),
        totp: session.user.totp_secret.is_some(),
        csrf: session.csrf.clone(),
        notice,
        reviews: matches!(
            session.principal.role,
            furrow_domain::Role::Operator | furrow_domain::Role::Admin | furrow_domain::Role::Verifier
        ),
    };
    private(render(&page))
}

pub async fn me(State(state): State<AppState>, reader: Reader, headers: HeaderMap) -> Response {
    match signed_in(&state, &headers).await {
        Some(session) => me_page(&state, &reader, session, None).await,
        None => see_other("/signin", None),
    }
}

/// Starts TOTP enrolment: a fresh secret, shown once, carried back by the confirmation form
/// (so nothing half-enrolled is stored).
pub async fn totp_start(
    State(state): State<AppState>,
    reader: Reader,
    headers: HeaderMap,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    let Some(session) = signed_in(&state, &headers).await else { return see_other("/signin", None) };
    let csrf = form.map(|f| f.0.csrf).unwrap_or_default();
    if !same_origin(&headers) || !same_secret(&csrf, &session.csrf) {
        return reader.fail(&state, forbidden("the form's CSRF token does not match this session")).await;
    }
    let secret = furrow_app::accounts::new_totp_secret();
    totp_page(&state, &reader, &session, &secret, None).await
}

async fn totp_page(
    state: &AppState,
    reader: &Reader,
    session: &Session,
    secret: &[u8],
    error: Option<&'static str>,
) -> Response {
    let chrome = reader.chrome(state).await;
    let uri = totp::otpauth_uri(&chrome.program, &session.user.email, secret);
    let page =
        TotpPage { l: reader.lang, c: chrome, secret: totp::base32(secret), uri, csrf: session.csrf.clone(), error };
    private(render(&page))
}

pub async fn totp_confirm(
    State(state): State<AppState>,
    reader: Reader,
    headers: HeaderMap,
    form: Result<Form<TotpForm>, FormRejection>,
) -> Response {
    let Some(session) = signed_in(&state, &headers).await else { return see_other("/signin", None) };
    let Ok(Form(form)) = form else {
        return reader
            .fail(&state, ApiError::new(StatusCode::BAD_REQUEST, "invalid-form", "the form is malformed"))
            .await;
    };
    if !same_origin(&headers) || !same_secret(&form.csrf, &session.csrf) {
        return reader.fail(&state, forbidden("the form's CSRF token does not match this session")).await;
    }
    let Some(secret) = totp::from_base32(&form.secret).filter(|s| s.len() == totp::SECRET_LEN) else {
        return reader.fail(&state, ApiError::invalid("the key is malformed; start again")).await;
    };
    match state.registry.enrol_totp(&session, &secret, &form.code).await {
        Ok(()) => match signed_in(&state, &headers).await {
            Some(session) => me_page(&state, &reader, session, Some("me.totp_done")).await,
            None => see_other("/signin", None),
        },
        Err(AppError::Invalid(_)) => {
            let mut response = totp_page(&state, &reader, &session, &secret, Some("totp.wrong")).await;
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            response
        }
        Err(e) => reader.fail(&state, e.into()).await,
    }
}
