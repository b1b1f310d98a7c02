//! The staff's signed-in pages (issue #9) through the real server: the review queues of
//! operators, admins and verifiers, whose POST forms run the same commands and authorization as
//! the API with the session's principal, and the operators' editor of the program's pages. Every
//! refusal (the requester approving, a password-only session approving, a verifier not assigned,
//! a missing CSRF token, a non-operator editing) answers a 4xx page with the domain's message and
//! changes nothing.

use furrow_app::Principal;
use furrow_app::accounts::NewUser;
use furrow_app::password::Password;
use furrow_app::{Proof, totp};
use furrow_domain::lifecycle::LifecycleCommand;
use furrow_domain::{AccountId, Command, Role};
use serde_json::{Value, json};

use crate::helpers::{TestApp, browser, form, root, spawn_app};
use crate::lifecycle::{Actors, actors, enrol, farmer, ok, parcel, registered_project, report, square};

const PASSWORD: &str = "correct horse battery";
const SECRET: [u8; 20] = *b"review-queue-secret!";

/// A signed-in person: the session cookie and the CSRF token of its forms.
struct Person {
    cookie: String,
    csrf: String,
    subject: String,
}

/// Creates a user and signs them in through the form; with `totp`, they enrolled an
/// authenticator and sign in with its current code (a strong session).
async fn person(app: &TestApp, email: &str, role: Role, accounts: &[&str], totp: bool) -> Person {
    let new = NewUser {
        email: email.into(),
        organisation: "Furrow program".into(),
        role,
        accounts: accounts.iter().map(|a| a.parse::<AccountId>().expect("account")).collect(),
        password: Password::new(PASSWORD),
    };
    let user = app.registry.create_user("test", &new).await.expect("user");
    let mut code = String::new();
    if totp {
        app.registry.store().set_user_totp(user.id, Some(&SECRET)).await.expect("totp");
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs();
        code = format!("{:06}", totp::totp(&SECRET, now, 6));
    }
    let response = browser()
        .post(format!("{}/signin", root(app)))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("email", email), ("password", PASSWORD), ("code", &code)]))
        .send()
        .await
        .expect("sign in");
    assert_eq!(response.status().as_u16(), 303, "{email} signs in");
    let set = response.headers()["set-cookie"].to_str().expect("ascii").to_owned();
    let cookie = set.split(';').next().expect("pair").to_owned();
    let (_, html) = get(app, "/me", &cookie).await;
    Person { csrf: hidden(&html, "csrf"), cookie, subject: format!("user-{}", user.id) }
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {name} field in {html}")) + marker.len();
    html[start..].split('"').next().expect("value").to_owned()
}

async fn get(app: &TestApp, path: &str, cookie: &str) -> (u16, String) {
    let response =
        browser().get(format!("{}{path}", root(app))).header("cookie", cookie).send().await.expect("request");
    (response.status().as_u16(), response.text().await.expect("text"))
}

/// Posts a form as `who` (with its CSRF token unless `csrf` is false); status, location, body.
async fn post(app: &TestApp, who: &Person, path: &str, fields: &[(&str, &str)], csrf: bool) -> (u16, String, String) {
    let mut pairs = fields.to_vec();
    if csrf {
        pairs.push(("csrf", &who.csrf));
    }
    let response = browser()
        .post(format!("{}{path}", root(app)))
        .header("cookie", &who.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&pairs))
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let location = response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    (status, location, response.text().await.expect("text"))
}

/// Everything a refused action must leave as it was.
async fn state(app: &TestApp, a: &Actors, admin: &str) -> Value {
    let mut all = json!({"status": app.get_ok("/status").await});
    for list in ["reports", "issuance-requests", "reversals", "enrolments", "cancellation-requests"] {
        all[list] = app.get_as(&format!("/{list}"), Some(&a.op_a)).await;
    }
    all["role-requests"] = app.get_as("/role-requests", Some(admin)).await;
    all
}

/// Asserts that `(status, _, html)` is a refusal page with `status`, showing `message`, and
/// that nothing changed.
async fn refused(
    app: &TestApp,
    a: &Actors,
    admin: &str,
    before: &Value,
    got: (u16, String, String),
    status: u16,
    message: &str,
) {
    let (code, _, html) = got;
    assert_eq!(code, status, "{html}");
    assert!(html.contains(message), "the page says {message:?}: {html}");
    assert_eq!(&state(app, a, admin).await, before, "a refused action left a trace");
}

fn principal(subject: &str, role: Role) -> Principal {
    Principal { subject: subject.into(), role, accounts: vec![], proof: Proof::Token }
}

/// A registered project P0001 with one farmer's enrolled parcel and a report of 2026 verified by
/// the token verifier; the program's issuance account got credits of another project too.
async fn program(app: &TestApp, a: &Actors) -> String {
    registered_project(app, a).await;
    let (_, _, parcels) =
        farmer(app, a, "Sato Ichiro", vec![parcel("North paddy", "2.5", square(139.0, 37.9, 0.001))]).await;
    ok(app, "/enrolments", &a.op_a, enrol(&parcels[0], "2025-01-01", "2028-12-31")).await;
    let n = ok(app, "/reports", &a.op_a, report(&[parcels[0].as_str()], json!(20))).await["id"]
        .as_str()
        .expect("report")
        .to_owned();
    ok(app, &format!("/reports/{n}/submit"), &a.op_a, json!({})).await;
    ok(app, &format!("/reports/{n}/verify"), &a.verifier, json!({})).await;
    parcels[0].clone()
}

#[tokio::test]
async fn an_operator_approves_issuance_another_requested_and_the_requester_cannot() {
    let app = spawn_app().await;
    let a = actors(&app).await;
    let admin = app.token("admin", Role::Admin, &[]).await;
    program(&app, &a).await;
    let ren = person(&app, "ren@example.jp", Role::Operator, &[], true).await;
    let mika = person(&app, "mika@example.jp", Role::Operator, &[], false).await;
    let kai = person(&app, "kai@example.jp", Role::Operator, &[], true).await;
    // Ren asks for issuance (as the API would have it, with Ren's subject).
    let ask = LifecycleCommand::RequestIssuance { report: "N000001".parse().expect("id"), labels: vec![] };
    let command = Command::Lifecycle { by: ren.subject.clone(), command: ask };
    app.registry.execute(&principal(&ren.subject, Role::Operator), command, None).await.expect("requested");

    // Ren sees the request, marked as theirs, with no button.
    let (status, html) = get(&app, "/review", &ren.cookie).await;
    assert_eq!(status, 200, "{html}");
    let issuance = html.split("id=\"issuance\"").nth(1).expect("the issuance queue");
    let requester = format!("ren@example.jp ({})", ren.subject);
    assert!(issuance.contains("I000001") && issuance.contains(&requester), "staff see who asked: {issuance}");
    assert!(issuance.contains("You asked for this") && issuance.contains(" t CO₂e"), "{issuance}");
    assert!(!issuance.contains("/review/issuance/I000001/approve"), "no approve button for the requester");

    // The requester's approval is refused by the domain (four-eyes), whatever the page shows.
    let before = state(&app, &a, &admin).await;
    let approve = "/review/issuance/I000001/approve";
    let got = post(&app, &ren, approve, &[], true).await;
    refused(&app, &a, &admin, &before, got, 403, "another operator").await;
    // A password-only session is told to set up two-step sign-in.
    let (_, html) = get(&app, "/review", &mika.cookie).await;
    assert!(html.contains("id=\"weak\""), "the queue warns a password-only session: {html}");
    let got = post(&app, &mika, approve, &[], true).await;
    refused(&app, &a, &admin, &before, got, 403, "set up an authenticator app").await;
    // Without the CSRF token, or with another session's, nothing happens.
    let got = post(&app, &kai, approve, &[], false).await;
    refused(&app, &a, &admin, &before, got, 403, "CSRF").await;
    let got = post(&app, &kai, approve, &[("csrf", &ren.csrf)], false).await;
    refused(&app, &a, &admin, &before, got, 403, "CSRF").await;
    // An unknown action is a 404 page, a malformed id a 422 on the queue.
    let got = post(&app, &kai, "/review/issuance/I000001/destroy", &[], true).await;
    refused(&app, &a, &admin, &before, got, 404, "no such review action").await;
    let got = post(&app, &kai, "/review/issuance/x/approve", &[], true).await;
    assert_eq!(got.0, 422, "{}", got.2);

    // Another operator with a second factor approves: the batch is issued, the queue is empty.
    let (status, location, _) = post(&app, &kai, approve, &[], true).await;
    assert_eq!((status, location.as_str()), (303, "/review?done=approved"));
    let request = app.get_ok("/issuance-requests/I000001").await;
    assert_eq!(
        (request["status"].as_str(), request["approved_by"].as_str()),
        (Some("approved"), Some(kai.subject.as_str())),
        "{request}"
    );
    let (_, html) = get(&app, "/review?done=approved&lang=ja", &kai.cookie).await;
    assert!(html.contains("審査キュー") && html.contains("承認しました"), "{html}");
    assert!(!html.contains("/review/issuance/I000001/approve"), "the request left the queue");
}

#[tokio::test]
async fn a_verifier_verifies_or_returns_only_reports_of_projects_assigned_to_them() {
    let app = spawn_app().await;
    let a = actors(&app).await;
    let admin = app.token("admin", Role::Admin, &[]).await;
    let parcel = program(&app, &a).await;
    let vera = person(&app, "vera@example.jp", Role::Verifier, &[], false).await;
    let otto = person(&app, "otto@example.jp", Role::Verifier, &[], false).await;
    ok(&app, "/projects/P0001/verifier", &a.op_a, json!({"verifier": vera.subject})).await;
    // Two reports submitted on the project: one to return, one to verify.
    let mut ids = Vec::new();
    for year in [2027, 2028] {
        let mut draft = report(&[parcel.as_str()], json!(15));
        draft["period"] = json!({"from": format!("{year}-01-01"), "to": format!("{year}-12-31")});
        let id = ok(&app, "/reports", &a.op_a, draft).await["id"].as_str().expect("id").to_owned();
        ok(&app, &format!("/reports/{id}/submit"), &a.op_a, json!({})).await;
        ids.push(id);
    }
    let (back, n) = (ids[0].clone(), ids[1].clone());
    // The assigned verifier sees the report; another verifier sees nothing and may do nothing.
    let (status, html) = get(&app, "/review", &vera.cookie).await;
    assert_eq!(status, 200);
    let queue = html.split("id=\"reports\"").nth(1).expect("the report queue");
    assert!(queue.contains(&format!("href=\"/reports/{n}\"")) && queue.contains("P0001"), "{queue}");
    let (_, html) = get(&app, "/review", &otto.cookie).await;
    assert!(!html.contains(&format!("/review/reports/{n}/verify")), "{html}");
    let before = state(&app, &a, &admin).await;
    let got = post(&app, &otto, &format!("/review/reports/{n}/verify"), &[], true).await;
    refused(&app, &a, &admin, &before, got, 403, "is assigned to verifier").await;
    let got = post(&app, &vera, &format!("/review/reports/{n}/verify"), &[], false).await;
    refused(&app, &a, &admin, &before, got, 403, "CSRF").await;
    // Operators cannot verify, even with the form.
    let kai = person(&app, "kai@example.jp", Role::Operator, &[], true).await;
    let got = post(&app, &kai, &format!("/review/reports/{n}/verify"), &[], true).await;
    refused(&app, &a, &admin, &before, got, 403, "cannot verify report").await;

    // One returned with a reason, the other verified.
    let (status, location, _) =
        post(&app, &vera, &format!("/review/reports/{back}/return"), &[("reason", "drainage log unsigned")], true)
            .await;
    assert_eq!((status, location.as_str()), (303, "/review?done=returned"));
    assert_eq!(app.get_ok(&format!("/reports/{back}")).await["status"], "returned");
    let (status, location, _) = post(&app, &vera, &format!("/review/reports/{n}/verify"), &[], true).await;
    assert_eq!((status, location.as_str()), (303, "/review?done=verified"));
    let verified = app.get_ok(&format!("/reports/{n}")).await;
    assert_eq!(verified["status"], "verified", "{verified}");
    let (_, html) = get(&app, "/review?lang=ja", &vera.cookie).await;
    assert!(html.contains("検証待ちの報告") && !html.contains(&format!("/review/reports/{n}/verify")), "{html}");

    // Buyers have no queues; without a session the page sends the reader to sign in.
    let buyer = person(&app, "buyer@example.jp", Role::Buyer, &[&app.buyer_account.clone()], false).await;
    let (status, html) = get(&app, "/review", &buyer.cookie).await;
    assert_eq!(status, 403, "{html}");
    let response = browser().get(format!("{}/review", root(&app))).send().await.expect("request");
    assert_eq!((response.status().as_u16(), response.headers()["location"].to_str().ok()), (303, Some("/signin")));
}

#[tokio::test]
async fn withdrawals_reversals_cancellations_and_role_grants_are_decided_from_the_queues() {
    let app = spawn_app().await;
    let a = actors(&app).await;
    let admin = app.token("admin", Role::Admin, &[]).await;
    program(&app, &a).await;
    // Credits of P0001 to reverse: issued by two token operators.
    ok(&app, "/issuance-requests", &a.op_a, json!({"report": "N000001"})).await;
    ok(&app, "/issuance-requests/I000001/approve", &a.op_b, json!({})).await;
    ok(&app, "/enrolments/E000001/withdrawal", &a.op_a, json!({"ground": "illness"})).await;
    // A second farmer's withdrawal, to refuse.
    let (_, _, second) =
        farmer(&app, &a, "Tanaka Jiro", vec![parcel("South paddy", "1.0", square(139.01, 37.9, 0.001))]).await;
    ok(&app, "/enrolments", &a.op_a, enrol(&second[0], "2025-01-01", "2028-12-31")).await;
    ok(&app, "/enrolments/E000002/withdrawal", &a.op_a, json!({"ground": "natural disaster"})).await;
    ok(&app, "/reversals", &a.op_a, json!({"project": "P0001", "quantity": 1, "note": "levee breach"})).await;
    let ask = json!({"from": app.buyer_account, "quantity": 5, "reason": "correction", "note": "double-counted"});
    ok(&app, "/cancellations", &a.op_a, ask).await;
    let kai = person(&app, "kai@example.jp", Role::Operator, &[], true).await;
    let ada = person(&app, "ada@example.jp", Role::Admin, &[], true).await;
    let target = kai.subject.trim_start_matches("user-").to_owned();
    ok(&app, &format!("/users/{target}/role-requests"), &admin, json!({"role": "admin"})).await;

    let (_, html) = get(&app, "/review", &kai.cookie).await;
    for (queue, item) in [
        ("withdrawals", "/review/withdrawals/E000001/approve"),
        ("reversals", "/review/reversals/X000001/approve"),
        ("cancellations", "/review/cancellations/1/approve"),
    ] {
        let section = html.split(&format!("id=\"{queue}\"")).nth(1).unwrap_or_else(|| panic!("no {queue} queue"));
        assert!(section.contains(item), "{queue}: {section}");
    }
    assert!(!html.contains("id=\"roles\""), "role grants are the admins'");
    ok(&app, "/log/key-rotations", &admin, json!({"reason": "the signing machine is retired"})).await;
    let (_, html) = get(&app, "/review", &ada.cookie).await;
    assert!(html.contains("/review/roles/1/approve"), "{html}");
    assert!(html.contains("/review/key-rotations/K000001/approve"), "{html}");

    // A withdrawal's date is checked before anything is sent.
    let before = state(&app, &a, &admin).await;
    let got = post(&app, &kai, "/review/withdrawals/E000001/approve", &[("effective", "someday")], true).await;
    refused(&app, &a, &admin, &before, got, 422, "Refused:").await;
    let (status, _, _) =
        post(&app, &kai, "/review/withdrawals/E000001/approve", &[("effective", "2026-04-01")], true).await;
    assert_eq!(status, 303);
    let e1 = app.get_ok("/enrolments/E000001").await;
    assert_eq!(
        (e1["status"].as_str(), e1["withdrawal"]["effective"].as_str()),
        (Some("withdrawn"), Some("2026-04-01"))
    );

    // A refusal needs a reason; with one, the enrolment goes on.
    let before = state(&app, &a, &admin).await;
    let got = post(&app, &kai, "/review/withdrawals/E000002/refuse", &[("reason", " ")], true).await;
    refused(&app, &a, &admin, &before, got, 422, "reason").await;
    let (status, location, _) =
        post(&app, &kai, "/review/withdrawals/E000002/refuse", &[("reason", "the flood damage was repaired")], true)
            .await;
    assert_eq!((status, location.as_str()), (303, "/review?done=refused"));
    let e2 = app.get_ok("/enrolments/E000002").await;
    assert_eq!(e2["status"], "active", "{e2}");

    let (status, _, _) = post(&app, &kai, "/review/reversals/X000001/approve", &[], true).await;
    assert_eq!(status, 303);
    assert_eq!(app.get_ok("/reversals").await["items"][0]["status"], "approved");
    let (status, _, _) = post(&app, &kai, "/review/cancellations/1/approve", &[], true).await;
    assert_eq!(status, 303);
    let listed = app.get_as("/cancellation-requests", Some(&a.op_a)).await;
    assert_eq!(listed["items"][0]["status"], "approved", "{listed}");

    // The role grant: an operator may not approve it; the second admin does.
    let before = state(&app, &a, &admin).await;
    let got = post(&app, &kai, "/review/roles/1/approve", &[], true).await;
    refused(&app, &a, &admin, &before, got, 403, "only an admin").await;
    let (status, _, _) = post(&app, &ada, "/review/roles/1/approve", &[], true).await;
    assert_eq!(status, 303);
    let users = app.get_as("/users", Some(&admin)).await;
    let granted = users["items"]
        .as_array()
        .expect("items")
        .iter()
        .any(|u| u["email"] == "kai@example.jp" && u["role"] == "admin");
    assert!(granted, "{users}");

    // The log key rotation another admin asked for: an operator may not approve it (kai is an
    // admin by now); an admin does.
    let rin = person(&app, "rin@example.jp", Role::Operator, &[], true).await;
    let before = app.get_as("/log/key-rotations", Some(&admin)).await;
    let got = post(&app, &rin, "/review/key-rotations/K000001/approve", &[], true).await;
    assert_eq!(got.0, 403, "{}", got.2);
    assert_eq!(app.get_as("/log/key-rotations", Some(&admin)).await, before, "a refused approval wrote nothing");
    let (status, _, _) = post(&app, &ada, "/review/key-rotations/K000001/approve", &[], true).await;
    assert_eq!(status, 303);
    let rotations = app.get_as("/log/key-rotations", Some(&admin)).await;
    assert_eq!(
        (rotations["items"][0]["status"].as_str(), rotations["items"][0]["approved_by"].as_str()),
        (Some("approved"), Some(ada.subject.as_str())),
        "{rotations}"
    );
    let (_, html) = get(&app, "/review", &ada.cookie).await;
    assert!(!html.contains("/review/key-rotations/K000001/approve"), "the queue is empty again");
}

#[tokio::test]
async fn operators_edit_the_program_pages_in_both_languages_and_the_text_is_escaped() {
    let app = spawn_app().await;
    let a = actors(&app).await;
    let admin = app.token("admin", Role::Admin, &[]).await;
    // The built-in content is there from the start, in both languages.
    let page = |lang: &'static str| {
        let url = format!("{}/program?lang={lang}", root(&app));
        async move { browser().get(url).send().await.expect("request").text().await.expect("text") }
    };
    let en = page("en").await;
    assert!(en.contains("How it differs from government schemes") && en.contains("How is double counting avoided?"));
    assert!(page("ja").await.contains("政府の制度との違い"));

    let ren = person(&app, "ren@example.jp", Role::Operator, &[], false).await;
    let (status, html) = get(&app, "/review/program", &ren.cookie).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("href=\"/review/program/2\"") && html.contains("For farmers"), "{html}");
    let (status, html) = get(&app, "/review/program/2?lang=ja", &ren.cookie).await;
    assert_eq!(status, 200);
    assert!(html.contains("name=\"body_ja\"") && html.contains("見出し（日本語）"), "{html}");

    let edit = [
        ("title_en", "Not J-Credit <script>alert(1)</script>"),
        ("body_en", "Private.\r\n\r\nAgricultural & international."),
        ("title_ja", "J-クレジットとの違い（改訂）"),
        ("body_ja", "民間主導です。\n\n農業に特化しています。"),
    ];
    // Refused: no CSRF token; a Japanese title missing; a verifier editing.
    let before = page("en").await;
    let (status, _, _) = post(&app, &ren, "/review/program/2", &edit, false).await;
    assert_eq!(status, 403);
    let mut missing = edit;
    missing[2].1 = " ";
    let (status, _, html) = post(&app, &ren, "/review/program/2", &missing, true).await;
    assert_eq!(status, 422);
    assert!(
        html.contains("Japanese title") && html.contains("Agricultural &#38; international."),
        "what was typed is kept: {html}"
    );
    let vera = person(&app, "vera@example.jp", Role::Verifier, &[], false).await;
    let (status, _, _) = post(&app, &vera, "/review/program/2", &edit, true).await;
    assert_eq!(status, 403);
    let (status, _) = get(&app, "/review/program", &vera.cookie).await;
    assert_eq!(status, 403);
    let response = browser().get(format!("{}/review/program/2", root(&app))).send().await.expect("request");
    assert_eq!(response.status().as_u16(), 303, "not signed in");
    assert_eq!(page("en").await, before, "nothing changed");

    // Saved: the public page shows the new text in each language, escaped, in paragraphs.
    let (status, location, _) = post(&app, &ren, "/review/program/2", &edit, true).await;
    assert_eq!((status, location.as_str()), (303, "/review/program?done=saved"));
    let en = page("en").await;
    assert!(en.contains("Not J-Credit &#60;script&#62;alert(1)&#60;/script&#62;"), "{en}");
    assert!(!en.contains("<script"), "no markup gets through");
    assert!(en.contains("<p>Private.</p>") && en.contains("<p>Agricultural &#38; international.</p>"), "{en}");
    let ja = page("ja").await;
    assert!(ja.contains("J-クレジットとの違い（改訂）") && ja.contains("<p>農業に特化しています。</p>"), "{ja}");
    // A new question for farmers, at the end of their section, in both languages.
    let (status, html) = get(&app, "/review/program/new?section=farmers", &ren.cookie).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("action=\"/review/program/new\"") && html.contains("value=\"farmers\""), "{html}");
    let question = [
        ("section", "farmers"),
        ("title_en", "Can I enrol rented fields?"),
        ("body_en", "Yes, with the owner's written consent."),
        ("title_ja", "借りている圃場も登録できますか？"),
        ("body_ja", "はい、所有者の書面による同意があれば登録できます。"),
    ];
    let (status, _, _) = post(&app, &vera, "/review/program/new", &question, true).await;
    assert_eq!(status, 403, "a verifier adds nothing");
    let mut nowhere = question;
    nowhere[0].1 = "gossip";
    let (status, _, _) = post(&app, &ren, "/review/program/new", &nowhere, true).await;
    assert_eq!(status, 422, "no such section");
    let (status, location, _) = post(&app, &ren, "/review/program/new", &question, true).await;
    assert_eq!((status, location.as_str()), (303, "/review/program?done=saved"));
    let en = page("en").await;
    let farmers = en.split("For farmers").nth(1).expect("the farmers' section");
    assert!(farmers.trim_end().contains("Can I enrol rented fields?"), "{farmers}");
    let last = farmers.rfind("<summary>").map(|i| &farmers[i..]).unwrap_or_default();
    assert!(last.contains("Can I enrol rented fields?"), "the new question comes last: {last}");
    assert!(page("ja").await.contains("借りている圃場も登録できますか？"));

    // Who and when: on the entry and in the audit trail.
    let (_, html) = get(&app, "/review/program", &ren.cookie).await;
    assert!(html.contains(&ren.subject), "{html}");
    let events = app.get_as("/security/events?limit=500", Some(&admin)).await;
    let edited = events["items"]
        .as_array()
        .expect("items")
        .iter()
        .any(|e| e["kind"] == "program_page_edited" && e["subject"] == ren.subject.as_str());
    assert!(edited, "{events}");
    assert!(events.to_string().contains("program_page_added"), "{events}");
    let _ = a;
}
