//! Idempotency keys: a client retries a mutation with the same key and gets the first result
//! back, never a second effect (TigerBeetle's "reliable transaction submission").

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

#[cfg(test)]
mod tests {
    use super::*;

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
