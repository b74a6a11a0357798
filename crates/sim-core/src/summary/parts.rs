//! Plain-data forms of the summaries, so another crate (the protobuf API) can store and send
//! them without reaching into private state, and the errors of rebuilding a summary from them.
//!
//! `MetricSummary::to_parts` followed by `MetricSummary::from_parts` is lossless: every float
//! comes back with the same bits, so a results service that persists chunk summaries and merges
//! them later gets the same answer as one that merges them in memory.

/// The rank-error quantile sketch of one metric: its compactor levels.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SketchParts {
    /// `levels[h]`: values that each stand for `2^h` of the values added (level 0 in the
    /// order they came, the others ascending).
    pub levels: Vec<Vec<f64>>,
    /// Sum of `4^h` over the compactions behind the sketch (the variance bound of a rank's
    /// error; 0 while the sketch is exact).
    pub error_variance: f64,
    /// The state of the sketch's coin generator.
    pub coins: u64,
    /// Capacities are `2^scale` times the default's (0 for summaries, 4 for an adaptive job's
    /// quantile; at most [`FINE_SCALE`](super::FINE_SCALE)).
    pub scale: u8,
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
    #[error("the sketch holds {values} values in {levels} levels, more than a sketch can")]
    SketchTooLarge { values: usize, levels: usize },
    #[error("sketch level {level} holds a value that is not finite")]
    SketchValueNotFinite { level: usize },
    #[error("sketch level {level} is not in ascending order")]
    SketchLevelUnsorted { level: usize },
    #[error("the sketch's scale {0} is over the finest, 4")]
    SketchScale(u8),
    #[error("the sketch's error variance {0} is not a finite number >= 0")]
    SketchErrorVariance(f64),
    #[error("sketch counts overflow u64")]
    CountOverflow,
    #[error("the sketch holds {sketch} values but the summary counts {count}")]
    SketchCountMismatch { sketch: u64, count: u64 },
    #[error("invalid moments: {0}")]
    InvalidMoments(&'static str),
    #[error("metric summaries cover different numbers of runs ({first} and {other})")]
    RunsMismatch { first: u64, other: u64 },
}
