//! Sales over HTTP (issue #7): pricing inputs, preview, quote, escrow, settlement with payouts,
//! statements, disclosure, refund refusal, idempotency, and two buyers racing for the last credits.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use furrow_app::{Clock, Principal, TokenSpec};
use furrow_domain::lifecycle::LifecycleCommand;
use furrow_domain::sales::{NO_REFUND_REASON, PricingFact};
use furrow_domain::sim::sales::{example_pricing, issued_batch_via};
use furrow_domain::{AccountId, Command, Decimal, Event, ParticipantId, ProjectCode, Role, Timestamp};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, spawn_app, spawn_app_with_clock};

/// Runs the lifecycle to a batch of 140 credits (+8 buffer) from two farmers (10 ha and 30 ha)
/// through the registry, and records the example pricing over HTTP. Returns the batch id.
pub(crate) async fn seeded(app: &TestApp) -> String {
    let registry = app.registry.clone();
    let mut run = |by: &str, command: LifecycleCommand| -> Vec<Event> {
        let principal = Principal {
            subject: by.into(),
            role: furrow_domain::sim::role_of(by),
            accounts: vec![],
            proof: furrow_app::Proof::Token,
        };
        let command = Command::Lifecycle { by: by.into(), command };
        let handle = tokio::runtime::Handle::current();
        let committed = tokio::task::block_in_place(|| handle.block_on(registry.execute(&principal, command, None)))
            .expect("lifecycle command");
        committed.entries.into_iter().map(|e| e.event).collect()
    };
    let farms = [vec![Decimal::from(10)], vec![Decimal::from(12), Decimal::from(18)]];
    let (batch, _) = issued_batch_via(&mut run, true, 0, &farms);
    for fact in example_pricing(ProjectCode(1)) {
        app.post_ok("/pricing-inputs", &app.operator, fact_json(&fact)).await;
    }
    batch.to_string()
}

pub(crate) fn fact_json(f: &PricingFact) -> Value {
    json!({
        "kind": f.key.kind.as_str(),
        "subject": f.key.subject,
        "value": f.value.to_string(),
        "weight": f.weight.to_string(),
        "currency": f.currency.map(|c| c.to_string()),
        "source": f.source,
        "as_of": f.as_of.to_string(),
    })
}

pub(crate) fn settle_body(confidential: bool) -> Value {
    json!({
        "beneficiary": {"name": "Kansai Rail Co., Ltd.", "country": "JP"},
        "purpose": "scope3",
        "claim_period": {"from": "2025-04-01", "to": "2026-03-31"},
        "jurisdiction": "JP-27",
        "payment_reference": "WIRE-2026-10-0042",
        "confidential": confidential,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sale_from_quote_to_payouts_statements_and_disclosure() {
    let app = spawn_app().await;
    let batch = seeded(&app).await;
    let op = app.operator.clone();

    // Preview: the quote function, with or without a change, saves nothing.
    let inputs = app.get_ok("/pricing-inputs").await["inputs"].as_array().expect("inputs").len();
    assert_eq!(inputs, 10);
    let preview = json!({"batch": batch, "quantity": 10, "currency": "JPY"});
    let (status, body) = app.post("/quotes/preview", &op, preview).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["breakdown"]["unit_price"]["minor"], 3925);
    assert_eq!(body["breakdown"]["gross"]["minor"], 39_250);
    assert_eq!(body["breakdown"]["net"]["minor"], 31_400);
    let change = json!({"kind": "commission", "value": "15", "source": "proposed", "as_of": "2026-10-01"});
    let preview = json!({"batch": batch, "quantity": 10, "currency": "JPY", "change": change});
    let (_, body) = app.post("/quotes/preview", &op, preview).await;
    assert_eq!(
        (body["breakdown"]["net"]["minor"].clone(), body["breakdown"]["commission_version"].clone()),
        (json!(33_363), json!(2))
    );
    assert_eq!(app.get_ok("/pricing-inputs").await["inputs"].as_array().expect("inputs").len(), inputs);

    // A batch issued outside the lifecycle is not for sale: nobody to pay.
    let (status, body) = app
        .post(
            "/quotes",
            &app.buyer,
            json!({"buyer": app.buyer_account, "batch": "B000001", "quantity": 1, "currency": "JPY"}),
        )
        .await;
    assert_problem(status, &body, 422, "invalid-command");
    // A buyer asks only for itself.
    let (status, body) = app
        .post(
            "/quotes",
            &app.buyer,
            json!({"buyer": app.other_buyer_account, "batch": batch, "quantity": 1, "currency": "JPY"}),
        )
        .await;
    assert_problem(status, &body, 403, "forbidden");

    let quote = app
        .post_ok(
            "/quotes",
            &app.buyer,
            json!({"buyer": app.buyer_account, "batch": batch, "quantity": 10, "currency": "JPY"}),
        )
        .await;
    assert_eq!((quote["id"].as_str(), quote["status"].as_str()), (Some("Q000001"), Some("open")));
    assert_eq!(quote["breakdown"]["lines"].as_array().expect("lines").len(), 7);

    // Accept with an Idempotency-Key; the replay answers the same.
    let first = app.post_raw("/quotes/Q000001/accept", &app.buyer, "{}", Some("accept-1")).await;
    assert_eq!(first.status().as_u16(), 201);
    let first: Value = first.json().await.expect("json");
    let again = app.post_raw("/quotes/Q000001/accept", &app.buyer, "{}", Some("accept-1")).await;
    assert_eq!(again.headers().get("idempotent-replayed").map(|v| v.to_str().unwrap_or("")), Some("true"));
    assert_eq!(again.json::<Value>().await.expect("json"), first);
    assert_eq!((first["id"].as_str(), first["status"].as_str()), (Some("S000001"), Some("escrowed")));
    let b = app.get_ok(&format!("/batches/{batch}")).await;
    assert_eq!(b["supply"]["escrowed"], 10, "{b}");

    // The buyer cannot settle; the operator does, in one command.
    let (status, body) = app.post("/sales/S000001/settle", &app.buyer, settle_body(false)).await;
    assert_problem(status, &body, 403, "forbidden");
    let settled = app.post_ok("/sales/S000001/settle", &op, settle_body(false)).await;
    let kinds: Vec<&str> =
        settled["entries"].as_array().expect("entries").iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds, ["retired", "sale_settled"]);
    assert_eq!(settled["certificate"], "AGR-CERT-R000001");
    assert_eq!(settled["certificate_url"], "/api/v1/certificates/AGR-CERT-R000001");

    // No refunds, with the seed's reason.
    let (status, body) = app.post("/sales/S000001/refund", &app.buyer, json!({"reason": "we over-bought"})).await;
    assert_problem(status, &body, 409, "no-refund");
    assert!(
        body["detail"].as_str().is_some_and(|d| d.contains("non-refundable") && d.contains("double-counting")),
        "{body}"
    );

    // Payouts: net ¥31,400 over 10 : 30 ha.
    let sale = app.get_as("/sales/S000001", Some(&op)).await;
    let payouts = sale["settlement"]["payouts"].as_array().expect("payouts");
    let amounts: Vec<u64> = payouts.iter().filter_map(|p| p["amount"]["minor"].as_u64()).collect();
    assert_eq!(amounts, [7_850, 23_550]);
    assert!(payouts.iter().all(|p| p["status"] == "owed"));
    app.post_ok("/sales/S000001/payouts/F000001/paid", &op, json!({"reference": "BANK-0001"})).await;
    let (status, body) = app.post("/sales/S000001/payouts/F000001/paid", &op, json!({"reference": "BANK-0002"})).await;
    assert_problem(status, &body, 409, "wrong-state");

    // Statements: JSON and CSV, for the operator (and the participant itself).
    let statement = app.get_as("/participants/F000001/statement", Some(&op)).await;
    assert_eq!(statement["lines"][0]["status"], "paid");
    assert_eq!(statement["lines"][0]["amount"]["amount"], "7850");
    let csv = app
        .client
        .get(format!("{}/participants/F000002/statement.csv", app.url))
        .bearer_auth(&op)
        .send()
        .await
        .expect("csv");
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.expect("text");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[1].starts_with("F000002,S000001,") && lines[1].contains(",JPY,23550,owed,"), "{csv}");
    let (status, _) = app.get("/participants/F000002/statement").await;
    assert_eq!(status, 401, "statements are not public");

    // Public disclosure: price per credit and the farmers' share.
    let d = app.get_ok("/retirements/R000001/disclosure").await;
    assert_eq!((d["sale"].as_str(), d["confidential"].as_bool()), (Some("S000001"), Some(false)));
    assert_eq!(d["price_per_credit"]["minor"], 3925);
    assert_eq!(d["farmer_share_per_credit"]["minor"], 3140);
    assert_eq!(d["farmer_share_pct"], "80.00");

    // A confidential sale in USD: only the batch's aggregates are disclosed.
    app.post_ok(
        "/quotes",
        &op,
        json!({"buyer": app.buyer_account, "batch": batch, "quantity": 5, "currency": "USD", "valid_for_secs": 600}),
    )
    .await;
    app.post_ok("/quotes/Q000002/accept", &op, json!({})).await;
    app.post_ok("/sales/S000002/settle", &op, settle_body(true)).await;
    let d = app.get_ok("/retirements/R000002/disclosure").await;
    assert_eq!(d["confidential"], true);
    assert!(d["price_per_credit"].is_null() && d["farmer_share_pct"].is_null(), "{d}");
    let currencies: Vec<&str> =
        d["batch_aggregates"].as_array().expect("aggregates").iter().filter_map(|a| a["currency"].as_str()).collect();
    assert_eq!(currencies, ["JPY", "USD"]);

    // The certificate: a permanent public URL, HTML and PDF, with the QR code and the proof.
    let html = app.client.get(format!("{}/certificates/AGR-CERT-R000001", app.url)).send().await.expect("html");
    assert_eq!(html.status().as_u16(), 200);
    let html = html.text().await.expect("text");
    for needle in [
        "AGR-CERT-R000001",
        "Kansai Rail Co., Ltd.",
        "Scope 3 emissions",
        "AG-005",
        "Price per credit: 3925 JPY",
        "<svg",
        "Inclusion proof",
    ] {
        assert!(html.contains(needle), "the certificate shows {needle}");
    }
    // Issue #6: the certificate carries the ecological score of the monitoring period the batch
    // was issued from (31 frogs of 0..150 → 20.7), in the HTML and in the JSON certificate.
    assert!(
        html.contains("20.7 / 100 for the monitoring period 1 Jan 2026 – 31 Dec 2026 (Biodiversity 20.7)"),
        "the certificate shows the period's ecological score"
    );
    // Issue #9: the same certificate in Japanese, by Accept-Language or by its switch link.
    let ja = app
        .client
        .get(format!("{}/certificates/AGR-CERT-R000001", app.url))
        .header("accept-language", "ja,en;q=0.5")
        .send()
        .await
        .expect("html")
        .text()
        .await
        .expect("text");
    assert!(html.contains(r#"href="?lang=ja""#), "the English certificate links to the Japanese one");
    for needle in [
        r#"<html lang="ja">"#,
        "償却証明書",
        "Kansai Rail Co., Ltd.",
        "スコープ3排出量",
        "1クレジットあたりの価格：3925 JPY",
        "20.7 / 100（モニタリング期間 2026年1月1日 – 2026年12月31日；生物多様性 20.7）",
        "包含証明",
    ] {
        assert!(ja.contains(needle), "the Japanese certificate shows {needle}");
    }
    assert!(!ja.contains("Certificate of Retirement"), "no English label left in the Japanese certificate");
    // The JSON certificate needs a signed checkpoint over the retirement: the checkpointer
    // publishes within about a second.
    let mut json = Value::Null;
    for _ in 0..100 {
        let (status, body) = app.get("/retirements/R000001/certificate").await;
        if status == 200 {
            json = body;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        (json["ecology"]["score"].as_str(), json["ecology"]["period"]["to"].as_str()),
        (Some("20.7"), Some("2026-12-31"))
    );
    assert_eq!(
        json["ecology"],
        app.get_ok(&format!("/batches/{batch}/ecology")).await,
        "the same score as the batch's"
    );
    let pdf = app.client.get(format!("{}/certificates/AGR-CERT-R000001/pdf", app.url)).send().await.expect("pdf");
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let pdf = pdf.bytes().await.expect("bytes");
    assert!(pdf.starts_with(b"%PDF-"), "a PDF");
    if let Ok(dir) = std::env::var("FURROW_CERTIFICATE_DIR") {
        std::fs::write(format!("{dir}/certificate.html"), &html).expect("write html");
        std::fs::write(format!("{dir}/certificate-ja.html"), &ja).expect("write html");
        std::fs::write(format!("{dir}/certificate.pdf"), &pdf).expect("write pdf");
    }
    let (status, body) = app.get("/certificates/XYZ-CERT-R000001").await;
    assert_problem(status, &body, 404, "not-found");

    // Cancelling an escrowed sale releases it; a settled one cannot be cancelled.
    app.post_ok("/quotes", &op, json!({"buyer": app.buyer_account, "batch": batch, "quantity": 7, "currency": "EUR"}))
        .await;
    app.post_ok("/quotes/Q000003/accept", &op, json!({})).await;
    app.post_ok("/sales/S000003/cancel", &app.buyer, json!({"reason": "budget moved"})).await;
    let (status, body) = app.post("/sales/S000001/cancel", &op, json!({"reason": "undo"})).await;
    assert_problem(status, &body, 409, "wrong-state");
    let b = app.get_ok(&format!("/batches/{batch}")).await;
    assert_eq!((b["supply"]["escrowed"].clone(), b["supply"]["retired"].clone()), (json!(0), json!(15)), "{b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_buyers_racing_for_the_last_credits_one_wins_the_other_gets_409() {
    let app = spawn_app().await;
    let batch = seeded(&app).await;
    let other = app.token("other buyer", Role::Buyer, &[&app.other_buyer_account]).await;
    for (token, account) in [(&app.buyer, &app.buyer_account), (&other, &app.other_buyer_account)] {
        app.post_ok("/quotes", token, json!({"buyer": account, "batch": batch, "quantity": 140, "currency": "JPY"}))
            .await;
    }
    let before = app.snapshot().await;
    let (a, b) = tokio::join!(
        app.post("/quotes/Q000001/accept", &app.buyer, json!({})),
        app.post("/quotes/Q000002/accept", &other, json!({})),
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [201, 409], "{a:?} {b:?}");
    let loser = if a.0 == 409 { &a.1 } else { &b.1 };
    assert_problem(409, loser, 409, "insufficient-credits");
    let after = app.get_ok(&format!("/batches/{batch}")).await;
    assert_eq!(
        (after["supply"]["escrowed"].clone(), after["supply"]["tradable"].clone()),
        (json!(140), json!(0)),
        "{after}"
    );
    assert_ne!(before, app.snapshot().await);
}

/// The system clock plus an offset the test moves forward, so that quotes expire without waiting.
#[derive(Default)]
struct TestClock {
    offset_us: AtomicI64,
}

impl TestClock {
    fn advance(&self, secs: i64) {
        self.offset_us.fetch_add(secs * 1_000_000, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        Timestamp(furrow_app::now().0 + self.offset_us.load(Ordering::SeqCst))
    }
}

fn quote_body(app: &TestApp, batch: &str, quantity: u64, valid_for_secs: u32) -> Value {
    json!({"buyer": app.buyer_account, "batch": batch, "quantity": quantity, "currency": "JPY",
        "valid_for_secs": valid_for_secs})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_quote_is_refused_and_its_escrow_released_through_the_api() {
    let clock = Arc::new(TestClock::default());
    let app = spawn_app_with_clock(clock.clone()).await;
    let batch = seeded(&app).await;
    let op = app.operator.clone();
    // Q000001 for a minute (the shortest validity); Q000002 for ten minutes, accepted at once.
    app.post_ok("/quotes", &app.buyer, quote_body(&app, &batch, 10, 60)).await;
    app.post_ok("/quotes", &app.buyer, quote_body(&app, &batch, 20, 600)).await;
    app.post_ok("/quotes/Q000002/accept", &app.buyer, json!({})).await;
    let (status, body) = app.post("/sales/S000001/expire", &op, json!({})).await;
    assert_problem(status, &body, 409, "wrong-state");

    clock.advance(120);
    let before = app.snapshot().await;
    let (status, body) = app.post("/quotes/Q000001/accept", &app.buyer, json!({})).await;
    assert_problem(status, &body, 409, "quote-expired");
    assert_eq!(app.snapshot().await, before, "a refused acceptance escrows nothing");
    let quote = app.get_as("/quotes/Q000001", Some(&app.buyer)).await;
    assert!(quote["sale"].is_null(), "{quote}");

    clock.advance(600);
    let (status, body) = app.post("/sales/S000001/settle", &op, settle_body(false)).await;
    assert_problem(status, &body, 409, "quote-expired");
    assert_eq!(app.get_ok(&format!("/batches/{batch}")).await["supply"]["escrowed"], 20);
    let expired = app.post_ok("/sales/S000001/expire", &op, json!({})).await;
    assert_eq!(expired["status"], "expired", "{expired}");
    let b = app.get_ok(&format!("/batches/{batch}")).await;
    assert_eq!((b["supply"]["escrowed"].clone(), b["supply"]["retired"].clone()), (json!(0), json!(0)), "{b}");
    assert_eq!(app.get_as("/sales/S000001", Some(&op)).await["status"], "expired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buying_more_than_available_is_refused_with_nothing_escrowed() {
    let app = spawn_app().await;
    let batch = seeded(&app).await;
    let before = app.snapshot().await;
    // More than the batch has for sale (140): refused at the quote.
    let (status, body) = app.post("/quotes", &app.buyer, quote_body(&app, &batch, 141, 600)).await;
    assert_problem(status, &body, 409, "insufficient-credits");
    assert_eq!(app.snapshot().await, before);
    let (status, _) = app.get("/quotes/Q000001").await;
    assert_eq!(status, 401);
    assert_eq!(
        app.client
            .get(format!("{}/quotes/Q000001", app.url))
            .bearer_auth(&app.operator)
            .send()
            .await
            .expect("request")
            .status()
            .as_u16(),
        404,
        "no quote was recorded"
    );
    // Two quotes of 100 each fit alone; once one is accepted, the other is more than is left.
    app.post_ok("/quotes", &app.buyer, quote_body(&app, &batch, 100, 600)).await;
    app.post_ok("/quotes", &app.buyer, quote_body(&app, &batch, 100, 600)).await;
    app.post_ok("/quotes/Q000001/accept", &app.buyer, json!({})).await;
    let before = app.snapshot().await;
    let (status, body) = app.post("/quotes/Q000002/accept", &app.buyer, json!({})).await;
    assert_problem(status, &body, 409, "insufficient-credits");
    assert_eq!(app.snapshot().await, before, "nothing escrowed, nothing logged");
    let b = app.get_ok(&format!("/batches/{batch}")).await;
    assert_eq!((b["supply"]["escrowed"].clone(), b["supply"]["tradable"].clone()), (json!(100), json!(40)), "{b}");
    let sales = app.get_as("/sales", Some(&app.operator)).await;
    assert_eq!(sales["items"].as_array().map(Vec::len), Some(1), "{sales}");
    assert_eq!(app.get_as("/quotes/Q000002", Some(&app.buyer)).await["status"], "open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_attempt_is_refused_with_the_seeds_reason_and_changes_nothing() {
    let app = spawn_app().await;
    let batch = seeded(&app).await;
    let op = app.operator.clone();
    app.post_ok("/quotes", &app.buyer, quote_body(&app, &batch, 10, 600)).await;
    app.post_ok("/quotes/Q000001/accept", &app.buyer, json!({})).await;
    app.post_ok("/sales/S000001/settle", &op, settle_body(false)).await;
    let before = app.snapshot().await;
    // The seed FAQ, "Are refunds possible?", word for word.
    let seed = "Once a sale has been made, the credits are retired in the registry and are non-refundable. \
                Please understand that this is an important measure in preventing double-counting.";
    assert_eq!(NO_REFUND_REASON, seed);
    for token in [&app.buyer, &op] {
        let (status, body) = app.post("/sales/S000001/refund", token, json!({"reason": "we over-bought"})).await;
        assert_problem(status, &body, 409, "no-refund");
        assert!(body["detail"].as_str().is_some_and(|d| d.ends_with(seed)), "{body}");
    }
    assert_eq!(app.snapshot().await, before, "a refused refund changes nothing");
    let sale = app.get_as("/sales/S000001", Some(&op)).await;
    assert_eq!(sale["status"], "settled", "{sale}");
    let (status, body) = app.post("/sales/S000009/refund", &op, json!({"reason": "none"})).await;
    assert_problem(status, &body, 422, "unknown-object");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sales_reads_take_read_only_tokens_within_their_own_objects() {
    let app = spawn_app().await;
    let batch = seeded(&app).await;
    let op = app.operator.clone();
    let other = app.token("other buyer", Role::Buyer, &[&app.other_buyer_account]).await;
    app.post_ok("/quotes", &app.buyer, quote_body(&app, &batch, 10, 600)).await;
    let mut theirs = quote_body(&app, &batch, 5, 600);
    theirs["buyer"] = json!(app.other_buyer_account);
    app.post_ok("/quotes", &other, theirs).await;
    app.post_ok("/quotes/Q000001/accept", &app.buyer, json!({})).await;
    app.post_ok("/quotes/Q000002/accept", &other, json!({})).await;
    app.post_ok("/sales/S000001/settle", &op, settle_body(false)).await;

    let read_only = |subject: &str, role: Role, accounts: Vec<AccountId>| TokenSpec {
        subject: subject.into(),
        role,
        accounts,
        can_write: false,
        expires_at: None,
    };
    let buyer_account: AccountId = app.buyer_account.parse().expect("account");
    let reader = app.registry.create_token_with(&read_only("reader", Role::Buyer, vec![buyer_account])).await;
    let reader = reader.expect("token");
    let farmer_account = app.registry.lifecycle().participants[&ParticipantId(1)].account;
    let farmer = app.registry.create_token_with(&read_only("farmer", Role::Participant, vec![farmer_account])).await;
    let farmer = farmer.expect("token");
    let staff = app.registry.create_token_with(&read_only("auditor", Role::Operator, vec![])).await.expect("token");
    let get = |path: &str, token: &str| {
        let request = app.client.get(format!("{}{path}", app.url)).bearer_auth(token);
        async move {
            let response = request.send().await.expect("request");
            (response.status().as_u16(), response.text().await.unwrap_or_default())
        }
    };

    // The buyer's read-only token reads its own quotes and sales, and only those.
    assert_eq!(get("/quotes/Q000001", &reader).await.0, 200);
    assert_eq!(get("/sales/S000001", &reader).await.0, 200);
    let (status, listed) = get("/sales", &reader).await;
    let listed: Value = serde_json::from_str(&listed).expect("json");
    assert_eq!(status, 200);
    let ids: Vec<&str> = listed["items"].as_array().expect("items").iter().filter_map(|s| s["id"].as_str()).collect();
    assert_eq!(ids, ["S000001"]);
    assert_eq!(get("/quotes/Q000002", &reader).await.0, 403, "someone else's quote");
    assert_eq!(get("/sales/S000002", &reader).await.0, 403, "someone else's sale");
    let preview = json!({"batch": batch, "quantity": 3, "currency": "JPY"});
    let (status, body) = app.post("/quotes/preview", &reader, preview).await;
    assert_eq!(status, 200, "a preview saves nothing: {body}");
    // It cannot write.
    let (status, body) = app.post("/quotes", &reader, quote_body(&app, &batch, 1, 600)).await;
    assert_problem(status, &body, 403, "forbidden");
    let (status, body) = app.post("/sales/S000001/cancel", &reader, json!({"reason": "x"})).await;
    assert_problem(status, &body, 403, "forbidden");

    // A farmer's read-only token reads its own statement (JSON and CSV), not another's.
    let (status, body) = get("/participants/F000001/statement", &farmer).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("S000001"), "{body}");
    assert_eq!(get("/participants/F000001/statement.csv", &farmer).await.0, 200);
    assert_eq!(get("/participants/F000002/statement", &farmer).await.0, 403);
    assert_eq!(get("/participants/F000002/statement.csv", &farmer).await.0, 403);
    assert_eq!(get("/sales/S000001", &farmer).await.0, 403, "a farmer reads its statement, not the buyer's sale");

    // A read-only staff token reads everything, payouts included, and writes nothing.
    let (status, body) = get("/sales/S000001", &staff).await;
    assert_eq!(status, 200);
    assert!(body.contains("payouts"), "{body}");
    assert_eq!(get("/participants/F000002/statement", &staff).await.0, 200);
    let (status, body) = app.post("/sales/S000002/cancel", &staff, json!({"reason": "x"})).await;
    assert_problem(status, &body, 403, "forbidden");
}

/// A certificate for a Japanese beneficiary: the PDF embeds a subset of the machine's CJK font
/// (IPAGothic, which `.ci/run` installs) and writes the name in it, not as `?`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_japanese_beneficiary_prints_in_the_pdf_certificate() {
    let app = spawn_app().await;
    let batch = seeded(&app).await;
    let op = app.operator.clone();
    app.post_ok("/quotes", &app.buyer, quote_body(&app, &batch, 3, 600)).await;
    app.post_ok("/quotes/Q000001/accept", &app.buyer, json!({})).await;
    let mut body = settle_body(false);
    body["beneficiary"]["name"] = json!("関西鉄道株式会社");
    app.post_ok("/sales/S000001/settle", &op, body).await;
    let response = app.client.get(format!("{}/certificates/AGR-CERT-R000001/pdf", app.url)).send().await.expect("pdf");
    assert_eq!(response.status().as_u16(), 200);
    let pdf = response.bytes().await.expect("bytes").to_vec();
    if let Ok(dir) = std::env::var("FURROW_CERTIFICATE_DIR") {
        std::fs::write(format!("{dir}/certificate-ja.pdf"), &pdf).expect("write pdf");
    }
    let text = String::from_utf8_lossy(&pdf);
    let font = std::path::Path::new("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf");
    if !font.exists() && std::env::var_os("CI").is_none() {
        // Outside CI without the font: the fallback says what happened.
        assert!(text.contains("no CJK font on this server"), "the fallback is stated");
        return;
    }
    for needle in ["/Type0", "/Identity-H", "/CIDFontType2", "/FontFile2", "/ToUnicode", "FURROW+"] {
        assert!(text.contains(needle), "the PDF embeds the CJK font: {needle}");
    }
    // Each character of the name is mapped back to its Unicode in the ToUnicode map (so it was
    // drawn with the font's glyph), and nothing fell back to `?`.
    for c in "関西鉄道株式会社".chars() {
        let hex = format!("<{:04X}>", u32::from(c));
        assert!(text.contains(&hex), "{c} ({hex}) is drawn from the embedded font");
    }
    assert!(!text.contains("(????"), "no name printed as question marks");
    assert!(!text.contains("no CJK font on this server"));
    assert!(pdf.len() < 400_000, "a subset, not the whole 6 MB font: {} bytes", pdf.len());
}
