//! Furrow's use cases. `Registry` is the one entry point the HTTP layer and the CLI use: it
//! authenticates callers, authorizes commands, keeps idempotency, and hands every mutation to the
//! single sequencer. Reads go straight to the store and never wait for the writer.

pub mod accounts;
mod authz;
mod error;
pub mod explorer;
pub mod external;
mod idempotency;
pub mod password;
pub mod program;
mod ratelimit;
mod security;
mod sequencer;
/// Deliberate bugs for the simulator's tests to turn on (see `simulation`).
pub use sequencer::injected;
pub mod simulation;
pub mod totp;
pub mod transparency;

use std::sync::Arc;

use furrow_domain::lifecycle::Lifecycle;
use furrow_domain::{AccountId, AccountKind, Command, LogEntry, Role, Timestamp};
use furrow_store::{Page, Store, TokenRecord};
use rand::RngCore;
use sha2::{Digest, Sha256};

pub use authz::{Principal, Proof, ReadScope, authorize, authorize_read, needs_second_factor, owns_participant};
pub use error::AppError;
pub use furrow_store as store;
pub use idempotency::{MAX_KEY_LEN, Outcome, RequestKey};
pub use ratelimit::RateLimitSettings;
pub use security::{Access, TokenSpec, create_token_with};
pub use sequencer::{Clock, LogOptions, SequencerOptions, StatusSnapshot, SystemClock};

use sequencer::{Reply, SequencerHandle};

/// Prefix of every API token, so a leaked token is recognisable (secret scanners, logs).
pub const TOKEN_PREFIX: &str = "furrow_";

/// The result of a mutation: the log entries it appended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    pub entries: Vec<LogEntry>,
    /// True when this is the stored result of an earlier request with the same idempotency key.
    pub replayed: bool,
}

#[derive(Clone)]
pub struct Registry {
    store: Arc<dyn Store>,
    sequencer: SequencerHandle,
    clock: Arc<dyn Clock>,
    /// The verifier key of the log's signer, if the log is signed (text `name+id+key`).
    log_key: Option<String>,
    checkpointer: Option<Arc<transparency::CheckpointerHandle>>,
    /// The committed lifecycle state, as the sequencer last published it.
    lifecycle: tokio::sync::watch::Receiver<Arc<Lifecycle>>,
    /// The status page's program and totals, as the sequencer last published them.
    status: tokio::sync::watch::Receiver<Arc<StatusSnapshot>>,
    /// The sequencer's idempotency key mark (`RecentKeys`).
    keys_mark: Arc<std::sync::atomic::AtomicU64>,
    /// Sign-in failures and token use, counted in memory.
    limits: Arc<ratelimit::RateLimits>,
}

impl Registry {
    /// Loads the state and starts the sequencer. Call once per database: the sequencer must be
    /// the only writer.
    pub async fn start(store: Arc<dyn Store>, options: SequencerOptions) -> Result<Self, AppError> {
        Self::start_with_clock(store, Arc::new(SystemClock), options).await
    }

    pub async fn start_with_clock(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        options: SequencerOptions,
    ) -> Result<Self, AppError> {
        // Before anything writes: the checkpointer and the sequencer both assume they are alone.
        store.claim_writer().await?;
        let log_key = options.log.as_ref().map(|log| log.verifier_key.clone());
        let checkpointer = options.log.clone().map(|log| transparency::start(store.clone(), clock.clone(), log.signer));
        let (sequencer, published) =
            sequencer::start(store.clone(), clock.clone(), options, checkpointer.clone()).await?;
        Ok(Self {
            store,
            sequencer,
            clock,
            log_key,
            checkpointer,
            lifecycle: published.lifecycle,
            status: published.status,
            keys_mark: published.keys_mark,
            limits: Arc::default(),
        })
    }

    /// Stops background work that uses the store (the checkpointer), before the store is closed.
    pub fn stop_background(&self) {
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.stopped.store(true, std::sync::atomic::Ordering::Release);
        }
    }

    /// The log's verifier key (C2SP vkey), if the log is signed.
    pub fn log_key(&self) -> Option<&str> {
        self.log_key.as_deref()
    }

    /// The read side.
    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// The registry's clock: pages compare it with a quote's expiry.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The program lifecycle as of the last commit (methodologies, projects, participants,
    /// parcels, enrolments, reports, issuance requests, reversals, labels), personal data
    /// included: callers decide what a principal may see. It never waits for the writer.
    pub fn lifecycle(&self) -> Arc<Lifecycle> {
        self.lifecycle.borrow().clone()
    }

    /// The program and the registry-wide totals as of the last acknowledged commit (the status
    /// page), from memory: a commit publishes them before it answers its callers.
    pub fn status(&self) -> Arc<StatusSnapshot> {
        self.status.borrow().clone()
    }

    /// The program and totals a public page shows. Without a read replica, the sequencer's
    /// snapshot of the last commit ([`Registry::status`]: nothing is counted per request, where
    /// counting sums every block). When public reads come from a read replica, the replica's own
    /// count, so the totals agree with every other public read.
    pub async fn public_status(&self) -> Result<StatusSnapshot, AppError> {
        if self.store.read_replica().await?.is_some() {
            return Ok(StatusSnapshot { program: self.store.program().await?, totals: self.store.totals().await? });
        }
        Ok(self.status().as_ref().clone())
    }

    /// Runs a command for a caller: authorize, then sequence. With an idempotency key, a repeat of
    /// the same request returns the first result; a different request with the same key is refused.
    pub async fn execute(
        &self,
        principal: &Principal,
        mut command: Command,
        key: Option<RequestKey>,
    ) -> Result<Committed, AppError> {
        if let Err(denied) = authorize(principal, &command, &self.lifecycle()) {
            self.audit("permission_denied", &principal.subject, format!("{}: {denied}", command.name())).await;
            return Err(denied);
        }
        fill_salt(&mut command);
        let mut looked_up_at = None;
        if let Some(key) = &key {
            // Noted first: the lookup below then sees every group up to this mark, and the
            // sequencer checks only the later ones, from memory (`RecentKeys`).
            looked_up_at = Some(idempotency::RecentKeys::mark_now(&self.keys_mark));
            // Fast path for retries; the sequencer checks again, race-free, before writing.
            if let Some(record) = self.store.find_idempotent(&key.scope, &key.key).await? {
                if record.request_hash != key.request_hash {
                    return Err(AppError::IdempotencyMismatch);
                }
                return self.replay(Outcome::from_record(&record.outcome)?).await;
            }
        }
        match self.sequencer.submit(principal.subject.clone(), command, key, looked_up_at).await? {
            Reply::Fresh(entries) => Ok(Committed { entries, replayed: false }),
            Reply::Earlier(outcome) => self.replay(outcome).await,
        }
    }

    async fn replay(&self, outcome: Outcome) -> Result<Committed, AppError> {
        let page =
            Page { after: outcome.first_index.checked_sub(1), limit: u32::try_from(outcome.count).unwrap_or(u32::MAX) };
        let rows = self.store.log_entries(page).await?;
        let entries = rows
            .iter()
            .map(|row| LogEntry::decode(&row.bytes).map_err(|e| AppError::Internal(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        if entries.len() as u64 != outcome.count {
            return Err(AppError::Internal("an idempotency record points at missing log entries".into()));
        }
        Ok(Committed { entries, replayed: true })
    }

    /// Resolves a bearer token to its principal, for reading (see [`Registry::authenticate_for`]).
    pub async fn authenticate(&self, token: &str) -> Result<Principal, AppError> {
        self.authenticate_for(token, Access::Read).await
    }

    /// Creates an unexpiring read-write API token and returns its secret (see [`create_token`]).
    pub async fn create_token(&self, subject: &str, role: Role, accounts: &[AccountId]) -> Result<String, AppError> {
        create_token(self.store.as_ref(), self.clock.now(), subject, role, accounts).await
    }
}

/// Gives a command that seals personal data a fresh random salt, unless its caller chose one (a
/// zero salt means "choose for me"; simulations pass their own so that runs are reproducible).
fn fill_salt(command: &mut Command) {
    if let Command::Lifecycle { command, .. } = command
        && let Some(salt) = command.salt_mut()
        && *salt == [0; 32]
    {
        rand::rng().fill_bytes(salt);
    }
}

/// Creates an unexpiring read-write API token and returns its secret. Only the secret's hash is
/// stored: the secret is shown once. Tokens are access configuration, not registry state, so they
/// bypass the sequencer and the log; `furrow token create` can run while a server holds the
/// database. Audited, like [`create_token_with`].
pub async fn create_token(
    store: &dyn Store,
    now: Timestamp,
    subject: &str,
    role: Role,
    accounts: &[AccountId],
) -> Result<String, AppError> {
    let spec =
        TokenSpec { subject: subject.to_owned(), role, accounts: accounts.to_vec(), can_write: true, expires_at: None };
    create_token_with(store, now, &spec).await
}

/// Checks and stores a new token; returns its secret and id.
async fn insert_token(
    store: &dyn Store,
    now: Timestamp,
    subject: &str,
    role: Role,
    accounts: &[AccountId],
) -> Result<(String, u64), AppError> {
    if subject.trim().is_empty() || subject.len() > 100 || subject.chars().any(char::is_control) {
        return Err(AppError::Invalid("the token's subject must be 1-100 printable characters".into()));
    }
    let acts_for_accounts = matches!(role, Role::Buyer | Role::Participant);
    if acts_for_accounts && accounts.is_empty() {
        return Err(AppError::Invalid(format!("a {role} token needs at least one --account it acts for")));
    }
    if !acts_for_accounts && !accounts.is_empty() {
        return Err(AppError::Invalid(format!("a {role} token acts for the whole program; drop --account")));
    }
    for id in accounts {
        let (account, _) = store.account(*id).await?.ok_or_else(|| AppError::NotFound(format!("account {id}")))?;
        if !matches!(account.kind, AccountKind::Buyer | AccountKind::Participant) {
            return Err(AppError::Invalid(format!(
                "account {id} is of kind {}; tokens act for buyer or participant accounts",
                account.kind
            )));
        }
    }
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let token = format!("{TOKEN_PREFIX}{}", hex::encode(secret));
    let record = TokenRecord {
        id: 0,
        hash: hash_token(&token),
        subject: subject.to_owned(),
        role,
        accounts: accounts.to_vec(),
        created_at: now,
    };
    let id = store.insert_token(&record).await?;
    Ok((token, id))
}

fn hash_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// A log timestamp as the API shows it: RFC 3339 in UTC (microseconds, trailing zeros trimmed).
pub fn rfc3339(t: Timestamp) -> String {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(t.0) * 1000)
        .ok()
        .and_then(|d| d.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// Re-exported for callers that need a timestamp outside the sequencer.
pub fn now() -> Timestamp {
    SystemClock.now()
}
