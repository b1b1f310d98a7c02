//! Registry controls against theft and misuse (issue #8; the EU ETS registry thefts of 2010–11
//! and the controls regulators added afterwards, research note §4.7): freezing an account or a
//! serial range with a published reason, a per-transaction quantity limit, a trusted-counterparty
//! list for outgoing transfers whose additions take effect only after a delay *and* a second
//! person's approval, and four-eyes cancellation.
//!
//! These are rules, so they live here and not in the HTTP layer: `Ledger::decide_at` checks every
//! movement of credits against them (`Ledger::check_movement`), whoever asks. Their commands and
//! events ride on the lifecycle's (`LifecycleCommand`, `LifecycleEvent`) so that they are logged,
//! replayed on load and persisted exactly like the rest of the program's state.

use std::collections::BTreeMap;

use super::LifecycleEvent;
use crate::command::{Event, Selection};
use crate::error::DomainError;
use crate::ids::{AccountId, CancellationId, Quantity, Timestamp};
use crate::ledger::{Ledger, MAX_NOTE_LEN, MAX_RANGES, check_quantity, check_text};
use crate::model::{AccountKind, BlockState, CancellationReason};
use crate::serial::SerialRange;

/// Longest delay before a new trusted counterparty takes effect: 30 days, in seconds.
pub const MAX_TRUSTED_DELAY_SECONDS: u32 = 30 * 24 * 3600;

/// The program's control settings and the state of freezes, trusted lists and pending
/// cancellations. Ordered collections only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Controls {
    /// The largest quantity one transfer may move; `None`: no limit.
    pub transfer_limit: Option<Quantity>,
    /// Whether transfers out of participant and buyer accounts may only go to counterparties on
    /// the sender's trusted list.
    pub trusted_only: bool,
    /// How long after it was proposed a trusted counterparty takes effect (it also needs a
    /// second person's approval).
    pub trusted_delay_seconds: u32,
    /// Frozen accounts and the published reason.
    pub frozen_accounts: BTreeMap<AccountId, Freeze>,
    /// Frozen serial ranges (e.g. reported stolen), keyed by their first serial; never overlapping.
    pub frozen_serials: BTreeMap<u64, (SerialRange, Freeze)>,
    /// Each account's trusted counterparties.
    pub trusted: BTreeMap<(AccountId, AccountId), TrustedCounterparty>,
    pub cancellations: BTreeMap<u64, CancellationRequest>,
}

impl Default for Controls {
    fn default() -> Self {
        Self {
            transfer_limit: None,
            trusted_only: false,
            // The EU registry's figure for a new trusted account (research note §4.7).
            trusted_delay_seconds: 26 * 3600,
            frozen_accounts: BTreeMap::new(),
            frozen_serials: BTreeMap::new(),
            trusted: BTreeMap::new(),
            cancellations: BTreeMap::new(),
        }
    }
}

/// Why and by whom something was frozen; public.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Freeze {
    pub reason: String,
    pub by: String,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedCounterparty {
    pub proposed_by: String,
    pub proposed_at: Timestamp,
    /// When the delay has passed (proposal time plus the delay configured then).
    pub effective_at: Timestamp,
    pub approved_by: Option<String>,
}

impl TrustedCounterparty {
    pub fn is_effective(&self, now: Timestamp) -> bool {
        self.approved_by.is_some() && now >= self.effective_at
    }
}

/// A cancellation asked for by one operator, waiting for a second.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancellationRequest {
    pub id: u64,
    pub from: AccountId,
    pub selection: Selection,
    pub reason: CancellationReason,
    pub note: String,
    pub requested_by: String,
    pub approved_by: Option<String>,
    pub cancellation: Option<CancellationId>,
}

impl Controls {
    pub(crate) fn apply(&mut self, event: &LifecycleEvent, at: Timestamp) {
        use LifecycleEvent as E;
        match event {
            E::ControlsConfigured { transfer_limit, trusted_only, trusted_delay_seconds, .. } => {
                self.transfer_limit = *transfer_limit;
                self.trusted_only = *trusted_only;
                self.trusted_delay_seconds = *trusted_delay_seconds;
            }
            E::AccountFrozen { account, frozen, reason, by } => {
                if *frozen {
                    self.frozen_accounts.insert(*account, Freeze { reason: reason.clone(), by: by.clone(), at });
                } else {
                    self.frozen_accounts.remove(account);
                }
            }
            E::SerialsFrozen { range, frozen, reason, by } => {
                if *frozen {
                    let freeze = Freeze { reason: reason.clone(), by: by.clone(), at };
                    self.frozen_serials.insert(range.start(), (*range, freeze));
                } else {
                    self.frozen_serials.remove(&range.start());
                }
            }
            E::CounterpartyProposed { account, counterparty, effective_at, by } => {
                let entry = TrustedCounterparty {
                    proposed_by: by.clone(),
                    proposed_at: at,
                    effective_at: *effective_at,
                    approved_by: None,
                };
                self.trusted.insert((*account, *counterparty), entry);
            }
            E::CounterpartyApproved { account, counterparty, by } => {
                let entry = self.trusted.get_mut(&(*account, *counterparty)).expect("approved an unknown proposal");
                entry.approved_by = Some(by.clone());
            }
            E::CounterpartyRemoved { account, counterparty, .. } => {
                self.trusted.remove(&(*account, *counterparty));
            }
            E::CancellationRequested { id, from, selection, reason, note, by } => {
                let request = CancellationRequest {
                    id: *id,
                    from: *from,
                    selection: selection.clone(),
                    reason: *reason,
                    note: note.clone(),
                    requested_by: by.clone(),
                    approved_by: None,
                    cancellation: None,
                };
                self.cancellations.insert(*id, request);
            }
            E::CancellationApproved { id, cancellation, by } => {
                let request = self.cancellations.get_mut(id).expect("approved an unknown cancellation request");
                request.approved_by = Some(by.clone());
                request.cancellation = Some(*cancellation);
            }
            _ => {}
        }
    }

    /// The parts of `range` that no freeze covers, lowest first: a quantity selection takes its
    /// credits from these, so a frozen block inside an account does not stop the account's other
    /// credits from moving.
    pub fn unfrozen_parts(&self, range: SerialRange) -> Vec<SerialRange> {
        let mut parts = Vec::new();
        let mut next = range.start();
        // Frozen ranges never overlap; the one starting before `range` may still reach into it.
        let first = self.frozen_serials.range(..=range.start()).next_back().map_or(range.start(), |(k, _)| *k);
        for (frozen, _) in self.frozen_serials.range(first..=range.end()).map(|(_, v)| v) {
            if frozen.end() < next {
                continue;
            }
            if frozen.start() > next {
                parts.push(SerialRange::new(next, frozen.start() - 1).expect("a gap before a freeze"));
            }
            next = frozen.end().saturating_add(1);
            if next > range.end() {
                return parts;
            }
        }
        parts.push(SerialRange::new(next, range.end()).expect("the rest after the last freeze"));
        parts
    }

    /// The freeze that covers any of `ranges`, if one does.
    pub fn frozen_range(&self, ranges: &[SerialRange]) -> Option<(SerialRange, &Freeze)> {
        ranges.iter().find_map(|r| {
            // Frozen ranges never overlap, so only the one starting at or before the end can.
            self.frozen_serials
                .range(..=r.end())
                .rev()
                .map(|(_, (f, freeze))| (*f, freeze))
                .find(|(f, _)| f.overlaps(*r))
        })
    }
}

/// What a movement of credits is, for the controls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Movement {
    Transfer { to: AccountId },
    Retire,
    Cancel,
}

impl Ledger {
    /// Checks a movement of `ranges` out of `from` against the controls, at `now`.
    pub(crate) fn check_movement(
        &self,
        from: AccountId,
        movement: Movement,
        ranges: &[SerialRange],
        now: Timestamp,
    ) -> Result<(), DomainError> {
        let controls = &self.lifecycle.controls;
        let frozen_account = |id: AccountId| {
            controls
                .frozen_accounts
                .get(&id)
                .map(|f| DomainError::Frozen { what: format!("account {id}"), reason: f.reason.clone() })
        };
        if let Some(e) = frozen_account(from) {
            return Err(e);
        }
        if let Movement::Transfer { to } = movement
            && let Some(e) = frozen_account(to)
        {
            return Err(e);
        }
        if let Some((range, freeze)) = controls.frozen_range(ranges) {
            return Err(DomainError::Frozen { what: format!("serials {range}"), reason: freeze.reason.clone() });
        }
        if let Movement::Transfer { to } = movement {
            let quantity = Quantity(ranges.iter().map(|r| r.len().0).sum());
            if let Some(limit) = controls.transfer_limit
                && quantity > limit
            {
                return Err(DomainError::OverTransferLimit { requested: quantity, limit });
            }
            let holder = self.account(from).map(|a| a.kind);
            let guarded = matches!(holder, Some(AccountKind::Participant | AccountKind::Buyer));
            if controls.trusted_only && guarded {
                match controls.trusted.get(&(from, to)) {
                    Some(t) if t.is_effective(now) => {}
                    Some(t) if t.approved_by.is_none() => {
                        return Err(DomainError::UntrustedCounterparty {
                            from,
                            to,
                            why: "is proposed but not yet approved by a second person".into(),
                        });
                    }
                    Some(t) => {
                        return Err(DomainError::UntrustedCounterparty {
                            from,
                            to,
                            why: format!("takes effect only after its delay, at {} µs", t.effective_at.0),
                        });
                    }
                    None => {
                        return Err(DomainError::UntrustedCounterparty {
                            from,
                            to,
                            why: "is not on the sender's trusted list".into(),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    pub(crate) fn decide_controls(
        &self,
        by: String,
        command: &super::LifecycleCommand,
        now: Timestamp,
    ) -> Result<Vec<Event>, DomainError> {
        use super::LifecycleCommand as C;
        use LifecycleEvent as E;
        let controls = &self.lifecycle.controls;
        let one = |e: LifecycleEvent| Ok(vec![Event::Lifecycle(e)]);
        match command {
            C::ConfigureControls { transfer_limit, trusted_only, trusted_delay_seconds } => {
                if let Some(limit) = transfer_limit {
                    check_quantity(*limit, "transfer limit")?;
                }
                if *trusted_delay_seconds > MAX_TRUSTED_DELAY_SECONDS {
                    return Err(DomainError::Invalid(format!(
                        "the trusted-counterparty delay is at most {MAX_TRUSTED_DELAY_SECONDS} seconds"
                    )));
                }
                one(E::ControlsConfigured {
                    transfer_limit: *transfer_limit,
                    trusted_only: *trusted_only,
                    trusted_delay_seconds: *trusted_delay_seconds,
                    by,
                })
            }
            C::FreezeAccount { account, frozen, reason } => {
                self.account(*account).ok_or(DomainError::UnknownAccount(*account))?;
                check_text("reason", reason, MAX_NOTE_LEN, true)?;
                if controls.frozen_accounts.contains_key(account) == *frozen {
                    let state = if *frozen { "already frozen" } else { "not frozen" };
                    return Err(wrong(format!("account {account}"), state, "change its freeze"));
                }
                one(E::AccountFrozen { account: *account, frozen: *frozen, reason: reason.clone(), by })
            }
            C::FreezeSerials { range, frozen, reason } => {
                check_text("reason", reason, MAX_NOTE_LEN, true)?;
                if *frozen {
                    if let Some((other, _)) = controls.frozen_range(&[*range]) {
                        return Err(DomainError::Duplicate(format!("serials {other} are already frozen")));
                    }
                    if self.block_at(range.start()).is_none() || self.block_at(range.end()).is_none() {
                        return Err(DomainError::NotIssued(*range));
                    }
                } else if controls.frozen_serials.get(&range.start()).is_none_or(|(r, _)| r != range) {
                    return Err(wrong(format!("serials {range}"), "not frozen as one range", "be unfrozen"));
                }
                one(E::SerialsFrozen { range: *range, frozen: *frozen, reason: reason.clone(), by })
            }
            C::ProposeCounterparty { account, counterparty } => {
                self.require_holder(*account, "keep a trusted list")?;
                self.account(*counterparty).ok_or(DomainError::UnknownAccount(*counterparty))?;
                if account == counterparty {
                    return Err(DomainError::Invalid("an account cannot trust itself".into()));
                }
                if controls.trusted.contains_key(&(*account, *counterparty)) {
                    return Err(DomainError::Duplicate(format!(
                        "account {counterparty} is already on account {account}'s trusted list"
                    )));
                }
                let delay = i64::from(controls.trusted_delay_seconds) * 1_000_000;
                let effective_at = Timestamp(now.0.saturating_add(delay));
                one(E::CounterpartyProposed { account: *account, counterparty: *counterparty, effective_at, by })
            }
            C::ApproveCounterparty { account, counterparty } => {
                let entry = controls.trusted.get(&(*account, *counterparty)).ok_or_else(|| DomainError::Unknown {
                    what: "trusted-counterparty proposal",
                    id: format!("{account}→{counterparty}"),
                })?;
                if entry.approved_by.is_some() {
                    return Err(wrong(format!("counterparty {counterparty} of {account}"), "approved", "be approved"));
                }
                if entry.proposed_by == by {
                    return Err(DomainError::FourEyes { what: "a trusted counterparty".into(), by });
                }
                one(E::CounterpartyApproved { account: *account, counterparty: *counterparty, by })
            }
            C::RemoveCounterparty { account, counterparty } => {
                if !controls.trusted.contains_key(&(*account, *counterparty)) {
                    return Err(DomainError::Unknown {
                        what: "trusted counterparty",
                        id: format!("{account}→{counterparty}"),
                    });
                }
                one(E::CounterpartyRemoved { account: *account, counterparty: *counterparty, by })
            }
            C::RequestCancellation { from, selection, reason, note } => {
                check_text("note", note, MAX_NOTE_LEN, false)?;
                if let Selection::Ranges(ranges) = selection
                    && ranges.len() > MAX_RANGES
                {
                    return Err(DomainError::Invalid(format!("at most {MAX_RANGES} ranges")));
                }
                // Checked now so that an impossible request is refused at once; checked again,
                // against the state of the day, when it is approved.
                self.cancellation_ranges(*from, selection, now)?;
                let id = controls.cancellations.keys().next_back().map_or(1, |k| k + 1);
                one(E::CancellationRequested {
                    id,
                    from: *from,
                    selection: selection.clone(),
                    reason: *reason,
                    note: note.clone(),
                    by,
                })
            }
            C::ApproveCancellation { request } => {
                let r = controls
                    .cancellations
                    .get(request)
                    .ok_or_else(|| DomainError::Unknown { what: "cancellation request", id: request.to_string() })?;
                if r.approved_by.is_some() {
                    return Err(wrong(format!("cancellation request {request}"), "approved", "be approved"));
                }
                if r.requested_by == by {
                    return Err(DomainError::FourEyes { what: format!("cancellation request {request}"), by });
                }
                let ranges = self.cancellation_ranges(r.from, &r.selection, now)?;
                let id = self.next_cancellation_id();
                Ok(vec![
                    Event::Cancelled { id, account: r.from, ranges, reason: r.reason, note: r.note.clone() },
                    Event::Lifecycle(E::CancellationApproved { id: *request, cancellation: id, by }),
                ])
            }
            _ => Err(DomainError::Invalid("not a control command".into())),
        }
    }

    fn require_holder(&self, id: AccountId, action: &'static str) -> Result<(), DomainError> {
        let account = self.account(id).ok_or(DomainError::UnknownAccount(id))?;
        if matches!(account.kind, AccountKind::Participant | AccountKind::Buyer) {
            Ok(())
        } else {
            Err(DomainError::WrongAccountKind { account: id, kind: account.kind.as_str(), action })
        }
    }

    /// The ranges a cancellation from `from` takes, as `Command::Cancel` would choose them.
    pub(crate) fn cancellation_ranges(
        &self,
        from: AccountId,
        selection: &Selection,
        now: Timestamp,
    ) -> Result<Vec<SerialRange>, DomainError> {
        let account = self.account(from).ok_or(DomainError::UnknownAccount(from))?;
        let state = match account.kind {
            AccountKind::Buffer => BlockState::Buffer,
            k if k.holds_tradable() => BlockState::Tradable,
            k => {
                return Err(DomainError::WrongAccountKind {
                    account: from,
                    kind: k.as_str(),
                    action: "cancel credits",
                });
            }
        };
        let ranges = self.select(from, state, selection)?;
        self.check_movement(from, Movement::Cancel, &ranges, now)?;
        Ok(ranges)
    }
}

fn wrong(what: String, state: &str, action: &'static str) -> DomainError {
    DomainError::WrongState { what, state: state.to_owned(), action }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfrozen_parts_are_the_gaps_between_freezes() {
        let mut controls = Controls::default();
        let range = |a, b| SerialRange::new(a, b).expect("range");
        for frozen in [range(1, 3), range(5, 10), range(20, 20), range(95, 120)] {
            let freeze = Freeze { reason: "stolen".into(), by: "op".into(), at: Timestamp(0) };
            controls.frozen_serials.insert(frozen.start(), (frozen, freeze));
        }
        assert_eq!(controls.unfrozen_parts(range(2, 100)), [range(4, 4), range(11, 19), range(21, 94)]);
        assert_eq!(controls.unfrozen_parts(range(5, 10)), []);
        assert_eq!(controls.unfrozen_parts(range(11, 19)), [range(11, 19)]);
        assert_eq!(controls.unfrozen_parts(range(200, 300)), [range(200, 300)]);
    }
}
