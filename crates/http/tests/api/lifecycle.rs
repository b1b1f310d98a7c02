//! The program lifecycle through the real server: methodology → project → participants, parcels and
//! enrolments → monitoring report → verification → four-eyes issuance → reversal → withdrawal →
//! labels, and a join application. Every refusal of issue #5 (wrong role, wrong state,
//! self-approval, double issuance, overlapping parcels by same id / other id / other farmer, an
//! unrecognised withdrawal ground, schema-invalid monitoring data) answers a 4xx problem+json and
//! leaves the log and every lifecycle read unchanged. Personal data is shown to staff and to the
//! participant itself, never to the public.

use base64::Engine;
use furrow_domain::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, spawn_app};

pub struct Actors {
    pub op_a: String,
    pub op_b: String,
    pub verifier: String,
}

/// A square field of `side` degrees with its south-west corner at (lon, lat), as GeoJSON.
pub fn square(lon: f64, lat: f64, side: f64) -> Value {
    json!({"type": "Polygon", "coordinates": [[[lon, lat], [lon + side, lat], [lon + side, lat + side], [lon, lat + side], [lon, lat]]]})
}

pub fn parcel(name: &str, area: &str, geometry: Value) -> Value {
    json!({"name": name, "area_ha": area, "prefecture": "Niigata", "municipality": "Minamiuonuma", "geometry": geometry})
}

/// What a refused request must leave unchanged: the log's size and every lifecycle read.
async fn lifecycle_snapshot(app: &TestApp, op: &str) -> Value {
    let mut all = json!({"status": app.get_ok("/status").await, "blocks": app.get_ok("/blocks?limit=500").await});
    for list in [
        "methodologies",
        "projects",
        "applications",
        "participants",
        "parcels",
        "enrolments",
        "reports",
        "issuance-requests",
        "reversals",
        "withdrawal-grounds",
        "batches/B000001/labels",
    ] {
        all[list] = app.get_as(&format!("/{list}"), Some(op)).await;
    }
    all
}

/// Posts a request that must be refused with `status` and problem `code`, changing nothing.
async fn refused(app: &TestApp, a: &Actors, path: &str, token: &str, body: Value, status: u16, code: &str) -> Value {
    let before = lifecycle_snapshot(app, &a.op_a).await;
    let (got, problem) = app.post(path, token, body).await;
    assert_problem(got, &problem, status, code);
    assert_eq!(lifecycle_snapshot(app, &a.op_a).await, before, "a refused POST {path} ({code}) left a trace");
    problem
}

pub async fn ok(app: &TestApp, path: &str, token: &str, body: Value) -> Value {
    app.post_ok(path, token, body).await
}

pub fn methodology() -> Value {
    json!({
        "code": "AG-005", "version": "v1.0", "title": "Extended mid-season drainage in paddy rice",
        "engine": "linear-factor",
        "parameters": {"version": "2025-1", "values": {"per_ha": "4.2"}},
        "schema": [
            {"name": "drainage_extension_days", "kind": "integer", "unit": "d", "min": "7", "max": "60", "required": true},
            {"name": "straw_incorporated", "kind": "flag"}
        ],
        "deductions": {"uncertainty": "10", "leakage": "2", "buffer": "5"},
        "gwp": "AR5", "indicators": ["frog_count"]
    })
}

pub fn report(parcels: &[&str], days: Value) -> Value {
    let activity: Vec<Value> =
        parcels.iter().map(|p| json!({"parcel": p, "values": {"drainage_extension_days": days.clone()}})).collect();
    json!({
        "project": "P0001", "period": {"from": "2026-01-01", "to": "2026-12-31"},
        "activity": activity,
        "evidence": [{"name": "drainage-log.pdf", "sha256": "ab".repeat(32)}],
        "indicators": [{"name": "frog_count", "value": "31", "unit": "per survey"}]
    })
}

/// A registered project P0001 under approved AG-005 v1.0, with withdrawal grounds.
pub async fn registered_project(app: &TestApp, a: &Actors) {
    ok(app, "/withdrawal-grounds", &a.op_a, json!({"grounds": ["illness", "natural disaster"]})).await;
    refused(app, a, "/methodologies", &a.verifier, methodology(), 403, "forbidden").await;
    let m = ok(app, "/methodologies", &a.op_a, methodology()).await;
    assert_eq!((m["id"].as_str(), m["status"].as_str()), (Some("M0001"), Some("draft")));
    ok(app, "/methodologies/M0001/approve", &a.op_b, json!({})).await;
    refused(app, a, "/methodologies", &a.op_a, methodology(), 409, "duplicate").await;
    let project = json!({"name": "Uonuma mid-season drainage", "methodology": "M0001", "country": "JP", "region": "JP-15",
        "crediting_period": {"from": "2024-01-01", "to": "2030-12-31"}});
    ok(app, "/projects", &a.op_a, project).await;
    let go = |action: &str| json!({"action": action});
    refused(app, a, "/projects/P0001/transitions", &a.op_a, go("register"), 409, "wrong-state").await;
    ok(app, "/projects/P0001/transitions", &a.op_a, go("submit")).await;
    refused(app, a, "/projects/P0001/transitions", &a.op_a, go("validate"), 403, "forbidden").await;
    // A verifier acts only on the projects an operator assigned to it.
    refused(app, a, "/projects/P0001/transitions", &a.verifier, go("validate"), 403, "not-assigned").await;
    let assign = |verifier: &str| json!({"verifier": verifier});
    refused(app, a, "/projects/P0001/verifier", &a.verifier, assign("verifier"), 403, "forbidden").await;
    ok(app, "/projects/P0001/verifier", &a.op_a, assign("another verifier")).await;
    refused(app, a, "/projects/P0001/transitions", &a.verifier, go("validate"), 403, "not-assigned").await;
    let rejection = json!({"action": "reject", "reason": "not mine to reject"});
    refused(app, a, "/projects/P0001/transitions", &a.verifier, rejection, 403, "forbidden").await;
    ok(app, "/projects/P0001/verifier", &a.op_a, assign("verifier")).await;
    assert_eq!(app.get_ok("/projects/P0001").await["verifier"], "verifier");
    ok(app, "/projects/P0001/transitions", &a.verifier, go("validate")).await;
    let done = ok(app, "/projects/P0001/transitions", &a.op_b, go("register")).await;
    assert_eq!(done["status"], "registered");
    let p = app.get_ok("/projects/P0001").await;
    let steps: Vec<(&str, &str)> = p["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|t| (t["status"].as_str().unwrap_or(""), t["by"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        steps,
        [
            ("draft", "test operator"),
            ("submitted", "test operator"),
            ("validated", "verifier"),
            ("registered", "operator b")
        ]
    );
}

pub async fn actors(app: &TestApp) -> Actors {
    Actors {
        op_a: app.operator.clone(),
        op_b: app.token("operator b", Role::Operator, &[]).await,
        verifier: app.token("verifier", Role::Verifier, &[]).await,
    }
}

/// Registers a farmer with parcels; returns the participant, its account and the parcel ids.
pub async fn farmer(app: &TestApp, a: &Actors, name: &str, parcels: Vec<Value>) -> (String, String, Vec<String>) {
    let person = json!({"person": {"name": name, "contact": "025-000-0000", "address": "Minamiuonuma"}, "prefecture": "Niigata"});
    let registered = ok(app, "/participants", &a.op_a, person).await;
    let id = registered["id"].as_str().expect("id").to_owned();
    let account = app.get_ok(&format!("/participants/{id}")).await["account"].as_str().expect("account").to_owned();
    let mut ids = Vec::new();
    for p in parcels {
        let r = ok(app, &format!("/participants/{id}/parcels"), &a.op_a, p).await;
        ids.push(r["id"].as_str().expect("id").to_owned());
    }
    (id, account, ids)
}

pub fn enrol(parcel: &str, from: &str, to: &str) -> Value {
    json!({"project": "P0001", "parcel": parcel, "contract_period": {"from": from, "to": to}})
}

#[tokio::test]
async fn the_whole_lifecycle_and_every_refusal() {
    let app = spawn_app().await;
    let a = actors(&app).await;
    registered_project(&app, &a).await;

    // Farmer A's field; farmer B registers the same field under another id, a field half over
    // it, and its neighbour.
    let (f1, account1, p1) =
        farmer(&app, &a, "Sato Ichiro", vec![parcel("North paddy", "0.5", square(139.0, 37.9, 0.001))]).await;
    let (_, _, p2) = farmer(
        &app,
        &a,
        "Suzuki Hanako",
        vec![
            parcel("Same field", "0.5", square(139.0, 37.9, 0.001)),
            parcel("Half over", "0.5", square(139.0005, 37.9, 0.001)),
            parcel("Neighbour", "0.6", square(139.001, 37.9, 0.001)),
        ],
    )
    .await;
    let buyer = app.buyer.clone();
    refused(&app, &a, "/enrolments", &buyer, enrol(&p1[0], "2025-01-01", "2027-12-31"), 403, "forbidden").await;
    ok(&app, "/enrolments", &a.op_a, enrol(&p1[0], "2025-01-01", "2027-12-31")).await;
    for (parcel, why) in [(&p1[0], "same id"), (&p2[0], "another id, another farmer"), (&p2[1], "half of it")] {
        let problem =
            refused(&app, &a, "/enrolments", &a.op_a, enrol(parcel, "2026-01-01", "2026-12-31"), 409, "parcel-overlap")
                .await;
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(detail.contains("L000001") && detail.contains("E000001"), "{why}: names the conflict: {detail}");
    }
    ok(&app, "/enrolments", &a.op_a, enrol(&p2[2], "2025-01-01", "2027-12-31")).await;

    // Monitoring data is validated against the methodology's schema.
    let parcels = [p1[0].as_str(), p2[2].as_str()];
    let problem = refused(&app, &a, "/reports", &a.op_a, report(&parcels, json!(3)), 422, "schema-invalid").await;
    assert!(problem["detail"].as_str().unwrap_or_default().contains("drainage_extension_days"), "{problem}");
    refused(&app, &a, "/reports", &a.op_a, report(&parcels, json!("seven")), 422, "invalid-request").await;
    let drafted = ok(&app, "/reports", &a.op_a, report(&parcels, json!(10))).await;
    let n = drafted["id"].as_str().expect("report id").to_owned();
    refused(&app, &a, &format!("/reports/{n}/verify"), &a.verifier, json!({}), 409, "wrong-state").await;
    ok(&app, &format!("/reports/{n}/submit"), &a.op_a, json!({})).await;
    refused(&app, &a, &format!("/reports/{n}/verify"), &a.op_a, json!({}), 403, "forbidden").await;
    ok(&app, &format!("/reports/{n}/verify"), &a.verifier, json!({})).await;
    let verified = app.get_ok(&format!("/reports/{n}")).await;
    let q = &verified["quantification"];
    assert_eq!((q["engine"].as_str(), q["gross"].as_str()), (Some("linear-factor"), Some("4.62")), "{verified}");
    assert_eq!(q["inputs_hash"].as_str().map(str::len), Some(64));

    // Four-eyes issuance.
    let requested =
        ok(&app, "/issuance-requests", &a.op_a, json!({"report": n, "labels": ["J-Credit-eligible"]})).await;
    let i = requested["id"].as_str().expect("request id").to_owned();
    let approve = format!("/issuance-requests/{i}/approve");
    refused(&app, &a, &approve, &a.op_a, json!({}), 403, "self-approval").await;
    refused(&app, &a, &approve, &a.verifier, json!({}), 403, "forbidden").await;
    let approved = ok(&app, &approve, &a.op_b, json!({})).await;
    let batch = approved["batch"].as_str().expect("a batch").to_owned();
    let b = app.get_ok(&format!("/batches/{batch}")).await;
    // floor(4.07…) = 4 credits, of which 5 % rounded up = 1 goes to the buffer pool.
    let issued = (b["issued"].as_u64(), b["buffer_contribution"].as_u64(), b["supply"]["tradable"].as_u64());
    assert_eq!(
        (issued, b["project"].as_str(), b["vintage"].as_u64()),
        ((Some(4), Some(1), Some(3)), Some("P0001"), Some(2026)),
        "{b}"
    );
    let origin = &b["origin"];
    assert_eq!(
        (origin["report"].as_str(), origin["methodology_version"].as_str()),
        (Some(n.as_str()), Some("v1.0")),
        "{b}"
    );
    assert_eq!(
        (origin["requested_by"].as_str(), origin["approved_by"].as_str()),
        (Some("test operator"), Some("operator b"))
    );
    let shares: Vec<(&str, &str)> = origin["contributions"]
        .as_array()
        .expect("contributions")
        .iter()
        .map(|c| (c["parcel"].as_str().unwrap_or(""), c["participant"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        shares,
        [(p1[0].as_str(), f1.as_str()), (p2[2].as_str(), "F000002")],
        "per-parcel contributions, for payouts"
    );
    refused(&app, &a, &approve, &a.op_b, json!({}), 409, "report-already-issued").await;
    refused(&app, &a, "/issuance-requests", &a.op_b, json!({"report": n}), 409, "report-already-issued").await;

    // A reversal, four-eyes: requested by one operator, approved by another, it then cancels from
    // the buffer pool.
    let reversal = json!({"project": "P0001", "quantity": 1, "note": "levee breach flooded the field"});
    let requested = ok(&app, "/reversals", &a.op_a, reversal).await;
    assert_eq!(requested["status"], "pending", "{requested}");
    let reversal_id = requested["id"].as_str().expect("reversal id").to_owned();
    let approve_reversal = format!("/reversals/{reversal_id}/approve");
    refused(&app, &a, &approve_reversal, &a.op_a, json!({}), 403, "four-eyes").await;
    refused(&app, &a, &approve_reversal, &a.verifier, json!({}), 403, "forbidden").await;
    let reversed = ok(&app, &approve_reversal, &a.op_b, json!({})).await;
    refused(&app, &a, &approve_reversal, &a.op_b, json!({}), 409, "wrong-state").await;
    let listed = app.get_ok("/reversals").await;
    assert_eq!(listed["items"][0]["approved_by"], "operator b", "{listed}");
    let cancellation = app.get_ok(&format!("/cancellations/{}", reversed["cancellation"].as_str().expect("id"))).await;
    assert_eq!(
        (cancellation["reason"].as_str(), cancellation["account"].as_str()),
        (Some("reversal_compensation"), Some("A000002"))
    );

    // Withdrawal, requested by the participant itself.
    let farmer_token = app.token("sato", Role::Participant, &[&account1]).await;
    let other_farmer = app.token("stranger", Role::Participant, &[&app.buyer_account.clone()]).await;
    let withdraw = "/enrolments/E000001/withdrawal";
    refused(&app, &a, withdraw, &other_farmer, json!({"ground": "illness"}), 403, "forbidden").await;
    refused(
        &app,
        &a,
        withdraw,
        &farmer_token,
        json!({"ground": "better offer"}),
        422,
        "unrecognised-withdrawal-ground",
    )
    .await;
    ok(&app, withdraw, &farmer_token, json!({"ground": "illness", "note": "back injury"})).await;
    let decide = format!("{withdraw}/decision");
    refused(&app, &a, &decide, &farmer_token, json!({"approve": true, "effective": "2026-04-01"}), 403, "forbidden")
        .await;
    ok(&app, &decide, &a.op_b, json!({"approve": true, "effective": "2026-04-01"})).await;
    let e1 = app.get_ok("/enrolments/E000001").await;
    assert_eq!(
        (e1["status"].as_str(), e1["withdrawal"]["effective"].as_str()),
        (Some("withdrawn"), Some("2026-04-01"))
    );
    assert_eq!(e1["history"].as_array().map(Vec::len), Some(3), "history is kept");
    assert!(e1["withdrawal"].get("note").is_none(), "the participant's note is personal data: {e1}");
    let e1_own = app.get_as("/enrolments/E000001", Some(&farmer_token)).await;
    assert_eq!(e1_own["withdrawal"]["note"], "back injury");

    // Lists filter by project, state and participant.
    let ids = |v: Value| -> Vec<String> {
        v["items"].as_array().expect("items").iter().filter_map(|i| i["id"].as_str().map(str::to_owned)).collect()
    };
    assert_eq!(ids(app.get_ok("/enrolments?status=withdrawn").await), ["E000001"]);
    assert_eq!(ids(app.get_ok(&format!("/enrolments?participant={f1}&project=P0001")).await), ["E000001"]);
    assert_eq!(ids(app.get_ok("/reports?project=P0001&status=verified").await), [n.as_str()]);
    assert_eq!(ids(app.get_ok("/parcels?participant=F000002").await).len(), 3);
    assert_eq!(ids(app.get_ok("/issuance-requests?status=pending").await).len(), 0);
    for bad in
        ["/enrolments?status=bogus", "/projects?participant=F000001", "/reports?project=P1x", "/parcels?colour=red"]
    {
        let (status, problem) = app.get(bad).await;
        assert_problem(status, &problem, 400, "invalid-query");
    }

    // Labels.
    let label = json!({"kind": "ICVCM-CCP", "issuer": "ICVCM", "valid": {"from": "2026-01-01", "to": "2030-12-31"}});
    ok(&app, &format!("/batches/{batch}/labels"), &a.op_a, label.clone()).await;
    refused(&app, &a, &format!("/batches/{batch}/labels"), &a.op_a, label, 409, "duplicate").await;

    // Personal data: the public sees a pseudonym and a grid cell; staff and the farmer see more.
    let public = app.get_ok(&format!("/participants/{f1}")).await;
    assert!(
        public.get("person").is_none() && public["pseudonym"].as_str().is_some_and(|p| p.starts_with("Participant"))
    );
    let own = app.get_as(&format!("/participants/{f1}"), Some(&farmer_token)).await;
    assert_eq!(own["person"]["name"], "Sato Ichiro");
    let other = app.get_as(&format!("/participants/{f1}"), Some(&other_farmer)).await;
    assert!(other.get("person").is_none());
    let staff = app.get_as(&format!("/parcels/{}", p1[0]), Some(&a.op_a)).await;
    assert_eq!(staff["geometry"]["type"], "Polygon");
    let parcel_public = app.get_ok(&format!("/parcels/{}", p1[0])).await;
    assert!(parcel_public.get("geometry").is_none() && parcel_public.get("name").is_none());
    assert_eq!(parcel_public["grid_cell"], "37.9N 139.0E");
    let log = app.get_ok("/log/entries?limit=500").await;
    for entry in log["items"].as_array().expect("items") {
        let bytes =
            base64::engine::general_purpose::STANDARD.decode(entry["entry"].as_str().expect("entry")).expect("b64");
        for secret in ["Sato Ichiro", "Suzuki Hanako", "025-000-0000", "North paddy", "back injury"] {
            assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "{secret} in a public entry");
        }
    }
}

#[tokio::test]
async fn farmers_join_through_applications() {
    let app = spawn_app().await;
    let a = actors(&app).await;
    registered_project(&app, &a).await;
    let (_, _, p1) =
        farmer(&app, &a, "Sato Ichiro", vec![parcel("North paddy", "0.5", square(139.0, 37.9, 0.001))]).await;
    ok(&app, "/enrolments", &a.op_a, enrol(&p1[0], "2025-01-01", "2027-12-31")).await;
    let application = |parcels: Vec<Value>| json!({"farm": {"name": "Uonuma Organic Farm", "contact": "farm@example.jp"}, "parcels": parcels});
    let fresh = || {
        vec![parcel("East", "1.2", square(139.01, 37.91, 0.001)), parcel("West", "0.8", square(139.02, 37.91, 0.001))]
    };
    refused(&app, &a, "/projects/P0001/applications", &a.op_a, application(fresh()), 409, "wrong-state").await;
    let open = json!({"open": true, "participation": {"opens": "2025-01-15", "starts": "2025-04-01", "conditions": "paddy owners in Uonuma"}});
    ok(&app, "/projects/P0001/participation", &a.op_a, open).await;
    assert_eq!(app.get_ok("/projects/P0001").await["participation"]["starts"], "2025-04-01");

    // An application naming an enrolled field cannot be accepted; it is declined with a reason.
    let overlapping = vec![parcel("Same as Sato's", "0.5", square(139.0, 37.9, 0.001))];
    ok(&app, "/projects/P0001/applications", &a.op_a, application(overlapping)).await;
    let accept = json!({"contract_period": {"from": "2025-04-01", "to": "2027-12-31"}});
    refused(&app, &a, "/applications/J000001/accept", &a.op_a, accept.clone(), 409, "parcel-overlap").await;
    ok(&app, "/applications/J000001/decline", &a.op_a, json!({"reason": "the field is already enrolled"})).await;
    let declined = app.get_as("/applications/J000001", Some(&a.op_a)).await;
    assert_eq!(declined["status"], "declined");
    assert_eq!(declined["history"][1]["reason"], "the field is already enrolled", "the applicant is told why");

    ok(&app, "/projects/P0001/applications", &a.op_a, application(fresh())).await;
    let public = app.get_ok("/applications/J000002").await;
    assert!(public.get("farm").is_none() && public["area_ha"] == "2.0", "{public}");
    let accepted = ok(&app, "/applications/J000002/accept", &a.op_a, accept.clone()).await;
    assert_eq!(accepted["status"], "accepted");
    let kinds: Vec<&str> =
        accepted["entries"].as_array().expect("entries").iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(
        kinds,
        [
            "account_opened",
            "participant_registered",
            "parcel_registered",
            "enrolled",
            "parcel_registered",
            "enrolled",
            "application_decided"
        ]
    );
    refused(&app, &a, "/applications/J000002/accept", &a.op_a, accept, 409, "wrong-state").await;
    let staff = app.get_as("/applications/J000002", Some(&a.op_a)).await;
    assert_eq!(staff["farm"]["name"], "Uonuma Organic Farm");
    assert_eq!(staff["participant"], "F000002");
}

#[tokio::test]
async fn lifecycle_posts_are_idempotent_and_bad_input_is_a_problem() {
    let app = spawn_app().await;
    let a = actors(&app).await;
    registered_project(&app, &a).await;
    let mut next_version = methodology();
    next_version["version"] = "v1.1".into();
    let body = next_version.to_string();
    let first = app.post_raw("/methodologies", &a.op_a, &body, Some("draft-ag005")).await;
    assert_eq!(first.status().as_u16(), 201);
    let first: Value = first.json().await.expect("json");
    let again = app.post_raw("/methodologies", &a.op_a, &body, Some("draft-ag005")).await;
    assert_eq!(again.status().as_u16(), 201);
    assert_eq!(again.headers().get("idempotent-replayed").and_then(|v| v.to_str().ok()), Some("true"));
    assert_eq!(again.json::<Value>().await.expect("json"), first, "a replay answers the first result");
    assert_eq!(
        app.get_ok("/methodologies").await["items"].as_array().map(Vec::len),
        Some(2),
        "and drafts nothing more"
    );

    let (f1, _, _) = farmer(&app, &a, "Sato Ichiro", vec![]).await;
    let parcels = format!("/participants/{f1}/parcels");
    let cases = [
        (parcel("x", "0.5", json!({"type": "Point", "coordinates": [139.0, 37.9]})), 422, "invalid-geometry"),
        (
            parcel(
                "x",
                "0.5",
                json!({"type": "Polygon", "coordinates": [[[139.0, 37.9], [139.1, 37.9], [139.1, 38.0]]]}),
            ),
            422,
            "invalid-geometry",
        ),
        (parcel("x", "0.5", json!({"type": "Polygon", "coordinates": "nonsense"})), 422, "invalid-geometry"),
        (parcel("x", "0.5", square(200.0, 37.9, 0.001)), 422, "invalid-geometry"),
        (parcel("x", "lots", square(139.0, 37.9, 0.001)), 422, "invalid-request"),
        (parcel("x", "-1", square(139.0, 37.9, 0.001)), 422, "invalid-command"),
        (parcel("x", "99999999999999999999999999999999", square(139.0, 37.9, 0.001)), 422, "invalid-request"),
        (json!({"area_ha": "1"}), 422, "invalid-body"),
    ];
    for (body, status, code) in cases {
        refused(&app, &a, &parcels, &a.op_a, body, status, code).await;
    }
    let nested = json!({"project": "P0001", "period": {"from": "2026-01-01", "to": "2026-12-31"},
        "activity": [{"parcel": "L000001", "values": {"drainage_extension_days": {"deep": 1}}}]});
    refused(&app, &a, "/reports", &a.op_a, nested, 422, "invalid-request").await;
    refused(&app, &a, "/methodologies/M0001/frobnicate", &a.op_a, json!({}), 404, "not-found").await;
    refused(&app, &a, "/projects/P0001/transitions", &a.op_a, json!({"action": "teleport"}), 422, "invalid-request")
        .await;
    refused(&app, &a, "/issuance-requests/I999999/approve", &a.op_b, json!({}), 422, "unknown-object").await;
    let (status, problem) = app.post("/projects", "furrow_not-a-token", json!({})).await;
    assert_problem(status, &problem, 401, "unauthenticated");
    let (status, problem) = app.get("/projects/P99x").await;
    assert_problem(status, &problem, 422, "invalid-request");
    let (status, problem) = app.get("/reports/N000042").await;
    assert_problem(status, &problem, 404, "not-found");
}

/// A new log key needs two admins: one requests the rotation, another approves it (the requester
/// cannot), and the list shows who agreed. `furrow key rotate` then publishes the key
/// (crates/cli/tests/verify.rs).
#[tokio::test]
async fn a_key_rotation_takes_two_admins() {
    let app = spawn_app().await;
    let a = actors(&app).await;
    let admin_a = app.token("admin a", Role::Admin, &[]).await;
    let admin_b = app.token("admin b", Role::Admin, &[]).await;
    let reason = json!({"reason": "yearly rotation"});
    refused(&app, &a, "/log/key-rotations", &a.op_a, reason.clone(), 403, "forbidden").await;
    refused(&app, &a, "/log/key-rotations", &admin_a, json!({"reason": " "}), 422, "invalid-command").await;
    let requested = ok(&app, "/log/key-rotations", &admin_a, reason).await;
    let approve = format!("/log/key-rotations/{}/approve", requested["id"].as_str().expect("id"));
    refused(&app, &a, &approve, &admin_a, json!({}), 403, "four-eyes").await;
    refused(&app, &a, &approve, &a.op_b, json!({}), 403, "forbidden").await;
    ok(&app, &approve, &admin_b, json!({})).await;
    refused(&app, &a, &approve, &admin_b, json!({}), 409, "wrong-state").await;
    let listed = app.get_ok("/log/key-rotations").await;
    let item = &listed["items"][0];
    assert_eq!(
        (&item["status"], &item["requested_by"], &item["approved_by"]),
        (&json!("approved"), &json!("admin a"), &json!("admin b"))
    );
}
