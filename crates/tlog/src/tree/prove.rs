//! Computing over stored hashes: appending leaves, tree hashes, and proofs.

use std::collections::BTreeMap;

use super::index::check_size;
use super::plan::{Plan, consistency_ranges, inclusion_ranges};
use super::{HashReader, RangeError, TreeError, read_exact, stored_hash_count, stored_hash_index};
use crate::{Hash, node_hash};

/// The stored hashes that [`stored_hashes_for_record_hash`] reads to append leaf `n`: the left
/// siblings of the subtrees that leaf `n` completes, lowest level first.
pub fn append_indexes(n: u64) -> Result<Vec<u64>, RangeError> {
    check_size(n.saturating_add(1))?;
    // Leaf n completes one subtree per trailing one bit of n: at each such level its ancestor is a
    // right child, whose left sibling is already stored.
    (0..n.trailing_ones())
        .map(|level| {
            let level = u8::try_from(level).map_err(|_| RangeError::TreeTooLarge { size: n })?;
            stored_hash_index(level, (n >> level) - 1)
        })
        .collect()
}

/// The new hashes to store when leaf `n` (with hash `leaf`) is appended to a tree of `n` leaves.
///
/// They go at indexes `stored_hash_count(n)..stored_hash_count(n + 1)`, in order: the leaf hash,
/// then the hash of each subtree that the leaf completes, lowest first. This is O(log n) hashes,
/// computed from O(log n) stored ones; nothing already stored changes.
pub fn stored_hashes_for_record_hash<R: HashReader + ?Sized>(
    n: u64,
    leaf: Hash,
    reader: &R,
) -> Result<Vec<Hash>, TreeError<R::Error>> {
    let siblings = read_exact(reader, &append_indexes(n)?)?;
    Ok(completed_subtrees(leaf, &siblings))
}

/// The new hashes to store when `leaves` are appended, in order, to a tree of `n` leaves: the
/// concatenation of [`stored_hashes_for_record_hash`] for each leaf, stored from
/// `stored_hash_count(n)` on.
///
/// The reader is called once, for the complete subtrees of the old tree (at most 62 hashes); every
/// other hash a new leaf needs was computed earlier in the same batch. That makes this the cheap
/// way for a checkpointer to extend the tree by many leaves at a time.
pub fn stored_hashes_for_records<R: HashReader + ?Sized>(
    n: u64,
    leaves: &[Hash],
    reader: &R,
) -> Result<Vec<Hash>, TreeError<R::Error>> {
    let added = u64::try_from(leaves.len()).unwrap_or(u64::MAX);
    check_size(n.saturating_add(added))?;
    // The left siblings that leaf k needs are complete subtrees covering part of [0, k). A sibling
    // whose last leaf is new was computed earlier in this batch. One that ends before n is a
    // subtree of the cover of [0, k) lying inside [0, n), and those are exactly the leading
    // subtrees of the cover of [0, n): the frontier read here.
    let frontier_indexes = tree_hash_indexes(n)?;
    let frontier = read_exact(reader, &frontier_indexes)?;
    let old: BTreeMap<u64, Hash> = frontier_indexes.into_iter().zip(frontier).collect();
    let first_new = stored_hash_count(n)?;
    let mut new = Vec::new();
    for (k, leaf) in (n..).zip(leaves) {
        let siblings = append_indexes(k)?
            .into_iter()
            .map(|index| lookup(&old, first_new, &new, index))
            .collect::<Result<Vec<_>, _>>()?;
        new.extend(completed_subtrees(*leaf, &siblings));
    }
    Ok(new)
}

fn lookup<E>(old: &BTreeMap<u64, Hash>, first_new: u64, new: &[Hash], index: u64) -> Result<Hash, TreeError<E>> {
    let found = match index.checked_sub(first_new) {
        Some(offset) => usize::try_from(offset).ok().and_then(|i| new.get(i)).copied(),
        None => old.get(&index).copied(),
    };
    found.ok_or(TreeError::Missing { index })
}

/// The leaf hash followed by the hashes of the subtrees it completes, given their left siblings.
fn completed_subtrees(leaf: Hash, left_siblings: &[Hash]) -> Vec<Hash> {
    let mut out = Vec::with_capacity(1 + left_siblings.len());
    let mut h = leaf;
    out.push(h);
    for left in left_siblings {
        h = node_hash(left, &h);
        out.push(h);
    }
    out
}

/// The stored hashes that [`tree_hash`] reads for a tree of `size` leaves: its complete subtrees,
/// largest (leftmost) first.
pub fn tree_hash_indexes(size: u64) -> Result<Vec<u64>, RangeError> {
    Ok(tree_hash_plan(size)?.indexes())
}

/// The RFC 9162 Merkle Tree Hash of the first `size` leaves. `size` 0 gives [`crate::EMPTY_ROOT`].
pub fn tree_hash<R: HashReader + ?Sized>(size: u64, reader: &R) -> Result<Hash, TreeError<R::Error>> {
    let hashes = tree_hash_plan(size)?.read(reader)?;
    // One part in the plan gives one hash.
    hashes.into_iter().next().ok_or(TreeError::ShortRead { wanted: 1, got: 0 })
}

fn tree_hash_plan(size: u64) -> Result<Plan, RangeError> {
    check_size(size)?;
    Plan::for_ranges(&[(0, size)])
}

/// The stored hashes that [`prove_record`] reads.
pub fn record_proof_indexes(t: u64, n: u64) -> Result<Vec<u64>, RangeError> {
    Ok(record_proof_plan(t, n)?.indexes())
}

/// The RFC 9162 §2.1.3 inclusion proof (audit path) of leaf `n` in the tree of size `t`.
pub fn prove_record<R: HashReader + ?Sized>(t: u64, n: u64, reader: &R) -> Result<Vec<Hash>, TreeError<R::Error>> {
    record_proof_plan(t, n)?.read(reader)
}

fn record_proof_plan(t: u64, n: u64) -> Result<Plan, RangeError> {
    check_size(t)?;
    if n >= t {
        return Err(RangeError::LeafOutOfRange { index: n, size: t });
    }
    Plan::for_ranges(&inclusion_ranges(n, t))
}

/// The stored hashes that [`prove_tree`] reads.
pub fn tree_proof_indexes(t: u64, n: u64) -> Result<Vec<u64>, RangeError> {
    Ok(tree_proof_plan(t, n)?.indexes())
}

/// The RFC 9162 §2.1.4 consistency proof that the tree of size `n` is a prefix of the tree of
/// size `t`. Needs `0 < n <= t`; for `n == t` the proof is empty.
pub fn prove_tree<R: HashReader + ?Sized>(t: u64, n: u64, reader: &R) -> Result<Vec<Hash>, TreeError<R::Error>> {
    tree_proof_plan(t, n)?.read(reader)
}

fn tree_proof_plan(t: u64, n: u64) -> Result<Plan, RangeError> {
    check_size(t)?;
    if n == 0 || n > t {
        return Err(RangeError::BadConsistencySizes { old: n, new: t });
    }
    if n == t {
        return Plan::for_ranges(&[]);
    }
    Plan::for_ranges(&consistency_ranges(n, t))
}
