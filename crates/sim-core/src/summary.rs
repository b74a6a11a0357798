//! Mergeable summaries of many runs: one [`MetricSummary`] per [`Metric`], built per chunk by
//! workers and merged by the results service.
//!
//! Each metric keeps counts (finite, absent, non-finite), mean and variance (Welford per value,
//! Chan et al. per merge), min, max, and a DDSketch-style quantile sketch from which quantiles
//! and histograms are read. Memory is bounded: at most [`MAX_BUCKETS`] buckets per sign per
//! metric, whatever the number of runs.
//!
//! **Quantile error bound.** [`MetricSummary::quantile`] estimates the sorted value of rank
//! `floor(q * (n - 1))` with relative error at most [`RELATIVE_ACCURACY`] (0.5 %, plus float
//! rounding near 1e-13), for values whose magnitude is within a factor
//! `gamma^(MAX_BUCKETS - 1)` (about 7.8e8, i.e. nearly 9 decades) of the largest magnitude of
//! their sign, where `gamma = (1 + alpha) / (1 - alpha)`. Smaller magnitudes share the lowest
//! kept bucket and are overestimated up to it; magnitudes below `f64::MIN_POSITIVE` read as 0.
//! The min and max are exact.
//!
//! **Determinism.** Merging the same summaries in the same order is bit-identical every time:
//! plain float arithmetic, integer sketch counts, no hashing, no threads, and the sketch's
//! logarithm comes from `libm` so every machine buckets a value alike. Counts, min, max,
//! quantiles and histograms do not depend on merge order at all; mean and variance only
//! through rounding. [`MetricSummary::to_parts`] / [`MetricSummary::from_parts`] round-trip
//! every bit, so summaries can be stored between merges.

mod histogram;
mod metric_summary;
mod moments;
mod parts;
mod sketch;
mod store;

pub use histogram::HistogramBin;
pub use metric_summary::MetricSummary;
pub use parts::{MetricSummaryParts, PartsError, SketchParts};
pub use sketch::{MAX_BUCKETS, RELATIVE_ACCURACY};

use crate::metric::{Metric, RunMetrics};

/// Every metric over many runs (a chunk or a whole job), in [`Metric::ALL`] order.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    metrics: [MetricSummary; Metric::COUNT],
}

impl Default for RunSummary {
    fn default() -> Self {
        RunSummary { metrics: std::array::from_fn(|_| MetricSummary::new()) }
    }
}

impl RunSummary {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one run.
    pub fn add(&mut self, run: &RunMetrics) {
        for (summary, metric) in self.metrics.iter_mut().zip(Metric::ALL) {
            summary.add(run.get(metric));
        }
    }

    /// Adds every run of `other` (see [`MetricSummary::merge`] for what order changes).
    pub fn merge(&mut self, other: &RunSummary) {
        for (summary, theirs) in self.metrics.iter_mut().zip(&other.metrics) {
            summary.merge(theirs);
        }
    }

    /// Runs added, directly or through merges.
    pub fn runs(&self) -> u64 {
        self.metrics[0].runs()
    }

    pub fn metric(&self, metric: Metric) -> &MetricSummary {
        &self.metrics[metric.index()]
    }

    /// All metric summaries, in [`Metric::ALL`] order.
    pub fn metrics(&self) -> &[MetricSummary; Metric::COUNT] {
        &self.metrics
    }

    /// Reassembles a summary from per-metric summaries in [`Metric::ALL`] order (for example
    /// after [`MetricSummary::from_parts`]); they must all cover the same number of runs.
    pub fn from_metrics(metrics: [MetricSummary; Metric::COUNT]) -> Result<Self, PartsError> {
        let first = metrics[0].runs();
        if let Some(other) = metrics.iter().map(MetricSummary::runs).find(|&r| r != first) {
            return Err(PartsError::RunsMismatch { first, other });
        }
        Ok(RunSummary { metrics })
    }

    pub fn into_metrics(self) -> [MetricSummary; Metric::COUNT] {
        self.metrics
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(i: u32) -> RunMetrics {
        let x = f64::from(i);
        RunMetrics {
            overshoot_pct: (!i.is_multiple_of(3)).then_some(x * 0.5),
            rise_time: (!i.is_multiple_of(5)).then_some(1.0 + x),
            settling_time: Some(2.0 * x),
            peak: 1.0 + x * 1e-3,
            peak_time: x,
            steady_state_error: x - 50.0,
            iae: x * x,
            ise: if i == 7 { f64::INFINITY } else { x },
            itae: x,
            control_effort: x,
            saturated_fraction: x / 100.0,
            final_level: 1.0,
            overflow: 0.0,
        }
    }

    fn of(range: std::ops::Range<u32>) -> RunSummary {
        let mut s = RunSummary::new();
        range.for_each(|i| s.add(&run(i)));
        s
    }

    #[test]
    fn routes_each_metric_to_its_summary() {
        let s = of(0..100);
        assert_eq!(s.runs(), 100);
        let overshoot = s.metric(Metric::OvershootPct);
        assert_eq!((overshoot.count(), overshoot.absent()), (66, 34));
        assert_eq!(s.metric(Metric::RiseTime).absent(), 20);
        assert_eq!(s.metric(Metric::Ise).non_finite(), 1);
        assert_eq!(s.metric(Metric::SteadyStateError).min(), Some(-50.0));
        assert_eq!(s.metric(Metric::Iae).max(), Some(99.0 * 99.0));
        assert_eq!(s.metric(Metric::FinalLevel).variance(), Some(0.0));
        assert!(s.metrics().iter().all(|m| m.runs() == 100));
    }

    #[test]
    fn chunks_merged_in_order_are_bit_identical_and_match_one_pass() {
        let chunks: Vec<RunSummary> = (0..10).map(|c| of(c * 37..(c + 1) * 37)).collect();
        let merge_all = || {
            chunks.iter().fold(RunSummary::new(), |mut acc, c| {
                acc.merge(c);
                acc
            })
        };
        let (a, b) = (merge_all(), merge_all());
        for (x, y) in a.metrics().iter().zip(b.metrics()) {
            let (px, py) = (x.to_parts(), y.to_parts());
            assert_eq!(px.sketch, py.sketch);
            for (u, v) in [(px.mean, py.mean), (px.m2, py.m2), (px.min, py.min), (px.max, py.max)] {
                assert_eq!(u.to_bits(), v.to_bits());
            }
        }
        let whole = of(0..370);
        assert_eq!(a.runs(), 370);
        for metric in Metric::ALL {
            let (m, w) = (a.metric(metric), whole.metric(metric));
            assert_eq!((m.count(), m.absent(), m.min(), m.max()), (w.count(), w.absent(), w.min(), w.max()));
            assert_eq!(m.to_parts().sketch, w.to_parts().sketch);
            let (mm, wm) = (m.mean().expect("values"), w.mean().expect("values"));
            assert!((mm - wm).abs() <= 1e-12 * wm.abs().max(1.0), "{metric:?}");
        }
    }

    #[test]
    fn round_trips_through_parts() {
        let s = of(0..50);
        let parts: Vec<MetricSummaryParts> = s.metrics().iter().map(|m| m.to_parts()).collect();
        let rebuilt: Vec<MetricSummary> =
            parts.iter().map(|p| MetricSummary::from_parts(p).expect("valid parts")).collect();
        let rebuilt = RunSummary::from_metrics(rebuilt.try_into().expect("13 metrics")).expect("same runs");
        assert_eq!(rebuilt, s);

        let mut metrics = s.into_metrics();
        metrics[4].add(None);
        assert_eq!(RunSummary::from_metrics(metrics), Err(PartsError::RunsMismatch { first: 50, other: 51 }));
    }
}
