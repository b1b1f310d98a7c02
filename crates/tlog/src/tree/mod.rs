//! The log's Merkle tree (RFC 9162 §2.1) over stored hashes.
//!
//! The tree is never held as a structure: it is the append-only sequence of hashes described in
//! [`stored_hash_index`]. Appending a leaf computes only the O(log n) hashes that the new leaf
//! completes ([`stored_hashes_for_record_hash`]); roots and proofs are assembled from at most
//! O(log n) stored hashes each.
//!
//! Storage is behind [`HashReader`]. A synchronous database handle can implement it directly. An
//! async caller can instead ask which indexes a computation needs (the `*_indexes` functions),
//! fetch them in one query, and pass them in a `BTreeMap<u64, Hash>`, which implements
//! [`HashReader`].
//!
//! Proofs are exactly the RFC 9162 audit paths (§2.1.3 inclusion, §2.1.4 consistency), so they
//! interoperate with other CT and tlog tooling.

mod check;
mod index;
mod memory;
mod plan;
mod prove;

use std::collections::BTreeMap;

pub use check::{VerifyError, check_record, check_tree, root_from_record_proof};
pub use index::{MAX_LEVEL, MAX_TREE_SIZE, split_stored_hash_index, stored_hash_count, stored_hash_index};
pub use memory::{MemoryTree, MissingHash};
pub use prove::{
    append_indexes, prove_record, prove_tree, record_proof_indexes, stored_hashes_for_record_hash,
    stored_hashes_for_records, tree_hash, tree_hash_indexes, tree_proof_indexes,
};

use crate::Hash;

/// Read access to the stored hashes of a tree.
pub trait HashReader {
    /// Why a read failed (for a database: its error type).
    type Error;

    /// Returns the hashes stored at `indexes`, one per index and in the same order.
    ///
    /// The tree functions check that exactly `indexes.len()` hashes come back and report
    /// [`TreeError::ShortRead`] otherwise; they cannot check that each hash is the right one.
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Self::Error>;
}

impl<R: HashReader + ?Sized> HashReader for &R {
    type Error = R::Error;

    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Self::Error> {
        (**self).read_hashes(indexes)
    }
}

/// Hashes fetched ahead of time, keyed by stored-hash index (see the module documentation).
impl HashReader for BTreeMap<u64, Hash> {
    type Error = MissingHash;

    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MissingHash> {
        indexes.iter().map(|&index| self.get(&index).copied().ok_or(MissingHash { index })).collect()
    }
}

/// A request about a tree size, leaf or node that cannot be answered, whatever is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error("tree size {size} exceeds the supported maximum of 2^62 leaves")]
    TreeTooLarge { size: u64 },
    #[error("node {n} at level {level} lies beyond the largest supported tree")]
    NodeOutOfRange { level: u8, n: u64 },
    #[error("stored hash index {index} lies beyond the largest supported tree")]
    IndexOutOfRange { index: u64 },
    #[error("leaf {index} is not in a tree of {size} leaves")]
    LeafOutOfRange { index: u64, size: u64 },
    #[error("a consistency proof needs 0 < old size <= new size, got old {old} and new {new}")]
    BadConsistencySizes { old: u64, new: u64 },
}

/// Why a root, proof or set of new stored hashes could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum TreeError<E> {
    #[error(transparent)]
    Range(#[from] RangeError),
    #[error("reading stored hashes failed")]
    Read(#[source] E),
    #[error("the hash reader returned {got} hashes for {wanted} indexes")]
    ShortRead { wanted: usize, got: usize },
    #[error("stored hash {index} is needed but was not supplied")]
    Missing { index: u64 },
}

/// Reads `indexes` and checks that the reader kept its side of the contract.
fn read_exact<R: HashReader + ?Sized>(reader: &R, indexes: &[u64]) -> Result<Vec<Hash>, TreeError<R::Error>> {
    if indexes.is_empty() {
        return Ok(Vec::new());
    }
    let hashes = reader.read_hashes(indexes).map_err(TreeError::Read)?;
    if hashes.len() != indexes.len() {
        return Err(TreeError::ShortRead { wanted: indexes.len(), got: hashes.len() });
    }
    Ok(hashes)
}
