//! Who may do what: one match table, reviewed as code (SPEC §1). Object-level checks (a buyer
//! acts only for its own accounts) live here too, so no handler can forget them.

use furrow_domain::lifecycle::{Lifecycle, LifecycleCommand, ProjectAction};
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
}

impl Principal {
    /// The program itself, for `furrow init` and the demo's seeding.
    pub fn system() -> Self {
        Self { subject: "system".into(), role: Role::Admin, accounts: Vec::new() }
    }
}

/// Checks that `principal` may run `command`. Pure; unit-tested exhaustively below. Object-level
/// rules about the lifecycle (a participant acts only on its own enrolments) read `lifecycle`;
/// the facts they read (who owns an enrolment) never change, so a snapshot is enough.
pub fn authorize(principal: &Principal, command: &Command, lifecycle: &Lifecycle) -> Result<(), AppError> {
    use Role::*;
    let role = principal.role;
    let staff_only = |allowed: &[Role], what: &str| {
        if allowed.contains(&role) { Ok(()) } else { Err(AppError::Forbidden(format!("a {role} token cannot {what}"))) }
    };
    match command {
        Command::InitialiseProgram { .. } => staff_only(&[Admin], "initialise the program"),
        Command::OpenAccount { .. } => staff_only(&[Admin, Operator], "open accounts"),
        Command::Issue(_) => staff_only(&[Operator], "issue credits"),
        Command::Cancel { .. } => staff_only(&[Operator], "cancel credits"),
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
        C::DraftMethodology { .. }
        | C::ApproveMethodology { .. }
        | C::DeprecateMethodology { .. }
        | C::DraftProject { .. }
        | C::TransitionProject { .. }
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
        | C::RequestWithdrawal { .. }
        | C::DecideWithdrawal { .. }
        | C::AddLabel { .. } => only(&[Operator]),
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
        Principal { subject: "t".into(), role, accounts: accounts.iter().map(|a| AccountId(*a)).collect() }
    }

    #[test]
    fn the_matrix() {
        let transfer = Command::Transfer {
            from: AccountId(7),
            to: AccountId(8),
            selection: Selection::Quantity { quantity: Quantity(1), batch: None },
        };
        let open = Command::OpenAccount { kind: furrow_domain::AccountKind::Buyer, name: "x".into() };
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
        ];
        for (role, accounts, command, allowed) in cases {
            let result = authorize(&principal(*role, accounts), command, &Lifecycle::default());
            assert_eq!(result.is_ok(), *allowed, "{role} {accounts:?} {}", command.name());
        }
    }
}
