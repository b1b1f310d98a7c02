//! No personal data in any public response (issue #8, SPEC §1): the demo registry, crawled without
//! a token through every public read of its OpenAPI document and every object those lists name,
//! never shows a grower's name, a field's name or contact details, and its log entries carry none.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use common::furrow;
use serde_json::Value;

/// Personal data the demo seeds (`crates/cli/src/demo.rs`): growers' names, their fields' names,
/// contact details and join applicants.
const SECRETS: &[&str] = &[
    "Sato Ichiro",
    "Suzuki Hanako",
    "Takahashi Kenta",
    "Watanabe Yumi",
    "Kato Rie",
    "Sasaki Noboru",
    "Shiozawa paddies",
    "Muikamachi east",
    "Oshikiri fields",
    "Kawanishi field 2",
    "0120-000-000",
    "025-000-0000",
];

#[tokio::test]
async fn no_public_response_of_the_demo_carries_personal_data() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut demo = furrow()
        .args(["demo", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("demo"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("demo starts");
    let stdout = demo.stdout.take().expect("stdout");
    let mut url = None;
    for line in BufReader::new(stdout).lines().take(40) {
        let line = line.expect("line");
        if url.is_none() {
            url = line.split_whitespace().find(|w| w.starts_with("http://")).map(str::to_owned);
        }
        if line.contains("Press Ctrl-C") {
            break;
        }
    }
    let base = url.expect("the demo prints its URL");
    let api = format!("{}/api/v1", base.trim_end_matches('/'));
    let client = reqwest::Client::new();
    let fetch = |path: String| {
        let client = client.clone();
        let url = format!("{api}{path}");
        async move {
            let response = client.get(&url).send().await.expect("request");
            (response.status().as_u16(), response.text().await.unwrap_or_default())
        }
    };
    let (_, doc) = fetch("/openapi.json".into()).await;
    let doc: Value = serde_json::from_str(&doc).expect("openapi");
    let mut pages: Vec<String> = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let public = item.get("get").is_some_and(|op| op.get("security").is_none());
        if public && !path.contains('{') {
            pages.push(path.replace("/log/proofs/consistency", "/log/proofs/consistency?from=1&to=2"));
        }
    }
    // Every object the public lists name, through its detail route.
    let mut checked = 0;
    let mut queue = pages.clone();
    let mut seen = std::collections::BTreeSet::new();
    while let Some(path) = queue.pop() {
        if !seen.insert(path.clone()) {
            continue;
        }
        let (status, body) = fetch(path.clone()).await;
        assert!(status < 500, "GET {path}: {status}");
        for secret in SECRETS {
            assert!(!body.contains(secret), "GET {path} shows {secret:?}");
        }
        checked += 1;
        let Ok(json) = serde_json::from_str::<Value>(&body) else { continue };
        let Some(items) = json["items"].as_array() else { continue };
        let collection = path.split('?').next().unwrap_or_default().to_owned();
        if collection.starts_with("/log") {
            continue;
        }
        if !path.contains('?') {
            queue.push(format!("{path}?limit=500"));
        }
        for item in items {
            if let Some(id) = item["id"].as_str() {
                queue.push(format!("{collection}/{id}"));
            }
        }
    }
    assert!(checked > 40, "crawled only {checked} responses");

    // The explorer's pages of every report, project and batch, in both languages: the report
    // pages explain each parcel's calculation, and the project pages list parcels and charts.
    let root = base.trim_end_matches('/').to_owned();
    let ids = |json: String, key: &str| -> Vec<String> {
        let json: Value = serde_json::from_str(&json).expect("list");
        json["items"]
            .as_array()
            .map_or(vec![], |items| items.iter().filter_map(|i| i[key].as_str().map(str::to_owned)).collect::<Vec<_>>())
    };
    let mut web_pages = Vec::new();
    for (list, key, page) in
        [("/reports", "id", "/reports"), ("/projects", "code", "/projects"), ("/batches", "id", "/batches")]
    {
        let found = ids(fetch(format!("{list}?limit=500")).await.1, key);
        assert!(!found.is_empty(), "the demo has {list}");
        web_pages.extend(found.into_iter().map(|id| format!("{page}/{id}")));
    }
    let mut reports = 0;
    for path in &web_pages {
        for lang in ["en", "ja"] {
            let url = format!("{root}{path}?lang={lang}");
            let response = client.get(&url).send().await.expect("request");
            let status = response.status().as_u16();
            let body = response.text().await.unwrap_or_default();
            assert_eq!(status, 200, "GET {url}");
            for secret in SECRETS {
                assert!(!body.contains(secret), "GET {url} shows {secret:?}");
            }
            reports += usize::from(path.starts_with("/reports/"));
        }
    }
    assert!(reports >= 2, "the report pages were crawled");
    let _ = demo.kill();
    let _ = demo.wait();
}
