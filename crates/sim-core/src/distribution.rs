//! Parameter distributions and their reproducible sampling.
//!
//! Every variant samples by inverse CDF from exactly one uniform draw: a value is a pure
//! function of the stream position, no parameter value can make sampling loop (a truncated
//! normal's far tail included), and changing one distribution's kind never shifts another
//! draw. Sampling allocates nothing (it runs per varied parameter per run, up to 10^7 runs).
//!
//! The same `u` gives the `u`-quantile of every variant, so nudging a distribution's
//! parameters moves each run's value a little rather than reshuffling runs.

use crate::rng::RunRng;
use crate::special::{norm_cdf, norm_ppf, norm_sf};

/// A distribution over one numeric parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Distribution {
    Fixed(f64),
    /// Uniform on `[lo, hi)`.
    Uniform {
        lo: f64,
        hi: f64,
    },
    Normal {
        mean: f64,
        sd: f64,
    },
    /// Normal(mean, sd) restricted to `[lo, hi]`; either bound may be infinite.
    TruncatedNormal {
        mean: f64,
        sd: f64,
        lo: f64,
        hi: f64,
    },
    /// `exp(Normal(mu, sigma))`.
    LogNormal {
        mu: f64,
        sigma: f64,
    },
    Triangular {
        lo: f64,
        mode: f64,
        hi: f64,
    },
    /// One of `values`, with probabilities proportional to `weights` (all equal when empty).
    Choice {
        values: Vec<f64>,
        weights: Vec<f64>,
    },
}

/// Why a distribution's own parameters are invalid: `field` names the offending field
/// (`"sd"`, `"hi"`, `"weights"`, ...).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct DistError {
    pub field: &'static str,
    pub reason: String,
}

/// No standard normal quantile of a positive double below 1 exceeds this in magnitude
/// (`norm_ppf` of the smallest subnormal is about -38.47): the overflow checks and the
/// log-normal's support rely on it.
const Z_BOUND: f64 = 40.0;

/// The probabilities a truncated normal's quantile may be taken at: the smallest positive
/// double and the largest double below 1, so `norm_ppf` stays finite when `u` times an
/// underflowing mass rounds to 0.
const P_MIN: f64 = 5e-324;
const P_MAX: f64 = 1.0 - f64::EPSILON / 2.0;

/// `ln(f64::MAX)` is 709.78: `exp` of anything above overflows.
const EXP_ARG_MAX: f64 = 709.0;

impl Distribution {
    /// The variant's name, as specs and error messages spell it.
    pub fn name(&self) -> &'static str {
        match self {
            Distribution::Fixed(_) => "fixed",
            Distribution::Uniform { .. } => "uniform",
            Distribution::Normal { .. } => "normal",
            Distribution::TruncatedNormal { .. } => "truncated_normal",
            Distribution::LogNormal { .. } => "log_normal",
            Distribution::Triangular { .. } => "triangular",
            Distribution::Choice { .. } => "choice",
        }
    }

    /// Draws one value, consuming exactly one `next_u64` of `rng` whatever the variant
    /// (`Fixed` included). Never loops, never panics; when [`Distribution::check`] passes the
    /// value is finite and inside [`Distribution::support`].
    pub fn sample(&self, rng: &mut RunRng) -> f64 {
        self.quantile(rng.next_f64())
    }

    /// The value at probability `u` in (0, 1): non-decreasing in `u` for every variant (what
    /// [`crate::sampling::Sampling`]'s variates are mapped through).
    pub fn quantile(&self, u: f64) -> f64 {
        match self {
            Distribution::Fixed(v) => *v,
            Distribution::Uniform { lo, hi } => uniform(*lo, *hi, u),
            Distribution::Normal { mean, sd } => mean + sd * norm_ppf(u),
            Distribution::TruncatedNormal { mean, sd, lo, hi } => {
                let z = standard_truncated((lo - mean) / sd, (hi - mean) / sd, u);
                // Rounding in `mean + sd * z` may step just outside the bounds.
                (mean + sd * z).max(*lo).min(*hi)
            }
            Distribution::LogNormal { mu, sigma } => libm::exp(mu + sigma * norm_ppf(u)),
            Distribution::Triangular { lo, mode, hi } => triangular(*lo, *mode, *hi, u),
            Distribution::Choice { values, weights } => choice(values, weights, u),
        }
    }

    /// A closed interval `[lo, hi]` containing every value [`Distribution::sample`] can
    /// return (meaningful once [`Distribution::check`] passes). Validation uses it to prove
    /// every sampled parameter valid (e.g. `tau > 0`).
    ///
    /// - normal: `(-inf, inf)` (the exact `(mean, mean)` when `sd == 0`): a normal is
    ///   unbounded, and validation should steer users to a truncated normal;
    /// - truncated normal, uniform, triangular: their bounds;
    /// - log-normal: `[exp(mu - 40 sigma), inf)`, nudged down against rounding; the lower
    ///   bound is 0 where that underflows, since `exp` then returns 0. It is sound because
    ///   `|z| < 40` for every normal quantile of a positive double below 1 (about 38.5 at
    ///   most);
    /// - choice: the smallest and largest value that has a positive weight.
    pub fn support(&self) -> (f64, f64) {
        match self {
            Distribution::Fixed(v) => (*v, *v),
            Distribution::Uniform { lo, hi }
            | Distribution::TruncatedNormal { lo, hi, .. }
            | Distribution::Triangular { lo, hi, .. } => (*lo, *hi),
            Distribution::Normal { mean, sd } if *sd == 0.0 => (*mean, *mean),
            Distribution::Normal { .. } => (f64::NEG_INFINITY, f64::INFINITY),
            Distribution::LogNormal { mu, sigma } if *sigma == 0.0 => {
                // Bit-identical to what `quantile` computes: mu + 0 * z == mu.
                let v = libm::exp(*mu);
                (v, v)
            }
            Distribution::LogNormal { mu, sigma } => {
                let low = libm::exp(mu - Z_BOUND * sigma);
                // `exp` is not guaranteed monotone to the last bit; a few ulps of margin
                // cover it. Subnormal results carry no relative accuracy: use 0.
                let low = if low >= f64::MIN_POSITIVE { low * (1.0 - 4.0 * f64::EPSILON) } else { 0.0 };
                (low, f64::INFINITY)
            }
            Distribution::Choice { values, weights } => {
                let drawable = |i: usize| weights.is_empty() || weights.get(i).is_some_and(|w| *w > 0.0);
                values
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| drawable(*i))
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (_, v)| (lo.min(*v), hi.max(*v)))
            }
        }
    }

    /// Checks the distribution's own parameters; never panics, whatever the numbers.
    ///
    /// Once it passes, every sample is finite and inside [`Distribution::support`]. Infinite
    /// numbers are allowed only as a truncated normal's bounds. `sd == 0` is a valid normal
    /// (a constant) but not a valid truncated normal, whose bounds need a spread to mean
    /// anything (use `Fixed` instead).
    pub fn check(&self) -> Result<(), DistError> {
        match self {
            Distribution::Fixed(v) => finite("value", *v),
            Distribution::Uniform { lo, hi } => {
                finite("lo", *lo)?;
                finite("hi", *hi)?;
                ordered(*lo, *hi)
            }
            Distribution::Normal { mean, sd } => {
                finite("mean", *mean)?;
                finite("sd", *sd)?;
                if *sd < 0.0 {
                    return err("sd", format!("must be >= 0, got {sd:?}"));
                }
                bounded_spread(*mean, *sd)
            }
            Distribution::TruncatedNormal { mean, sd, lo, hi } => check_truncated(*mean, *sd, *lo, *hi),
            Distribution::LogNormal { mu, sigma } => {
                finite("mu", *mu)?;
                finite("sigma", *sigma)?;
                if *sigma < 0.0 {
                    return err("sigma", format!("must be >= 0, got {sigma:?}"));
                }
                let top = mu + Z_BOUND * sigma;
                if top > EXP_ARG_MAX {
                    let field = if *sigma > 0.0 { "sigma" } else { "mu" };
                    return err(
                        field,
                        format!(
                            "sampled values could overflow f64: mu + 40*sigma = {top:?} exceeds {EXP_ARG_MAX:?}"
                        ),
                    );
                }
                Ok(())
            }
            Distribution::Triangular { lo, mode, hi } => {
                finite("lo", *lo)?;
                finite("mode", *mode)?;
                finite("hi", *hi)?;
                ordered(*lo, *hi)?;
                if mode < lo || mode > hi {
                    return err("mode", format!("must lie in [lo, hi] = [{lo:?}, {hi:?}], got {mode:?}"));
                }
                Ok(())
            }
            Distribution::Choice { values, weights } => check_choice(values, weights),
        }
    }
}

/// `lo + (hi - lo) * u`, kept below `hi` when rounding reaches it.
fn uniform(lo: f64, hi: f64, u: f64) -> f64 {
    let x = lo + (hi - lo) * u;
    if x < hi { x } else { hi.next_down().max(lo) }
}

/// The `u`-quantile of a standard normal truncated to `[a, b]`.
///
/// An interval above the mean is sampled as the mirror image of one below it: lower-tail
/// probabilities `norm_cdf(x)` keep full relative precision far out (to about -38), where
/// upper-tail ones would round to 1. `1 - u` (exact for `RunRng::next_f64`) keeps the result
/// increasing in `u`.
fn standard_truncated(a: f64, b: f64, u: f64) -> f64 {
    if a + b > 0.0 { -lower_quantile(-b, -a, 1.0 - u) } else { lower_quantile(a, b, u) }
}

/// The `u`-quantile of a standard normal truncated to `[a, b]`, through the lower-tail CDF.
fn lower_quantile(a: f64, b: f64, u: f64) -> f64 {
    let (pa, pb) = (norm_cdf(a), norm_cdf(b));
    let p = (pa + u * (pb - pa)).clamp(P_MIN, P_MAX);
    norm_ppf(p).max(a).min(b)
}

/// The probability mass of `[a, b]` under a standard normal, from the tail nearer the
/// interval as [`standard_truncated`] computes it.
fn standard_mass(a: f64, b: f64) -> f64 {
    if a + b > 0.0 { norm_sf(a) - norm_sf(b) } else { norm_cdf(b) - norm_cdf(a) }
}

/// Triangular inverse CDF, in a form whose intermediate products stay within [0, 1].
fn triangular(lo: f64, mode: f64, hi: f64, u: f64) -> f64 {
    let width = hi - lo;
    let left = (mode - lo) / width;
    let x = if u < left {
        lo + width * libm::sqrt(u * left)
    } else {
        hi - width * libm::sqrt((1.0 - u) * ((hi - mode) / width))
    };
    x.max(lo).min(hi)
}

/// The value whose cumulative weight first exceeds `u * total`.
///
/// A linear scan rather than a binary search: the enum carries weights, not cumulative sums,
/// and building them would allocate per sample. The sums are accumulated in the same order a
/// precomputed table would use, so switching to one later cannot change a result.
fn choice(values: &[f64], weights: &[f64], u: f64) -> f64 {
    let Some(&last) = values.last() else {
        return f64::NAN;
    };
    if weights.is_empty() {
        let i = (u * values.len() as f64) as usize;
        return values.get(i).copied().unwrap_or(last);
    }
    let total = weights.iter().fold(0.0, |acc, w| acc + w);
    let target = u * total;
    let mut acc = 0.0;
    // If rounding makes `target` reach `total`, the last value with positive weight.
    let mut fallback = last;
    for (&v, &w) in values.iter().zip(weights) {
        acc += w;
        if acc > target {
            return v;
        }
        if w > 0.0 {
            fallback = v;
        }
    }
    fallback
}

fn err(field: &'static str, reason: String) -> Result<(), DistError> {
    Err(DistError { field, reason })
}

fn finite(field: &'static str, v: f64) -> Result<(), DistError> {
    if v.is_finite() { Ok(()) } else { err(field, format!("must be finite, got {v:?}")) }
}

/// `lo < hi` with a width that fits in f64 (uniform and triangular scale by it).
fn ordered(lo: f64, hi: f64) -> Result<(), DistError> {
    if lo >= hi {
        return err("hi", format!("must be greater than lo, got lo = {lo:?}, hi = {hi:?}"));
    }
    if !(hi - lo).is_finite() {
        return err("hi", format!("hi - lo overflows f64 (lo = {lo:?}, hi = {hi:?})"));
    }
    Ok(())
}

/// `mean + sd * z` stays finite for every `|z| < 40`.
fn bounded_spread(mean: f64, sd: f64) -> Result<(), DistError> {
    if (mean.abs() + Z_BOUND * sd).is_finite() {
        Ok(())
    } else {
        err(
            "sd",
            format!(
                "sampled values could overflow f64: |mean| + 40*sd is not finite (mean = {mean:?}, sd = {sd:?})"
            ),
        )
    }
}

fn check_truncated(mean: f64, sd: f64, lo: f64, hi: f64) -> Result<(), DistError> {
    finite("mean", mean)?;
    finite("sd", sd)?;
    if sd <= 0.0 {
        return err(
            "sd",
            format!("must be > 0 for a truncated normal (use fixed for a constant), got {sd:?}"),
        );
    }
    bounded_spread(mean, sd)?;
    if lo.is_nan() || lo == f64::INFINITY {
        return err("lo", format!("must be a number or -inf, got {lo:?}"));
    }
    if hi.is_nan() || hi == f64::NEG_INFINITY {
        return err("hi", format!("must be a number or +inf, got {hi:?}"));
    }
    if lo >= hi {
        return err("hi", format!("must be greater than lo, got lo = {lo:?}, hi = {hi:?}"));
    }
    let (a, b) = ((lo - mean) / sd, (hi - mean) / sd);
    if standard_mass(a, b) > 0.0 {
        return Ok(());
    }
    // One decimal, but exponent notation (Debug) rather than 300 digits for huge ratios.
    let (a, b) = ((a * 10.0).round() / 10.0, (b * 10.0).round() / 10.0);
    // The bound nearer the mean is the one to move.
    let field = if a + b > 0.0 { "lo" } else { "hi" };
    err(
        field,
        format!(
            "truncation interval [{lo:?}, {hi:?}] has no probability mass under Normal({mean:?}, {sd:?}) in f64 \
             ({a:?} to {b:?} standard deviations from the mean)"
        ),
    )
}

fn check_choice(values: &[f64], weights: &[f64]) -> Result<(), DistError> {
    if values.is_empty() {
        return err("values", "must not be empty".to_owned());
    }
    if let Some((i, v)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return err("values", format!("values[{i}] must be finite, got {v:?}"));
    }
    if weights.is_empty() {
        return Ok(());
    }
    if weights.len() != values.len() {
        return err(
            "weights",
            format!(
                "has {} entries for {} values (give one weight per value, or none)",
                weights.len(),
                values.len()
            ),
        );
    }
    if let Some((i, w)) = weights.iter().enumerate().find(|(_, w)| !(w.is_finite() && **w >= 0.0)) {
        return err("weights", format!("weights[{i}] must be finite and >= 0, got {w:?}"));
    }
    let total = weights.iter().fold(0.0, |acc, w| acc + w);
    if total == 0.0 {
        return err("weights", "are all zero: no value can be drawn".to_owned());
    }
    if !total.is_finite() {
        return err("weights", "sum overflows f64".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests;
