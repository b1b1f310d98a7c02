//! Money: integer minor units of a currency. Prices are computed in `Decimal` and rounded once,
//! to the currency's minor unit, when they become money.

use rust_decimal::{Decimal, RoundingStrategy};

use crate::error::DomainError;

named_enum!(
    /// The currencies a quote can be in. The exponent is the number of minor-unit digits.
    Currency {
        Jpy = 1, "JPY";
        Usd = 2, "USD";
        Eur = 3, "EUR";
    }
);

impl Currency {
    /// Digits after the decimal point of the currency's minor unit (ISO 4217).
    pub fn exponent(self) -> u32 {
        match self {
            Self::Jpy => 0,
            Self::Usd | Self::Eur => 2,
        }
    }
}

/// An amount in integer minor units (yen, cents). Never negative in this program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money {
    pub currency: Currency,
    pub minor: u64,
}

impl Money {
    pub fn zero(currency: Currency) -> Self {
        Self { currency, minor: 0 }
    }

    /// A major-unit decimal rounded half-to-even to the minor unit. Refuses negative or huge values.
    pub fn from_major(currency: Currency, major: Decimal) -> Result<Self, DomainError> {
        let scaled = major.round_dp_with_strategy(currency.exponent(), RoundingStrategy::MidpointNearestEven)
            * Decimal::from(10u64.pow(currency.exponent()));
        let minor = u64::try_from(scaled)
            .map_err(|_| DomainError::Invalid(format!("the amount {major} {currency} is negative or too large")))?;
        Ok(Self { currency, minor })
    }

    /// The amount in major units, exactly.
    pub fn major(self) -> Decimal {
        Decimal::from_i128_with_scale(i128::from(self.minor), self.currency.exponent())
    }
}

impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.major(), self.currency)
    }
}

/// Splits `total` minor units in proportion to `weights` with the largest-remainder method: each
/// part is floor(total × w / Σw), and the units left over go one each to the largest remainders
/// (ties to the earlier entry). The parts sum to `total` exactly. Integer arithmetic only: the
/// weights are brought to one scale and used as integers, so no rounding happens anywhere.
pub fn largest_remainder(total: u64, weights: &[Decimal]) -> Result<Vec<u64>, DomainError> {
    if weights.iter().any(|w| w.is_sign_negative()) {
        return Err(DomainError::Invalid("a payout weight is negative".into()));
    }
    let scale = weights.iter().map(|w| w.scale()).max().unwrap_or(0);
    let too_large = || DomainError::Invalid("the amounts are too large to split exactly".into());
    let ints: Vec<u128> = weights
        .iter()
        .map(|w| {
            let mut w = *w;
            w.rescale(scale);
            u128::try_from(w.mantissa()).map_err(|_| too_large())
        })
        .collect::<Result<_, _>>()?;
    let sum: u128 = ints.iter().try_fold(0u128, |a, b| a.checked_add(*b)).ok_or_else(too_large)?;
    if sum == 0 {
        return Ok(vec![0; weights.len()]);
    }
    let mut parts = Vec::with_capacity(ints.len());
    let mut remainders = Vec::with_capacity(ints.len());
    for (i, w) in ints.iter().enumerate() {
        let product = u128::from(total).checked_mul(*w).ok_or_else(too_large)?;
        parts.push((product / sum) as u64);
        remainders.push((product % sum, i));
    }
    let given: u64 = parts.iter().sum();
    // Largest remainder first; equal remainders go to the earlier entry.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in remainders.into_iter().take((total - given) as usize) {
        parts[i] += 1;
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minor_units_follow_the_exponent() {
        assert_eq!(Money::from_major(Currency::Jpy, Decimal::new(12345, 1)).map(|m| m.minor), Ok(1234));
        assert_eq!(Money::from_major(Currency::Jpy, Decimal::new(12355, 1)).map(|m| m.minor), Ok(1236));
        assert_eq!(Money::from_major(Currency::Usd, Decimal::new(123455, 4)).map(|m| m.minor), Ok(1235));
        assert_eq!(Money { currency: Currency::Eur, minor: 1050 }.to_string(), "10.50 EUR");
        assert!(Money::from_major(Currency::Usd, Decimal::from(-1)).is_err());
    }

    #[test]
    fn largest_remainder_sums_exactly() {
        let w = [Decimal::ONE, Decimal::ONE, Decimal::ONE];
        assert_eq!(largest_remainder(100, &w), Ok(vec![34, 33, 33]));
        let w = [Decimal::new(15, 1), Decimal::new(25, 1)];
        assert_eq!(largest_remainder(7, &w), Ok(vec![3, 4]));
        assert_eq!(largest_remainder(5, &[Decimal::ZERO]), Ok(vec![0]));
    }
}
