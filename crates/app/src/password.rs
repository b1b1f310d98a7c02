//! Password hashing with argon2id (RFC 9106) at OWASP's recommended minimum: 19 MiB of memory, two
//! passes, one lane. The hash is stored as a PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`),
//! which carries its own parameters, so raising them later leaves existing hashes verifiable.

use std::fmt;

use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use rand::RngCore;

/// Memory in KiB (19 MiB), passes and lanes: OWASP Password Storage Cheat Sheet, argon2id.
const M_COST: u32 = 19 * 1024;
const T_COST: u32 = 2;
const P_COST: u32 = 1;
const HASH_LEN: usize = 32;

/// Shortest and longest password accepted (NIST SP 800-63B: at least 8; a bound on the work).
pub const MIN_LEN: usize = 8;
pub const MAX_LEN: usize = 256;

/// A password in memory. Its `Debug` never shows it, so it cannot leak into a log by accident.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn new(password: impl Into<String>) -> Self {
        Self(password.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// Whether it is long enough and not absurdly long.
    pub fn check_length(&self) -> Result<(), String> {
        let n = self.0.chars().count();
        if n < MIN_LEN || self.0.len() > MAX_LEN {
            return Err(format!("a password has {MIN_LEN} to {MAX_LEN} characters"));
        }
        Ok(())
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

fn hasher(m: u32, t: u32, p: u32) -> Option<Argon2<'static>> {
    let params = Params::new(m, t, p, Some(HASH_LEN)).ok()?;
    Some(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password with a fresh random salt. CPU- and memory-heavy (tens of milliseconds):
/// async callers run it on a blocking thread.
pub fn hash(password: &Password) -> String {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    hash_with_salt(password, &salt)
}

fn hash_with_salt(password: &Password, salt: &[u8]) -> String {
    let mut out = [0u8; HASH_LEN];
    // The parameters are constants that argon2 accepts, so neither step can fail.
    if let Some(h) = hasher(M_COST, T_COST, P_COST) {
        let _ = h.hash_password_into(password.0.as_bytes(), salt, &mut out);
    }
    format!("$argon2id$v=19$m={M_COST},t={T_COST},p={P_COST}${}${}", B64.encode(salt), B64.encode(out))
}

/// Checks a password against a stored PHC string, comparing in constant time. A malformed
/// string verifies nothing.
pub fn verify(password: &Password, phc: &str) -> bool {
    let parts: Vec<&str> = phc.split('$').collect();
    let ["", "argon2id", "v=19", params, salt, expected] = parts.as_slice() else { return false };
    let mut m = None;
    let mut t = None;
    let mut p = None;
    for kv in params.split(',') {
        match kv.split_once('=') {
            Some(("m", v)) => m = v.parse::<u32>().ok(),
            Some(("t", v)) => t = v.parse::<u32>().ok(),
            Some(("p", v)) => p = v.parse::<u32>().ok(),
            _ => return false,
        }
    }
    let (Some(m), Some(t), Some(p)) = (m, t, p) else { return false };
    // A stored hash that asks for absurd work is not ours: refuse rather than spend it.
    if m > 1024 * 1024 || t > 16 || p > 16 {
        return false;
    }
    let (Ok(salt), Ok(expected)) = (B64.decode(salt), B64.decode(expected)) else { return false };
    let Some(h) = hasher(m, t, p) else { return false };
    let mut out = vec![0u8; expected.len()];
    if expected.is_empty() || h.hash_password_into(password.0.as_bytes(), &salt, &mut out).is_err() {
        return false;
    }
    let diff = out.iter().zip(&expected).fold(0u8, |acc, (a, b)| acc | (a ^ b));
    std::hint::black_box(diff) == 0
}

/// A hash of no one's password, verified against when the user does not exist, so that a failed
/// sign-in takes as long whether or not the e-mail address is known.
pub fn decoy() -> &'static str {
    static DECOY: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| hash_with_salt(&Password::new("no such user"), b"furrow-decoy-salt"));
    &DECOY
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let password = Password::new("correct horse battery staple");
        let stored = hash(&password);
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
        assert!(verify(&password, &stored));
        assert!(!verify(&Password::new("correct horse battery stapler"), &stored));
        // Two hashes of one password differ (fresh salt).
        assert_ne!(stored, hash(&password));
        assert!(!verify(&password, "$argon2id$v=19$m=19456,t=2,p=1$xx"));
        assert!(!verify(&password, ""));
    }

    #[test]
    fn debug_never_shows_the_password() {
        assert_eq!(format!("{:?}", Password::new("hunter22")), "Password(<redacted>)");
    }

    /// RFC 9106 does not give argon2id vectors for a PHC string; this pins ours so that a change
    /// of crate or parameters that would lock every user out fails here first.
    #[test]
    fn known_hash() {
        let got = hash_with_salt(&Password::new("password"), b"somesaltsomesalt");
        assert_eq!(
            got,
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$K13EBUiG7JV+9ZxztmHFTdb7J0WQsnj2V8bZaqyPptE"
        );
        assert!(verify(&Password::new("password"), &got));
    }
}
