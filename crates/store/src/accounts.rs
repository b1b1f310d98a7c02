//! What the store keeps about people (issue #8): organisations, users with a role and a password
//! hash, web sessions (only the hash of the session id), and requests to grant a role, which a
//! second admin approves. Like tokens, this is access configuration, not registry state: it
//! bypasses the sequencer and the log.

use std::fmt;

use furrow_domain::{AccountId, Role, Timestamp};

/// An organisation users belong to (the operator's company, a buyer, a farm company, a verifier).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    /// Assigned by the store; 0 when inserting.
    pub id: u64,
    /// Unique.
    pub name: String,
    pub created_at: Timestamp,
}

/// A user who signs in with an e-mail address and a password.
#[derive(Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// Assigned by the store; 0 when inserting.
    pub id: u64,
    /// Unique, stored as given after trimming and lower-casing (the sign-in name).
    pub email: String,
    pub organisation: u64,
    pub role: Role,
    /// The accounts a buyer or participant acts for; empty for staff roles.
    pub accounts: Vec<AccountId>,
    /// The argon2id hash in PHC string form. Never the password.
    pub password_hash: String,
    /// The TOTP secret (RFC 6238), once enrolled.
    pub totp_secret: Option<Vec<u8>>,
    pub created_at: Timestamp,
}

/// Redacted: a user printed in a log shows neither its password hash nor its TOTP secret.
impl fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("organisation", &self.organisation)
            .field("role", &self.role)
            .field("accounts", &self.accounts)
            .field("password_hash", &"<redacted>")
            .field("totp_secret", &self.totp_secret.as_ref().map(|_| "<redacted>"))
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// A web session. Only SHA-256 of the session id is stored, so a copy of the database signs no
/// one in.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub hash: [u8; 32],
    pub user: u64,
    /// The anti-CSRF token every form of this session carries back.
    pub csrf: String,
    /// Whether the sign-in proved a second factor (TOTP).
    pub second_factor: bool,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
}

impl fmt::Debug for SessionRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionRecord")
            .field("user", &self.user)
            .field("second_factor", &self.second_factor)
            .field("created_at", &self.created_at)
            .field("last_seen_at", &self.last_seen_at)
            .finish_non_exhaustive()
    }
}

/// A request to give a user a role (and the accounts it acts for). Granting operator or admin
/// takes a second admin's approval (four-eyes); `approved_*` is set when it was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRequest {
    /// Assigned by the store; 0 when inserting.
    pub id: u64,
    pub user: u64,
    pub role: Role,
    pub accounts: Vec<AccountId>,
    pub requested_by: String,
    pub requested_at: Timestamp,
    pub approved_by: Option<String>,
    pub approved_at: Option<Timestamp>,
}
