use std::sync::Arc;

use furrow_app::{Principal, Registry, SequencerOptions};
use furrow_domain::{AccountId, Role};
use furrow_store_sqlite::SqliteStore;
use serde_json::{Value, json};

pub struct TestApp {
    pub url: String,
    pub client: reqwest::Client,
    pub operator: String,
    pub buyer: String,
    pub buyer_account: String,
    pub other_buyer_account: String,
    /// The registry behind the server, to create more tokens.
    pub registry: Registry,
    _dir: tempfile::TempDir,
}

/// Starts the real server on 127.0.0.1:0 with a fresh database, a program, two buyer accounts,
/// one batch of 1 000 credits (+ 50 buffer) issued to the first buyer, and tokens.
pub async fn spawn_app() -> TestApp {
    spawn_app_with_clock(Arc::new(furrow_app::SystemClock)).await
}

/// `spawn_app` with the registry reading time from `clock` (to test expiry without sleeping).
pub async fn spawn_app_with_clock(clock: Arc<dyn furrow_app::Clock>) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(SqliteStore::open(&dir.path().join("furrow.db")).await.expect("open"));
    let signer = furrow_app::transparency::generate_signer("test.furrow/log").expect("key");
    let log = furrow_app::transparency::log_options(signer);
    let registry =
        Registry::start_with_clock(store, clock, SequencerOptions { check_invariants: true, log: Some(log) })
            .await
            .expect("start");
    registry.execute(&Principal::system(), furrow_domain::sim::genesis(), None).await.expect("genesis");
    let operator = registry.create_token("test operator", Role::Operator, &[]).await.expect("token");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/api/v1", listener.local_addr().expect("addr"));
    let server_registry = registry.clone();
    tokio::spawn(async move {
        furrow_http::serve(listener, server_registry, std::future::pending()).await.expect("serve");
    });
    let client = reqwest::Client::new();
    let mut app = TestApp {
        url,
        client,
        operator,
        buyer: String::new(),
        buyer_account: String::new(),
        other_buyer_account: String::new(),
        registry: registry.clone(),
        _dir: dir,
    };
    let first = app
        .post_ok("/accounts", &app.operator.clone(), json!({"kind": "buyer", "name": "Kansai Rail Co., Ltd."}))
        .await;
    let second =
        app.post_ok("/accounts", &app.operator.clone(), json!({"kind": "buyer", "name": "Hokuriku Foods K.K."})).await;
    app.buyer_account = first["id"].as_str().expect("id").to_owned();
    app.other_buyer_account = second["id"].as_str().expect("id").to_owned();
    let account: AccountId = app.buyer_account.parse().expect("account id");
    app.buyer = registry.create_token("test buyer", Role::Buyer, &[account]).await.expect("token");
    app.issue_directly(1000, 50, &app.buyer_account.clone()).await;
    app
}

impl TestApp {
    /// Issues a batch of project P0012 as the program itself. No token can do this (every
    /// issuance through the API is four-eyes, from a verified report); fixtures use it to seed
    /// credits without walking the whole lifecycle.
    pub async fn issue_directly(&self, quantity: u64, buffer: u64, to: &str) {
        let issue = furrow_domain::IssueCommand {
            project: furrow_domain::ProjectCode(12),
            country: None,
            vintage: furrow_domain::Vintage::new(2025).expect("year"),
            quantity: furrow_domain::Quantity(quantity),
            buffer: furrow_domain::Quantity(buffer),
            to: to.parse().expect("account id"),
            labels: Vec::new(),
        };
        let command = furrow_domain::Command::Issue(issue);
        self.registry.execute(&Principal::system(), command, None).await.expect("issue");
    }

    pub async fn token(&self, subject: &str, role: Role, accounts: &[&str]) -> String {
        let accounts: Vec<AccountId> = accounts.iter().map(|a| a.parse().expect("account id")).collect();
        self.registry.create_token(subject, role, &accounts).await.expect("token")
    }

    pub async fn get_as(&self, path: &str, token: Option<&str>) -> Value {
        let mut request = self.client.get(format!("{}{path}", self.url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request");
        assert_eq!(response.status().as_u16(), 200, "GET {path}");
        response.json().await.expect("json")
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = self.client.get(format!("{}{path}", self.url)).send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn get_ok(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    pub async fn post_raw(&self, path: &str, token: &str, body: &str, key: Option<&str>) -> reqwest::Response {
        let mut request = self
            .client
            .post(format!("{}{path}", self.url))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        request.send().await.expect("request")
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        let response = self.post_raw(path, token, &body.to_string(), None).await;
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn post_ok(&self, path: &str, token: &str, body: Value) -> Value {
        let (status, response) = self.post(path, token, body.clone()).await;
        assert_eq!(status, 201, "POST {path} {body}: {response}");
        response
    }

    /// Everything a client can see that a rejected request must not change.
    pub async fn snapshot(&self) -> Value {
        let status = self.get_ok("/status").await;
        let blocks = self.get_ok("/blocks?limit=500").await;
        json!({"status": status, "blocks": blocks})
    }

    pub fn retire_body(&self, extra: Value) -> Value {
        let mut body = json!({
            "from": self.buyer_account,
            "beneficiary": {"name": "Kansai Rail Co., Ltd.", "country": "JP"},
            "purpose": "scope1",
            "claim_period": {"from": "2025-04-01", "to": "2026-03-31"},
            "jurisdiction": "JP-27",
        });
        for (k, v) in extra.as_object().expect("object") {
            body[k] = v.clone();
        }
        body
    }
}

/// Asserts an RFC 9457 problem with the given status and stable type.
pub fn assert_problem(status: u16, body: &Value, expected_status: u16, expected_code: &str) {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(body["type"], format!("urn:furrow:problem:{expected_code}"), "{body}");
    assert_eq!(body["status"], expected_status, "{body}");
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{body}");
}

/// A client that does not follow redirects, so that a test of the pages sees each answer.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

/// The server's root, where the pages live (the API is under `/api/v1`).
pub fn root(app: &TestApp) -> String {
    app.url.trim_end_matches("/api/v1").to_owned()
}

/// An `application/x-www-form-urlencoded` body, every byte but letters and digits escaped.
pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            let enc: String = v
                .bytes()
                .map(|b| if b.is_ascii_alphanumeric() { char::from(b).to_string() } else { format!("%{b:02X}") })
                .collect();
            format!("{k}={enc}")
        })
        .collect::<Vec<_>>()
        .join("&")
}
