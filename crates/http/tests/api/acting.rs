//! The signed-in pages that act (issue #9), through the real server with real sessions: a
//! participant sees its parcels, reports, payouts and statement (also as CSV) and requests
//! withdrawal; a buyer previews a price, asks for a quote, accepts it, names the beneficiary, sees
//! "awaiting payment" until the operator settles, then finds the certificate. Every refusal is a
//! page with a 4xx status in the reader's language, and writes nothing: another user's objects,
//! a missing CSRF token, a foreign Origin, a domain refusal.

use furrow_app::accounts::NewUser;
use furrow_app::password::Password;
use furrow_domain::lifecycle::EnrolmentStatus;
use furrow_domain::{EnrolmentId, ParticipantId, Role};
use serde_json::json;

use crate::helpers::{TestApp, assert_problem, browser, form, root, spawn_app};
use crate::sales::{seeded, settle_body};

const PASSWORD: &str = "correct horse battery";

async fn user(app: &TestApp, email: &str, role: Role, accounts: &[&str]) {
    let new = NewUser {
        email: email.into(),
        organisation: "Test organisation".into(),
        role,
        accounts: accounts.iter().map(|a| a.parse().expect("account id")).collect(),
        password: Password::new(PASSWORD),
    };
    app.registry.create_user("test", &new).await.expect("user");
}

/// Signs in through the form; the session cookie's `name=value`.
async fn sign_in(app: &TestApp, email: &str) -> String {
    let body = form(&[("email", email), ("password", PASSWORD)]);
    let response = post(app, "/signin", None, body).await;
    assert_eq!(response.status().as_u16(), 303, "sign-in redirects");
    let set = response.headers()["set-cookie"].to_str().expect("ascii").to_owned();
    set.split(';').next().expect("pair").to_owned()
}

async fn post(app: &TestApp, path: &str, cookie: Option<&str>, body: String) -> reqwest::Response {
    let mut request = browser()
        .post(format!("{}{path}", root(app)))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().await.expect("request")
}

async fn page(app: &TestApp, path: &str, cookie: &str) -> (u16, String) {
    let response =
        browser().get(format!("{}{path}", root(app))).header("cookie", cookie).send().await.expect("request");
    (response.status().as_u16(), response.text().await.expect("text"))
}

/// A hidden form field's value (the CSRF token).
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no hidden {name}")) + marker.len();
    html[start..].split('"').next().expect("value").to_owned()
}

fn location(response: &reqwest::Response) -> String {
    response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
}

async fn log_size(app: &TestApp) -> u64 {
    app.get_ok("/status").await["log_size"].as_u64().expect("log size")
}

fn account_of(app: &TestApp, participant: u64) -> String {
    app.registry.lifecycle().participants[&ParticipantId(participant)].account.to_string()
}

/// A settled sale of 10 credits of the seeded batch, with F000001's payout paid.
async fn settled_sale(app: &TestApp, batch: &str) {
    let body = json!({"buyer": app.buyer_account, "batch": batch, "quantity": 10, "currency": "JPY"});
    app.post_ok("/quotes", &app.buyer, body).await;
    app.post_ok("/quotes/Q000001/accept", &app.buyer, json!({})).await;
    app.post_ok("/sales/S000001/settle", &app.operator, settle_body(false)).await;
    app.post_ok("/sales/S000001/payouts/F000001/paid", &app.operator, json!({"reference": "BANK-0001"})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_participant_sees_its_payouts_and_statement_and_requests_withdrawal() {
    let app = spawn_app().await;
    let batch = seeded(&app).await;
    settled_sale(&app, &batch).await;
    user(&app, "grower@example.jp", Role::Participant, &[&account_of(&app, 1)]).await;
    let cookie = sign_in(&app, "grower@example.jp").await;
    let statement = app.get_as("/participants/F000001/statement", Some(&app.operator)).await;
    let paid = statement["lines"][0]["amount"]["minor"].as_u64().expect("amount");

    // The farm page: its own parcel, report, credits produced, the paid payout in yen.
    let (status, html) = page(&app, "/me/farm?lang=en", &cookie).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("My farm") && html.contains("F000001"), "{html}");
    assert!(html.contains("L000001") && !html.contains("L000002"), "only its own parcel: {html}");
    assert!(html.contains("href=\"/reports/N000001\""), "the report is linked");
    let yen = format!("¥{}", group(paid));
    assert!(html.contains(&yen) && html.contains("BANK-0001") && html.contains("Paid"), "the payout {yen}: {html}");
    assert!(html.contains("href=\"/me/farm/statement.csv?participant=F000001\""));
    let (_, ja) = page(&app, "/me/farm?lang=ja", &cookie).await;
    assert!(ja.contains("私の農場") && ja.contains(&format!("{}円", group(paid))) && ja.contains("支払済み"));

    // The statement as CSV: the API's file; another farmer's is refused.
    let response = browser()
        .get(format!("{}/me/farm/statement.csv?participant=F000001", root(&app)))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("csv");
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.headers()["content-type"].to_str().expect("type").starts_with("text/csv"));
    let csv = response.text().await.expect("text");
    assert!(csv.starts_with("participant,sale,") && csv.contains("F000001,S000001,"), "{csv}");
    let (status, html) = page(&app, "/me/farm/statement.csv?participant=F000002&lang=en", &cookie).await;
    assert_eq!(status, 403, "{html}");
    assert!(html.contains("You may not do this") && !html.contains("S000001,"), "{html}");

    // Withdrawal: refused without the CSRF token, from another site, for another farmer's
    // enrolment, and with a ground the program does not recognise; nothing is written.
    let csrf = hidden(&html_of(&app, &cookie).await, "csrf");
    let before = log_size(&app).await;
    let ask = |enrolment: &str, ground: &str, csrf: &str| {
        form(&[("csrf", csrf), ("enrolment", enrolment), ("ground", ground), ("note", "My back hurts")])
    };
    let response = post(&app, "/me/farm/withdrawal", Some(&cookie), ask("E000001", "illness", "")).await;
    assert_eq!(response.status().as_u16(), 403, "no CSRF token");
    let foreign = browser()
        .post(format!("{}/me/farm/withdrawal", root(&app)))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .body(ask("E000001", "illness", &csrf))
        .send()
        .await
        .expect("request");
    assert_eq!(foreign.status().as_u16(), 403, "a foreign Origin");
    let response = post(&app, "/me/farm/withdrawal?lang=en", Some(&cookie), ask("E000002", "illness", &csrf)).await;
    assert_eq!(response.status().as_u16(), 403, "another farmer's enrolment");
    let text = response.text().await.expect("text");
    assert!(text.contains("E000002 is not this participant") && text.contains("You may not do this"), "{text}");
    let response = post(&app, "/me/farm/withdrawal?lang=ja", Some(&cookie), ask("E000001", "boredom", &csrf)).await;
    assert_eq!(response.status().as_u16(), 422, "an unrecognised ground");
    let text = response.text().await.expect("text");
    assert!(text.contains("プログラムが認める理由ではありません") && text.contains("lang=\"ja\""), "{text}");
    assert_eq!(log_size(&app).await, before, "nothing was written");
    let status = |id| app.registry.lifecycle().enrolments[&EnrolmentId(id)].status;
    assert_eq!(status(1), EnrolmentStatus::Active);

    // The real request: recorded, confirmed, and pending on the page.
    let response = post(&app, "/me/farm/withdrawal", Some(&cookie), ask("E000001", "illness", &csrf)).await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(location(&response), "/me/farm?done=withdrawal");
    assert_eq!(status(1), EnrolmentStatus::WithdrawalRequested);
    assert_eq!(status(2), EnrolmentStatus::Active);
    let (_, html) = page(&app, "/me/farm?done=withdrawal&lang=en", &cookie).await;
    assert!(html.contains("Your withdrawal request was recorded") && html.contains("Withdrawal requested"), "{html}");

    // Not signed in: to the sign-in page.
    let response = browser().get(format!("{}/me/farm", root(&app))).send().await.expect("request");
    assert_eq!((response.status().as_u16(), location(&response)), (303, "/signin".to_owned()));
}

async fn html_of(app: &TestApp, cookie: &str) -> String {
    page(app, "/me/farm", cookie).await.1
}

fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buyer_quotes_buys_names_the_beneficiary_and_gets_the_certificate() {
    let app = spawn_app().await;
    let batch = seeded(&app).await;
    user(&app, "treasury@example.jp", Role::Buyer, &[&app.buyer_account.clone()]).await;
    user(&app, "other@example.jp", Role::Buyer, &[&app.other_buyer_account.clone()]).await;
    let cookie = sign_in(&app, "treasury@example.jp").await;
    let other = sign_in(&app, "other@example.jp").await;

    // The price before anything is saved: total, the program's fee, what reaches farmers.
    let (status, html) = page(&app, &format!("/buy?batch={batch}&quantity=10&currency=JPY&lang=en"), &cookie).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("¥39,250") && html.contains("¥7,850 (20 %)") && html.contains("¥31,400"), "{html}");
    let (_, ja) = page(&app, &format!("/buy?batch={batch}&quantity=10&currency=JPY&lang=ja"), &cookie).await;
    assert!(ja.contains("39,250円") && ja.contains("プログラム手数料"), "{ja}");
    assert!(app.registry.lifecycle().sales.quotes.is_empty(), "a preview saves nothing");

    // The quote: refused without the CSRF token and for someone else's account, then made.
    let csrf = hidden(&html, "csrf");
    let ask = |csrf: &str, account: &str, quantity: &str| {
        form(&[("csrf", csrf), ("account", account), ("batch", &batch), ("quantity", quantity), ("currency", "JPY")])
    };
    let response = post(&app, "/buy", Some(&cookie), ask("", &app.buyer_account, "10")).await;
    assert_eq!(response.status().as_u16(), 403);
    let response = post(&app, "/buy", Some(&cookie), ask(&csrf, &app.other_buyer_account, "10")).await;
    assert_eq!(response.status().as_u16(), 403);
    let response = post(&app, "/buy?lang=ja", Some(&cookie), ask(&csrf, &app.buyer_account, "100000")).await;
    assert_eq!(response.status().as_u16(), 409, "more than is for sale");
    assert!(response.text().await.expect("text").contains("クレジットが足りません"));
    assert!(app.registry.lifecycle().sales.quotes.is_empty(), "no quote was made");
    let response = post(&app, "/buy", Some(&cookie), ask(&csrf, &app.buyer_account, "10")).await;
    assert_eq!((response.status().as_u16(), location(&response)), (303, "/me/quotes/Q000001".to_owned()));
    let (status, html) = page(&app, "/me/quotes/Q000001?lang=en", &cookie).await;
    assert_eq!(status, 200);
    assert!(html.contains("Open") && html.contains("Valid until") && html.contains("¥39,250"), "{html}");
    let (status, _) = page(&app, "/me/quotes/Q000001", &other).await;
    assert_eq!(status, 403, "another buyer does not see it");
    let (status, html) = page(&app, "/me/quotes/Q000099?lang=ja", &cookie).await;
    assert_eq!(status, 404);
    assert!(html.contains("該当するものが見つかりません"), "{html}");

    // Accept: escrowed, and the page says what happens next instead of pretending it is done.
    let response = post(&app, "/me/quotes/Q000001/accept", Some(&other), form(&[("csrf", &csrf)])).await;
    assert_eq!(response.status().as_u16(), 403, "another buyer's session (and its CSRF token) cannot accept");
    let response = post(&app, "/me/quotes/Q000001/accept", Some(&cookie), form(&[("csrf", &csrf)])).await;
    assert_eq!((response.status().as_u16(), location(&response)), (303, "/me/sales/S000001".to_owned()));
    let (_, html) = page(&app, "/me/sales/S000001?lang=en", &cookie).await;
    assert!(html.contains("Awaiting payment") && html.contains("Reserved until"), "{html}");
    assert_eq!(page(&app, "/me/sales/S000001", &other).await.0, 403, "another buyer does not see the sale");
    assert!(!html.contains("certificate-pdf"), "no certificate before settlement");

    // The beneficiary and purpose: another buyer cannot name them; the buyer does.
    let claim = |csrf: &str| {
        form(&[
            ("csrf", csrf),
            ("beneficiary", "Kansai Rail Co., Ltd."),
            ("country", "JP"),
            ("purpose", "scope3"),
            ("from", "2025-04-01"),
            ("to", "2026-03-31"),
            ("jurisdiction", "JP-27"),
            ("note", ""),
        ])
    };
    let other_csrf = hidden(&page(&app, &format!("/buy?batch={batch}&quantity=1"), &other).await.1, "csrf");
    let before = log_size(&app).await;
    let response = post(&app, "/me/sales/S000001/claim", Some(&other), claim(&other_csrf)).await;
    assert_eq!(response.status().as_u16(), 403);
    assert_eq!(log_size(&app).await, before);
    let response = post(&app, "/me/sales/S000001/claim", Some(&cookie), claim(&csrf)).await;
    assert_eq!((response.status().as_u16(), location(&response)), (303, "/me/sales/S000001?done=claim".to_owned()));
    let (_, html) = page(&app, "/me/sales/S000001?done=claim&lang=en", &cookie).await;
    assert!(html.contains("The beneficiary and purpose were recorded") && html.contains("Scope 3 emissions"));

    // The operator sees the stated claim; settlement stays the operator's and must retire for it.
    let sale = app.get_as("/sales/S000001", Some(&app.operator)).await;
    assert_eq!(sale["claim"]["beneficiary"]["name"], "Kansai Rail Co., Ltd.");
    assert_eq!(
        (sale["claim"]["purpose"].as_str(), sale["claim"]["jurisdiction"].as_str()),
        (Some("scope3"), Some("JP-27"))
    );
    let mut changed = settle_body(false);
    changed["beneficiary"]["name"] = json!("Someone Else K.K.");
    let (status, body) = app.post("/sales/S000001/settle", &app.operator, changed).await;
    assert_problem(status, &body, 422, "invalid-command");
    app.post_ok("/sales/S000001/settle", &app.operator, settle_body(false)).await;
    let (_, html) = page(&app, "/me/sales/S000001?lang=en", &cookie).await;
    assert!(html.contains("Settled and retired") && !html.contains("Awaiting payment"), "{html}");
    assert!(html.contains("href=\"/api/v1/certificates/AGR-CERT-R000001\""), "{html}");
    assert!(html.contains("href=\"/api/v1/certificates/AGR-CERT-R000001/pdf\""), "{html}");
    let pdf = browser().get(format!("{}/certificates/AGR-CERT-R000001/pdf", app.url)).send().await.expect("pdf");
    assert_eq!(pdf.status().as_u16(), 200);
    assert!(pdf.bytes().await.expect("bytes").starts_with(b"%PDF"));
    let (_, html) = page(&app, "/me/purchases?lang=ja", &cookie).await;
    assert!(html.contains("購入履歴") && html.contains("決済・償却済み") && html.contains("AGR-CERT-R000001"));
    let (_, html) = page(&app, "/me/purchases", &other).await;
    assert!(!html.contains("S000001"), "another buyer's purchases are not listed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buyer_retires_credits_it_holds_for_a_beneficiary() {
    let app = spawn_app().await;
    user(&app, "treasury@example.jp", Role::Buyer, &[&app.buyer_account.clone()]).await;
    let cookie = sign_in(&app, "treasury@example.jp").await;
    let (status, html) = page(&app, "/me/retire?lang=en", &cookie).await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("{} · 1,000 t CO₂e", app.buyer_account)), "its holding: {html}");
    let csrf = hidden(&html, "csrf");
    let retire = |csrf: &str, account: &str, quantity: &str| {
        form(&[
            ("csrf", csrf),
            ("account", account),
            ("quantity", quantity),
            ("beneficiary", "Kansai Rail Co., Ltd."),
            ("country", "JP"),
            ("purpose", "scope1"),
            ("from", "2025-04-01"),
            ("to", "2026-03-31"),
            ("jurisdiction", "JP-27"),
            ("note", "Diesel shunting"),
        ])
    };
    let before = log_size(&app).await;
    let response = post(&app, "/me/retire", Some(&cookie), retire("", &app.buyer_account, "5")).await;
    assert_eq!(response.status().as_u16(), 403, "no CSRF token");
    let response = post(&app, "/me/retire", Some(&cookie), retire(&csrf, &app.other_buyer_account, "5")).await;
    assert_eq!(response.status().as_u16(), 403, "another buyer's account");
    let response = post(&app, "/me/retire?lang=ja", Some(&cookie), retire(&csrf, &app.buyer_account, "5000")).await;
    assert_eq!(response.status().as_u16(), 409, "more than it holds");
    assert!(response.text().await.expect("text").contains("クレジットが足りません"));
    assert_eq!(log_size(&app).await, before, "nothing was written");
    let response = post(&app, "/me/retire", Some(&cookie), retire(&csrf, &app.buyer_account, "5")).await;
    assert_eq!((response.status().as_u16(), location(&response)), (303, "/retirements/R000001".to_owned()));
    let retirement = app.get_ok("/retirements/R000001").await;
    assert_eq!(retirement["beneficiary"]["name"], "Kansai Rail Co., Ltd.", "{retirement}");
    assert_eq!(retirement["quantity"], 5, "{retirement}");
}

/// The operator's side of a purchase: the review queue lists the escrowed sale, refuses to settle
/// it until the buyer has named the beneficiary (nothing written), and then settles it with the
/// buyer's claim, never one the operator typed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_settles_a_paid_sale_from_the_review_queue_with_the_buyers_claim() {
    let app = spawn_app().await;
    let batch = seeded(&app).await;
    user(&app, "desk@furrow.example", Role::Operator, &[]).await;
    let desk = sign_in(&app, "desk@furrow.example").await;
    let body = json!({"buyer": app.buyer_account, "batch": batch, "quantity": 10, "currency": "JPY"});
    app.post_ok("/quotes", &app.buyer, body).await;
    app.post_ok("/quotes/Q000001/accept", &app.buyer, json!({})).await;

    let (status, html) = page(&app, "/review?lang=en", &desk).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Sales awaiting payment") && html.contains("S000001") && html.contains("¥39,250"), "{html}");
    assert!(html.contains("Waiting for the buyer to name the beneficiary"), "{html}");
    assert!(!html.contains("/review/sales/S000001/settle"), "no settle button before the buyer's claim");
    let csrf = hidden(&page(&app, "/me", &desk).await.1, "csrf");
    let settle = |csrf: &str| form(&[("csrf", csrf), ("payment_reference", "BANK-7781")]);
    let before = log_size(&app).await;
    let response = post(&app, "/review/sales/S000001/settle?lang=en", Some(&desk), settle(&csrf)).await;
    assert_eq!(response.status().as_u16(), 422);
    assert!(response.text().await.expect("text").contains("has not stated whom the credits are retired for"));
    let response = post(&app, "/review/sales/S000001/settle", Some(&desk), settle("")).await;
    assert_eq!(response.status().as_u16(), 403, "no CSRF token");
    assert_eq!(log_size(&app).await, before, "a refused settlement wrote nothing");

    let claim = json!({
        "beneficiary": {"name": "Kansai Rail Co., Ltd.", "country": "JP"},
        "purpose": "scope3",
        "claim_period": {"from": "2025-04-01", "to": "2026-03-31"},
        "jurisdiction": "JP-27",
    });
    app.post_ok("/sales/S000001/claim", &app.buyer, claim).await;
    let (_, html) = page(&app, "/review?lang=ja", &desk).await;
    assert!(html.contains("支払い待ちの販売") && html.contains("Kansai Rail Co., Ltd. · スコープ3排出量"), "{html}");
    assert!(html.contains("/review/sales/S000001/settle"), "{html}");
    let response = post(&app, "/review/sales/S000001/settle", Some(&desk), settle(&csrf)).await;
    assert_eq!((response.status().as_u16(), location(&response)), (303, "/review?done=settled".to_owned()));
    let sale = app.get_as("/sales/S000001", Some(&app.operator)).await;
    assert_eq!(sale["status"], "settled", "{sale}");
    let retirement = app.get_ok("/retirements/R000001").await;
    assert_eq!(retirement["beneficiary"]["name"], "Kansai Rail Co., Ltd.", "the buyer's claim");
    let (_, html) = page(&app, "/review?done=settled&lang=en", &desk).await;
    assert!(html.contains("Settled: the credits are retired"), "{html}");
    assert!(!html.contains("/review/sales/S000001/settle"), "the queue is empty again");
}

/// A buyer who names what the credits must be instead of a batch: the page lists the batches for
/// sale that match and the one the quote would take, with its price; a quote by criteria is made
/// from that batch. Criteria nothing matches, or that are not criteria, say so and save nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buyer_quotes_by_criteria_instead_of_a_batch() {
    let app = spawn_app().await;
    let batch = seeded(&app).await;
    user(&app, "treasury@example.jp", Role::Buyer, &[&app.buyer_account.clone()]).await;
    let cookie = sign_in(&app, "treasury@example.jp").await;
    let lc = app.registry.lifecycle();
    let (b, _) = app.registry.store().batch(batch.parse().expect("id")).await.expect("read").expect("batch");
    let priced = furrow_domain::sales::priced_batch(&lc, &b).expect("for sale");
    let (methodology, vintage) = (priced.methodology_code.clone(), b.vintage.to_string());

    // The criteria form offers what the batches for sale have.
    let (status, html) = page(&app, "/buy?lang=en", &cookie).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("By what the credits must be"), "{html}");
    assert!(html.contains(&format!("<option value=\"{methodology}\">{methodology}</option>")), "{html}");

    // Matching criteria: the batch, the one the quote takes, and the price of that batch.
    let criteria = format!("methodology={methodology}&vintage_from={vintage}&vintage_to={vintage}&min_score=");
    let url = format!("/buy?by=filter&{criteria}&quantity=10&currency=JPY&lang=en");
    let (status, html) = page(&app, &url, &cookie).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Batches that match") && html.contains(&format!("<strong>{batch}</strong>")), "{html}");
    assert!(html.contains("¥39,250") && html.contains("name=\"by\" value=\"filter\""), "{html}");
    let csrf = hidden(&html, "csrf");
    let (_, ja) = page(&app, &url.replace("lang=en", "lang=ja"), &cookie).await;
    assert!(ja.contains("条件に合うバッチ") && ja.contains("39,250円"), "{ja}");

    // Criteria nothing matches, or more credits than any match has: no price, nothing to accept.
    let (status, html) = page(&app, "/buy?by=filter&methodology=NOPE-1&quantity=10&lang=en", &cookie).await;
    assert_eq!(status, 200);
    assert!(html.contains("No batch for sale matches") && !html.contains("id=\"preview\""), "{html}");
    let (_, html) = page(&app, "/buy?by=filter&min_score=1000&quantity=10&lang=en", &cookie).await;
    assert!(html.contains("No batch for sale matches"), "a score no batch reaches: {html}");
    let (_, html) = page(&app, "/buy?by=filter&quantity=100000&lang=en", &cookie).await;
    assert!(html.contains("has that many credits left") && !html.contains("id=\"preview\""), "{html}");
    let (status, html) = page(&app, "/buy?by=filter&vintage_from=soon&quantity=10&lang=en", &cookie).await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("is not a year"), "{html}");

    // The quote by criteria: refused when nothing matches (nothing saved), then made from the batch.
    let ask = |methodology: &str| {
        form(&[
            ("csrf", &csrf),
            ("account", &app.buyer_account),
            ("by", "filter"),
            ("methodology", methodology),
            ("label", ""),
            ("vintage_from", &vintage),
            ("vintage_to", ""),
            ("min_score", ""),
            ("quantity", "10"),
            ("currency", "JPY"),
        ])
    };
    let response = post(&app, "/buy", Some(&cookie), ask("NOPE-1")).await;
    assert_eq!(response.status().as_u16(), 422);
    assert!(response.text().await.expect("text").contains("no batch matches"));
    assert!(app.registry.lifecycle().sales.quotes.is_empty(), "no quote was made");
    let response = post(&app, "/buy", Some(&cookie), ask(&methodology)).await;
    assert_eq!((response.status().as_u16(), location(&response)), (303, "/me/quotes/Q000001".to_owned()));
    let quotes = &app.registry.lifecycle().sales.quotes;
    let quote = quotes.values().next().expect("a quote");
    assert_eq!(quote.batch.to_string(), batch, "the quote takes the matching batch");
    let (_, html) = page(&app, "/me/quotes/Q000001?lang=en", &cookie).await;
    assert!(html.contains("¥39,250"), "{html}");
}
