//! Plain-data forms of the summaries, so another crate (the protobuf API) can store and send
//! them without reaching into private state, and the errors of rebuilding a summary from them.
//!
//! `MetricSummary::to_parts` followed by `MetricSummary::from_parts` is lossless: every float
//! comes back with the same bits, so a results service that persists chunk summaries and merges
//! them later gets the same answer as one that merges them in memory.

/// The quantile sketch of one metric: counts per logarithmic bucket.
///
/// Bucket `i` of `positive` counts the values `x` with `gamma^(i-1) < x <= gamma^i`; bucket `i`
/// of `negative` the values with `gamma^(i-1) < -x <= gamma^i` (see
/// [`RELATIVE_ACCURACY`](super::RELATIVE_ACCURACY) for `gamma`). `zero_count` counts the values
/// with `|x| < f64::MIN_POSITIVE`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SketchParts {
    pub zero_count: u64,
    /// `(bucket index, count)`, indices strictly increasing, counts non-zero (as produced by
    /// `to_parts`; `from_parts` also accepts any order, repeats and zero counts).
    pub positive: Vec<(i32, u64)>,
    /// Same layout as `positive`, indexed by the magnitude of the negative values.
    pub negative: Vec<(i32, u64)>,
}

/// Everything a [`MetricSummary`](super::MetricSummary) holds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetricSummaryParts {
    /// Finite values seen.
    pub count: u64,
    /// Runs where the metric was absent (`None`).
    pub absent: u64,
    /// Runs where the metric was NaN or infinite (kept out of every other statistic).
    pub non_finite: u64,
    /// Mean of the finite values (0 when `count == 0`).
    pub mean: f64,
    /// Sum of squared deviations from the mean (0 when `count == 0`).
    pub m2: f64,
    /// Smallest finite value (`+inf` when `count == 0`).
    pub min: f64,
    /// Largest finite value (`-inf` when `count == 0`).
    pub max: f64,
    pub sketch: SketchParts,
}

/// Why parts could not be turned back into a summary.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PartsError {
    #[error("sketch bucket index {index} is outside the range of finite values")]
    BucketIndexOutOfRange { index: i32 },
    #[error("sketch counts overflow u64")]
    CountOverflow,
    #[error("the sketch holds {sketch} values but the summary counts {count}")]
    SketchCountMismatch { sketch: u64, count: u64 },
    #[error("invalid moments: {0}")]
    InvalidMoments(&'static str),
    #[error("metric summaries cover different numbers of runs ({first} and {other})")]
    RunsMismatch { first: u64, other: u64 },
}
