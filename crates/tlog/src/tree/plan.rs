//! Which subtree hashes a root or a proof consists of, and which stored hashes produce them.
//!
//! RFC 9162 defines the tree hash, the inclusion path and the consistency proof recursively over
//! leaf ranges `[lo, hi)`. Every range those definitions use starts at a multiple of the smallest
//! power of two at least as large as the range (the splits always go at the largest power of two
//! below the size). Such a range is covered, left to right, by complete subtrees of strictly
//! decreasing size, each one stored hash, and its RFC 9162 hash is those hashes folded from the
//! right: `MTH([lo, hi)) = node(first, MTH(rest))`.

use super::{HashReader, RangeError, TreeError, read_exact, stored_hash_index};
use crate::{EMPTY_ROOT, Hash, node_hash};

/// A list of subtree hashes (one root, or the hashes of a proof), each given as the stored-hash
/// indexes of the complete subtrees that cover it.
pub(super) struct Plan {
    parts: Vec<Vec<u64>>,
}

impl Plan {
    /// The plan for the RFC 9162 hashes of `ranges`, in order.
    pub(super) fn for_ranges(ranges: &[(u64, u64)]) -> Result<Plan, RangeError> {
        let parts = ranges.iter().map(|&(lo, hi)| cover(lo, hi)).collect::<Result<_, _>>()?;
        Ok(Plan { parts })
    }

    /// Every stored hash the plan needs, in the order [`Plan::evaluate`] expects them.
    pub(super) fn indexes(&self) -> Vec<u64> {
        self.parts.iter().flatten().copied().collect()
    }

    /// Reads the stored hashes in one call and folds each part into its subtree hash.
    pub(super) fn read<R: HashReader + ?Sized>(&self, reader: &R) -> Result<Vec<Hash>, TreeError<R::Error>> {
        let hashes = read_exact(reader, &self.indexes())?;
        Ok(self.evaluate(&hashes))
    }

    fn evaluate(&self, hashes: &[Hash]) -> Vec<Hash> {
        let mut rest = hashes;
        let mut out = Vec::with_capacity(self.parts.len());
        for part in &self.parts {
            let (mine, others) = rest.split_at(part.len().min(rest.len()));
            out.push(fold(mine));
            rest = others;
        }
        out
    }
}

/// The stored-hash indexes of the complete subtrees that cover `[lo, hi)`, left to right: at each
/// step the largest subtree that starts at `lo` (aligned) and still fits.
fn cover(mut lo: u64, hi: u64) -> Result<Vec<u64>, RangeError> {
    let mut out = Vec::new();
    while lo < hi {
        let fits = 63 - (hi - lo).leading_zeros(); // floor(log2(hi - lo))
        let level = lo.trailing_zeros().min(fits);
        let level8 = u8::try_from(level).map_err(|_| RangeError::TreeTooLarge { size: hi })?;
        out.push(stored_hash_index(level8, lo >> level)?);
        lo += 1 << level;
    }
    Ok(out)
}

/// The hash of a range from the hashes of its covering subtrees (see the module documentation).
/// An empty range is the empty tree.
fn fold(hashes: &[Hash]) -> Hash {
    let Some((last, init)) = hashes.split_last() else {
        return EMPTY_ROOT;
    };
    init.iter().rev().fold(*last, |acc, left| node_hash(left, &acc))
}

/// The largest power of two strictly below `size`; RFC 9162's split point `k`. Needs `size >= 2`.
fn split(size: u64) -> u64 {
    1 << (63 - (size - 1).leading_zeros())
}

/// The ranges whose hashes form the inclusion proof of leaf `m` in the tree of size `t`
/// (RFC 9162 §2.1.3.1 `PATH(m, D[0:t])`), deepest sibling first. Needs `m < t`.
pub(super) fn inclusion_ranges(m: u64, t: u64) -> Vec<(u64, u64)> {
    let (mut lo, mut hi) = (0, t);
    let mut top_down = Vec::new();
    while hi - lo > 1 {
        let k = split(hi - lo);
        if m < lo + k {
            top_down.push((lo + k, hi));
            hi = lo + k;
        } else {
            top_down.push((lo, lo + k));
            lo += k;
        }
    }
    top_down.reverse();
    top_down
}

/// The ranges whose hashes form the consistency proof from size `m` to size `n`
/// (RFC 9162 §2.1.4.1 `SUBPROOF(m, D[0:n], true)`), deepest first. Needs `0 < m < n`.
pub(super) fn consistency_ranges(m: u64, n: u64) -> Vec<(u64, u64)> {
    let (mut lo, mut hi) = (0, n);
    // Whether `[lo, hi)` is still on the path of the old tree's own root, whose hash the verifier
    // already has (RFC 9162's flag `b`).
    let mut on_old_root = true;
    let mut top_down = Vec::new();
    while m != hi {
        // Here lo < m < hi, so the range has at least two leaves.
        let k = split(hi - lo);
        if m <= lo + k {
            top_down.push((lo + k, hi));
            hi = lo + k;
        } else {
            top_down.push((lo, lo + k));
            lo += k;
            on_old_root = false;
        }
    }
    if !on_old_root {
        top_down.push((lo, hi));
    }
    top_down.reverse();
    top_down
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_are_the_complete_subtrees_in_decreasing_size() {
        // [0, 7) = [0, 4) + [4, 6) + [6, 7): node(2,0) at 6, node(1,2) at 9, leaf 6 at 10.
        assert_eq!(cover(0, 7), Ok(vec![6, 9, 10]));
        assert_eq!(cover(4, 6), Ok(vec![9]));
        assert_eq!(cover(0, 0), Ok(vec![]));
    }

    #[test]
    fn paths_split_at_the_largest_power_of_two() {
        assert_eq!(inclusion_ranges(0, 1), vec![]);
        assert_eq!(inclusion_ranges(2, 5), vec![(3, 4), (0, 2), (4, 5)]);
        assert_eq!(consistency_ranges(4, 8), vec![(4, 8)]);
        assert_eq!(consistency_ranges(6, 8), vec![(4, 6), (6, 8), (0, 4)]);
        assert_eq!(consistency_ranges(3, 7), vec![(2, 3), (3, 4), (0, 2), (4, 7)]);
    }
}
