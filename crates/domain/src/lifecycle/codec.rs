//! Canonical encoding of lifecycle events and of the personal data sealed in private payloads.
//!
//! Same rules as `encoding.rs` (big-endian integers, u32-prefixed strings and lists, 0/1 option
//! flags, stable tags). Added here: a decimal is its i128 mantissa and u32 scale as written (so
//! `1.50` and `1.5` stay distinct and round-trip exactly); a float (only in sealed geometry) is
//! its IEEE 754 bit pattern, and NaN or infinity is refused; a hash is 32 raw bytes. Each struct
//! lists its fields in declaration order, and that order is part of the format.

use rust_decimal::Decimal;

use super::LifecycleEvent;
use super::geometry::{GridCell, Polygon};
use super::model::*;
use super::sealed::Sealed;
use crate::command::Selection;
use crate::encoding::{DecodeError, Reader, Writer};
use crate::ids::*;
use crate::model::{Beneficiary, CancellationReason, ClaimPeriod, RetirementClaim, RetirementPurpose};
use crate::sales::{
    Breakdown, BreakdownLine, Currency, Forfeiture, Money, Payout, PricingFact, PricingKey, PricingKind, Settlement,
    Step,
};

/// A value with one canonical encoding.
pub trait Canon: Sized {
    fn put(&self, w: &mut Writer);
    fn get(r: &mut Reader) -> Result<Self, DecodeError>;
}

impl Canon for String {
    fn put(&self, w: &mut Writer) {
        w.str(self)
    }
    fn get(r: &mut Reader) -> Result<Self, DecodeError> {
        r.str()
    }
}

impl Canon for bool {
    fn put(&self, w: &mut Writer) {
        w.u8(u8::from(*self))
    }
    fn get(r: &mut Reader) -> Result<Self, DecodeError> {
        match r.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(r.error(format!("boolean {other} is not 0 or 1"))),
        }
    }
}

impl Canon for u32 {
    fn put(&self, w: &mut Writer) {
        w.u32(*self)
    }
    fn get(r: &mut Reader) -> Result<Self, DecodeError> {
        r.u32()
    }
}

impl Canon for i32 {
    fn put(&self, w: &mut Writer) {
        w.u32(*self as u32)
    }
    fn get(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(r.u32()? as i32)
    }
}

impl Canon for [u8; 32] {
    fn put(&self, w: &mut Writer) {
        w.0.extend_from_slice(self)
    }
    fn get(r: &mut Reader) -> Result<Self, DecodeError> {
        r.take()
    }
}

impl Canon for f64 {
    fn put(&self, w: &mut Writer) {
        w.u64(self.to_bits())
    }
    fn get(r: &mut Reader) -> Result<Self, DecodeError> {
        let v = f64::from_bits(r.u64()?);
        if v.is_finite() { Ok(v) } else { Err(r.error("a coordinate is not a finite number".into())) }
    }
}

impl Canon for Decimal {
    fn put(&self, w: &mut Writer) {
        w.0.extend_from_slice(&self.mantissa().to_be_bytes());
        w.u32(self.scale());
    }
    fn get(r: &mut Reader) -> Result<Self, DecodeError> {
        let mantissa = i128::from_be_bytes(r.take()?);
        let scale = r.u32()?;
        Decimal::try_from_i128_with_scale(mantissa, scale).map_err(|e| r.error(format!("decimal: {e}")))
    }
}

impl Canon for Date {
    fn put(&self, w: &mut Writer) {
        w.date(*self)
    }
    fn get(r: &mut Reader) -> Result<Self, DecodeError> {
        r.date()
    }
}

impl Canon for CountryCode {
    fn put(&self, w: &mut Writer) {
        w.str(self.as_str())
    }
    fn get(r: &mut Reader) -> Result<Self, DecodeError> {
        r.parsed()
    }
}

impl Canon for Jurisdiction {
    fn put(&self, w: &mut Writer) {
        w.str(self.as_str())
    }
    fn get(r: &mut Reader) -> Result<Self, DecodeError> {
        r.parsed()
    }
}

impl<T: Canon> Canon for Vec<T> {
    fn put(&self, w: &mut Writer) {
        w.u32(self.len() as u32);
        for item in self {
            item.put(w);
        }
    }
    fn get(r: &mut Reader) -> Result<Self, DecodeError> {
        let n = r.len()?;
        (0..n).map(|_| T::get(r)).collect()
    }
}

impl<T: Canon> Canon for Option<T> {
    fn put(&self, w: &mut Writer) {
        match self {
            None => w.u8(0),
            Some(v) => {
                w.u8(1);
                v.put(w);
            }
        }
    }
    fn get(r: &mut Reader) -> Result<Self, DecodeError> {
        match r.u8()? {
            0 => Ok(None),
            1 => T::get(r).map(Some),
            other => Err(r.error(format!("option flag {other} is not 0 or 1"))),
        }
    }
}

impl<A: Canon, B: Canon> Canon for (A, B) {
    fn put(&self, w: &mut Writer) {
        self.0.put(w);
        self.1.put(w);
    }
    fn get(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok((A::get(r)?, B::get(r)?))
    }
}

/// A sealed value is public only through its commitment.
impl<T> Canon for Sealed<T>
where
    T: Canon,
{
    fn put(&self, w: &mut Writer) {
        self.commitment().put(w)
    }
    fn get(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(Sealed::commitment_only(<[u8; 32]>::get(r)?))
    }
}

/// Numeric ids are their u64.
macro_rules! canon_id {
    ($($id:ty),+) => {$(
        impl Canon for $id {
            fn put(&self, w: &mut Writer) { w.u64(self.0) }
            fn get(r: &mut Reader) -> Result<Self, DecodeError> { Ok(Self(r.u64()?)) }
        }
    )+};
}
canon_id!(
    AccountId,
    BatchId,
    CancellationId,
    ProjectCode,
    MethodologyId,
    ParticipantId,
    ParcelId,
    EnrolmentId,
    ApplicationId,
    ReportId,
    RequestId,
    ReversalId,
    KeyRotationId,
    Quantity,
    QuoteId,
    SaleId,
    RetirementId
);

impl Canon for i64 {
    fn put(&self, w: &mut Writer) {
        w.i64(*self)
    }
    fn get(r: &mut Reader) -> Result<Self, DecodeError> {
        r.i64()
    }
}

impl Canon for Timestamp {
    fn put(&self, w: &mut Writer) {
        w.i64(self.0)
    }
    fn get(r: &mut Reader) -> Result<Self, DecodeError> {
        Ok(Self(r.i64()?))
    }
}

impl Canon for u64 {
    fn put(&self, w: &mut Writer) {
        w.u64(*self)
    }
    fn get(r: &mut Reader) -> Result<Self, DecodeError> {
        r.u64()
    }
}

impl Canon for crate::serial::SerialRange {
    fn put(&self, w: &mut Writer) {
        w.range(*self)
    }
    fn get(r: &mut Reader) -> Result<Self, DecodeError> {
        r.range()
    }
}

/// Named enums are their one-byte tag.
macro_rules! canon_enum {
    ($($enum:ident),+) => {$(
        impl Canon for $enum {
            fn put(&self, w: &mut Writer) { w.u8(self.tag()) }
            fn get(r: &mut Reader) -> Result<Self, DecodeError> { r.tagged($enum::from_tag, stringify!($enum)) }
        }
    )+};
}
canon_enum!(MethodologyStatus, ProjectStatus, ReportStatus, FieldKind, LabelKind, CancellationReason);
canon_enum!(Currency, PricingKind, Step, RetirementPurpose);

/// Structs are their fields in declaration order.
macro_rules! canon_struct {
    ($name:ident { $($field:ident),+ $(,)? }) => {
        impl Canon for $name {
            fn put(&self, w: &mut Writer) { $(self.$field.put(w);)+ }
            fn get(r: &mut Reader) -> Result<Self, DecodeError> { Ok(Self { $($field: Canon::get(r)?),+ }) }
        }
    };
}
canon_struct!(Period { from, to });
canon_struct!(Beneficiary { name, country, identifier });
canon_struct!(ClaimPeriod { from, to });
canon_struct!(RetirementClaim { beneficiary, purpose, claim_period, jurisdiction, note });
canon_struct!(FieldSpec { name, kind, unit, min, max, required });
canon_struct!(Deductions { uncertainty, leakage, buffer });
canon_struct!(ParameterTable { version, values });
canon_struct!(MethodologySpec { code, version, title, engine, parameters, schema, deductions, gwp, indicators });
canon_struct!(ProjectSpec { name, methodology, country, region, crediting });
canon_struct!(Participation { opens, starts, conditions });
canon_struct!(Person { name, contact, address });
canon_struct!(Polygon { exterior, holes });
canon_struct!(GridCell { lon_tenths, lat_tenths });
canon_struct!(ParcelPrivate { name, geometry });
canon_struct!(ParcelDraft { area_ha, prefecture, municipality, private });
canon_struct!(ApplicationPrivate { farm, parcels });
canon_struct!(ParcelActivity { parcel, values });
canon_struct!(Evidence { name, sha256 });
canon_struct!(IndicatorValue { name, value, unit, parcel, evidence });
canon_struct!(ReportSpec { project, period, activity, evidence, indicators });
canon_struct!(Quantification {
    engine,
    engine_version,
    methodology,
    parameters_version,
    gwp,
    inputs_hash,
    gross,
    uncertainty,
    leakage,
    project_emissions,
    net,
    contributions
});
canon_struct!(BatchLabel { kind, issuer, valid, by });
canon_struct!(Money { currency, minor });
canon_struct!(PricingKey { kind, subject });
canon_struct!(PricingFact { key, value, weight, currency, source, as_of });
canon_struct!(BreakdownLine { input, version, source, step, value, weight, running });
canon_struct!(Breakdown { lines, quantity, unit_price, gross, commission_pct, commission_version, commission, net });
canon_struct!(Payout { participant, contribution, amount });
canon_struct!(Forfeiture { participant, contribution, amount, withdrawn });
canon_struct!(Settlement {
    retirement,
    certificate,
    confidential,
    payment_reference,
    gross,
    commission,
    payouts,
    forfeitures
});

/// A selection: tag 1, a quantity and an optional batch; tag 2, a list of ranges.
impl Canon for Selection {
    fn put(&self, w: &mut Writer) {
        match self {
            Self::Quantity { quantity, batch } => {
                w.u8(1);
                quantity.put(w);
                batch.put(w);
            }
            Self::Ranges(ranges) => {
                w.u8(2);
                ranges.put(w);
            }
        }
    }
    fn get(r: &mut Reader) -> Result<Self, DecodeError> {
        match r.u8()? {
            1 => Ok(Self::Quantity { quantity: Quantity::get(r)?, batch: Option::get(r)? }),
            2 => Ok(Self::Ranges(Vec::get(r)?)),
            other => Err(r.error(format!("unknown selection tag {other}"))),
        }
    }
}

impl Canon for FieldValue {
    fn put(&self, w: &mut Writer) {
        match self {
            Self::Number(v) => {
                w.u8(1);
                v.put(w);
            }
            Self::Flag(v) => {
                w.u8(2);
                v.put(w);
            }
        }
    }
    fn get(r: &mut Reader) -> Result<Self, DecodeError> {
        match r.u8()? {
            1 => Ok(Self::Number(Decimal::get(r)?)),
            2 => Ok(Self::Flag(bool::get(r)?)),
            other => Err(r.error(format!("unknown field value tag {other}"))),
        }
    }
}

/// Encodes a value on its own, e.g. for hashing a quantification's inputs.
pub fn to_bytes<T: Canon>(value: &T) -> Vec<u8> {
    let mut w = Writer(Vec::new());
    value.put(&mut w);
    w.0
}

/// Declares the event codec: one stable tag per variant, fields in the listed order.
macro_rules! event_codec {
    ($($variant:ident = $tag:literal { $($field:ident),* };)+) => {
        pub(crate) fn encode_event(w: &mut Writer, event: &LifecycleEvent) {
            match event {
                $(LifecycleEvent::$variant { $($field),* } => {
                    w.u8($tag);
                    $($field.put(w);)*
                })+
            }
        }

        pub(crate) fn decode_event(r: &mut Reader) -> Result<LifecycleEvent, DecodeError> {
            match r.u8()? {
                $($tag => Ok(LifecycleEvent::$variant { $($field: Canon::get(r)?),* }),)+
                other => Err(r.error(format!("unknown lifecycle event tag {other}"))),
            }
        }
    };
}

// Tags are part of the log format: never renumber one.
event_codec! {
    WithdrawalGroundsConfigured = 1 { grounds, by };
    MethodologyDrafted = 2 { id, spec, by };
    MethodologyChanged = 3 { id, status, by };
    ProjectDrafted = 4 { code, spec, by };
    ProjectTransitioned = 5 { project, status, reason, by };
    ParticipationSet = 6 { project, participation, by };
    ApplicationReceived = 7 { id, project, applicant, parcels, area_ha, prefecture, private, by };
    ApplicationDecided = 8 { id, participant, reason, by };
    ParticipantRegistered = 9 { id, account, pseudonym, prefecture, person, by };
    ParcelRegistered = 10 { id, participant, area_ha, prefecture, municipality, cell, private, by };
    Enrolled = 11 { id, project, parcel, participant, period, by };
    ReportDrafted = 12 { id, spec, areas, by };
    ReportChanged = 13 { id, status, reason, quantification, by };
    IssuanceRequested = 14 { id, report, labels, by };
    IssuanceApproved = 15 { id, batch, quantity, buffer, by };
    ReversalRecorded = 16 { id, project, quantity, cancellation, note, by };
    WithdrawalRequested = 17 { enrolment, ground, note, by };
    WithdrawalDecided = 18 { enrolment, effective, reason, by };
    LabelAdded = 19 { batch, label };
    ControlsConfigured = 20 { transfer_limit, trusted_only, trusted_delay_seconds, by };
    AccountFrozen = 21 { account, frozen, reason, by };
    SerialsFrozen = 22 { range, frozen, reason, by };
    CounterpartyProposed = 23 { account, counterparty, effective_at, by };
    CounterpartyApproved = 24 { account, counterparty, by };
    CounterpartyRemoved = 25 { account, counterparty, by };
    CancellationRequested = 26 { id, from, selection, reason, note, by };
    CancellationApproved = 27 { id, cancellation, by };
    PricingRecorded = 28 { fact, version, by };
    QuoteCreated = 29 { id, buyer, batch, quantity, currency, breakdown, expires_at, by };
    SaleOpened = 30 { id, quote, ranges, by };
    SaleSettled = 31 { id, settlement, by };
    SaleReleased = 32 { id, expired, reason, by };
    PayoutPaid = 33 { sale, participant, reference, by };
    SaleNoted = 34 { sale, note, by };
    VerifierAssigned = 35 { project, verifier, by };
    ReversalRequested = 36 { id, project, quantity, note, by };
    KeyRotationRequested = 37 { id, reason, by };
    KeyRotationApproved = 38 { id, by };
    SaleClaimStated = 39 { sale, claim, by };
}
