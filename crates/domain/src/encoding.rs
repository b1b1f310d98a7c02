//! The canonical byte encoding of log entries: what is hashed into the transparency log.
//!
//! Hand-written and versioned, never serde: the bytes must be identical on every machine and in
//! every future version of Furrow, or old log entries stop verifying. Layout (all integers
//! big-endian, strings as u32 length + UTF-8, options as a 0/1 byte then the value, lists as u32
//! count then items):
//!
//! ```text
//! u8 format version (1) | u64 index | i64 timestamp µs | str actor | u8 event tag | event fields
//! ```
//!
//! The decoder accepts exactly what the encoder produces: unknown tags, trailing bytes, invalid
//! UTF-8 and out-of-range values are errors, so every entry has one encoding.

use crate::command::{BatchIssued, Event};
use crate::ids::{
    AccountId, BatchId, CancellationId, CountryCode, Date, Jurisdiction, ProgramCode, ProjectCode, Quantity,
    RetirementId, Timestamp, Vintage,
};
use crate::model::{
    Account, AccountKind, Beneficiary, CancellationReason, ClaimPeriod, Program, RetirementClaim, RetirementPurpose,
};
use crate::serial::SerialRange;

pub const FORMAT_VERSION: u8 = 1;

/// Largest string or list the decoder accepts, so a hostile entry cannot make it allocate wildly.
const MAX_DECODED_LEN: u32 = 1 << 20;

/// One entry of the totally ordered log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// Position in the log, from 0; equal to the Merkle tree leaf index.
    pub index: u64,
    pub timestamp: Timestamp,
    /// Who caused the change (a token's subject, or `system`).
    pub actor: String,
    pub event: Event,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed log entry at byte {offset}: {reason}")]
pub struct DecodeError {
    pub offset: usize,
    pub reason: String,
}

mod tag {
    pub const PROGRAM_INITIALISED: u8 = 1;
    pub const ACCOUNT_OPENED: u8 = 2;
    pub const BATCH_ISSUED: u8 = 3;
    pub const TRANSFERRED: u8 = 4;
    pub const RETIRED: u8 = 5;
    pub const CANCELLED: u8 = 6;
    pub const LOG_KEY_PUBLISHED: u8 = 7;
    /// A program-lifecycle event; a second byte says which (`lifecycle::codec`).
    pub const LIFECYCLE: u8 = 8;
    pub const ESCROWED: u8 = 9;
    pub const ESCROW_RELEASED: u8 = 10;
}

impl LogEntry {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer(Vec::with_capacity(128));
        w.u8(FORMAT_VERSION);
        w.u64(self.index);
        w.i64(self.timestamp.0);
        w.str(&self.actor);
        encode_event(&mut w, &self.event);
        w.0
    }

    /// The entry's private payload (salt and personal data), stored beside the entry and never
    /// published; the public bytes carry only its SHA-256 commitment.
    pub fn private_payload(&self) -> Option<Vec<u8>> {
        match &self.event {
            Event::Lifecycle(event) => event.private_payload(),
            _ => None,
        }
    }

    /// Decodes an entry and re-attaches its private payload, checked against the commitment the
    /// public bytes carry.
    pub fn decode_with_private(bytes: &[u8], private: Option<&[u8]>) -> Result<Self, DecodeError> {
        let mut entry = Self::decode(bytes)?;
        if let Some(payload) = private {
            match &mut entry.event {
                Event::Lifecycle(event) => event.open_private(payload)?,
                _ => return Err(DecodeError { offset: 0, reason: "this entry has no private part".into() }),
            }
        }
        Ok(entry)
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader { bytes, pos: 0 };
        let version = r.u8()?;
        if version != FORMAT_VERSION {
            return Err(r.error(format!("unknown format version {version}")));
        }
        let entry =
            LogEntry { index: r.u64()?, timestamp: Timestamp(r.i64()?), actor: r.str()?, event: decode_event(&mut r)? };
        if r.pos != bytes.len() {
            return Err(r.error(format!("{} trailing bytes", bytes.len() - r.pos)));
        }
        Ok(entry)
    }
}

fn encode_event(w: &mut Writer, event: &Event) {
    match event {
        Event::ProgramInitialised { program } => {
            w.u8(tag::PROGRAM_INITIALISED);
            w.str(program.code.as_str());
            w.str(program.country.as_str());
            w.str(&program.name);
        }
        Event::AccountOpened { account } => {
            w.u8(tag::ACCOUNT_OPENED);
            w.u64(account.id.0);
            w.u8(account.kind.tag());
            w.str(&account.name);
        }
        Event::BatchIssued(b) => {
            w.u8(tag::BATCH_ISSUED);
            w.u64(b.id.0);
            w.u64(b.project.0);
            w.str(b.country.as_str());
            w.u16(b.vintage.year());
            w.range(b.serials);
            w.u64(b.buffer.0);
            w.u32(b.labels.len() as u32);
            for label in &b.labels {
                w.str(label);
            }
            w.u64(b.to.0);
        }
        Event::Transferred { from, to, ranges } => {
            w.u8(tag::TRANSFERRED);
            w.u64(from.0);
            w.u64(to.0);
            w.ranges(ranges);
        }
        Event::Retired { id, account, ranges, claim } => {
            w.u8(tag::RETIRED);
            w.u64(id.0);
            w.u64(account.0);
            w.ranges(ranges);
            w.str(&claim.beneficiary.name);
            w.opt_str(claim.beneficiary.country.as_ref().map(CountryCode::as_str));
            w.opt_str(claim.beneficiary.identifier.as_deref());
            w.u8(claim.purpose.tag());
            w.date(claim.claim_period.from);
            w.date(claim.claim_period.to);
            w.str(claim.jurisdiction.as_str());
            w.str(&claim.note);
        }
        Event::LogKeyPublished { vkey } => {
            w.u8(tag::LOG_KEY_PUBLISHED);
            w.str(vkey);
        }
        Event::Lifecycle(event) => {
            w.u8(tag::LIFECYCLE);
            crate::lifecycle::codec::encode_event(w, event);
        }
        Event::Escrowed { account, ranges } => {
            w.u8(tag::ESCROWED);
            w.u64(account.0);
            w.ranges(ranges);
        }
        Event::EscrowReleased { account, ranges } => {
            w.u8(tag::ESCROW_RELEASED);
            w.u64(account.0);
            w.ranges(ranges);
        }
        Event::Cancelled { id, account, ranges, reason, note } => {
            w.u8(tag::CANCELLED);
            w.u64(id.0);
            w.u64(account.0);
            w.ranges(ranges);
            w.u8(reason.tag());
            w.str(note);
        }
    }
}

fn decode_event(r: &mut Reader) -> Result<Event, DecodeError> {
    let event_tag = r.u8()?;
    Ok(match event_tag {
        tag::PROGRAM_INITIALISED => Event::ProgramInitialised {
            program: Program { code: r.parsed::<ProgramCode>()?, country: r.parsed::<CountryCode>()?, name: r.str()? },
        },
        tag::ACCOUNT_OPENED => Event::AccountOpened {
            account: Account {
                id: AccountId(r.u64()?),
                kind: r.tagged(AccountKind::from_tag, "account kind")?,
                name: r.str()?,
            },
        },
        tag::BATCH_ISSUED => {
            let id = BatchId(r.u64()?);
            let project = ProjectCode(r.u64()?);
            let country = r.parsed::<CountryCode>()?;
            let year = r.u16()?;
            let vintage = Vintage::new(year).map_err(|e| r.error(e.to_string()))?;
            let serials = r.range()?;
            let buffer = Quantity(r.u64()?);
            let count = r.len()?;
            let labels = (0..count).map(|_| r.str()).collect::<Result<_, _>>()?;
            Event::BatchIssued(BatchIssued {
                id,
                project,
                country,
                vintage,
                serials,
                buffer,
                labels,
                to: AccountId(r.u64()?),
            })
        }
        tag::TRANSFERRED => {
            Event::Transferred { from: AccountId(r.u64()?), to: AccountId(r.u64()?), ranges: r.ranges()? }
        }
        tag::RETIRED => {
            let id = RetirementId(r.u64()?);
            let account = AccountId(r.u64()?);
            let ranges = r.ranges()?;
            let name = r.str()?;
            let country = match r.opt_str()? {
                Some(c) => Some(c.parse::<CountryCode>().map_err(|e| r.error(e.to_string()))?),
                None => None,
            };
            let identifier = r.opt_str()?;
            let purpose = r.tagged(RetirementPurpose::from_tag, "retirement purpose")?;
            let claim_period = ClaimPeriod { from: r.date()?, to: r.date()? };
            let jurisdiction = r.parsed::<Jurisdiction>()?;
            let note = r.str()?;
            let beneficiary = Beneficiary { name, country, identifier };
            Event::Retired {
                id,
                account,
                ranges,
                claim: RetirementClaim { beneficiary, purpose, claim_period, jurisdiction, note },
            }
        }
        tag::CANCELLED => Event::Cancelled {
            id: CancellationId(r.u64()?),
            account: AccountId(r.u64()?),
            ranges: r.ranges()?,
            reason: r.tagged(CancellationReason::from_tag, "cancellation reason")?,
            note: r.str()?,
        },
        tag::LOG_KEY_PUBLISHED => Event::LogKeyPublished { vkey: r.str()? },
        tag::LIFECYCLE => Event::Lifecycle(crate::lifecycle::codec::decode_event(r)?),
        tag::ESCROWED => Event::Escrowed { account: AccountId(r.u64()?), ranges: r.ranges()? },
        tag::ESCROW_RELEASED => Event::EscrowReleased { account: AccountId(r.u64()?), ranges: r.ranges()? },
        other => return Err(r.error(format!("unknown event tag {other}"))),
    })
}

/// Builds canonical bytes (see the module doc). Its methods are internal to the domain.
pub struct Writer(pub(crate) Vec<u8>);

impl Writer {
    pub(crate) fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    pub(crate) fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    pub(crate) fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    pub(crate) fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    pub(crate) fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    pub(crate) fn str(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.0.extend_from_slice(s.as_bytes());
    }
    pub(crate) fn opt_str(&mut self, s: Option<&str>) {
        match s {
            None => self.u8(0),
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
        }
    }
    pub(crate) fn date(&mut self, d: Date) {
        self.u16(d.year());
        self.u8(d.month());
        self.u8(d.day());
    }
    pub(crate) fn range(&mut self, r: SerialRange) {
        self.u64(r.start());
        self.u64(r.end());
    }
    pub(crate) fn ranges(&mut self, ranges: &[SerialRange]) {
        self.u32(ranges.len() as u32);
        for r in ranges {
            self.range(*r);
        }
    }
}

/// Reads canonical bytes, refusing anything but the one encoding. Internal to the domain.
pub struct Reader<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) pos: usize,
}

impl Reader<'_> {
    pub(crate) fn error(&self, reason: String) -> DecodeError {
        DecodeError { offset: self.pos, reason }
    }
    pub(crate) fn take<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let end = self.pos.checked_add(N).filter(|e| *e <= self.bytes.len());
        let end = end.ok_or_else(|| self.error("unexpected end of entry".into()))?;
        let mut out = [0u8; N];
        out.copy_from_slice(&self.bytes[self.pos..end]);
        self.pos = end;
        Ok(out)
    }
    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take::<1>()?[0])
    }
    pub(crate) fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.take()?))
    }
    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.take()?))
    }
    pub(crate) fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.take()?))
    }
    pub(crate) fn i64(&mut self) -> Result<i64, DecodeError> {
        Ok(i64::from_be_bytes(self.take()?))
    }
    pub(crate) fn len(&mut self) -> Result<u32, DecodeError> {
        let n = self.u32()?;
        if n > MAX_DECODED_LEN {
            return Err(self.error(format!("length {n} is too large")));
        }
        Ok(n)
    }
    pub(crate) fn str(&mut self) -> Result<String, DecodeError> {
        let n = self.len()? as usize;
        let end = self.pos.checked_add(n).filter(|e| *e <= self.bytes.len());
        let end = end.ok_or_else(|| self.error("string runs past the end of the entry".into()))?;
        let s =
            std::str::from_utf8(&self.bytes[self.pos..end]).map_err(|_| self.error("string is not UTF-8".into()))?;
        self.pos = end;
        Ok(s.to_owned())
    }
    pub(crate) fn opt_str(&mut self) -> Result<Option<String>, DecodeError> {
        match self.u8()? {
            0 => Ok(None),
            1 => self.str().map(Some),
            other => Err(self.error(format!("option flag {other} is not 0 or 1"))),
        }
    }
    pub(crate) fn parsed<T: std::str::FromStr<Err = crate::error::ParseError>>(&mut self) -> Result<T, DecodeError> {
        let s = self.str()?;
        s.parse().map_err(|e: crate::error::ParseError| self.error(e.to_string()))
    }
    pub(crate) fn tagged<T>(&mut self, from_tag: fn(u8) -> Option<T>, what: &str) -> Result<T, DecodeError> {
        let t = self.u8()?;
        from_tag(t).ok_or_else(|| self.error(format!("unknown {what} tag {t}")))
    }
    pub(crate) fn date(&mut self) -> Result<Date, DecodeError> {
        let (y, m, d) = (self.u16()?, self.u8()?, self.u8()?);
        Date::new(y, m, d).map_err(|e| self.error(e.to_string()))
    }
    pub(crate) fn range(&mut self) -> Result<SerialRange, DecodeError> {
        let (start, end) = (self.u64()?, self.u64()?);
        SerialRange::new(start, end).map_err(|e| self.error(e.to_string()))
    }
    pub(crate) fn ranges(&mut self) -> Result<Vec<SerialRange>, DecodeError> {
        let n = self.len()?;
        (0..n).map(|_| self.range()).collect()
    }
}
