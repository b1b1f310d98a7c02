//! Idempotency keys: a client retries a mutation with the same key and gets the first result
//! back, never a second effect (TigerBeetle's "reliable transaction submission").

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use crate::error::AppError;

/// A caller's idempotency key and the fingerprint of the request it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestKey {
    /// Whose key it is: keys of different callers never collide.
    pub scope: String,
    pub key: String,
    pub request_hash: [u8; 32],
}

/// Longest key accepted, like Stripe's.
pub const MAX_KEY_LEN: usize = 255;

impl RequestKey {
    /// Fingerprints a request by its method, path and exact body bytes.
    pub fn new(scope: &str, key: &str, method: &str, path: &str, body: &[u8]) -> Result<Self, AppError> {
        if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(AppError::Invalid(format!(
                "Idempotency-Key must be 1-{MAX_KEY_LEN} visible ASCII characters (a UUID is a good choice)"
            )));
        }
        let mut h = Sha256::new();
        for part in [method.as_bytes(), path.as_bytes(), body] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part);
        }
        Ok(Self { scope: scope.to_owned(), key: key.to_owned(), request_hash: h.finalize().into() })
    }
}

/// What a committed command produced: a run of log entries. Responses are rendered from these
/// entries, both the first time and on replay, so a replay returns the same body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub first_index: u64,
    pub count: u64,
}

impl Outcome {
    pub(crate) fn to_record(self) -> String {
        format!("entries:{}+{}", self.first_index, self.count)
    }

    pub(crate) fn from_record(record: &str) -> Result<Self, AppError> {
        let parse = || {
            let (first, count) = record.strip_prefix("entries:")?.split_once('+')?;
            Some(Self { first_index: first.parse().ok()?, count: count.parse().ok()? })
        };
        parse().ok_or_else(|| AppError::Internal(format!("unreadable idempotency record {record:?}")))
    }
}

/// The idempotency keys of the groups committed lately, so that the sequencer can check a keyed
/// command without a database read in its serial path.
///
/// A caller looks its key up in the database before submitting (`Registry::execute`); it first
/// notes the *mark*, the number of the last group made durable. Its read sees every group up to
/// that mark, so the sequencer need only know the keys of the groups after it: this window holds
/// them, unless they have been evicted (or a failed commit made the window unsure), and then the
/// sequencer asks the database as before.
pub(crate) struct RecentKeys {
    /// The mark: published after a group's keys are in the window and the group is durable.
    mark: Arc<AtomicU64>,
    keys: HashMap<(String, String), ([u8; 32], Outcome)>,
    /// The keys in the order their groups committed, with the group's mark.
    order: VecDeque<(u64, (String, String))>,
    /// The window knows every key committed after a mark at or above this one.
    complete_from: u64,
}

/// Keys kept in the window: a few minutes of heavy keyed traffic, a few MB.
const WINDOW: usize = 65_536;

impl RecentKeys {
    pub(crate) fn new() -> Self {
        Self { mark: Arc::new(AtomicU64::new(0)), keys: HashMap::new(), order: VecDeque::new(), complete_from: 0 }
    }

    /// What callers read before their own lookup ([`RecentKeys::mark_now`] on it).
    pub(crate) fn mark(&self) -> Arc<AtomicU64> {
        self.mark.clone()
    }

    /// Reads a mark: before the caller's database lookup, which then sees every group up to it.
    pub(crate) fn mark_now(mark: &AtomicU64) -> u64 {
        mark.load(Ordering::Acquire)
    }

    /// The earlier result of `key` for a caller whose lookup, after `looked_up_at`, found nothing:
    /// `Some(found)` when the window can answer (`found` is `None` for an unused key), `None`
    /// when only the database can.
    pub(crate) fn check(&self, key: &(String, String), looked_up_at: u64) -> Option<Option<([u8; 32], Outcome)>> {
        (looked_up_at >= self.complete_from).then(|| self.keys.get(key).copied())
    }

    /// Records the keys of a group that is now durable, then publishes its mark.
    pub(crate) fn committed(&mut self, keys: impl IntoIterator<Item = ((String, String), [u8; 32], Outcome)>) {
        let group = self.mark.load(Ordering::Relaxed) + 1;
        for (key, hash, outcome) in keys {
            self.order.push_back((group, key.clone()));
            self.keys.insert(key, (hash, outcome));
        }
        while self.order.len() > WINDOW {
            let Some((evicted, key)) = self.order.pop_front() else { break };
            self.keys.remove(&key);
            // A caller who looked before that group needs its (now forgotten) keys.
            self.complete_from = self.complete_from.max(evicted);
        }
        self.mark.store(group, Ordering::Release);
    }

    /// Forgets every key: after a failed commit, whose keys may or may not be in the database.
    /// Only callers who look after this can rely on the window.
    pub(crate) fn forget(&mut self) {
        self.keys.clear();
        self.order.clear();
        let next = self.mark.load(Ordering::Relaxed) + 1;
        self.complete_from = next;
        self.mark.store(next, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> (String, String) {
        ("s".to_owned(), k.to_owned())
    }
    const OUT: Outcome = Outcome { first_index: 7, count: 1 };

    #[test]
    fn the_window_answers_only_callers_who_looked_after_what_it_forgot() {
        let mut recent = RecentKeys::new();
        let mark = recent.mark();
        let before = RecentKeys::mark_now(&mark);
        assert_eq!(recent.check(&key("a"), before), Some(None), "nothing committed since: unused");
        recent.committed([(key("a"), [1; 32], OUT)]);
        assert_eq!(recent.check(&key("a"), before), Some(Some(([1; 32], OUT))));
        let after_a = RecentKeys::mark_now(&mark);
        assert_eq!(after_a, before + 1);
        recent.forget();
        assert_eq!(recent.check(&key("a"), after_a), None, "looked before a failed commit: ask the database");
        assert_eq!(recent.check(&key("a"), RecentKeys::mark_now(&mark)), Some(None));
    }

    #[test]
    fn evicting_a_group_sends_callers_who_looked_before_it_to_the_database() {
        let mut recent = RecentKeys::new();
        let mark = recent.mark();
        let start = RecentKeys::mark_now(&mark);
        for i in 0..=WINDOW {
            recent.committed([(key(&i.to_string()), [0; 32], OUT)]);
        }
        assert_eq!(recent.check(&key("0"), start), None, "the first group's key was evicted");
        // Group 1 (key "0") is evicted: a caller who looked at mark 1 or later saw it.
        assert_eq!(recent.check(&key("0"), start + 1), Some(None));
        assert!(matches!(recent.check(&key("1"), start + 1), Some(Some(_))));
    }

    #[test]
    fn outcome_records_round_trip() {
        let o = Outcome { first_index: 42, count: 3 };
        assert_eq!(Outcome::from_record(&o.to_record()).ok(), Some(o));
        assert!(Outcome::from_record("garbage").is_err());
    }

    #[test]
    fn request_hash_depends_on_every_part() {
        let a = RequestKey::new("s", "k", "POST", "/a", b"{}").ok().map(|k| k.request_hash);
        let b = RequestKey::new("s", "k", "POST", "/b", b"{}").ok().map(|k| k.request_hash);
        let c = RequestKey::new("s", "k", "POST", "/a", b"{ }").ok().map(|k| k.request_hash);
        assert!(a.is_some() && a != b && a != c);
        assert!(RequestKey::new("s", "", "POST", "/a", b"").is_err());
        assert!(RequestKey::new("s", "has space", "POST", "/a", b"").is_err());
    }
}
