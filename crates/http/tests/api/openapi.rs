use crate::helpers::spawn_app;

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let app = spawn_app().await;
    let doc = app.get_ok("/openapi.json").await;
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "{}", doc["openapi"]);
    let paths = doc["paths"].as_object().expect("paths");
    for path in [
        "/health",
        "/status",
        "/accounts",
        "/accounts/{id}",
        "/batches",
        "/batches/{id}",
        "/blocks",
        "/serials/{serial}",
        "/transfers",
        "/retirements",
        "/retirements/{id}",
        "/cancellations",
        "/cancellations/{id}",
        "/log/entries",
        "/log/entries/{index}",
        "/log/checkpoint",
        "/log/checkpoints/{size}",
        "/log/checkpoints",
        "/log/bundle.tar",
        "/log/key",
        "/log/proofs/inclusion/{index}",
        "/log/proofs/inclusion-by-hash/{leaf_hash}",
        "/log/proofs/consistency",
        "/retirements/{id}/proof",
        "/retirements/{id}/certificate",
    ] {
        assert!(paths.contains_key(path), "missing {path}");
    }
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

/// Any change to the API shows up as a reviewed diff of `tests/snapshots/openapi.json`
/// (crates.io does the same). Regenerate with `UPDATE_SNAPSHOTS=1 cargo test -p furrow-http`.
#[test]
fn the_openapi_document_matches_its_snapshot() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/openapi.json");
    let current = serde_json::to_string_pretty(&furrow_http::openapi()).expect("serializes") + "\n";
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, &current).expect("write snapshot");
        return;
    }
    let saved = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        saved == current,
        "the OpenAPI document changed; review it and run `UPDATE_SNAPSHOTS=1 cargo test -p furrow-http` to accept"
    );
}
