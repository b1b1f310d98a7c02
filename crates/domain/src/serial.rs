//! Serial numbers: integer ranges and their printable form (SPEC §3).
//!
//! Printable form: `{PROGRAM}-{COUNTRY}-{PROJECT}-{VINTAGE}-{BATCH}-{START}-{END}`, for example
//! `AGR-JP-P0012-2025-B000041-000120001-000120500`. The integers are inclusive and come from one
//! program-wide counter, so `START` alone already identifies a credit; the other fields let a reader
//! check that a printed serial really belongs to the batch it claims.

use std::fmt;
use std::str::FromStr;

use crate::error::ParseError;
use crate::ids::{BatchId, CountryCode, ProgramCode, ProjectCode, Quantity, Vintage, parse_digits};

/// Minimum digit width of the serial integers in the printable form.
pub const SERIAL_WIDTH: usize = 9;

/// An inclusive, non-empty range of serial integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SerialRange {
    start: u64,
    end: u64,
}

impl SerialRange {
    pub fn new(start: u64, end: u64) -> Result<Self, ParseError> {
        if start == 0 {
            return Err(ParseError::new("serial range", &format!("{start}-{end}"), "serials start at 1"));
        }
        if start > end {
            return Err(ParseError::new("serial range", &format!("{start}-{end}"), "start is after end"));
        }
        Ok(Self { start, end })
    }

    /// The range of `quantity` serials beginning at `start`; `None` if empty or overflowing.
    pub fn starting_at(start: u64, quantity: Quantity) -> Option<Self> {
        let end = start.checked_add(quantity.0.checked_sub(1)?)?;
        Self::new(start, end).ok()
    }

    pub fn single(serial: u64) -> Result<Self, ParseError> {
        Self::new(serial, serial)
    }

    pub fn start(self) -> u64 {
        self.start
    }
    pub fn end(self) -> u64 {
        self.end
    }
    pub fn len(self) -> Quantity {
        Quantity(self.end - self.start + 1)
    }
    pub fn contains(self, serial: u64) -> bool {
        self.start <= serial && serial <= self.end
    }
    pub fn covers(self, other: SerialRange) -> bool {
        self.start <= other.start && other.end <= self.end
    }
    pub fn overlaps(self, other: SerialRange) -> bool {
        self.start <= other.end && other.start <= self.end
    }
    pub fn intersection(self, other: SerialRange) -> Option<SerialRange> {
        let start = self.start.max(other.start);
        let end = self.end.min(other.end);
        (start <= end).then_some(SerialRange { start, end })
    }
}

impl fmt::Display for SerialRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.start == self.end {
            write!(f, "{:0w$}", self.start, w = SERIAL_WIDTH)
        } else {
            write!(f, "{:0w$}-{:0w$}", self.start, self.end, w = SERIAL_WIDTH)
        }
    }
}

/// A serial range together with the batch facts that a printed serial carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintableSerial {
    pub program: ProgramCode,
    pub country: CountryCode,
    pub project: ProjectCode,
    pub vintage: Vintage,
    pub batch: BatchId,
    pub range: SerialRange,
}

impl fmt::Display for PrintableSerial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}-{}-{}-{}-{:0w$}-{:0w$}",
            self.program,
            self.country,
            self.project,
            self.vintage,
            self.batch,
            self.range.start,
            self.range.end,
            w = SERIAL_WIDTH
        )
    }
}

impl FromStr for PrintableSerial {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, ParseError> {
        let err = |reason: &str| ParseError::new("serial", s, reason);
        let parts: Vec<&str> = s.split('-').collect();
        let [program, country, project, vintage, batch, start, end] = parts.as_slice() else {
            return Err(err(
                "expected 7 fields PROGRAM-COUNTRY-PROJECT-VINTAGE-BATCH-START-END, e.g. AGR-JP-P0012-2025-B000041-000120001-000120500",
            ));
        };
        let integer = |field: &str, name: &str| -> Result<u64, ParseError> {
            if field.len() < SERIAL_WIDTH {
                return Err(err(&format!("{name} must have at least {SERIAL_WIDTH} digits")));
            }
            parse_digits(field).ok_or_else(|| err(&format!("{name} must be digits only")))
        };
        let vintage_year = if vintage.len() == 4 { parse_digits(vintage) } else { None };
        let vintage = vintage_year
            .and_then(|y| Vintage::new(y as u16).ok())
            .ok_or_else(|| err("vintage must be a four-digit year"))?;
        let (start, end) = (integer(start, "start")?, integer(end, "end")?);
        let range = SerialRange::new(start, end).map_err(|e| err(&e.reason))?;
        let printable = Self {
            program: program.parse().map_err(|e: ParseError| err(&format!("program: {}", e.reason)))?,
            country: country.parse().map_err(|e: ParseError| err(&format!("country: {}", e.reason)))?,
            project: project.parse().map_err(|e: ParseError| err(&format!("project: {}", e.reason)))?,
            vintage,
            batch: batch.parse().map_err(|e: ParseError| err(&format!("batch: {}", e.reason)))?,
            range,
        };
        // Only the canonical spelling is accepted, so that every credit has exactly one printable form.
        if printable.to_string() != s {
            return Err(err("not in canonical form (check zero padding of the project, batch and serial numbers)"));
        }
        Ok(printable)
    }
}

/// What a user may type to look up credits: a bare serial integer or a printable serial range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SerialQuery {
    Integer(u64),
    Printable(PrintableSerial),
}

impl SerialQuery {
    pub fn range(&self) -> SerialRange {
        match self {
            Self::Integer(n) => SerialRange { start: *n, end: *n },
            Self::Printable(p) => p.range,
        }
    }
}

impl FromStr for SerialQuery {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        if s.bytes().all(|b| b.is_ascii_digit()) {
            let n = parse_digits(s)
                .filter(|n| *n > 0)
                .ok_or_else(|| ParseError::new("serial", s, "expected a positive integer that fits in 64 bits"))?;
            return Ok(Self::Integer(n));
        }
        s.parse().map(Self::Printable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn spec_example_round_trips() {
        let s = "AGR-JP-P0012-2025-B000041-000120001-000120500";
        let p: PrintableSerial = s.parse().expect("spec example parses");
        assert_eq!(p.range, SerialRange::new(120_001, 120_500).expect("valid"));
        assert_eq!(p.batch, BatchId(41));
        assert_eq!(p.project, ProjectCode(12));
        assert_eq!(p.to_string(), s);
    }

    #[test]
    fn malformed_serials_are_refused_with_a_reason() {
        for bad in [
            "",
            "AGR",
            "AGR-JP-P0012-2025-B000041-000120001",
            "AGR-JP-P0012-2025-B000041-000120500-000120001",
            "AGR-JP-P0012-2025-B000041-120001-120500",
            "AGR-JP-P0012-25-B000041-000120001-000120500",
            "AGR-JPN-P0012-2025-B000041-000120001-000120500",
            "AGR-JP-P12-2025-B000041-000120001-000120500",
            "AGR-JP-P0012-2025-B41-000120001-000120500",
            "AGR-JP-P0012-2025-B000041-0001200x1-000120500",
            "AGR-JP-P0012-2025-B000041-000000000-000120500",
            "AGR-JP-P0012-2025-B000041-000120001-000120500-1",
            "agr-JP-P0012-2025-B000041-000120001-000120500",
            "AGR-JP-P0012-2025-B000041-99999999999999999999999-99999999999999999999999",
        ] {
            let e = bad.parse::<PrintableSerial>().expect_err(bad);
            assert!(!e.reason.is_empty());
        }
        assert!("0".parse::<SerialQuery>().is_err());
        assert!("18446744073709551616".parse::<SerialQuery>().is_err());
        assert_eq!("42".parse::<SerialQuery>(), Ok(SerialQuery::Integer(42)));
    }

    proptest! {
        #[test]
        fn printable_serials_round_trip(
            program in "[A-Z][A-Z0-9]{1,7}",
            country in "[A-Z]{2}",
            project in 0u64..10_000_000,
            year in 1990u16..3000,
            batch in 0u64..100_000_000,
            start in 1u64..u64::MAX / 2,
            len in 0u64..1_000_000,
        ) {
            let p = PrintableSerial {
                program: program.parse().expect("generated valid"),
                country: country.parse().expect("generated valid"),
                project: ProjectCode(project),
                vintage: Vintage::new(year).expect("generated valid"),
                batch: BatchId(batch),
                range: SerialRange::new(start, start + len).expect("generated valid"),
            };
            let printed = p.to_string();
            prop_assert_eq!(printed.parse::<PrintableSerial>(), Ok(p));
        }

        #[test]
        fn parsing_never_panics(s in "\\PC{0,80}") {
            let _ = s.parse::<PrintableSerial>();
            let _ = s.parse::<SerialQuery>();
        }
    }
}
