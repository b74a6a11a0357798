//! Parameter distributions and their reproducible sampling.

use crate::rng::RunRng;

/// A distribution over one numeric parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Distribution {
    Fixed(f64),
    /// Uniform on `[lo, hi)`.
    Uniform { lo: f64, hi: f64 },
    Normal { mean: f64, sd: f64 },
    /// Normal(mean, sd) restricted to `[lo, hi]`; either bound may be infinite.
    TruncatedNormal { mean: f64, sd: f64, lo: f64, hi: f64 },
    /// `exp(Normal(mu, sigma))`.
    LogNormal { mu: f64, sigma: f64 },
    Triangular { lo: f64, mode: f64, hi: f64 },
    /// One of `values`, with probabilities proportional to `weights` (all equal when empty).
    Choice { values: Vec<f64>, weights: Vec<f64> },
}

impl Distribution {
    /// Draws one value. Never loops without bound, whatever the parameters.
    pub fn sample(&self, rng: &mut RunRng) -> f64 {
        let _ = rng;
        todo!()
    }
}
