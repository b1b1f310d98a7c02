//! The statistics the bench reports, and its deterministic random choices. Pure, so they are
//! unit-tested rather than trusted.

/// Median, minimum and maximum of per-round values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    /// `None` for no values. The median of an even count is the mean of the middle two.
    pub fn of(values: &[f64]) -> Option<Self> {
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        if sorted.is_empty() {
            return None;
        }
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 };
        Some(Self { median, min: sorted[0], max: sorted[n - 1] })
    }
}

/// The nearest-rank percentile (`p` in 0..=100) of unsorted samples: the smallest sample that at
/// least p % of the samples are less than or equal to. `None` for no samples.
pub fn percentile(samples: &[f64], p: f64) -> Option<f64> {
    let mut sorted: Vec<f64> = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    percentile_sorted(&sorted, p)
}

/// [`percentile`] of samples already sorted ascending.
pub fn percentile_sorted(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    // The epsilon keeps 99.9 % of 1000 at rank 999 despite binary fractions.
    let rank = ((p / 100.0) * sorted.len() as f64 - 1e-9).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// A small, fast, seedable generator (SplitMix64). Good enough for choosing accounts and
/// serials; the bench must be reproducible from its seed, not cryptographic.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0), without modulo bias worth caring about at these sizes.
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Exponentially distributed with the given mean (Poisson inter-arrival times).
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }
}

/// Zipf's law over ranks `0..n`: rank k is chosen with probability ∝ 1 / (k + 1)^s. Sampled by
/// binary search in the cumulative distribution, which is exact and fast enough for the account
/// counts the bench uses (up to about a million).
#[derive(Debug, Clone)]
pub struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    pub fn new(n: usize, s: f64) -> Self {
        assert!(n > 0, "Zipf over no ranks");
        let mut total = 0.0;
        let mut cumulative = Vec::with_capacity(n);
        for k in 0..n {
            total += 1.0 / ((k + 1) as f64).powf(s);
            cumulative.push(total);
        }
        for c in &mut cumulative {
            *c /= total;
        }
        Self { cumulative }
    }

    /// The probability of rank `k`.
    #[cfg(test)]
    pub fn probability(&self, k: usize) -> f64 {
        self.cumulative[k] - if k == 0 { 0.0 } else { self.cumulative[k - 1] }
    }

    pub fn sample(&self, rng: &mut Rng) -> usize {
        let u = rng.unit();
        self.cumulative.partition_point(|&c| c <= u).min(self.cumulative.len() - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_of_odd_and_even_counts() {
        assert_eq!(Spread::of(&[3.0, 1.0, 2.0]), Some(Spread { median: 2.0, min: 1.0, max: 3.0 }));
        assert_eq!(Spread::of(&[4.0, 1.0, 2.0, 3.0]), Some(Spread { median: 2.5, min: 1.0, max: 4.0 }));
        assert_eq!(Spread::of(&[7.0]), Some(Spread { median: 7.0, min: 7.0, max: 7.0 }));
        assert_eq!(Spread::of(&[]), None);
        assert_eq!(Spread::of(&[f64::NAN]), None, "a failed round is no value, not a NaN median");
    }

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<f64> = (1..=1000).rev().map(f64::from).collect();
        assert_eq!(percentile(&samples, 50.0), Some(500.0));
        assert_eq!(percentile(&samples, 99.0), Some(990.0));
        assert_eq!(percentile(&samples, 99.9), Some(999.0));
        assert_eq!(percentile(&samples, 100.0), Some(1000.0));
        assert_eq!(percentile(&samples, 0.0), Some(1.0));
        assert_eq!(percentile(&[5.0], 99.9), Some(5.0));
        assert_eq!(percentile(&[], 50.0), None);
        // Ten samples: p99 is the largest, p50 the fifth.
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&ten, 99.0), Some(10.0));
        assert_eq!(percentile(&ten, 50.0), Some(5.0));
    }

    #[test]
    fn rng_is_deterministic_and_in_range() {
        let (mut a, mut b) = (Rng::new(42), Rng::new(42));
        for _ in 0..1000 {
            assert_eq!(a.next_u64(), b.next_u64());
            let x = a.below(7);
            assert!(x < 7);
            b.below(7);
            let u = a.unit();
            assert!((0.0..1.0).contains(&u));
            b.unit();
        }
        let mean: f64 = (0..100_000).map(|_| a.exponential(2.0)).sum::<f64>() / 100_000.0;
        assert!((mean - 2.0).abs() < 0.05, "exponential mean {mean}");
    }

    #[test]
    fn zipf_matches_its_distribution() {
        let zipf = Zipf::new(100, 1.1);
        let total: f64 = (0..100).map(|k| zipf.probability(k)).sum();
        assert!((total - 1.0).abs() < 1e-9);
        // P(k) ∝ 1/(k+1)^s: rank 0 is 2^1.1 times as likely as rank 1.
        assert!((zipf.probability(0) / zipf.probability(1) - 2f64.powf(1.1)).abs() < 1e-9);
        let mut rng = Rng::new(7);
        let mut counts = [0u32; 100];
        let n = 200_000;
        for _ in 0..n {
            counts[zipf.sample(&mut rng)] += 1;
        }
        for k in [0, 1, 9, 99] {
            let observed = f64::from(counts[k]) / f64::from(n);
            let expected = zipf.probability(k);
            assert!((observed - expected).abs() < 0.01 + expected * 0.1, "rank {k}: {observed} vs {expected}");
        }
        assert!(counts.windows(2).take(10).all(|w| w[0] > w[1]), "the head is decreasing: {counts:?}");
    }

    #[test]
    fn zipf_of_one_rank() {
        let zipf = Zipf::new(1, 1.1);
        let mut rng = Rng::new(1);
        assert!((0..100).all(|_| zipf.sample(&mut rng) == 0));
    }
}
