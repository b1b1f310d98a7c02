//! What the store keeps for security (issue #8): a token's scope, expiry, revocation and last
//! use beside its identity (`TokenRecord`), and the append-only security audit trail.

use furrow_domain::Timestamp;

use crate::TokenRecord;

/// A token's settings and use. Tokens created before these existed are unexpiring write tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPolicy {
    /// Whether the token may change anything; a read-only token may only read what its role may.
    pub can_write: bool,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
}

/// A token as listed for admins: never its secret, nor its hash's use to anyone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenListing {
    pub token: TokenRecord,
    pub policy: TokenPolicy,
}

/// One entry of the security audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityEvent {
    /// Assigned by the store, increasing; 0 when appending.
    pub id: u64,
    pub at: Timestamp,
    /// A stable name: `sign_in_succeeded`, `sign_in_failed`, `token_created`, `token_revoked`,
    /// `revoked_token_used`, `expired_token_used`, `permission_denied`, `role_granted`.
    pub kind: String,
    /// Who it is about (a token's subject, a user name tried), as given: never a secret.
    pub subject: String,
    pub detail: String,
}
