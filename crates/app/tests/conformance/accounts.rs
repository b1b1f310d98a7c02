//! Users, organisations, sessions and role grants (issue #8) behave alike on every backend: a
//! user and its organisation round-trip (redacted in `Debug`), a taken e-mail address is
//! refused, a session lives until its idle or absolute timeout and no longer, sign-in failures
//! are rate limited, a second admin must approve an operator grant, and every step is audited.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use furrow_app::accounts::{ABSOLUTE_TIMEOUT_US, IDLE_TIMEOUT_US, NewUser, subject_of};
use furrow_app::password::Password;
use furrow_app::store::Page;
use furrow_app::{AppError, Clock, Principal, Proof, totp};
use furrow_domain::{Role, Timestamp};
use furrow_testkit::Backend;

use crate::on_every_backend;
use crate::support::start_with_clock;

/// A clock the test moves by hand.
#[derive(Default)]
struct HandClock(AtomicI64);

impl HandClock {
    fn advance(&self, us: i64) {
        self.0.fetch_add(us, Ordering::SeqCst);
    }
}

impl Clock for HandClock {
    fn now(&self) -> Timestamp {
        Timestamp(1_767_225_600_000_000 + self.0.load(Ordering::SeqCst))
    }
}

fn new_user(email: &str, role: Role) -> NewUser {
    NewUser {
        email: email.into(),
        organisation: "Tohoku Rice Offsets".into(),
        role,
        accounts: vec![],
        password: Password::new("correct horse battery"),
    }
}

fn admin(subject: &str) -> Principal {
    Principal { subject: subject.into(), role: Role::Admin, accounts: vec![], proof: Proof::Token }
}

async fn kinds(fixture: &crate::support::Fixture) -> Vec<String> {
    let events = fixture.store.security_events(Page { after: None, limit: 1000 }).await.expect("events");
    events.into_iter().map(|e| e.kind).collect()
}

async fn users_sessions_and_role_grants(backend: Backend) {
    let clock = Arc::new(HandClock::default());
    let Some(fixture) = start_with_clock(backend, clock.clone()).await else { return };
    let registry = &fixture.registry;

    // Users and organisations.
    let aiko = registry.create_user("test", &new_user(" Aiko@Example.JP ", Role::Operator)).await.expect("user");
    assert_eq!(aiko.email, "aiko@example.jp");
    assert!(aiko.password_hash.starts_with("$argon2id$"), "stored as an argon2id hash");
    let debug = format!("{aiko:?}");
    assert!(!debug.contains("argon2id") && debug.contains("<redacted>"), "Debug shows no hash: {debug}");
    let kenji = registry.create_user("test", &new_user("kenji@example.jp", Role::Verifier)).await.expect("user");
    assert_eq!(kenji.organisation, aiko.organisation, "one organisation, reused by name");
    let again = registry.create_user("test", &new_user("AIKO@example.jp", Role::Verifier)).await;
    assert!(matches!(again, Err(AppError::AlreadyExists(_))), "{again:?}");
    let short = NewUser { password: Password::new("short"), ..new_user("x@example.jp", Role::Operator) };
    assert!(matches!(registry.create_user("test", &short).await, Err(AppError::Invalid(_))));
    let stored = fixture.store.user_by_email("aiko@example.jp").await.expect("read").expect("found");
    assert_eq!(stored, aiko);
    assert_eq!(
        fixture.store.organisation(aiko.organisation).await.expect("read").expect("org").name,
        "Tohoku Rice Offsets"
    );

    // Sign-in: a wrong password is refused; the right one opens a session with a fresh id each
    // time, and the previous one ends.
    let wrong = registry.sign_in("aiko@example.jp", &Password::new("wrong password"), None, None, None).await;
    assert!(matches!(wrong, Err(AppError::Unauthenticated)));
    let nobody = registry.sign_in("nobody@example.jp", &Password::new("correct horse battery"), None, None, None).await;
    assert!(matches!(nobody, Err(AppError::Unauthenticated)));
    let password = Password::new("correct horse battery");
    let first = registry.sign_in("aiko@example.jp", &password, None, None, None).await.expect("sign in");
    let session = registry.session(&first.session_id).await.expect("live");
    assert_eq!(session.principal.subject, subject_of(&aiko));
    assert_eq!(session.principal.role, Role::Operator);
    assert_eq!(session.principal.proof, Proof::Password);
    assert_eq!(session.csrf, first.csrf);
    let second =
        registry.sign_in("aiko@example.jp", &password, None, None, Some(&first.session_id)).await.expect("again");
    assert_ne!(first.session_id, second.session_id, "a new id on every sign-in");
    assert!(registry.session(&first.session_id).await.is_err(), "the old session ended");

    // Idle timeout: 29 minutes apart is fine, 30 minutes without use ends it.
    clock.advance(IDLE_TIMEOUT_US - 60_000_000);
    registry.session(&second.session_id).await.expect("still live");
    clock.advance(IDLE_TIMEOUT_US);
    assert!(matches!(registry.session(&second.session_id).await, Err(AppError::Unauthenticated)));

    // Absolute timeout: used every 20 minutes, it still ends 12 hours after sign-in.
    let busy = registry.sign_in("aiko@example.jp", &password, None, None, None).await.expect("sign in");
    let mut elapsed = 0;
    while elapsed + 20 * 60_000_000 < ABSOLUTE_TIMEOUT_US {
        clock.advance(20 * 60_000_000);
        elapsed += 20 * 60_000_000;
        registry.session(&busy.session_id).await.expect("live while used");
    }
    clock.advance(ABSOLUTE_TIMEOUT_US - elapsed);
    assert!(registry.session(&busy.session_id).await.is_err(), "ended 12 hours after sign-in");

    // Sign-out deletes the session.
    let third = registry.sign_in("aiko@example.jp", &password, None, None, None).await.expect("sign in");
    registry.sign_out(&third.session_id).await.expect("sign out");
    assert!(registry.session(&third.session_id).await.is_err());

    // Rate limit: five failures from one address block the sixth attempt, even a right one.
    let ip = Some("192.0.2.7".parse().expect("ip"));
    for _ in 0..5 {
        let e = registry.sign_in("kenji@example.jp", &Password::new("guess guess"), None, ip, None).await;
        assert!(matches!(e, Err(AppError::Unauthenticated)), "{e:?}");
    }
    let blocked = registry.sign_in("kenji@example.jp", &password, None, ip, None).await;
    assert!(matches!(blocked, Err(AppError::TooManyRequests(s)) if s > 0 && s <= 15 * 60), "{blocked:?}");
    clock.advance(15 * 60_000_000 + 1);
    registry.sign_in("kenji@example.jp", &password, None, ip, None).await.expect("after the window");

    // TOTP: enrolment needs a current code; then sign-in needs one, and the session is strong.
    let session = registry
        .session(&registry.sign_in("aiko@example.jp", &password, None, None, None).await.expect("in").session_id)
        .await
        .expect("live");
    let secret = furrow_app::accounts::new_totp_secret();
    let now = u64::try_from(clock.now().0 / 1_000_000).expect("positive");
    let code = |t: u64| format!("{:06}", totp::totp(&secret, t, 6));
    assert!(registry.enrol_totp(&session, &secret, &code(now + 600)).await.is_err(), "a wrong code enrols nothing");
    registry.enrol_totp(&session, &secret, &code(now)).await.expect("enrol");
    let without = registry.sign_in("aiko@example.jp", &password, None, None, None).await;
    assert!(matches!(without, Err(AppError::Unauthenticated)), "a code is now required");
    // The next step's code (within the drift window); the enrolment's code is spent.
    let spent = registry.sign_in("aiko@example.jp", &password, Some(&code(now)), None, None).await;
    assert!(matches!(spent, Err(AppError::Unauthenticated)), "a code is good once");
    let with = registry.sign_in("aiko@example.jp", &password, Some(&code(now + 30)), None, None).await.expect("code");
    assert_eq!(registry.session(&with.session_id).await.expect("live").principal.proof, Proof::PasswordAndTotp);
    let replay = registry.sign_in("aiko@example.jp", &password, Some(&code(now + 30)), None, None).await;
    assert!(matches!(replay, Err(AppError::Unauthenticated)), "a replayed code is refused");

    // Four-eyes role grants: operator waits for a second admin; verifier is granted at once.
    let (alice, bob) = (admin("admin alice"), admin("admin bob"));
    let request = registry.request_role(&alice, kenji.id, Role::Operator, &[]).await.expect("request");
    assert!(request.approved_at.is_none(), "pending");
    assert_eq!(fixture.store.user(kenji.id).await.expect("read").expect("user").role, Role::Verifier, "not yet");
    let own = registry.approve_role(&alice, request.id).await;
    assert!(matches!(own, Err(AppError::FourEyes(_))), "{own:?}");
    let weak = Principal { proof: Proof::Password, ..bob.clone() };
    assert!(matches!(registry.approve_role(&weak, request.id).await, Err(AppError::Forbidden(_))));
    let operator = Principal { subject: "op".into(), role: Role::Operator, accounts: vec![], proof: Proof::Token };
    assert!(matches!(registry.approve_role(&operator, request.id).await, Err(AppError::Forbidden(_))));
    let granted = registry.approve_role(&bob, request.id).await.expect("second admin approves");
    assert_eq!(granted.approved_by.as_deref(), Some("admin bob"));
    assert_eq!(fixture.store.user(kenji.id).await.expect("read").expect("user").role, Role::Operator);
    assert!(registry.approve_role(&bob, request.id).await.is_err(), "applied once only");
    let at_once = registry.request_role(&alice, aiko.id, Role::Verifier, &[]).await.expect("request");
    assert!(at_once.approved_at.is_some());
    assert_eq!(registry.role_requests(&alice).await.expect("list").len(), 2);

    let kinds = kinds(&fixture).await;
    for kind in [
        "user_created",
        "sign_in_failed",
        "sign_in_succeeded",
        "session_expired",
        "signed_out",
        "totp_failed",
        "totp_enrolled",
        "role_requested",
        "role_granted",
        "permission_denied",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "no {kind} event in {kinds:?}");
    }
}

on_every_backend!(users_sessions_and_role_grants_behave_alike, super::users_sessions_and_role_grants);
