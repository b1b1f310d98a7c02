//! RFC 9457 problem+json errors. Every error the API returns has a stable `type`
//! (`urn:furrow:problem:<code>`) that clients may branch on; `detail` is for people.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use furrow_app::AppError;
use furrow_domain::DomainError;
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Stable identifier of the kind of problem, e.g. `urn:furrow:problem:insufficient-credits`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    /// Seconds for a `Retry-After` header (429).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self { status, code, detail: detail.into(), retry_after: None }
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", detail)
    }
    pub fn invalid(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-request", detail)
    }
}

fn title(code: &str) -> String {
    let mut title = code.replace('-', " ");
    if let Some(first) = title.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    title
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(code = self.code, detail = %self.detail, "request failed");
        }
        let problem = Problem {
            kind: format!("urn:furrow:problem:{}", self.code),
            title: title(self.code),
            status: self.status.as_u16(),
            detail: self.detail,
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        let detail = e.to_string();
        match e {
            AppError::Unauthenticated => Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", detail),
            AppError::Forbidden(_) => Self::new(StatusCode::FORBIDDEN, "forbidden", detail),
            AppError::Domain(d) => Self::from(d),
            AppError::IdempotencyMismatch => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "idempotency-key-reused", detail)
            }
            AppError::Invalid(_) => Self::invalid(detail),
            AppError::FourEyes(_) => Self::new(StatusCode::FORBIDDEN, "four-eyes", detail),
            AppError::AlreadyExists(_) => Self::new(StatusCode::CONFLICT, "already-exists", detail),
            AppError::TooManyRequests(seconds) => {
                let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, "too-many-requests", detail);
                e.retry_after = Some(seconds);
                e
            }
            AppError::NotFound(_) => Self::not_found(detail),
            AppError::Unavailable(_) => Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", detail),
            AppError::Internal(_) => {
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error; see the server log")
            }
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(d: DomainError) -> Self {
        let status = if d.is_forbidden() {
            StatusCode::FORBIDDEN
        } else if d.is_conflict() {
            StatusCode::CONFLICT
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        Self::new(status, d.code(), d.to_string())
    }
}

impl From<furrow_app::store::StoreError> for ApiError {
    fn from(e: furrow_app::store::StoreError) -> Self {
        Self::from(AppError::from(e))
    }
}

impl From<furrow_domain::ParseError> for ApiError {
    fn from(e: furrow_domain::ParseError) -> Self {
        Self::invalid(e.to_string())
    }
}
