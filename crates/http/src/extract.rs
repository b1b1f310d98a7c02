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

/// The principal of the request's bearer token, for `access`.
pub async fn bearer(parts: &Parts, state: &AppState, access: Access) -> Result<Principal, ApiError> {
    let header = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let token = header
        .and_then(|h| h.strip_prefix("Bearer "))
        .ok_or_else(|| ApiError::from(furrow_app::AppError::Unauthenticated))?;
    Ok(state.registry.authenticate_for(token.trim(), access).await?)
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
