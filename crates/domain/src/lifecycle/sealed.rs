//! Personal data beside a public log entry (SPEC §1: personal data is never public).
//!
//! A `Sealed<T>` holds the SHA-256 commitment that the public entry carries, and, where it is
//! known, the salt and the data. The data and salt travel as the entry's *private payload*,
//! stored in a table of its own (`log_private`) and never published. Anyone shown the payload can
//! check it against the public entry; deleting the payload erases the data without touching the
//! log. The salt stops anyone from confirming a guess (a name, a field's coordinates) against the
//! commitment.

use sha2::{Digest, Sha256};

use super::codec::Canon;
use crate::encoding::{DecodeError, Reader, Writer};

/// Domain separation for the commitment, versioned with the payload format.
const COMMITMENT_PREFIX: &[u8] = b"furrow-private-v1\0";

/// A random value per command, supplied by the caller (the domain has no randomness).
pub type Salt = [u8; 32];

#[derive(Clone)]
pub struct Sealed<T> {
    commitment: [u8; 32],
    opened: Option<(Salt, T)>,
}

/// Never prints the data: debug output ends up in logs and panic messages.
impl<T> std::fmt::Debug for Sealed<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = if self.opened.is_some() { "present" } else { "absent" };
        write!(f, "Sealed({}, data {state})", hex32(&self.commitment))
    }
}

fn hex32(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Two sealed values are equal when they commit to the same data: a state replayed from the public
/// log alone equals the state that still holds the personal data.
impl<T> PartialEq for Sealed<T> {
    fn eq(&self, other: &Self) -> bool {
        self.commitment == other.commitment
    }
}
impl<T> Eq for Sealed<T> {}

impl<T: Canon> Sealed<T> {
    pub fn seal(salt: Salt, value: T) -> Self {
        let commitment = commit(&payload_bytes(&salt, &value));
        Self { commitment, opened: Some((salt, value)) }
    }

    /// Only the commitment, as a public log entry carries it.
    pub fn commitment_only(commitment: [u8; 32]) -> Self {
        Self { commitment, opened: None }
    }

    pub fn commitment(&self) -> [u8; 32] {
        self.commitment
    }

    /// The personal data, unless it was erased or this state was replayed from the public log.
    pub fn data(&self) -> Option<&T> {
        self.opened.as_ref().map(|(_, v)| v)
    }

    /// The private payload: the salt, then the canonical encoding of the data.
    pub fn payload(&self) -> Option<Vec<u8>> {
        self.opened.as_ref().map(|(salt, value)| payload_bytes(salt, value))
    }

    /// Re-attaches a private payload, refusing one that does not match the commitment.
    pub fn open(&mut self, payload: &[u8]) -> Result<(), DecodeError> {
        if commit(payload) != self.commitment {
            return Err(DecodeError { offset: 0, reason: "the private payload does not match its commitment".into() });
        }
        let mut r = Reader { bytes: payload, pos: 0 };
        let salt: Salt = r.take()?;
        let value = T::get(&mut r)?;
        if r.pos != payload.len() {
            return Err(r.error("trailing bytes in a private payload".into()));
        }
        self.opened = Some((salt, value));
        Ok(())
    }
}

fn payload_bytes<T: Canon>(salt: &Salt, value: &T) -> Vec<u8> {
    let mut w = Writer(salt.to_vec());
    value.put(&mut w);
    w.0
}

fn commit(payload: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(COMMITMENT_PREFIX);
    hasher.update(payload);
    hasher.finalize().into()
}

/// A per-item salt derived from a command's salt, so one command can seal several items.
pub fn derive_salt(base: &Salt, item: u32) -> Salt {
    let mut hasher = Sha256::new();
    hasher.update(base);
    hasher.update(item.to_be_bytes());
    hasher.finalize().into()
}
