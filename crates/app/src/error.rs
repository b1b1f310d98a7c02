use furrow_domain::DomainError;
use furrow_store::StoreError;

/// Why the application refused or failed a request. The HTTP layer maps each variant to a status
/// and a stable problem type; nothing here knows HTTP.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("a valid bearer token is required")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("this Idempotency-Key was already used for a different request; use a new key for a new request")]
    IdempotencyMismatch,
    #[error("{0}")]
    Invalid(String),
    /// The second person of a four-eyes control is the first (same admin asks and approves).
    #[error("{0}")]
    FourEyes(String),
    /// Too many attempts (sign-in failures, token use); try again after this many seconds.
    #[error("too many attempts; try again in {0} seconds")]
    TooManyRequests(u64),
    /// Something with that name exists already (an e-mail address, an organisation).
    #[error("{0} already exists")]
    AlreadyExists(String),
    #[error("{0} not found")]
    NotFound(String),
    /// The database failed; nothing of the request was written.
    #[error("the registry could not store the change: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Retryable(m) | StoreError::Other(m) | StoreError::WriterElsewhere(m) => Self::Unavailable(m),
            StoreError::Conflict { constraint } => {
                Self::Internal(format!("unexpected constraint violation: {constraint}"))
            }
            StoreError::Corrupt(m) => Self::Internal(format!("stored data is inconsistent: {m}")),
        }
    }
}
