//! C2SP signed notes (`c2sp.org/signed-note`): a text, a blank line, then signature lines
//! `— <key name> base64(key ID || signature)`.
//!
//! [`Note::parse`] reads the envelope without checking signatures; [`open`] also verifies them
//! against trusted keys and follows the spec's rules (signatures from unknown keys are ignored, a
//! failing signature from a known key rejects the note, at least one must verify). [`sign`]
//! produces the envelope. The parser accepts exactly what [`Note::to_text`] writes: valid UTF-8,
//! no control characters but newlines, canonical base64, no repeated signer.
//!
//! Signing sits behind [`NoteSigner`] so that a post-quantum or remote signer can be added beside
//! the Ed25519 one in [`ed25519`].

pub mod ed25519;

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha2::{Digest, Sha256};

pub use ed25519::{Ed25519Signer, Ed25519Verifier, KeyError};

/// The most signature lines a note may carry. The spec requires accepting at least 16; Go's
/// reference implementation stops at 100, and so do we.
pub const MAX_SIGNATURES: usize = 100;

/// The signature line prefix: em dash (U+2014) and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// The key name.
    pub name: String,
    /// The key ID, the first four bytes of the base64 payload (big-endian).
    pub key_id: u32,
    /// The signature proper, the rest of the payload.
    pub signature: Vec<u8>,
}

/// A parsed, not yet verified, signed note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    text: String,
    signatures: Vec<NoteSignature>,
}

/// A note with at least one signature verified by a trusted key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedNote {
    /// The signed text, ending in a newline.
    pub text: String,
    /// The signatures that verified, in note order.
    pub verified: Vec<NoteSignature>,
    /// The signatures from keys the caller did not supply, kept but not trusted.
    pub unverified: Vec<NoteSignature>,
}

/// Something that signs note texts under a key name and key ID.
pub trait NoteSigner {
    fn name(&self) -> &str;
    fn key_id(&self) -> u32;
    /// Signs `msg`, the note text; returns the signature without the key ID.
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, SignError>;
}

/// A trusted key that checks note signatures.
pub trait NoteVerifier {
    fn name(&self) -> &str;
    fn key_id(&self) -> u32;
    /// Whether `signature` (without the key ID) is a valid signature of `msg`, the note text.
    fn verify(&self, msg: &[u8], signature: &[u8]) -> bool;
}

/// A signer could not produce a signature (a remote signer or hardware module failed).
#[derive(Debug, thiserror::Error)]
#[error("the signer failed")]
pub struct SignError(#[source] pub Box<dyn std::error::Error + Send + Sync>);

/// Why a note was refused.
#[derive(Debug, thiserror::Error)]
pub enum NoteError {
    #[error("the note is not valid UTF-8")]
    NotUtf8,
    #[error("the note contains a control character at byte {offset}")]
    ControlCharacter { offset: usize },
    #[error("the note has no blank line separating the text from the signatures")]
    NoSeparator,
    #[error("the note has no signatures")]
    NoSignatures,
    #[error("the note does not end with a newline")]
    Unterminated,
    #[error("the note has more than {MAX_SIGNATURES} signatures")]
    TooManySignatures,
    #[error("signature line {line} is not of the form `— <name> <base64>`")]
    MalformedSignatureLine { line: usize },
    #[error("signature line {line} has an invalid key name")]
    InvalidKeyName { line: usize },
    #[error("signature line {line} is not canonical base64")]
    InvalidBase64 { line: usize },
    #[error("signature line {line} is too short to hold a key ID and a signature")]
    SignatureTooShort { line: usize },
    #[error("key {name}+{key_id:08x} signs the note more than once")]
    DuplicateSignature { name: String, key_id: u32 },
    #[error("the note text must be non-empty, end with a newline and contain no control characters")]
    InvalidText,
    #[error("signer name {name:?} is not a valid key name")]
    InvalidSignerName { name: String },
    #[error("two trusted keys share the name and key ID {name}+{key_id:08x}")]
    AmbiguousVerifiers { name: String, key_id: u32 },
    #[error("the signature by {name}+{key_id:08x} does not verify")]
    InvalidSignature { name: String, key_id: u32 },
    #[error("no signature on the note is from a trusted key")]
    NoTrustedSignature,
    #[error(transparent)]
    Sign(#[from] SignError),
}

impl Note {
    /// Parses a signed note without verifying it.
    pub fn parse(msg: &[u8]) -> Result<Note, NoteError> {
        let msg = std::str::from_utf8(msg).map_err(|_| NoteError::NotUtf8)?;
        check_no_control_characters(msg)?;
        // The text ends at the last blank line; signature lines are never empty.
        let split = msg.rfind("\n\n").ok_or(NoteError::NoSeparator)?;
        let (text, block) = (&msg[..=split], &msg[split + 2..]);
        let lines = block.strip_suffix('\n').ok_or(if block.is_empty() {
            NoteError::NoSignatures
        } else {
            NoteError::Unterminated
        })?;
        let signatures = parse_signature_lines(lines)?;
        Ok(Note { text: text.to_owned(), signatures })
    }

    /// The signed text, ending in a newline.
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// The note in its wire form; [`Note::parse`] gives back an equal note.
    pub fn to_text(&self) -> String {
        let mut out = self.text.clone();
        out.push('\n');
        for sig in &self.signatures {
            push_signature_line(&mut out, sig);
        }
        out
    }
}

fn check_no_control_characters(s: &str) -> Result<(), NoteError> {
    match s.char_indices().find(|&(_, c)| c < ' ' && c != '\n') {
        Some((offset, _)) => Err(NoteError::ControlCharacter { offset }),
        None => Ok(()),
    }
}

fn parse_signature_lines(lines: &str) -> Result<Vec<NoteSignature>, NoteError> {
    let mut signatures: Vec<NoteSignature> = Vec::new();
    for (i, line) in lines.split('\n').enumerate() {
        if i >= MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures);
        }
        let sig = parse_signature_line(line, i + 1)?;
        if signatures.iter().any(|s| s.name == sig.name && s.key_id == sig.key_id) {
            return Err(NoteError::DuplicateSignature { name: sig.name, key_id: sig.key_id });
        }
        signatures.push(sig);
    }
    Ok(signatures)
}

fn parse_signature_line(line: &str, number: usize) -> Result<NoteSignature, NoteError> {
    let malformed = NoteError::MalformedSignatureLine { line: number };
    let rest = line.strip_prefix(SIGNATURE_PREFIX).ok_or(malformed)?;
    let (name, payload) = rest.split_once(' ').ok_or(NoteError::MalformedSignatureLine { line: number })?;
    if !is_valid_key_name(name) {
        return Err(NoteError::InvalidKeyName { line: number });
    }
    let bytes = decode_base64(payload).ok_or(NoteError::InvalidBase64 { line: number })?;
    let (id, signature) = bytes.split_first_chunk::<4>().ok_or(NoteError::SignatureTooShort { line: number })?;
    if signature.is_empty() {
        return Err(NoteError::SignatureTooShort { line: number });
    }
    Ok(NoteSignature { name: name.to_owned(), key_id: u32::from_be_bytes(*id), signature: signature.to_vec() })
}

fn push_signature_line(out: &mut String, sig: &NoteSignature) {
    let mut payload = sig.key_id.to_be_bytes().to_vec();
    payload.extend_from_slice(&sig.signature);
    // Writing to a String cannot fail.
    let _ = writeln!(out, "{SIGNATURE_PREFIX}{} {}", sig.name, BASE64.encode(payload));
}

/// Signs `text` with every signer and returns the note in wire form.
pub fn sign(text: &str, signers: &[&dyn NoteSigner]) -> Result<String, NoteError> {
    check_text(text)?;
    if signers.is_empty() {
        return Err(NoteError::NoSignatures);
    }
    if signers.len() > MAX_SIGNATURES {
        return Err(NoteError::TooManySignatures);
    }
    let mut signatures: Vec<NoteSignature> = Vec::with_capacity(signers.len());
    for signer in signers {
        let (name, key_id) = (signer.name(), signer.key_id());
        if !is_valid_key_name(name) {
            return Err(NoteError::InvalidSignerName { name: name.to_owned() });
        }
        if signatures.iter().any(|s| s.name == name && s.key_id == key_id) {
            return Err(NoteError::DuplicateSignature { name: name.to_owned(), key_id });
        }
        let signature = signer.sign(text.as_bytes())?;
        if signature.is_empty() {
            return Err(NoteError::SignatureTooShort { line: signatures.len() + 1 });
        }
        signatures.push(NoteSignature { name: name.to_owned(), key_id, signature });
    }
    Ok(Note { text: text.to_owned(), signatures }.to_text())
}

/// A note text must end in a newline and, like the whole note, hold no control characters.
fn check_text(text: &str) -> Result<(), NoteError> {
    if !text.ends_with('\n') || check_no_control_characters(text).is_err() {
        return Err(NoteError::InvalidText);
    }
    Ok(())
}

/// Parses `msg` and verifies its signatures against the trusted `verifiers`.
///
/// A signature whose key name and key ID both match a trusted key must verify, or the whole note
/// is refused; other signatures are kept in [`VerifiedNote::unverified`]. At least one signature
/// must verify.
pub fn open(msg: &[u8], verifiers: &[&dyn NoteVerifier]) -> Result<VerifiedNote, NoteError> {
    check_unambiguous(verifiers)?;
    let note = Note::parse(msg)?;
    let (mut verified, mut unverified) = (Vec::new(), Vec::new());
    for sig in note.signatures {
        let Some(key) = verifiers.iter().find(|v| v.name() == sig.name && v.key_id() == sig.key_id) else {
            unverified.push(sig);
            continue;
        };
        if !key.verify(note.text.as_bytes(), &sig.signature) {
            return Err(NoteError::InvalidSignature { name: sig.name, key_id: sig.key_id });
        }
        verified.push(sig);
    }
    if verified.is_empty() {
        return Err(NoteError::NoTrustedSignature);
    }
    Ok(VerifiedNote { text: note.text, verified, unverified })
}

fn check_unambiguous(verifiers: &[&dyn NoteVerifier]) -> Result<(), NoteError> {
    for (i, a) in verifiers.iter().enumerate() {
        if verifiers[..i].iter().any(|b| b.name() == a.name() && b.key_id() == a.key_id()) {
            return Err(NoteError::AmbiguousVerifiers { name: a.name().to_owned(), key_id: a.key_id() });
        }
    }
    Ok(())
}

/// A key name is non-empty and has no Unicode whitespace, no `+` (the vkey separator) and no
/// control characters.
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c.is_control() || c == '+')
}

/// The C2SP key ID: the first four bytes, big-endian, of
/// `SHA-256(key name || 0x0A || signature type || public key)`.
pub fn key_id(name: &str, signature_type: u8, public_key: &[u8]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([0x0A, signature_type]);
    h.update(public_key);
    let digest: [u8; 32] = h.finalize().into();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// Decodes standard base64 only if `s` is exactly the canonical encoding of the result (padding
/// present, no stray bits), so that every value has one textual form.
pub(crate) fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let bytes = BASE64.decode(s).ok()?;
    (BASE64.encode(&bytes) == s).then_some(bytes)
}

pub(crate) fn encode_base64(bytes: &[u8]) -> String {
    BASE64.encode(bytes)
}
