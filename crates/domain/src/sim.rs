//! Turns plain random numbers into registry commands, valid and invalid, for property tests and
//! seeded simulations. Pure: the same numbers and state always give the same command.

use crate::command::{Command, IssueCommand, Selection};
use crate::ids::{AccountId, BatchId, Date, Jurisdiction, ProjectCode, Quantity, Vintage};
use crate::ledger::Ledger;
use crate::model::{AccountKind, Beneficiary, CancellationReason, ClaimPeriod, RetirementClaim, RetirementPurpose};
use crate::serial::SerialRange;

/// Picks a command from six random numbers. About one command in five is expected to be refused
/// (too many credits, someone else's serials, retired serials…), so refusals are exercised too.
pub fn arbitrary_command(ledger: &Ledger, n: [u64; 6]) -> Command {
    let accounts: Vec<AccountId> = ledger.accounts().map(|a| a.id).collect();
    let pick_account = |x: u64| accounts.get((x as usize) % accounts.len().max(1)).copied().unwrap_or(AccountId(1));
    match n[0] % 10 {
        0 => Command::OpenAccount {
            kind: if n[1].is_multiple_of(2) { AccountKind::Participant } else { AccountKind::Buyer },
            name: format!("Holder {}", n[2] % 1000),
        },
        1 | 2 => Command::Issue(IssueCommand {
            project: ProjectCode(n[1] % 5),
            country: None,
            vintage: Vintage::new(2020 + (n[2] % 6) as u16).expect("valid year"),
            quantity: Quantity(1 + n[3] % 500),
            buffer: Quantity(n[4] % 3 * (n[3] % 50)),
            to: pick_account(n[5]),
            labels: if n[4].is_multiple_of(4) { vec!["J-Credit-eligible".into()] } else { Vec::new() },
        }),
        3..=5 => {
            Command::Transfer { from: pick_account(n[1]), to: pick_account(n[2]), selection: selection(ledger, n) }
        }
        6..=8 => Command::Retire { from: pick_account(n[1]), selection: selection(ledger, n), claim: claim(n[2]) },
        _ => Command::Cancel {
            from: pick_account(n[1]),
            selection: selection(ledger, n),
            reason: CancellationReason::ALL[(n[2] as usize) % CancellationReason::ALL.len()],
            note: "simulated".into(),
        },
    }
}

fn selection(ledger: &Ledger, n: [u64; 6]) -> Selection {
    let blocks: Vec<_> = ledger.blocks().collect();
    match (n[3] % 3, blocks.is_empty()) {
        (0, _) | (_, true) => {
            let batch = n[4].is_multiple_of(4).then(|| BatchId(1 + n[5] % 4));
            Selection::Quantity { quantity: Quantity(1 + n[4] % 300), batch }
        }
        (1, false) => {
            // A sub-range of one existing block, often held by someone else or already retired.
            let block = blocks[(n[4] as usize) % blocks.len()];
            let len = block.range.len().0;
            let offset = n[5] % len;
            let take = 1 + (n[5] / 7) % (len - offset);
            let start = block.range.start() + offset;
            Selection::Ranges(vec![SerialRange::new(start, start + take - 1).expect("inside the block")])
        }
        _ => {
            // A range anywhere, possibly spanning blocks or past the last issued serial.
            let last = blocks.last().map_or(1, |b| b.range.end());
            let start = 1 + n[4] % (last + 10);
            Selection::Ranges(vec![SerialRange::new(start, start + n[5] % 40).expect("start >= 1")])
        }
    }
}

/// A believable retirement claim, varied by `n` (beneficiary and purpose).
pub fn claim(n: u64) -> RetirementClaim {
    let beneficiaries = ["Kansai Rail Co., Ltd.", "Hokuriku Foods K.K.", "Example Airlines", "City of Niigata"];
    RetirementClaim {
        beneficiary: Beneficiary {
            name: beneficiaries[(n as usize) % beneficiaries.len()].into(),
            country: "JP".parse().ok(),
            identifier: None,
        },
        purpose: RetirementPurpose::ALL[(n as usize) % RetirementPurpose::ALL.len()],
        claim_period: ClaimPeriod {
            from: Date::new(2025, 1, 1).expect("valid date"),
            to: Date::new(2025, 12, 31).expect("valid date"),
        },
        jurisdiction: "JP-15".parse::<Jurisdiction>().expect("valid jurisdiction"),
        note: String::new(),
    }
}

/// The commands that set up a program, used by tests and the demo as a starting point.
pub fn genesis() -> Command {
    Command::InitialiseProgram {
        code: "AGR".parse().expect("valid code"),
        country: "JP".parse().expect("valid country"),
        name: "Furrow Agricultural Offset Program".into(),
    }
}
