//! The registry's nouns: program, accounts, batches, serial blocks, retirements, cancellations.

use crate::ids::{
    AccountId, BatchId, CancellationId, CountryCode, Date, Jurisdiction, ProgramCode, ProjectCode, Quantity,
    RetirementId, Timestamp, Vintage,
};
use crate::serial::{PrintableSerial, SerialRange};

/// Declares a fieldless enum with a stable snake_case name and a stable one-byte tag for the
/// canonical encoding. Tags are part of the log format: never renumber one.
macro_rules! named_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $tag:literal, $text:literal;)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn tag(self) -> u8 {
                match self { $($name::$variant => $tag),+ }
            }
            pub fn from_tag(tag: u8) -> Option<Self> {
                match tag { $($tag => Some($name::$variant),)+ _ => None }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::error::ParseError;
            fn from_str(s: &str) -> Result<Self, $crate::error::ParseError> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::error::ParseError::new(stringify!($name), s, concat!("expected one of:" $(, " ", $text)+))),
                }
            }
        }
    };
}

named_enum!(
    /// What an account is for (SPEC §2).
    AccountKind {
        Issuance = 1, "issuance";
        Participant = 2, "participant";
        Buyer = 3, "buyer";
        Buffer = 4, "buffer";
        Retirement = 5, "retirement";
        Cancellation = 6, "cancellation";
    }
);

impl AccountKind {
    /// Accounts the program creates once at initialisation; there is exactly one of each.
    pub fn is_system(self) -> bool {
        matches!(self, Self::Issuance | Self::Buffer | Self::Retirement | Self::Cancellation)
    }
    /// Accounts whose credits can be transferred, retired or cancelled.
    pub fn holds_tradable(self) -> bool {
        matches!(self, Self::Issuance | Self::Participant | Self::Buyer)
    }
}

named_enum!(
    /// The state of a serial block.
    BlockState {
        Tradable = 1, "tradable";
        Escrowed = 2, "escrowed";
        Retired = 3, "retired";
        Cancelled = 4, "cancelled";
        Buffer = 5, "buffer";
    }
);

impl BlockState {
    /// Retired and cancelled blocks never change again (SPEC §9 invariant 3).
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Retired | Self::Cancelled)
    }
}

named_enum!(
    /// Why credits were retired.
    RetirementPurpose {
        VoluntaryOffset = 1, "voluntary_offset";
        Scope1 = 2, "scope1";
        Scope2 = 3, "scope2";
        Scope3 = 4, "scope3";
        Corsia = 5, "corsia";
        Other = 6, "other";
    }
);

named_enum!(
    /// Why credits were cancelled. A cancellation is never a claim.
    CancellationReason {
        ReversalCompensation = 1, "reversal_compensation";
        Correction = 2, "correction";
        Export = 3, "export";
        Other = 4, "other";
    }
);

/// The one program this deployment runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    pub code: ProgramCode,
    pub country: CountryCode,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub kind: AccountKind,
    /// Public display name. For participants this is a pseudonym: personal data never enters the log.
    pub name: String,
}

/// One issuance: a contiguous range of serials with the facts printed in each serial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub id: BatchId,
    pub project: ProjectCode,
    pub country: CountryCode,
    pub vintage: Vintage,
    pub serials: SerialRange,
    /// How many of the batch's serials went to the buffer pool (the top of the range).
    pub buffer: Quantity,
    pub labels: Vec<String>,
    pub issued_at: Timestamp,
}

impl Batch {
    pub fn printable(&self, program: &ProgramCode, range: SerialRange) -> PrintableSerial {
        PrintableSerial {
            program: program.clone(),
            country: self.country,
            project: self.project,
            vintage: self.vintage,
            batch: self.id,
            range,
        }
    }
}

/// The unit of ownership: a run of serials of one batch, held by one account, in one state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    pub range: SerialRange,
    pub batch: BatchId,
    pub account: AccountId,
    pub state: BlockState,
}

/// Who a retirement's claim is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Beneficiary {
    pub name: String,
    pub country: Option<CountryCode>,
    /// E.g. a company registration number or LEI.
    pub identifier: Option<String>,
}

/// The reporting period a claim applies to, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimPeriod {
    pub from: Date,
    pub to: Date,
}

/// Everything a retirement says besides which serials it used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetirementClaim {
    pub beneficiary: Beneficiary,
    pub purpose: RetirementPurpose,
    pub claim_period: ClaimPeriod,
    pub jurisdiction: Jurisdiction,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retirement {
    pub id: RetirementId,
    /// The account that held the credits before they were retired.
    pub account: AccountId,
    pub ranges: Vec<SerialRange>,
    pub claim: RetirementClaim,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cancellation {
    pub id: CancellationId,
    pub account: AccountId,
    pub ranges: Vec<SerialRange>,
    pub reason: CancellationReason,
    pub note: String,
    pub at: Timestamp,
}

/// Sum of the lengths of some ranges.
pub fn total(ranges: &[SerialRange]) -> Quantity {
    Quantity(ranges.iter().map(|r| r.len().0).sum())
}

named_enum!(
    /// The role a caller acts in (SPEC §1). The public needs no role.
    Role {
        Admin = 1, "admin";
        Operator = 2, "operator";
        Verifier = 3, "verifier";
        Participant = 4, "participant";
        Buyer = 5, "buyer";
    }
);
