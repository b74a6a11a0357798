//! Summaries over the wire: sim-core's mergeable [`RunSummary`] <-> the lossless internal
//! `tanksim.internal.v1.RunSummary` (what workers report per chunk), and the public
//! `tanksim.v1.MetricSummary` view of it (what `GetJobResults` answers).

use tanksim_sim_core::Metric;
use tanksim_sim_core::summary::{MetricSummary, MetricSummaryParts, PartsError, RunSummary, SketchParts};

use super::metric::metric_to_i32;
use crate::internal::v1 as internal;
use crate::v1;

/// Why an internal `RunSummary` could not be rebuilt: it was not produced by
/// [`internal::RunSummary::from`] (corrupt, truncated, or from an incompatible build).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SummaryError {
    #[error("a run summary has one entry per metric ({}), got {got}", Metric::COUNT)]
    MetricCount { got: usize },
    #[error("summary of {}: {source}", .metric.name())]
    Metric {
        metric: Metric,
        #[source]
        source: PartsError,
    },
    #[error(transparent)]
    Runs(PartsError),
}

impl From<&RunSummary> for internal::RunSummary {
    fn from(summary: &RunSummary) -> Self {
        internal::RunSummary {
            metrics: summary.metrics().iter().map(|m| parts_to_proto(&m.to_parts())).collect(),
        }
    }
}

/// Rebuilds a summary bit for bit; an error (never a panic) for anything
/// [`internal::RunSummary::from`] cannot have produced.
impl TryFrom<&internal::RunSummary> for RunSummary {
    type Error = SummaryError;

    fn try_from(proto: &internal::RunSummary) -> Result<Self, SummaryError> {
        if proto.metrics.len() != Metric::COUNT {
            return Err(SummaryError::MetricCount { got: proto.metrics.len() });
        }
        let metrics = proto
            .metrics
            .iter()
            .zip(Metric::ALL)
            .map(|(p, metric)| {
                parts_from_proto(p)
                    .and_then(|parts| MetricSummary::from_parts(&parts))
                    .map_err(|source| SummaryError::Metric { metric, source })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let metrics: [MetricSummary; Metric::COUNT] =
            metrics.try_into().map_err(|v: Vec<_>| SummaryError::MetricCount { got: v.len() })?;
        RunSummary::from_metrics(metrics).map_err(SummaryError::Runs)
    }
}

fn parts_to_proto(p: &MetricSummaryParts) -> internal::MetricSummaryParts {
    let levels = &p.sketch.levels;
    #[allow(deprecated)] // `sketch`, the old logarithmic sketch, is left unset.
    internal::MetricSummaryParts {
        count: p.count,
        absent: p.absent,
        non_finite: p.non_finite,
        mean: p.mean,
        m2: p.m2,
        min: p.min,
        max: p.max,
        sketch: None,
        ranks: Some(internal::RankSketchParts {
            values: levels.concat(),
            // A level holds at most 16 * EXACT_VALUES values.
            level_sizes: levels.iter().map(|l| l.len() as u32).collect(),
            error_variance: p.sketch.error_variance,
            coins: p.sketch.coins,
            scale: u32::from(p.sketch.scale),
        }),
    }
}

/// An absent sketch reads as an empty one: fine for a metric without values (`count == 0`),
/// refused by `from_parts` otherwise (the sketch's count disagrees). Level sizes that do not
/// add up to the values are refused here.
fn parts_from_proto(p: &internal::MetricSummaryParts) -> Result<MetricSummaryParts, PartsError> {
    let sketch = match &p.ranks {
        None => SketchParts::default(),
        Some(r) => {
            let claimed = r.level_sizes.iter().map(|&n| u64::from(n)).sum::<u64>();
            if claimed != r.values.len() as u64 {
                return Err(PartsError::SketchTooLarge {
                    values: r.values.len().max(usize::try_from(claimed).unwrap_or(usize::MAX)),
                    levels: r.level_sizes.len(),
                });
            }
            let mut rest = r.values.as_slice();
            let levels = r
                .level_sizes
                .iter()
                .map(|&size| {
                    let (level, after) = rest.split_at(size as usize);
                    rest = after;
                    level.to_vec()
                })
                .collect();
            // A scale past u8 is past the finest too: `from_parts` refuses it.
            let scale = u8::try_from(r.scale).unwrap_or(u8::MAX);
            SketchParts { levels, error_variance: r.error_variance, coins: r.coins, scale }
        }
    };
    Ok(MetricSummaryParts {
        count: p.count,
        absent: p.absent,
        non_finite: p.non_finite,
        mean: p.mean,
        m2: p.m2,
        min: p.min,
        max: p.max,
        sketch,
    })
}

/// The public view of every metric, in `Metric` order, each with a histogram of
/// `histogram_bins` bins (the caller bounds it: the histogram allocates that many).
pub fn metric_summaries(summary: &RunSummary, histogram_bins: usize) -> Vec<v1::MetricSummary> {
    Metric::ALL.into_iter().map(|m| metric_summary(m, summary.metric(m), histogram_bins)).collect()
}

/// The public view of one metric's summary.
///
/// A statistic the values do not determine is NaN: `mean`, `min`, `max` and the quantiles
/// when `count == 0`, `std` (the sample standard deviation) when `count < 2`; the histogram
/// is then empty. Quantiles are exact up to `EXACT_VALUES` values and within
/// `quantile_rank_error * count` ranks above; min and max are exact.
pub fn metric_summary(metric: Metric, s: &MetricSummary, histogram_bins: usize) -> v1::MetricSummary {
    let or_nan = |x: Option<f64>| x.unwrap_or(f64::NAN);
    let [p5, p50, p95] = s.quantiles([0.05, 0.5, 0.95]);
    v1::MetricSummary {
        metric: metric_to_i32(metric),
        count: s.count(),
        absent: s.absent(),
        non_finite: s.non_finite(),
        mean: or_nan(s.mean()),
        std: or_nan(s.std()),
        min: or_nan(s.min()),
        max: or_nan(s.max()),
        p5: or_nan(p5),
        p50: or_nan(p50),
        p95: or_nan(p95),
        quantile_rank_error: s.rank_error(),
        histogram: s
            .histogram(histogram_bins)
            .into_iter()
            .map(|b| v1::HistogramBin { lo: b.lo, hi: b.hi, count: b.count })
            .collect(),
    }
}
