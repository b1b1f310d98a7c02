//! The authorization matrix (issue #8): every operation of the OpenAPI document × every role ×
//! (own object, someone else's object, no token), against the real server. The expected outcome
//! of each operation is one row of `MATRIX`; an operation of the document without a row, or a row
//! without an operation, fails the test, so a new endpoint cannot ship unreviewed.
//!
//! A cell that should be refused must answer 401 (no token) or 403: zero unexpected successes. A
//! cell that should be allowed must not answer 401/403 (the domain may still refuse it, e.g. 409
//! for an empty account; authorization is what is tested here) and never 5xx. Every answer is also
//! scanned for the farmers' personal data, which only staff and the farmer itself may see.

use std::collections::BTreeSet;

use furrow_domain::sim::sales::example_pricing;
use furrow_domain::{ProjectCode, Role};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::lifecycle::{Actors, actors, enrol, farmer, ok, parcel, registered_project, report, square};

/// Who calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Anonymous,
    Admin,
    Operator,
    Verifier,
    Buyer,
    Participant,
}

/// Whose object the request names: the caller's own (its account, its enrolment) or someone
/// else's. Staff act for the program and own nothing; they are tried on someone else's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Whose {
    Own,
    Other,
}

const CELLS: &[(Caller, Whose)] = &[
    (Caller::Anonymous, Whose::Other),
    (Caller::Admin, Whose::Other),
    (Caller::Operator, Whose::Other),
    (Caller::Verifier, Whose::Other),
    (Caller::Buyer, Whose::Own),
    (Caller::Buyer, Whose::Other),
    (Caller::Participant, Whose::Own),
    (Caller::Participant, Whose::Other),
];

/// Who may call an operation.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// Anyone, without a token.
    Public,
    /// Tokens of these roles, whatever object they name.
    Roles(&'static [Role]),
    /// Tokens of the first roles (staff) on any object; of the second roles (holders) only on
    /// their own.
    Holder(&'static [Role], &'static [Role]),
}

use Role::{Admin, Buyer, Operator, Participant, Verifier};

const STAFF_READ: Rule = Rule::Roles(&[Admin, Operator]);
const OPERATOR: Rule = Rule::Roles(&[Operator]);
const HOLDER_MOVES: Rule = Rule::Holder(&[Operator], &[Buyer, Participant]);
/// Sales: the operator on any quote or sale, a buyer on its own (`authz::authorize_sales`).
const BUYER_MOVES: Rule = Rule::Holder(&[Operator], &[Buyer]);
/// Reads of quotes and sales: staff, and a buyer its own (the handlers' `may_see`).
const BUYER_READS: Rule = Rule::Holder(&[Admin, Operator], &[Buyer]);
/// Payout statements: staff, and a participant its own.
const PARTICIPANT_READS: Rule = Rule::Holder(&[Admin, Operator], &[Participant]);

/// The reviewed matrix: one row per operation of the OpenAPI document.
const MATRIX: &[(&str, Rule)] = &[
    ("GET /health", Rule::Public),
    ("GET /status", Rule::Public),
    ("GET /accounts", Rule::Public),
    ("POST /accounts", Rule::Roles(&[Admin, Operator])),
    ("GET /accounts/{id}", Rule::Public),
    ("GET /accounts/{id}/counterparties", Rule::Holder(&[Admin, Operator], &[Buyer, Participant])),
    ("POST /accounts/{id}/counterparties", HOLDER_MOVES),
    ("POST /accounts/{id}/counterparties/{counterparty}/approve", Rule::Roles(&[Admin, Operator])),
    ("POST /accounts/{id}/counterparties/{counterparty}/remove", HOLDER_MOVES),
    ("GET /applications", Rule::Public),
    ("GET /applications/{id}", Rule::Public),
    ("POST /applications/{id}/accept", OPERATOR),
    ("POST /applications/{id}/decline", OPERATOR),
    ("GET /batches", Rule::Public),
    // Known gap, reviewed: one operator can still issue directly, outside four-eyes issuance
    // (ARCHITECTURE.md, "What remains of issue #8").
    ("GET /batches/{id}", Rule::Public),
    ("GET /batches/{id}/labels", Rule::Public),
    ("GET /batches/{id}/ecology", Rule::Public),
    ("POST /batches/{id}/labels", OPERATOR),
    ("GET /blocks", Rule::Public),
    ("GET /cancellation-requests", STAFF_READ),
    ("GET /certificates/{id}", Rule::Public),
    ("GET /certificates/{id}/pdf", Rule::Public),
    ("POST /cancellation-requests/{id}/approve", OPERATOR),
    ("GET /cancellations", Rule::Public),
    ("POST /cancellations", OPERATOR),
    ("GET /cancellations/{id}", Rule::Public),
    ("GET /controls", Rule::Public),
    ("POST /controls", Rule::Roles(&[Admin])),
    ("GET /enrolments", Rule::Public),
    ("POST /enrolments", OPERATOR),
    ("GET /enrolments/{id}", Rule::Public),
    ("POST /enrolments/{id}/withdrawal", Rule::Holder(&[Operator], &[Participant])),
    ("POST /enrolments/{id}/withdrawal/decision", OPERATOR),
    ("POST /freezes", Rule::Roles(&[Admin, Operator])),
    ("GET /indicators", Rule::Public),
    ("GET /issuance-requests", Rule::Public),
    ("POST /issuance-requests", OPERATOR),
    ("GET /issuance-requests/{id}", Rule::Public),
    ("POST /issuance-requests/{id}/approve", OPERATOR),
    ("GET /log/bundle.tar", Rule::Public),
    ("GET /log/checkpoint", Rule::Public),
    ("GET /log/checkpoints", Rule::Public),
    ("GET /log/checkpoints/{size}", Rule::Public),
    ("GET /log/entries", Rule::Public),
    ("GET /log/entries/{index}", Rule::Public),
    ("GET /log/key", Rule::Public),
    ("GET /log/proofs/consistency", Rule::Public),
    ("GET /log/proofs/inclusion-by-hash/{leaf_hash}", Rule::Public),
    ("GET /log/proofs/inclusion/{index}", Rule::Public),
    ("GET /methodologies", Rule::Public),
    ("POST /methodologies", OPERATOR),
    ("GET /methodologies/{id}", Rule::Public),
    ("POST /methodologies/{id}/{action}", OPERATOR),
    ("GET /parcels", Rule::Public),
    ("GET /parcels/{id}", Rule::Public),
    ("GET /participants", Rule::Public),
    ("POST /participants", OPERATOR),
    ("GET /participants/{id}", Rule::Public),
    ("POST /participants/{id}/parcels", OPERATOR),
    ("GET /participants/{id}/statement", PARTICIPANT_READS),
    ("GET /participants/{id}/statement.csv", PARTICIPANT_READS),
    ("GET /pricing-inputs", Rule::Public),
    ("POST /pricing-inputs", OPERATOR),
    ("GET /projects", Rule::Public),
    ("POST /projects", OPERATOR),
    ("GET /projects/{code}", Rule::Public),
    ("GET /projects/{code}/ecology", Rule::Public),
    ("GET /projects/{code}/indicators/{name}", Rule::Public),
    ("GET /projects/{code}/indicators/{name}/chart.svg", Rule::Public),
    // A participant applies only as itself; staff apply on a farmer's behalf.
    ("POST /projects/{code}/applications", Rule::Holder(&[Operator], &[Participant])),
    ("POST /projects/{code}/participation", OPERATOR),
    // Tried with `submit`; the verifier-only `validate` is in `authz.rs`'s unit matrix.
    ("POST /projects/{code}/transitions", OPERATOR),
    ("POST /projects/{code}/verifier", OPERATOR),
    ("POST /quotes", BUYER_MOVES),
    // Saves nothing; any batch's price is public once quoted, so no object rule.
    ("POST /quotes/preview", Rule::Roles(&[Operator, Buyer])),
    ("GET /quotes/{id}", BUYER_READS),
    ("POST /quotes/{id}/accept", BUYER_MOVES),
    ("GET /reports", Rule::Public),
    ("POST /reports", OPERATOR),
    ("GET /reports/{id}", Rule::Public),
    ("GET /reports/{id}/explanation", Rule::Public),
    // Tried with `verify`, the verifier's action.
    ("POST /reports/{id}/{action}", Rule::Roles(&[Verifier])),
    ("GET /retirements", Rule::Public),
    ("POST /retirements", HOLDER_MOVES),
    ("GET /retirements/{id}", Rule::Public),
    ("GET /retirements/{id}/certificate", Rule::Public),
    ("GET /retirements/{id}/disclosure", Rule::Public),
    ("GET /retirements/{id}/proof", Rule::Public),
    ("GET /log/key-rotations", Rule::Public),
    ("POST /log/key-rotations", Rule::Roles(&[Admin])),
    ("POST /log/key-rotations/{id}/approve", Rule::Roles(&[Admin])),
    ("GET /reversals", Rule::Public),
    ("GET /role-requests", Rule::Roles(&[Admin])),
    ("POST /role-requests/{id}/approve", Rule::Roles(&[Admin])),
    ("POST /reversals", OPERATOR),
    ("POST /reversals/{id}/approve", OPERATOR),
    ("GET /sales", Rule::Roles(&[Admin, Operator, Buyer])),
    ("GET /sales/{id}", BUYER_READS),
    ("POST /sales/{id}/cancel", BUYER_MOVES),
    ("POST /sales/{id}/claim", BUYER_MOVES),
    ("POST /sales/{id}/expire", OPERATOR),
    ("POST /sales/{id}/notes", OPERATOR),
    ("POST /sales/{id}/payouts/{participant}/paid", OPERATOR),
    // Always 409 `no-refund` once authorized.
    ("POST /sales/{id}/refund", BUYER_MOVES),
    ("POST /sales/{id}/settle", OPERATOR),
    ("GET /serials/{serial}", Rule::Public),
    ("GET /security/events", Rule::Roles(&[Admin])),
    ("GET /tokens", Rule::Roles(&[Admin])),
    ("POST /tokens/{id}/revoke", Rule::Roles(&[Admin])),
    ("POST /transfers", HOLDER_MOVES),
    ("GET /users", Rule::Roles(&[Admin])),
    ("POST /users/{id}/role-requests", Rule::Roles(&[Admin])),
    ("GET /withdrawal-grounds", Rule::Public),
    ("POST /withdrawal-grounds", Rule::Roles(&[Admin, Operator])),
];

/// A farmer of the fixture and what only staff and the farmer may see of it.
struct Farmer {
    participant: String,
    account: String,
    parcel: String,
    enrolment: String,
    secrets: Vec<&'static str>,
}

struct World {
    app: TestApp,
    actors: Actors,
    admin: String,
    operator: String,
    verifier: String,
    participant: String,
    /// The participant token's farmer and another one.
    own: Farmer,
    other: Farmer,
    report: String,
    request: String,
    retirement: String,
    cancellation: String,
    /// The batch for sale, and the quotes and sales of the buyer (`own`, settled, with payouts to
    /// both farmers) and of the other buyer (`other`, escrowed).
    sale_batch: String,
    own_sale: (String, String),
    other_sale: (String, String),
}

/// A program with a registered project, two enrolled farmers, a verified report with a pending
/// issuance request, a retirement, a reversal's cancellation, a join application, a pending
/// cancellation request, a pending trusted counterparty, recorded pricing, and a sale of each buyer.
async fn world() -> World {
    let app = spawn_app().await;
    let a = actors(&app).await;
    registered_project(&app, &a).await;
    let (p1, acc1, l1) =
        farmer(&app, &a, "Sato Ichiro", vec![parcel("North paddy", "0.5", square(139.0, 37.9, 0.001))]).await;
    let (p2, acc2, l2) =
        farmer(&app, &a, "Suzuki Hanako", vec![parcel("South paddy", "0.6", square(139.01, 37.9, 0.001))]).await;
    let e1 = ok(&app, "/enrolments", &a.op_a, enrol(&l1[0], "2025-01-01", "2027-12-31")).await;
    let e2 = ok(&app, "/enrolments", &a.op_a, enrol(&l2[0], "2025-01-01", "2027-12-31")).await;
    let id = |v: &Value| v["id"].as_str().expect("id").to_owned();
    let drafted = ok(&app, "/reports", &a.op_a, report(&[&l1[0], &l2[0]], json!(10))).await;
    let n = id(&drafted);
    ok(&app, &format!("/reports/{n}/submit"), &a.op_a, json!({})).await;
    ok(&app, &format!("/reports/{n}/verify"), &a.verifier, json!({})).await;
    let request = id(&ok(&app, "/issuance-requests", &a.op_a, json!({"report": n})).await);
    let retired = ok(&app, "/retirements", &app.buyer.clone(), app.retire_body(json!({"quantity": 5}))).await;
    let retirement = retired["id"].as_str().expect("retirement id").to_owned();
    // Someone else's credits for the participant's "other" account and a pending cancellation.
    ok(&app, "/transfers", &a.op_a, json!({"from": app.buyer_account, "to": acc2, "quantity": 10})).await;
    ok(&app, "/cancellations", &a.op_a, json!({"from": acc2, "quantity": 1, "reason": "correction"})).await;
    let sale_batch;
    let cancellation = {
        let issued = ok(&app, &format!("/issuance-requests/{request}/approve"), &a.op_b, json!({})).await;
        sale_batch = issued["batch"].as_str().expect("batch").to_owned();
        let requested =
            ok(&app, "/reversals", &a.op_a, json!({"project": "P0001", "quantity": 1, "note": "flood"})).await;
        let approve = format!("/reversals/{}/approve", requested["id"].as_str().expect("reversal"));
        let reversed = ok(&app, &approve, &a.op_b, json!({})).await;
        reversed["cancellation"].as_str().expect("cancellation").to_owned()
    };
    // A second, pending request for the approve cell.
    let next = ok(&app, "/reports", &a.op_a, {
        let mut r = report(&[&l1[0]], json!(12));
        r["period"] = json!({"from": "2027-01-01", "to": "2027-12-31"});
        r
    })
    .await;
    let m = id(&next);
    ok(&app, &format!("/reports/{m}/submit"), &a.op_a, json!({})).await;
    ok(&app, &format!("/reports/{m}/verify"), &a.verifier, json!({})).await;
    let request = id(&ok(&app, "/issuance-requests", &a.op_a, json!({"report": m})).await);
    let open = json!({"open": true, "participation": {"opens": "2025-01-15", "starts": "2025-04-01", "conditions": "paddy owners"}});
    ok(&app, "/projects/P0001/participation", &a.op_a, open).await;
    let farm = json!({"farm": {"name": "Uonuma Organic Farm", "contact": "farm@example.jp"},
        "parcels": [parcel("East field", "1.2", square(139.05, 37.91, 0.001))]});
    ok(&app, "/projects/P0001/applications", &a.op_a, farm).await;
    ok(&app, &format!("/accounts/{acc1}/counterparties"), &a.op_a, json!({"counterparty": acc2})).await;
    ok(&app, &format!("/accounts/{acc2}/counterparties"), &a.op_a, json!({"counterparty": acc1})).await;
    // Sales of the issued batch: the buyer's own, settled (payouts owed to both farmers), and the
    // other buyer's, escrowed.
    for fact in example_pricing(ProjectCode(1)) {
        ok(&app, "/pricing-inputs", &a.op_a, crate::sales::fact_json(&fact)).await;
    }
    let sale = |buyer: &str| {
        let body = json!({"buyer": buyer, "batch": sale_batch, "quantity": 1, "currency": "JPY"});
        let (app, op) = (&app, a.op_a.clone());
        async move {
            let quote = id(&ok(app, "/quotes", &op, body).await);
            let sale = id(&ok(app, &format!("/quotes/{quote}/accept"), &op, json!({})).await);
            (quote, sale)
        }
    };
    let own_sale = sale(&app.buyer_account).await;
    let other_sale = sale(&app.other_buyer_account).await;
    ok(&app, &format!("/sales/{}/settle", own_sale.1), &a.op_a, crate::sales::settle_body(false)).await;
    let own = Farmer {
        participant: p1,
        account: acc1.clone(),
        parcel: l1[0].clone(),
        enrolment: id(&e1),
        secrets: vec!["Sato Ichiro", "North paddy"],
    };
    let other = Farmer {
        participant: p2,
        account: acc2,
        parcel: l2[0].clone(),
        enrolment: id(&e2),
        secrets: vec!["Suzuki Hanako", "South paddy"],
    };
    World {
        admin: app.token("matrix admin", Admin, &[]).await,
        operator: app.token("matrix operator", Operator, &[]).await,
        verifier: app.token("matrix verifier", Verifier, &[]).await,
        participant: app.token("matrix participant", Participant, &[&acc1]).await,
        app,
        actors: a,
        own,
        other,
        report: m,
        request,
        retirement,
        cancellation,
        sale_batch,
        own_sale,
        other_sale,
    }
}

impl World {
    fn token(&self, caller: Caller) -> Option<&str> {
        match caller {
            Caller::Anonymous => None,
            Caller::Admin => Some(&self.admin),
            Caller::Operator => Some(&self.operator),
            Caller::Verifier => Some(&self.verifier),
            Caller::Buyer => Some(&self.app.buyer),
            Caller::Participant => Some(&self.participant),
        }
    }

    /// The account a cell names: the buyer's or the farmer's own, or another holder's.
    fn account(&self, caller: Caller, whose: Whose) -> &str {
        match (caller, whose) {
            (Caller::Participant, Whose::Own) => &self.own.account,
            (Caller::Participant, Whose::Other) => &self.other.account,
            (_, Whose::Own) => &self.app.buyer_account,
            (_, Whose::Other) => &self.app.other_buyer_account,
        }
    }

    fn farmer(&self, caller: Caller, whose: Whose) -> &Farmer {
        if caller == Caller::Participant && whose == Whose::Own { &self.own } else { &self.other }
    }

    /// The concrete request for one cell: its path and, for a POST, a body that parses, so that
    /// the request reaches authorization.
    fn request(&self, key: &str, caller: Caller, whose: Whose) -> (String, Option<Value>) {
        let account = self.account(caller, whose).to_owned();
        let farmer = self.farmer(caller, whose);
        let counterparty = if account == self.own.account { &self.other.account } else { &self.own.account };
        // Quotes and sales are a buyer's; nobody else owns one. Payouts are the operator's to mark
        // paid, on the settled sale (the buyer's own), so that the allowed cell really pays one.
        let pair = if (caller, whose) == (Caller::Buyer, Whose::Own) { &self.own_sale } else { &self.other_sale };
        let quote = &pair.0;
        let sale = if key.contains("/payouts/") { &self.own_sale.1 } else { &pair.1 };
        let (method, template) = key.split_once(' ').expect("METHOD path");
        let path = template
            .replace(
                "/accounts/{id}/counterparties/{counterparty}",
                &format!("/accounts/{account}/counterparties/{counterparty}"),
            )
            .replace("/accounts/{id}", &format!("/accounts/{account}"))
            .replace("/applications/{id}", "/applications/J000001")
            .replace("/batches/{id}", "/batches/B000001")
            .replace("/cancellation-requests/{id}", "/cancellation-requests/1")
            .replace("/cancellations/{id}", &format!("/cancellations/{}", self.cancellation))
            .replace("/certificates/{id}", &format!("/certificates/AGR-CERT-{}", self.retirement))
            .replace("/enrolments/{id}", &format!("/enrolments/{}", farmer.enrolment))
            .replace("/issuance-requests/{id}", &format!("/issuance-requests/{}", self.request))
            .replace("/log/checkpoints/{size}", "/log/checkpoints/1")
            .replace("{index}", "0")
            .replace("{leaf_hash}", &"00".repeat(32))
            .replace("/log/proofs/consistency", "/log/proofs/consistency?from=1&to=2")
            .replace("/methodologies/{id}/{action}", "/methodologies/M0001/deprecate")
            .replace("/methodologies/{id}", "/methodologies/M0001")
            .replace("/parcels/{id}", &format!("/parcels/{}", farmer.parcel))
            .replace("/participants/{id}", &format!("/participants/{}", farmer.participant))
            .replace("{code}", "P0001")
            .replace("/indicators/{name}", "/indicators/frog_count")
            .replace("/reports/{id}/{action}", &format!("/reports/{}/verify", self.report))
            .replace("/reports/{id}", &format!("/reports/{}", self.report))
            .replace("/retirements/{id}", &format!("/retirements/{}", self.retirement))
            .replace("/reversals/{id}", "/reversals/X000001")
            .replace("/log/key-rotations/{id}", "/log/key-rotations/K999999")
            .replace("/quotes/{id}", &format!("/quotes/{quote}"))
            .replace("/sales/{id}", &format!("/sales/{sale}"))
            .replace("{participant}", &self.own.participant)
            .replace("{serial}", "1")
            .replace("/tokens/{id}", "/tokens/999")
            .replace("/users/{id}", "/users/999")
            .replace("/role-requests/{id}", "/role-requests/999");
        assert!(!path.contains('{'), "no value for a parameter of {key}: add one to World::request");
        if method == "GET" {
            return (path, None);
        }
        let period = json!({"from": "2025-01-01", "to": "2027-12-31"});
        let body = match template {
            "/accounts" => json!({"kind": "buyer", "name": "Matrix K.K."}),
            "/accounts/{id}/counterparties" => json!({"counterparty": counterparty}),
            "/applications/{id}/accept" => json!({"contract_period": period}),
            "/batches/{id}/labels" => json!({"kind": "CORSIA", "issuer": "ICAO", "valid": period}),
            "/cancellations" => json!({"from": account, "quantity": 1, "reason": "correction"}),
            "/controls" => json!({"transfer_limit": null, "trusted_only": false, "trusted_delay_seconds": 60}),
            "/enrolments" => enrol(&farmer.parcel, "2025-01-01", "2027-12-31"),
            "/enrolments/{id}/withdrawal" => json!({"ground": "illness"}),
            "/enrolments/{id}/withdrawal/decision" => json!({"approve": false, "reason": "matrix"}),
            "/freezes" => json!({"account": account, "reason": "matrix", "frozen": false}),
            "/issuance-requests" => json!({"report": self.report}),
            "/methodologies" => crate::lifecycle::methodology(),
            "/participants" => {
                json!({"person": {"name": "Matrix Farmer", "contact": "-", "address": "-"}, "prefecture": "Niigata"})
            }
            "/participants/{id}/parcels" => parcel("Matrix field", "0.1", square(140.0, 38.0, 0.001)),
            "/projects" => json!({"name": "Matrix", "methodology": "M0001", "country": "JP", "region": "JP-15",
                "crediting_period": period}),
            "/projects/{code}/applications" => json!({"applicant": farmer.participant,
                "farm": {"name": "Matrix Farm", "contact": "-"}, "parcels": [parcel("Matrix", "0.1", square(141.0, 38.0, 0.001))]}),
            "/projects/{code}/participation" => json!({"open": false}),
            "/projects/{code}/transitions" => json!({"action": "submit"}),
            "/projects/{code}/verifier" => json!({"verifier": "verifier"}),
            "/reports" => report(&[&farmer.parcel], json!(10)),
            "/retirements" => {
                let mut body = self.app.retire_body(json!({"quantity": 1}));
                body["from"] = account.into();
                body
            }
            "/reversals" => json!({"project": "P0001", "quantity": 1, "note": "matrix"}),
            "/log/key-rotations" => json!({"reason": "matrix"}),
            "/transfers" => json!({"from": account, "to": counterparty, "quantity": 1}),
            "/users/{id}/role-requests" => json!({"role": "verifier"}),
            "/withdrawal-grounds" => json!({"grounds": ["illness", "natural disaster"]}),
            "/pricing-inputs" => {
                json!({"kind": "commission", "value": "18", "source": "matrix", "as_of": "2026-10-01"})
            }
            "/quotes" => json!({"buyer": account, "batch": self.sale_batch, "quantity": 1, "currency": "JPY"}),
            "/quotes/preview" => json!({"batch": self.sale_batch, "quantity": 1, "currency": "JPY"}),
            "/sales/{id}/cancel" | "/sales/{id}/refund" => json!({"reason": "matrix"}),
            "/sales/{id}/notes" => json!({"note": "matrix"}),
            "/sales/{id}/payouts/{participant}/paid" => json!({"reference": "BANK-MATRIX"}),
            "/sales/{id}/settle" => crate::sales::settle_body(false),
            "/sales/{id}/claim" => {
                let mut body = crate::sales::settle_body(false);
                body.as_object_mut().expect("object").retain(|k, _| k != "payment_reference" && k != "confidential");
                body
            }
            _ => json!({}),
        };
        (path, Some(body))
    }
}

fn allowed(rule: Rule, caller: Caller, whose: Whose) -> bool {
    let role = match caller {
        Caller::Anonymous => return matches!(rule, Rule::Public),
        Caller::Admin => Admin,
        Caller::Operator => Operator,
        Caller::Verifier => Verifier,
        Caller::Buyer => Buyer,
        Caller::Participant => Participant,
    };
    match rule {
        Rule::Public => true,
        Rule::Roles(roles) => roles.contains(&role),
        Rule::Holder(staff, holders) => staff.contains(&role) || (holders.contains(&role) && whose == Whose::Own),
    }
}

/// The operations of the OpenAPI document, as `METHOD /path`.
fn operations(doc: &Value) -> BTreeSet<String> {
    let mut all = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                all.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    all
}

#[tokio::test]
async fn every_endpoint_every_role_own_and_other_objects() {
    let w = world().await;
    let doc = w.app.get_ok("/openapi.json").await;
    let documented = operations(&doc);
    let reviewed: BTreeSet<String> = MATRIX.iter().map(|(k, _)| (*k).to_owned()).collect();
    let missing: Vec<_> = documented.difference(&reviewed).collect();
    assert!(missing.is_empty(), "operations without a row in the authorization matrix: {missing:?}");
    let stale: Vec<_> = reviewed.difference(&documented).collect();
    assert!(stale.is_empty(), "matrix rows for operations the API does not have: {stale:?}");

    let mut failures = Vec::new();
    // Reads first, so that no allowed write changes what a later read sees.
    let ordered =
        MATRIX.iter().filter(|(k, _)| k.starts_with("GET")).chain(MATRIX.iter().filter(|(k, _)| !k.starts_with("GET")));
    for (key, rule) in ordered {
        for &(caller, whose) in CELLS {
            let (path, body) = w.request(key, caller, whose);
            let url = format!("{}{path}", w.app.url);
            let mut request = match &body {
                None => w.app.client.get(&url),
                Some(b) => w.app.client.post(&url).header("content-type", "application/json").body(b.to_string()),
            };
            if let Some(token) = w.token(caller) {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.expect("request");
            let status = response.status().as_u16();
            let text = response.text().await.unwrap_or_default();
            let expected = allowed(*rule, caller, whose);
            let cell = format!(
                "{key} as {caller:?} on {whose:?} ({path}): {status} {}",
                text.chars().take(200).collect::<String>()
            );
            match (expected, status) {
                (_, 500..) => failures.push(format!("server error: {cell}")),
                (true, 401 | 403) => failures.push(format!("refused, should be allowed: {cell}")),
                (false, 401) if caller == Caller::Anonymous => {}
                (false, 403) if caller != Caller::Anonymous => {}
                (false, _) => failures.push(format!("UNEXPECTED SUCCESS or wrong refusal: {cell}")),
                (true, _) => {}
            }
            // Personal data: staff see every farmer's, a farmer its own, nobody else any.
            for farmer in [&w.own, &w.other] {
                let staff = matches!(caller, Caller::Admin | Caller::Operator | Caller::Verifier);
                let itself = caller == Caller::Participant && std::ptr::eq(farmer, &w.own);
                if staff || itself {
                    continue;
                }
                for secret in &farmer.secrets {
                    if text.contains(secret) {
                        failures.push(format!("personal data {secret:?} shown: {cell}"));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} cells failed:\n{}", failures.len(), failures.join("\n"));
    let _ = &w.actors;
}
