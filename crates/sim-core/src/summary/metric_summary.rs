//! The mergeable summary of one metric over many runs: counts, moments, extremes, quantiles
//! and histograms, in memory that does not grow with the number of runs.

use super::histogram::{self, HistogramBin};
use super::moments::Moments;
use super::parts::{MetricSummaryParts, PartsError};
use super::rank::{FINE_SCALE, RankSketch};

/// One metric over many runs.
///
/// Each run contributes one of: a finite value (in [`count`](Self::count) and every
/// statistic), an absent value (`None`, in [`absent`](Self::absent) only), or NaN/±infinity (in
/// [`non_finite`](Self::non_finite) only). Non-finite values are kept apart rather than folded
/// in, because one infinity would turn the mean and variance of all runs into inf or NaN; a
/// diverging run (say an unstable controller's ISE) still shows up, in its own count.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetricSummary {
    absent: u64,
    non_finite: u64,
    moments: Moments,
    sketch: RankSketch,
}

impl MetricSummary {
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty summary with a finer quantile sketch (scale [`FINE_SCALE`]): exact up to
    /// 16,384 values, a 16th of the rank error, up to 16 times the memory (128 KB). The stop
    /// metric of an adaptive job on a quantile has one: the sketch's error widens that job's
    /// interval. Merging one into a summary makes that summary fine too.
    pub fn fine() -> Self {
        MetricSummary { sketch: RankSketch::with_scale(FINE_SCALE), ..Self::default() }
    }

    /// Adds one run's value of the metric.
    pub fn add(&mut self, value: Option<f64>) {
        match value {
            None => self.absent += 1,
            Some(x) if !x.is_finite() => self.non_finite += 1,
            Some(x) => {
                // -0.0 becomes 0.0, so min and max do not depend on which zero came first.
                let x = x + 0.0;
                self.moments.add(x);
                self.sketch.add(x);
            }
        }
    }

    /// Adds every run `other` has seen. Counts, min, max, quantiles and histograms are exactly
    /// independent of merge order; mean and variance only up to rounding. The same merges in
    /// the same order give bit-identical results.
    pub fn merge(&mut self, other: &MetricSummary) {
        self.absent += other.absent;
        self.non_finite += other.non_finite;
        self.moments.merge(&other.moments);
        self.sketch.merge(&other.sketch);
    }

    /// Runs seen: `count + absent + non_finite`.
    pub fn runs(&self) -> u64 {
        self.moments.count + self.absent + self.non_finite
    }

    /// Finite values seen.
    pub fn count(&self) -> u64 {
        self.moments.count
    }

    /// Runs where the metric was absent.
    pub fn absent(&self) -> u64 {
        self.absent
    }

    /// Runs where the metric was NaN or infinite.
    pub fn non_finite(&self) -> u64 {
        self.non_finite
    }

    pub fn mean(&self) -> Option<f64> {
        (self.moments.count > 0).then_some(self.moments.mean)
    }

    /// Sample variance (divisor `n - 1`); `None` below two values.
    pub fn variance(&self) -> Option<f64> {
        self.moments.variance()
    }

    /// Sample standard deviation; `None` below two values.
    pub fn std(&self) -> Option<f64> {
        self.variance().map(f64::sqrt)
    }

    pub fn min(&self) -> Option<f64> {
        (self.moments.count > 0).then_some(self.moments.min)
    }

    pub fn max(&self) -> Option<f64> {
        (self.moments.count > 0).then_some(self.moments.max)
    }

    /// The `q`-quantile of the finite values, `None` when there are none or `q` is not in
    /// `[0, 1]`.
    ///
    /// It estimates the sorted value of 0-based rank `floor(q * (n - 1))` (no interpolation).
    /// Ranks `0` and `n - 1` return the exact min and max. Up to
    /// [`EXACT_VALUES`](super::EXACT_VALUES) values every rank is exact; above, the value
    /// returned is that of a rank within [`rank_error`](Self::rank_error)` * n` of it (with
    /// 99 % probability).
    pub fn quantile(&self, q: f64) -> Option<f64> {
        self.quantiles([q])[0]
    }

    /// [`quantile`](Self::quantile) of each of `qs`, reading the sketch once.
    pub fn quantiles<const N: usize>(&self, qs: [f64; N]) -> [Option<f64>; N] {
        self.values_at_ranks(self.quantile_ranks(qs))
    }

    /// The rank each of `qs` reads ([`quantile`](Self::quantile)); `u64::MAX` (past the end)
    /// without values or for a `q` outside `[0, 1]`.
    pub fn quantile_ranks<const N: usize>(&self, qs: [f64; N]) -> [u64; N] {
        let n = self.moments.count;
        qs.map(|q| {
            if n > 0 && (0.0..=1.0).contains(&q) {
                ((q * (n - 1) as f64).floor() as u64).min(n - 1)
            } else {
                u64::MAX
            }
        })
    }

    /// The value of 0-based `rank` among the finite values in ascending order, `None` past
    /// the last. Ranks `0` and `count - 1` are the exact min and max; the others are exact up
    /// to [`EXACT_VALUES`](super::EXACT_VALUES) values and above that the value of a rank
    /// within [`rank_error`](Self::rank_error)` * count` of `rank` (with 99 % probability).
    pub fn value_at_rank(&self, rank: u64) -> Option<f64> {
        self.values_at_ranks([rank])[0]
    }

    /// [`value_at_rank`](Self::value_at_rank) of each of `ranks`, reading the sketch (which
    /// sorts what it holds) once.
    pub fn values_at_ranks<const N: usize>(&self, ranks: [u64; N]) -> [Option<f64>; N] {
        let n = self.moments.count;
        let inner = ranks.map(|rank| if rank > 0 && rank < n.saturating_sub(1) { rank } else { u64::MAX });
        let from_sketch =
            if inner.iter().any(|&r| r != u64::MAX) { self.sketch.values_at_ranks(inner) } else { [None; N] };
        std::array::from_fn(|i| match ranks[i] {
            rank if rank >= n => None,
            0 => Some(self.moments.min),
            rank if rank == n - 1 => Some(self.moments.max),
            _ => from_sketch[i],
        })
    }

    /// The bound on the rank error of [`quantile`](Self::quantile), as a fraction of
    /// [`count`](Self::count): 0 while the quantiles are exact, else a bound that holds with
    /// 99 % probability over the sketch's coin flips.
    pub fn rank_error(&self) -> f64 {
        self.sketch.rank_error()
    }

    /// `bins` equal-width bins from min to max of the finite values; the counts sum to
    /// [`count`](Self::count). Exact up to [`EXACT_VALUES`](super::EXACT_VALUES) values; above,
    /// each value the sketch holds is counted with its weight in its bin, so a bin's count
    /// is within the rank error bound (twice, one per edge) of the exact count.
    /// Empty when `bins == 0` or `count == 0`; one bin when min equals max. Allocates `bins`
    /// entries: callers bound it.
    pub fn histogram(&self, bins: usize) -> Vec<HistogramBin> {
        histogram::equal_width(
            self.moments.min,
            self.moments.max,
            bins,
            self.sketch.weighted_values().into_iter(),
        )
    }

    /// Compacts the sketch to at most `values` values (see [`RunSummary::shrink`](super::RunSummary::shrink)).
    pub fn shrink(&mut self, values: usize) {
        self.sketch.shrink(values);
    }

    /// Values the sketch holds (the memory in use), at most
    /// [`EXACT_VALUES`](super::EXACT_VALUES) (16 times that for a [`fine`](Self::fine) one).
    pub fn sketch_values(&self) -> usize {
        self.sketch.held()
    }

    /// The values a chunk's report keeps of this sketch when its job merges `chunks` chunks:
    /// [`report_values`](super::report_values), scaled with a fine sketch.
    pub fn report_values(&self, chunks: u64) -> usize {
        super::report_values_at(self.sketch.scale(), chunks)
    }

    /// The whole state as plain data; [`from_parts`](Self::from_parts) restores it bit for
    /// bit.
    pub fn to_parts(&self) -> MetricSummaryParts {
        let m = &self.moments;
        MetricSummaryParts {
            count: m.count,
            absent: self.absent,
            non_finite: self.non_finite,
            mean: m.mean,
            m2: m.m2,
            min: m.min,
            max: m.max,
            sketch: self.sketch.to_parts(),
        }
    }

    /// Rebuilds a summary, checking that the parts are consistent (the sketch holds `count`
    /// values, the moments are possible). With `count == 0` the floats are ignored.
    pub fn from_parts(parts: &MetricSummaryParts) -> Result<MetricSummary, PartsError> {
        let p = parts;
        let moments =
            Moments::from_raw(p.count, p.mean, p.m2, p.min, p.max).map_err(PartsError::InvalidMoments)?;
        let sketch = RankSketch::from_parts(&p.sketch)?;
        // `runs()` adds the three counts; refuse parts where that would overflow.
        p.count
            .checked_add(p.absent)
            .and_then(|n| n.checked_add(p.non_finite))
            .ok_or(PartsError::CountOverflow)?;
        if sketch.count() != p.count {
            return Err(PartsError::SketchCountMismatch { sketch: sketch.count(), count: p.count });
        }
        Ok(MetricSummary { absent: p.absent, non_finite: p.non_finite, moments, sketch })
    }
}

#[cfg(test)]
mod tests {
    use super::super::EXACT_VALUES;
    use super::*;
    use proptest::prelude::*;

    fn of(xs: &[Option<f64>]) -> MetricSummary {
        let mut s = MetricSummary::new();
        xs.iter().for_each(|&x| s.add(x));
        s
    }

    fn finite(xs: &[f64]) -> MetricSummary {
        let mut s = MetricSummary::new();
        xs.iter().for_each(|&x| s.add(Some(x)));
        s
    }

    fn close(a: f64, b: f64, scale: f64) -> bool {
        (a - b).abs() <= 1e-9 * a.abs().max(b.abs()) + 1e-12 * scale
    }

    /// Every float as bits, so -0.0 vs 0.0 or a last-ulp difference fails.
    fn bits(s: &MetricSummary) -> (MetricSummaryParts, [u64; 4]) {
        let p = s.to_parts();
        let floats = [p.mean.to_bits(), p.m2.to_bits(), p.min.to_bits(), p.max.to_bits()];
        (p, floats)
    }

    #[test]
    fn empty_summary_has_no_statistics() {
        let s = of(&[None, None]);
        assert_eq!((s.runs(), s.count(), s.absent()), (2, 0, 2));
        assert_eq!((s.mean(), s.variance(), s.min(), s.max()), (None, None, None, None));
        assert_eq!(s.quantile(0.5), None);
        assert!(s.histogram(10).is_empty());
    }

    #[test]
    fn absent_and_non_finite_are_counted_apart() {
        let s = of(&[Some(1.0), None, Some(f64::NAN), Some(3.0), Some(f64::INFINITY)]);
        assert_eq!((s.count(), s.absent(), s.non_finite(), s.runs()), (2, 1, 2, 5));
        assert_eq!((s.mean(), s.variance()), (Some(2.0), Some(2.0)));
        assert_eq!((s.min(), s.max()), (Some(1.0), Some(3.0)));
        assert_eq!(s.histogram(4).iter().map(|b| b.count).sum::<u64>(), 2);
    }

    #[test]
    fn quantile_ranks_and_extremes() {
        let xs: Vec<f64> = (1..=101).map(f64::from).collect();
        let s = finite(&xs);
        assert_eq!(s.quantile(0.0), Some(1.0));
        assert_eq!(s.quantile(1.0), Some(101.0));
        assert_eq!(s.quantile(0.5), Some(51.0));
        // Rank floor(0.999 * 100) = 99: the value 100, not the max.
        assert_eq!(s.quantile(0.999), Some(100.0));
        assert_eq!(s.rank_error(), 0.0);
        assert_eq!(s.quantile(-0.1), None);
        assert_eq!(s.quantile(1.5), None);
        assert_eq!(s.quantile(f64::NAN), None);
    }

    #[test]
    fn negative_zero_counts_as_zero() {
        let a = finite(&[-0.0, 0.0]);
        let b = finite(&[0.0, -0.0]);
        assert_eq!(bits(&a), bits(&b));
        assert_eq!(a.min().expect("values").to_bits(), 0.0f64.to_bits());
    }

    #[test]
    fn parts_round_trip_bit_for_bit_and_are_checked() {
        let s = of(&[Some(0.1), Some(-2.5), None, Some(0.0), Some(f64::NAN), Some(7e12)]);
        let back = MetricSummary::from_parts(&s.to_parts()).expect("valid parts");
        assert_eq!(bits(&back), bits(&s));
        assert_eq!(back, s);

        let empty = MetricSummary::from_parts(&MetricSummaryParts::default()).expect("empty is valid");
        assert_eq!(empty, MetricSummary::new());

        let mut bad = s.to_parts();
        bad.count += 1;
        assert_eq!(
            MetricSummary::from_parts(&bad),
            Err(PartsError::SketchCountMismatch { sketch: 4, count: 5 })
        );
        let mut bad = s.to_parts();
        bad.absent = u64::MAX;
        assert_eq!(MetricSummary::from_parts(&bad), Err(PartsError::CountOverflow));
        let mut bad = s.to_parts();
        bad.m2 = -1.0;
        assert!(matches!(MetricSummary::from_parts(&bad), Err(PartsError::InvalidMoments(_))));
    }

    #[test]
    fn sketch_memory_is_capped() {
        let mut s = MetricSummary::new();
        for k in 0..200_000 {
            s.add(Some(10f64.powf(-300.0 + 600.0 * f64::from(k) / 200_000.0)));
        }
        assert!(s.sketch_values() <= EXACT_VALUES);
        assert!(s.rank_error() > 0.0 && s.rank_error() < 0.02, "{}", s.rank_error());
    }

    /// Values of both signs, exact zeros, absents and wide magnitudes (within 1e±30, so the
    /// squared deviations stay finite).
    fn values() -> impl Strategy<Value = Vec<Option<f64>>> {
        let v = (0u8..10, -30.0f64..30.0).prop_map(|(kind, e)| match kind {
            0 => None,
            1 => Some(0.0),
            2..=4 => Some(-(10f64.powf(e))),
            _ => Some(10f64.powf(e)),
        });
        prop::collection::vec(v, 0..400)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn merge_order_changes_nothing_but_rounding(
            chunks in prop::collection::vec(values(), 1..8),
            seed in any::<u64>(),
        ) {
            let summaries: Vec<MetricSummary> = chunks.iter().map(|c| of(c)).collect();
            let in_order = summaries.iter().fold(MetricSummary::new(), |mut acc, s| {
                acc.merge(s);
                acc
            });
            // Chunk order again: bit for bit the same.
            let again = summaries.iter().fold(MetricSummary::new(), |mut acc, s| {
                acc.merge(s);
                acc
            });
            prop_assert_eq!(bits(&in_order), bits(&again));

            // A permutation (Fisher-Yates driven by `seed`).
            let mut order: Vec<usize> = (0..summaries.len()).collect();
            let mut u = seed;
            for i in (1..order.len()).rev() {
                u = u.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                order.swap(i, (u >> 33) as usize % (i + 1));
            }
            let mut shuffled = MetricSummary::new();
            order.iter().for_each(|&i| shuffled.merge(&summaries[i]));
            let (a, b) = (in_order.to_parts(), shuffled.to_parts());
            prop_assert_eq!((a.count, a.absent, a.non_finite), (b.count, b.absent, b.non_finite));
            prop_assert_eq!((a.min, a.max), (b.min, b.max));
            // The sketch depends on the order only above EXACT_VALUES, within its error bound.
            let quantiles = |s: &MetricSummary| [0.05, 0.5, 0.95].map(|q| s.quantile(q));
            if a.count as usize <= EXACT_VALUES {
                prop_assert_eq!(quantiles(&in_order), quantiles(&shuffled));
                prop_assert_eq!(in_order.histogram(16), shuffled.histogram(16));
            }
            // Largest squared magnitude, the scale of rounding in m2 (0 when there are no values).
            let scale = if a.count == 0 { 0.0 } else { a.min.abs().max(a.max.abs()).powi(2) };
            prop_assert!(close(a.mean, b.mean, scale.sqrt()), "{} {}", a.mean, b.mean);
            prop_assert!(close(a.m2, b.m2, scale * a.count as f64), "{} {}", a.m2, b.m2);

            // The same as one summary of all the data.
            let whole = of(&chunks.concat());
            let w = whole.to_parts();
            prop_assert_eq!((w.count, w.absent, w.min, w.max), (a.count, a.absent, a.min, a.max));
            if a.count as usize <= EXACT_VALUES {
                prop_assert_eq!(&w.sketch, &a.sketch);
            }
            prop_assert!(close(w.mean, a.mean, scale.sqrt()));
            prop_assert!(close(w.m2, a.m2, scale * a.count as f64));
            if let (Some(v), Some(u)) = (whole.variance(), in_order.variance()) {
                prop_assert!(close(v, u, scale));
            }
        }

        #[test]
        fn quantiles_and_histograms_match_the_exact_sort(xs in values(), q in 0.0f64..=1.0) {
            let s = of(&xs);
            let mut sorted: Vec<f64> = xs.iter().flatten().copied().collect();
            sorted.sort_by(f64::total_cmp);
            prop_assert_eq!(s.count(), sorted.len() as u64);
            prop_assert_eq!(s.absent(), (xs.len() - sorted.len()) as u64);
            match sorted.len() {
                0 => prop_assert_eq!(s.quantile(q), None),
                n => {
                    // At most 400 values: the sketch holds them all and every quantile is exact.
                    let exact = sorted[(q * (n - 1) as f64).floor() as usize];
                    prop_assert_eq!(s.quantile(q), Some(exact));
                    for bins in [1, 7, 64] {
                        let h = s.histogram(bins);
                        prop_assert_eq!(h.iter().map(|b| b.count).sum::<u64>(), n as u64);
                        prop_assert_eq!(h[0].lo, sorted[0]);
                        prop_assert_eq!(h[h.len() - 1].hi, sorted[n - 1]);
                    }
                }
            }
        }
    }
}
