//! The canonical "MC-tau" workload every benchmark in the project uses: the MC-tau run
//! ([`SimConfig::mc_tau`]) with `tau ~ Normal(10, 2)` truncated to `tau >= 1`.

use crate::config::SimConfig;
use crate::distribution::Distribution;
use crate::job::{JobSpec, MonteCarlo, ParamDist};
use crate::param::Param;
use crate::sampling::Sampling;

/// The distribution of `tau` in MC-tau.
pub const MC_TAU_DIST: Distribution =
    Distribution::TruncatedNormal { mean: 10.0, sd: 2.0, lo: 1.0, hi: f64::INFINITY };

/// The MC-tau Monte Carlo job with `runs` runs and `seed`.
pub fn mc_tau_job(runs: u64, seed: u64) -> JobSpec {
    JobSpec::MonteCarlo(MonteCarlo {
        base: SimConfig::mc_tau(10.0),
        runs,
        seed,
        params: vec![ParamDist { param: Param::Tau, dist: MC_TAU_DIST }],
        sampling: Sampling::Random,
        stop: None,
    })
}
