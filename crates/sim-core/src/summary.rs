//! Mergeable summaries of many runs: one [`MetricSummary`] per [`Metric`], built per chunk by
//! workers and merged by the results service.
//!
//! Each metric keeps counts (finite, absent, non-finite), mean and variance (Welford per value,
//! Chan et al. per merge), min, max, and a rank-error quantile sketch (KLL) from which
//! quantiles and histograms are read. Memory is bounded: at most [`EXACT_VALUES`] values per
//! metric, whatever the number of runs.
//!
//! **Quantile error bound.** [`MetricSummary::quantile`] estimates the sorted value of rank
//! `floor(q * (n - 1))`. Up to [`EXACT_VALUES`] values it is that value exactly; above, it is
//! the value of a rank within `rank_error * n` of it, where [`MetricSummary::rank_error`] is a
//! bound that holds with 99 % probability over the sketch's coin flips (typically well under
//! 1 %). The error is in rank, so it is relative to the metric's spread whatever its scale: a
//! metric whose values differ in the sixth digit gets quantiles that differ too. The min and
//! max are exact.
//!
//! **Determinism.** Merging the same summaries in the same order is bit-identical every time:
//! plain float arithmetic, integer hashing for the sketch's coins, no threads. Counts, min and
//! max do not depend on merge order at all; mean and variance only through rounding; the
//! sketch (quantiles, histograms) within its error bound. [`MetricSummary::to_parts`] /
//! [`MetricSummary::from_parts`] round-trip every bit, so summaries can be stored between
//! merges.

mod histogram;
mod metric_summary;
mod moments;
mod parts;
mod rank;

pub use histogram::HistogramBin;
pub use metric_summary::MetricSummary;
pub use parts::{MetricSummaryParts, PartsError, SketchParts};
pub use rank::{EXACT_VALUES, FINE_SCALE};

use crate::metric::{Metric, RunMetrics};

/// The values per metric a chunk's summary keeps when its job has `chunks` chunks: every
/// value up to [`EXACT_VALUES`] for a job of one chunk, fewer as a job has more chunks, at
/// least [`MIN_REPORT_VALUES`].
///
/// A chunk of `n` values shrunk to `v` adds a rank error of standard deviation about
/// `1.15 n / v`; over `c` chunks of a job of `c n` runs those errors average to
/// `1.15 / (v sqrt(c))` of the runs, and `v = REPORT_SCALE / sqrt(c)` holds that near
/// 0.08 % (0.25 % at 99 %), below what the merged sketch itself adds. A 1,000,000-run job of
/// 100 chunks reports 154 values per metric per chunk, one of 1,000 chunks 64.
pub fn report_values(chunks: u64) -> usize {
    report_values_at(0, chunks)
}

/// [`report_values`] for a sketch of `scale` (`2^scale` times the values, the same error).
fn report_values_at(scale: u8, chunks: u64) -> usize {
    let values = (REPORT_SCALE * f64::from(1u32 << scale) / (chunks.max(1) as f64).sqrt()).ceil();
    (values as usize).clamp(MIN_REPORT_VALUES, EXACT_VALUES << scale)
}

/// See [`report_values`].
const REPORT_SCALE: f64 = 1536.0;

/// The fewest values per metric a reported chunk summary keeps.
pub const MIN_REPORT_VALUES: usize = 64;

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

    /// Compacts every metric's sketch to at most `values` values. A worker reports a chunk's
    /// summary shrunk to [`report_values`] of its job's chunk count
    /// ([`JobSpec::shrink_report`](crate::job::JobSpec::shrink_report)): the shrinking adds rank
    /// error (counted in [`MetricSummary::rank_error`]) that the merge of many chunks
    /// averages out, and keeps the reports of a job of many small chunks small.
    pub fn shrink(&mut self, values: usize) {
        self.metrics.iter_mut().for_each(|m| m.shrink(values));
    }

    /// This summary with a [`fine`](MetricSummary::fine) sketch for `metric` (see
    /// [`JobSpec::summary`](crate::job::JobSpec::summary)); `self` must be empty.
    pub fn with_fine_sketch(mut self, metric: Metric) -> Self {
        debug_assert_eq!(self.runs(), 0);
        self.metrics[metric.index()] = MetricSummary::fine();
        self
    }

    /// Compacts one metric's sketch to at most `values` values (see
    /// [`JobSpec::shrink_report`](crate::job::JobSpec::shrink_report)).
    pub fn shrink_metric(&mut self, metric: Metric, values: usize) {
        self.metrics[metric.index()].shrink(values);
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
