//! Property tests of the stored-hash tree against a naive implementation of the RFC 9162
//! definitions (recursive MTH, PATH and SUBPROOF over the list of leaf hashes).

use std::collections::BTreeMap;

use furrow_tlog::tree::{
    HashReader, MemoryTree, check_record, check_tree, prove_record, prove_tree, record_proof_indexes,
    split_stored_hash_index, stored_hash_count, stored_hash_index, stored_hashes_for_records, tree_hash,
    tree_hash_indexes, tree_proof_indexes,
};
use furrow_tlog::{EMPTY_ROOT, Hash, leaf_hash, node_hash};
use proptest::prelude::*;

/// RFC 9162 §2.1.1 Merkle Tree Hash, straight from the definition.
fn mth(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => EMPTY_ROOT,
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
        }
    }
}

/// The largest power of two strictly below `n` (n >= 2).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// RFC 9162 §2.1.3.1 PATH(m, D[n]).
fn path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
    if leaves.len() <= 1 {
        return vec![];
    }
    let k = split(leaves.len());
    if m < k {
        [path(m, &leaves[..k]), vec![mth(&leaves[k..])]].concat()
    } else {
        [path(m - k, &leaves[k..]), vec![mth(&leaves[..k])]].concat()
    }
}

/// RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], b).
fn subproof(m: usize, leaves: &[Hash], whole: bool) -> Vec<Hash> {
    let n = leaves.len();
    if m == n {
        return if whole { vec![] } else { vec![mth(leaves)] };
    }
    let k = split(n);
    if m <= k {
        [subproof(m, &leaves[..k], whole), vec![mth(&leaves[k..])]].concat()
    } else {
        [subproof(m - k, &leaves[k..], false), vec![mth(&leaves[..k])]].concat()
    }
}

fn leaves(count: usize, seed: u64) -> Vec<Hash> {
    (0..count).map(|i| leaf_hash(format!("entry {seed} {i}").as_bytes())).collect()
}

fn build(leaves: &[Hash]) -> MemoryTree {
    let mut tree = MemoryTree::new();
    for leaf in leaves {
        tree.append(*leaf).expect("append");
    }
    tree
}

fn u(x: u64) -> usize {
    usize::try_from(x).expect("small")
}

fn flip(hash: &Hash, bit: usize) -> Hash {
    let mut out = *hash;
    out[bit / 8] ^= 1 << (bit % 8);
    out
}

/// A reader prefilled with exactly the indexes a computation announced it would need, as an async
/// database caller would do.
fn prefetched(tree: &MemoryTree, indexes: &[u64]) -> BTreeMap<u64, Hash> {
    let hashes = tree.read_hashes(indexes).expect("read");
    indexes.iter().copied().zip(hashes).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn incremental_roots_equal_the_recursive_definition(size in 1usize..=300, seed: u64, probe in 0usize..300) {
        let leaves = leaves(size, seed);
        let tree = build(&leaves);
        prop_assert_eq!(tree.stored_hashes().len() as u64, stored_hash_count(size as u64).expect("count"));
        prop_assert_eq!(tree.root().expect("root"), mth(&leaves));
        let earlier = probe % (size + 1);
        prop_assert_eq!(tree_hash(earlier as u64, &tree).expect("root"), mth(&leaves[..earlier]));
        let from_indexes = tree_hash(size as u64, &prefetched(&tree, &tree_hash_indexes(size as u64).expect("ix")));
        prop_assert_eq!(from_indexes.expect("root"), mth(&leaves));
    }

    #[test]
    fn every_stored_hash_is_its_subtree_hash(size in 1usize..=300, seed: u64) {
        let leaves = leaves(size, seed);
        let tree = build(&leaves);
        for (index, stored) in (0u64..).zip(tree.stored_hashes()) {
            let (level, n) = split_stored_hash_index(index).expect("split");
            prop_assert_eq!(stored_hash_index(level, n), Ok(index));
            let (lo, hi) = (u(n << level), u((n + 1) << level));
            prop_assert_eq!(*stored, mth(&leaves[lo..hi]));
        }
    }

    #[test]
    fn batch_appends_store_the_same_hashes_as_single_ones(old in 0usize..=150, added in 0usize..=150, seed: u64) {
        let leaves = leaves(old + added, seed);
        let whole = build(&leaves);
        let prefix = build(&leaves[..old]);
        let new = stored_hashes_for_records(old as u64, &leaves[old..], &prefix).expect("batch");
        prop_assert_eq!(&[prefix.stored_hashes(), &new].concat(), whole.stored_hashes());
    }

    #[test]
    fn every_inclusion_proof_is_the_rfc_path_and_verifies(size in 1usize..=300, seed: u64) {
        let leaves = leaves(size, seed);
        let tree = build(&leaves);
        let (t, root) = (size as u64, mth(&leaves));
        for n in 0..t {
            let proof = prove_record(t, n, &tree).expect("proof");
            prop_assert_eq!(&proof, &path(u(n), &leaves));
            prop_assert_eq!(check_record(&proof, t, &root, n, &leaves[u(n)]), Ok(()));
        }
        let n = seed % t;
        let prefetched = prefetched(&tree, &record_proof_indexes(t, n).expect("ix"));
        prop_assert_eq!(prove_record(t, n, &prefetched).expect("proof"), path(u(n), &leaves));
    }

    #[test]
    fn every_consistency_proof_is_the_rfc_subproof_and_verifies(size in 1usize..=300, seed: u64) {
        let leaves = leaves(size, seed);
        let tree = build(&leaves);
        let (t, root) = (size as u64, mth(&leaves));
        for n in 1..=t {
            let proof = prove_tree(t, n, &tree).expect("proof");
            prop_assert_eq!(&proof, &subproof(u(n), &leaves, true));
            prop_assert_eq!(check_tree(&proof, t, &root, n, &mth(&leaves[..u(n)])), Ok(()));
        }
        let n = 1 + seed % t;
        let prefetched = prefetched(&tree, &tree_proof_indexes(t, n).expect("ix"));
        prop_assert_eq!(prove_tree(t, n, &prefetched).expect("proof"), subproof(u(n), &leaves, true));
    }

    #[test]
    fn any_flipped_bit_breaks_an_inclusion_proof(size in 1usize..=300, seed: u64, pick: u64) {
        let leaves = leaves(size, seed);
        let tree = build(&leaves);
        let (t, n) = (size as u64, pick % size as u64);
        let (root, leaf) = (mth(&leaves), leaves[u(n)]);
        let proof = prove_record(t, n, &tree).expect("proof");
        for bit in 0..256 {
            prop_assert!(check_record(&proof, t, &flip(&root, bit), n, &leaf).is_err());
            prop_assert!(check_record(&proof, t, &root, n, &flip(&leaf, bit)).is_err());
            for i in 0..proof.len() {
                let mut wrong = proof.clone();
                wrong[i] = flip(&wrong[i], bit);
                prop_assert!(check_record(&wrong, t, &root, n, &leaf).is_err());
            }
        }
    }

    #[test]
    fn any_flipped_bit_breaks_a_consistency_proof(size in 1usize..=300, seed: u64, pick: u64) {
        let leaves = leaves(size, seed);
        let tree = build(&leaves);
        let (t, n) = (size as u64, 1 + pick % size as u64);
        let (root_t, root_n) = (mth(&leaves), mth(&leaves[..u(n)]));
        let proof = prove_tree(t, n, &tree).expect("proof");
        for bit in 0..256 {
            prop_assert!(check_tree(&proof, t, &flip(&root_t, bit), n, &root_n).is_err());
            prop_assert!(check_tree(&proof, t, &root_t, n, &flip(&root_n, bit)).is_err());
            for i in 0..proof.len() {
                let mut wrong = proof.clone();
                wrong[i] = flip(&wrong[i], bit);
                prop_assert!(check_tree(&wrong, t, &root_t, n, &root_n).is_err());
            }
        }
    }

    #[test]
    fn a_proof_for_other_sizes_or_indexes_does_not_verify(size in 2usize..=300, seed: u64, a: u64, b: u64) {
        let leaves = leaves(size, seed);
        let tree = build(&leaves);
        let t = size as u64;
        let (n, other) = (a % t, b % t);
        let proof = prove_record(t, n, &tree).expect("proof");
        if other != n {
            prop_assert!(check_record(&proof, t, &mth(&leaves), other, &leaves[u(n)]).is_err());
            prop_assert!(check_record(&proof, t, &mth(&leaves), other, &leaves[u(other)]).is_err());
        }
    }

    #[test]
    fn hostile_sizes_and_proofs_never_panic(
        t: u64, n: u64, len in 0usize..80, byte: u8, level: u8, index: u64,
    ) {
        let proof = vec![[byte; 32]; len];
        let h = [byte; 32];
        let _ = check_record(&proof, t, &h, n, &h);
        let _ = check_tree(&proof, t, &h, n, &h);
        let _ = stored_hash_index(level, index);
        let _ = split_stored_hash_index(index);
        let _ = stored_hash_count(t);
        let empty = BTreeMap::new();
        let _ = tree_hash(t, &empty);
        let _ = prove_record(t, n, &empty);
        let _ = prove_tree(t, n, &empty);
        let _ = stored_hashes_for_records(t, &[h], &empty);
    }
}

/// A reader that returns fewer hashes than asked must be reported, not trusted or indexed past.
#[test]
fn a_misbehaving_reader_is_an_error_not_a_panic() {
    struct Short;
    impl HashReader for Short {
        type Error = std::convert::Infallible;
        fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Self::Error> {
            Ok(vec![[0; 32]; indexes.len().saturating_sub(1)])
        }
    }
    assert!(tree_hash(7, &Short).is_err());
    assert!(prove_record(7, 3, &Short).is_err());
    assert!(prove_tree(7, 3, &Short).is_err());
    assert!(stored_hashes_for_records(7, &[[1; 32]], &Short).is_err());
    assert!(MemoryTree::new().prove_record(0).is_err());
}
