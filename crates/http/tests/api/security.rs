//! Issue #8 through the real server: the registry controls (a stolen participant token cannot
//! send credits to a new counterparty before the delay; a frozen block cannot be moved or retired;
//! the same operator cannot request and approve a cancellation), token scope, expiry and
//! revocation, and the admins' security audit trail. Every refusal leaves the registry unchanged.

use furrow_app::TokenSpec;
use furrow_domain::{AccountId, Role, Timestamp};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, spawn_app};

async fn refused(app: &TestApp, path: &str, token: &str, body: Value, status: u16, code: &str) -> Value {
    let before = app.snapshot().await;
    let (got, problem) = app.post(path, token, body).await;
    assert_problem(got, &problem, status, code);
    assert_eq!(app.snapshot().await, before, "a refused POST {path} ({code}) changed the registry");
    problem
}

async fn get_with(app: &TestApp, path: &str, token: Option<&str>) -> (u16, Value) {
    let mut request = app.client.get(format!("{}{path}", app.url));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_stolen_participant_token_cannot_send_to_a_new_counterparty_before_the_delay() {
    let app = spawn_app().await;
    let admin = app.token("admin", Role::Admin, &[]).await;
    let op_b = app.token("operator b", Role::Operator, &[]).await;
    let farmer_account =
        app.post_ok("/accounts", &app.operator, json!({"kind": "participant", "name": "Sato farm"})).await["id"]
            .as_str()
            .expect("id")
            .to_owned();
    app.post_ok("/transfers", &app.operator, json!({"from": app.buyer_account, "to": farmer_account, "quantity": 100}))
        .await;
    let stolen = app.token("sato", Role::Participant, &[&farmer_account]).await;
    let controls = json!({"transfer_limit": 50, "trusted_only": true, "trusted_delay_seconds": 3600});
    refused(&app, "/controls", &app.operator, controls.clone(), 403, "forbidden").await;
    app.post_ok("/controls", &admin, controls).await;
    assert_eq!(app.get_ok("/controls").await["trusted_delay_seconds"], 3600);

    // The thief's own account.
    let thief = app.other_buyer_account.clone();
    let send = json!({"from": farmer_account, "to": thief, "quantity": 10});
    refused(&app, "/transfers", &stolen, send.clone(), 409, "untrusted-counterparty").await;
    let counterparties = format!("/accounts/{farmer_account}/counterparties");
    app.post_ok(&counterparties, &stolen, json!({"counterparty": thief})).await;
    refused(&app, "/transfers", &stolen, send.clone(), 409, "untrusted-counterparty").await;
    // The farmer's token cannot approve; nor can the operator who proposed a counterparty.
    let approve = format!("{counterparties}/{thief}/approve");
    refused(&app, &approve, &stolen, json!({}), 403, "forbidden").await;
    app.post_ok(&approve, &op_b, json!({})).await;
    let problem = refused(&app, "/transfers", &stolen, send, 409, "untrusted-counterparty").await;
    assert!(problem["detail"].as_str().unwrap_or_default().contains("after its delay"), "{problem}");
    let listed = app.get_as(&counterparties, Some(&stolen)).await;
    assert_eq!(listed["items"][0]["approved_by"], "operator b", "{listed}");
    let (status, _) = get_with(&app, &counterparties, None).await;
    assert_eq!(status, 401, "a trusted list is not public");
    let (status, _) = get_with(&app, &counterparties, Some(&app.buyer)).await;
    assert_eq!(status, 403, "nor another holder's business");

    // An operator's own proposal needs another operator, and a transfer above the limit is refused.
    let direct = format!("/accounts/{}/counterparties", app.buyer_account);
    app.post_ok(&direct, &app.operator, json!({"counterparty": farmer_account})).await;
    let own_approval = format!("{direct}/{farmer_account}/approve");
    refused(&app, &own_approval, &app.operator, json!({}), 403, "four-eyes").await;
    let over = json!({"from": app.buyer_account, "to": farmer_account, "quantity": 51});
    refused(&app, "/transfers", &app.operator, over, 422, "over-transfer-limit").await;
}

#[tokio::test]
async fn a_frozen_block_cannot_be_moved_or_retired_and_the_reason_is_published() {
    let app = spawn_app().await;
    let reason = "reported stolen; police report 2026-118";
    refused(&app, "/freezes", &app.buyer, json!({"serials": "1-10", "reason": reason}), 403, "forbidden").await;
    app.post_ok("/freezes", &app.operator, json!({"serials": "1-10", "reason": reason})).await;
    let published = app.get_ok("/controls").await;
    assert_eq!(published["frozen_serials"][0]["target"], "000000001-000000010", "{published}");
    assert_eq!(published["frozen_serials"][0]["reason"], reason);
    let retire = app.retire_body(json!({"ranges": ["5-6"]}));
    refused(&app, "/retirements", &app.buyer, retire, 409, "frozen").await;
    let transfer = json!({"from": app.buyer_account, "to": app.other_buyer_account, "ranges": ["1-20"]});
    refused(&app, "/transfers", &app.buyer, transfer, 409, "frozen").await;
    app.post_ok("/retirements", &app.buyer, app.retire_body(json!({"ranges": ["11-12"]}))).await;

    app.post_ok("/freezes", &app.operator, json!({"account": app.buyer_account, "reason": "court order"})).await;
    let anything = app.retire_body(json!({"quantity": 1}));
    refused(&app, "/retirements", &app.buyer, anything, 409, "frozen").await;
    let back = json!({"account": app.buyer_account, "reason": "order lifted", "frozen": false});
    app.post_ok("/freezes", &app.operator, back).await;
    app.post_ok("/retirements", &app.buyer, app.retire_body(json!({"ranges": ["20"]}))).await;
}

#[tokio::test]
async fn the_same_operator_cannot_request_and_approve_a_cancellation() {
    let app = spawn_app().await;
    let op_b = app.token("operator b", Role::Operator, &[]).await;
    let ask = json!({"from": app.buyer_account, "quantity": 5, "reason": "correction", "note": "double-counted"});
    let asked = app.post_ok("/cancellations", &app.operator, ask).await;
    assert_eq!((asked["id"].as_str(), asked["status"].as_str()), (Some("1"), Some("pending")), "{asked}");
    let balance = |v: Value| v["balances"]["tradable"].as_u64();
    let before = balance(app.get_ok(&format!("/accounts/{}", app.buyer_account)).await);
    refused(&app, "/cancellation-requests/1/approve", &app.operator, json!({}), 403, "four-eyes").await;
    refused(&app, "/cancellation-requests/1/approve", &app.buyer, json!({}), 403, "forbidden").await;
    let approved = app.post_ok("/cancellation-requests/1/approve", &op_b, json!({})).await;
    let cancellation = approved["cancellation"].as_str().expect("a cancellation").to_owned();
    let after = balance(app.get_ok(&format!("/accounts/{}", app.buyer_account)).await);
    assert_eq!(after.zip(before).map(|(a, b)| b - a), Some(5), "five credits cancelled");
    assert_eq!(app.get_ok(&format!("/cancellations/{cancellation}")).await["reason"], "correction");
    let listed = app.get_as("/cancellation-requests", Some(&op_b)).await;
    assert_eq!(listed["items"][0]["status"], "approved", "{listed}");
}

#[tokio::test]
async fn read_only_expired_and_revoked_tokens_and_the_audit_trail() {
    let app = spawn_app().await;
    let admin = app.token("admin", Role::Admin, &[]).await;
    let account: AccountId = app.buyer_account.parse().expect("id");
    let spec = |subject: &str, can_write, expires_at| TokenSpec {
        subject: subject.into(),
        role: Role::Buyer,
        accounts: vec![account],
        can_write,
        expires_at,
    };
    let reader = app.registry.create_token_with(&spec("reader", false, None)).await.expect("token");
    let retire = app.retire_body(json!({"quantity": 1}));
    refused(&app, "/retirements", &reader, retire.clone(), 403, "forbidden").await;
    let (status, _) = get_with(&app, &format!("/accounts/{}/counterparties", app.buyer_account), Some(&reader)).await;
    assert_eq!(status, 200, "a read-only token reads");

    let soon = Timestamp(furrow_app::now().0 + 1_500_000);
    let brief = app.registry.create_token_with(&spec("brief", true, Some(soon))).await.expect("token");
    app.post_ok("/retirements", &brief, retire.clone()).await;
    tokio::time::sleep(std::time::Duration::from_millis(1_600)).await;
    refused(&app, "/retirements", &brief, retire.clone(), 401, "unauthenticated").await;

    let tokens = app.get_as("/tokens", Some(&admin)).await;
    let listed = |subject: &str| {
        let found = tokens["items"].as_array().expect("items").iter().find(|t| t["subject"] == subject).cloned();
        found.unwrap_or_else(|| panic!("{subject}'s token is listed: {tokens}"))
    };
    let (buyer, brief) = (listed("test buyer"), listed("brief"));
    assert!(brief["last_used_at"].is_string() && brief["expires_at"].is_string(), "{brief}");
    assert!(buyer["last_used_at"].is_null(), "never used: {buyer}");
    assert_eq!(listed("reader")["scope"], "read");
    assert!(!tokens.to_string().contains(&app.buyer), "never the secret");
    let (status, _) = get_with(&app, "/tokens", Some(&app.operator)).await;
    assert_eq!(status, 403);
    let revoke = format!("/tokens/{}/revoke", buyer["id"]);
    let (status, _) = app.post(&revoke, &app.operator, json!({})).await;
    assert_eq!(status, 403, "only admins revoke");
    let (status, _) = app.post(&revoke, &admin, json!({})).await;
    assert_eq!(status, 204);
    refused(&app, "/retirements", &app.buyer, retire, 401, "unauthenticated").await;

    let trail = app.get_as("/security/events?limit=500", Some(&admin)).await;
    let kinds: Vec<&str> =
        trail["items"].as_array().expect("items").iter().filter_map(|e| e["kind"].as_str()).collect();
    for kind in ["token_created", "permission_denied", "expired_token_used", "token_revoked", "revoked_token_used"] {
        assert!(kinds.contains(&kind), "{kind} is audited: {kinds:?}");
    }
    let (status, _) = get_with(&app, "/security/events", Some(&app.operator)).await;
    assert_eq!(status, 403, "the trail is for admins");
}
