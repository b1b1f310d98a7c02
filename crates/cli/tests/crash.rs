//! The kill -9 test (issue #10): the real server under concurrent load is killed with SIGKILL at
//! random moments and restarted, again and again. After every restart:
//!
//! - every operation the server acknowledged is still there: sent again with its Idempotency-Key,
//!   it is answered from the stored record (`Idempotent-Replayed: true`) with the same body;
//! - every operation that got no answer was applied whole or not at all: sent again, it is either
//!   replayed or runs now, and the registry's balances then equal exactly what the operations'
//!   outcomes say (nothing half-applied, nothing extra);
//! - `furrow verify` on the database finds nothing, and its witness file shows the new signed
//!   checkpoint is consistent with every earlier one (every fifth restart, and after the last).
//!
//! `FURROW_CRASH_CYCLES` sets the number of kills (200 in CI, 25 otherwise); the seed of the
//! random moments is printed, and `FURROW_CRASH_SEED` replays the same schedule.

mod common;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Server, database_flags, furrow, init, operator_token};
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

const BUYERS: usize = 4;
const CLIENTS: usize = 8;
const ISSUED: u64 = 1_000_000;

#[derive(Clone, Debug)]
struct Operation {
    key: String,
    path: &'static str,
    body: Value,
}

/// What the server said to an operation: its status and body.
#[derive(Clone, Debug, PartialEq)]
struct Answer {
    status: u16,
    body: Value,
}

#[test]
fn acknowledged_operations_survive_sigkill_and_nothing_is_half_applied() {
    let cycles = env_number("FURROW_CRASH_CYCLES", if furrow_testkit::in_ci() { 200 } else { 25 });
    let seed = env_number("FURROW_CRASH_SEED", rand::random::<u64>());
    eprintln!("kill -9 test: {cycles} cycles, seed {seed} (FURROW_CRASH_SEED={seed} replays the schedule)");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);

    let dir = tempfile::tempdir().expect("temp dir");
    let flags = database_flags(&dir.path().join("registry"), None);
    let key = init(&flags);
    let token = operator_token(&flags);
    let second_operator = common::token(&flags, "operator", Some("second operator"));
    let verifier = common::token(&flags, "verifier", Some("verifier"));
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build().expect("rt");
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client");
    // One server per cycle: the one restarted after a kill is checked, then loaded and killed.
    let mut server = Server::start(&flags);
    let buyers = runtime.block_on(async {
        issue_through_the_lifecycle(&client, &server.url, [&token, &second_operator, &verifier]).await;
        open_buyers(&client, &server.url, &token).await
    });

    let mut answered: BTreeMap<String, (Operation, Answer)> = BTreeMap::new();
    // Operations cut off by a kill that had committed all the same: the case the replay is for.
    let mut committed_unanswered = 0;
    for cycle in 0..cycles {
        let load =
            Load { client: client.clone(), url: server.url.clone(), token: token.clone(), buyers: buyers.clone() };
        let before_kill = Duration::from_millis(rng.random_range(20..300));
        let (acked, unanswered) = runtime.block_on(load.run_then_kill(before_kill, rng.random(), server));

        server = Server::start(&flags);
        runtime.block_on(async {
            // Refusals leave no trace, so there is nothing stored to find; the balances cover them.
            for (operation, answer) in acked.into_iter().filter(|(_, a)| a.status == 201) {
                let again = send(&client, &server.url, &token, &operation).await.expect("the server answers");
                assert_eq!(again.1, answer, "cycle {cycle}: acknowledged {operation:?} changed after a restart");
                assert!(again.0, "cycle {cycle}: acknowledged {operation:?} was not stored (seed {seed})");
                answered.insert(operation.key.clone(), (operation, answer));
            }
            for operation in unanswered {
                let (replayed, answer) =
                    send(&client, &server.url, &token, &operation).await.expect("the server answers");
                committed_unanswered += usize::from(replayed);
                answered.insert(operation.key.clone(), (operation, answer));
            }
            check_balances(&client, &server.url, &buyers, &answered).await;
        });
        // verify replays the whole log, so every cycle would make the test quadratic; the
        // witness still checks each new checkpoint against the one it saw five kills before.
        if cycle % 5 == 4 || cycle + 1 == cycles {
            verify(&flags, &key, &dir.path().join("witness"), cycle, seed);
        }
    }
    let retirements = answered.values().filter(|(op, a)| op.path == "/api/v1/retirements" && a.status == 201).count();
    eprintln!(
        "{} operations over {cycles} kills: {retirements} retirements, {committed_unanswered} committed but cut off",
        answered.len()
    );
    assert!(retirements > 0, "the load must have done something");
}

/// Opens the buyer accounts the load moves credits to.
async fn open_buyers(client: &reqwest::Client, url: &str, token: &str) -> Vec<String> {
    let mut buyers = Vec::new();
    for n in 0..BUYERS {
        let op = operation("/api/v1/accounts", json!({"kind": "buyer", "name": format!("Crash buyer {n}")}));
        let (_, answer) = send(client, url, token, &op).await.expect("open account");
        assert_eq!(answer.status, 201, "{answer:?}");
        buyers.push(answer.body["id"].as_str().expect("id").to_owned());
    }
    buyers
}

/// Puts `ISSUED` credits into the issuance account the only way the API allows: an approved
/// methodology, a registered project, one farmer's enrolled field, a verified monitoring report,
/// and an issuance requested by one operator and approved by another. The methodology credits
/// 100 000 t per hectare with no deductions, so that one 10 ha field gives exactly `ISSUED`.
async fn issue_through_the_lifecycle(client: &reqwest::Client, url: &str, [op, op_b, verifier]: [&str; 3]) {
    let post = |path: String, token: &str, body: Value| {
        let request = client.post(format!("{url}/api/v1{path}")).bearer_auth(token).json(&body);
        async move {
            let response = request.send().await.expect("POST");
            let status = response.status().as_u16();
            let body: Value = response.json().await.expect("JSON");
            assert_eq!(status, 201, "POST {path}: {body}");
            body
        }
    };
    let methodology = json!({
        "code": "AG-005", "version": "v1.0", "title": "Extended mid-season drainage in paddy rice",
        "engine": "linear-factor",
        "parameters": {"version": "crash-1", "values": {"per_ha": (ISSUED / 10).to_string()}},
        "schema": [{"name": "drainage_extension_days", "kind": "integer", "unit": "d", "min": "7", "max": "60", "required": true}],
        "deductions": {"uncertainty": "0", "leakage": "0", "buffer": "0"},
        "gwp": "AR5", "indicators": []
    });
    post("/methodologies".into(), op, methodology).await;
    post("/methodologies/M0001/approve".into(), op_b, json!({})).await;
    let project = json!({"name": "Crash-test drainage", "methodology": "M0001", "country": "JP", "region": "JP-15",
        "crediting_period": {"from": "2024-01-01", "to": "2030-12-31"}});
    post("/projects".into(), op, project).await;
    post("/projects/P0001/verifier".into(), op, json!({"verifier": "verifier"})).await;
    for (action, by) in [("submit", op), ("validate", verifier), ("register", op_b)] {
        post("/projects/P0001/transitions".into(), by, json!({"action": action})).await;
    }
    let person = json!({"person": {"name": "Crash Farmer", "contact": "-", "address": "-"}, "prefecture": "Niigata"});
    let farmer = post("/participants".into(), op, person).await["id"].as_str().expect("participant").to_owned();
    let square = json!({"type": "Polygon", "coordinates": [[[139.0, 37.9], [139.01, 37.9], [139.01, 37.91], [139.0, 37.91], [139.0, 37.9]]]});
    let field = json!({"name": "Field", "area_ha": "10", "prefecture": "Niigata", "municipality": "Minamiuonuma", "geometry": square});
    let parcel =
        post(format!("/participants/{farmer}/parcels"), op, field).await["id"].as_str().expect("parcel").to_owned();
    let enrolment =
        json!({"project": "P0001", "parcel": parcel, "contract_period": {"from": "2025-01-01", "to": "2027-12-31"}});
    post("/enrolments".into(), op, enrolment).await;
    let report = json!({
        "project": "P0001", "period": {"from": "2026-01-01", "to": "2026-12-31"},
        "activity": [{"parcel": parcel, "values": {"drainage_extension_days": 10}}],
        "evidence": [{"name": "drainage-log.pdf", "sha256": "ab".repeat(32)}],
        "indicators": []
    });
    let report = post("/reports".into(), op, report).await["id"].as_str().expect("report").to_owned();
    post(format!("/reports/{report}/submit"), op, json!({})).await;
    post(format!("/reports/{report}/verify"), verifier, json!({})).await;
    let request = post("/issuance-requests".into(), op, json!({"report": report})).await;
    let request = request["id"].as_str().expect("request").to_owned();
    let approved = post(format!("/issuance-requests/{request}/approve"), op_b, json!({})).await;
    let batch = approved["batch"].as_str().expect("a batch");
    let issued = get_json(client, &format!("{url}/api/v1/batches/{batch}")).await;
    assert_eq!(issued["supply"]["tradable"], ISSUED, "{issued}");
}

struct Load {
    client: reqwest::Client,
    url: String,
    token: String,
    buyers: Vec<String>,
}

impl Load {
    /// Runs `CLIENTS` closed-loop clients, kills the server after `before_kill`, and returns the
    /// operations that were answered and those that were not.
    async fn run_then_kill(
        self,
        before_kill: Duration,
        seed: u64,
        server: Server,
    ) -> (Vec<(Operation, Answer)>, Vec<Operation>) {
        let acked = Arc::new(Mutex::new(Vec::new()));
        let unanswered = Arc::new(Mutex::new(Vec::new()));
        let load = Arc::new(self);
        let mut tasks = Vec::new();
        for client in 0..CLIENTS {
            let (load, acked, unanswered) = (load.clone(), acked.clone(), unanswered.clone());
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ client as u64);
            tasks.push(tokio::spawn(async move {
                loop {
                    let op = load.random_operation(&mut rng);
                    match send(&load.client, &load.url, &load.token, &op).await {
                        Ok((_, answer)) => acked.lock().expect("lock").push((op, answer)),
                        Err(_) => {
                            unanswered.lock().expect("lock").push(op);
                            return;
                        }
                    }
                }
            }));
        }
        tokio::time::sleep(before_kill).await;
        drop(server); // SIGKILL, then wait for the process to be gone.
        for task in tasks {
            task.await.expect("client task");
        }
        (take(&acked), take(&unanswered))
    }

    /// A transfer from the issuance account to a buyer, or a retirement from a buyer (which may
    /// be refused when the buyer holds too little: a refusal is an answer too).
    fn random_operation(&self, rng: &mut impl Rng) -> Operation {
        let buyer = &self.buyers[rng.random_range(0..self.buyers.len())];
        let quantity = rng.random_range(1..=5u64);
        if rng.random_bool(0.6) {
            operation("/api/v1/transfers", json!({"from": "A000001", "to": buyer, "quantity": quantity}))
        } else {
            operation(
                "/api/v1/retirements",
                json!({"from": buyer, "quantity": quantity, "beneficiary": {"name": "Crash Test Co."},
                       "purpose": "voluntary_offset", "claim_period": {"from": "2025-01-01", "to": "2025-12-31"},
                       "jurisdiction": "JP"}),
            )
        }
    }
}

fn take<T>(shared: &Mutex<Vec<T>>) -> Vec<T> {
    std::mem::take(&mut *shared.lock().expect("lock"))
}

fn operation(path: &'static str, body: Value) -> Operation {
    Operation { key: format!("crash-{:032x}", rand::random::<u128>()), path, body }
}

/// Sends one operation with its Idempotency-Key: whether the answer was a replay, and the answer.
async fn send(client: &reqwest::Client, url: &str, token: &str, op: &Operation) -> reqwest::Result<(bool, Answer)> {
    let response = client
        .post(format!("{url}{}", op.path))
        .bearer_auth(token)
        .header("Idempotency-Key", &op.key)
        .json(&op.body)
        .send()
        .await?;
    let replayed = response.headers().get("Idempotent-Replayed").is_some_and(|v| v == "true");
    let status = response.status().as_u16();
    let body = response.json().await?;
    assert!(status < 500, "{op:?} got a {status}: {body}");
    Ok((replayed, Answer { status, body }))
}

/// Each buyer holds exactly what the successful transfers moved to it minus what it retired, the
/// issuance account holds the rest, and the registry's retired total is what was retired.
async fn check_balances(
    client: &reqwest::Client,
    url: &str,
    buyers: &[String],
    answered: &BTreeMap<String, (Operation, Answer)>,
) {
    // Signed: the operations are summed in key order, not in the order they ran.
    let mut tradable: BTreeMap<&str, i64> = buyers.iter().map(|b| (b.as_str(), 0)).collect();
    let (mut transferred, mut retired) = (0, 0);
    for (op, _) in answered.values().filter(|(_, a)| a.status == 201) {
        let quantity = op.body["quantity"].as_i64().expect("quantity");
        if op.path == "/api/v1/transfers" {
            *tradable.get_mut(op.body["to"].as_str().expect("to")).expect("a buyer") += quantity;
            transferred += quantity;
        } else {
            *tradable.get_mut(op.body["from"].as_str().expect("from")).expect("a buyer") -= quantity;
            retired += quantity;
        }
    }
    tradable.insert("A000001", ISSUED as i64 - transferred);
    for (account, expected) in tradable {
        let body = get_json(client, &format!("{url}/api/v1/accounts/{account}")).await;
        assert_eq!(body["balances"]["tradable"], expected, "{account}: {body}");
    }
    let status = get_json(client, &format!("{url}/api/v1/status")).await;
    assert_eq!(status["supply"]["retired"], retired, "{status}");
    assert_eq!(status["supply"]["total"], ISSUED, "{status}");
}

async fn get_json(client: &reqwest::Client, url: &str) -> Value {
    client.get(url).send().await.expect("GET").json().await.expect("JSON")
}

fn verify(flags: &[OsString], key: &str, witness: &std::path::Path, cycle: u64, seed: u64) {
    let output =
        furrow().arg("verify").args(flags).args(["--key", key, "--witness"]).arg(witness).output().expect("verify");
    assert!(
        output.status.success(),
        "cycle {cycle} (seed {seed}): {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}
