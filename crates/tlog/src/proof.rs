//! C2SP transparency log proofs (`c2sp.org/tlog-proof`, version `@v1`): a self-contained,
//! offline-verifiable statement that an entry is in a log, such as a certificate carries.
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! extra <base64 opaque data>        (optional)
//! index <decimal leaf index>
//! <base64 hash>                     (the RFC 9162 inclusion proof, one hash per line,
//! ...                                leaf's sibling first, root's child last)
//!
//! <signed checkpoint note, verbatim>
//! ```
//!
//! Verifying needs only the bundle, the entry's bytes and the trusted keys: open the checkpoint
//! with the keys, hash the entry as an RFC 9162 leaf, and check the inclusion proof against the
//! checkpoint's size and root. The extra data is not authenticated by anything and is never
//! trusted here: verification ignores it.
//!
//! Parsing is strict: numbers without leading zeros, canonical base64, hashes of exactly 32
//! bytes, the checkpoint a well-formed signed checkpoint note; [`TlogProof::to_text`] writes
//! exactly what [`TlogProof::parse`] accepts. The format is the one written and read by the
//! reference implementation `github.com/transparency-dev/formats/proof`.

use crate::checkpoint::{self, Checkpoint, CheckpointError};
use crate::note::{Note, NoteVerifier, decode_base64, encode_base64};
use crate::tree::{VerifyError, check_record};
use crate::{Hash, leaf_hash, parse_decimal};

/// The first line of every proof.
pub const HEADER: &str = "c2sp.org/tlog-proof@v1";

/// A parsed `tlog-proof@v1` bundle. The checkpoint is kept as the signed note text it arrived
/// as, since its signatures cover those exact bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogProof {
    extra: Option<Vec<u8>>,
    index: u64,
    hashes: Vec<Hash>,
    checkpoint: String,
}

/// Why a proof was refused.
#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    #[error("the proof is not valid UTF-8")]
    NotUtf8,
    #[error("the proof does not start with the line `c2sp.org/tlog-proof@v1`")]
    BadHeader,
    #[error("the extra data is not canonical base64")]
    BadExtra,
    #[error("the line after the header (and extra data) is not `index <decimal>`")]
    BadIndex,
    #[error("proof line {line} is not the canonical base64 of a 32-byte hash")]
    BadHash { line: usize },
    #[error("the proof ends before the blank line that precedes the checkpoint")]
    MissingCheckpoint,
    #[error("the checkpoint is not a well-formed signed checkpoint")]
    Checkpoint(#[source] CheckpointError),
    #[error("the inclusion proof does not verify against the checkpoint")]
    Inclusion(#[from] VerifyError),
}

impl TlogProof {
    /// A proof that leaf `index` is in the tree of `signed_checkpoint` with inclusion proof
    /// `hashes` (as [`crate::tree::prove_record`] returns it). The checkpoint is checked for form
    /// only; [`TlogProof::verify`] checks its signatures.
    pub fn new(index: u64, hashes: Vec<Hash>, signed_checkpoint: &str) -> Result<Self, ProofError> {
        check_checkpoint_form(signed_checkpoint)?;
        Ok(TlogProof { extra: None, index, hashes, checkpoint: signed_checkpoint.to_owned() })
    }

    /// Attaches opaque, unauthenticated application data.
    pub fn with_extra(mut self, extra: Vec<u8>) -> Self {
        self.extra = Some(extra);
        self
    }

    pub fn index(&self) -> u64 {
        self.index
    }

    pub fn hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// The signed checkpoint note, verbatim.
    pub fn checkpoint(&self) -> &str {
        &self.checkpoint
    }

    /// The extra data. Nothing authenticates it: treat it as a hint only.
    pub fn extra(&self) -> Option<&[u8]> {
        self.extra.as_deref()
    }

    /// The proof in its text form (store it with the extension `.tlog-proof`).
    pub fn to_text(&self) -> String {
        let mut out = format!("{HEADER}\n");
        if let Some(extra) = &self.extra {
            out.push_str(&format!("extra {}\n", encode_base64(extra)));
        }
        out.push_str(&format!("index {}\n", self.index));
        for hash in &self.hashes {
            out.push_str(&encode_base64(hash));
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.checkpoint);
        out
    }

    /// Parses a proof without verifying it.
    pub fn parse(bytes: &[u8]) -> Result<Self, ProofError> {
        let text = std::str::from_utf8(bytes).map_err(|_| ProofError::NotUtf8)?;
        let mut lines = Lines { rest: text, number: 0 };
        if lines.next() != Some(HEADER) {
            return Err(ProofError::BadHeader);
        }
        let mut line = lines.next().ok_or(ProofError::BadIndex)?;
        let mut extra = None;
        if let Some(encoded) = line.strip_prefix("extra ") {
            extra = Some(decode_base64(encoded).ok_or(ProofError::BadExtra)?);
            line = lines.next().ok_or(ProofError::BadIndex)?;
        }
        let index = line.strip_prefix("index ").and_then(parse_decimal).ok_or(ProofError::BadIndex)?;
        let hashes = parse_hashes(&mut lines)?;
        check_checkpoint_form(lines.rest)?;
        Ok(TlogProof { extra, index, hashes, checkpoint: lines.rest.to_owned() })
    }

    /// Verifies the proof for `entry` (the log entry's bytes): the checkpoint must carry a valid
    /// signature from one of `verifiers` (see [`crate::note::open`]), and the entry's leaf hash
    /// must be at `index` in the checkpoint's tree. Returns the checkpoint, whose origin the
    /// caller should compare with the log it expects if `verifiers` trusts several logs.
    pub fn verify(&self, entry: &[u8], verifiers: &[&dyn NoteVerifier]) -> Result<Checkpoint, ProofError> {
        self.verify_leaf_hash(&leaf_hash(entry), verifiers)
    }

    /// [`TlogProof::verify`] for a caller holding the leaf hash rather than the entry.
    pub fn verify_leaf_hash(&self, leaf: &Hash, verifiers: &[&dyn NoteVerifier]) -> Result<Checkpoint, ProofError> {
        let (checkpoint, _) =
            checkpoint::open(self.checkpoint.as_bytes(), verifiers).map_err(ProofError::Checkpoint)?;
        check_record(&self.hashes, checkpoint.size(), checkpoint.root(), self.index, leaf)?;
        Ok(checkpoint)
    }
}

/// Parses `bundle` and verifies it for `entry` (see [`TlogProof::verify`]).
pub fn verify(bundle: &[u8], entry: &[u8], verifiers: &[&dyn NoteVerifier]) -> Result<Checkpoint, ProofError> {
    TlogProof::parse(bundle)?.verify(entry, verifiers)
}

/// Newline-terminated lines, counted from 1, with the unread remainder kept for the checkpoint.
struct Lines<'a> {
    rest: &'a str,
    number: usize,
}

impl<'a> Lines<'a> {
    fn next(&mut self) -> Option<&'a str> {
        let (line, rest) = self.rest.split_once('\n')?;
        self.rest = rest;
        self.number += 1;
        Some(line)
    }
}

/// The hash lines, up to and including the blank line before the checkpoint.
fn parse_hashes(lines: &mut Lines<'_>) -> Result<Vec<Hash>, ProofError> {
    let mut hashes = Vec::new();
    loop {
        let line = lines.next().ok_or(ProofError::MissingCheckpoint)?;
        if line.is_empty() {
            return Ok(hashes);
        }
        let hash = decode_base64(line).and_then(|h| Hash::try_from(h).ok());
        hashes.push(hash.ok_or(ProofError::BadHash { line: lines.number })?);
    }
}

/// The checkpoint must be a signed note whose text is a checkpoint; signatures are checked
/// only by [`TlogProof::verify`], against the caller's keys.
fn check_checkpoint_form(signed: &str) -> Result<(), ProofError> {
    let note = Note::parse(signed.as_bytes()).map_err(|e| ProofError::Checkpoint(e.into()))?;
    Checkpoint::parse(note.text()).map_err(ProofError::Checkpoint)?;
    Ok(())
}
