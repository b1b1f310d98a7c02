//! Commands (what a user asks for) and events (what happened, as recorded in the log).

use crate::ids::{
    AccountId, BatchId, CancellationId, CountryCode, ProgramCode, ProjectCode, Quantity, RetirementId, Vintage,
};
use crate::lifecycle::{LifecycleCommand, LifecycleEvent};
use crate::model::{Account, AccountKind, CancellationReason, Program, RetirementClaim};
use crate::sales::SalesCommand;
use crate::serial::SerialRange;

/// Which credits a transfer, retirement or cancellation uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// The oldest serials first (lowest integers), optionally only from one batch. Within the last,
    /// partly used block the holder keeps the low range and the high range moves.
    Quantity { quantity: Quantity, batch: Option<BatchId> },
    /// Exactly these serials. Each range may span several adjacent blocks of the holder.
    Ranges(Vec<SerialRange>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueCommand {
    pub project: ProjectCode,
    /// Defaults to the program's home country.
    pub country: Option<CountryCode>,
    pub vintage: Vintage,
    /// Credits that go to the holder, tradable.
    pub quantity: Quantity,
    /// Credits that go to the program's buffer pool.
    pub buffer: Quantity,
    pub to: AccountId,
    pub labels: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    InitialiseProgram {
        code: ProgramCode,
        country: CountryCode,
        name: String,
    },
    OpenAccount {
        kind: AccountKind,
        name: String,
    },
    Issue(IssueCommand),
    Transfer {
        from: AccountId,
        to: AccountId,
        selection: Selection,
    },
    Retire {
        from: AccountId,
        selection: Selection,
        claim: RetirementClaim,
    },
    Cancel {
        from: AccountId,
        selection: Selection,
        reason: CancellationReason,
        note: String,
    },
    /// Announces the verifier key that signs checkpoints from now on (key rotation). The
    /// checkpoint covering this entry is still signed with the previous key, which is what lets
    /// a verifier trust the new one.
    PublishLogKey {
        vkey: String,
    },
    /// A program-lifecycle command. `by` is the acting user (the token's subject, filled in by the
    /// application), so that rules about people, like four-eyes issuance, are domain rules.
    Lifecycle {
        by: String,
        command: LifecycleCommand,
    },
    /// A sales command (issue #7); `by` as for `Lifecycle`.
    Sales {
        by: String,
        command: SalesCommand,
    },
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Self::InitialiseProgram { .. } => "initialise_program",
            Self::OpenAccount { .. } => "open_account",
            Self::Issue(_) => "issue",
            Self::Transfer { .. } => "transfer",
            Self::Retire { .. } => "retire",
            Self::Cancel { .. } => "cancel",
            Self::PublishLogKey { .. } => "publish_log_key",
            Self::Lifecycle { command, .. } => command.name(),
            Self::Sales { command, .. } => command.name(),
        }
    }
}

/// The facts of a new batch as recorded in the log (its issue time is the log entry's time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchIssued {
    pub id: BatchId,
    pub project: ProjectCode,
    pub country: CountryCode,
    pub vintage: Vintage,
    pub serials: SerialRange,
    pub buffer: Quantity,
    pub labels: Vec<String>,
    pub to: AccountId,
}

/// A state change. Events carry resolved, exact serial ranges, so replaying them needs no decisions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Creates the program and its four system accounts (issuance, buffer, retirement, cancellation).
    ProgramInitialised {
        program: Program,
    },
    AccountOpened {
        account: Account,
    },
    BatchIssued(BatchIssued),
    Transferred {
        from: AccountId,
        to: AccountId,
        ranges: Vec<SerialRange>,
    },
    Retired {
        id: RetirementId,
        account: AccountId,
        ranges: Vec<SerialRange>,
        claim: RetirementClaim,
    },
    Cancelled {
        id: CancellationId,
        account: AccountId,
        ranges: Vec<SerialRange>,
        reason: CancellationReason,
        note: String,
    },
    /// A verifier key for the log's checkpoints (C2SP vkey text).
    LogKeyPublished {
        vkey: String,
    },
    Lifecycle(LifecycleEvent),
    /// Credits reserved for a sale: the blocks stay with their holder, in state `escrowed`.
    Escrowed {
        account: AccountId,
        ranges: Vec<SerialRange>,
    },
    /// Escrowed credits made tradable again (a cancelled or expired sale).
    EscrowReleased {
        account: AccountId,
        ranges: Vec<SerialRange>,
    },
}

impl Event {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::ProgramInitialised { .. } => "program_initialised",
            Self::AccountOpened { .. } => "account_opened",
            Self::BatchIssued(_) => "batch_issued",
            Self::Transferred { .. } => "transferred",
            Self::Retired { .. } => "retired",
            Self::Cancelled { .. } => "cancelled",
            Self::LogKeyPublished { .. } => "log_key_published",
            Self::Lifecycle(event) => event.kind(),
            Self::Escrowed { .. } => "escrowed",
            Self::EscrowReleased { .. } => "escrow_released",
        }
    }

    /// Every serial range the event touched, for serial history lookups.
    pub fn ranges(&self) -> Vec<SerialRange> {
        match self {
            Self::ProgramInitialised { .. }
            | Self::AccountOpened { .. }
            | Self::LogKeyPublished { .. }
            | Self::Lifecycle(_) => Vec::new(),
            Self::BatchIssued(b) => vec![b.serials],
            Self::Transferred { ranges, .. }
            | Self::Retired { ranges, .. }
            | Self::Cancelled { ranges, .. }
            | Self::Escrowed { ranges, .. }
            | Self::EscrowReleased { ranges, .. } => ranges.clone(),
        }
    }
}
