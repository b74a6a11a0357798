//! Job specifications (Monte Carlo, sweep, dataset, sensitivity, optimisation) and the pure
//! mapping from a run index to that run's configuration and sampled parameters ([`RunMap`]).

use std::ops::Range;

use crate::adaptive::Stop;
use crate::config::SimConfig;
use crate::distribution::Distribution;
use crate::metric::Metric;
use crate::optimize::Optimize;
use crate::param::Param;
use crate::rng::{NOISE_STREAM, RunRng};
use crate::sampling::Sampling;
use crate::sensitivity::{design_runs, unit};
use crate::summary::RunSummary;
use crate::sweep::{Axis, grid_len, grid_values};

/// A distribution over one parameter of a Monte Carlo or dataset job.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamDist {
    pub param: Param,
    pub dist: Distribution,
}

/// `runs` simulations of `base` with parameters drawn from `params` as `sampling` says (with a
/// `stop`, at most `runs`).
#[derive(Debug, Clone, PartialEq)]
pub struct MonteCarlo {
    pub base: SimConfig,
    pub runs: u64,
    pub seed: u64,
    pub params: Vec<ParamDist>,
    pub sampling: Sampling,
    /// Stop before `runs` (then the cap) once a metric's mean is known precisely enough
    /// ([`crate::adaptive`]); `None`: run all `runs`.
    pub stop: Option<Stop>,
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

/// Sobol' indices of `metrics` with respect to `params` (each over its distribution): the
/// Saltelli design of `samples` base samples, `samples·(params+2)` runs (see
/// [`crate::sensitivity`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Sensitivity {
    pub base: SimConfig,
    /// Base samples `n` (a power of two keeps the Sobol' points balanced).
    pub samples: u64,
    pub seed: u64,
    pub params: Vec<ParamDist>,
    /// The metrics whose indices the job reports, in the order it reports them.
    pub metrics: Vec<Metric>,
    /// Bootstrap resamples for the confidence intervals.
    pub resamples: u32,
    /// The intervals' two-sided confidence level, in (0, 1).
    pub confidence: f64,
}

impl Sensitivity {
    /// The bootstrap resamples per job default to SciPy's.
    pub const DEFAULT_RESAMPLES: u32 = 999;
    pub const DEFAULT_CONFIDENCE: f64 = 0.95;

    /// The design's run count (0 when it overflows `u64`, which validation rejects).
    pub fn runs(&self) -> u64 {
        design_runs(self.samples, self.params.len()).unwrap_or(0)
    }
}

/// The kind of a job: the one list of kinds, and the one spelling of their names, that every
/// service uses (the store, metric labels, spans, request paths).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobKind {
    MonteCarlo,
    Sweep,
    Dataset,
    Sensitivity,
    Optimize,
}

impl JobKind {
    /// Every kind, in the order of the API's `JobKind` enum.
    pub const ALL: [JobKind; 5] =
        [JobKind::MonteCarlo, JobKind::Sweep, JobKind::Dataset, JobKind::Sensitivity, JobKind::Optimize];

    /// `monte_carlo`, `sweep`, `dataset`, `sensitivity` or `optimize`: the kind as specs spell it (the member of a
    /// request's `job`), the prefix of the job's field paths in validation errors, the `kind`
    /// field of a stored job and the `kind` label of metrics and spans.
    pub const fn name(self) -> &'static str {
        match self {
            JobKind::MonteCarlo => "monte_carlo",
            JobKind::Sweep => "sweep",
            JobKind::Dataset => "dataset",
            JobKind::Sensitivity => "sensitivity",
            JobKind::Optimize => "optimize",
        }
    }

    /// The kind [`JobKind::name`] spells as `name`.
    pub fn from_name(name: &str) -> Option<JobKind> {
        JobKind::ALL.into_iter().find(|kind| kind.name() == name)
    }
}

/// What a job computes.
#[derive(Debug, Clone, PartialEq)]
pub enum JobSpec {
    MonteCarlo(MonteCarlo),
    Sweep(Sweep),
    /// A Monte Carlo job whose per-run rows (parameters, metrics, decimated trajectories)
    /// are the product.
    Dataset(MonteCarlo),
    Sensitivity(Sensitivity),
    /// Runs generation by generation, each chosen by the ones before ([`crate::optimize`]).
    Optimize(Optimize),
}

impl JobSpec {
    /// Number of runs: `runs` for Monte Carlo and datasets, the grid size for sweeps, the
    /// design's size for sensitivity jobs (0 when that overflows `u64`, which validation
    /// rejects), the cap of every generation for optimisations.
    pub fn runs(&self) -> u64 {
        match self {
            JobSpec::MonteCarlo(mc) | JobSpec::Dataset(mc) => mc.runs,
            JobSpec::Sweep(sweep) => grid_len(&sweep.axes).unwrap_or(0),
            JobSpec::Sensitivity(sa) => sa.runs(),
            JobSpec::Optimize(opt) => opt.runs(),
        }
    }

    /// The rule an adaptive Monte Carlo job stops by ([`crate::adaptive`]).
    pub fn stop(&self) -> Option<&Stop> {
        match self {
            JobSpec::MonteCarlo(mc) => mc.stop.as_ref(),
            JobSpec::Dataset(_) | JobSpec::Sweep(_) | JobSpec::Sensitivity(_) | JobSpec::Optimize(_) => None,
        }
    }

    /// The runs every wave of the job ends on a multiple of, for jobs that run in waves (an
    /// adaptive Monte Carlo job's batch, an optimisation's generation); chunks divide it.
    pub fn wave_step(&self) -> Option<u64> {
        match self {
            JobSpec::Optimize(opt) => Some(opt.runs_per_generation()),
            _ => self.stop().map(|stop| stop.batch),
        }
    }

    /// An empty summary for this job's runs. The stop metric of an adaptive job on a quantile
    /// has a [`fine`](crate::summary::MetricSummary::fine) sketch: its error widens the job's
    /// interval, and a 16th of it lets targets 16 times narrower be reached.
    pub fn summary(&self) -> RunSummary {
        match self.quantile_stop() {
            Some(stop) => RunSummary::new().with_fine_sketch(stop.metric),
            None => RunSummary::new(),
        }
    }

    /// Shrinks the summary of a chunk of `chunk_runs` runs to what its report keeps
    /// ([`MetricSummary::report_values`](crate::summary::MetricSummary::report_values)): fewer
    /// sketch values per metric the more chunks the job has. The stop metric of an adaptive
    /// job on a quantile keeps what one wave's chunks call for instead: such a job may stop
    /// after a few waves of the many chunks its cap has, and its interval carries the
    /// sketch's error.
    pub fn shrink_report(&self, summary: &mut RunSummary, chunk_runs: u64) {
        let chunks = |runs: u64| runs.div_ceil(chunk_runs.max(1));
        let stop_metric = self.quantile_stop().map(|stop| (stop.metric, chunks(stop.batch)));
        for metric in Metric::ALL {
            let chunks = match stop_metric {
                Some((m, wave)) if m == metric => wave,
                _ => chunks(self.runs()),
            };
            let values = summary.metric(metric).report_values(chunks);
            summary.shrink_metric(metric, values);
        }
    }

    /// The stop rule of an adaptive job on a quantile.
    fn quantile_stop(&self) -> Option<&Stop> {
        self.stop().filter(|stop| stop.statistic.quantile().is_some())
    }

    /// The runs to do before anything is decided: all of them, an adaptive job's first wave,
    /// an optimisation's first generation.
    pub fn first_wave(&self) -> u64 {
        let runs = self.runs();
        match self {
            JobSpec::Optimize(opt) => opt.runs_per_generation().min(runs),
            _ => self.stop().map_or(runs, |stop| stop.first_wave(runs)),
        }
    }

    /// The configuration every run starts from.
    pub fn base(&self) -> &SimConfig {
        match self {
            JobSpec::MonteCarlo(mc) | JobSpec::Dataset(mc) => &mc.base,
            JobSpec::Sweep(sweep) => &sweep.base,
            JobSpec::Sensitivity(sa) => &sa.base,
            JobSpec::Optimize(opt) => &opt.base,
        }
    }

    /// The seed of the job's random streams.
    pub fn seed(&self) -> u64 {
        match self {
            JobSpec::MonteCarlo(mc) | JobSpec::Dataset(mc) => mc.seed,
            JobSpec::Sweep(sweep) => sweep.seed,
            JobSpec::Sensitivity(sa) => sa.seed,
            JobSpec::Optimize(opt) => opt.seed,
        }
    }

    /// What kind of job this is.
    pub fn kind(&self) -> JobKind {
        match self {
            JobSpec::MonteCarlo(_) => JobKind::MonteCarlo,
            JobSpec::Sweep(_) => JobKind::Sweep,
            JobSpec::Dataset(_) => JobKind::Dataset,
            JobSpec::Sensitivity(_) => JobKind::Sensitivity,
            JobSpec::Optimize(_) => JobKind::Optimize,
        }
    }

    /// The name of the job's kind ([`JobKind::name`]).
    pub fn kind_name(&self) -> &'static str {
        self.kind().name()
    }

    /// The parameters the job varies, in the order [`RunMap::run_params`] reports them.
    pub fn varied_params(&self) -> Vec<Param> {
        let (dists, axes): (&[ParamDist], &[Axis]) = match self {
            JobSpec::MonteCarlo(mc) | JobSpec::Dataset(mc) => (&mc.params, &[]),
            JobSpec::Sensitivity(sa) => (&sa.params, &[]),
            JobSpec::Sweep(sweep) => (&[], &sweep.axes),
            JobSpec::Optimize(opt) => return opt.varied_params().collect(),
        };
        dists.iter().map(|d| d.param).chain(axes.iter().map(|a| a.param)).collect()
    }
}

/// The mapping from a run index to the run's configuration: a job's spec, or (for an
/// optimisation, whose runs depend on the generations before) one of its
/// [`crate::optimize::Generation`]s. Workers simulate through it.
pub trait RunMap: Sync {
    /// The configuration every run starts from.
    fn base(&self) -> &SimConfig;

    /// Replaces `out` with the varied parameters of run `run`, in the order of the job's
    /// [`JobSpec::varied_params`].
    fn run_params(&self, run: u64, out: &mut Vec<(Param, f64)>);

    /// The `(seed, index)` of run `run`'s measurement noise stream.
    fn noise_key(&self, run: u64) -> (u64, u64);

    /// The full configuration of run `run`: the base with the run's parameters applied and,
    /// when the base has measurement noise, a noise seed derived from [`RunMap::noise_key`].
    ///
    /// Never panics. A parameter the base configuration lacks (which [`crate::validate`]
    /// rejects, so only an unvalidated job has one) is skipped.
    fn run_config(&self, run: u64) -> SimConfig {
        let mut config = self.base().clone();
        apply_run(self, run, &mut Vec::new(), &mut config);
        config
    }

    /// Replaces `out` with the configurations of `runs`, in order: the chunked form of
    /// [`RunMap::run_config`] (same values), reusing one parameter buffer for the chunk.
    fn configs(&self, runs: Range<u64>, out: &mut Vec<SimConfig>) {
        out.clear();
        // Bounded so a nonsense range cannot make the reservation itself abort.
        let n = runs.end.saturating_sub(runs.start).min(1 << 16);
        out.reserve(usize::try_from(n).unwrap_or(0));
        let mut params = Vec::new();
        let base = self.base();
        for run in runs {
            let mut config = base.clone();
            apply_run(self, run, &mut params, &mut config);
            out.push(config);
        }
    }
}

fn apply_run<M: RunMap + ?Sized>(map: &M, run: u64, params: &mut Vec<(Param, f64)>, config: &mut SimConfig) {
    map.run_params(run, params);
    for &(param, value) in params.iter() {
        // Validation rejects inapplicable parameters; an unvalidated job just ignores them.
        let _ = param.apply(config, value);
    }
    if let Some(noise) = &mut config.noise {
        let (seed, index) = map.noise_key(run);
        noise.seed = RunRng::new(seed, index, NOISE_STREAM).next_u64();
    }
}

impl RunMap for JobSpec {
    fn base(&self) -> &SimConfig {
        JobSpec::base(self)
    }

    /// Monte Carlo and dataset values are each parameter's distribution's quantile at the
    /// job's [`Sampling`] variate for (run, the parameter's position, its stream `param as
    /// u64`). With random sampling that is `RunRng::new(seed, run, param as u64)`: each
    /// parameter has its own stream, so adding a second varied parameter never changes the
    /// first one's values. Under every scheme a run's values do not depend on which other runs
    /// are computed. Sweep values are the coordinates of grid point `run`. Sensitivity values
    /// are the quantiles at the design's variates ([`crate::sensitivity::unit`]). An
    /// optimisation's spec maps only its first generation (later ones depend on the runs
    /// before them: [`crate::optimize::Search::runs`] maps those); past it, no values.
    fn run_params(&self, run: u64, out: &mut Vec<(Param, f64)>) {
        out.clear();
        match self {
            JobSpec::MonteCarlo(mc) | JobSpec::Dataset(mc) => {
                out.extend(mc.params.iter().enumerate().map(|(dim, d)| {
                    let u = mc.sampling.uniform(mc.seed, mc.runs, run, dim, d.param as u64);
                    (d.param, d.dist.quantile(u))
                }));
            }
            JobSpec::Sweep(sweep) => grid_values(&sweep.axes, run, out),
            JobSpec::Sensitivity(sa) => {
                let d = sa.params.len();
                out.extend(
                    sa.params
                        .iter()
                        .enumerate()
                        .map(|(k, pd)| (pd.param, pd.dist.quantile(unit(sa.seed, sa.samples, d, run, k)))),
                );
            }
            JobSpec::Optimize(opt) => opt.search().runs().run_params(run, out),
        }
    }

    /// `(seed, run)`; an optimisation's first generation keys it by the run's sample.
    fn noise_key(&self, run: u64) -> (u64, u64) {
        match self {
            JobSpec::Optimize(opt) => opt.search().runs().noise_key(run),
            _ => (self.seed(), run),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Controller, MeasurementNoise, Plant};
    use crate::sweep::AxisValues;
    use proptest::prelude::*;

    fn mc(params: Vec<ParamDist>, runs: u64, seed: u64) -> MonteCarlo {
        MonteCarlo {
            base: SimConfig::mc_tau(10.0),
            runs,
            seed,
            params,
            sampling: Sampling::Random,
            stop: None,
        }
    }

    fn tau_dist() -> ParamDist {
        let dist = Distribution::TruncatedNormal { mean: 10.0, sd: 2.0, lo: 1.0, hi: f64::INFINITY };
        ParamDist { param: Param::Tau, dist }
    }

    fn kp_dist() -> ParamDist {
        ParamDist { param: Param::Kp, dist: Distribution::Uniform { lo: 1.0, hi: 3.0 } }
    }

    fn tau_of(config: &SimConfig) -> f64 {
        match config.plant {
            Plant::FirstOrder(p) => p.tau,
            Plant::Torricelli(_) => f64::NAN,
        }
    }

    fn sweep(axes: Vec<Axis>) -> Sweep {
        let objective = Objective { metric: Metric::Iae, goal: Goal::Minimize };
        Sweep { base: SimConfig::mc_tau(10.0), axes, objective, seed: 3 }
    }

    #[test]
    fn a_reports_stop_metric_on_a_quantile_keeps_a_waves_worth_of_values() {
        use crate::adaptive::{Statistic, Target};
        let stop = |statistic| Stop {
            metric: Metric::OvershootPct,
            statistic,
            target: Target::Relative(0.01),
            confidence: 0.95,
            batch: 2_000,
        };
        let held = |statistic, runs: u32| {
            let job = JobSpec::MonteCarlo(MonteCarlo {
                stop: Some(stop(statistic)),
                ..mc(vec![tau_dist()], 1_000_000, 1)
            });
            let mut report = job.summary();
            for i in 0..runs {
                let x = f64::from(i);
                report.add(&crate::metric::RunMetrics {
                    overshoot_pct: Some(x),
                    iae: x,
                    ..Default::default()
                });
            }
            job.shrink_report(&mut report, 1_000);
            [Metric::OvershootPct, Metric::Iae].map(|m| report.metric(m).sketch_values())
        };
        // 1,000 chunks: at most 64 values per metric; on a quantile, its metric (a fine
        // sketch) keeps what 2 chunks (a wave) call for, ceil(16 * 1536 / sqrt(2)) -> all 1,000.
        assert_eq!(held(Statistic::Mean, 1_000), [63, 63]);
        assert_eq!(held(Statistic::Quantile(0.95), 1_000), [1_000, 63]);
        // A fine sketch holds every value up to 16,384, then compacts (it is the job's own).
        assert_eq!(held(Statistic::Quantile(0.95), 16_384)[0], 16_384);
        assert!(held(Statistic::Quantile(0.95), 20_000)[0] <= 16_384);
        assert!(held(Statistic::Mean, 2_000)[0] <= 64);
    }

    #[test]
    fn kind_runs_and_base() {
        let job = JobSpec::Dataset(mc(vec![tau_dist()], 42, 1));
        assert_eq!(
            (job.kind(), job.kind_name(), job.runs(), job.seed()),
            (JobKind::Dataset, "dataset", 42, 1)
        );
        assert_eq!(job.base(), &SimConfig::mc_tau(10.0));
        let axes = vec![
            Axis { param: Param::Kp, values: AxisValues::Linspace { start: 1.0, stop: 2.0, num: 5 } },
            Axis { param: Param::Ki, values: AxisValues::List(vec![0.1, 0.2, 0.3]) },
        ];
        let job = JobSpec::Sweep(sweep(axes));
        assert_eq!((job.kind(), job.runs()), (JobKind::Sweep, 15));
        assert_eq!(job.varied_params(), [Param::Kp, Param::Ki]);
    }

    #[test]
    fn kind_names_are_the_spec_spellings_and_round_trip() {
        assert_eq!(
            JobKind::ALL.map(JobKind::name),
            ["monte_carlo", "sweep", "dataset", "sensitivity", "optimize"]
        );
        for kind in JobKind::ALL {
            assert_eq!(JobKind::from_name(kind.name()), Some(kind));
        }
        for other in ["", "single", "Sweep", "monte-carlo"] {
            assert_eq!(JobKind::from_name(other), None, "{other:?}");
        }
    }

    #[test]
    fn adding_a_parameter_keeps_the_first_ones_values() {
        let one = JobSpec::MonteCarlo(mc(vec![tau_dist()], 100, 7));
        let two = JobSpec::MonteCarlo(mc(vec![tau_dist(), kp_dist()], 100, 7));
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let mut distinct = std::collections::BTreeSet::new();
        for run in 0..100 {
            one.run_params(run, &mut a);
            two.run_params(run, &mut b);
            assert_eq!(a.len(), 1);
            assert_eq!(b.len(), 2);
            assert_eq!(a[0], b[0], "run {run}");
            assert_eq!(b[1].0, Param::Kp);
            assert_eq!(tau_of(&one.run_config(run)), a[0].1);
            assert!(a[0].1 >= 1.0);
            distinct.insert(a[0].1.to_bits());
        }
        // The runs really are sampled, not one value repeated.
        assert!(distinct.len() > 90);
    }

    #[test]
    fn structured_sampling_stratifies_each_parameter_through_its_distribution() {
        // 256 runs of kp ~ Uniform(1, 3): every interval of width 2/256 holds exactly one
        // run under Sobol' and Latin hypercube sampling (and not under random draws).
        let hits = |sampling: Sampling| {
            let job = JobSpec::MonteCarlo(MonteCarlo { sampling, ..mc(vec![tau_dist(), kp_dist()], 256, 5) });
            let mut counts = [0u32; 256];
            let mut params = Vec::new();
            for run in 0..256 {
                job.run_params(run, &mut params);
                let kp = params[1].1;
                counts[((kp - 1.0) / 2.0 * 256.0) as usize] += 1;
                let Controller::Pid(pid) = job.run_config(run).controller else { panic!("a PID") };
                assert_eq!(pid.kp, kp, "run {run}");
            }
            counts
        };
        assert!(hits(Sampling::Sobol).iter().all(|c| *c == 1));
        assert!(hits(Sampling::LatinHypercube).iter().all(|c| *c == 1));
        assert!(hits(Sampling::Random).iter().any(|c| *c != 1));
    }

    #[test]
    fn seeds_change_the_samples() {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        JobSpec::MonteCarlo(mc(vec![tau_dist()], 1, 1)).run_params(0, &mut a);
        JobSpec::MonteCarlo(mc(vec![tau_dist()], 1, 2)).run_params(0, &mut b);
        assert_ne!(a, b);
    }

    #[test]
    fn sweep_runs_walk_the_grid_first_axis_slowest() {
        let axes = vec![
            Axis { param: Param::Kp, values: AxisValues::List(vec![1.0, 2.0]) },
            Axis { param: Param::Ki, values: AxisValues::Logspace { start: 0.1, stop: 10.0, num: 3 } },
        ];
        let job = JobSpec::Sweep(sweep(axes));
        let mut p = Vec::new();
        job.run_params(4, &mut p);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0], (Param::Kp, 2.0));
        assert_eq!(p[1].0, Param::Ki);
        assert!((p[1].1 - 1.0).abs() < 1e-12);
        job.run_params(5, &mut p);
        assert_eq!(p, [(Param::Kp, 2.0), (Param::Ki, 10.0)]);
        let crate::config::Controller::Pid(pid) = job.run_config(5).controller else { panic!("pid") };
        assert_eq!((pid.kp, pid.ki), (2.0, 10.0));
    }

    #[test]
    fn noise_seed_is_derived_per_run_and_only_when_noisy() {
        let quiet = JobSpec::MonteCarlo(mc(vec![], 3, 9));
        assert_eq!(quiet.run_config(1).noise, None);
        let mut noisy = mc(vec![], 3, 9);
        noisy.base.noise = Some(MeasurementNoise { sd: 0.1, seed: 0 });
        let job = JobSpec::MonteCarlo(noisy);
        let seeds: Vec<u64> = (0..3).map(|r| job.run_config(r).noise.map_or(0, |n| n.seed)).collect();
        assert_eq!(seeds[1], RunRng::new(9, 1, NOISE_STREAM).next_u64());
        assert!(seeds[0] != seeds[1] && seeds[1] != seeds[2]);
    }

    #[test]
    fn inapplicable_params_are_skipped_not_panicked_on() {
        let noise = ParamDist { param: Param::NoiseSd, dist: Distribution::Fixed(1.0) };
        let job = JobSpec::MonteCarlo(mc(vec![noise, tau_dist()], 2, 1));
        let c = job.run_config(1);
        assert_eq!(c.noise, None);
        assert!(tau_of(&c) >= 1.0 && tau_of(&c) != 10.0);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn reproducible_sampling_under_any_chunking(
            seed in any::<u64>(),
            first in 0u64..1_000_000_000,
            runs in 1u64..200,
            chunk in 1u64..64,
            reverse in any::<bool>(),
            noisy in any::<bool>(),
            grid in prop::option::of((1u32..15, 1u32..15)),
            sampling in prop::sample::select(Sampling::ALL.to_vec()),
        ) {
            let mut spec = mc(vec![tau_dist(), kp_dist()], first + runs, seed);
            spec.sampling = sampling;
            if noisy {
                spec.base.noise = Some(MeasurementNoise { sd: 0.1, seed: 0 });
            }
            let (job, range) = match grid {
                None => (JobSpec::MonteCarlo(spec), first..first + runs),
                Some((a, b)) => {
                    let mut s = sweep(vec![
                        Axis { param: Param::Kp, values: AxisValues::Linspace { start: 0.5, stop: 3.0, num: a } },
                        Axis { param: Param::Tau, values: AxisValues::Logspace { start: 1.0, stop: 50.0, num: b } },
                    ]);
                    s.base = spec.base;
                    s.seed = seed;
                    let job = JobSpec::Sweep(s);
                    let n = job.runs();
                    (job, 0..n)
                }
            };
            let one_by_one: Vec<SimConfig> = range.clone().map(|r| job.run_config(r)).collect();
            let mut starts: Vec<u64> = range.clone().step_by(chunk as usize).collect();
            if reverse {
                starts.reverse();
            }
            let mut chunks = Vec::new();
            let mut out = Vec::new();
            for start in starts {
                job.configs(start..(start + chunk).min(range.end), &mut out);
                chunks.push((start, out.clone()));
            }
            chunks.sort_by_key(|(start, _)| *start);
            let joined: Vec<SimConfig> = chunks.into_iter().flat_map(|(_, c)| c).collect();
            prop_assert_eq!(joined, one_by_one);
        }
    }
}
