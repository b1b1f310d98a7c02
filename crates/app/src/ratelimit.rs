//! Rate limits, in memory (issue #8): failed sign-ins per user and per client address, and
//! requests per API token. In memory is enough for one server process, which Furrow is (one
//! writer); a restart forgets the counts, which costs an attacker a restart of our server, not
//! something they control. Memory is bounded: expired entries are dropped as the maps grow.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use furrow_domain::Timestamp;

/// The limits in force. `Default` is production's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitSettings {
    /// Failed sign-ins allowed per user, and per client address, within `sign_in_window_s`.
    pub sign_in_failures: usize,
    pub sign_in_window_s: u64,
    /// Requests allowed per API token per minute: generous, it only stops a runaway or stolen
    /// token from hammering the server.
    pub token_requests_per_minute: u32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self { sign_in_failures: 5, sign_in_window_s: 15 * 60, token_requests_per_minute: 6_000 }
    }
}

/// Above this many keys, expired entries are swept before adding another.
const SWEEP_ABOVE: usize = 10_000;

#[derive(Default)]
struct Inner {
    settings: RateLimitSettings,
    /// Failure times (µs) per key (`user:…`, `ip:…`), oldest first.
    failures: HashMap<String, VecDeque<i64>>,
    /// Per token hash: the minute window's start (µs) and the requests counted in it.
    tokens: HashMap<[u8; 32], (i64, u32)>,
    /// Per user: the last TOTP time step accepted, so that a code is good once.
    totp_steps: HashMap<u64, u64>,
}

/// Password hashes computed at once, at most: each takes 19 MiB and tens of milliseconds, so a
/// flood of sign-ins queues here instead of exhausting memory.
const CONCURRENT_HASHES: usize = 4;

pub struct RateLimits {
    inner: Mutex<Inner>,
    hashing: tokio::sync::Semaphore,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self { inner: Mutex::default(), hashing: tokio::sync::Semaphore::new(CONCURRENT_HASHES) }
    }
}

const MINUTE_US: i64 = 60_000_000;

/// Microseconds as whole seconds to wait, rounded up, and never "0 seconds".
fn seconds(us: i64) -> u64 {
    u64::try_from(us).unwrap_or(0).div_ceil(1_000_000).max(1)
}

impl RateLimits {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves counters, not invariants: keep going.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Waits for a turn to compute a password hash (see [`CONCURRENT_HASHES`]).
    pub async fn hashing_turn(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        self.hashing.acquire().await.ok()
    }

    pub fn set(&self, settings: RateLimitSettings) {
        self.lock().settings = settings;
    }

    /// Seconds until one of `keys` may try again, if any of them is at its limit.
    pub fn sign_in_blocked(&self, keys: &[String], now: Timestamp) -> Option<u64> {
        let mut inner = self.lock();
        let window = i64::try_from(inner.settings.sign_in_window_s).unwrap_or(i64::MAX / 2) * 1_000_000;
        let limit = inner.settings.sign_in_failures;
        let mut wait: Option<i64> = None;
        for key in keys {
            if let Some(times) = inner.failures.get_mut(key) {
                while times.front().is_some_and(|t| *t <= now.0 - window) {
                    times.pop_front();
                }
                if times.len() >= limit
                    && let Some(oldest) = times.front()
                {
                    let until = oldest + window - now.0;
                    wait = Some(wait.map_or(until, |w| w.max(until)));
                }
            }
        }
        wait.map(seconds)
    }

    pub fn sign_in_failed(&self, keys: &[String], now: Timestamp) {
        let mut inner = self.lock();
        if inner.failures.len() > SWEEP_ABOVE {
            let window = i64::try_from(inner.settings.sign_in_window_s).unwrap_or(i64::MAX / 2) * 1_000_000;
            inner.failures.retain(|_, times| times.back().is_some_and(|t| *t > now.0 - window));
        }
        let limit = inner.settings.sign_in_failures.max(1);
        for key in keys {
            let times = inner.failures.entry(key.clone()).or_default();
            times.push_back(now.0);
            // Only the newest `limit` matter.
            while times.len() > limit {
                times.pop_front();
            }
        }
    }

    /// Forgets a key's failures (a user who signed in).
    pub fn forget(&self, key: &str) {
        self.lock().failures.remove(key);
    }

    /// Records that `user` used the TOTP code of `step`; false if that step (or a later one) was
    /// used already, i.e. the code is being replayed.
    pub fn totp_step(&self, user: u64, step: u64) -> bool {
        let mut inner = self.lock();
        let last = inner.totp_steps.entry(user).or_insert(0);
        if *last != 0 && step <= *last {
            return false;
        }
        *last = step;
        true
    }

    /// Counts one request of a token; the seconds to wait if it is over its limit.
    pub fn token_used(&self, hash: &[u8; 32], now: Timestamp) -> Option<u64> {
        let mut inner = self.lock();
        let limit = inner.settings.token_requests_per_minute;
        if inner.tokens.len() > SWEEP_ABOVE {
            inner.tokens.retain(|_, (start, _)| *start > now.0 - MINUTE_US);
        }
        let (start, count) = inner.tokens.entry(*hash).or_insert((now.0, 0));
        if now.0 - *start >= MINUTE_US {
            *start = now.0;
            *count = 0;
        }
        if *count >= limit {
            let until = *start + MINUTE_US - now.0;
            return Some(seconds(until));
        }
        *count += 1;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp(seconds * 1_000_000)
    }

    #[test]
    fn five_failures_block_for_the_rest_of_the_window() {
        let limits = RateLimits::default();
        let keys = vec!["user:a".to_owned(), "ip:1".to_owned()];
        for s in 0..5 {
            assert_eq!(limits.sign_in_blocked(&keys, at(s)), None);
            limits.sign_in_failed(&keys, at(s));
        }
        assert_eq!(limits.sign_in_blocked(&keys, at(10)), Some(15 * 60 - 10));
        // Another user from the same address is blocked too; the same user from elsewhere as well.
        assert!(limits.sign_in_blocked(&["user:b".to_owned(), "ip:1".to_owned()], at(10)).is_some());
        assert!(limits.sign_in_blocked(&["user:a".to_owned(), "ip:2".to_owned()], at(10)).is_some());
        assert_eq!(limits.sign_in_blocked(&keys, at(15 * 60 + 1)), None);
    }

    #[test]
    fn tokens_get_a_budget_per_minute() {
        let limits = RateLimits::default();
        limits.set(RateLimitSettings { token_requests_per_minute: 3, ..RateLimitSettings::default() });
        let token = [7; 32];
        for _ in 0..3 {
            assert_eq!(limits.token_used(&token, at(100)), None);
        }
        assert_eq!(limits.token_used(&token, at(130)), Some(30));
        assert_eq!(limits.token_used(&[8; 32], at(130)), None);
        assert_eq!(limits.token_used(&token, at(160)), None);
    }

    #[test]
    fn a_totp_step_is_good_once() {
        let limits = RateLimits::default();
        assert!(limits.totp_step(1, 100));
        assert!(!limits.totp_step(1, 100), "replayed");
        assert!(!limits.totp_step(1, 99), "older");
        assert!(limits.totp_step(2, 100), "another user");
        assert!(limits.totp_step(1, 101));
    }
}
