//! Bad input of every kind: a 4xx problem+json with a stable type, and no state change.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, spawn_app};

async fn rejected(app: &TestApp, path: &str, token: &str, body: &str, status: u16, code: &str) {
    let snapshot = app.snapshot().await;
    let response = app.post_raw(path, token, body, None).await;
    let got = response.status().as_u16();
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let problem: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(content_type, "application/problem+json", "{path} {body}");
    assert_problem(got, &problem, status, code);
    assert_eq!(app.snapshot().await, snapshot, "{path} {body} changed state");
}

#[tokio::test]
async fn malformed_and_invalid_bodies_are_refused_without_a_trace() {
    let app = spawn_app().await;
    let (op, buyer) = (app.operator.clone(), app.buyer.clone());
    let from = app.buyer_account.clone();
    let to = app.other_buyer_account.clone();
    let retire = |extra: Value| app.retire_body(extra).to_string();
    let cases: Vec<(&str, &str, String, u16, &str)> = vec![
        ("/transfers", &op, "{".into(), 400, "malformed-json"),
        ("/transfers", &op, "".into(), 400, "malformed-json"),
        ("/transfers", &op, "[]".into(), 422, "invalid-body"),
        (
            "/transfers",
            &op,
            json!({"from": from, "to": to, "quantity": 1, "colour": "red"}).to_string(),
            422,
            "invalid-body",
        ),
        ("/transfers", &op, json!({"from": from, "to": to, "quantity": -5}).to_string(), 422, "invalid-body"),
        ("/transfers", &op, json!({"from": from, "to": to, "quantity": 0}).to_string(), 422, "invalid-command"),
        (
            "/transfers",
            &op,
            format!(r#"{{"from":"{from}","to":"{to}","quantity":18446744073709551616}}"#),
            422,
            "invalid-body",
        ),
        ("/transfers", &op, format!(r#"{{"from":"{from}","to":"{to}","quantity":1e400}}"#), 400, "malformed-json"),
        ("/transfers", &op, format!(r#"{{"from":"{from}","to":"{to}","quantity":2.5}}"#), 422, "invalid-body"),
        (
            "/transfers",
            &op,
            json!({"from": from, "to": to, "quantity": 1_000_000_000_001u64}).to_string(),
            422,
            "invalid-command",
        ),
        ("/transfers", &op, json!({"from": from, "to": to, "quantity": 5000}).to_string(), 409, "insufficient-credits"),
        ("/transfers", &op, json!({"from": from, "to": to}).to_string(), 422, "invalid-request"),
        (
            "/transfers",
            &op,
            json!({"from": from, "to": to, "quantity": 1, "ranges": ["1"]}).to_string(),
            422,
            "invalid-request",
        ),
        ("/transfers", &op, json!({"from": from, "to": from, "quantity": 1}).to_string(), 422, "invalid-command"),
        ("/transfers", &op, json!({"from": "X12", "to": to, "quantity": 1}).to_string(), 422, "invalid-request"),
        ("/transfers", &op, json!({"from": "A999999", "to": to, "quantity": 1}).to_string(), 422, "unknown-account"),
        (
            "/transfers",
            &op,
            json!({"from": from, "to": to, "ranges": ["AGR-JP-P0012-2025-B000001-000000001"]}).to_string(),
            422,
            "invalid-request",
        ),
        (
            "/transfers",
            &op,
            json!({"from": from, "to": to, "ranges": ["AGR-JP-P0099-2025-B000001-000000001-000000002"]}).to_string(),
            422,
            "serial-mismatch",
        ),
        ("/transfers", &op, json!({"from": from, "to": to, "ranges": ["10-5"]}).to_string(), 422, "invalid-request"),
        ("/transfers", &op, json!({"from": from, "to": to, "ranges": ["0"]}).to_string(), 422, "invalid-request"),
        (
            "/transfers",
            &op,
            json!({"from": from, "to": to, "ranges": ["1-5", "3-8"]}).to_string(),
            422,
            "overlapping-ranges",
        ),
        (
            "/transfers",
            &op,
            json!({"from": from, "to": to, "ranges": ["5000-5010"]}).to_string(),
            422,
            "serials-not-issued",
        ),
        ("/transfers", &op, json!({"from": from, "to": to, "ranges": ["1001"]}).to_string(), 409, "serials-not-held"),
        ("/retirements", &buyer, retire(json!({"quantity": 1, "purpose": "greenwashing"})), 422, "invalid-request"),
        ("/retirements", &buyer, retire(json!({"quantity": 1, "jurisdiction": "Japan"})), 422, "invalid-request"),
        (
            "/retirements",
            &buyer,
            retire(json!({"quantity": 1, "claim_period": {"from": "2025-02-30", "to": "2025-03-01"}})),
            422,
            "invalid-request",
        ),
        (
            "/retirements",
            &buyer,
            retire(json!({"quantity": 1, "claim_period": {"from": "2026-01-01", "to": "2025-01-01"}})),
            422,
            "invalid-command",
        ),
        ("/retirements", &buyer, retire(json!({"quantity": 1, "beneficiary": {"name": "  "}})), 422, "invalid-command"),
        (
            "/retirements",
            &buyer,
            retire(json!({"quantity": 1, "beneficiary": {"name": "x", "email": "a@b"}})),
            422,
            "invalid-body",
        ),
        ("/retirements", &buyer, retire(json!({"quantity": 1, "note": "x".repeat(2001)})), 422, "invalid-command"),
        ("/accounts", &op, json!({"kind": "retirement", "name": "x"}).to_string(), 422, "invalid-command"),
        ("/accounts", &op, json!({"kind": "wizard", "name": "x"}).to_string(), 422, "invalid-request"),
    ];
    for (path, token, body, status, code) in cases {
        rejected(&app, path, token, &body, status, code).await;
    }
}

#[tokio::test]
async fn wrong_content_type_huge_bodies_and_bad_routes_are_problems() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(format!("{}/transfers", app.url))
        .bearer_auth(&app.operator)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 415);
    let huge = format!(r#"{{"from":"A000005","to":"A000006","quantity":1,"x":"{}"}}"#, "a".repeat(100_000));
    let response = app.post_raw("/transfers", &app.operator, &huge, None).await;
    assert_eq!(response.status().as_u16(), 413);

    for (path, status, code) in [
        ("/serials/abc", 422, "invalid-request"),
        ("/serials/0", 422, "invalid-request"),
        ("/serials/99999999", 404, "not-found"),
        ("/serials/AGR-JP-P0012-2025-B000002-000000001-000000002", 422, "serial-mismatch"),
        ("/accounts/nobody", 422, "invalid-request"),
        ("/accounts/A999999", 404, "not-found"),
        ("/batches?limit=0", 400, "invalid-query"),
        ("/batches?limit=abc", 400, "invalid-query"),
        ("/batches?cursor=zz", 400, "invalid-query"),
        ("/blocks?state=lost", 422, "invalid-request"),
        ("/log/entries/abc", 400, "invalid-path"),
        ("/log/entries/999999", 404, "not-found"),
        ("/no-such-route", 404, "not-found"),
    ] {
        let (got, body) = app.get(path).await;
        assert_problem(got, &body, status, code);
    }
}
