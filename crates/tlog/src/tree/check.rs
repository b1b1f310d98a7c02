//! Verifying proofs: the RFC 9162 §2.1.3.2 and §2.1.4.2 algorithms, verbatim.
//!
//! These take only the proof, the sizes and the hashes, so a client holding nothing but a signed
//! checkpoint can run them. They accept any input: sizes up to `u64::MAX`, proofs of any length.

use crate::{Hash, node_hash};

/// Why a proof does not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("leaf {index} is not in a tree of {size} leaves")]
    LeafOutOfRange { index: u64, size: u64 },
    #[error("a consistency proof needs 0 < old size <= new size, got old {old} and new {new}")]
    BadConsistencySizes { old: u64, new: u64 },
    #[error("the proof has the wrong number of hashes for these tree sizes")]
    WrongProofLength,
    #[error("the proof does not lead to the expected root hash")]
    RootMismatch,
}

/// Checks that `proof` shows leaf `n`, with hash `leaf`, in the tree of size `t` with root `root`.
pub fn check_record(proof: &[Hash], t: u64, root: &Hash, n: u64, leaf: &Hash) -> Result<(), VerifyError> {
    if root_from_record_proof(proof, t, n, leaf)? != *root {
        return Err(VerifyError::RootMismatch);
    }
    Ok(())
}

/// The root that an inclusion proof leads to (RFC 9162 §2.1.3.2), or an error if the proof has the
/// wrong shape for leaf `n` of a tree of size `t`.
pub fn root_from_record_proof(proof: &[Hash], t: u64, n: u64, leaf: &Hash) -> Result<Hash, VerifyError> {
    if n >= t {
        return Err(VerifyError::LeafOutOfRange { index: n, size: t });
    }
    // fn: the leaf's position at the current level; sn: the last position at that level.
    let (mut f, mut s) = (n, t - 1);
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return Err(VerifyError::WrongProofLength);
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            // A left node with no right sibling at this level moves up unchanged.
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(VerifyError::WrongProofLength);
    }
    Ok(r)
}

/// Checks that `proof` shows the tree of size `n` with root `root_n` to be a prefix of the tree of
/// size `t` with root `root_t` (RFC 9162 §2.1.4.2). Needs `0 < n <= t`; when `n == t` the proof
/// must be empty and the roots equal.
pub fn check_tree(proof: &[Hash], t: u64, root_t: &Hash, n: u64, root_n: &Hash) -> Result<(), VerifyError> {
    if n == 0 || n > t {
        return Err(VerifyError::BadConsistencySizes { old: n, new: t });
    }
    if n == t {
        return match (proof.is_empty(), root_n == root_t) {
            (false, _) => Err(VerifyError::WrongProofLength),
            (true, false) => Err(VerifyError::RootMismatch),
            (true, true) => Ok(()),
        };
    }
    let (old, new) = roots_from_tree_proof(proof, t, n, root_n)?;
    if old != *root_n || new != *root_t {
        return Err(VerifyError::RootMismatch);
    }
    Ok(())
}

/// Recomputes both roots from a consistency proof, for `0 < n < t`.
fn roots_from_tree_proof(proof: &[Hash], t: u64, n: u64, root_n: &Hash) -> Result<(Hash, Hash), VerifyError> {
    // When n is a power of two, the old root is itself a node of the new tree and the proof leaves
    // it out: the verifier supplies it.
    let (first, rest) = match proof.split_first() {
        None => return Err(VerifyError::WrongProofLength),
        Some(_) if n.is_power_of_two() => (root_n, proof),
        Some((first, rest)) => (first, rest),
    };
    let (mut f, mut s) = (n - 1, t - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if s == 0 {
            return Err(VerifyError::WrongProofLength);
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(VerifyError::WrongProofLength);
    }
    Ok((fr, sr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absurd_sizes_are_refused_without_overflow() {
        let h = [7u8; 32];
        assert_eq!(check_record(&[], 0, &h, 0, &h), Err(VerifyError::LeafOutOfRange { index: 0, size: 0 }));
        assert_eq!(check_record(&[h; 70], u64::MAX, &h, u64::MAX - 1, &h), Err(VerifyError::WrongProofLength));
        assert!(check_tree(&[h; 70], u64::MAX, &h, u64::MAX - 1, &h).is_err());
        assert_eq!(check_tree(&[], 5, &h, 0, &h), Err(VerifyError::BadConsistencySizes { old: 0, new: 5 }));
        assert_eq!(check_tree(&[], 5, &h, 6, &h), Err(VerifyError::BadConsistencySizes { old: 6, new: 5 }));
        assert_eq!(check_tree(&[h], 5, &h, 5, &h), Err(VerifyError::WrongProofLength));
        assert_eq!(check_tree(&[], 5, &h, 5, &h), Ok(()));
        assert_eq!(check_tree(&[], 5, &h, 4, &h), Err(VerifyError::WrongProofLength));
    }

    #[test]
    fn a_single_leaf_is_its_own_root() {
        let h = [9u8; 32];
        assert_eq!(check_record(&[], 1, &h, 0, &h), Ok(()));
        assert_eq!(check_record(&[h], 1, &h, 0, &h), Err(VerifyError::WrongProofLength));
    }
}
