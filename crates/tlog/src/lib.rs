//! Transparency-log math, pure: no I/O, no clock, no randomness, no async.
//!
//! - [`leaf_hash`] and [`node_hash`]: the RFC 9162 hashes that every log entry stores.
//! - [`tree`]: the Merkle tree over those leaves, kept as an append-only sequence of "stored
//!   hashes" (the design of Go's `golang.org/x/mod/sumdb/tlog`), with RFC 9162 inclusion and
//!   consistency proofs. Storage sits behind [`tree::HashReader`], so a database can back it.
//! - [`note`]: the C2SP signed-note envelope with Ed25519 keys (`vkey` text format).
//! - [`checkpoint`]: the C2SP checkpoint body (origin, size, root hash) signed as a note.
//! - [`tile`]: the C2SP tlog-tiles layout (tiles, their paths, entry bundles) and a hash reader
//!   that lets a client holding only tiles and a checkpoint compute roots and proofs.
//! - [`proof`]: the C2SP `tlog-proof@v1` bundle: an entry's index, inclusion proof and signed
//!   checkpoint, verifiable offline.
//!
//! Every parser here takes untrusted input: it rejects anything that is not in canonical form with
//! an error and never panics.

pub mod checkpoint;
pub mod note;
pub mod proof;
pub mod tile;
pub mod tree;

use sha2::{Digest, Sha256};

/// A SHA-256 hash as used in the log.
pub type Hash = [u8; 32];

/// The RFC 9162 §2.1.1 hash of an empty tree: `SHA-256()` of no input.
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41,
    0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// RFC 9162 §2.1.1: the hash of a leaf is `SHA-256(0x00 || entry)`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(entry);
    h.finalize().into()
}

/// RFC 9162 §2.1.1: the hash of an interior node is `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Parses an ASCII decimal with no sign and no leading zeros (except `0` itself), as the C2SP
/// text formats require, so that every number has exactly one textual form.
pub(crate) fn parse_decimal(s: &str) -> Option<u64> {
    let digits_only = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits_only || (s.len() > 1 && s.starts_with('0')) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Vectors from the transparency-dev/merkle test data (RFC 6962 section 2.1, `leaves[0]`
    /// is the empty leaf, `leaves[1]` is the single byte 0x00).
    #[test]
    fn leaf_hash_matches_rfc6962_vectors() {
        assert_eq!(hex::encode(leaf_hash(b"")), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
        assert_eq!(hex::encode(leaf_hash(&[0x00])), "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7");
        let root_of_two = node_hash(&leaf_hash(b""), &leaf_hash(&[0x00]));
        assert_eq!(hex::encode(root_of_two), "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125");
    }

    #[test]
    fn decimals_have_one_form() {
        assert_eq!(parse_decimal("0"), Some(0));
        assert_eq!(parse_decimal("18446744073709551615"), Some(u64::MAX));
        for bad in ["", "00", "01", "+1", "-1", " 1", "1 ", "18446744073709551616", "1_0", "\u{0661}"] {
            assert_eq!(parse_decimal(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(EMPTY_ROOT, <[u8; 32]>::from(Sha256::digest(b"")));
    }
}
