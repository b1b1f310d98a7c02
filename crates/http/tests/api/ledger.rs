use serde_json::json;

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn partial_retirement_splits_a_block_and_both_parts_are_visible() {
    let app = spawn_app().await;
    let before = app.get_ok("/serials/1").await;
    assert_eq!(before["blocks"][0]["range"]["end"], 1000);

    let retired = app.post_ok("/retirements", &app.buyer, app.retire_body(json!({"quantity": 300}))).await;
    // The holder keeps the low range; the top 300 serials are retired.
    assert_eq!(retired["ranges"][0]["start"], 701);
    assert_eq!(retired["ranges"][0]["end"], 1000);
    assert_eq!(retired["ranges"][0]["serial"], "AGR-JP-P0012-2025-B000001-000000701-000001000");

    let low = app.get_ok("/serials/1").await;
    assert_eq!(low["blocks"][0]["range"]["end"], 700);
    assert_eq!(low["blocks"][0]["state"], "tradable");
    assert_eq!(low["blocks"][0]["account"], app.buyer_account);
    let high = app.get_ok("/serials/AGR-JP-P0012-2025-B000001-000000701-000001000").await;
    assert_eq!(high["blocks"][0]["state"], "retired");
    assert_eq!(high["blocks"][0]["account"], "A000003");
    let kinds: Vec<&str> =
        high["history"].as_array().expect("history").iter().map(|e| e["kind"].as_str().unwrap_or("")).collect();
    assert_eq!(kinds, ["batch_issued", "retired"]);

    // A printable range spanning both parts shows both blocks.
    let both = app.get_ok("/serials/AGR-JP-P0012-2025-B000001-000000690-000000710").await;
    assert_eq!(both["blocks"].as_array().map(Vec::len), Some(2));

    let batch = app.get_ok("/batches/B000001").await;
    assert_eq!(
        batch["supply"],
        json!({"tradable": 700, "escrowed": 0, "retired": 300, "cancelled": 0, "buffer": 50, "total": 1050})
    );
}

/// `/status` is served from what the sequencer published at the commit, not counted per request:
/// a retirement must show the moment it is acknowledged, and the figures must equal the ones
/// counted from the database's tables.
#[tokio::test]
async fn status_shows_a_retirement_as_soon_as_it_is_acknowledged() {
    let app = spawn_app().await;
    let before = app.get_ok("/status").await;
    let mut expected = before["supply"]["retired"].as_u64().expect("retired");
    let mut log_size = before["log_size"].as_u64().expect("log size");
    for quantity in [3u64, 5] {
        expected += quantity;
        app.post_ok("/retirements", &app.buyer, app.retire_body(json!({"quantity": quantity}))).await;
        let status = app.get_ok("/status").await;
        assert_eq!(status["supply"]["retired"], expected, "{status}");
        log_size += 1;
        assert_eq!(status["log_size"], log_size, "one log entry per retirement: {status}");
        let counted = app.registry.store().totals().await.expect("totals");
        assert_eq!(status["supply"]["retired"], counted.supply.retired);
        assert_eq!(status["supply"]["tradable"], counted.supply.tradable);
        assert_eq!(status["supply"]["buffer"], counted.supply.buffer);
        assert_eq!(status["retirements"], counted.retirements);
        assert_eq!(status["accounts"], counted.accounts);
        assert_eq!(status["batches"], counted.batches);
        assert_eq!(status["log_size"], counted.log_size);
    }
}

#[tokio::test]
async fn retired_serials_cannot_move_again() {
    let app = spawn_app().await;
    app.post_ok("/retirements", &app.buyer, app.retire_body(json!({"ranges": ["991-1000"]}))).await;
    let snapshot = app.snapshot().await;

    let (status, body) = app.post("/retirements", &app.buyer, app.retire_body(json!({"ranges": ["995"]}))).await;
    assert_problem(status, &body, 409, "serials-not-tradable");
    assert!(body["detail"].as_str().unwrap_or("").contains("retired credits can never be transferred"), "{body}");
    let (status, body) =
        app.post("/retirements", &app.operator, app.retire_body(json!({"from": "A000003", "ranges": ["995"]}))).await;
    assert_problem(status, &body, 422, "wrong-account-kind");
    let (status, body) = app
        .post(
            "/transfers",
            &app.operator,
            json!({"from": app.buyer_account, "to": app.other_buyer_account, "ranges": ["990-1000"]}),
        )
        .await;
    assert_problem(status, &body, 409, "serials-not-tradable");
    assert!(body["detail"].as_str().unwrap_or("").contains("are retired"), "{body}");
    assert_eq!(app.snapshot().await, snapshot, "rejected requests changed state");
}

#[tokio::test]
async fn retired_serial_named_from_the_retirement_account_is_a_conflict() {
    let app = spawn_app().await;
    app.post_ok("/retirements", &app.buyer, app.retire_body(json!({"ranges": ["1-10"]}))).await;
    // Even an operator cannot retire or cancel the same serials again.
    let (status, body) = app
        .post(
            "/cancellations",
            &app.operator,
            json!({"from": app.buyer_account, "ranges": ["5"], "reason": "correction"}),
        )
        .await;
    assert_problem(status, &body, 409, "serials-not-tradable");
}

#[tokio::test]
async fn buyers_act_only_for_their_own_accounts() {
    let app = spawn_app().await;
    app.post_ok(
        "/transfers",
        &app.operator,
        json!({"from": app.buyer_account, "to": app.other_buyer_account, "quantity": 10}),
    )
    .await;
    let snapshot = app.snapshot().await;
    let (status, body) = app
        .post(
            "/transfers",
            &app.buyer,
            json!({"from": app.other_buyer_account, "to": app.buyer_account, "quantity": 5}),
        )
        .await;
    assert_problem(status, &body, 403, "forbidden");
    let (status, body) = app
        .post("/retirements", &app.buyer, app.retire_body(json!({"from": app.other_buyer_account, "quantity": 1})))
        .await;
    assert_problem(status, &body, 403, "forbidden");
    // One operator cannot issue credits: there is no direct issuance route, only four-eyes
    // issuance requests for verified reports (lifecycle tests).
    for token in [&app.buyer, &app.operator] {
        let (status, body) = app
            .post(
                "/batches",
                token,
                json!({"project": "P0001", "vintage": 2025, "quantity": 5, "to": app.buyer_account}),
            )
            .await;
        assert_problem(status, &body, 405, "method-not-allowed");
    }
    let (status, body) = app
        .post("/transfers", "furrow_not-a-real-token", json!({"from": "A000001", "to": "A000002", "quantity": 1}))
        .await;
    assert_problem(status, &body, 401, "unauthenticated");
    let response = app.client.post(format!("{}/transfers", app.url)).json(&json!({})).send().await.expect("request");
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(app.snapshot().await, snapshot);
}

#[tokio::test]
async fn sixty_four_concurrent_clients_retire_from_one_account() {
    let app = std::sync::Arc::new(spawn_app().await);
    let mut tasks = Vec::new();
    for client in 0..64u64 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let mut retired = 0u64;
            for round in 0..4 {
                let quantity = 1 + (client + round) % 7;
                let (status, body) =
                    app.post("/retirements", &app.buyer, app.retire_body(json!({"quantity": quantity}))).await;
                match status {
                    201 => {
                        assert_eq!(body["quantity"], quantity);
                        retired += quantity;
                    }
                    409 => assert_eq!(body["type"], "urn:furrow:problem:insufficient-credits", "{body}"),
                    other => panic!("unexpected {other}: {body}"),
                }
            }
            retired
        }));
    }
    let mut retired = 0;
    for task in tasks {
        retired += task.await.expect("client");
    }
    let account = app.get_ok(&format!("/accounts/{}", app.buyer_account)).await;
    let tradable = account["balances"]["tradable"].as_u64().expect("balance");
    assert_eq!(tradable + retired, 1000, "holdings changed by exactly the sum retired");
    let status = app.get_ok("/status").await;
    assert_eq!(status["supply"]["retired"], retired);
    // Every retirement is listed, and their quantities add up.
    let mut listed = 0;
    let mut cursor = String::new();
    loop {
        let page = app.get_ok(&format!("/retirements?limit=100{cursor}")).await;
        listed +=
            page["items"].as_array().expect("items").iter().map(|r| r["quantity"].as_u64().unwrap_or(0)).sum::<u64>();
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(listed, retired);
}
