//! Adaptive Monte Carlo: a job that runs until the confidence interval of one metric's mean is
//! as narrow as asked, or until its run cap.
//!
//! The job runs in waves. The first wave is `batch` runs; after each wave the runs so far
//! (runs `0..n`, all of them: a wave ends only once every run before it is done) decide:
//! stop when the half-width `z · s / √count` of the mean's interval is at most the target,
//! or when `n` is the cap; otherwise run up to the next wave end. That end is where the
//! current estimate of the standard deviation says the target will be met, rounded up to a
//! multiple of `batch`, at least one batch further and at most [`MAX_GROWTH`] times `n` (a
//! first wave with an unlucky variance estimate cannot launch a million runs), and at most
//! the cap.
//!
//! Everything the rule reads is a deterministic function of runs `0..n` (the merged summary
//! of a prefix of chunks is bit-identical however the job was split among workers), so the
//! same spec stops at the same run count with the same aggregates, every time. Wave ends are
//! multiples of `batch` (or the cap): the dispatcher cuts the job into chunks that divide
//! `batch` ([`chunk_size_within`]), so a wave always ends at a chunk boundary.
//!
//! The interval is the normal (CLT) interval over the metric's finite values, as for
//! independent runs: only random sampling is allowed with a stopping rule (validation), since
//! under Sobol' or Latin hypercube sampling the runs are not independent and that interval
//! would not describe the estimate's error. Stopping at the first wave whose interval is narrow
//! enough makes the coverage slightly lower than the nominal level; with waves of hundreds
//! of runs it stays within a point of it (`tests/adaptive.rs` measures it).

use crate::metric::Metric;
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
    /// The metric whose mean the job estimates.
    pub metric: Metric,
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
    /// A fraction of the mean's magnitude (0.01: ±1 % of the mean).
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

/// How precisely the runs so far estimate the metric's mean.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Precision {
    /// Runs so far.
    pub runs: u64,
    /// Runs with a finite value of the metric (the interval's sample).
    pub count: u64,
    pub mean: Option<f64>,
    /// The interval's half-width; `None` below two values.
    pub half_width: Option<f64>,
    /// The half-width asked for (a relative target times the current mean's magnitude);
    /// `None` without a mean.
    pub target: Option<f64>,
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
        let count = summary.count();
        let mean = summary.mean();
        let half_width = summary.std().map(|s| self.z() * s / (count as f64).sqrt());
        let target = match self.target {
            Target::Absolute(t) => Some(t),
            Target::Relative(r) => mean.map(|m| r * m.abs()),
        };
        Precision { runs: summary.runs(), count, mean, half_width, target }
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
        // without a finite value do not narrow the interval).
        let needed = match (summary.std(), precision.target) {
            (Some(s), Some(t)) if t > 0.0 && precision.count > 0 => {
                let values = (self.z() * s / t).powi(2).ceil();
                values * (n as f64 / precision.count as f64)
            }
            // No spread yet, or a target of 0 that only a constant metric meets: double.
            _ => 2.0 * n as f64,
        };
        let needed = if needed >= cap as f64 { cap } else { needed as u64 };
        let end = needed
            .div_ceil(batch)
            .saturating_mul(batch)
            .clamp(n.saturating_add(batch), n.saturating_mul(MAX_GROWTH).max(n.saturating_add(batch)));
        Wave::Next(end.min(cap))
    }
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
        Stop { metric: Metric::Iae, target, confidence: 0.95, batch: 1_000 }
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
