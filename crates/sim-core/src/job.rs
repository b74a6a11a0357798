//! Job specifications (Monte Carlo, sweep, dataset) and the pure mapping from a run index to
//! that run's configuration and sampled parameters.

use crate::config::SimConfig;
use crate::distribution::Distribution;
use crate::metric::Metric;
use crate::param::Param;
use crate::sweep::Axis;

/// A distribution over one parameter of a Monte Carlo or dataset job.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamDist {
    pub param: Param,
    pub dist: Distribution,
}

/// `runs` simulations of `base` with parameters drawn from `params`.
#[derive(Debug, Clone, PartialEq)]
pub struct MonteCarlo {
    pub base: SimConfig,
    pub runs: u64,
    pub seed: u64,
    pub params: Vec<ParamDist>,
}

/// Whether the sweep's best point has the smallest or the largest objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Goal {
    Minimize,
    Maximize,
}

/// The metric a sweep optimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Objective {
    pub metric: Metric,
    pub goal: Goal,
}

/// One run of `base` per point of the grid spanned by `axes` (the first axis varies slowest).
#[derive(Debug, Clone, PartialEq)]
pub struct Sweep {
    pub base: SimConfig,
    pub axes: Vec<Axis>,
    pub objective: Objective,
    /// Seeds measurement noise, when `base` has any.
    pub seed: u64,
}

/// What a job computes.
#[derive(Debug, Clone, PartialEq)]
pub enum JobSpec {
    MonteCarlo(MonteCarlo),
    Sweep(Sweep),
    /// A Monte Carlo job whose per-run rows (parameters, metrics, decimated trajectories)
    /// are the product.
    Dataset(MonteCarlo),
}
