//! The explorer's pages, exports and change feed, over HTTP against the real server.

use serde_json::{Value, json};

use crate::helpers::*;

fn root(app: &TestApp) -> String {
    app.url.trim_end_matches("/api/v1").to_owned()
}

async fn page(app: &TestApp, path: &str, lang: Option<&str>) -> (u16, reqwest::header::HeaderMap, String) {
    let mut request = app.client.get(format!("{}{path}", root(app)));
    if let Some(lang) = lang {
        request = request.header("accept-language", lang);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.expect("text"))
}

async fn page_ok(app: &TestApp, path: &str, lang: Option<&str>) -> String {
    let (status, headers, html) = page(app, path, lang).await;
    assert_eq!(status, 200, "GET {path}: {html}");
    assert_eq!(headers["content-type"], "text/html; charset=utf-8", "{path}");
    html
}

/// A retirement for `beneficiary` of `quantity` credits from the test buyer.
async fn retire(app: &TestApp, beneficiary: &str, quantity: u64) -> Value {
    let body = app.retire_body(json!({"quantity": quantity, "beneficiary": {"name": beneficiary, "country": "JP"}}));
    app.post_ok("/retirements", &app.buyer, body).await
}

const PAGES: [&str; 12] = [
    "/",
    "/projects",
    "/batches",
    "/batches/B000001",
    "/serials",
    "/retirements",
    "/methodologies",
    "/program",
    "/join",
    "/transparency",
    "/downloads",
    "/signin",
];

#[tokio::test]
async fn every_page_renders_in_english_and_japanese_with_security_headers_and_no_script() {
    let app = spawn_app().await;
    retire(&app, "Kansai Rail Co., Ltd.", 10).await;
    for path in PAGES {
        let (status, headers, html) = page(&app, path, Some("ja-JP,ja;q=0.9,en;q=0.5")).await;
        assert_eq!(status, 200, "{path}: {html}");
        assert!(html.contains("<html lang=\"ja\">"), "{path} is in Japanese for a Japanese reader");
        assert!(html.contains("本文へ移動"), "{path} has the Japanese skip link");
        assert!(!html.contains("<script"), "{path} needs no JavaScript");
        let csp = headers["content-security-policy"].to_str().expect("ascii");
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"), "{path}: {csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        let english = page_ok(&app, path, Some("en-GB,en;q=0.9")).await;
        assert!(english.contains("<html lang=\"en\">") && english.contains("Skip to content"), "{path}");
        assert!(!headers.contains_key("strict-transport-security"), "{path}: no HSTS over plain HTTP");
    }
    // Behind a TLS-terminating proxy, pages tell browsers to come back over TLS only.
    let root = app.url.trim_end_matches("/api/v1").to_owned();
    let response =
        app.client.get(format!("{root}/")).header("x-forwarded-proto", "https").send().await.expect("request");
    let hsts = response.headers()["strict-transport-security"].to_str().expect("ascii");
    assert!(hsts.starts_with("max-age=31536000"), "{hsts}");
}

#[tokio::test]
async fn the_language_switch_sets_a_cookie_that_later_pages_follow() {
    let app = spawn_app().await;
    let html = page_ok(&app, "/", Some("en")).await;
    assert!(html.contains("href=\"/?lang=ja\""), "the English page links to its Japanese version");
    let (_, headers, html) = page(&app, "/projects?lang=ja", Some("en")).await;
    assert!(html.contains("<html lang=\"ja\">"), "?lang wins over Accept-Language");
    let cookie = headers["set-cookie"].to_str().expect("ascii").to_owned();
    assert!(cookie.starts_with("furrow_lang=ja;"), "{cookie}");
    let response = app
        .client
        .get(format!("{}/batches", root(&app)))
        .header("accept-language", "en")
        .header("cookie", "furrow_lang=ja")
        .send()
        .await
        .expect("request");
    assert!(response.text().await.expect("text").contains("<html lang=\"ja\">"), "the cookie wins over the header");
}

#[tokio::test]
async fn numbers_dates_and_money_follow_the_reader_s_locale() {
    let app = spawn_app().await;
    let en = page_ok(&app, "/", Some("en")).await;
    assert!(en.contains("1,050 t CO₂e"), "issued total with a thousands separator");
    let ja = page_ok(&app, "/", Some("ja")).await;
    assert!(ja.contains("1,050 t-CO₂e"), "the Japanese unit");
    let batch = page_ok(&app, "/batches/B000001", Some("ja")).await;
    assert!(batch.contains('年') && batch.contains("月") && batch.contains("日 "), "a Japanese date");
}

#[tokio::test]
async fn a_serial_lookup_shows_its_block_state_and_history() {
    let app = spawn_app().await;
    let retired = retire(&app, "Kansai Rail Co., Ltd.", 10).await;
    let serial = retired["ranges"][0]["serial"].as_str().expect("serial").to_owned();
    let html = page_ok(&app, &format!("/serials?q={serial}"), Some("en")).await;
    assert!(html.contains(&serial), "the printable range is shown");
    assert!(html.contains("Retired"), "its state");
    let history = html.split("id=\"history\"").nth(1).expect("a history table");
    let (issued, retirement) = (history.find("<td>Issued</td>"), history.find("<td>Retired</td>"));
    assert!(issued.is_some() && retirement.is_some() && issued < retirement, "issuance, then retirement: {history}");
    let start = retired["ranges"][0]["start"].as_u64().expect("start");
    let html = page_ok(&app, &format!("/serials?q={start}"), Some("ja")).await;
    assert!(html.contains("償却済み"), "a bare serial number works too, in Japanese");
    // Bad input is an answer on the page with a 4xx, never a 500.
    let (status, _, html) = page(&app, "/serials?q=nonsense-serial", Some("en")).await;
    assert!((400..500).contains(&status), "{status}");
    assert!(html.contains("role=\"alert\""), "the problem is announced");
    let (status, _, _) = page(&app, "/serials?q=99999999", Some("en")).await;
    assert_eq!(status, 404);
    let (status, _, _) = page(&app, "/serials?q=1&bogus=1", Some("en")).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn retirements_are_searchable_by_beneficiary_and_paginated_with_a_cursor() {
    let app = spawn_app().await;
    for i in 0..55 {
        retire(&app, "Hokuriku Foods K.K.", 1).await;
        if i % 10 == 0 {
            retire(&app, "Kansai Rail Co., Ltd.", 2).await;
        }
    }
    let html = page_ok(&app, "/retirements?q=kansai", Some("en")).await;
    assert_eq!(html.matches("<td>Kansai Rail Co., Ltd.</td>").count(), 6);
    assert!(!html.contains("<td>Hokuriku Foods K.K.</td>"));
    // 55 for Hokuriku: a full page of 50 and a link to the rest.
    let first = page_ok(&app, "/retirements?q=Hokuriku&order=oldest", Some("en")).await;
    assert_eq!(first.matches("<td>Hokuriku Foods K.K.</td>").count(), 50);
    let next = first.split("rel=\"next\" href=\"").nth(1).expect("a next link").split('"').next().expect("href");
    let second = page_ok(&app, &next.replace("&#38;", "&").replace("&amp;", "&"), Some("en")).await;
    assert_eq!(second.matches("<td>Hokuriku Foods K.K.</td>").count(), 5, "page two is {next}");
    assert!(!second.contains("rel=\"next\""), "the last page has no next link");
    // Newest first is the default: the newest retirement heads the list.
    let newest = page_ok(&app, "/retirements", Some("en")).await;
    assert!(newest.find("R000061").expect("newest") < newest.find("R000060").expect("next"), "newest first");
    let (status, _, _) = page(&app, "/retirements?order=sideways", Some("en")).await;
    assert_eq!(status, 400);
    let (status, _, _) = page(&app, "/retirements/R999999", Some("en")).await;
    assert_eq!(status, 404);
    let one = page_ok(&app, "/retirements/R000001", Some("en")).await;
    assert!(one.contains("/api/v1/retirements/R000001/certificate"), "the certificate is linked");
}

#[tokio::test]
async fn the_old_verify_address_leads_to_the_transparency_page() {
    let app = spawn_app().await;
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(format!("{}/verify", root(&app)))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 308);
    assert_eq!(response.headers()["location"], "/transparency");
}

#[tokio::test]
async fn the_stylesheet_is_versioned_and_cached_for_a_year() {
    let app = spawn_app().await;
    let html = page_ok(&app, "/", None).await;
    let href = html.split("rel=\"stylesheet\" href=\"").nth(1).expect("css link").split('"').next().expect("href");
    let response = app.client.get(format!("{}{href}", root(&app))).send().await.expect("request");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(response.headers()["content-type"], "text/css; charset=utf-8");
    let (status, _, _) = page(&app, "/static/furrow-000000000000.css", None).await;
    assert_eq!(status, 404);
}

async fn download(app: &TestApp, path: &str) -> String {
    let response = app.client.get(format!("{}{path}", root(app))).send().await.expect("request");
    assert_eq!(response.status().as_u16(), 200, "{path}");
    response.text().await.expect("text")
}

fn csv_rows(text: &str) -> Vec<csv::StringRecord> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    reader.records().map(|r| r.expect("a CSV row")).collect()
}

fn column(text: &str, name: &str) -> usize {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    reader.headers().expect("header").iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"))
}

#[tokio::test]
async fn exports_parse_and_their_totals_equal_the_registry_s() {
    let app = spawn_app().await;
    retire(&app, "Kansai Rail Co., Ltd.", 120).await;
    retire(&app, "Hokuriku Foods K.K.", 30).await;
    let cancel = json!({"from": app.buyer_account, "quantity": 7, "reason": "correction"});
    let asked = app.post_ok("/cancellations", &app.operator, cancel).await;
    // Cancellation is four-eyes: a second operator approves the request.
    let op_b = app.token("operator b", furrow_domain::Role::Operator, &[]).await;
    let id = asked["id"].as_str().expect("a request id").to_owned();
    app.post_ok(&format!("/cancellation-requests/{id}/approve"), &op_b, json!({})).await;
    let status = app.get_ok("/status").await;
    let supply = &status["supply"];
    let (total, retired, cancelled) = (
        supply["total"].as_u64().expect("n"),
        supply["retired"].as_u64().expect("n"),
        supply["cancelled"].as_u64().expect("n"),
    );

    let blocks = download(&app, "/exports/blocks.csv").await;
    let q = column(&blocks, "quantity");
    let sum: u64 = csv_rows(&blocks).iter().map(|r| r[q].parse::<u64>().expect("n")).sum();
    assert_eq!(sum, total, "every credit is in exactly one exported block");
    let s = column(&blocks, "state");
    let retired_blocks: u64 =
        csv_rows(&blocks).iter().filter(|r| &r[s] == "retired").map(|r| r[q].parse::<u64>().expect("n")).sum();
    assert_eq!(retired_blocks, retired);

    let retirements = download(&app, "/exports/retirements.csv").await;
    let q = column(&retirements, "quantity");
    assert_eq!(csv_rows(&retirements).iter().map(|r| r[q].parse::<u64>().expect("n")).sum::<u64>(), retired);
    let json: Value = serde_json::from_str(&download(&app, "/exports/retirements.json").await).expect("JSON");
    assert_eq!(json.as_array().expect("array").len(), 2);
    assert_eq!(json[1]["beneficiary"], "Hokuriku Foods K.K.");

    let batches: Value = serde_json::from_str(&download(&app, "/exports/batches.json").await).expect("JSON");
    assert_eq!(batches[0]["issued"].as_u64(), Some(total));
    let cancellations = download(&app, "/exports/cancellations.csv").await;
    assert_eq!(csv_rows(&cancellations).len(), 1);
    for what in ["projects", "batches", "blocks", "retirements", "cancellations"] {
        let json: Value = serde_json::from_str(&download(&app, &format!("/exports/{what}.json")).await).expect("JSON");
        assert!(json.is_array(), "{what}");
    }

    // The harmonised layout: issuance, retirement and cancellation totals equal the registry's.
    let tx = download(&app, "/exports/offsetsdb/transactions.csv").await;
    let (kind, q) = (column(&tx, "transaction_type"), column(&tx, "quantity"));
    let sum_of = |t: &str| -> u64 {
        csv_rows(&tx).iter().filter(|r| &r[kind] == t).map(|r| r[q].parse::<u64>().expect("n")).sum()
    };
    assert_eq!(sum_of("issuance"), total);
    assert_eq!(sum_of("retirement"), retired);
    assert_eq!(sum_of("cancellation"), cancelled);
    let b = column(&tx, "retirement_beneficiary");
    assert!(csv_rows(&tx).iter().any(|r| &r[b] == "Kansai Rail Co., Ltd."));

    // It round-trips through our own importer: the layout is recognised, every row parses.
    use furrow_import::{Kind, Layout, parse_file};
    assert_eq!(Layout::detect("transactions.csv", tx.as_bytes()).expect("detected"), Layout::OffsetsDbTransactions);
    let parsed = parse_file("transactions.csv", tx.as_bytes(), Some("furrow")).expect("parses");
    assert!(parsed.quarantined.is_empty(), "{:?}", parsed.quarantined);
    let imported =
        |k: Kind| parsed.records.iter().filter(|r| r.kind == k).map(|r| r.quantity.unwrap_or(0)).sum::<i64>();
    assert_eq!(imported(Kind::Issuance) as u64, total);
    assert_eq!(imported(Kind::Retirement) as u64, retired);
    assert_eq!(imported(Kind::Cancellation) as u64, cancelled);
    let projects = download(&app, "/exports/offsetsdb/projects.csv").await;
    assert_eq!(Layout::detect("projects.csv", projects.as_bytes()).expect("detected"), Layout::OffsetsDbProjects);
    let parsed = parse_file("projects.csv", projects.as_bytes(), None).expect("parses");
    assert_eq!(parsed.records.len(), 1);
    assert_eq!(parsed.records[0].registry, "furrow");

    let (status, _, _) = page(&app, "/exports/everything.csv", None).await;
    assert_eq!(status, 404);
    let (status, _, _) = page(&app, "/exports/blocks.xml", None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_large_export_is_streamed_in_chunks() {
    let app = spawn_app().await;
    for _ in 0..40 {
        retire(&app, "Kansai Rail Co., Ltd.", 1).await;
    }
    let mut response = app.client.get(format!("{}/exports/retirements.csv", root(&app))).send().await.expect("request");
    assert!(response.headers().get("content-length").is_none(), "a stream has no length up front");
    let mut chunks = 0;
    let mut text = Vec::new();
    while let Some(chunk) = response.chunk().await.expect("chunk") {
        chunks += 1;
        text.extend_from_slice(&chunk);
    }
    assert!(chunks >= 2, "header and rows arrive separately");
    assert_eq!(csv_rows(std::str::from_utf8(&text).expect("utf-8")).len(), 40);
}

#[tokio::test]
async fn the_change_feed_follows_new_log_entries_with_a_cursor() {
    let app = spawn_app().await;
    let first = app.client.get(format!("{}/feed.json", root(&app))).send().await.expect("request");
    let first: Value = first.json().await.expect("json");
    let seen = first["items"].as_array().expect("items").len() as u64;
    assert_eq!(seen, first["log_size"].as_u64().expect("size"));
    let cursor = first["next_cursor"].as_str().expect("cursor").to_owned();
    let again: Value = app
        .client
        .get(format!("{}/feed.json?cursor={cursor}", root(&app)))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert!(again["items"].as_array().expect("items").is_empty(), "nothing new yet");
    assert_eq!(again["next_cursor"], cursor.as_str(), "the cursor stays until something happens");
    retire(&app, "Kansai Rail Co., Ltd.", 5).await;
    let news: Value = app
        .client
        .get(format!("{}/feed.json?cursor={cursor}", root(&app)))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    let items = news["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["kind"], "retired");
    let atom = download(&app, "/feed.atom").await;
    assert!(atom.starts_with("<?xml") && atom.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\">"));
    assert!(atom.contains("retired"), "the newest entry is in the Atom feed");
    let (status, _, body) = page(&app, "/feed.json?cursor=abc", None).await;
    assert_eq!(status, 400, "{body}");
}

/// Measures, does not assert a time: the retirement page of a beneficiary with 10 000
/// retirements against one request of the JSON API for the same data. Run with
/// `cargo test -p furrow-http --test api ten_thousand -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "a measurement; takes a minute to seed"]
async fn ten_thousand_retirements_of_one_beneficiary_page_vs_json_api() {
    let app = spawn_app().await;
    // 10 000 requests from one token within a minute: above the runaway-token limit.
    app.registry.set_rate_limits(furrow_app::RateLimitSettings {
        token_requests_per_minute: 100_000,
        ..furrow_app::RateLimitSettings::default()
    });
    app.issue_directly(20_000, 0, &app.buyer_account.clone()).await;
    let app = std::sync::Arc::new(app);
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..32 {
        let app = app.clone();
        tasks.spawn(async move {
            for i in 0..(10_000 / 32 + 1) {
                if worker * (10_000 / 32 + 1) + i >= 10_000 {
                    break;
                }
                retire(&app, "Kansai Rail Co., Ltd.", 1).await;
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("worker");
    }
    retire(&app, "Someone Else", 1).await;
    let time = |path: String| {
        let app = app.clone();
        async move {
            let start = std::time::Instant::now();
            let response = app.client.get(path).send().await.expect("request");
            assert_eq!(response.status().as_u16(), 200);
            let bytes = response.bytes().await.expect("body").len();
            (start.elapsed(), bytes)
        }
    };
    let base = root(&app);
    for _ in 0..3 {
        let newest = time(format!("{base}/retirements?q=Kansai")).await;
        let oldest = time(format!("{base}/retirements?q=Kansai&order=oldest")).await;
        let api = time(format!("{}/retirements?limit=500", app.url)).await;
        let api_all = time(format!("{}/retirements?limit=50", app.url)).await;
        println!(
            "page newest first {:?} ({} B); page oldest first {:?} ({} B); JSON API 500 rows {:?} ({} B); JSON API 50 rows {:?} ({} B)",
            newest.0, newest.1, oldest.0, oldest.1, api.0, api.1, api_all.0, api_all.1
        );
    }
}
