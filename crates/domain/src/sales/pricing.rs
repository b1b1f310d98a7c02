//! Pricing inputs as recorded, versioned facts, and the pure quote function (SPEC §5).
//!
//! unit price = ((base × (1 + complexity) × (1 + Σ premiums)) × (1 − w) + market × w)
//!              × (1 + Σ adjustments) × FX, rounded once to the buyer currency's minor unit;
//! gross = unit price × quantity; commission = floor(gross × commission % / 100); net = gross −
//! commission. Every step is a `BreakdownLine`, and `Breakdown::replay` recomputes the totals
//! from the lines alone, which is how anyone can check that a stored quote adds up.

use rust_decimal::Decimal;

use super::money::{Currency, Money};
use crate::error::DomainError;
use crate::ids::{Date, Quantity, Timestamp};

named_enum!(
    /// What a pricing fact is about. The fact's `subject` says which methodology, project,
    /// label, country or currency pair it applies to.
    PricingKind {
        BasePrice = 1, "base_price";
        Complexity = 2, "complexity";
        PremiumLocal = 3, "premium_local";
        PremiumEcosystem = 4, "premium_ecosystem";
        PremiumTechnology = 5, "premium_technology";
        MarketReference = 6, "market_reference";
        ProtocolAdjustment = 7, "protocol_adjustment";
        RegulationAdjustment = 8, "regulation_adjustment";
        FxRate = 9, "fx_rate";
        Commission = 10, "commission";
    }
);

impl PricingKind {
    /// What `subject` names for this kind, for messages and the API documentation.
    pub fn subject_hint(self) -> &'static str {
        match self {
            Self::BasePrice | Self::MarketReference => "a methodology code, e.g. AG-005",
            Self::Complexity | Self::PremiumLocal | Self::PremiumEcosystem | Self::PremiumTechnology => {
                "a project code, e.g. P0001"
            }
            Self::ProtocolAdjustment => "a batch label, e.g. CORSIA or Article6-authorized",
            Self::RegulationAdjustment => "a country code, e.g. JP",
            Self::FxRate => "a currency pair FROM/TO, e.g. JPY/USD (TO units per FROM unit)",
            Self::Commission => "empty",
        }
    }
}

/// Which input a fact sets. Ordered, so that the inputs and their versions list deterministically.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PricingKey {
    pub kind: PricingKind,
    pub subject: String,
}

/// One recorded pricing input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricingFact {
    pub key: PricingKey,
    /// A price in major units of `currency` (base price, market reference), a fraction (0.15 =
    /// +15 %: complexity, premiums, adjustments), a rate (FX), or a percentage (commission).
    pub value: Decimal,
    /// The blending weight of a market reference (0–1); zero for every other kind.
    pub weight: Decimal,
    /// The currency of a base price or market reference.
    pub currency: Option<Currency>,
    /// Where the value comes from (an index, a regulation, a board decision).
    pub source: String,
    /// The date the value refers to (a market reference is dated).
    pub as_of: Date,
}

/// A fact as the registry keeps it: with its version (1, 2, … per key) and who recorded it when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricingVersion {
    pub fact: PricingFact,
    pub version: u32,
    pub by: String,
    pub at: Timestamp,
}

named_enum!(
    /// How a breakdown line changes the running value.
    Step {
        Start = 1, "start";
        MultiplyOnePlus = 2, "multiply_one_plus";
        Blend = 3, "blend";
        Multiply = 4, "multiply";
    }
);

/// One line of a quote's itemized breakdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakdownLine {
    /// The input this line uses (`kind:subject`), or `total` lines' names.
    pub input: String,
    pub version: u32,
    pub source: String,
    pub step: Step,
    pub value: Decimal,
    /// The blend weight (only for `Blend`).
    pub weight: Decimal,
    /// The running unit price after this line, in the pricing currency until the FX line.
    pub running: Decimal,
}

/// A quote's whole computation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breakdown {
    pub lines: Vec<BreakdownLine>,
    pub quantity: Quantity,
    pub unit_price: Money,
    pub gross: Money,
    /// The commission percentage (e.g. 20 = 20 %).
    pub commission_pct: Decimal,
    /// The version of the commission input used.
    pub commission_version: u32,
    pub commission: Money,
    pub net: Money,
}

impl Breakdown {
    /// Recomputes unit price, gross, commission and net from the lines alone. A stored quote is
    /// consistent when this equals it.
    pub fn replay(&self) -> Result<(Money, Money, Money, Money), DomainError> {
        let mut running = Decimal::ZERO;
        for line in &self.lines {
            running = apply_step(running, line.step, line.value, line.weight)?;
            if running != line.running {
                return Err(DomainError::Invalid(format!("breakdown line {} does not add up", line.input)));
            }
        }
        totals(self.unit_price.currency, running, self.quantity, self.commission_pct)
    }
}

fn overflow() -> DomainError {
    DomainError::Invalid("the price computation overflows".into())
}

fn apply_step(running: Decimal, step: Step, value: Decimal, weight: Decimal) -> Result<Decimal, DomainError> {
    match step {
        Step::Start => Ok(value),
        Step::MultiplyOnePlus => running.checked_mul(Decimal::ONE + value).ok_or_else(overflow),
        Step::Multiply => running.checked_mul(value).ok_or_else(overflow),
        Step::Blend => {
            let a = running.checked_mul(Decimal::ONE - weight).ok_or_else(overflow)?;
            let b = value.checked_mul(weight).ok_or_else(overflow)?;
            a.checked_add(b).ok_or_else(overflow)
        }
    }
}

fn totals(
    currency: Currency,
    unit: Decimal,
    quantity: Quantity,
    commission_pct: Decimal,
) -> Result<(Money, Money, Money, Money), DomainError> {
    let unit_price = Money::from_major(currency, unit)?;
    let gross_minor = unit_price.minor.checked_mul(quantity.0).ok_or_else(overflow)?;
    // Floor: rounding never takes more commission than the rate says.
    let commission_minor = (Decimal::from(gross_minor) * commission_pct / Decimal::ONE_HUNDRED).floor();
    let commission_minor = u64::try_from(commission_minor).map_err(|_| overflow())?;
    let gross = Money { currency, minor: gross_minor };
    let commission = Money { currency, minor: commission_minor };
    let net = Money { currency, minor: gross_minor - commission_minor };
    Ok((unit_price, gross, commission, net))
}

/// What a quote for one batch needs to know about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedBatch {
    pub methodology_code: String,
    pub project: String,
    pub country: String,
    pub labels: Vec<String>,
}

/// The current version of every pricing input, as the quote function reads them.
pub trait PricingInputs {
    fn current(&self, kind: PricingKind, subject: &str) -> Option<&PricingVersion>;
}

/// The pure quote function: the breakdown for `quantity` credits of `batch`, in `currency`, from
/// the inputs' current versions. Preview runs the same function over inputs with a change applied.
pub fn price(
    inputs: &dyn PricingInputs,
    batch: &PricedBatch,
    quantity: Quantity,
    currency: Currency,
) -> Result<Breakdown, DomainError> {
    use PricingKind as K;
    let missing = |kind: PricingKind, subject: &str| {
        DomainError::Invalid(format!(
            "no {kind} is recorded for {subject:?}; record it first ({})",
            kind.subject_hint()
        ))
    };
    let mut lines = Vec::new();
    let mut running = Decimal::ZERO;
    let mut push = |v: &PricingVersion, step: Step, lines: &mut Vec<BreakdownLine>| -> Result<(), DomainError> {
        running = apply_step(running, step, v.fact.value, v.fact.weight)?;
        lines.push(BreakdownLine {
            input: format!("{}:{}", v.fact.key.kind, v.fact.key.subject),
            version: v.version,
            source: v.fact.source.clone(),
            step,
            value: v.fact.value,
            weight: v.fact.weight,
            running,
        });
        Ok(())
    };
    let base = inputs
        .current(K::BasePrice, &batch.methodology_code)
        .ok_or_else(|| missing(K::BasePrice, &batch.methodology_code))?;
    let pricing_currency =
        base.fact.currency.ok_or_else(|| DomainError::Invalid("the base price has no currency".into()))?;
    push(base, Step::Start, &mut lines)?;
    if let Some(v) = inputs.current(K::Complexity, &batch.project) {
        push(v, Step::MultiplyOnePlus, &mut lines)?;
    }
    for kind in [K::PremiumLocal, K::PremiumEcosystem, K::PremiumTechnology] {
        if let Some(v) = inputs.current(kind, &batch.project) {
            push(v, Step::MultiplyOnePlus, &mut lines)?;
        }
    }
    if let Some(v) = inputs.current(K::MarketReference, &batch.methodology_code) {
        if v.fact.currency != Some(pricing_currency) {
            return Err(DomainError::Invalid(format!(
                "the market reference for {} is not in the base price's currency {pricing_currency}",
                batch.methodology_code
            )));
        }
        push(v, Step::Blend, &mut lines)?;
    }
    for label in &batch.labels {
        if let Some(v) = inputs.current(K::ProtocolAdjustment, label) {
            push(v, Step::MultiplyOnePlus, &mut lines)?;
        }
    }
    if let Some(v) = inputs.current(K::RegulationAdjustment, &batch.country) {
        push(v, Step::MultiplyOnePlus, &mut lines)?;
    }
    if currency != pricing_currency {
        let pair = format!("{pricing_currency}/{currency}");
        let fx = inputs.current(K::FxRate, &pair).ok_or_else(|| missing(K::FxRate, &pair))?;
        push(fx, Step::Multiply, &mut lines)?;
    }
    let commission = inputs.current(K::Commission, "").ok_or_else(|| missing(K::Commission, ""))?;
    let commission_pct = commission.fact.value;
    let (unit_price, gross, commission_money, net) = totals(currency, running, quantity, commission_pct)?;
    Ok(Breakdown {
        lines,
        quantity,
        unit_price,
        gross,
        commission_pct,
        commission_version: commission.version,
        commission: commission_money,
        net,
    })
}

/// Checks a fact before it is recorded: ranges that make sense for its kind.
pub fn check_fact(fact: &PricingFact) -> Result<(), DomainError> {
    use PricingKind as K;
    let bad = |why: &str| Err(DomainError::Invalid(format!("{}: {why}", fact.key.kind)));
    crate::ledger::check_text("pricing source", &fact.source, crate::ledger::MAX_NAME_LEN, true)?;
    if fact.key.subject.len() > 64 || fact.key.subject.chars().any(|c| c.is_control()) {
        return bad("the subject must be at most 64 printable characters");
    }
    if fact.key.kind != K::Commission && fact.key.subject.is_empty() {
        return bad(&format!("the subject must be {}", fact.key.kind.subject_hint()));
    }
    if fact.key.kind == K::Commission && !fact.key.subject.is_empty() {
        return bad("the commission applies to the whole program; leave the subject empty");
    }
    if fact.value.scale() > 12 || fact.weight.scale() > 12 {
        return bad("at most 12 decimal places");
    }
    let priced = matches!(fact.key.kind, K::BasePrice | K::MarketReference);
    if priced != fact.currency.is_some() {
        return bad("base prices and market references have a currency; other inputs have none");
    }
    if fact.key.kind != K::MarketReference && !fact.weight.is_zero() {
        return bad("only a market reference has a blending weight");
    }
    let max_price = Decimal::from(100_000_000u64);
    let ok = match fact.key.kind {
        K::BasePrice => fact.value > Decimal::ZERO && fact.value <= max_price,
        K::MarketReference => {
            fact.value > Decimal::ZERO
                && fact.value <= max_price
                && fact.weight >= Decimal::ZERO
                && fact.weight <= Decimal::ONE
        }
        K::Complexity | K::PremiumLocal | K::PremiumEcosystem | K::PremiumTechnology => {
            fact.value >= Decimal::ZERO && fact.value <= Decimal::from(10)
        }
        K::ProtocolAdjustment | K::RegulationAdjustment => {
            fact.value > -Decimal::ONE && fact.value <= Decimal::from(10)
        }
        K::FxRate => {
            let pair = fact.key.subject.split_once('/');
            let pair_ok =
                pair.is_some_and(|(a, b)| a != b && a.parse::<Currency>().is_ok() && b.parse::<Currency>().is_ok());
            if !pair_ok {
                return bad("the subject must be a pair of two supported currencies, e.g. JPY/USD");
            }
            fact.value > Decimal::ZERO && fact.value <= Decimal::from(1_000_000)
        }
        K::Commission => fact.value >= Decimal::ZERO && fact.value < Decimal::ONE_HUNDRED,
    };
    if !ok {
        return bad(&format!("the value {} (weight {}) is out of range", fact.value, fact.weight));
    }
    Ok(())
}
