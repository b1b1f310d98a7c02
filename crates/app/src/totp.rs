//! Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP): HMAC-SHA-1, 30-second steps,
//! six digits, as every authenticator app expects by default. Pure: the time is passed in.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

pub const STEP_SECONDS: u64 = 30;
pub const DIGITS: u32 = 6;
/// Secret length in bytes (160 bits, RFC 4226 §4's recommendation).
pub const SECRET_LEN: usize = 20;

/// HOTP (RFC 4226 §5.3) with `digits` digits.
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret) else { return u32::MAX };
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let binary = (u32::from(digest[offset]) & 0x7f) << 24
        | u32::from(digest[offset + 1]) << 16
        | u32::from(digest[offset + 2]) << 8
        | u32::from(digest[offset + 3]);
    binary % 10u32.pow(digits)
}

/// The TOTP value at `unix_seconds` (RFC 6238 §4, T0 = 0).
pub fn totp(secret: &[u8], unix_seconds: u64, digits: u32) -> u32 {
    hotp(secret, unix_seconds / STEP_SECONDS, digits)
}

/// Checks a six-digit code, accepting one step either side for clock drift (RFC 6238 §5.2).
/// Compares every candidate in full, in constant time.
pub fn verify(secret: &[u8], code: &str, unix_seconds: u64) -> bool {
    matching_step(secret, code, unix_seconds).is_some()
}

/// The time step a code belongs to (within one step of drift), so that a caller can refuse the
/// same step twice (RFC 6238 §5.2: a code is good once).
pub fn matching_step(secret: &[u8], code: &str, unix_seconds: u64) -> Option<u64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let given = code.parse::<u32>().ok()?;
    let step = unix_seconds / STEP_SECONDS;
    let mut found = None;
    for counter in [step.saturating_sub(1), step, step + 1] {
        if std::hint::black_box(hotp(secret, counter, DIGITS) == given) {
            found = Some(counter);
        }
    }
    found
}

/// RFC 4648 base32 without padding, as authenticator apps read secrets.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The inverse of [`base32`]; `None` for anything else.
pub fn from_base32(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        buffer = (buffer << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
        buffer &= (1 << bits) - 1;
    }
    Some(out)
}

/// The `otpauth://` URI that authenticator apps import (Google Authenticator's key URI format).
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'@') {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        enc(issuer),
        enc(account),
        base32(secret),
        enc(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, the SHA-1 rows (eight digits, the 20-byte ASCII key).
    #[test]
    fn rfc_6238_test_vectors() {
        let key = b"12345678901234567890";
        let vectors: &[(u64, u32)] = &[
            (59, 94_287_082),
            (1_111_111_109, 7_081_804),
            (1_111_111_111, 14_050_471),
            (1_234_567_890, 89_005_924),
            (2_000_000_000, 69_279_037),
            (20_000_000_000, 65_353_130),
        ];
        for &(t, expected) in vectors {
            assert_eq!(totp(key, t, 8), expected, "T = {t}");
        }
    }

    /// RFC 4226 Appendix D: HOTP values for counters 0-9.
    #[test]
    fn rfc_4226_test_vectors() {
        let key = b"12345678901234567890";
        let expected = [755_224, 287_082, 359_152, 969_429, 338_314, 254_676, 287_922, 162_583, 399_871, 520_489];
        for (counter, value) in expected.iter().enumerate() {
            assert_eq!(hotp(key, counter as u64, 6), *value, "counter {counter}");
        }
    }

    #[test]
    fn verify_accepts_one_step_of_drift_only() {
        let key = b"12345678901234567890";
        let now = 1_111_111_111;
        let code = |t: u64| format!("{:06}", totp(key, t, 6));
        assert!(verify(key, &code(now), now));
        assert!(verify(key, &code(now - 30), now));
        assert!(verify(key, &code(now + 30), now));
        assert!(!verify(key, &code(now - 90), now));
        assert!(!verify(key, "12345", now));
        assert!(!verify(key, "abcdef", now));
    }

    #[test]
    fn base32_round_trips_rfc_4648_vectors() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(from_base32("MZXW6YTBOI").as_deref(), Some(&b"foobar"[..]));
        assert_eq!(from_base32("mzxw"), None);
        let uri = otpauth_uri("AGR registry", "a@b.jp", b"12345678901234567890");
        assert_eq!(
            uri,
            "otpauth://totp/AGR%20registry:a@b.jp?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=AGR%20registry&algorithm=SHA1&digits=6&period=30"
        );
    }
}
