//! C2SP checkpoints (`c2sp.org/tlog-checkpoint`): the note text `origin\nsize\nbase64(root)\n`,
//! optionally followed by extension lines, signed as a [`crate::note`].
//!
//! The parser accepts exactly what [`Checkpoint::to_text`] writes: the size in decimal without
//! leading zeros, the root as canonical base64 of 32 bytes, no empty lines.

use crate::Hash;
use crate::note::{self, NoteError, NoteSigner, NoteVerifier, VerifiedNote, decode_base64, encode_base64};

/// A log's tree head: who (origin), how many leaves, and the RFC 9162 root hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    origin: String,
    size: u64,
    root: Hash,
    extensions: Vec<String>,
}

/// Why a checkpoint was refused.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("the checkpoint text must end with a newline")]
    Unterminated,
    #[error("the checkpoint text contains a control character")]
    ControlCharacter,
    #[error("the checkpoint needs an origin, a size and a root hash line")]
    TooFewLines,
    #[error("the checkpoint origin is empty")]
    EmptyOrigin,
    #[error("the origin of a new checkpoint must be a valid key name (no spaces or '+')")]
    InvalidOrigin,
    #[error("the tree size is not a decimal number without leading zeros")]
    InvalidSize,
    #[error("the root hash is not canonical base64 of 32 bytes")]
    InvalidRoot,
    #[error("extension line {line} is empty or contains a newline or control character")]
    InvalidExtension { line: usize },
    #[error(transparent)]
    Note(#[from] NoteError),
}

impl Checkpoint {
    /// A checkpoint for a log we run. The origin must be a valid key name, as the spec
    /// recommends, so that the log's key can carry the same name.
    pub fn new(origin: &str, size: u64, root: Hash) -> Result<Self, CheckpointError> {
        if !note::is_valid_key_name(origin) {
            return Err(CheckpointError::InvalidOrigin);
        }
        Ok(Checkpoint { origin: origin.to_owned(), size, root, extensions: Vec::new() })
    }

    /// Adds opaque extension lines (the spec does not recommend them: monitors cannot audit
    /// them). Each must be non-empty and free of control characters.
    pub fn with_extensions(mut self, extensions: Vec<String>) -> Result<Self, CheckpointError> {
        for (i, line) in extensions.iter().enumerate() {
            check_extension(line, i + 1)?;
        }
        self.extensions = extensions;
        Ok(self)
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn root(&self) -> &Hash {
        &self.root
    }

    pub fn extensions(&self) -> &[String] {
        &self.extensions
    }

    /// The note text of the checkpoint.
    pub fn to_text(&self) -> String {
        let mut out = format!("{}\n{}\n{}\n", self.origin, self.size, encode_base64(&self.root));
        for line in &self.extensions {
            out.push_str(line);
            out.push('\n');
        }
        out
    }

    /// Parses a checkpoint note text (not the signed envelope: see [`open`]).
    ///
    /// Any non-empty origin is accepted here, since the spec only recommends the key-name form.
    pub fn parse(text: &str) -> Result<Self, CheckpointError> {
        let body = text.strip_suffix('\n').ok_or(CheckpointError::Unterminated)?;
        if text.chars().any(|c| c < ' ' && c != '\n') {
            return Err(CheckpointError::ControlCharacter);
        }
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next()) else {
            return Err(CheckpointError::TooFewLines);
        };
        if origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        let size = parse_size(size)?;
        let root = decode_base64(root).and_then(|r| Hash::try_from(r).ok()).ok_or(CheckpointError::InvalidRoot)?;
        let extensions = lines.map(str::to_owned).collect::<Vec<_>>();
        for (i, line) in extensions.iter().enumerate() {
            check_extension(line, i + 1)?;
        }
        Ok(Checkpoint { origin: origin.to_owned(), size, root, extensions })
    }

    /// Signs the checkpoint and returns the signed note. The log's own signer should carry the
    /// origin as its key name.
    pub fn sign(&self, signers: &[&dyn NoteSigner]) -> Result<String, CheckpointError> {
        Ok(note::sign(&self.to_text(), signers)?)
    }
}

/// Opens a signed checkpoint: verifies the note against the trusted keys, then parses its text.
pub fn open(msg: &[u8], verifiers: &[&dyn NoteVerifier]) -> Result<(Checkpoint, VerifiedNote), CheckpointError> {
    let verified = note::open(msg, verifiers)?;
    let checkpoint = Checkpoint::parse(&verified.text)?;
    Ok((checkpoint, verified))
}

/// Decimal, ASCII digits only, no sign, no leading zeros except for `0` itself.
fn parse_size(s: &str) -> Result<u64, CheckpointError> {
    let digits_only = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits_only || (s.len() > 1 && s.starts_with('0')) {
        return Err(CheckpointError::InvalidSize);
    }
    s.parse().map_err(|_| CheckpointError::InvalidSize)
}

fn check_extension(line: &str, number: usize) -> Result<(), CheckpointError> {
    if line.is_empty() || line.chars().any(|c| c < ' ') {
        return Err(CheckpointError::InvalidExtension { line: number });
    }
    Ok(())
}
