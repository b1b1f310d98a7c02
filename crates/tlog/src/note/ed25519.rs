//! Ed25519 note keys (signature type 0x01) and their text forms.
//!
//! - verifier key (vkey): `<name>+<key ID as 8 lowercase hex digits>+base64(0x01 || public key)`;
//! - signer key (skey): `PRIVATE+KEY+<name>+<key ID>+base64(0x01 || 32-byte seed)`.
//!
//! Both are the formats of Go's `golang.org/x/mod/sumdb/note`, so keys move between Furrow and
//! the Go tooling (witnesses, monitors). Parsing is strict: the key ID must be the one the key and
//! name imply, and public keys must be canonical and not of small order.

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

use super::{NoteSigner, NoteVerifier, SignError, decode_base64, encode_base64, is_valid_key_name, key_id};

/// The signed-note signature type of Ed25519.
pub const ED25519: u8 = 0x01;

const SKEY_PREFIX: &str = "PRIVATE+KEY+";

/// Why a key, or its text form, was refused. Messages never include the key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the key text is not of the form <name>+<key ID>+<base64 key>")]
    Malformed,
    #[error("the key name is empty or contains whitespace, control characters or '+'")]
    InvalidName,
    #[error("the key ID is not 8 lowercase hexadecimal digits")]
    InvalidKeyId,
    #[error("the key is not canonical base64")]
    InvalidBase64,
    #[error("the key's signature type {0:#04x} is not Ed25519 (0x01)")]
    UnsupportedType(u8),
    #[error("an Ed25519 key must be 32 bytes")]
    WrongLength,
    #[error("the public key is not a canonical encoding of a curve point")]
    InvalidPublicKey,
    #[error("the public key has small order")]
    WeakPublicKey,
    #[error("the key ID does not match the key name and key")]
    KeyIdMismatch,
}

/// An Ed25519 note signer.
pub struct Ed25519Signer {
    name: String,
    key_id: u32,
    key: SigningKey,
}

impl Ed25519Signer {
    /// A signer for `name` from a 32-byte secret seed (RFC 8032 private key). The caller supplies
    /// the randomness: this crate has none.
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Self, KeyError> {
        if !is_valid_key_name(name) {
            return Err(KeyError::InvalidName);
        }
        let key = SigningKey::from_bytes(seed);
        let key_id = key_id(name, ED25519, key.verifying_key().as_bytes());
        Ok(Ed25519Signer { name: name.to_owned(), key_id, key })
    }

    /// Parses a signer key `PRIVATE+KEY+<name>+<key ID>+base64(0x01 || seed)`.
    pub fn from_skey(skey: &str) -> Result<Self, KeyError> {
        let rest = skey.strip_prefix(SKEY_PREFIX).ok_or(KeyError::Malformed)?;
        let (name, id, seed) = split_key_text(rest)?;
        let seed: &[u8; 32] = seed.as_slice().try_into().map_err(|_| KeyError::WrongLength)?;
        let signer = Self::from_seed(name, seed)?;
        if signer.key_id != id {
            return Err(KeyError::KeyIdMismatch);
        }
        Ok(signer)
    }

    /// The signer key text. It holds the secret seed: keep it out of logs.
    pub fn to_skey(&self) -> String {
        format!("{SKEY_PREFIX}{}", key_text(&self.name, self.key_id, self.key.as_bytes()))
    }

    /// The matching verifier.
    pub fn verifier(&self) -> Ed25519Verifier {
        Ed25519Verifier { name: self.name.clone(), key_id: self.key_id, key: self.key.verifying_key() }
    }

    /// The verifier key text to publish.
    pub fn vkey(&self) -> String {
        self.verifier().vkey()
    }
}

/// Shows the name and key ID only, never the secret.
impl std::fmt::Debug for Ed25519Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ed25519Signer").field("name", &self.name).field("key_id", &self.key_id).finish_non_exhaustive()
    }
}

impl NoteSigner for Ed25519Signer {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.key_id
    }

    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, SignError> {
        Ok(self.key.sign(msg).to_bytes().to_vec())
    }
}

/// A trusted Ed25519 note key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ed25519Verifier {
    name: String,
    key_id: u32,
    key: VerifyingKey,
}

impl Ed25519Verifier {
    /// A verifier for `name` and a 32-byte public key, refusing non-canonical and small-order
    /// keys (a small-order key would accept forged signatures).
    pub fn new(name: &str, public_key: &[u8; 32]) -> Result<Self, KeyError> {
        if !is_valid_key_name(name) {
            return Err(KeyError::InvalidName);
        }
        let key = VerifyingKey::from_bytes(public_key).map_err(|_| KeyError::InvalidPublicKey)?;
        if key.to_edwards().compress().to_bytes() != *public_key {
            return Err(KeyError::InvalidPublicKey);
        }
        if key.is_weak() {
            return Err(KeyError::WeakPublicKey);
        }
        Ok(Ed25519Verifier { name: name.to_owned(), key_id: key_id(name, ED25519, public_key), key })
    }

    /// Parses a verifier key `<name>+<key ID>+base64(0x01 || public key)`.
    pub fn from_vkey(vkey: &str) -> Result<Self, KeyError> {
        let (name, id, key) = split_key_text(vkey)?;
        let key: &[u8; 32] = key.as_slice().try_into().map_err(|_| KeyError::WrongLength)?;
        let verifier = Self::new(name, key)?;
        if verifier.key_id != id {
            return Err(KeyError::KeyIdMismatch);
        }
        Ok(verifier)
    }

    /// The verifier key text.
    pub fn vkey(&self) -> String {
        key_text(&self.name, self.key_id, self.key.as_bytes())
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }
}

impl NoteVerifier for Ed25519Verifier {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.key_id
    }

    /// Strict RFC 8032 verification: refuses non-canonical and malleable signatures.
    fn verify(&self, msg: &[u8], signature: &[u8]) -> bool {
        let Ok(signature) = Signature::from_slice(signature) else {
            return false;
        };
        self.key.verify_strict(msg, &signature).is_ok()
    }
}

/// Splits `<name>+<8 hex>+base64(0x01 || key)` into name, key ID and key bytes. The base64 part
/// may itself contain `+`; the name cannot.
fn split_key_text(text: &str) -> Result<(&str, u32, Vec<u8>), KeyError> {
    let (name, rest) = text.split_once('+').ok_or(KeyError::Malformed)?;
    let (id, key) = rest.split_once('+').ok_or(KeyError::Malformed)?;
    if !is_valid_key_name(name) {
        return Err(KeyError::InvalidName);
    }
    let id = parse_key_id(id)?;
    let bytes = decode_base64(key).ok_or(KeyError::InvalidBase64)?;
    match bytes.split_first() {
        Some((&ED25519, key)) => Ok((name, id, key.to_vec())),
        Some((&other, _)) => Err(KeyError::UnsupportedType(other)),
        None => Err(KeyError::WrongLength),
    }
}

fn parse_key_id(hex: &str) -> Result<u32, KeyError> {
    let canonical = hex.len() == 8 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !canonical {
        return Err(KeyError::InvalidKeyId);
    }
    u32::from_str_radix(hex, 16).map_err(|_| KeyError::InvalidKeyId)
}

fn key_text(name: &str, key_id: u32, key: &[u8; 32]) -> String {
    let mut typed = Vec::with_capacity(33);
    typed.push(ED25519);
    typed.extend_from_slice(key);
    format!("{name}+{key_id:08x}+{}", encode_base64(&typed))
}
