//! How a Monte Carlo or dataset job draws the uniform variates its parameters' distributions
//! map through their inverse CDFs: independently at random (the default), from a scrambled
//! Sobol' sequence, or by Latin hypercube. Run `i`'s variates depend only on the job's seed,
//! its run count and `i`, never on how the job is split into chunks.
//!
//! - `random`: one stream per parameter, `RunRng::new(seed, run, param as u64)` (what every
//!   job used before sampling could be chosen: unchanged, bit for bit).
//! - `sobol`: coordinate `dim` (the parameter's position in the job) of point `run` of the
//!   Sobol' sequence, Owen-scrambled by a seed derived from `(seed, dim)`; the parameter's
//!   random stream supplies the digits past the sequence's 32. The first `2^k` points of any
//!   dimension fill the `2^k` equal intervals once each: choose a power of two runs.
//! - `latin_hypercube`: the `runs` equal strata of each dimension, each hit exactly once, in a
//!   pseudorandom order per dimension; the parameter's random stream places the point within
//!   its stratum (to 2^-20 of its width).

pub mod latin;
pub mod sobol;

use crate::rng::{RunRng, mix, open_unit};

/// The sampling scheme of a job's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Sampling {
    #[default]
    Random,
    Sobol,
    LatinHypercube,
}

/// The most parameters a `sobol` job may vary (one dimension each).
pub const MAX_SOBOL_DIMENSIONS: usize = sobol::DIMENSIONS;
/// The most runs a `sobol` or `latin_hypercube` job may have (32-bit point indices).
pub const MAX_STRUCTURED_RUNS: u64 = 1 << 32;

/// Keys the per-dimension seeds of the scrambles and permutations apart from each other and
/// from the run streams.
const SOBOL_KEY: u64 = 0x50b0_15c2_a3b1_e000;
const LATIN_KEY: u64 = 0x1a71_4c0b_e000_0000;

/// Clamps a variate into the open interval the inverse CDFs expect (`RunRng`'s grid).
const U_MIN: f64 = 1.0 / (1u64 << 53) as f64;
const U_MAX: f64 = 1.0 - U_MIN;

impl Sampling {
    pub const ALL: [Sampling; 3] = [Sampling::Random, Sampling::Sobol, Sampling::LatinHypercube];

    /// `random`, `sobol` or `latin_hypercube`, as specs spell it.
    pub const fn name(self) -> &'static str {
        match self {
            Sampling::Random => "random",
            Sampling::Sobol => "sobol",
            Sampling::LatinHypercube => "latin_hypercube",
        }
    }

    pub fn from_name(name: &str) -> Option<Sampling> {
        Sampling::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The variate in (0, 1) of dimension `dim` of run `run` of a job of `runs` runs seeded
    /// with `seed`, whose parameter's random stream is `stream`. Never panics: runs past
    /// [`MAX_STRUCTURED_RUNS`] or dimensions past [`MAX_SOBOL_DIMENSIONS`] (which validation
    /// rejects) wrap around.
    pub fn uniform(self, seed: u64, runs: u64, run: u64, dim: usize, stream: u64) -> f64 {
        let mut rng = RunRng::new(seed, run, stream);
        match self {
            Sampling::Random => rng.next_f64(),
            Sampling::Sobol => {
                let dim = dim % sobol::DIMENSIONS;
                let key = mix(seed ^ SOBOL_KEY ^ dim as u64) as u32;
                let x = sobol::scramble(sobol::point(run as u32, dim), key);
                open_unit((u64::from(x) << 32) | (rng.next_u64() >> 32))
            }
            Sampling::LatinHypercube => {
                let n = u32::try_from(runs.clamp(1, u64::from(u32::MAX))).unwrap_or(u32::MAX);
                let key = mix(seed ^ LATIN_KEY ^ dim as u64) as u32;
                let stratum = latin::permute((run % u64::from(n)) as u32, n, key);
                // 20 bits of jitter: `stratum + jitter` is then exact (32 + 21 bits), so the
                // point never rounds into the next stratum.
                let jitter = ((rng.next_u64() >> 44) as f64 + 0.5) / f64::from(1u32 << 20);
                ((f64::from(stratum) + jitter) / f64::from(n)).clamp(U_MIN, U_MAX)
            }
        }
    }
}
