//! Differential tests against an independent RFC 6962 implementation, the `ct-merkle` crate (its
//! own known-answer tests use the transparency-dev/merkle vectors). Roots and proofs must be
//! byte-identical, and each side's verifier must accept the other's proofs.

use ct_merkle::mem_backed_tree::MemoryBackedTree;
use ct_merkle::{ConsistencyProof, InclusionProof, RootHash};
use furrow_tlog::tree::{MemoryTree, check_record, check_tree};
use furrow_tlog::{Hash, leaf_hash};
use proptest::prelude::*;
use sha2::Sha256;

type Theirs = MemoryBackedTree<Sha256, Vec<u8>>;

fn build(entries: &[Vec<u8>]) -> (MemoryTree, Theirs) {
    let mut ours = MemoryTree::new();
    let mut theirs = Theirs::new();
    for entry in entries {
        ours.append_entry(entry).expect("append");
        theirs.push(entry.clone());
    }
    (ours, theirs)
}

fn flat(proof: &[Hash]) -> Vec<u8> {
    proof.concat()
}

fn unflat(bytes: &[u8]) -> Vec<Hash> {
    bytes.chunks_exact(32).map(|c| c.try_into().expect("32 bytes")).collect()
}

fn their_root(theirs: &Theirs) -> Hash {
    theirs.root().as_bytes().as_slice().try_into().expect("32 bytes")
}

/// ct-merkle's root of an earlier size, from a tree rebuilt to that size.
fn their_root_at(entries: &[Vec<u8>], size: usize) -> RootHash<Sha256> {
    let mut prefix = Theirs::new();
    for entry in &entries[..size] {
        prefix.push(entry.clone());
    }
    prefix.root()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn roots_and_proofs_are_byte_identical(
        entries in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 1..200),
        a: usize,
        b: usize,
    ) {
        let (ours, theirs) = build(&entries);
        let size = entries.len();
        let t = size as u64;
        let root = ours.root().expect("root");
        prop_assert_eq!(root, their_root(&theirs));

        let n = a % size;
        let our_inclusion = ours.prove_record(n as u64).expect("proof");
        let their_inclusion = theirs.prove_inclusion(n);
        prop_assert_eq!(flat(&our_inclusion), their_inclusion.as_bytes().to_vec());
        let ours_by_them = InclusionProof::<Sha256>::from_bytes(flat(&our_inclusion));
        prop_assert!(theirs.root().verify_inclusion(&entries[n], n as u64, &ours_by_them).is_ok());
        let leaf = leaf_hash(&entries[n]);
        prop_assert_eq!(check_record(&unflat(their_inclusion.as_bytes()), t, &root, n as u64, &leaf), Ok(()));

        // ct-merkle proves consistency from a strictly smaller, non-empty tree.
        if size > 1 {
            let old = 1 + b % (size - 1);
            let our_consistency = ours.prove_tree(old as u64).expect("proof");
            let their_consistency = theirs.prove_consistency(size - old);
            prop_assert_eq!(flat(&our_consistency), their_consistency.as_bytes().to_vec());
            let old_root = their_root_at(&entries, old);
            let ours_by_them = ConsistencyProof::<Sha256>::try_from_bytes(flat(&our_consistency)).expect("shape");
            prop_assert!(theirs.root().verify_consistency(&old_root, &ours_by_them).is_ok());
            let old_hash: Hash = old_root.as_bytes().as_slice().try_into().expect("32 bytes");
            let theirs_by_us = unflat(their_consistency.as_bytes());
            prop_assert_eq!(check_tree(&theirs_by_us, t, &root, old as u64, &old_hash), Ok(()));
        }
    }
}
