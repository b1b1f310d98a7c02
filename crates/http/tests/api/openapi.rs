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
    ] {
        assert!(paths.contains_key(path), "missing {path}");
    }
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}
