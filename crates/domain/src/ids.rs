//! Identifier and quantity newtypes. Every id prints in one stable public form and parses back.

use std::fmt;
use std::str::FromStr;

use crate::error::ParseError;

/// Declares a numeric id with a one-letter public prefix and a minimum digit width, e.g. `A000012`.
macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $width:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u64);

        impl $name {
            pub const PREFIX: char = $prefix;
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}{:0width$}", $prefix, self.0, width = $width)
            }
        }

        impl FromStr for $name {
            type Err = ParseError;
            fn from_str(s: &str) -> Result<Self, ParseError> {
                let digits = s.strip_prefix($prefix).ok_or_else(|| {
                    ParseError::new(stringify!($name), s, concat!("must start with '", $prefix, "'"))
                })?;
                parse_digits(digits)
                    .map($name)
                    .ok_or_else(|| ParseError::new(stringify!($name), s, concat!("expected '", $prefix, "' followed by digits")))
            }
        }
    };
}

prefixed_id!(
    /// An account that holds serial blocks.
    AccountId, 'A', 6
);
prefixed_id!(
    /// A credit batch (one issuance). Printed inside every serial of the batch.
    BatchId, 'B', 6
);
prefixed_id!(
    /// A retirement, the permanent use of credits for a claim.
    RetirementId, 'R', 6
);
prefixed_id!(
    /// A cancellation: removal that is not a claim.
    CancellationId, 'C', 6
);
prefixed_id!(
    /// A project: one practice under one methodology version (`lifecycle`). Batches name the
    /// project they came from.
    ProjectCode, 'P', 4
);
prefixed_id!(
    /// A methodology version of the catalogue (`AG-005 v1.0` is one id; `v1.1` another).
    MethodologyId, 'M', 4
);
prefixed_id!(
    /// A participant (farmer or farm company). Its public name is a pseudonym.
    ParticipantId, 'F', 6
);
prefixed_id!(
    /// A parcel (field) of a participant.
    ParcelId, 'L', 6
);
prefixed_id!(
    /// The enrolment of one parcel in one project for a contract period.
    EnrolmentId, 'E', 6
);
prefixed_id!(
    /// An application to join a project.
    ApplicationId, 'J', 6
);
prefixed_id!(
    /// A monitoring report of one project and period.
    ReportId, 'N', 6
);
prefixed_id!(
    /// A request to issue the credits of one verified report (four-eyes).
    RequestId, 'I', 6
);
prefixed_id!(
    /// A recorded loss of stored carbon, compensated from the buffer pool.
    ReversalId, 'X', 6
);
prefixed_id!(
    /// A request to rotate the log's signing key, approved by a second admin (issue #8).
    KeyRotationId, 'K', 6
);

prefixed_id!(
    /// A price quote for a buyer (issue #7).
    QuoteId, 'Q', 6
);
prefixed_id!(
    /// A sale: an accepted quote whose credits are escrowed, then settled (retired) or released.
    SaleId, 'S', 6
);

/// Parses a non-empty run of ASCII digits without sign or whitespace.
pub(crate) fn parse_digits(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A number of credits (1 credit = 1 tCO2e). Never zero in a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Quantity(pub u64);

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The largest quantity one command may move. Keeps every sum over a program far from `u64` overflow
/// (a program would need 18 million maximal issuances to overflow the serial counter).
pub const MAX_QUANTITY: u64 = 1_000_000_000_000;

/// A program code, printed first in every serial (`AGR`). Two to eight upper-case letters or digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProgramCode(String);

impl ProgramCode {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ProgramCode {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let ok = (2..=8).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            && s.as_bytes()[0].is_ascii_uppercase();
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(ParseError::new("program code", s, "expected 2-8 upper-case letters or digits, starting with a letter"))
        }
    }
}

impl fmt::Display for ProgramCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An ISO 3166-1 alpha-2 country code (`JP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    pub fn as_str(&self) -> &str {
        // Both bytes are ASCII upper-case letters by construction.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl FromStr for CountryCode {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        match s.as_bytes() {
            [a, b] if a.is_ascii_uppercase() && b.is_ascii_uppercase() => Ok(Self([*a, *b])),
            _ => {
                Err(ParseError::new("country code", s, "expected two upper-case letters (ISO 3166-1 alpha-2, e.g. JP)"))
            }
        }
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A jurisdiction for a claim: ISO 3166-1 alpha-2 (`JP`) or ISO 3166-2 subdivision (`JP-13`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Jurisdiction(String);

impl Jurisdiction {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Jurisdiction {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let (country, sub) = match s.split_once('-') {
            Some((c, sub)) => (c, Some(sub)),
            None => (s, None),
        };
        let sub_ok = sub.is_none_or(|sub| {
            (1..=3).contains(&sub.len()) && sub.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        });
        if country.parse::<CountryCode>().is_ok() && sub_ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(ParseError::new("jurisdiction", s, "expected ISO 3166-1 alpha-2 or ISO 3166-2 (e.g. JP or JP-13)"))
        }
    }
}

impl fmt::Display for Jurisdiction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A vintage year (the monitoring period's year).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Vintage(u16);

impl Vintage {
    pub fn new(year: u16) -> Result<Self, ParseError> {
        if (1990..=2999).contains(&year) {
            Ok(Self(year))
        } else {
            Err(ParseError::new("vintage", &year.to_string(), "expected a year between 1990 and 2999"))
        }
    }
    pub fn year(self) -> u16 {
        self.0
    }
}

impl fmt::Display for Vintage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.0)
    }
}

/// A UTC instant in whole microseconds since the Unix epoch. Microseconds because SQLite and
/// PostgreSQL round-trip exactly that precision, and hashed bytes must not depend on the backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn micros(self) -> i64 {
        self.0
    }

    /// The UTC calendar date of this instant (dates before 1900 or after 2999 are clamped, which
    /// no log timestamp reaches).
    pub fn date(self) -> Date {
        let days = self.0.div_euclid(86_400_000_000);
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)).clamp(1900, 2999) as u16;
        Date::new(year, month, day).unwrap_or(Date { year, month: 1, day: 1 })
    }
}

/// A calendar date (proleptic Gregorian), used for claim periods. Printed as `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    pub fn new(year: u16, month: u8, day: u8) -> Result<Self, ParseError> {
        let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
        let days_in_month = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => 0,
        };
        if (1900..=2999).contains(&year) && day >= 1 && day <= days_in_month {
            Ok(Self { year, month, day })
        } else {
            Err(ParseError::new("date", &format!("{year:04}-{month:02}-{day:02}"), "not a valid calendar date"))
        }
    }
    pub fn year(self) -> u16 {
        self.year
    }
    pub fn month(self) -> u8 {
        self.month
    }
    pub fn day(self) -> u8 {
        self.day
    }
}

impl FromStr for Date {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let bad = || ParseError::new("date", s, "expected YYYY-MM-DD");
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(bad());
        }
        let year = parse_digits(&s[0..4]).ok_or_else(bad)?;
        let month = parse_digits(&s[5..7]).ok_or_else(bad)?;
        let day = parse_digits(&s[8..10]).ok_or_else(bad)?;
        Self::new(year as u16, month as u8, day as u8)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_reject_garbage() {
        assert_eq!(AccountId(12).to_string(), "A000012");
        assert_eq!("A000012".parse::<AccountId>(), Ok(AccountId(12)));
        assert_eq!("A1234567".parse::<AccountId>(), Ok(AccountId(1_234_567)));
        for bad in ["", "A", "B000012", "A-1", "A 1", "A+1", "a000012", "A99999999999999999999999"] {
            assert!(bad.parse::<AccountId>().is_err(), "{bad:?} should not parse");
        }
        assert_eq!(ProjectCode(12).to_string(), "P0012");
    }

    #[test]
    fn timestamps_have_dates() {
        assert_eq!(Timestamp(0).date().to_string(), "1970-01-01");
        assert_eq!(Timestamp(1_767_225_600_000_000).date().to_string(), "2026-01-01");
        assert_eq!(Timestamp(1_767_225_599_999_999).date().to_string(), "2025-12-31");
        assert_eq!(Timestamp(1_709_164_800_000_000).date().to_string(), "2024-02-29");
    }

    #[test]
    fn dates_are_validated() {
        assert_eq!("2024-02-29".parse::<Date>().map(|d| d.to_string()), Ok("2024-02-29".to_owned()));
        assert!("2023-02-29".parse::<Date>().is_err());
        assert!("2023-13-01".parse::<Date>().is_err());
        assert!("2023-1-01".parse::<Date>().is_err());
    }

    #[test]
    fn jurisdictions() {
        assert!("JP".parse::<Jurisdiction>().is_ok());
        assert!("JP-13".parse::<Jurisdiction>().is_ok());
        assert!("US-CA".parse::<Jurisdiction>().is_ok());
        assert!("jp".parse::<Jurisdiction>().is_err());
        assert!("JP-".parse::<Jurisdiction>().is_err());
        assert!("JPN".parse::<Jurisdiction>().is_err());
    }
}
