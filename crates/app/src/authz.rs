//! Who may do what: one match table, reviewed as code (SPEC §1). Object-level checks (a buyer
//! acts only for its own accounts) live here too, so no handler can forget them.

use furrow_domain::{AccountId, Command, Role};

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

/// Checks that `principal` may run `command`. Pure; unit-tested exhaustively below.
pub fn authorize(principal: &Principal, command: &Command) -> Result<(), AppError> {
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
    }
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
            let result = authorize(&principal(*role, accounts), command);
            assert_eq!(result.is_ok(), *allowed, "{role} {accounts:?} {}", command.name());
        }
    }
}
