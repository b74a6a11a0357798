//! Optimisation jobs: minimise or maximise one metric over bounded parameters with CMA-ES
//! ([`cmaes`]), each generation's candidates run as one wave of the job, optionally each over a
//! Monte Carlo of uncertain plant parameters (a robust objective: the mean or a quantile of
//! the metric over those runs).
//!
//! **Runs.** Generation `g` is runs `g·λ·m .. (g+1)·λ·m` (λ candidates, `m` runs each, `m = 1`
//! without robustness); run `r` of it is sample `r mod m` of candidate `⌊r / m⌋ mod λ`. Sample
//! `s` draws the uncertain parameters (and the measurement noise) from streams keyed by `s`
//! alone, so every candidate of every generation meets the same plants: common random
//! numbers, which make candidates' objectives differ by their gains rather than by their
//! luck.
//!
//! **State.** The search is a pure function of the spec and the objective values of the
//! generations run so far (its *history*, λ values per generation): [`Optimize::replay`]
//! rebuilds it. That is all the pipeline stores: the results service appends a generation's
//! values when its wave is merged, and a worker replays the history to know the candidates
//! of the chunk it was handed ([`Generation`]).
//!
//! **Bounds.** CMA-ES searches `Rⁿ` in units of each parameter's range. A candidate outside
//! `[0, 1]ⁿ` runs at its projection onto the bounds, and ranks by its objective plus a penalty
//! for how far outside it was (scaled to the generation's spread of objectives), so every run
//! is inside the bounds, an optimum on a bound or in a corner is hit exactly, and the search's
//! mean is pulled back towards the box.
//!
//! **Stopping.** After a generation: when the search's widest standard deviation is below
//! `x_tolerance` of the ranges, or the generations' best objectives have stayed within 10⁻⁹ of
//! each other for `10 + ⌈30·n/λ⌉` generations (both: converged), when its covariance has
//! degenerated (condition number past 10¹⁴), or at the generation cap.

mod cmaes;
mod eigen;

use std::ops::Range;

use crate::config::SimConfig;
use crate::job::{Goal, Objective, ParamDist, RunMap};
pub use crate::metric::Statistic;
use crate::param::Param;
use crate::sampling::Sampling;

use cmaes::Cmaes;

/// How little the generations' best objectives may move, relative to their size, for the
/// search to count as converged ([`Search::flat`]).
const F_TOLERANCE: f64 = 1e-9;

/// The covariance condition number past which a search has nothing left to learn.
const MAX_CONDITION: f64 = 1e14;

/// One parameter the search moves, within `[lo, hi]`, starting from `start`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bound {
    pub param: Param,
    pub lo: f64,
    pub hi: f64,
    pub start: f64,
}

/// The uncertain plant each candidate is judged over.
#[derive(Debug, Clone, PartialEq)]
pub struct Robust {
    pub params: Vec<ParamDist>,
    /// Runs per candidate.
    pub runs: u32,
    /// How a candidate's runs make its objective: their mean, or their `q` quantile (linear
    /// interpolation between order statistics, `q` in [0, 1]).
    pub statistic: Statistic,
    pub sampling: Sampling,
}

/// An optimisation job.
#[derive(Debug, Clone, PartialEq)]
pub struct Optimize {
    pub base: SimConfig,
    pub params: Vec<Bound>,
    pub objective: Objective,
    /// Candidates per generation (λ).
    pub population: u32,
    /// The generation cap.
    pub generations: u32,
    pub seed: u64,
    /// Stop once the search's widest standard deviation is below this fraction of the ranges.
    pub x_tolerance: f64,
    /// The first generation's standard deviation, as a fraction of the ranges.
    pub initial_step: f64,
    pub robust: Option<Robust>,
}

impl Optimize {
    pub const DEFAULT_GENERATIONS: u32 = 100;
    pub const DEFAULT_X_TOLERANCE: f64 = 1e-3;
    pub const DEFAULT_INITIAL_STEP: f64 = 0.3;

    /// CMA-ES's default population for `dims` parameters, `4 + ⌊3 ln n⌋`.
    pub fn default_population(dims: usize) -> u32 {
        4 + (3.0 * (dims.max(1) as f64).ln()).floor() as u32
    }

    /// Runs per candidate (`m`).
    pub fn runs_per_candidate(&self) -> u64 {
        self.robust.as_ref().map_or(1, |r| u64::from(r.runs))
    }

    /// Runs per generation (`λ·m`): every wave of the job.
    pub fn runs_per_generation(&self) -> u64 {
        u64::from(self.population) * self.runs_per_candidate()
    }

    /// The run cap: every generation up to the cap.
    pub fn runs(&self) -> u64 {
        u64::from(self.generations) * self.runs_per_generation()
    }

    /// The parameters a run varies, in the order its rows list them: the bounded ones, then
    /// the uncertain ones.
    pub fn varied_params(&self) -> impl Iterator<Item = Param> + '_ {
        let uncertain = self.robust.iter().flat_map(|r| r.params.iter().map(|d| d.param));
        self.params.iter().map(|b| b.param).chain(uncertain)
    }

    /// A candidate's objective from its runs' values of the metric (`None`: absent): the
    /// value (one run) or the robust statistic. NaN when any value is absent or not finite:
    /// such a candidate ranks last.
    pub fn objective_value(&self, values: &[Option<f64>]) -> f64 {
        let Some(finite) = values.iter().map(|v| v.filter(|v| v.is_finite())).collect::<Option<Vec<f64>>>()
        else {
            return f64::NAN;
        };
        if finite.is_empty() {
            return f64::NAN;
        }
        match self.robust.as_ref().map_or(Statistic::Mean, |r| r.statistic) {
            Statistic::Mean => finite.iter().sum::<f64>() / finite.len() as f64,
            Statistic::Quantile(q) => quantile(finite, q),
        }
    }

    /// A generation's objective values (one per candidate) from its runs' values of the
    /// metric, in run order ([`Optimize::objective_value`] of each candidate's `m` runs).
    pub fn generation_values(&self, values: &[Option<f64>]) -> Vec<f64> {
        let m = usize::try_from(self.runs_per_candidate()).unwrap_or(usize::MAX).max(1);
        values.chunks(m).map(|runs| self.objective_value(runs)).collect()
    }

    /// The search before any generation ran.
    pub fn search(&self) -> Search<'_> {
        let start = self
            .params
            .iter()
            .map(|b| if b.hi > b.lo { (b.start - b.lo) / (b.hi - b.lo) } else { 0.5 })
            .collect();
        let lambda = usize::try_from(self.population).unwrap_or(usize::MAX);
        Search {
            job: self,
            cmaes: Cmaes::new(start, self.initial_step, lambda, self.seed),
            best: None,
            path: Vec::new(),
        }
    }

    /// The search after the generations whose objective values `history` holds (λ per
    /// generation, in candidate order; a partial last generation is ignored).
    pub fn replay(&self, history: &[f64]) -> Search<'_> {
        let mut search = self.search();
        let lambda = usize::try_from(self.population).unwrap_or(usize::MAX).max(1);
        for values in history.chunks_exact(lambda) {
            search.tell(values);
        }
        search
    }

    /// The parameter values of the point `y` of the search space (projected onto the bounds).
    fn point(&self, y: &[f64]) -> Vec<f64> {
        self.params.iter().zip(y).map(|(b, y)| b.lo + y.clamp(0.0, 1.0) * (b.hi - b.lo)).collect()
    }
}

/// A history as the pipeline stores it (the job's wave state): little-endian doubles.
pub fn history_to_bytes(history: &[f64]) -> Vec<u8> {
    history.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// The history [`history_to_bytes`] stored; `None` when `bytes` is not a whole number of
/// doubles.
pub fn history_from_bytes(bytes: &[u8]) -> Option<Vec<f64>> {
    let doubles = bytes.chunks_exact(8);
    if !doubles.remainder().is_empty() {
        return None;
    }
    Some(doubles.map(|b| f64::from_le_bytes(std::array::from_fn(|i| b[i]))).collect())
}

/// `values` (to minimise) plus a penalty for each candidate's squared distance outside the unit
/// box (where it was evaluated at its projection): `γ·Σ(yᵢ − clamp(yᵢ))²` with `γ` the spread
/// of the generation's values per `σ²·n`, so one step outside in every coordinate costs about
/// the generation's range, whatever the objective's scale.
fn penalised(values: &[f64], candidates: &[Vec<f64>], sigma: f64) -> Vec<f64> {
    let finite = values.iter().copied().filter(|v| !v.is_nan());
    let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    let n = candidates.first().map_or(1, Vec::len).max(1) as f64;
    let spread = match (hi > lo, hi.is_finite()) {
        (true, _) => hi - lo,
        // All equal: a sliver of their size still orders the candidates by their distance.
        (false, true) => hi.abs().max(1.0) * 1e-9,
        (false, false) => 1.0,
    };
    let gamma = spread / (sigma * sigma * n);
    values
        .iter()
        .zip(candidates)
        .map(|(v, y)| v + gamma * y.iter().map(|y| (y - y.clamp(0.0, 1.0)).powi(2)).sum::<f64>())
        .collect()
}

/// The `q` quantile of `values` (not empty), NumPy's default ("linear") definition.
fn quantile(mut values: Vec<f64>, q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let h = (values.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let (lo, frac) = (h.floor() as usize, h - h.floor());
    match values.get(lo + 1) {
        Some(next) if frac > 0.0 => values[lo] + frac * (next - values[lo]),
        _ => values[lo],
    }
}

/// Why a search stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// The candidates are within `x_tolerance` of the ranges of each other.
    Converged,
    /// The covariance degenerated.
    Degenerate,
    /// The generation cap.
    Cap,
}

/// What follows a generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Run this generation.
    Generation(u32),
    Stop(Stopped),
}

/// The best candidate so far.
#[derive(Debug, Clone, PartialEq)]
pub struct Best {
    pub generation: u32,
    pub candidate: u32,
    pub value: f64,
    pub point: Vec<f64>,
}

/// One generation of the search, as its path reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub generation: u32,
    /// The generation's best candidate (`None` when no candidate had a finite objective).
    pub best: Option<Best>,
    /// The search's mean after the generation, in parameter values.
    pub mean: Vec<f64>,
    /// The search's widest standard deviation after it, as a fraction of the ranges.
    pub width: f64,
}

/// A search between generations.
#[derive(Debug, Clone)]
pub struct Search<'a> {
    job: &'a Optimize,
    cmaes: Cmaes,
    best: Option<Best>,
    path: Vec<Step>,
}

impl<'a> Search<'a> {
    /// Generations run so far: the index of the one to run next.
    pub fn generation(&self) -> u32 {
        self.cmaes.generation()
    }

    /// The runs, and their configurations, of the generation to run next.
    pub fn runs(&self) -> Generation<'a> {
        let points = self.cmaes.candidates().iter().map(|y| self.job.point(y)).collect();
        Generation { job: self.job, index: self.generation(), points }
    }

    /// Records the next generation's objective values (λ, in candidate order) and moves on.
    pub fn tell(&mut self, values: &[f64]) {
        let generation = self.generation();
        // Drawn once: the points to report and what CMA-ES updates from.
        let candidates = self.cmaes.candidates();
        let points: Vec<Vec<f64>> = candidates.iter().map(|y| self.job.point(y)).collect();
        let sign = match self.job.objective.goal {
            Goal::Minimize => 1.0,
            Goal::Maximize => -1.0,
        };
        let ranked: Vec<f64> =
            values.iter().map(|v| if v.is_finite() { sign * v } else { f64::NAN }).collect();
        let winner = (0..points.len())
            .filter(|&k| ranked.get(k).is_some_and(|v| !v.is_nan()))
            .min_by(|&a, &b| ranked[a].total_cmp(&ranked[b]).then(a.cmp(&b)));
        let step_best = winner.map(|k| Best {
            generation,
            candidate: u32::try_from(k).unwrap_or(u32::MAX),
            value: values[k],
            point: points[k].clone(),
        });
        if let Some(b) = &step_best
            && self.best.as_ref().is_none_or(|best| sign * b.value < sign * best.value)
        {
            self.best = Some(b.clone());
        }
        self.cmaes.tell(&candidates, &penalised(&ranked, &candidates, self.cmaes.sigma()));
        self.path.push(Step {
            generation,
            best: step_best,
            mean: self.job.point(self.cmaes.mean()),
            width: self.cmaes.width(),
        });
    }

    /// After the generations told: stop, or run the next one.
    pub fn next(&self) -> Next {
        if self.generation() == 0 {
            Next::Generation(0)
        } else if self.cmaes.width() < self.job.x_tolerance || self.flat() {
            Next::Stop(Stopped::Converged)
        } else if self.cmaes.condition().is_nan() || self.cmaes.condition() > MAX_CONDITION {
            Next::Stop(Stopped::Degenerate)
        } else if self.generation() >= self.job.generations {
            Next::Stop(Stopped::Cap)
        } else {
            Next::Generation(self.generation())
        }
    }

    /// Whether the generations' best objectives have stopped moving: over the last `10 +
    /// ⌈30·n/λ⌉` generations (CMA-ES's usual history), all within [`F_TOLERANCE`] of each
    /// other, relative to their size. The search has nothing left to find; typically its optimum
    /// is on a bound, where candidates projected onto it score the same.
    fn flat(&self) -> bool {
        let n = self.job.params.len() as u64;
        let history = 10 + (30 * n).div_ceil(u64::from(self.job.population.max(1)));
        let Some(recent) = self.path.len().checked_sub(usize::try_from(history).unwrap_or(usize::MAX)) else {
            return false;
        };
        let bests: Option<Vec<f64>> =
            self.path[recent..].iter().map(|s| s.best.as_ref().map(|b| b.value)).collect();
        let Some(bests) = bests else { return false };
        let (lo, hi) =
            bests.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(*v), b.max(*v)));
        hi - lo <= F_TOLERANCE * lo.abs().max(hi.abs()).max(f64::MIN_POSITIVE)
    }

    pub fn best(&self) -> Option<&Best> {
        self.best.as_ref()
    }

    /// Every generation told, in order.
    pub fn path(&self) -> &[Step] {
        &self.path
    }
}

/// The runs of one generation: its candidates' parameter values, and each run's plant.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation<'a> {
    job: &'a Optimize,
    index: u32,
    points: Vec<Vec<f64>>,
}

impl Generation<'_> {
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The generation's run indices.
    pub fn runs(&self) -> Range<u64> {
        let per = self.job.runs_per_generation();
        let start = u64::from(self.index) * per;
        start..start + per
    }

    /// The candidates' parameter values, in candidate order (the bounded parameters' order).
    pub fn points(&self) -> &[Vec<f64>] {
        &self.points
    }

    /// Run `run`'s candidate and sample.
    fn place(&self, run: u64) -> (usize, u64) {
        let m = self.job.runs_per_candidate();
        let within = run.saturating_sub(self.runs().start);
        (usize::try_from(within / m).unwrap_or(usize::MAX), within % m)
    }
}

impl RunMap for Generation<'_> {
    fn base(&self) -> &SimConfig {
        &self.job.base
    }

    /// The run's candidate's values, then its sample's uncertain values. A run outside the
    /// generation (a bug of the caller) gets no values: the base configuration.
    fn run_params(&self, run: u64, out: &mut Vec<(Param, f64)>) {
        out.clear();
        let (candidate, sample) = self.place(run);
        let Some(point) = self.points.get(candidate).filter(|_| self.runs().contains(&run)) else { return };
        out.extend(self.job.params.iter().zip(point).map(|(b, v)| (b.param, *v)));
        if let Some(robust) = &self.job.robust {
            let m = u64::from(robust.runs);
            out.extend(robust.params.iter().enumerate().map(|(dim, d)| {
                let u = robust.sampling.uniform(self.job.seed, m, sample, dim, d.param as u64);
                (d.param, d.dist.quantile(u))
            }));
        }
    }

    /// Keyed by the sample: every candidate meets the same noise in sample `s`.
    fn noise_key(&self, run: u64) -> (u64, u64) {
        (self.job.seed, self.place(run).1)
    }
}

#[cfg(test)]
mod tests;
