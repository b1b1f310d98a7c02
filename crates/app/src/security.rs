//! Token authentication with scope, expiry and revocation, and the security audit trail
//! (issue #8). Tokens are access configuration, not registry state: they bypass the sequencer
//! and the log, and so does the audit trail (its own append-only table).

use furrow_domain::{AccountId, Role, Timestamp};
use furrow_store::{Page, SecurityEvent, TokenListing};

use crate::{AppError, Principal, Registry, TOKEN_PREFIX, hash_token};

/// What a request needs its token for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reading what the token's role may see.
    Read,
    /// Changing something: refused to read-only tokens.
    Write,
}

/// How a token is created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSpec {
    pub subject: String,
    pub role: Role,
    pub accounts: Vec<AccountId>,
    pub can_write: bool,
    /// When it stops working; `None`: until revoked.
    pub expires_at: Option<Timestamp>,
}

/// Last use is written at most this often per token (µs), so that reads do not queue writes.
const TOUCH_EVERY_US: i64 = 60_000_000;

/// Compares two hashes in time independent of where they differ. The lookup is by hash already,
/// so this is belt and braces: a database index never sees the secret itself.
fn same_hash(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

impl Registry {
    /// Resolves a bearer token to its principal for a request that needs `access`. An unknown,
    /// expired or revoked token is `Unauthenticated` (the last two are audited); a read-only
    /// token asking to write is `Forbidden` (audited).
    pub async fn authenticate_for(&self, token: &str, access: Access) -> Result<Principal, AppError> {
        if !token.starts_with(TOKEN_PREFIX) || token.len() > 200 {
            return Err(AppError::Unauthenticated);
        }
        let hash = hash_token(token);
        let record = self.store.find_token(&hash).await?.ok_or(AppError::Unauthenticated)?;
        if !same_hash(&record.hash, &hash) {
            return Err(AppError::Unauthenticated);
        }
        let policy = self.store.token_policy(record.id).await?.ok_or(AppError::Unauthenticated)?;
        let now = self.clock.now();
        if let Some(wait) = self.limits.token_used(&hash, now) {
            return Err(AppError::TooManyRequests(wait));
        }
        if policy.revoked_at.is_some() {
            self.audit("revoked_token_used", &record.subject, format!("token {}", record.id)).await;
            return Err(AppError::Unauthenticated);
        }
        if policy.expires_at.is_some_and(|t| t <= now) {
            self.audit("expired_token_used", &record.subject, format!("token {}", record.id)).await;
            return Err(AppError::Unauthenticated);
        }
        if access == Access::Write && !policy.can_write {
            self.audit("permission_denied", &record.subject, format!("token {} is read-only", record.id)).await;
            return Err(AppError::Forbidden("this token is read-only".into()));
        }
        if policy.last_used_at.is_none_or(|t| now.0.saturating_sub(t.0) >= TOUCH_EVERY_US) {
            self.store.touch_token(record.id, now).await?;
        }
        Ok(Principal {
            subject: record.subject,
            role: record.role,
            accounts: record.accounts,
            proof: crate::Proof::Token,
        })
    }

    /// Creates a token with a scope and an expiry; the secret is returned once. Audited.
    pub async fn create_token_with(&self, spec: &TokenSpec) -> Result<String, AppError> {
        create_token_with(self.store.as_ref(), self.clock.now(), spec).await
    }

    /// Every token with its scope, expiry, revocation and last use (admins).
    pub async fn list_tokens(&self, by: &Principal) -> Result<Vec<TokenListing>, AppError> {
        self.admin_only(by, "list tokens").await?;
        Ok(self.store.list_tokens().await?)
    }

    /// Revokes a token at once (admins). Audited.
    pub async fn revoke_token(&self, by: &Principal, id: u64) -> Result<(), AppError> {
        self.admin_only(by, "revoke tokens").await?;
        if !self.store.revoke_token(id, self.clock.now()).await? {
            return Err(AppError::NotFound(format!("token {id} (or it is already revoked)")));
        }
        self.audit("token_revoked", &by.subject, format!("token {id}")).await;
        Ok(())
    }

    /// The security audit trail, oldest first (admins).
    pub async fn security_events(&self, by: &Principal, page: Page) -> Result<Vec<SecurityEvent>, AppError> {
        self.admin_only(by, "read the security audit trail").await?;
        Ok(self.store.security_events(page).await?)
    }

    pub(crate) async fn admin_only(&self, by: &Principal, what: &str) -> Result<(), AppError> {
        if by.role == Role::Admin {
            return Ok(());
        }
        self.audit("permission_denied", &by.subject, format!("tried to {what}")).await;
        Err(AppError::Forbidden(format!("only an admin may {what}")))
    }

    /// Appends a security event. Never fails the request that caused it: a lost audit line is
    /// logged as an error instead (the trail is best effort against a failing database, which
    /// fails the request anyway).
    pub async fn audit(&self, kind: &str, subject: &str, detail: String) {
        let event =
            SecurityEvent { id: 0, at: self.clock.now(), kind: kind.to_owned(), subject: subject.to_owned(), detail };
        if let Err(e) = self.store.append_security_event(&event).await {
            tracing::error!(error = %e, kind, "could not append to the security audit trail");
        }
    }
}

/// Creates a token (see [`Registry::create_token_with`]); for the CLI, which has no registry.
pub async fn create_token_with(
    store: &dyn furrow_store::Store,
    now: Timestamp,
    spec: &TokenSpec,
) -> Result<String, AppError> {
    if spec.expires_at.is_some_and(|t| t <= now) {
        return Err(AppError::Invalid("the token would expire before it is created".into()));
    }
    let (token, id) = crate::insert_token(store, now, &spec.subject, spec.role, &spec.accounts).await?;
    store.set_token_policy(id, spec.can_write, spec.expires_at).await?;
    let scope = if spec.can_write { "read-write" } else { "read-only" };
    let expiry = spec.expires_at.map_or("no expiry".to_owned(), |t| format!("expires {}", crate::rfc3339(t)));
    let detail = format!("token {id}: role {}, {scope}, {expiry}", spec.role);
    let event = SecurityEvent { id: 0, at: now, kind: "token_created".into(), subject: spec.subject.clone(), detail };
    store.append_security_event(&event).await?;
    Ok(token)
}
