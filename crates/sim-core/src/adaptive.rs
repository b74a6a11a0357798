//! Adaptive Monte Carlo: a job that runs until the confidence interval of one metric's mean,
//! or of one of its quantiles, is as narrow as asked, or until its run cap.
//!
//! The job runs in waves. The first wave is `batch` runs; after each wave the runs so far
//! (runs `0..n`, all of them: a wave ends only once every run before it is done) decide:
//! stop when the interval's half-width is at most the target, or when `n` is the cap;
//! otherwise run up to the next wave end. That end is where the current spread says the
//! target will be met, rounded up to a multiple of `batch`, at least one batch further and at
//! most [`MAX_GROWTH`] times `n` (a first wave with an unlucky spread estimate cannot launch a
//! million runs), and at most the cap.
//!
//! Everything the rule reads is a deterministic function of runs `0..n` (the merged summary
//! of a prefix of chunks is bit-identical however the job was split among workers), so the
//! same spec stops at the same run count with the same aggregates, every time. Wave ends are
//! multiples of `batch` (or the cap): the dispatcher cuts the job into chunks that divide
//! `batch` ([`chunk_size_within`]), so a wave always ends at a chunk boundary.
//!
//! **The mean**: the normal (CLT) interval `mean ± z · s / √count` over the metric's finite
//! values, as for independent runs.
//!
//! **A quantile** `q`: the distribution-free interval between two order statistics. Of
//! `count` independent values, how many fall below the true `q`-quantile is binomial
//! `(count, q)`; the ranks `count·q ± z·√(count·q·(1 − q))` (normal approximation, widened by
//! one rank on each side) bracket it at the confidence level, whatever the distribution. The
//! summary's quantiles come from a rank sketch, for the stop metric a
//! [`fine`](MetricSummary::fine) one ([`JobSpec::summary`](crate::job::JobSpec::summary)),
//! whose answers are exact up to 16,384 values and above that within a stated rank error
//! (99 %, [`MetricSummary::rank_error`]): each end moves out by that many ranks, so the
//! interval contains the exact order statistics' interval whenever the sketch is within its
//! bound. The half-width is half the interval's length (the interval need not be symmetric
//! about the estimate); while an end falls outside the values (too few runs beyond the
//! quantile: for `q = 0.99`, about 2,000 runs are needed at 95 %) there is no interval yet.
//! The sketch's error does not shrink with more runs as the statistical part does (a fine
//! sketch's is a few hundredths of a percent of the runs in rank, a coarse one's about half a
//! percent): a target narrower than the metric's spread over that many ranks is not reached,
//! and such a job runs to its cap.
//!
//! Only random sampling is allowed with a stopping rule (validation), since under Sobol' or
//! Latin hypercube sampling the runs are not independent and neither interval would describe
//! the estimate's error. Stopping at the first wave whose interval is narrow enough makes the
//! coverage slightly lower than the nominal level; with waves of hundreds of runs it stays
//! within a point or two of it (`tests/adaptive.rs` measures it).

use crate::metric::Metric;
pub use crate::metric::Statistic;
use crate::special::norm_ppf;
use crate::summary::MetricSummary;

/// The most a wave end grows over the runs done so far.
pub const MAX_GROWTH: u64 = 4;

/// The smallest batch: fewer runs per wave would make the interval of an early stop
/// unreliable (and the waves many).
pub const MIN_BATCH: u64 = 100;

/// When an adaptive Monte Carlo job stops.
#[derive(Debug, Clone, PartialEq)]
pub struct Stop {
    /// The metric whose mean or quantile the job estimates.
    pub metric: Metric,
    /// The mean, or the `q` quantile (`q` in (0, 1)) as [`MetricSummary::quantile`] reads it.
    pub statistic: Statistic,
    pub target: Target,
    /// Two-sided confidence level of the interval, in (0, 1).
    pub confidence: f64,
    /// Runs per wave step: every wave ends at a multiple of it, or at the cap.
    pub batch: u64,
}

/// The half-width the interval must reach.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// In the metric's unit.
    Absolute(f64),
    /// A fraction of the estimate's magnitude (0.01: ±1 % of the mean or quantile).
    Relative(f64),
}

/// What happens after a wave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wave {
    /// Run on until this many runs are done (a multiple of the batch, or the cap).
    Next(u64),
    /// Stop here.
    Stop(Stopped),
}

/// Why an adaptive job stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// The interval's half-width reached the target.
    Target,
    /// The run cap came first.
    Cap,
}

/// How precisely the runs so far estimate the statistic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Precision {
    /// Runs so far.
    pub runs: u64,
    /// Runs with a finite value of the metric (the interval's sample).
    pub count: u64,
    /// The mean or the quantile; `None` without values.
    pub estimate: Option<f64>,
    /// The confidence interval's ends; `None` while there is no interval (fewer than two
    /// values; for a quantile, an end beyond the values).
    pub interval: Option<(f64, f64)>,
    /// Half the interval's length; `None` without an interval.
    pub half_width: Option<f64>,
    /// The half-width asked for (a relative target times the estimate's magnitude);
    /// `None` without an estimate.
    pub target: Option<f64>,
    /// For a quantile: the sketch's rank error bound (a fraction of `count`) that widened the
    /// interval; 0 for the mean and while the quantiles are exact.
    pub rank_error: f64,
}

impl Precision {
    /// Whether the half-width is at most the target.
    pub fn reached(&self) -> bool {
        matches!((self.half_width, self.target), (Some(h), Some(t)) if h <= t)
    }
}

impl Stop {
    pub const DEFAULT_CONFIDENCE: f64 = 0.95;
    pub const DEFAULT_BATCH: u64 = 1_000;

    /// The normal quantile of the interval: 1.96 at 95 %.
    pub fn z(&self) -> f64 {
        norm_ppf(0.5 + self.confidence / 2.0)
    }

    /// The end of the first wave for a job capped at `cap` runs.
    pub fn first_wave(&self, cap: u64) -> u64 {
        self.batch.min(cap)
    }

    /// The precision of `summary` (the stop metric's summary of the runs so far).
    pub fn precision(&self, summary: &MetricSummary) -> Precision {
        let (estimate, interval, half_width, rank_error) = match self.statistic {
            Statistic::Mean => {
                let mean = summary.mean();
                let half = summary.std().map(|s| self.z() * s / (summary.count() as f64).sqrt());
                (mean, mean.zip(half).map(|(m, h)| (m - h, m + h)), half, 0.0)
            }
            Statistic::Quantile(q) => {
                let rank_error = summary.rank_error();
                // The estimate's rank and the interval's ends (past the end when there is no
                // interval), read from the sketch at once.
                let [estimate_rank] = summary.quantile_ranks([q]);
                let (lo, hi) =
                    quantile_ranks(summary.count(), q, self.z(), rank_error).unwrap_or((u64::MAX, u64::MAX));
                let [estimate, lo, hi] = summary.values_at_ranks([estimate_rank, lo, hi]);
                let interval = lo.zip(hi);
                (estimate, interval, interval.map(|(lo, hi)| (hi - lo) / 2.0), rank_error)
            }
        };
        let target = match self.target {
            Target::Absolute(t) => Some(t),
            Target::Relative(r) => estimate.map(|e| r * e.abs()),
        };
        Precision {
            runs: summary.runs(),
            count: summary.count(),
            estimate,
            interval,
            half_width,
            target,
            rank_error,
        }
    }

    /// What follows a wave that ended with `summary` (the stop metric's summary of runs
    /// `0..n`, `n = summary.runs()`) in a job capped at `cap` runs.
    pub fn next(&self, cap: u64, summary: &MetricSummary) -> Wave {
        let precision = self.precision(summary);
        if precision.reached() {
            return Wave::Stop(Stopped::Target);
        }
        let n = precision.runs;
        if n >= cap {
            return Wave::Stop(Stopped::Cap);
        }
        let batch = self.batch.max(1);
        // Runs the target needs at the current spread, scaled from values to runs (runs
        // without a finite value do not narrow the interval); no estimate yet: double.
        let needed = match self.values_needed(&precision) {
            Some(values) if precision.count > 0 => values * (n as f64 / precision.count as f64),
            _ => 2.0 * n as f64,
        };
        let needed = if needed >= cap as f64 { cap } else { needed as u64 };
        let end = needed
            .div_ceil(batch)
            .saturating_mul(batch)
            .clamp(n.saturating_add(batch), n.saturating_mul(MAX_GROWTH).max(n.saturating_add(batch)));
        Wave::Next(end.min(cap))
    }

    /// The values at which the interval would narrow to the target, at the spread `precision`
    /// measured; infinite when more values cannot get there (a quantile's interval whose
    /// sketch error alone is wider than the target); `None` without a spread to scale (no
    /// interval yet, or a zero target that only a constant metric meets).
    fn values_needed(&self, precision: &Precision) -> Option<f64> {
        let (half_width, target) = (precision.half_width?, precision.target?);
        if target <= 0.0 || half_width <= 0.0 {
            return None;
        }
        let count = precision.count as f64;
        match self.statistic {
            // The half-width falls as 1/sqrt(values).
            Statistic::Mean => Some(count * (half_width / target).powi(2)),
            Statistic::Quantile(q) => {
                // The half-width in value is the spread per rank fraction times the rank
                // half-width, whose statistical part falls as 1/sqrt(values) and whose
                // sketch part does not.
                let statistical = self.z() * (q * (1.0 - q) / count).sqrt();
                let per_rank = half_width / (statistical + precision.rank_error);
                let room = target / per_rank - precision.rank_error;
                Some(if room > 0.0 { q * (1.0 - q) * (self.z() / room).powi(2) } else { f64::INFINITY })
            }
        }
    }
}

/// The 0-based ranks of the order statistics that bracket the `q`-quantile of `count`
/// independent values at the confidence whose normal quantile is `z`, each widened by the
/// sketch's `rank_error` (a fraction of `count`); `None` when an end falls outside the values.
pub fn quantile_ranks(count: u64, q: f64, z: f64, rank_error: f64) -> Option<(u64, u64)> {
    let n = count as f64;
    let spread = z * (n * q * (1.0 - q)).sqrt();
    let widen = (rank_error * n).ceil();
    // The 1-based order statistic j is below the quantile when at least j values are: ranks
    // floor(nq - spread) and ceil(nq + spread) + 1, 1-based, less one.
    let lo = (n * q - spread).floor() - 1.0 - widen;
    let hi = (n * q + spread).ceil() + widen;
    (count >= 2 && lo >= 0.0 && hi <= n - 1.0).then_some((lo as u64, hi as u64))
}

/// The largest chunk size of at most `configured` that divides `batch`, so that chunk
/// boundaries fall on every wave end (1 when `configured` is 0).
pub fn chunk_size_within(batch: u64, configured: u64) -> u64 {
    if batch <= configured {
        return batch.max(1);
    }
    let mut best = 1;
    let mut d = 1;
    while d * d <= batch {
        if batch.is_multiple_of(d) {
            for divisor in [d, batch / d] {
                if divisor <= configured && divisor > best {
                    best = divisor;
                }
            }
        }
        d += 1;
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stop(target: Target) -> Stop {
        Stop { metric: Metric::Iae, statistic: Statistic::Mean, target, confidence: 0.95, batch: 1_000 }
    }

    fn quantile(q: f64, target: Target) -> Stop {
        Stop { statistic: Statistic::Quantile(q), ..stop(target) }
    }

    fn summary(values: impl IntoIterator<Item = Option<f64>>) -> MetricSummary {
        let mut s = MetricSummary::new();
        for v in values {
            s.add(v);
        }
        s
    }

    /// `n` values alternating `mean ± sd` (sample sd just above `sd`).
    fn spread(n: u64, mean: f64, sd: f64) -> MetricSummary {
        summary((0..n).map(|i| Some(if i % 2 == 0 { mean + sd } else { mean - sd })))
    }

    #[test]
    fn stops_once_the_half_width_is_reached() {
        // sd 1 over 1,000 values: half-width 1.96 / sqrt(1000) = 0.062.
        let s = spread(1_000, 5.0, 1.0);
        let p = stop(Target::Absolute(0.07)).precision(&s);
        assert!((p.half_width.unwrap() - 0.062).abs() < 1e-3, "{p:?}");
        assert_eq!(stop(Target::Absolute(0.07)).next(1_000_000, &s), Wave::Stop(Stopped::Target));
        // 1 % of the mean 5.0 is 0.05: not yet.
        assert!(!stop(Target::Relative(0.01)).precision(&s).reached());
    }

    #[test]
    fn the_next_wave_ends_where_the_spread_says_the_target_is_met() {
        let s = spread(1_000, 5.0, 1.0);
        // (1.96 / 0.05)^2 = 1537 values -> 2,000 runs.
        assert_eq!(stop(Target::Absolute(0.05)).next(1_000_000, &s), Wave::Next(2_000));
        // A tiny target: at most four times the runs so far.
        assert_eq!(stop(Target::Absolute(1e-6)).next(1_000_000, &s), Wave::Next(4_000));
        // ... and never beyond the cap.
        assert_eq!(stop(Target::Absolute(1e-6)).next(2_500, &s), Wave::Next(2_500));
        // At the cap: stop.
        assert_eq!(stop(Target::Absolute(1e-6)).next(1_000, &s), Wave::Stop(Stopped::Cap));
    }

    #[test]
    fn runs_without_a_value_count_against_the_wave() {
        // Half the runs have no value: twice the runs for the same values.
        let s = summary((0..1_000u64).map(|i| (i % 2 == 0).then_some(if i % 4 == 0 { 6.0 } else { 4.0 })));
        assert_eq!(s.count(), 500);
        // 1537 values at sd ~1 need ~3,074 runs -> 4,000.
        assert_eq!(stop(Target::Absolute(0.05)).next(1_000_000, &s), Wave::Next(4_000));
    }

    #[test]
    fn no_spread_yet_doubles_and_a_constant_metric_stops() {
        let none = summary((0..1_000).map(|_| None));
        assert_eq!(stop(Target::Absolute(0.1)).next(1_000_000, &none), Wave::Next(2_000));
        let constant = summary((0..1_000).map(|_| Some(0.0)));
        assert_eq!(stop(Target::Relative(0.01)).next(1_000_000, &constant), Wave::Stop(Stopped::Target));
    }

    #[test]
    fn a_quantiles_interval_is_between_order_statistics() {
        // nq = 500, 1.96 * sqrt(250) = 30.99: 1-based ranks 469 and 532, 0-based 468 and 531.
        assert_eq!(quantile_ranks(1_000, 0.5, 1.96, 0.0), Some((468, 531)));
        // The sketch's error moves each end out by that many ranks (0.5 % of 1,000 = 5).
        assert_eq!(quantile_ranks(1_000, 0.5, 1.96, 0.005), Some((463, 536)));
        // p99 of 100 values: the upper end is past the max, no interval; 2,000 values have one.
        assert_eq!(quantile_ranks(100, 0.99, 1.96, 0.0), None);
        assert_eq!(quantile_ranks(2_000, 0.99, 1.96, 0.0), Some((1_970, 1_989)));
        assert_eq!(quantile_ranks(1, 0.5, 1.96, 0.0), None);

        // Values equal to their ranks: the interval's ends are the ranks.
        let s = summary((0..1_000u64).rev().map(|i| Some(i as f64)));
        let p = quantile(0.5, Target::Absolute(40.0)).precision(&s);
        assert_eq!((p.estimate, p.interval, p.half_width), (Some(499.0), Some((468.0, 531.0)), Some(31.5)));
        assert_eq!(p.rank_error, 0.0);
        assert!(p.reached());
        assert_eq!(quantile(0.5, Target::Absolute(40.0)).next(1_000_000, &s), Wave::Stop(Stopped::Target));
        // 5 % of the median 499 is 24.95: not yet; 1,000 * (31.5 / 24.95)^2 = 1,594 values
        // -> 2,000 runs. A half-width of 20: 2,480 values -> 3,000 runs.
        assert_eq!(quantile(0.5, Target::Relative(0.05)).next(1_000_000, &s), Wave::Next(2_000));
        assert_eq!(quantile(0.5, Target::Absolute(20.0)).next(1_000_000, &s), Wave::Next(3_000));
        // p99.9 has no interval yet (its upper end is past the max): double.
        assert_eq!(quantile(0.999, Target::Absolute(1e9)).precision(&s).interval, None);
        assert_eq!(quantile(0.999, Target::Absolute(1e9)).next(1_000_000, &s), Wave::Next(2_000));
    }

    #[test]
    fn the_sketchs_error_widens_a_quantiles_interval() {
        // 50,000 values past what the sketch holds exactly: its error is counted, and the
        // interval contains the exact order statistics' interval (values are their ranks).
        let n = 50_000u64;
        let s = summary((0..n).map(|i| Some(((i * 7_919) % n) as f64)));
        let p = quantile(0.9, Target::Absolute(1.0)).precision(&s);
        assert!(p.rank_error > 0.0 && p.rank_error < 0.02, "{p:?}");
        let (lo, hi) = p.interval.unwrap();
        let (exact_lo, exact_hi) = quantile_ranks(n, 0.9, stop(Target::Absolute(1.0)).z(), 0.0).unwrap();
        assert!(lo <= exact_lo as f64 && hi >= exact_hi as f64, "{p:?} vs {exact_lo}..{exact_hi}");
        // A target narrower than the sketch's error alone: more runs cannot reach it, so the
        // waves grow as fast as they may.
        let sketch_alone = p.rank_error * n as f64;
        let s_target = quantile(0.9, Target::Absolute(sketch_alone / 2.0));
        assert_eq!(s_target.values_needed(&s_target.precision(&s)), Some(f64::INFINITY));
        assert_eq!(s_target.next(1_000_000, &s), Wave::Next(200_000));
    }

    #[test]
    fn chunk_sizes_divide_the_batch() {
        assert_eq!(chunk_size_within(1_000, 10_000), 1_000);
        assert_eq!(chunk_size_within(1_000, 300), 250);
        assert_eq!(chunk_size_within(1_000, 7), 5);
        assert_eq!(chunk_size_within(997, 500), 1);
        assert_eq!(chunk_size_within(1_000, 0), 1);
        for (batch, configured) in [(4_096, 1_000), (1_000, 1_000), (12, 5), (1, 1)] {
            let c = chunk_size_within(batch, configured);
            assert!(batch % c == 0 && c <= configured.max(1), "{batch} {configured} {c}");
        }
    }
}
