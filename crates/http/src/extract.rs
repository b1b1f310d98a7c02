//! Extractors that turn every malformed request into a problem+json answer, never axum's plain
//! text rejections.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use furrow_app::{Access, Principal, RequestKey};
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::ApiError;

/// A JSON body, strictly parsed (unknown fields refused by the DTOs), plus its raw bytes for the
/// idempotency fingerprint.
pub struct JsonBody<T> {
    pub value: T,
    pub bytes: Bytes,
    pub method: Method,
    pub path: String,
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json =
            req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
                v.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            });
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body-too-large", format!("could not read the body: {e}"))
        })?;
        let value = serde_json::from_slice(&bytes).map_err(|e| {
            use serde_json::error::Category;
            match e.classify() {
                Category::Syntax | Category::Eof | Category::Io => {
                    ApiError::new(StatusCode::BAD_REQUEST, "malformed-json", format!("the body is not valid JSON: {e}"))
                }
                Category::Data => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-body", e.to_string()),
            }
        })?;
        Ok(Self { value, bytes, method, path })
    }
}

/// Query parameters, with problem+json rejections.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Self(q.0))
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid-query", e.body_text()))
    }
}

/// Path parameters, with problem+json rejections.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Self(p.0))
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid-path", e.body_text()))
    }
}

/// An authenticated caller allowed to write (a valid, unexpired, unrevoked bearer token that is
/// not read-only), required by every mutation.
pub struct Auth(pub Principal);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(Self(bearer(parts, state, Access::Write).await?))
    }
}

/// An authenticated caller that only reads (read-only tokens accepted).
pub struct ReadAuth(pub Principal);

impl FromRequestParts<AppState> for ReadAuth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(Self(bearer(parts, state, Access::Read).await?))
    }
}

/// The client's IP address (the TCP peer), set by `serve` on every request.
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub std::net::IpAddr);

/// The client's address, if `serve` recorded one (tests that call the router directly have none).
pub struct ClientIp(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.extensions.get::<PeerAddr>().map(|p| p.0)))
    }
}

/// The session cookie's name: with the `__Host-` prefix (the browser then insists on Secure, no
/// Domain and Path=/) when the request came over TLS, which we learn from a TLS-terminating
/// proxy's `X-Forwarded-Proto`; plain otherwise (a browser refuses `__Host-` over http).
pub const SESSION_COOKIE_TLS: &str = "__Host-furrow_session";
pub const SESSION_COOKIE: &str = "furrow_session";

/// Whether the request came over TLS (through a proxy that says so).
pub fn over_tls(headers: &axum::http::HeaderMap) -> bool {
    headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

/// The session id the browser sent, if any (the `__Host-` cookie wins).
pub fn session_cookie(headers: &axum::http::HeaderMap) -> Option<String> {
    let pairs: Vec<(String, String)> = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    [SESSION_COOKIE_TLS, SESSION_COOKIE]
        .iter()
        .find_map(|name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
}

/// The header a script-free API client signed in with a cookie must echo the session's CSRF
/// token in, to write. A cross-site page can neither read the token nor set the header.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The principal of the request's bearer token or, without one, of its session cookie, for
/// `access`. A session is the same principal a token would be: authorization does not know
/// the difference, except that a password-only session cannot approve (`Proof`).
pub async fn bearer(parts: &Parts, state: &AppState, access: Access) -> Result<Principal, ApiError> {
    let header = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if let Some(header) = header {
        let token =
            header.strip_prefix("Bearer ").ok_or_else(|| ApiError::from(furrow_app::AppError::Unauthenticated))?;
        return Ok(state.registry.authenticate_for(token.trim(), access).await?);
    }
    let Some(id) = session_cookie(&parts.headers) else {
        return Err(furrow_app::AppError::Unauthenticated.into());
    };
    let session = state.registry.session(&id).await?;
    if access == Access::Write {
        let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !same_secret(sent, &session.csrf) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "csrf",
                format!("a write with a session cookie must send the session's CSRF token in {CSRF_HEADER}"),
            ));
        }
    }
    Ok(session.principal)
}

/// Compares two secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// The optional `Idempotency-Key` header.
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        match parts.headers.get("idempotency-key") {
            None => Ok(Self(None)),
            Some(v) => v
                .to_str()
                .map(|s| Self(Some(s.to_owned())))
                .map_err(|_| ApiError::invalid("Idempotency-Key must be visible ASCII")),
        }
    }
}

impl IdempotencyKey {
    /// Binds the key to the caller and the exact request.
    pub fn for_request<T>(self, principal: &Principal, body: &JsonBody<T>) -> Result<Option<RequestKey>, ApiError> {
        self.0
            .map(|key| RequestKey::new(&principal.subject, &key, body.method.as_str(), &body.path, &body.bytes))
            .transpose()
            .map_err(ApiError::from)
    }
}
