//! The demo's review queues (issue #9): a second-factor operator and a verifier who can sign in,
//! and a few items left waiting in each queue, so that `/review` is not empty: an issuance
//! requested by another operator, a withdrawal, a reversal, a cancellation, a role grant, and a
//! report submitted on a project assigned to the verifier user.

use anyhow::{Context, Result, bail};
use furrow_app::accounts::{NewUser, subject_of};
use furrow_app::password::Password;
use furrow_app::{Principal, Registry};
use furrow_domain::lifecycle::{EnrolmentStatus, LifecycleCommand, ReportStatus, RequestStatus};
use furrow_domain::{AccountKind, CancellationReason, Event, ProjectCode, Quantity, Role, Selection};

use super::{OPERATOR_A, evidence, lifecycle, period, sado_report, staff};

/// Who can sign in to review, for the banner.
pub struct Reviewers {
    /// `(e-mail, what)` lines, like the other demo users'.
    pub users: Vec<(String, String)>,
    pub operator_email: &'static str,
    /// The operator's TOTP secret in base32: any authenticator app (or `oathtool --totp -b`).
    pub totp_key: String,
}

const OPERATOR: &str = "ren@furrow.demo";
const VERIFIER: &str = "vera@furrow.demo";
const NEWCOMER: &str = "yuki@furrow.demo";
const ORGANISATION: &str = "Furrow Agricultural Offset Program (demo)";

async fn user(registry: &Registry, email: &str, organisation: &str, role: Role, password: &str) -> Result<u64> {
    let new = NewUser {
        email: email.into(),
        organisation: organisation.into(),
        role,
        accounts: vec![],
        password: Password::new(password),
    };
    Ok(registry.create_user("furrow demo", &new).await?.id)
}

/// The subject of the demo user with this e-mail address.
async fn subject(registry: &Registry, email: &str) -> Result<String> {
    let user = registry.store().user_by_email(email).await?.with_context(|| format!("no demo user {email}"))?;
    Ok(subject_of(&user))
}

/// Creates the reviewers (same password as the other demo users) and fills the queues.
pub async fn seed(registry: &Registry, password: &str) -> Result<Reviewers> {
    let ren = user(registry, OPERATOR, ORGANISATION, Role::Operator, password).await?;
    let secret = furrow_app::accounts::new_totp_secret();
    registry.store().set_user_totp(ren, Some(&secret)).await?;
    let vera = user(registry, VERIFIER, "Japan Quality Assurance (demo)", Role::Verifier, password).await?;
    let yuki = user(registry, NEWCOMER, ORGANISATION, Role::Verifier, password).await?;
    let vera_subject = format!("user-{vera}");
    let lc = registry.lifecycle();

    // Issuance of the drainage project's verified 2026 season, asked for by Aiko (the operator
    // user): Ren, or Kenji once he sets up TOTP, approves it; Aiko cannot.
    let aiko = subject(registry, "aiko@furrow.demo").await?;
    let issued: Vec<_> =
        lc.requests.values().filter(|r| r.status == RequestStatus::Approved).map(|r| r.report).collect();
    let waiting = lc.reports.values().filter(|r| r.status == ReportStatus::Verified).find(|r| !issued.contains(&r.id));
    let Some(report) = waiting.map(|r| r.id) else { bail!("no verified report left to request issuance for") };
    let aiko_principal = staff(&aiko, Role::Operator);
    lifecycle(registry, &aiko_principal, LifecycleCommand::RequestIssuance { report, labels: vec![] }).await?;

    // A Kanto grower's withdrawal (not the demo's participant user, whose own request is theirs
    // to make), a reversal on the drainage project and a correction to cancel, each asked for by
    // the operator token's person.
    let op = staff(OPERATOR_A, Role::Operator);
    let enrolment = lc
        .enrolments
        .values()
        .rfind(|e| e.project == ProjectCode(4) && e.status == EnrolmentStatus::Active)
        .context("no Kanto enrolment")?;
    let withdrawal = LifecycleCommand::RequestWithdrawal {
        enrolment: enrolment.id,
        ground: "retirement from farming".into(),
        note: "retiring after the 2026 season".into(),
        salt: [0; 32],
    };
    lifecycle(registry, &op, withdrawal).await?;
    let reversal = LifecycleCommand::RecordReversal {
        project: ProjectCode(1),
        quantity: Quantity(3),
        note: "Typhoon damage to the levee of a Shonai field, September 2026".into(),
    };
    lifecycle(registry, &op, reversal).await?;
    let accounts = registry.store().accounts(furrow_app::store::Page { after: None, limit: 500 }).await?;
    let minato = accounts
        .iter()
        .find(|a| a.kind == AccountKind::Buyer && a.name.starts_with("Minato"))
        .context("no Minato Regional Bank account")?;
    let cancel = LifecycleCommand::RequestCancellation {
        from: minato.id,
        selection: Selection::Quantity { quantity: Quantity(2), batch: None },
        reason: CancellationReason::Correction,
        note: "Duplicate transfer on 2026-09-30".into(),
    };
    lifecycle(registry, &op, cancel).await?;

    // A role grant waiting for a second admin.
    let admin = subject(registry, "admin@furrow.demo").await?;
    let admin = Principal { subject: admin, role: Role::Admin, accounts: vec![], proof: furrow_app::Proof::Token };
    registry.request_role(&admin, yuki, Role::Operator, &[]).await?;

    // The Sado project goes to the verifier user, with its 2026 season submitted for review.
    lifecycle(registry, &op, LifecycleCommand::AssignVerifier { project: ProjectCode(3), verifier: vera_subject })
        .await?;
    let parcels: Vec<_> = lc
        .enrolments
        .values()
        .filter(|e| e.project == ProjectCode(3) && e.status == EnrolmentStatus::Active)
        .map(|e| e.parcel)
        .collect();
    let mut spec = sado_report(ProjectCode(3), &parcels)?;
    spec.period = period("2026-04-01", "2026-10-31")?;
    spec.evidence = vec![evidence("sado-2026-water-management-records.pdf")];
    let events = lifecycle(registry, &op, LifecycleCommand::DraftReport { spec }).await?;
    let Some(Event::Lifecycle(furrow_domain::lifecycle::LifecycleEvent::ReportDrafted { id, .. })) = events.first()
    else {
        bail!("no report")
    };
    lifecycle(registry, &op, LifecycleCommand::SubmitReport { report: *id }).await?;

    Ok(Reviewers {
        users: vec![
            (OPERATOR.to_owned(), "operator with two-step sign-in: approves in /review".to_owned()),
            (VERIFIER.to_owned(), "verifier of the Sado project: verifies in /review".to_owned()),
            (NEWCOMER.to_owned(), "verifier whom the admin asked to make an operator".to_owned()),
        ],
        operator_email: OPERATOR,
        totp_key: furrow_app::totp::base32(&secret),
    })
}
