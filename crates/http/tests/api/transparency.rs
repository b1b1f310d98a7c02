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
        let by_hash =
            app.get_ok(&format!("/log/proofs/inclusion-by-hash/{}", proof["leaf_hash"].as_str().expect("hex"))).await;
        assert_eq!(by_hash["index"], index);
    }

    // The newer tree extends the older one.
    let consistency = app.get_ok(&format!("/log/proofs/consistency?from={}&to={}", first.size(), latest.size())).await;
    tree::check_tree(&hashes(&consistency["proof"]), latest.size(), latest.root(), first.size(), first.root())
        .expect("consistency verifies");

    let (status, body) = app.get(&format!("/log/proofs/inclusion/{}", latest.size() + 100)).await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = app.get(&format!("/log/proofs/inclusion-by-hash/{}", "00".repeat(32))).await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = app.get("/log/proofs/inclusion-by-hash/xyz").await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = app.get("/log/proofs/consistency?from=0").await;
    assert_eq!(status, 422, "{body}");
}

async fn bytes(app: &TestApp, path: &str) -> (u16, Option<String>, Vec<u8>) {
    let response = app.client.get(format!("{}{path}", app.url)).send().await.expect("request");
    let status = response.status().as_u16();
    let cache = response.headers().get("cache-control").and_then(|v| v.to_str().ok()).map(str::to_owned);
    (status, cache, response.bytes().await.expect("body").to_vec())
}

#[tokio::test]
async fn the_log_is_served_as_tiles_and_retirements_carry_offline_proofs() {
    use furrow_tlog::tile::{
        TileHashReader, check_entry_bundle, decode_entry_bundle, decode_tile_data, tiles_for_size,
    };
    let app = spawn_app().await;
    let retired = app.post_ok("/retirements", &app.buyer, app.retire_body(json!({"quantity": 4}))).await;
    let (_, key) = text(&app, "/log/key").await;
    let verifier = Ed25519Verifier::from_vkey(key.trim()).expect("vkey");
    let size = app.get_ok("/status").await["log_size"].as_u64().expect("size");
    let checkpoint = checkpoint_covering(&app, &verifier, size).await;

    // A client holding only the tiles recomputes the signed root.
    let mut tiles = std::collections::BTreeMap::new();
    for tile in tiles_for_size(checkpoint.size()).expect("tiles") {
        let (status, cache, data) = bytes(&app, &format!("/log/{}", tile.path())).await;
        assert_eq!(status, 200, "{}", tile.path());
        assert_eq!(cache.as_deref(), Some("public, max-age=31536000, immutable"));
        tiles.insert(tile, data);
    }
    let reader =
        TileHashReader::new(checkpoint.size(), checkpoint.root(), &tiles).expect("tiles match the signed root");
    assert_eq!(tree::tree_hash(checkpoint.size(), &reader).expect("root"), *checkpoint.root());

    // The entry bundle holds exactly the entries the level-0 tile commits to.
    let level0 = tiles.keys().find(|t| t.level() == 0).copied().expect("a level-0 tile");
    let (status, _, bundle) = bytes(&app, &format!("/log/{}", level0.entries_path().expect("path"))).await;
    assert_eq!(status, 200);
    let entries = decode_entry_bundle(&bundle, level0.width()).expect("bundle decodes");
    check_entry_bundle(&entries, &decode_tile_data(level0, &tiles[&level0]).expect("tile"))
        .expect("bundle matches its tile");

    // Beyond the checkpoint, and malformed paths, are 404s.
    assert_eq!(bytes(&app, "/log/tile/0/001").await.0, 404);
    assert_eq!(bytes(&app, "/log/tile/0/0001").await.0, 404);
    assert_eq!(bytes(&app, "/log/tile/nonsense").await.0, 404);

    // The retirement's proof bundle verifies offline against its entry bytes.
    let id = retired["id"].as_str().expect("id");
    let response = app.client.get(format!("{}/retirements/{id}/proof", app.url)).send().await.expect("request");
    assert_eq!(response.status().as_u16(), 200);
    let index: u64 = response.headers()["x-furrow-log-index"].to_str().expect("ascii").parse().expect("index");
    let proof = response.text().await.expect("text");
    let entry = app.get_ok(&format!("/log/entries/{index}")).await;
    use base64::Engine;
    let entry_bytes =
        base64::engine::general_purpose::STANDARD.decode(entry["entry"].as_str().expect("b64")).expect("b64");
    furrow_tlog::proof::verify(proof.as_bytes(), &entry_bytes, &[&verifier]).expect("the proof bundle verifies");
    let mut forged = entry_bytes.clone();
    forged[20] ^= 1;
    assert!(furrow_tlog::proof::verify(proof.as_bytes(), &forged, &[&verifier]).is_err());
}

#[tokio::test]
async fn the_how_to_verify_page_names_this_registry_and_its_key() {
    let app = spawn_app().await;
    let (_, key) = text(&app, "/log/key").await;
    let root = app.url.trim_end_matches("/api/v1");
    let response = app.client.get(format!("{root}/verify")).send().await.expect("request");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "text/html; charset=utf-8");
    let html = response.text().await.expect("html");
    assert!(html.contains(key.trim()), "the page shows the verifier key");
    assert!(html.contains(&format!("furrow verify --url {root}")), "the page gives a runnable command");
    assert!(!html.contains("<script"), "the page works without JavaScript");
    let verifier = Ed25519Verifier::from_vkey(key.trim()).expect("vkey");
    let size = app.get_ok("/status").await["log_size"].as_u64().expect("size");
    checkpoint_covering(&app, &verifier, size).await;
    let (status, _, tar) = bytes(&app, "/log/bundle.tar").await;
    assert_eq!(status, 200);
    assert!(tar.len() >= 1024 && tar.len() % 512 == 0, "a tar archive is whole 512-byte blocks");
}
