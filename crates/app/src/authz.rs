//! Who may do what: one match table, reviewed as code (SPEC §1). Object-level checks (a buyer
//! acts only for its own accounts) live here too, so no handler can forget them.

use furrow_domain::lifecycle::{Lifecycle, LifecycleCommand, ProjectAction};
use furrow_domain::sales::SalesCommand;
use furrow_domain::{AccountId, Command, EnrolmentId, ParticipantId, Role};

use crate::error::AppError;

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Recorded as the actor of every log entry the caller causes.
    pub subject: String,
    pub role: Role,
    /// The accounts a buyer or participant may act for.
    pub accounts: Vec<AccountId>,
    /// How the caller proved who it is.
    pub proof: Proof,
}

/// How a caller authenticated, for the commands that need more than a password (SPEC §1, issue
/// #8: a second factor for issuance approval, cancellation approval, key operations and role
/// grants).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// An API token (or the program itself). Tokens are created only at the server, by someone
    /// with shell access to it and its database, which is a stronger proof than any second factor;
    /// an admin revokes a stolen one at once. So tokens count as strong.
    Token,
    /// A web session signed in with a password only.
    Password,
    /// A web session signed in with a password and a TOTP code.
    PasswordAndTotp,
}

impl Proof {
    /// Whether this proof may run the commands that need a second factor.
    pub fn is_strong(self) -> bool {
        !matches!(self, Proof::Password)
    }
}

/// Whether a command needs a strong proof ([`Proof::is_strong`]): issuance, cancellation and
/// reversal approvals, and publishing a log key.
pub fn needs_second_factor(command: &Command) -> bool {
    use LifecycleCommand as C;
    match command {
        Command::PublishLogKey { .. } => true,
        Command::Lifecycle { command, .. } => {
            matches!(
                command,
                C::ApproveIssuance { .. }
                    | C::ApproveCancellation { .. }
                    | C::ApproveReversal { .. }
                    | C::ApproveKeyRotation { .. }
            )
        }
        _ => false,
    }
}

impl Principal {
    /// The program itself, for `furrow init` and the demo's seeding.
    pub fn system() -> Self {
        Self {
            subject: furrow_domain::invariants::SYSTEM_ACTOR.into(),
            role: Role::Admin,
            accounts: Vec::new(),
            proof: Proof::Token,
        }
    }
}

/// Checks that `principal` may run `command`. Pure; unit-tested exhaustively below. Object-level
/// rules about the lifecycle (a participant acts only on its own enrolments) read `lifecycle`;
/// the facts they read (who owns an enrolment) never change, so a snapshot is enough.
pub fn authorize(principal: &Principal, command: &Command, lifecycle: &Lifecycle) -> Result<(), AppError> {
    use Role::*;
    if needs_second_factor(command) && !principal.proof.is_strong() {
        return Err(AppError::Forbidden(format!(
            "{} needs a second factor: enrol TOTP at /me and sign in again with a code",
            command.name().replace('_', " ")
        )));
    }
    let role = principal.role;
    let staff_only = |allowed: &[Role], what: &str| {
        if allowed.contains(&role) { Ok(()) } else { Err(AppError::Forbidden(format!("a {role} token cannot {what}"))) }
    };
    match command {
        Command::InitialiseProgram { .. } => staff_only(&[Admin], "initialise the program"),
        Command::OpenAccount { .. } => staff_only(&[Admin, Operator], "open accounts"),
        // Every issuance is four-eyes: an operator requests it for a verified report and another
        // approves it (`LifecycleCommand::RequestIssuance`, `ApproveIssuance`; SPEC §2, invariant
        // 5). Direct issuance is the program's own, for credits that predate the registry
        // (migration) and for test fixtures; no token can ask for it.
        Command::Issue(_) if *principal == Principal::system() => Ok(()),
        Command::Issue(_) => Err(AppError::Forbidden(
            "credits are issued only from a verified monitoring report: an operator requests issuance, \
             another operator approves it (POST /api/v1/issuance-requests)"
                .into(),
        )),
        // Cancellation is four-eyes (`RequestCancellation`, then `ApproveCancellation` by another
        // operator); only the program itself cancels in one step (e.g. the demo's seeding).
        Command::Cancel { .. } if *principal == Principal::system() => Ok(()),
        Command::Cancel { .. } => Err(AppError::Forbidden(
            "a cancellation needs two operators: request it, then another operator approves it".into(),
        )),
        Command::PublishLogKey { .. } => staff_only(&[Admin], "publish log keys"),
        Command::Transfer { from, .. } | Command::Retire { from, .. } => match role {
            Operator => Ok(()),
            Buyer | Participant if principal.accounts.contains(from) => Ok(()),
            Buyer | Participant => Err(AppError::Forbidden(format!("this token may not act for account {from}"))),
            Admin | Verifier => Err(AppError::Forbidden(format!("a {role} token cannot move credits"))),
        },
        Command::Lifecycle { by, command } => {
            if *by != principal.subject {
                return Err(AppError::Forbidden(format!(
                    "the acting user ({by}) must be the token's subject ({})",
                    principal.subject
                )));
            }
            authorize_lifecycle(principal, command, lifecycle)
        }
        Command::Sales { by, command } => {
            if *by != principal.subject {
                return Err(AppError::Forbidden(format!(
                    "the acting user ({by}) must be the token's subject ({})",
                    principal.subject
                )));
            }
            authorize_sales(principal, command, lifecycle)
        }
    }
}

/// Operators run sales. A buyer asks for quotes for its own accounts, accepts its own quotes,
/// names the claim (beneficiary, purpose) of its own unsettled sales and cancels them; settlement
/// (payment recorded) and payouts are the operator's.
fn authorize_sales(principal: &Principal, command: &SalesCommand, lifecycle: &Lifecycle) -> Result<(), AppError> {
    use SalesCommand as C;
    let role = principal.role;
    if role == Role::Operator {
        return Ok(());
    }
    let sales = &lifecycle.sales;
    let own_buyer = |account: AccountId| role == Role::Buyer && principal.accounts.contains(&account);
    let allowed = match command {
        C::CreateQuote { buyer, .. } => own_buyer(*buyer),
        C::AcceptQuote { quote } => sales.quotes.get(quote).is_some_and(|q| own_buyer(q.buyer)),
        C::CancelSale { sale, .. } | C::Refund { sale, .. } | C::StateClaim { sale, .. } => {
            sales.sales.get(sale).is_some_and(|s| own_buyer(s.buyer))
        }
        C::RecordPricing { .. }
        | C::Settle { .. }
        | C::ExpireSale { .. }
        | C::PayPayout { .. }
        | C::RecordNote { .. } => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!("a {role} token cannot {} here", command.name().replace('_', " "))))
    }
}

fn authorize_lifecycle(
    principal: &Principal,
    command: &LifecycleCommand,
    lifecycle: &Lifecycle,
) -> Result<(), AppError> {
    use LifecycleCommand as C;
    use Role::*;
    let role = principal.role;
    let only = |allowed: &[Role]| {
        if allowed.contains(&role) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!("a {role} token cannot {}", command.name().replace('_', " "))))
        }
    };
    match command {
        C::ConfigureWithdrawalGrounds { .. } => only(&[Admin, Operator]),
        C::TransitionProject { action: ProjectAction::Validate, .. } => only(&[Verifier]),
        // The domain holds a verifier to its assignment when it validates or verifies; a
        // rejection may come from an operator too, so the verifier's case is checked here.
        C::TransitionProject { action: ProjectAction::Reject, project, .. } if role == Verifier => {
            match lifecycle.projects.get(project).and_then(|p| p.verifier.as_deref()) {
                Some(assigned) if assigned == principal.subject => Ok(()),
                _ => Err(AppError::Forbidden(format!("project {project} is not assigned to this verifier"))),
            }
        }
        C::TransitionProject { action: ProjectAction::Reject, .. } => only(&[Verifier, Operator]),
        C::VerifyReport { .. } | C::ReturnReport { .. } => only(&[Verifier]),
        C::ApplyToJoin { applicant, .. } if role == Participant => match applicant {
            Some(p) if owns_participant(principal, lifecycle, *p) => Ok(()),
            _ => Err(AppError::Forbidden("a participant applies only as itself (applicant: its own id)".into())),
        },
        C::RequestWithdrawal { enrolment, .. } if role == Participant => {
            if owns_enrolment(principal, lifecycle, *enrolment) {
                Ok(())
            } else {
                Err(AppError::Forbidden(format!("enrolment {enrolment} is not this participant's")))
            }
        }
        C::ConfigureControls { .. } => only(&[Admin]),
        C::RequestKeyRotation { .. } | C::ApproveKeyRotation { .. } => only(&[Admin]),
        C::FreezeAccount { .. } | C::FreezeSerials { .. } | C::ApproveCounterparty { .. } => only(&[Admin, Operator]),
        C::ProposeCounterparty { account, .. } | C::RemoveCounterparty { account, .. }
            if matches!(role, Buyer | Participant) =>
        {
            if principal.accounts.contains(account) {
                Ok(())
            } else {
                Err(AppError::Forbidden(format!("this token may not act for account {account}")))
            }
        }
        C::ProposeCounterparty { .. } | C::RemoveCounterparty { .. } => only(&[Operator]),
        C::RequestCancellation { .. } | C::ApproveCancellation { .. } => only(&[Operator]),
        C::DraftMethodology { .. }
        | C::ApproveMethodology { .. }
        | C::DeprecateMethodology { .. }
        | C::DraftProject { .. }
        | C::TransitionProject { .. }
        | C::AssignVerifier { .. }
        | C::SetParticipation { .. }
        | C::ApplyToJoin { .. }
        | C::DeclineApplication { .. }
        | C::AcceptApplication { .. }
        | C::RegisterParticipant { .. }
        | C::RegisterParcel { .. }
        | C::Enrol { .. }
        | C::DraftReport { .. }
        | C::SubmitReport { .. }
        | C::RequestIssuance { .. }
        | C::ApproveIssuance { .. }
        | C::RecordReversal { .. }
        | C::ApproveReversal { .. }
        | C::RequestWithdrawal { .. }
        | C::DecideWithdrawal { .. }
        | C::AddLabel { .. } => only(&[Operator]),
    }
}

/// What a restricted read is about, for [`authorize_read`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadScope {
    /// An account's private settings (its trusted counterparties): its holder's tokens and staff.
    Account(AccountId),
    /// Program staff only (pending cancellations).
    Staff,
}

/// Checks that `principal` (none: the public) may read something that is not public.
pub fn authorize_read(principal: Option<&Principal>, scope: ReadScope) -> Result<(), AppError> {
    let principal = principal.ok_or(AppError::Unauthenticated)?;
    let staff = matches!(principal.role, Role::Admin | Role::Operator);
    match scope {
        _ if staff => Ok(()),
        ReadScope::Account(id) if principal.accounts.contains(&id) => Ok(()),
        ReadScope::Account(id) => Err(AppError::Forbidden(format!("this token may not read account {id}'s settings"))),
        ReadScope::Staff => Err(AppError::Forbidden(format!("a {} token cannot read this", principal.role))),
    }
}

/// Whether the participant's account is one the token acts for.
pub fn owns_participant(principal: &Principal, lifecycle: &Lifecycle, participant: ParticipantId) -> bool {
    lifecycle.participants.get(&participant).is_some_and(|p| principal.accounts.contains(&p.account))
}

fn owns_enrolment(principal: &Principal, lifecycle: &Lifecycle, enrolment: EnrolmentId) -> bool {
    lifecycle.enrolments.get(&enrolment).is_some_and(|e| owns_participant(principal, lifecycle, e.participant))
}

#[cfg(test)]
mod tests {
    use super::*;
    use furrow_domain::sim::genesis;
    use furrow_domain::{Quantity, Selection};

    fn principal(role: Role, accounts: &[u64]) -> Principal {
        Principal {
            subject: "t".into(),
            role,
            accounts: accounts.iter().map(|a| AccountId(*a)).collect(),
            proof: crate::Proof::Token,
        }
    }

    #[test]
    fn the_matrix() {
        let transfer = Command::Transfer {
            from: AccountId(7),
            to: AccountId(8),
            selection: Selection::Quantity { quantity: Quantity(1), batch: None },
        };
        let open = Command::OpenAccount { kind: furrow_domain::AccountKind::Buyer, name: "x".into() };
        let issue = Command::Issue(furrow_domain::IssueCommand {
            project: furrow_domain::ProjectCode(1),
            country: None,
            vintage: furrow_domain::Vintage::new(2025).expect("year"),
            quantity: Quantity(10),
            buffer: Quantity(0),
            to: AccountId(1),
            labels: Vec::new(),
        });
        let cases: &[(Role, &[u64], &Command, bool)] = &[
            (Role::Admin, &[], &genesis(), true),
            (Role::Operator, &[], &genesis(), false),
            (Role::Admin, &[], &open, true),
            (Role::Operator, &[], &open, true),
            (Role::Buyer, &[], &open, false),
            (Role::Operator, &[], &transfer, true),
            (Role::Buyer, &[7], &transfer, true),
            (Role::Buyer, &[8], &transfer, false),
            (Role::Participant, &[7], &transfer, true),
            (Role::Participant, &[], &transfer, false),
            (Role::Verifier, &[7], &transfer, false),
            (Role::Admin, &[], &transfer, false),
            (Role::Operator, &[], &issue, false),
            (Role::Admin, &[], &issue, false),
        ];
        for (role, accounts, command, allowed) in cases {
            let result = authorize(&principal(*role, accounts), command, &Lifecycle::default());
            assert_eq!(result.is_ok(), *allowed, "{role} {accounts:?} {}", command.name());
        }
        // Only the program itself issues directly (migration, fixtures); an admin token is not it.
        assert!(authorize(&Principal::system(), &issue, &Lifecycle::default()).is_ok());
    }

    fn lifecycle(by: &str, command: LifecycleCommand) -> Command {
        Command::Lifecycle { by: by.into(), command }
    }

    /// A lifecycle where participant F000001 (account A000007) holds enrolment E000001.
    fn with_one_enrolment() -> Lifecycle {
        use furrow_domain::lifecycle::sealed::Sealed;
        use furrow_domain::lifecycle::*;
        let mut lc = Lifecycle::default();
        let participant = ParticipantId(1);
        lc.participants.insert(
            participant,
            Participant {
                id: participant,
                account: AccountId(7),
                pseudonym: "Participant F000001".into(),
                prefecture: "Niigata".into(),
                person: Sealed::commitment_only([0; 32]),
            },
        );
        let date = |s: &str| s.parse::<furrow_domain::Date>().expect("date");
        lc.enrolments.insert(
            EnrolmentId(1),
            Enrolment {
                id: EnrolmentId(1),
                project: furrow_domain::ProjectCode(1),
                parcel: furrow_domain::ParcelId(1),
                participant,
                period: Period { from: date("2025-01-01"), to: date("2027-12-31") },
                status: EnrolmentStatus::Active,
                withdrawal: None,
                history: vec![],
            },
        );
        lc
    }

    /// Who may run which lifecycle command, object-level checks included; and the acting user must
    /// be the token's subject.
    #[test]
    fn the_lifecycle_matrix() {
        use furrow_domain::lifecycle::*;
        use furrow_domain::{ReportId, RequestId};
        let lc = with_one_enrolment();
        let withdraw = |enrolment| LifecycleCommand::RequestWithdrawal {
            enrolment: EnrolmentId(enrolment),
            ground: "illness".into(),
            note: String::new(),
            salt: [1; 32],
        };
        let transition = |action| LifecycleCommand::TransitionProject {
            project: furrow_domain::ProjectCode(1),
            action,
            reason: String::new(),
        };
        let verify = LifecycleCommand::VerifyReport { report: ReportId(1) };
        let approve = LifecycleCommand::ApproveIssuance { request: RequestId(1) };
        let grounds = LifecycleCommand::ConfigureWithdrawalGrounds { grounds: vec![] };
        let cases: Vec<(Role, &[u64], LifecycleCommand, bool)> = vec![
            (Role::Operator, &[], approve.clone(), true),
            (Role::Verifier, &[], approve.clone(), false),
            (Role::Admin, &[], approve.clone(), false),
            (Role::Buyer, &[9], approve.clone(), false),
            (Role::Participant, &[7], approve, false),
            (Role::Verifier, &[], verify.clone(), true),
            (Role::Operator, &[], verify.clone(), false),
            (Role::Participant, &[7], verify, false),
            (Role::Verifier, &[], transition(ProjectAction::Validate), true),
            (Role::Operator, &[], transition(ProjectAction::Validate), false),
            (Role::Operator, &[], transition(ProjectAction::Register), true),
            (Role::Verifier, &[], transition(ProjectAction::Register), false),
            // A verifier rejects only a project assigned to it (below); this one has none.
            (Role::Verifier, &[], transition(ProjectAction::Reject), false),
            (Role::Operator, &[], transition(ProjectAction::Reject), true),
            (Role::Admin, &[], grounds.clone(), true),
            (Role::Operator, &[], grounds.clone(), true),
            (Role::Verifier, &[], grounds, false),
            (Role::Participant, &[7], withdraw(1), true),
            (Role::Participant, &[8], withdraw(1), false),
            (Role::Participant, &[7], withdraw(2), false),
            (Role::Operator, &[], withdraw(1), true),
            (Role::Buyer, &[7], withdraw(1), false),
        ];
        for (role, accounts, command, allowed) in cases {
            let name = command.name();
            let result = authorize(&principal(role, accounts), &lifecycle("t", command), &lc);
            assert_eq!(result.is_ok(), allowed, "{role} {accounts:?} {name}");
        }
        let other_actor = lifecycle("someone-else", withdraw(1));
        assert!(authorize(&principal(Role::Operator, &[]), &other_actor, &lc).is_err(), "the actor is the subject");

        let mut assigned = lc.clone();
        let date = |s: &str| s.parse::<furrow_domain::Date>().expect("date");
        let code = furrow_domain::ProjectCode(1);
        let spec = ProjectSpec {
            name: "P".into(),
            methodology: furrow_domain::MethodologyId(1),
            country: "JP".parse().expect("country"),
            region: "JP-15".into(),
            crediting: Period { from: date("2024-01-01"), to: date("2030-12-31") },
        };
        let project = |verifier: &str| Project {
            code,
            spec: spec.clone(),
            status: ProjectStatus::Submitted,
            history: vec![],
            participation: None,
            verifier: Some(verifier.into()),
        };
        let reject = || lifecycle("t", transition(ProjectAction::Reject));
        assigned.projects.insert(code, project("t"));
        assert!(authorize(&principal(Role::Verifier, &[]), &reject(), &assigned).is_ok(), "its own project");
        assigned.projects.insert(code, project("another verifier"));
        assert!(authorize(&principal(Role::Verifier, &[]), &reject(), &assigned).is_err(), "someone else's");
    }

    /// A session signed in with a password only may do what its role may, except approve
    /// issuance or cancellations or publish a log key: those need TOTP (or a token).
    #[test]
    fn approvals_need_a_second_factor() {
        use furrow_domain::RequestId;
        use furrow_domain::lifecycle::LifecycleCommand;
        let lc = with_one_enrolment();
        let approve = lifecycle("t", LifecycleCommand::ApproveIssuance { request: RequestId(1) });
        let cancel = lifecycle("t", LifecycleCommand::ApproveCancellation { request: 1 });
        let open = Command::OpenAccount { kind: furrow_domain::AccountKind::Buyer, name: "x".into() };
        for (proof, strong) in [(Proof::Token, true), (Proof::PasswordAndTotp, true), (Proof::Password, false)] {
            let p = Principal { proof, ..principal(Role::Operator, &[]) };
            assert_eq!(authorize(&p, &approve, &lc).is_ok(), strong, "{proof:?} approves issuance");
            assert_eq!(authorize(&p, &cancel, &lc).is_ok(), strong, "{proof:?} approves a cancellation");
            assert!(authorize(&p, &open, &lc).is_ok(), "{proof:?} opens an account");
        }
    }
}
