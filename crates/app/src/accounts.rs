//! People (issue #8): organisations and users with a role, password sign-in into web sessions,
//! TOTP as a second factor, and role grants that a second admin approves. A signed-in session
//! becomes the same `Principal` a token does, so authorization (`authz.rs`) is not repeated here.
//!
//! Like tokens, users and sessions are access configuration, not registry state: they bypass the
//! sequencer and the log. Every change and every sign-in attempt is in the security audit trail.

use std::net::IpAddr;

use furrow_domain::{AccountId, AccountKind, Role, Timestamp};
use furrow_store::{Organisation, RoleRequest, SecurityEvent, SessionRecord, Store, UserRecord};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::password::{self, Password};
use crate::{AppError, Principal, Proof, Registry, totp};

/// A session ends after this long without a request (OWASP ASVS 3.3.2: 30 minutes at level 2).
pub const IDLE_TIMEOUT_US: i64 = 30 * 60 * 1_000_000;
/// And at the latest this long after sign-in, however active (ASVS 3.3.4).
pub const ABSOLUTE_TIMEOUT_US: i64 = 12 * 60 * 60 * 1_000_000;
/// Last activity is written at most this often, so that reading pages does not queue writes;
/// the idle timeout is therefore exact to within a minute.
const TOUCH_EVERY_US: i64 = 60_000_000;

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    /// The organisation's name; created if it does not exist yet.
    pub organisation: String,
    pub role: Role,
    pub accounts: Vec<AccountId>,
    pub password: Password,
}

/// What a successful sign-in hands the browser: the session id (the cookie's value, shown only
/// here; the store keeps its hash) and the session's anti-CSRF token.
#[derive(Clone)]
pub struct SignedIn {
    pub session_id: String,
    pub csrf: String,
}

impl std::fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignedIn(<redacted>)")
    }
}

/// A live session: who is signed in, and as what principal they act.
#[derive(Clone)]
pub struct Session {
    pub user: UserRecord,
    pub organisation: Organisation,
    pub principal: Principal,
    pub csrf: String,
    pub created_at: Timestamp,
}

/// Redacted: the CSRF token is a secret of the session.
impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("user", &self.user)
            .field("organisation", &self.organisation)
            .field("principal", &self.principal)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// The log's actor for a signed-in user: a stable pseudonym, never the e-mail address, because
/// log entries are public.
pub fn subject_of(user: &UserRecord) -> String {
    format!("user-{}", user.id)
}

fn session_hash(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A fresh random TOTP secret, for enrolment.
pub fn new_totp_secret() -> [u8; totp::SECRET_LEN] {
    let mut secret = [0u8; totp::SECRET_LEN];
    rand::rng().fill_bytes(&mut secret);
    secret
}

/// E-mail addresses are compared trimmed and in lower case.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

async fn audit(store: &dyn Store, at: Timestamp, kind: &str, subject: &str, detail: String) {
    let event = SecurityEvent { id: 0, at, kind: kind.to_owned(), subject: subject.to_owned(), detail };
    if let Err(e) = store.append_security_event(&event).await {
        tracing::error!(error = %e, kind, "could not append to the security audit trail");
    }
}

async fn check_accounts(store: &dyn Store, role: Role, accounts: &[AccountId]) -> Result<(), AppError> {
    let acts_for_accounts = matches!(role, Role::Buyer | Role::Participant);
    if acts_for_accounts && accounts.is_empty() {
        return Err(AppError::Invalid(format!("a {role} needs at least one account it acts for")));
    }
    if !acts_for_accounts && !accounts.is_empty() {
        return Err(AppError::Invalid(format!("a {role} acts for the whole program, not for accounts")));
    }
    for id in accounts {
        let (account, _) = store.account(*id).await?.ok_or_else(|| AppError::NotFound(format!("account {id}")))?;
        if !matches!(account.kind, AccountKind::Buyer | AccountKind::Participant) {
            return Err(AppError::Invalid(format!(
                "account {id} is of kind {}; users act for buyer or participant accounts",
                account.kind
            )));
        }
    }
    Ok(())
}

/// Creates a user (and its organisation if new), from the server's shell: `furrow user create`
/// and the demo. This is how the first admins exist; after that, roles that matter are granted
/// through four-eyes role requests. Audited (`user_created`).
pub async fn create_user(store: &dyn Store, now: Timestamp, by: &str, new: &NewUser) -> Result<UserRecord, AppError> {
    let email = normalise_email(&new.email);
    let plausible = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if !plausible {
        return Err(AppError::Invalid("the e-mail address is not valid".into()));
    }
    let org_name = new.organisation.trim();
    if org_name.is_empty() || org_name.len() > 200 || org_name.chars().any(char::is_control) {
        return Err(AppError::Invalid("the organisation's name must be 1-200 printable characters".into()));
    }
    new.password.check_length().map_err(AppError::Invalid)?;
    check_accounts(store, new.role, &new.accounts).await?;
    if store.user_by_email(&email).await?.is_some() {
        return Err(AppError::AlreadyExists(format!("a user with the e-mail address {email}")));
    }
    let organisation = match store.organisation_named(org_name).await? {
        Some(o) => o.id,
        None => store.insert_organisation(org_name, now).await?,
    };
    let password = new.password.clone();
    let password_hash = tokio::task::spawn_blocking(move || password::hash(&password))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let mut user = UserRecord {
        id: 0,
        email,
        organisation,
        role: new.role,
        accounts: new.accounts.clone(),
        password_hash,
        totp_secret: None,
        created_at: now,
    };
    user.id = store.insert_user(&user).await.map_err(|e| match e {
        furrow_store::StoreError::Conflict { .. } => AppError::AlreadyExists("that user".into()),
        e => e.into(),
    })?;
    let accounts = user.accounts.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    audit(
        store,
        now,
        "user_created",
        by,
        format!("{}: role {}, organisation {org_name}, accounts [{accounts}]", subject_of(&user), user.role),
    )
    .await;
    Ok(user)
}

impl Registry {
    /// Limits in force (tests lower them).
    pub fn set_rate_limits(&self, settings: crate::RateLimitSettings) {
        self.limits.set(settings);
    }

    /// Creates a user; see [`create_user`]. Only the server's own tools call this.
    pub async fn create_user(&self, by: &str, new: &NewUser) -> Result<UserRecord, AppError> {
        create_user(self.store.as_ref(), self.clock.now(), by, new).await
    }

    /// Signs a user in with a password (and a TOTP code once they enrolled one) and opens a new
    /// session; `previous` (the browser's old session, if any) is ended, so the id changes on
    /// every sign-in. Five failures per user or per client address in 15 minutes refuse further
    /// attempts with `TooManyRequests` until the window passes. Every outcome is audited.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &Password,
        code: Option<&str>,
        client: Option<IpAddr>,
        previous: Option<&str>,
    ) -> Result<SignedIn, AppError> {
        let store = self.store.as_ref();
        let now = self.clock.now();
        let email = normalise_email(email);
        if email.is_empty() || email.len() > 254 {
            return Err(AppError::Unauthenticated);
        }
        let mut keys = vec![format!("user:{email}")];
        if let Some(ip) = client {
            keys.push(format!("ip:{ip}"));
        }
        let from = client.map_or("an unknown address".to_owned(), |ip| ip.to_string());
        if let Some(wait) = self.limits.sign_in_blocked(&keys, now) {
            audit(store, now, "sign_in_failed", &email, format!("rate limited, from {from}")).await;
            return Err(AppError::TooManyRequests(wait));
        }
        let user = store.user_by_email(&email).await?;
        let stored = user.as_ref().map_or(password::decoy().to_owned(), |u| u.password_hash.clone());
        let given = password.clone();
        let turn = self.limits.hashing_turn().await;
        let matches = tokio::task::spawn_blocking(move || password::verify(&given, &stored))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        drop(turn);
        let Some(user) = user.filter(|_| matches) else {
            self.limits.sign_in_failed(&keys, now);
            audit(store, now, "sign_in_failed", &email, format!("wrong e-mail address or password, from {from}")).await;
            return Err(AppError::Unauthenticated);
        };
        let subject = subject_of(&user);
        if let Some(secret) = &user.totp_secret {
            let seconds = u64::try_from(now.0 / 1_000_000).unwrap_or(0);
            // A code is good once (RFC 6238 §5.2): one seen on the wire cannot be replayed.
            let step = code.and_then(|c| totp::matching_step(secret, c, seconds));
            if !step.is_some_and(|step| self.limits.totp_step(user.id, step)) {
                self.limits.sign_in_failed(&keys, now);
                let why = if step.is_some() { "a code already used" } else { "a missing or wrong code" };
                audit(store, now, "totp_failed", &subject, format!("sign-in with {why}, from {from}")).await;
                return Err(AppError::Unauthenticated);
            }
        }
        self.limits.forget(&keys[0]);
        if let Some(previous) = previous {
            store.delete_session(&session_hash(previous)).await?;
        }
        let session_id = random_hex();
        let csrf = random_hex();
        let record = SessionRecord {
            hash: session_hash(&session_id),
            user: user.id,
            csrf: csrf.clone(),
            second_factor: user.totp_secret.is_some(),
            created_at: now,
            last_seen_at: now,
        };
        store.insert_session(&record).await?;
        let factor = if record.second_factor { "password and TOTP" } else { "password" };
        audit(store, now, "sign_in_succeeded", &subject, format!("with {factor}, from {from}")).await;
        Ok(SignedIn { session_id, csrf })
    }

    /// The live session with this id, or `Unauthenticated`. A session past its idle or absolute
    /// timeout is deleted (audited `session_expired`).
    pub async fn session(&self, id: &str) -> Result<Session, AppError> {
        if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(AppError::Unauthenticated);
        }
        let store = self.store.as_ref();
        let now = self.clock.now();
        let hash = session_hash(id);
        let record = store.session(&hash).await?.ok_or(AppError::Unauthenticated)?;
        let idle = now.0 - record.last_seen_at.0 >= IDLE_TIMEOUT_US;
        let old = now.0 - record.created_at.0 >= ABSOLUTE_TIMEOUT_US;
        if idle || old {
            if store.delete_session(&hash).await? {
                let why = if old { "12 hours after sign-in" } else { "after 30 minutes without use" };
                audit(store, now, "session_expired", &format!("user-{}", record.user), why.to_owned()).await;
            }
            return Err(AppError::Unauthenticated);
        }
        if now.0 - record.last_seen_at.0 >= TOUCH_EVERY_US {
            store.touch_session(&hash, now).await?;
        }
        let user = store.user(record.user).await?.ok_or(AppError::Unauthenticated)?;
        let organisation = store
            .organisation(user.organisation)
            .await?
            .ok_or_else(|| AppError::Internal(format!("user {} has no organisation", user.id)))?;
        let proof = if record.second_factor { Proof::PasswordAndTotp } else { Proof::Password };
        let principal =
            Principal { subject: subject_of(&user), role: user.role, accounts: user.accounts.clone(), proof };
        Ok(Session { user, organisation, principal, csrf: record.csrf, created_at: record.created_at })
    }

    /// Ends a session (the sign-out button). Audited.
    pub async fn sign_out(&self, id: &str) -> Result<(), AppError> {
        let session = self.session(id).await?;
        self.store.delete_session(&session_hash(id)).await?;
        self.audit("signed_out", &session.principal.subject, String::new()).await;
        Ok(())
    }

    /// Enrols a TOTP secret for the signed-in user, once they prove their app holds it with a
    /// current code. Existing sessions keep their proof; the next sign-in needs a code.
    pub async fn enrol_totp(&self, session: &Session, secret: &[u8], code: &str) -> Result<(), AppError> {
        if secret.len() != totp::SECRET_LEN {
            return Err(AppError::Invalid("the TOTP secret is malformed; start again".into()));
        }
        let now = self.clock.now();
        let seconds = u64::try_from(now.0 / 1_000_000).unwrap_or(0);
        let step = totp::matching_step(secret, code, seconds);
        if !step.is_some_and(|step| self.limits.totp_step(session.user.id, step)) {
            self.audit("totp_failed", &session.principal.subject, "enrolment with a wrong or used code".into()).await;
            return Err(AppError::Invalid(
                "that code is not the current one; check the app's clock and try again".into(),
            ));
        }
        self.store.set_user_totp(session.user.id, Some(secret)).await?;
        self.audit("totp_enrolled", &session.principal.subject, String::new()).await;
        Ok(())
    }

    /// Every user (admins); never password hashes or secrets beyond the record's redacted form.
    pub async fn users(&self, by: &Principal) -> Result<Vec<(UserRecord, Organisation)>, AppError> {
        self.admin_only(by, "list users").await?;
        let mut out = Vec::new();
        for user in self.store.users().await? {
            let org = self
                .store
                .organisation(user.organisation)
                .await?
                .ok_or_else(|| AppError::Internal(format!("user {} has no organisation", user.id)))?;
            out.push((user, org));
        }
        Ok(out)
    }

    /// Asks to give a user a role (admins). Granting operator or admin waits for a second admin
    /// (four-eyes, [`Registry::approve_role`]); any other role is granted at once. Audited.
    pub async fn request_role(
        &self,
        by: &Principal,
        user: u64,
        role: Role,
        accounts: &[AccountId],
    ) -> Result<RoleRequest, AppError> {
        self.admin_only(by, "grant roles").await?;
        let target = self.store.user(user).await?.ok_or_else(|| AppError::NotFound(format!("user {user}")))?;
        check_accounts(self.store.as_ref(), role, accounts).await?;
        let now = self.clock.now();
        let mut request = RoleRequest {
            id: 0,
            user: target.id,
            role,
            accounts: accounts.to_vec(),
            requested_by: by.subject.clone(),
            requested_at: now,
            approved_by: None,
            approved_at: None,
        };
        request.id = self.store.insert_role_request(&request).await?;
        let detail = format!("request {}: {} from {} to {role}", request.id, subject_of(&target), target.role);
        self.audit("role_requested", &by.subject, detail).await;
        if !matches!(role, Role::Admin | Role::Operator) {
            self.store.apply_role_request(request.id, &by.subject, now).await?;
            self.audit(
                "role_granted",
                &by.subject,
                format!("request {}: {} is now {role}", request.id, subject_of(&target)),
            )
            .await;
            request.approved_by = Some(by.subject.clone());
            request.approved_at = Some(now);
        }
        Ok(request)
    }

    /// Approves a pending role request: another admin than the one who asked, with a strong
    /// proof (a token, or a session signed in with TOTP). Audited.
    pub async fn approve_role(&self, by: &Principal, id: u64) -> Result<RoleRequest, AppError> {
        self.admin_only(by, "approve role grants").await?;
        if !by.proof.is_strong() {
            self.audit("permission_denied", &by.subject, format!("approve role request {id} without a second factor"))
                .await;
            return Err(AppError::Forbidden(
                "approving a role grant needs a second factor: enrol TOTP at /me and sign in again with a code".into(),
            ));
        }
        let request =
            self.store.role_request(id).await?.ok_or_else(|| AppError::NotFound(format!("role request {id}")))?;
        if request.approved_at.is_some() {
            return Err(AppError::Invalid(format!("role request {id} was already granted")));
        }
        if request.requested_by == by.subject {
            self.audit("permission_denied", &by.subject, format!("approve own role request {id}")).await;
            return Err(AppError::FourEyes(
                "a role grant needs a second admin: the one who asked cannot approve".into(),
            ));
        }
        let now = self.clock.now();
        if !self.store.apply_role_request(id, &by.subject, now).await? {
            return Err(AppError::Invalid(format!("role request {id} was already granted")));
        }
        let detail =
            format!("request {id}: user-{} is now {}, asked by {}", request.user, request.role, request.requested_by);
        self.audit("role_granted", &by.subject, detail).await;
        self.store.role_request(id).await?.ok_or_else(|| AppError::NotFound(format!("role request {id}")))
    }

    /// Every role request, oldest first (admins).
    pub async fn role_requests(&self, by: &Principal) -> Result<Vec<RoleRequest>, AppError> {
        self.admin_only(by, "read role requests").await?;
        Ok(self.store.role_requests().await?)
    }
}
