//! A DDSketch-style logarithmic quantile sketch (Masson, Rim, Lee, "DDSketch: a fast and
//! fully-mergeable quantile sketch with relative-error guarantees", VLDB 2019).
//!
//! A value `x` with `|x| >= f64::MIN_POSITIVE` goes to bucket `i = ceil(log_gamma |x|)` of the
//! store of its sign, which covers magnitudes `(gamma^(i-1), gamma^i]`; smaller magnitudes (0
//! and subnormals) are counted as zero. Every magnitude in bucket `i` is within relative error
//! [`RELATIVE_ACCURACY`] of the bucket's value `2 gamma^i / (gamma + 1)`, which is what a
//! quantile returns. Counts are integers, so merging is exact and independent of order.
//!
//! The logarithm is `libm::log`, not `f64::ln`: the bucket of a value must be the same on every
//! worker, and the platform's libm may round differently.

use super::parts::{PartsError, SketchParts};
use super::store::BucketStore;

/// The relative accuracy `alpha` of quantiles: buckets are `gamma = (1 + alpha) / (1 - alpha)`
/// wide (about 1 % at 0.005).
pub const RELATIVE_ACCURACY: f64 = 0.005;

/// The most buckets a store (one per sign) holds: magnitudes within a factor
/// `gamma^(MAX_BUCKETS - 1)` (about 7.8e8 at the default accuracy) of the largest one of their
/// sign keep the accuracy bound; smaller ones are counted in the lowest kept bucket.
pub const MAX_BUCKETS: usize = 2048;

const GAMMA: f64 = (1.0 + RELATIVE_ACCURACY) / (1.0 - RELATIVE_ACCURACY);
/// `libm::log(GAMMA)` and its inverse, as literals so `add` computes no extra logarithm (a test
/// checks them bit for bit).
const LN_GAMMA: f64 = 0.010000083334583179;
const INV_LN_GAMMA: f64 = 99.99916666111281;

/// Bucket index of a magnitude `>= f64::MIN_POSITIVE`.
fn index_of(magnitude: f64) -> i32 {
    // The result lies within about +-71,000, so the cast never saturates.
    (libm::log(magnitude) * INV_LN_GAMMA).ceil() as i32
}

/// The magnitude that represents bucket `index`: relative error at most `alpha` to all of it.
fn value_of(index: i32) -> f64 {
    2.0 * libm::exp(f64::from(index) * LN_GAMMA) / (GAMMA + 1.0)
}

/// The bucket indices finite values can reach; parts outside it are corrupt.
fn index_range() -> std::ops::RangeInclusive<i32> {
    index_of(f64::MIN_POSITIVE)..=index_of(f64::MAX)
}

/// Counts of values per logarithmic bucket, for each sign, plus a zero count.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Sketch {
    zero: u64,
    positive: BucketStore,
    negative: BucketStore,
}

impl Sketch {
    /// Adds a finite value (the caller keeps NaN and infinities out).
    pub(super) fn add(&mut self, x: f64) {
        debug_assert!(x.is_finite());
        let magnitude = x.abs();
        if magnitude < f64::MIN_POSITIVE {
            self.zero += 1;
        } else if x > 0.0 {
            self.positive.add(index_of(magnitude), 1);
        } else {
            self.negative.add(index_of(magnitude), 1);
        }
    }

    pub(super) fn merge(&mut self, other: &Sketch) {
        self.zero += other.zero;
        self.positive.merge(&other.positive);
        self.negative.merge(&other.negative);
    }

    /// Number of values added.
    pub(super) fn count(&self) -> u64 {
        self.zero + self.positive.total() + self.negative.total()
    }

    /// Buckets held by the positive and negative stores (the memory in use), each at most
    /// [`MAX_BUCKETS`].
    pub(super) fn spans(&self) -> (usize, usize) {
        (self.positive.span(), self.negative.span())
    }

    /// The estimate of the value of 0-based `rank` in ascending order, `None` past the end.
    pub(super) fn value_at_rank(&self, rank: u64) -> Option<f64> {
        let mut seen = 0;
        // Ascending order: negatives from the largest magnitude down, zeros, then positives.
        for (index, n) in self.negative.buckets().rev() {
            seen += n;
            if rank < seen {
                return Some(-value_of(index));
            }
        }
        seen += self.zero;
        if rank < seen {
            return Some(0.0);
        }
        self.positive.buckets().find_map(|(index, n)| {
            seen += n;
            (rank < seen).then(|| value_of(index))
        })
    }

    /// Every non-empty bucket as `(representative value, count)`, in ascending value order.
    pub(super) fn weighted_values(&self) -> impl Iterator<Item = (f64, u64)> + '_ {
        let negative = self.negative.buckets().rev().map(|(i, n)| (-value_of(i), n));
        let zero = (self.zero > 0).then_some((0.0, self.zero));
        let positive = self.positive.buckets().map(|(i, n)| (value_of(i), n));
        negative.chain(zero).chain(positive)
    }

    pub(super) fn to_parts(&self) -> SketchParts {
        SketchParts {
            zero_count: self.zero,
            positive: self.positive.buckets().collect(),
            negative: self.negative.buckets().collect(),
        }
    }

    /// Rebuilds a sketch. Buckets may come in any order and repeat: they are added one by one,
    /// so parts that span more than [`MAX_BUCKETS`] are folded as adds would have been.
    pub(super) fn from_parts(parts: &SketchParts) -> Result<Sketch, PartsError> {
        let range = index_range();
        let mut total = parts.zero_count;
        let mut sketch = Sketch { zero: parts.zero_count, ..Sketch::default() };
        for (buckets, store) in
            [(&parts.positive, &mut sketch.positive), (&parts.negative, &mut sketch.negative)]
        {
            for &(index, n) in buckets {
                if !range.contains(&index) {
                    return Err(PartsError::BucketIndexOutOfRange { index });
                }
                total = total.checked_add(n).ok_or(PartsError::CountOverflow)?;
                store.add(index, n);
            }
        }
        Ok(sketch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn of(xs: &[f64]) -> Sketch {
        let mut s = Sketch::default();
        xs.iter().for_each(|&x| s.add(x));
        s
    }

    /// The documented bound, with room for the rounding of `log`/`exp` (about 1e-13).
    fn within_bound(estimate: f64, exact: f64) -> bool {
        (estimate - exact).abs() <= (RELATIVE_ACCURACY + 1e-9) * exact.abs()
    }

    #[test]
    fn constants_match_libm() {
        assert_eq!(LN_GAMMA.to_bits(), libm::log(GAMMA).to_bits());
        assert_eq!(INV_LN_GAMMA.to_bits(), (1.0 / libm::log(GAMMA)).to_bits());
        assert!(GAMMA.powi(MAX_BUCKETS as i32 - 1) > 7.7e8);
    }

    #[test]
    fn bucket_values_are_within_alpha_of_both_bucket_ends() {
        for index in [-70_000, -5, 0, 1, 2, 1234, 70_000] {
            let upper = libm::exp(f64::from(index) * LN_GAMMA);
            let lower = upper / GAMMA;
            let value = value_of(index);
            assert!(within_bound(value, upper) && within_bound(value, lower));
            assert_eq!(index_of(upper * (1.0 - 1e-12)), index);
            assert_eq!(index_of(lower * (1.0 + 1e-12)), index);
        }
        assert!(index_range().contains(&index_of(f64::MIN_POSITIVE)));
        assert_eq!(*index_range().end(), index_of(f64::MAX));
    }

    #[test]
    fn orders_negatives_zeros_and_positives() {
        let s = of(&[3.0, -2.0, 0.0, -0.0, 1e-310, -100.0, 7.0]);
        let got: Vec<f64> = (0..7).map(|r| s.value_at_rank(r).expect("rank < n")).collect();
        let exact = [-100.0, -2.0, 0.0, 0.0, 0.0, 3.0, 7.0];
        for (g, e) in got.iter().zip(exact) {
            assert!(within_bound(*g, e), "{got:?}");
        }
        assert_eq!(s.value_at_rank(7), None);
        let weighted: Vec<(f64, u64)> = s.weighted_values().collect();
        assert_eq!(weighted.iter().map(|w| w.1).sum::<u64>(), 7);
        assert!(weighted.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn memory_stays_bounded_over_the_whole_float_range() {
        // 10^6 magnitudes log-uniform over 1e-300..1e300, both signs: about 138,000 distinct
        // buckets per sign before the cap.
        let mut s = Sketch::default();
        let mut u: u64 = 0x9E37_79B9_7F4A_7C15;
        for k in 0..1_000_000u32 {
            u = u.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let t = (u >> 11) as f64 / (1u64 << 53) as f64;
            let x = 10f64.powf(-300.0 + 600.0 * t);
            s.add(if k % 2 == 0 { x } else { -x });
        }
        let (pos, neg) = s.spans();
        assert!(pos <= MAX_BUCKETS && neg <= MAX_BUCKETS, "{pos} {neg}");
        assert_eq!(pos, MAX_BUCKETS);
        assert_eq!(s.count(), 1_000_000);
        // The top of the distribution keeps its accuracy.
        let top = s.value_at_rank(999_999).expect("rank < n");
        assert!(top > 1e299 && top < 1.01e300, "{top}");
    }

    #[test]
    fn parts_round_trip_and_reject_corruption() {
        let s = of(&[1.0, 2.0, -3.0, 0.0, 1e100, -1e-100, 2.0]);
        let parts = s.to_parts();
        assert_eq!(parts.zero_count, 1);
        assert_eq!(Sketch::from_parts(&parts), Ok(s.clone()));

        // Any bucket order gives the same sketch.
        let mut shuffled = parts.clone();
        shuffled.positive.reverse();
        assert_eq!(Sketch::from_parts(&shuffled), Ok(s));

        let mut bad = parts.clone();
        bad.positive.push((i32::MAX, 1));
        assert_eq!(Sketch::from_parts(&bad), Err(PartsError::BucketIndexOutOfRange { index: i32::MAX }));
        let mut bad = parts;
        bad.negative.push((0, u64::MAX));
        assert_eq!(Sketch::from_parts(&bad), Err(PartsError::CountOverflow));
    }

    /// Values of both signs, exact zeros, and magnitudes over `decades` decades.
    fn data(decades: f64) -> impl Strategy<Value = Vec<f64>> {
        let value = (0u8..10, -0.5f64..0.5).prop_map(move |(kind, t)| match kind {
            0 => 0.0,
            1..=3 => -(10f64.powf(t * decades)),
            _ => 10f64.powf(t * decades),
        });
        prop::collection::vec(value, 1..1500)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn every_rank_is_within_alpha_of_the_exact_sort(xs in data(8.0)) {
            // 8 decades fit in the cap, so every rank keeps the bound.
            let s = of(&xs);
            let mut sorted = xs.clone();
            sorted.sort_by(f64::total_cmp);
            for (rank, &exact) in sorted.iter().enumerate() {
                let estimate = s.value_at_rank(rank as u64).expect("rank < n");
                prop_assert!(within_bound(estimate, exact), "rank {rank}: {estimate} vs {exact}");
            }
        }

        #[test]
        fn past_the_cap_the_bound_holds_above_the_collapsed_range(xs in data(300.0)) {
            let s = of(&xs);
            let mut sorted = xs.clone();
            sorted.sort_by(f64::total_cmp);
            let largest = |positive: bool| {
                xs.iter().filter(|&&x| (x > 0.0) == positive && x != 0.0)
                    .fold(0.0f64, |m, x| m.max(x.abs()))
            };
            let reach = GAMMA.powi(MAX_BUCKETS as i32 - 1) * (1.0 - 1e-9);
            for (rank, &exact) in sorted.iter().enumerate() {
                let estimate = s.value_at_rank(rank as u64).expect("rank < n");
                let floor = largest(exact > 0.0) / reach;
                if exact == 0.0 || exact.abs() >= floor {
                    prop_assert!(within_bound(estimate, exact), "rank {rank}: {estimate} vs {exact}");
                } else {
                    // Collapsed: same sign, magnitude raised at most to the lowest kept bucket.
                    prop_assert!(estimate.signum() == exact.signum());
                    prop_assert!(estimate.abs() >= exact.abs() * (1.0 - RELATIVE_ACCURACY));
                    prop_assert!(estimate.abs() <= floor * GAMMA * GAMMA);
                }
            }
        }
    }
}
