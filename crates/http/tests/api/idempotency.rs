use serde_json::json;

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn a_replay_returns_the_first_result_and_a_different_body_is_refused() {
    let app = spawn_app().await;
    let body = app.retire_body(json!({"quantity": 25})).to_string();
    let first = app.post_raw("/retirements", &app.buyer, &body, Some("retire-2025-q1")).await;
    assert_eq!(first.status().as_u16(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: serde_json::Value = first.json().await.expect("json");

    // Something else happens in between; the replay still answers with the original result.
    app.post_ok("/retirements", &app.buyer, app.retire_body(json!({"quantity": 5}))).await;
    let snapshot = app.snapshot().await;

    let replay = app.post_raw("/retirements", &app.buyer, &body, Some("retire-2025-q1")).await;
    assert_eq!(replay.status().as_u16(), 201);
    assert_eq!(replay.headers().get("idempotent-replayed").and_then(|v| v.to_str().ok()), Some("true"));
    let replay: serde_json::Value = replay.json().await.expect("json");
    assert_eq!(replay, first);
    assert_eq!(app.snapshot().await, snapshot, "a replay must not retire again");

    let other = app.retire_body(json!({"quantity": 26})).to_string();
    let response = app.post_raw("/retirements", &app.buyer, &other, Some("retire-2025-q1")).await;
    let status = response.status().as_u16();
    let problem = response.json().await.expect("json");
    assert_problem(status, &problem, 422, "idempotency-key-reused");
    assert_eq!(app.snapshot().await, snapshot);
}

#[tokio::test]
async fn concurrent_requests_with_one_key_apply_once() {
    let app = std::sync::Arc::new(spawn_app().await);
    let body = json!({"from": app.buyer_account, "to": app.other_buyer_account, "quantity": 7}).to_string();
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (app, body) = (app.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let response = app.post_raw("/transfers", &app.operator, &body, Some("one-transfer")).await;
            assert_eq!(response.status().as_u16(), 201);
            response.json::<serde_json::Value>().await.expect("json")
        }));
    }
    let mut bodies = Vec::new();
    for task in tasks {
        bodies.push(task.await.expect("task"));
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "all callers see the same result");
    let other = app.get_ok(&format!("/accounts/{}", app.other_buyer_account)).await;
    assert_eq!(other["balances"]["tradable"], 7, "the transfer happened exactly once");
}
