//! A tree whose stored hashes live in a `Vec`: for tests, simulations and small tools. The log
//! itself keeps the same sequence in a database table.

use super::{HashReader, TreeError, prove_record, prove_tree, stored_hashes_for_record_hash, tree_hash};
use crate::{Hash, leaf_hash};

/// A stored-hash index that a reader does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no stored hash at index {index}")]
pub struct MissingHash {
    pub index: u64,
}

/// An append-only Merkle tree kept entirely in memory as its stored-hash sequence.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryTree {
    stored: Vec<Hash>,
    size: u64,
}

impl MemoryTree {
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The stored hashes, in index order (what a database table would hold).
    pub fn stored_hashes(&self) -> &[Hash] {
        &self.stored
    }

    /// Appends a leaf by its hash and returns the leaf's index.
    pub fn append(&mut self, leaf: Hash) -> Result<u64, TreeError<MissingHash>> {
        let index = self.size;
        let new = stored_hashes_for_record_hash(index, leaf, self)?;
        self.stored.extend(new);
        self.size += 1;
        Ok(index)
    }

    /// Appends a log entry (hashed with [`leaf_hash`]) and returns its index.
    pub fn append_entry(&mut self, entry: &[u8]) -> Result<u64, TreeError<MissingHash>> {
        self.append(leaf_hash(entry))
    }

    /// The root hash of the tree at its current size.
    pub fn root(&self) -> Result<Hash, TreeError<MissingHash>> {
        tree_hash(self.size, self)
    }

    /// The inclusion proof of leaf `n` in the tree at its current size.
    pub fn prove_record(&self, n: u64) -> Result<Vec<Hash>, TreeError<MissingHash>> {
        prove_record(self.size, n, self)
    }

    /// The consistency proof from the earlier size `n` to the current size.
    pub fn prove_tree(&self, n: u64) -> Result<Vec<Hash>, TreeError<MissingHash>> {
        prove_tree(self.size, n, self)
    }
}

impl HashReader for MemoryTree {
    type Error = MissingHash;

    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MissingHash> {
        indexes
            .iter()
            .map(|&index| {
                let found = usize::try_from(index).ok().and_then(|i| self.stored.get(i));
                found.copied().ok_or(MissingHash { index })
            })
            .collect()
    }
}
