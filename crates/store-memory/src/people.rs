//! Tokens, the security audit trail, organisations, users, sessions and role requests: access
//! configuration beside the registry, with the SQL schema's unique columns and foreign keys.

use std::collections::BTreeMap;

use furrow_domain::Timestamp;
use furrow_store::{
    Organisation, ProgramEntry, RoleRequest, SecurityEvent, SessionRecord, StoreError, TokenPolicy, TokenRecord,
    UserRecord,
};

use crate::{Tables, next_id};

#[derive(Default)]
pub(crate) struct People {
    pub(crate) tokens: BTreeMap<u64, (TokenRecord, TokenPolicy)>,
    pub(crate) security_events: BTreeMap<u64, SecurityEvent>,
    pub(crate) organisations: BTreeMap<u64, Organisation>,
    pub(crate) users: BTreeMap<u64, UserRecord>,
    pub(crate) sessions: BTreeMap<[u8; 32], SessionRecord>,
    pub(crate) role_requests: BTreeMap<u64, RoleRequest>,
    /// The program's pages (issue #9), by id; read in (position, id) order.
    pub(crate) program_entries: BTreeMap<u64, ProgramEntry>,
}

impl People {
    pub(crate) fn token_by_hash(&self, hash: &[u8; 32]) -> Option<&(TokenRecord, TokenPolicy)> {
        self.tokens.values().find(|(t, _)| &t.hash == hash)
    }
}

fn unique(what: &str) -> StoreError {
    StoreError::Conflict { constraint: format!("UNIQUE constraint failed: {what}") }
}

fn foreign_key(what: &str) -> StoreError {
    StoreError::Conflict { constraint: format!("FOREIGN KEY constraint failed: {what}") }
}

/// A new token: a write token that never expires until its policy says otherwise (the column
/// defaults of `0008_security.sql`).
pub(crate) fn insert_token(t: &mut Tables, token: &TokenRecord) -> Result<u64, StoreError> {
    if t.people.token_by_hash(&token.hash).is_some() {
        return Err(unique("tokens.hash"));
    }
    let id = next_id(&t.people.tokens);
    let policy = TokenPolicy { can_write: true, expires_at: None, revoked_at: None, last_used_at: None };
    t.people.tokens.insert(id, (TokenRecord { id, ..token.clone() }, policy));
    Ok(id)
}

pub(crate) fn insert_organisation(t: &mut Tables, name: &str, at: Timestamp) -> Result<u64, StoreError> {
    let organisations = &mut t.people.organisations;
    if organisations.values().any(|o| o.name == name) {
        return Err(unique("organisations.name"));
    }
    let id = next_id(organisations);
    organisations.insert(id, Organisation { id, name: name.to_owned(), created_at: at });
    Ok(id)
}

pub(crate) fn insert_user(t: &mut Tables, user: &UserRecord) -> Result<u64, StoreError> {
    let people = &mut t.people;
    if people.users.values().any(|u| u.email == user.email) {
        return Err(unique("users.email"));
    }
    if !people.organisations.contains_key(&user.organisation) {
        return Err(foreign_key("users.organisation"));
    }
    let id = next_id(&people.users);
    people.users.insert(id, UserRecord { id, ..user.clone() });
    Ok(id)
}

pub(crate) fn insert_session(t: &mut Tables, session: &SessionRecord) -> Result<(), StoreError> {
    let people = &mut t.people;
    if people.sessions.contains_key(&session.hash) {
        return Err(unique("sessions.hash"));
    }
    if !people.users.contains_key(&session.user) {
        return Err(foreign_key("sessions.user_id"));
    }
    people.sessions.insert(session.hash, session.clone());
    Ok(())
}

pub(crate) fn insert_role_request(t: &mut Tables, request: &RoleRequest) -> Result<u64, StoreError> {
    let people = &mut t.people;
    if !people.users.contains_key(&request.user) {
        return Err(foreign_key("role_requests.user_id"));
    }
    let id = next_id(&people.role_requests);
    // Like the SQL insert, which names no approval columns: a new request is pending.
    let stored = RoleRequest { id, approved_by: None, approved_at: None, ..request.clone() };
    people.role_requests.insert(id, stored);
    Ok(id)
}

/// Marks a pending request approved and gives its user the role and accounts; false if it was
/// not pending.
pub(crate) fn apply_role_request(t: &mut Tables, id: u64, by: &str, at: Timestamp) -> bool {
    let people = &mut t.people;
    let Some(request) = people.role_requests.get_mut(&id).filter(|r| r.approved_at.is_none()) else {
        return false;
    };
    request.approved_by = Some(by.to_owned());
    request.approved_at = Some(at);
    let (user, role, accounts) = (request.user, request.role, request.accounts.clone());
    if let Some(user) = people.users.get_mut(&user) {
        user.role = role;
        user.accounts = accounts;
    }
    true
}

/// Every entry of the program's pages, ordered like `ORDER BY position, id`.
pub(crate) fn program_entries(t: &Tables) -> Vec<ProgramEntry> {
    let mut entries: Vec<ProgramEntry> = t.people.program_entries.values().cloned().collect();
    entries.sort_by_key(|e| (e.position, e.id));
    entries
}

/// `INSERT … ON CONFLICT (id) DO NOTHING` for each entry: an entry already there keeps its text.
pub(crate) fn seed_program_entries(t: &mut Tables, entries: &[ProgramEntry]) {
    for e in entries {
        t.people.program_entries.entry(e.id).or_insert_with(|| e.clone());
    }
}

/// Adds an entry under the next id (one more than the largest), like the SQL backends.
pub(crate) fn insert_program_entry(t: &mut Tables, e: &ProgramEntry) -> u64 {
    let id = t.people.program_entries.keys().next_back().map_or(1, |last| last + 1);
    t.people.program_entries.insert(id, ProgramEntry { id, ..e.clone() });
    id
}

/// Replaces an entry's texts and authorship (not its section or position); false when no entry
/// has that id.
pub(crate) fn update_program_entry(t: &mut Tables, e: &ProgramEntry) -> bool {
    let Some(stored) = t.people.program_entries.get_mut(&e.id) else { return false };
    *stored = ProgramEntry { section: stored.section.clone(), position: stored.position, ..e.clone() };
    true
}
