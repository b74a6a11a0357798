//! A mergeable quantile sketch with a rank-error guarantee (KLL: Karnin, Lang, Liberty,
//! "Optimal Quantile Approximation in Streams", FOCS 2016, in its lazy form), exact until it
//! holds more than [`EXACT_VALUES`] values.
//!
//! Values live in compactor levels: each value of level `h` stands for `2^h` of the values
//! added. Level 0 takes adds unsorted; the other levels are kept sorted. When the sketch holds
//! more than [`EXACT_VALUES`] values, the lowest level at or over its capacity is compacted:
//! sorted, cut into adjacent pairs, and one value of each pair (the first or the second of
//! every pair, by one coin flip) moves up a level (an odd value out, the smallest, stays).
//! Capacities shrink by 2/3 per level below the top, so memory stays at most
//! [`EXACT_VALUES`] values per metric however many runs a job has.
//!
//! **Finer sketches.** A sketch of scale `s` has every capacity `2^s` times larger: exact up
//! to `2^s` [`EXACT_VALUES`] values and a rank error about `2^s` times smaller, for `2^s`
//! times the memory. Summaries use scale 0; the stop metric of an adaptive job on a quantile
//! uses [`FINE_SCALE`], since the sketch's error widens that job's interval. A merge takes the
//! larger scale (the bound counts every compaction, whatever the capacities were).
//!
//! **Error bound.** A compaction of level `h` moves the estimated rank of any value by 0 or
//! `±2^h`, the sign decided by the coin, so the error of a rank is a sum of bounded, zero-mean
//! steps. The sketch tracks `V = sum of 4^h` over its compactions (merges add them); by
//! Azuma-Hoeffding a rank's error exceeds `sqrt(2 ln(2 / 0.01) V)` with probability at most
//! 1 %. [`RankSketch::rank_error`] reports that bound as a fraction of the values added; it is
//! 0 while the sketch is exact. The coins are not drawn from a random source but from a hash
//! of the sketch's history and the values compacted (so a job's result is reproducible); for
//! simulated metrics they behave as fair, independent coins.
//!
//! **Determinism.** Adds, merges and compactions are plain comparisons and integer hashing:
//! the same adds and merges in the same order give the same bits on every machine. Unlike
//! counts or moments, the sketch does depend on merge order, which the pipeline fixes (chunk
//! order).

use super::parts::{PartsError, SketchParts};
use crate::rng::mix;

/// Values a sketch (of scale 0) holds at most; up to this many, it holds every value and
/// quantiles are exact.
pub const EXACT_VALUES: usize = 1024;

/// The scale of a fine sketch: 16 times the values (exact up to 16,384), a 16th of the error.
pub const FINE_SCALE: u8 = 4;

/// The top level's capacity (KLL's `k`) at scale 0; lower levels hold `k (2/3)^depth`, at
/// least 2. With 64 levels (weights up to 2^63) the capacities sum to less than
/// [`EXACT_VALUES`] (`3k` plus at most 2 per level), so some level is always at capacity when
/// the sketch is over it; at larger scales likewise.
const K: usize = 256;

/// `sqrt(2 ln(2 / delta))` for `delta = 0.01`: Azuma-Hoeffding's factor for 99 %.
const AZUMA_99: f64 = 3.255_247_261_437_458_6;

/// Weights are `2^h` in a `u64`.
const MAX_LEVELS: usize = 64;

/// Compactor levels of one metric's finite values.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct RankSketch {
    /// `levels[h]`: values of weight `2^h`, as [`key`]s; level 0 unsorted, the others
    /// ascending.
    levels: Vec<Vec<u64>>,
    /// Values held, all levels together.
    held: usize,
    /// Sum of `4^h` over every compaction of level `h` behind this sketch.
    error_variance: f64,
    /// The coin generator's state.
    coins: u64,
    /// Capacities are `2^scale` times those of scale 0.
    scale: u8,
}

impl RankSketch {
    /// An empty sketch of `scale` (at most [`FINE_SCALE`]).
    pub(super) fn with_scale(scale: u8) -> Self {
        RankSketch { scale: scale.min(FINE_SCALE), ..Self::default() }
    }

    /// Values held at most: every value up to this many.
    pub(super) fn exact_values(&self) -> usize {
        EXACT_VALUES << self.scale
    }

    pub(super) fn scale(&self) -> u8 {
        self.scale
    }

    /// Adds a finite value (the caller keeps NaN and infinities out).
    pub(super) fn add(&mut self, x: f64) {
        debug_assert!(x.is_finite());
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        self.levels[0].push(key(x));
        self.held += 1;
        if self.held > self.exact_values() {
            self.compress();
        }
    }

    /// Adds every value `other` stands for.
    pub(super) fn merge(&mut self, other: &RankSketch) {
        if other.held == 0 {
            return;
        }
        self.scale = self.scale.max(other.scale);
        if self.levels.len() < other.levels.len() {
            self.levels.resize_with(other.levels.len(), Vec::new);
        }
        self.levels[0].extend_from_slice(&other.levels[0]);
        for (mine, theirs) in self.levels.iter_mut().zip(&other.levels).skip(1) {
            merge_into(mine, theirs, 1);
        }
        self.held += other.held;
        self.error_variance += other.error_variance;
        self.coins ^= other.coins.rotate_left(23);
        while self.held > self.exact_values() {
            self.compress();
        }
    }

    /// Number of values added (the sum of the weights held).
    pub(super) fn count(&self) -> u64 {
        self.levels.iter().enumerate().map(|(h, level)| (level.len() as u64) << h).sum()
    }

    /// Values held (the memory in use), at most [`exact_values`](Self::exact_values).
    pub(super) fn held(&self) -> usize {
        self.held
    }

    /// The bound on a rank's error, as a fraction of the values added, that holds with 99 %
    /// probability over the coins; 0 while every value is held.
    pub(super) fn rank_error(&self) -> f64 {
        match self.count() {
            0 => 0.0,
            n => AZUMA_99 * self.error_variance.sqrt() / n as f64,
        }
    }

    /// Every value held with its weight, ascending.
    pub(super) fn weighted_values(&self) -> Vec<(f64, u64)> {
        let mut all: Vec<(u64, u64)> = self
            .levels
            .iter()
            .enumerate()
            .flat_map(|(h, level)| level.iter().map(move |&k| (k, 1u64 << h)))
            .collect();
        all.sort_unstable();
        all.into_iter().map(|(k, weight)| (value(k), weight)).collect()
    }

    /// The estimate of the value of each 0-based rank in ascending order, `None` past the end.
    pub(super) fn values_at_ranks<const N: usize>(&self, ranks: [u64; N]) -> [Option<f64>; N] {
        let values = self.weighted_values();
        // The rank just past each held value's weight.
        let ends: Vec<u64> = values
            .iter()
            .scan(0u64, |seen, &(_, weight)| {
                *seen += weight;
                Some(*seen)
            })
            .collect();
        ranks.map(|rank| values.get(ends.partition_point(|&end| end <= rank)).map(|&(x, _)| x))
    }

    #[cfg(test)]
    pub(super) fn value_at_rank(&self, rank: u64) -> Option<f64> {
        self.values_at_ranks([rank])[0]
    }

    /// Compacts the lowest levels until at most `values` values are held (or every level
    /// holds one): what a worker does to a chunk's sketch before reporting it, trading rank
    /// error (counted in the bound) for a smaller report.
    pub(super) fn shrink(&mut self, values: usize) {
        while self.held > values {
            let Some(h) = self.levels.iter().position(|level| level.len() >= 2) else {
                return;
            };
            self.compact(h);
        }
    }

    /// Compacts the lowest level at or over its capacity.
    fn compress(&mut self) {
        let top = self.levels.len();
        let Some(h) = (0..top).find(|&h| self.levels[h].len() >= capacity(h, top, self.scale)) else {
            unreachable!("capacities sum below the values held, so a level is full");
        };
        self.compact(h);
    }

    /// Moves every other value of level `h` (at least two) up a level.
    fn compact(&mut self, h: usize) {
        if h + 1 == self.levels.len() {
            self.levels.push(Vec::new());
        }
        let mut level = std::mem::take(&mut self.levels[h]);
        if h == 0 {
            level.sort_unstable();
        }
        let odd = level.len() % 2;
        let coin = self.flip(h, &level);
        let promoted = merge_into(&mut self.levels[h + 1], &level[odd + coin..], 2);
        level.truncate(odd);
        self.levels[h] = level;
        self.held -= promoted;
        self.error_variance += f64::powi(4.0, h as i32);
    }

    /// 0 or 1: keep the first or the second value of every pair.
    fn flip(&mut self, h: usize, sorted: &[u64]) -> usize {
        let (first, last) = (sorted[0], sorted[sorted.len() - 1]);
        self.coins =
            mix(self.coins ^ mix(first ^ last.rotate_left(29) ^ ((h as u64) << 56 | sorted.len() as u64)));
        (self.coins >> 63) as usize
    }

    pub(super) fn to_parts(&self) -> SketchParts {
        SketchParts {
            levels: self.levels.iter().map(|level| level.iter().map(|&k| value(k)).collect()).collect(),
            error_variance: self.error_variance,
            coins: self.coins,
            scale: self.scale,
        }
    }

    /// Rebuilds a sketch, refusing parts [`to_parts`](Self::to_parts) cannot have produced
    /// (too many values or levels, a non-finite value, an unsorted level above 0).
    pub(super) fn from_parts(parts: &SketchParts) -> Result<RankSketch, PartsError> {
        if parts.scale > FINE_SCALE {
            return Err(PartsError::SketchScale(parts.scale));
        }
        let held = parts.levels.iter().map(Vec::len).sum();
        if held > EXACT_VALUES << parts.scale || parts.levels.len() > MAX_LEVELS {
            return Err(PartsError::SketchTooLarge { values: held, levels: parts.levels.len() });
        }
        if !(parts.error_variance.is_finite() && parts.error_variance >= 0.0) {
            return Err(PartsError::SketchErrorVariance(parts.error_variance));
        }
        for (h, level) in parts.levels.iter().enumerate() {
            if level.iter().any(|x| !x.is_finite()) {
                return Err(PartsError::SketchValueNotFinite { level: h });
            }
            if h > 0 && level.windows(2).any(|w| w[0] > w[1]) {
                return Err(PartsError::SketchLevelUnsorted { level: h });
            }
        }
        let count =
            parts.levels.iter().enumerate().map(|(h, level)| (level.len() as u128) << h).sum::<u128>();
        if count > u128::from(u64::MAX) {
            return Err(PartsError::CountOverflow);
        }
        let levels = parts.levels.iter().map(|level| level.iter().map(|&x| key(x)).collect()).collect();
        Ok(RankSketch {
            levels,
            held,
            error_variance: parts.error_variance,
            coins: parts.coins,
            scale: parts.scale,
        })
    }
}

/// A finite value as an unsigned integer in the same order (sign bit flipped for positives,
/// every bit for negatives), so sorting and merging compare integers.
fn key(x: f64) -> u64 {
    let bits = x.to_bits();
    if bits >> 63 == 1 { !bits } else { bits | 1 << 63 }
}

/// The value of a [`key`].
fn value(k: u64) -> f64 {
    f64::from_bits(if k >> 63 == 1 { k & !(1 << 63) } else { !k })
}

/// Capacity of level `h` of `top` levels at `scale`: `2^scale K (2/3)^(top - 1 - h)`, rounded
/// up, at least 2.
fn capacity(h: usize, top: usize, scale: u8) -> usize {
    let depth = (top - 1 - h) as i32;
    ((((K << scale) as f64) * (2.0f64 / 3.0).powi(depth)).ceil() as usize).max(2)
}

/// Merges `from[0], from[step], from[2 step], ...` (ascending) into the ascending `level`, in
/// place from the back; returns how many values moved.
fn merge_into(level: &mut Vec<u64>, from: &[u64], step: usize) -> usize {
    let moving = from.len().div_ceil(step);
    let (mut i, mut j) = (level.len(), moving);
    level.resize(i + j, 0);
    for k in (0..level.len()).rev() {
        if j == 0 {
            break;
        }
        let candidate = from[step * (j - 1)];
        if i > 0 && level[i - 1] > candidate {
            level[k] = level[i - 1];
            i -= 1;
        } else {
            level[k] = candidate;
            j -= 1;
        }
    }
    moving
}

#[cfg(test)]
mod tests;
