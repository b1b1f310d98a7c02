//! Where each hash of the tree is stored.
//!
//! The tree is kept as one append-only sequence of hashes (the design of Go's
//! `golang.org/x/mod/sumdb/tlog`). Appending leaf `n` stores the leaf's hash, followed by the hash
//! of every complete subtree that this leaf finishes, lowest level first. A node at `level` with
//! position `n` in that level (it covers leaves `n·2^level .. (n+1)·2^level`) is therefore written
//! once, right after its last leaf, and its position in the sequence never changes. A database can
//! keep the whole tree in one insert-only table keyed by that position.

use super::RangeError;

/// The largest tree these functions accept: 2^62 leaves.
///
/// The number of stored hashes of a tree of this size is 2^63 − 1, so every stored-hash index
/// fits in a signed 64-bit integer (an SQL `BIGINT`) and no index arithmetic can overflow.
pub const MAX_TREE_SIZE: u64 = 1 << 62;

/// The highest level a node of a tree of at most [`MAX_TREE_SIZE`] leaves can have.
pub const MAX_LEVEL: u8 = 62;

/// The number of stored hashes of a tree with `size` leaves.
///
/// Leaf `k` adds one hash per complete subtree it finishes (itself included), so the total over
/// all leaves is `Σ_level ⌊size / 2^level⌋ = 2·size − popcount(size)`.
pub fn stored_hash_count(size: u64) -> Result<u64, RangeError> {
    check_size(size)?;
    Ok(2 * size - u64::from(size.count_ones()))
}

/// The position in the stored-hash sequence of node `n` at `level` (level 0 holds the leaves).
///
/// The node is written right after its last leaf `m = (n+1)·2^level − 1`: the hashes of leaves
/// `0..m` come first (`stored_hash_count(m)` of them), then the leaf `m` itself and the `level − 1`
/// complete subtrees below this node that `m` also finishes.
pub fn stored_hash_index(level: u8, n: u64) -> Result<u64, RangeError> {
    let out_of_range = RangeError::NodeOutOfRange { level, n };
    if level > MAX_LEVEL {
        return Err(out_of_range);
    }
    let end = (u128::from(n) + 1) << level;
    if end > u128::from(MAX_TREE_SIZE) {
        return Err(out_of_range);
    }
    let last_leaf = u64::try_from(end - 1).map_err(|_| out_of_range)?;
    Ok(stored_hash_count(last_leaf)? + u64::from(level))
}

/// The inverse of [`stored_hash_index`]: which node (`level`, `n`) is stored at `index`.
///
/// Useful to check a stored table, and for tiles, which address hashes by level and position.
pub fn split_stored_hash_index(index: u64) -> Result<(u8, u64), RangeError> {
    if index >= stored_hash_count(MAX_TREE_SIZE)? {
        return Err(RangeError::IndexOutOfRange { index });
    }
    let leaf = last_leaf_written_at_or_before(index)?;
    let offset = index - stored_hash_count(leaf)?;
    // `offset` is at most the number of subtrees `leaf` finishes, which is below 64.
    let level = u8::try_from(offset).map_err(|_| RangeError::IndexOutOfRange { index })?;
    Ok((level, leaf >> level))
}

/// The leaf `m` whose hashes occupy `index`: the largest `m` with `stored_hash_count(m) <= index`.
fn last_leaf_written_at_or_before(index: u64) -> Result<u64, RangeError> {
    // stored_hash_count is increasing, so binary search over [0, MAX_TREE_SIZE).
    let (mut lo, mut hi) = (0u64, MAX_TREE_SIZE);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if stored_hash_count(mid)? <= index {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(lo)
}

pub(crate) fn check_size(size: u64) -> Result<(), RangeError> {
    if size > MAX_TREE_SIZE {
        return Err(RangeError::TreeTooLarge { size });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_stored_hashes_are_in_append_order() {
        // leaf 0; leaf 1, node(1,0); leaf 2; leaf 3, node(1,1), node(2,0); leaf 4 ...
        let expected = [(0, 0), (0, 1), (1, 0), (0, 2), (0, 3), (1, 1), (2, 0), (0, 4)];
        for (index, &(level, n)) in expected.iter().enumerate() {
            assert_eq!(stored_hash_index(level, n), Ok(index as u64));
            assert_eq!(split_stored_hash_index(index as u64), Ok((level, n)));
        }
    }

    #[test]
    fn counts_match_the_number_of_nodes_written() {
        assert_eq!(stored_hash_count(0), Ok(0));
        assert_eq!(stored_hash_count(1), Ok(1));
        assert_eq!(stored_hash_count(4), Ok(7));
        assert_eq!(stored_hash_count(7), Ok(11));
        assert_eq!(stored_hash_count(MAX_TREE_SIZE), Ok((1 << 63) - 1));
    }

    #[test]
    fn the_edges_of_the_supported_range_are_refused_not_overflowed() {
        assert!(stored_hash_count(MAX_TREE_SIZE + 1).is_err());
        assert!(stored_hash_count(u64::MAX).is_err());
        assert_eq!(stored_hash_index(MAX_LEVEL, 0), Ok((1 << 63) - 2));
        assert!(stored_hash_index(MAX_LEVEL, 1).is_err());
        assert!(stored_hash_index(MAX_LEVEL + 1, 0).is_err());
        assert!(stored_hash_index(u8::MAX, u64::MAX).is_err());
        assert!(stored_hash_index(0, u64::MAX).is_err());
        assert_eq!(stored_hash_index(0, MAX_TREE_SIZE - 1), Ok((1 << 63) - 1 - 63));
        assert_eq!(split_stored_hash_index((1 << 63) - 2), Ok((MAX_LEVEL, 0)));
        assert!(split_stored_hash_index((1 << 63) - 1).is_err());
        assert!(split_stored_hash_index(u64::MAX).is_err());
    }
}
