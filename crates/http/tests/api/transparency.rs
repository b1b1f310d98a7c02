//! The signed log over HTTP: a checkpoint follows every commit within about a second, its
//! signature verifies with the published key, and the served proofs verify against it.

use std::time::Duration;

use furrow_tlog::checkpoint;
use furrow_tlog::note::Ed25519Verifier;
use furrow_tlog::tree;
use serde_json::json;

use crate::helpers::{TestApp, spawn_app};

async fn text(app: &TestApp, path: &str) -> (u16, String) {
    let response = app.client.get(format!("{}{path}", app.url)).send().await.expect("request");
    (response.status().as_u16(), response.text().await.expect("text"))
}

fn hashes(value: &serde_json::Value) -> Vec<[u8; 32]> {
    value
        .as_array()
        .expect("array")
        .iter()
        .map(|h| hex::decode(h.as_str().expect("hex")).expect("hex").try_into().expect("32 bytes"))
        .collect()
}

/// Waits until the checkpoint covers `size` entries; the checkpointer runs at most ~1 s behind.
async fn checkpoint_covering(app: &TestApp, verifier: &Ed25519Verifier, size: u64) -> checkpoint::Checkpoint {
    for _ in 0..50 {
        let (status, note) = text(app, "/log/checkpoint").await;
        if status == 200 {
            let (checkpoint, _) = checkpoint::open(note.as_bytes(), &[verifier]).expect("signature verifies");
            if checkpoint.size() >= size {
                return checkpoint;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no checkpoint covering {size} entries within 5 s");
}

#[tokio::test]
async fn checkpoints_and_proofs_verify_with_the_published_key() {
    let app = spawn_app().await;
    let (status, key) = text(&app, "/log/key").await;
    assert_eq!(status, 200);
    let verifier = Ed25519Verifier::from_vkey(key.trim()).expect("a valid vkey");

    let first_size = app.get_ok("/status").await["log_size"].as_u64().expect("size");
    let first = checkpoint_covering(&app, &verifier, first_size).await;
    assert_eq!(first.origin(), "test.furrow/log");

    app.post_ok("/retirements", &app.buyer, app.retire_body(json!({"quantity": 3}))).await;
    let size = app.get_ok("/status").await["log_size"].as_u64().expect("size");
    let latest = checkpoint_covering(&app, &verifier, size).await;

    // Every entry is provably in the checkpointed tree, and its leaf hash is the served one.
    for index in 0..latest.size() {
        let proof = app.get_ok(&format!("/log/proofs/inclusion/{index}")).await;
        let entry = app.get_ok(&format!("/log/entries/{index}")).await;
        assert_eq!(proof["leaf_hash"], entry["leaf_hash"]);
        let leaf: [u8; 32] =
            hex::decode(proof["leaf_hash"].as_str().expect("hex")).expect("hex").try_into().expect("32");
        let tree_size = proof["tree_size"].as_u64().expect("size");
        assert!(tree_size >= latest.size());
        let (served, _) =
            checkpoint::open(proof["checkpoint"].as_str().expect("note").as_bytes(), &[&verifier]).expect("signed");
        tree::check_record(&hashes(&proof["proof"]), tree_size, served.root(), index, &leaf)
            .expect("inclusion verifies");
    }

    // The newer tree extends the older one.
    let consistency = app.get_ok(&format!("/log/proofs/consistency?from={}&to={}", first.size(), latest.size())).await;
    tree::check_tree(&hashes(&consistency["proof"]), latest.size(), latest.root(), first.size(), first.root())
        .expect("consistency verifies");

    let (status, body) = app.get(&format!("/log/proofs/inclusion/{}", latest.size() + 100)).await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = app.get("/log/proofs/consistency?from=0").await;
    assert_eq!(status, 422, "{body}");
}
