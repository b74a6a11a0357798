//! The jobs the soak submits: the examples (mc-tau.yaml, k-tau-sweep.yaml, dataset-100k.yaml)
//! with runs, grid and seed drawn from the seeded PRNG, named `soak-<kind>-<number>`.

use std::ops::RangeInclusive;

use tanksim_e2e::api;
use tanksim_e2e::bench::Rng;
use tanksim_proto::v1::{SubmitJobRequest, axis, submit_job_request};

use crate::KIND_WEIGHTS;

/// Runs of an MC-tau job.
const MC_RUNS: RangeInclusive<u64> = 20_000..=400_000;
/// Points of a sweep's gain axis (linear) and time-constant axis (geometric).
const SWEEP_GAINS: RangeInclusive<u64> = 6..=36;
const SWEEP_TAUS: RangeInclusive<u64> = 10..=40;
/// Runs (rows) of a dataset job.
const DATASET_RUNS: RangeInclusive<u64> = 200..=2_000;
/// Each job's seed.
const SEEDS: RangeInclusive<u64> = 1..=1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    MonteCarlo,
    Sweep,
    Dataset,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::MonteCarlo => "monte_carlo",
            Kind::Sweep => "sweep",
            Kind::Dataset => "dataset",
        }
    }

    /// Whether the job's runs are exported as rows (compared with the reference's too).
    pub(crate) fn has_rows(self) -> bool {
        self != Kind::MonteCarlo
    }
}

/// A job to submit.
#[derive(Debug, Clone)]
pub(crate) struct Generated {
    /// 1 for the first job generated, and so on.
    pub(crate) number: u64,
    pub(crate) kind: Kind,
    pub(crate) runs: u64,
    pub(crate) spec: SubmitJobRequest,
}

/// The seeded sequence of jobs: the examples with runs, grid and seed varied.
pub(crate) struct JobGenerator {
    rng: Rng,
    made: u64,
    mc_tau: SubmitJobRequest,
    sweep: SubmitJobRequest,
    dataset: SubmitJobRequest,
}

impl JobGenerator {
    pub(crate) fn new(rng: Rng) -> Self {
        JobGenerator {
            rng,
            made: 0,
            mc_tau: api::example("mc-tau.yaml"),
            sweep: api::example("k-tau-sweep.yaml"),
            dataset: api::example("dataset-100k.yaml"),
        }
    }

    pub(crate) fn generate(&mut self) -> Generated {
        let kind = self.rng.weighted(&KIND_WEIGHTS);
        let seed = self.rng.within(&SEEDS);
        let (mut spec, runs) = match kind {
            Kind::MonteCarlo => {
                let runs = self.rng.within(&MC_RUNS);
                (monte_carlo(&self.mc_tau, runs, seed), runs)
            }
            Kind::Sweep => {
                let (gains, taus) = (self.rng.within(&SWEEP_GAINS), self.rng.within(&SWEEP_TAUS));
                (sweep(&self.sweep, gains as u32, taus as u32, seed), gains * taus)
            }
            Kind::Dataset => {
                let runs = self.rng.within(&DATASET_RUNS);
                (dataset(&self.dataset, runs, seed), runs)
            }
        };
        self.made += 1;
        spec.name = format!("soak-{}-{}", kind.name(), self.made);
        Generated { number: self.made, kind, runs, spec }
    }
}

/// mc-tau.yaml with `runs` runs and `seed`.
fn monte_carlo(template: &SubmitJobRequest, runs: u64, seed: u64) -> SubmitJobRequest {
    let mut spec = template.clone();
    match &mut spec.job {
        Some(submit_job_request::Job::MonteCarlo(mc)) => (mc.runs, mc.seed) = (runs, seed),
        other => panic!("mc-tau.yaml is not a Monte Carlo job: {other:?}"),
    }
    spec
}

/// k-tau-sweep.yaml over `gains` x `taus` points, with `seed`.
fn sweep(template: &SubmitJobRequest, gains: u32, taus: u32, seed: u64) -> SubmitJobRequest {
    let mut spec = template.clone();
    let sweep = match &mut spec.job {
        Some(submit_job_request::Job::Sweep(sweep)) => sweep,
        other => panic!("k-tau-sweep.yaml is not a sweep: {other:?}"),
    };
    sweep.seed = seed;
    let [gain_axis, tau_axis] = &mut sweep.axes[..] else {
        panic!("k-tau-sweep.yaml does not have two axes");
    };
    let (Some(axis::Values::Linspace(gain)), Some(axis::Values::Logspace(tau))) =
        (&mut gain_axis.values, &mut tau_axis.values)
    else {
        panic!("k-tau-sweep.yaml's axes are not a linspace and a logspace");
    };
    (gain.num, tau.num) = (gains, taus);
    spec
}

/// dataset-100k.yaml with `runs` runs and `seed`.
fn dataset(template: &SubmitJobRequest, runs: u64, seed: u64) -> SubmitJobRequest {
    let mut spec = template.clone();
    match &mut spec.job {
        Some(submit_job_request::Job::Dataset(ds)) => (ds.runs, ds.seed) = (runs, seed),
        other => panic!("dataset-100k.yaml is not a dataset job: {other:?}"),
    }
    spec
}
