//! Natural logarithm, exponential and real powers in `Decimal`, by series with range reduction.
//!
//! Needed for IPCC Eq 5.3 (`SF_o = (1 + Σ ROA × CFOA)^0.59`). Pure integer-backed decimal
//! arithmetic, so the result is the same on every machine; accurate to about 1e-25 over the range
//! the engines admit (base in [1, 10^6], exponent in [0, 1]).

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

const MAX_TERMS: u32 = 200;

fn two() -> Decimal {
    Decimal::TWO
}

/// ln(m) for m in [1, 2], via 2·atanh((m − 1)/(m + 1)).
fn ln_reduced(m: Decimal) -> Decimal {
    let z = (m - Decimal::ONE) / (m + Decimal::ONE);
    let z2 = z * z;
    let mut power = z;
    let mut sum = Decimal::ZERO;
    for k in 0..MAX_TERMS {
        let term = power / Decimal::from(2 * k + 1);
        if term.is_zero() {
            break;
        }
        sum += term;
        power *= z2;
    }
    sum * two()
}

fn ln2() -> Decimal {
    ln_reduced(two())
}

/// Natural logarithm of a positive number; `None` for zero, negatives or overflow.
pub fn ln(x: Decimal) -> Option<Decimal> {
    if x <= Decimal::ZERO {
        return None;
    }
    let (mut m, mut k) = (x, 0i64);
    while m > two() {
        m /= two();
        k += 1;
    }
    while m < Decimal::ONE {
        m = m.checked_mul(two())?;
        k -= 1;
    }
    ln2().checked_mul(Decimal::from(k))?.checked_add(ln_reduced(m))
}

/// e^y; `None` on overflow.
pub fn exp(y: Decimal) -> Option<Decimal> {
    let l2 = ln2();
    // y = n·ln2 + r with r in [0, ln2).
    let n = (y / l2).floor();
    let r = y - n * l2;
    let mut term = Decimal::ONE;
    let mut sum = Decimal::ONE;
    for k in 1..MAX_TERMS {
        term = term * r / Decimal::from(k);
        if term.is_zero() {
            break;
        }
        sum += term;
    }
    let n = n.to_i64()?;
    let mut result = sum;
    if n >= 0 {
        for _ in 0..n {
            result = result.checked_mul(two())?;
        }
    } else {
        for _ in 0..(-n) {
            result /= two();
        }
    }
    Some(result)
}

/// x^y for x > 0 (and 0^y = 0 for y > 0).
pub fn pow(x: Decimal, y: Decimal) -> Option<Decimal> {
    if x.is_zero() && y > Decimal::ZERO {
        return Some(Decimal::ZERO);
    }
    exp(ln(x)?.checked_mul(y)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().expect("decimal literal")
    }

    #[test]
    fn known_values() {
        assert_eq!(ln(Decimal::ONE), Some(Decimal::ZERO));
        assert_eq!(ln2().round_dp(20), d("0.69314718055994530942"));
        assert_eq!(exp(Decimal::ONE).map(|e| e.round_dp(20)), Some(d("2.71828182845904523536")));
        assert_eq!(pow(d("1.95"), d("0.59")).map(|v| v.round_dp(6)), Some(d("1.482929")));
        assert_eq!(pow(d("6"), d("0.59")).map(|v| v.round_dp(6)), Some(d("2.878122")));
        assert_eq!(pow(d("4"), d("0.5")).map(|v| v.round_dp(20)), Some(d("2")));
        assert_eq!(pow(d("1000000"), Decimal::ONE).map(|v| v.round_dp(15)), Some(d("1000000")));
    }
}
