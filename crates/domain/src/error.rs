//! Errors of the pure domain. Each variant says what was wrong in words a user can act on.

use std::fmt;

use crate::ids::{AccountId, BatchId, Quantity};
use crate::model::BlockState;
use crate::serial::SerialRange;

/// A value that did not parse (a serial, an id, a date…).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub what: &'static str,
    pub input: String,
    pub reason: String,
}

impl ParseError {
    pub fn new(what: &'static str, input: &str, reason: &str) -> Self {
        // Keep error messages bounded even when the input is huge.
        let input: String = input.chars().take(80).collect();
        Self { what, input, reason: reason.to_owned() }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {} {:?}: {}", self.what, self.input, self.reason)
    }
}

impl std::error::Error for ParseError {}

/// Why a command was refused. A refused command changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("the program is already initialised")]
    AlreadyInitialised,
    #[error("the program is not initialised yet: run `furrow init` first")]
    NotInitialised,
    #[error("account {0} does not exist")]
    UnknownAccount(AccountId),
    #[error("batch {0} does not exist")]
    UnknownBatch(BatchId),
    #[error("{0}")]
    Invalid(String),
    #[error("account {account} (kind: {kind}) cannot {action}")]
    WrongAccountKind { account: AccountId, kind: &'static str, action: &'static str },
    #[error("account {account} holds {available} tradable credits{scope}, {requested} requested")]
    InsufficientCredits { account: AccountId, available: Quantity, requested: Quantity, scope: String },
    #[error("serials {range} are {state}, not tradable: {hint}")]
    NotTradable { range: SerialRange, state: BlockState, hint: &'static str },
    #[error("serials {range} are held by account {holder}, not by {account}")]
    NotHeldBy { range: SerialRange, holder: AccountId, account: AccountId },
    #[error("serials {0} were never issued")]
    NotIssued(SerialRange),
    #[error("serial ranges {0} and {1} overlap")]
    OverlappingRanges(SerialRange, SerialRange),
    #[error("the program's serial counter would overflow")]
    SerialOverflow,
}

impl DomainError {
    /// A stable, machine-readable name for the error, used as the problem type by the API.
    pub fn code(&self) -> &'static str {
        match self {
            Self::AlreadyInitialised => "already-initialised",
            Self::NotInitialised => "not-initialised",
            Self::UnknownAccount(_) => "unknown-account",
            Self::UnknownBatch(_) => "unknown-batch",
            Self::Invalid(_) => "invalid-command",
            Self::WrongAccountKind { .. } => "wrong-account-kind",
            Self::InsufficientCredits { .. } => "insufficient-credits",
            Self::NotTradable { .. } => "serials-not-tradable",
            Self::NotHeldBy { .. } => "serials-not-held",
            Self::NotIssued(_) => "serials-not-issued",
            Self::OverlappingRanges(..) => "overlapping-ranges",
            Self::SerialOverflow => "serial-overflow",
        }
    }

    /// Whether the refusal is about the current state (409) rather than the request itself (422).
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            Self::AlreadyInitialised
                | Self::NotInitialised
                | Self::InsufficientCredits { .. }
                | Self::NotTradable { .. }
                | Self::NotHeldBy { .. }
                | Self::SerialOverflow
        )
    }
}

impl From<ParseError> for DomainError {
    fn from(e: ParseError) -> Self {
        Self::Invalid(e.to_string())
    }
}
