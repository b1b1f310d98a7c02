//! Errors of the pure domain. Each variant says what was wrong in words a user can act on.

use std::fmt;

use crate::ids::{AccountId, BatchId, EnrolmentId, ParcelId, Quantity, QuoteId, ReportId, RequestId, SaleId};
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
    #[error("{what} {id} does not exist")]
    Unknown { what: &'static str, id: String },
    #[error("{what} is {state}; it cannot {action}")]
    WrongState { what: String, state: String, action: &'static str },
    #[error("{0}")]
    Duplicate(String),
    /// Four-eyes (SPEC §9.5): whoever requested an issuance cannot approve it.
    #[error("{by} requested issuance {request} and cannot also approve it; another operator must")]
    SelfApproval { request: RequestId, by: String },
    #[error("quote {quote} has expired; ask for a new quote")]
    QuoteExpired { quote: QuoteId },
    /// The seed FAQ's answer: retired credits are non-refundable (`sales::NO_REFUND_REASON`).
    #[error("sale {sale} cannot be refunded: {}", crate::sales::NO_REFUND_REASON)]
    NoRefund { sale: SaleId },
    #[error("report {report} was already issued (request {request}); a report is issued at most once")]
    AlreadyIssued { report: ReportId, request: RequestId },
    #[error(
        "{parcel} overlaps parcel {other}, actively enrolled for an overlapping period (enrolment {enrolment}, {share}% of the smaller parcel)"
    )]
    ParcelOverlap { parcel: String, other: ParcelId, enrolment: EnrolmentId, share: u32 },
    #[error("{ground:?} is not a recognised ground for withdrawal; recognised: {allowed}")]
    UnrecognisedGround { ground: String, allowed: String },
    #[error("monitoring data of parcel {parcel}, field {field:?}: {reason}")]
    SchemaInvalid { parcel: ParcelId, field: String, reason: String },
    #[error("invalid parcel geometry: {0}")]
    InvalidGeometry(String),
    /// Registry controls (issue #8).
    #[error("frozen: {what} ({reason}); nothing can move it")]
    Frozen { what: String, reason: String },
    #[error("a transfer may move at most {limit} credits; {requested} requested")]
    OverTransferLimit { requested: Quantity, limit: Quantity },
    #[error("account {to} {why}; account {from} may transfer only to its trusted counterparties")]
    UntrustedCounterparty { from: AccountId, to: AccountId, why: String },
    #[error("{by} asked for {what} and cannot also approve it; another person must")]
    FourEyes { what: String, by: String },
    /// A verifier acts only on the projects (and their reports) an operator assigned to it.
    #[error("{detail}")]
    NotAssigned { detail: String },
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
            Self::Unknown { .. } => "unknown-object",
            Self::WrongState { .. } => "wrong-state",
            Self::Duplicate(_) => "duplicate",
            Self::SelfApproval { .. } => "self-approval",
            Self::AlreadyIssued { .. } => "report-already-issued",
            Self::ParcelOverlap { .. } => "parcel-overlap",
            Self::UnrecognisedGround { .. } => "unrecognised-withdrawal-ground",
            Self::SchemaInvalid { .. } => "schema-invalid",
            Self::InvalidGeometry(_) => "invalid-geometry",
            Self::Frozen { .. } => "frozen",
            Self::OverTransferLimit { .. } => "over-transfer-limit",
            Self::UntrustedCounterparty { .. } => "untrusted-counterparty",
            Self::FourEyes { .. } => "four-eyes",
            Self::NotAssigned { .. } => "not-assigned",
            Self::QuoteExpired { .. } => "quote-expired",
            Self::NoRefund { .. } => "no-refund",
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
                | Self::WrongState { .. }
                | Self::Duplicate(_)
                | Self::AlreadyIssued { .. }
                | Self::ParcelOverlap { .. }
                | Self::Frozen { .. }
                | Self::UntrustedCounterparty { .. }
                | Self::QuoteExpired { .. }
                | Self::NoRefund { .. }
        )
    }

    /// Whether the refusal is about who asks (403) rather than what is asked.
    pub fn is_forbidden(&self) -> bool {
        matches!(self, Self::SelfApproval { .. } | Self::FourEyes { .. } | Self::NotAssigned { .. })
    }
}

impl From<ParseError> for DomainError {
    fn from(e: ParseError) -> Self {
        Self::Invalid(e.to_string())
    }
}
