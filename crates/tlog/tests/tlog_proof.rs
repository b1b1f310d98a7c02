//! C2SP `tlog-proof@v1` bundles: format, round trips, verification and tampering.
//!
//! The format vectors follow the C2SP specification `tlog-proof.md` (github.com/C2SP/C2SP),
//! whose example's header, extra data, index and proof lines are reused here with a checkpoint we
//! can sign (the example's signatures are elided with `[...]`), and the expected outputs of
//! `TestMarshal` in the reference implementation github.com/transparency-dev/formats/proof.

use furrow_tlog::checkpoint::Checkpoint;
use furrow_tlog::note::{Ed25519Signer, NoteVerifier};
use furrow_tlog::proof::{self, HEADER, ProofError, TlogProof};
use furrow_tlog::tree::{MemoryTree, VerifyError};
use furrow_tlog::{Hash, leaf_hash};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

const ORIGIN: &str = "example.com/fancylog";

fn signer() -> Ed25519Signer {
    Ed25519Signer::from_seed(ORIGIN, &[42; 32]).expect("signer")
}

fn entry(i: u64) -> Vec<u8> {
    format!("event {i}").into_bytes()
}

/// A log of `size` entries, its signed checkpoint, and the proof bundle of leaf `n`.
fn logged(size: u64, n: u64) -> (MemoryTree, String, TlogProof) {
    let mut tree = MemoryTree::new();
    for i in 0..size {
        tree.append_entry(&entry(i)).expect("append");
    }
    let checkpoint = Checkpoint::new(ORIGIN, size, tree.root().expect("root")).expect("checkpoint");
    let signed = checkpoint.sign(&[&signer()]).expect("sign");
    let proof = TlogProof::new(n, tree.prove_record(n).expect("proof"), &signed).expect("bundle");
    (tree, signed, proof)
}

fn verify_text(text: &[u8], entry: &[u8]) -> Result<Checkpoint, ProofError> {
    let verifier = signer().verifier();
    proof::verify(text, entry, &[&verifier as &dyn NoteVerifier])
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn a_bundle_verifies_and_round_trips() {
    let (tree, signed, bundle) = logged(1000, 617);
    let text = bundle.to_text();
    assert!(text.starts_with("c2sp.org/tlog-proof@v1\nindex 617\n"));
    assert!(text.ends_with(&format!("\n\n{signed}")));
    assert_eq!(TlogProof::parse(text.as_bytes()).expect("parse"), bundle);
    let checkpoint = verify_text(text.as_bytes(), &entry(617)).expect("verifies");
    assert_eq!((checkpoint.origin(), checkpoint.size()), (ORIGIN, 1000));
    assert_eq!(checkpoint.root(), &tree.root().expect("root"));
    let verifier = signer().verifier();
    let leaf = leaf_hash(&entry(617));
    assert!(bundle.verify_leaf_hash(&leaf, &[&verifier]).is_ok());
}

#[test]
fn single_entry_logs_have_empty_proofs() {
    let (_, signed, bundle) = logged(1, 0);
    assert_eq!(bundle.to_text(), format!("{HEADER}\nindex 0\n\n{signed}"));
    assert!(verify_text(bundle.to_text().as_bytes(), &entry(0)).is_ok());
}

#[test]
fn reference_implementation_layout() {
    // transparency-dev/formats TestMarshal: hashes are SHA-256("hash1") and SHA-256("hash2").
    let h1: Hash = Sha256::digest(b"hash1").into();
    let h2: Hash = Sha256::digest(b"hash2").into();
    let (_, signed, _) = logged(7, 5);
    let plain = TlogProof::new(5, vec![h1, h2], &signed).expect("bundle");
    assert_eq!(plain.to_text(), format!("c2sp.org/tlog-proof@v1\nindex 5\n{}\n{}\n\n{signed}", b64(&h1), b64(&h2)));
    let with_extra = TlogProof::new(10, vec![h1], &signed).expect("bundle").with_extra(b"extra information".to_vec());
    let expected =
        format!("c2sp.org/tlog-proof@v1\nextra {}\nindex 10\n{}\n\n{signed}", b64(b"extra information"), b64(&h1));
    assert_eq!(with_extra.to_text(), expected);
    assert_eq!(TlogProof::parse(expected.as_bytes()).expect("parse"), with_extra);
}

#[test]
fn the_spec_example_lines_parse() {
    let (_, signed, _) = logged(3, 0);
    let text = format!(
        "c2sp.org/tlog-proof@v1\n\
         extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ\n\
         index 73894\n\
         gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\n\
         B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=\n\
         EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=\n\
         RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=\n\
         AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=\n\
         \n\
         {signed}"
    );
    let parsed = TlogProof::parse(text.as_bytes()).expect("parse");
    assert_eq!(parsed.index(), 73894);
    assert_eq!(parsed.hashes().len(), 5);
    assert!(parsed.extra().expect("extra").starts_with(b"age-v1.2.1-darwin-arm64.tar.gz"));
    assert_eq!(parsed.checkpoint(), signed);
    assert_eq!(parsed.to_text(), text);
    // Index 73894 is not in a tree of 3 leaves.
    let verifier = signer().verifier();
    assert!(matches!(
        parsed.verify(b"", &[&verifier]),
        Err(ProofError::Inclusion(VerifyError::LeafOutOfRange { index: 73894, size: 3 }))
    ));
}

#[test]
fn malformed_bundles_are_refused() {
    let (_, signed, bundle) = logged(10, 3);
    let hash = b64(&bundle.hashes()[0]);
    let cases: Vec<(String, &str)> = vec![
        (String::new(), "header"),
        (format!("c2sp.org/tlog-proof@v2\nindex 3\n\n{signed}"), "header"),
        (format!("c2sp.org/tlog-proof@v1 \nindex 3\n\n{signed}"), "header"),
        (format!("c2sp.org/tlog-proof@v1\r\nindex 3\n\n{signed}"), "header"),
        ("c2sp.org/tlog-proof@v1".to_owned(), "header"),
        ("c2sp.org/tlog-proof@v1\n".to_owned(), "index"),
        (format!("c2sp.org/tlog-proof@v1\nindex 03\n\n{signed}"), "index"),
        (format!("c2sp.org/tlog-proof@v1\nindex -3\n\n{signed}"), "index"),
        (format!("c2sp.org/tlog-proof@v1\nindex +3\n\n{signed}"), "index"),
        (format!("c2sp.org/tlog-proof@v1\nindex 18446744073709551616\n\n{signed}"), "index"),
        (format!("c2sp.org/tlog-proof@v1\nindex  3\n\n{signed}"), "index"),
        (format!("c2sp.org/tlog-proof@v1\nindex\n\n{signed}"), "index"),
        (format!("c2sp.org/tlog-proof@v1\n\nindex 3\n\n{signed}"), "index"),
        (format!("c2sp.org/tlog-proof@v1\nindex 3\nextra AA==\n\n{signed}"), "hash"),
        (format!("c2sp.org/tlog-proof@v1\nextra !!\nindex 3\n\n{signed}"), "extra"),
        (format!("c2sp.org/tlog-proof@v1\nextra AB==\nindex 3\n\n{signed}"), "extra"),
        (format!("c2sp.org/tlog-proof@v1\nextra AA==\nextra AA==\nindex 3\n\n{signed}"), "index"),
        (format!("c2sp.org/tlog-proof@v1\nindex 3\n{hash}x\n\n{signed}"), "hash"),
        (format!("c2sp.org/tlog-proof@v1\nindex 3\n{}\n\n{signed}", b64(&[0; 31])), "hash"),
        (format!("c2sp.org/tlog-proof@v1\nindex 3\n{}\n\n{signed}", b64(&[0; 33])), "hash"),
        (format!("c2sp.org/tlog-proof@v1\nindex 3\n{}\n\n{signed}", hash.trim_end_matches('=')), "hash"),
        (format!("c2sp.org/tlog-proof@v1\nindex 3\n {hash}\n\n{signed}"), "hash"),
        (format!("c2sp.org/tlog-proof@v1\nindex 3\n{hash}\n"), "end"),
        ("c2sp.org/tlog-proof@v1\nindex 3\n".to_owned(), "end"),
        ("c2sp.org/tlog-proof@v1\nindex 3\n\n".to_owned(), "checkpoint"),
        (format!("c2sp.org/tlog-proof@v1\nindex 3\n\n\n{signed}"), "checkpoint"),
        (format!("c2sp.org/tlog-proof@v1\nindex 3\n\n{signed}\n"), "checkpoint"),
        (format!("c2sp.org/tlog-proof@v1\nindex 3\n\n{}", signed.trim_end()), "checkpoint"),
        (format!("c2sp.org/tlog-proof@v1\nindex 3\n\n{}", signed.replacen("\n10\n", "\n010\n", 1)), "checkpoint"),
        ("c2sp.org/tlog-proof@v1\nindex 3\n\nnot a note\n".to_owned(), "checkpoint"),
    ];
    for (text, what) in cases {
        let result = TlogProof::parse(text.as_bytes());
        let ok = matches!(
            (&result, what),
            (Err(ProofError::BadHeader), "header")
                | (Err(ProofError::BadIndex), "index")
                | (Err(ProofError::BadExtra), "extra")
                | (Err(ProofError::BadHash { .. }), "hash")
                | (Err(ProofError::MissingCheckpoint), "end")
                | (Err(ProofError::Checkpoint(_)), "checkpoint")
        );
        assert!(ok, "{text:?}: expected a {what} error, got {result:?}");
    }
    assert!(matches!(TlogProof::parse(b"c2sp.org/tlog-proof@v1\n\xff"), Err(ProofError::NotUtf8)));
    assert!(TlogProof::new(0, vec![], "10\nnot a checkpoint\n").is_err());
}

#[test]
fn each_kind_of_tampering_fails() {
    let (tree, signed, bundle) = logged(300, 200);
    let verifier = signer().verifier();
    let keys: [&dyn NoteVerifier; 1] = [&verifier];
    let good = entry(200);
    assert!(bundle.verify(&good, &keys).is_ok());

    // Another entry, or the right entry under another index.
    assert!(matches!(bundle.verify(&entry(201), &keys), Err(ProofError::Inclusion(VerifyError::RootMismatch))));
    for index in [199, 201, 300, u64::MAX] {
        let moved = TlogProof::new(index, bundle.hashes().to_vec(), &signed).expect("bundle");
        assert!(matches!(moved.verify(&good, &keys), Err(ProofError::Inclusion(_))), "index {index}");
    }
    // The proof of another leaf.
    let other = TlogProof::new(200, tree.prove_record(201).expect("proof"), &signed).expect("bundle");
    assert!(other.verify(&good, &keys).is_err());
    // A flipped, dropped or added proof hash.
    for i in 0..bundle.hashes().len() {
        let mut hashes = bundle.hashes().to_vec();
        hashes[i][i % 32] ^= 0x80;
        let flipped = TlogProof::new(200, hashes, &signed).expect("bundle");
        assert!(matches!(flipped.verify(&good, &keys), Err(ProofError::Inclusion(VerifyError::RootMismatch))));
    }
    let short = TlogProof::new(200, bundle.hashes()[1..].to_vec(), &signed).expect("bundle");
    assert!(matches!(short.verify(&good, &keys), Err(ProofError::Inclusion(VerifyError::WrongProofLength))));
    let long = TlogProof::new(200, [bundle.hashes(), &[[0; 32]]].concat(), &signed).expect("bundle");
    assert!(matches!(long.verify(&good, &keys), Err(ProofError::Inclusion(VerifyError::WrongProofLength))));

    // A checkpoint for another size or root, re-signed by a key we do not trust, or altered.
    let root = tree.root().expect("root");
    let rogue = Ed25519Signer::from_seed(ORIGIN, &[43; 32]).expect("signer");
    let forged = Checkpoint::new(ORIGIN, 300, root).expect("checkpoint").sign(&[&rogue]).expect("sign");
    let forged = TlogProof::new(200, bundle.hashes().to_vec(), &forged).expect("bundle");
    assert!(matches!(forged.verify(&good, &keys), Err(ProofError::Checkpoint(_))));
    let altered = signed.replacen("\n300\n", "\n301\n", 1);
    let altered = TlogProof::new(200, bundle.hashes().to_vec(), &altered).expect("bundle");
    assert!(matches!(altered.verify(&good, &keys), Err(ProofError::Checkpoint(_))));
    assert!(matches!(bundle.verify(&good, &[]), Err(ProofError::Checkpoint(_))));

    // The extra data is not authenticated: changing it changes nothing.
    assert!(bundle.clone().with_extra(b"anything".to_vec()).verify(&good, &keys).is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn bundles_round_trip(index: u64, hashes in prop::collection::vec(any::<[u8; 32]>(), 0..70), extra in prop::option::of(prop::collection::vec(any::<u8>(), 0..100))) {
        let (_, signed, _) = logged(5, 0);
        let mut bundle = TlogProof::new(index, hashes, &signed).expect("bundle");
        if let Some(extra) = extra {
            bundle = bundle.with_extra(extra);
        }
        prop_assert_eq!(TlogProof::parse(bundle.to_text().as_bytes()).expect("parse"), bundle);
    }

    /// Changing any one byte of a bundle, anywhere, makes it unparseable or unverifiable.
    #[test]
    fn any_altered_byte_is_caught(size in 1u64..=600, leaf: u64, at: usize, mask in 1u8..=255) {
        let n = leaf % size;
        let (_, _, bundle) = logged(size, n);
        let mut text = bundle.to_text().into_bytes();
        prop_assert!(verify_text(&text, &entry(n)).is_ok());
        let at = at % text.len();
        text[at] ^= mask;
        prop_assert!(verify_text(&text, &entry(n)).is_err(), "byte {} of {:?}", at, String::from_utf8_lossy(&text));
    }

    #[test]
    fn random_input_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = verify_text(&bytes, b"entry");
    }

    #[test]
    fn proof_like_input_never_panics(s in "c2sp\\.org/tlog-proof@v1\n(extra [A-Za-z0-9+/=]{0,8}\n)?(index [0-9]{1,3}\n)?([A-Za-z0-9+/=]{0,44}\n){0,3}\n?[a-z0-9 \n\u{2014}+/=.]{0,60}") {
        if let Ok(parsed) = TlogProof::parse(s.as_bytes()) {
            prop_assert_eq!(parsed.to_text(), s);
        }
    }
}
