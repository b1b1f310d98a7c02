//! Furrow's registry rules, pure: no I/O, no clock, no randomness, no hash-map iteration.
//!
//! The same commands applied to the same state give the same events and the same state on every
//! machine. That is what lets the log be replayed, simulations be reproduced from a seed, and two
//! database backends be compared byte for byte.

pub mod command;
pub mod encoding;
pub mod error;
pub mod ids;
#[macro_use]
pub mod model;
pub mod invariants;
pub mod ledger;
pub mod lifecycle;
pub mod sales;
pub mod serial;
pub mod sim;

pub use command::{BatchIssued, Command, Event, IssueCommand, Selection};
pub use encoding::{DecodeError, LogEntry};
pub use error::{DomainError, ParseError};
pub use ids::*;
pub use ledger::{BlockChange, Effects, Ledger, Record};
pub use model::*;
pub use rust_decimal::Decimal;
pub use serial::{PrintableSerial, SerialQuery, SerialRange};
