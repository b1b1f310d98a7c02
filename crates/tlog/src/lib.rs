//! Transparency-log math, pure. For now the RFC 9162 leaf and node hashes that every log entry
//! stores; the Merkle tree, checkpoints, proofs and tiles build on these (issue #3).

use sha2::{Digest, Sha256};

/// A SHA-256 hash as used in the log.
pub type Hash = [u8; 32];

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
}
