//! Users and sign-in through the real server (issue #8): the sign-in form sets a Strict, HttpOnly
//! session cookie (`__Host-` and Secure over TLS) with a new id every time; `/me` shows who is
//! signed in; the session authenticates the JSON API as the same principal a token would, with
//! the CSRF token required to write; sign-out ends it; five failures answer 429 with
//! Retry-After; a busy token gets 429 too; TOTP enrolment makes codes required and the session
//! strong enough to approve; an operator grant needs a second admin. Every step is audited.

use furrow_app::accounts::NewUser;
use furrow_app::password::Password;
use furrow_app::{RateLimitSettings, totp};
use furrow_domain::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, browser, form, root, spawn_app};

const PASSWORD: &str = "correct horse battery";

async fn create_user(app: &TestApp, email: &str, role: Role) -> u64 {
    let new = NewUser {
        email: email.into(),
        organisation: "Tohoku Rice Offsets".into(),
        role,
        accounts: vec![],
        password: Password::new(PASSWORD),
    };
    app.registry.create_user("test", &new).await.expect("user").id
}

async fn post_form(app: &TestApp, path: &str, cookie: Option<&str>, body: String) -> reqwest::Response {
    let mut request = browser()
        .post(format!("{}{path}", root(app)))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().await.expect("request")
}

/// Signs in through the form; the `name=value` of the session cookie.
async fn sign_in(app: &TestApp, email: &str, code: &str) -> String {
    let response =
        post_form(app, "/signin", None, form(&[("email", email), ("password", PASSWORD), ("code", code)])).await;
    assert_eq!(response.status().as_u16(), 303, "sign-in redirects");
    assert_eq!(response.headers()["location"], "/me");
    let set = response.headers()["set-cookie"].to_str().expect("ascii").to_owned();
    set.split(';').next().expect("pair").to_owned()
}

async fn page(app: &TestApp, path: &str, cookie: Option<&str>) -> (u16, String) {
    let mut request = browser().get(format!("{}{path}", root(app)));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.expect("request");
    (response.status().as_u16(), response.text().await.expect("text"))
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {name} field in {html}")) + marker.len();
    html[start..].split('"').next().expect("value").to_owned()
}

async fn event_kinds(app: &TestApp, admin: &str) -> Vec<String> {
    let events = app.get_as("/security/events?limit=500", Some(admin)).await;
    events["items"].as_array().expect("items").iter().map(|e| e["kind"].as_str().unwrap_or("").to_owned()).collect()
}

#[tokio::test]
async fn sign_in_sets_a_strict_cookie_and_the_session_acts_like_a_token() {
    let app = spawn_app().await;
    let admin = app.token("admin", Role::Admin, &[]).await;
    create_user(&app, "aiko@example.jp", Role::Operator).await;

    // Not signed in: /me sends the reader to the form, which exists in both languages.
    let (status, _) = page(&app, "/me", None).await;
    assert_eq!(status, 303);
    let (status, html) = page(&app, "/signin", None).await;
    assert_eq!(status, 200);
    assert!(html.contains("name=\"password\"") && html.contains("Sign in"), "{html}");
    let (_, html) = page(&app, "/signin?lang=ja", None).await;
    assert!(html.contains("サインイン"), "{html}");

    // A wrong password: the form again, 401, no cookie.
    let wrong =
        post_form(&app, "/signin", None, form(&[("email", "aiko@example.jp"), ("password", "nope nope")])).await;
    assert_eq!(wrong.status().as_u16(), 401);
    assert!(wrong.headers().get("set-cookie").is_none());

    // The cookie: HttpOnly, SameSite=Strict, no Secure over plain http.
    let response =
        post_form(&app, "/signin", None, form(&[("email", "aiko@example.jp"), ("password", PASSWORD)])).await;
    let set = response.headers()["set-cookie"].to_str().expect("ascii").to_owned();
    assert!(set.starts_with("furrow_session="), "{set}");
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict") && !set.contains("Secure"), "{set}");
    let cookie = set.split(';').next().expect("pair").to_owned();
    // Over TLS (a proxy says so): the __Host- prefix and Secure.
    let tls = browser()
        .post(format!("{}/signin", root(&app)))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-forwarded-proto", "https")
        .body(form(&[("email", "aiko@example.jp"), ("password", PASSWORD)]))
        .send()
        .await
        .expect("request");
    let set = tls.headers()["set-cookie"].to_str().expect("ascii").to_owned();
    assert!(set.starts_with("__Host-furrow_session=") && set.contains("Secure") && set.contains("Path=/"), "{set}");

    // /me shows who, the organisation and the role; the page is not cached.
    let (status, html) = page(&app, "/me", Some(&cookie)).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("aiko@example.jp") && html.contains("Tohoku Rice Offsets") && html.contains("Operator"),
        "{html}"
    );
    let csrf = hidden(&html, "csrf");

    // The session is the operator's principal on the JSON API: reads work, writes need the CSRF
    // token in a header (a cross-site page cannot send it).
    let api = |path: &str| format!("{}{path}", app.url);
    let read = browser().get(api("/cancellation-requests")).header("cookie", &cookie).send().await.expect("get");
    assert_eq!(read.status().as_u16(), 200);
    let body = json!({"kind": "buyer", "name": "Session K.K."});
    let before = app.snapshot().await;
    let no_csrf = browser().post(api("/accounts")).header("cookie", &cookie).json(&body).send().await.expect("post");
    let status = no_csrf.status().as_u16();
    assert_problem(status, &no_csrf.json::<Value>().await.expect("json"), 403, "csrf");
    assert_eq!(app.snapshot().await, before, "a refused write changed nothing");
    let with_csrf = browser()
        .post(api("/accounts"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&body)
        .send()
        .await
        .expect("post");
    assert_eq!(with_csrf.status().as_u16(), 201);
    // Its actor in the public log is a pseudonym, never the e-mail address.
    let log = app.get_ok("/log/entries?limit=500").await.to_string();
    assert!(!log.contains("aiko@example.jp"), "the log names no e-mail address");

    // A new sign-in gets a new id and ends the session the browser had.
    let again =
        post_form(&app, "/signin", Some(&cookie), form(&[("email", "aiko@example.jp"), ("password", PASSWORD)])).await;
    let fresh = again.headers()["set-cookie"].to_str().expect("ascii").split(';').next().expect("pair").to_owned();
    assert_ne!(fresh, cookie, "rotated");
    assert_eq!(page(&app, "/me", Some(&cookie)).await.0, 303, "the old id is dead");
    let (_, html) = page(&app, "/me", Some(&fresh)).await;
    let csrf = hidden(&html, "csrf");

    // Sign-out needs the form's CSRF token, and a foreign Origin is refused.
    let forged = post_form(&app, "/signout", Some(&fresh), form(&[("csrf", "0")])).await;
    assert_eq!(forged.status().as_u16(), 403);
    let foreign = browser()
        .post(format!("{}/signout", root(&app)))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", &fresh)
        .header("origin", "https://evil.example")
        .body(form(&[("csrf", &csrf)]))
        .send()
        .await
        .expect("request");
    assert_eq!(foreign.status().as_u16(), 403);
    let out = post_form(&app, "/signout", Some(&fresh), form(&[("csrf", &csrf)])).await;
    assert_eq!(out.status().as_u16(), 303);
    assert!(out.headers()["set-cookie"].to_str().expect("ascii").contains("Max-Age=0"));
    assert_eq!(page(&app, "/me", Some(&fresh)).await.0, 303, "signed out");
    let gone = browser().get(api("/cancellation-requests")).header("cookie", &fresh).send().await.expect("get");
    assert_eq!(gone.status().as_u16(), 401);

    let kinds = event_kinds(&app, &admin).await;
    for kind in ["user_created", "sign_in_failed", "sign_in_succeeded", "signed_out"] {
        assert!(kinds.iter().any(|k| k == kind), "no {kind} in {kinds:?}");
    }
}

#[tokio::test]
async fn five_failed_sign_ins_answer_429_and_a_busy_token_too() {
    let app = spawn_app().await;
    create_user(&app, "kenji@example.jp", Role::Operator).await;
    for _ in 0..5 {
        let r =
            post_form(&app, "/signin", None, form(&[("email", "kenji@example.jp"), ("password", "guess guess")])).await;
        assert_eq!(r.status().as_u16(), 401);
    }
    let blocked =
        post_form(&app, "/signin", None, form(&[("email", "kenji@example.jp"), ("password", PASSWORD)])).await;
    assert_eq!(blocked.status().as_u16(), 429, "even the right password waits");
    let wait: u64 = blocked.headers()["retry-after"].to_str().expect("ascii").parse().expect("seconds");
    assert!(wait > 0 && wait <= 15 * 60, "{wait}");
    // From the same address, another user is blocked too (per client address).
    create_user(&app, "other@example.jp", Role::Operator).await;
    let other = post_form(&app, "/signin", None, form(&[("email", "other@example.jp"), ("password", PASSWORD)])).await;
    assert_eq!(other.status().as_u16(), 429);

    app.registry.set_rate_limits(RateLimitSettings { token_requests_per_minute: 3, ..RateLimitSettings::default() });
    let token = app.token("busy", Role::Admin, &[]).await;
    for _ in 0..3 {
        app.get_as("/tokens", Some(&token)).await;
    }
    let response = app.client.get(format!("{}/tokens", app.url)).bearer_auth(&token).send().await.expect("get");
    assert_eq!(response.status().as_u16(), 429);
    assert!(response.headers().contains_key("retry-after"));
    let problem: Value = response.json().await.expect("problem");
    assert_eq!(problem["type"], "urn:furrow:problem:too-many-requests");
}

#[tokio::test]
async fn totp_makes_codes_required_and_role_grants_take_two_admins() {
    let app = spawn_app().await;
    let admin_token = app.token("admin token", Role::Admin, &[]).await;
    create_user(&app, "alice@example.jp", Role::Admin).await;
    let target = create_user(&app, "kenji@example.jp", Role::Verifier).await;

    // The admin signed in with a password only asks for an operator grant: allowed, pending.
    let cookie = sign_in(&app, "alice@example.jp", "").await;
    let (_, html) = page(&app, "/me", Some(&cookie)).await;
    let csrf = hidden(&html, "csrf");
    let post = |path: String, cookie: String, csrf: String, body: Value| {
        let client = browser();
        let url = format!("{}{path}", app.url);
        async move {
            let r = client.post(url).header("cookie", cookie).header("x-csrf-token", csrf).json(&body).send().await;
            let r = r.expect("post");
            (r.status().as_u16(), r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, request) =
        post(format!("/users/{target}/role-requests"), cookie.clone(), csrf.clone(), json!({"role": "operator"})).await;
    assert_eq!(status, 201, "{request}");
    assert_eq!(request["status"], "pending");
    let id = request["id"].as_u64().expect("id");
    let approve = format!("/role-requests/{id}/approve");
    // Approving needs a second factor, and a second admin.
    let (status, problem) = post(approve.clone(), cookie.clone(), csrf.clone(), json!({})).await;
    assert_problem(status, &problem, 403, "forbidden");

    // Enrol TOTP through the pages.
    let start = post_form(&app, "/me/totp", Some(&cookie), form(&[("csrf", &csrf)])).await;
    assert_eq!(start.status().as_u16(), 200);
    let html = start.text().await.expect("html");
    assert!(html.contains("otpauth://totp/"), "{html}");
    let secret_text = hidden(&html, "secret");
    let secret = totp::from_base32(&secret_text).expect("base32");
    // The code `steps` time steps from now (the server accepts one step of drift, each step once).
    let code = |steps: u64| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs();
        format!("{:06}", totp::totp(&secret, now + steps * totp::STEP_SECONDS, 6))
    };
    let wrong = post_form(
        &app,
        "/me/totp/confirm",
        Some(&cookie),
        form(&[("csrf", &csrf), ("secret", &secret_text), ("code", "000000")]),
    )
    .await;
    assert_eq!(wrong.status().as_u16(), 422);
    let done = post_form(
        &app,
        "/me/totp/confirm",
        Some(&cookie),
        form(&[("csrf", &csrf), ("secret", &secret_text), ("code", &code(0))]),
    )
    .await;
    assert_eq!(done.status().as_u16(), 200);

    // Now a code is required to sign in; with it, the session may approve, but not its own request.
    let without =
        post_form(&app, "/signin", None, form(&[("email", "alice@example.jp"), ("password", PASSWORD)])).await;
    assert_eq!(without.status().as_u16(), 401);
    let strong = sign_in(&app, "alice@example.jp", &code(1)).await;
    let (_, html) = page(&app, "/me", Some(&strong)).await;
    let strong_csrf = hidden(&html, "csrf");
    let before = app.get_as("/users", Some(&admin_token)).await;
    let (status, problem) = post(approve.clone(), strong.clone(), strong_csrf.clone(), json!({})).await;
    assert_problem(status, &problem, 403, "four-eyes");
    assert_eq!(app.get_as("/users", Some(&admin_token)).await, before, "nothing granted");

    // A second admin approves.
    let (status, granted) = app.post(&approve, &admin_token, json!({})).await;
    assert_eq!(status, 200, "{granted}");
    assert_eq!(granted["status"], "granted");
    let users = app.get_as("/users", Some(&admin_token)).await;
    let kenji = users["items"].as_array().expect("items").iter().find(|u| u["id"] == target).expect("kenji").clone();
    assert_eq!(kenji["role"], "operator");
    assert!(users.to_string().find("argon2").is_none(), "no password hashes listed");
    let alice = users["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|u| u["email"] == "alice@example.jp")
        .expect("alice")
        .clone();
    assert_eq!(alice["totp"], true);

    let kinds = event_kinds(&app, &admin_token).await;
    for kind in ["totp_enrolled", "totp_failed", "role_requested", "role_granted", "permission_denied"] {
        assert!(kinds.iter().any(|k| k == kind), "no {kind} in {kinds:?}");
    }
}
