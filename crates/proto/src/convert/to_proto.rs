//! Domain to proto: configurations and jobs as requests (for the CLI's printing and for round
//! trips). Converting back gives the same value, with these exceptions (the proto cannot say
//! them, and they mean nothing different):
//! - `Recording::Full` is written as `every = 1` (the same samples) and reads back as
//!   `Recording::Every(1)`; `Recording::Every(0)` (invalid) reads back as `Recording::None`;
//! - a Torricelli plant's `substeps = 0` (invalid) reads back as 1;
//! - a Monte Carlo or sweep job's base recording is not written (jobs ignore
//!   `config.record`); a dataset's is written as `record_every`.
//!
//! Infinite bounds that the proto expresses by absence are written absent: `u_min = -inf`,
//! `u_max = +inf`, `disturbance.end = +inf`, a truncated normal's `lo = -inf` / `hi = +inf`.

use tanksim_sim_core::adaptive::{Stop, Target};
use tanksim_sim_core::config::{AntiWindup, Controller, DerivativeOn, Plant, Profile, Recording, SimConfig};
use tanksim_sim_core::distribution::Distribution;
use tanksim_sim_core::job::{Goal, JobSpec, MonteCarlo, Objective, ParamDist};
use tanksim_sim_core::optimize::Statistic;
use tanksim_sim_core::sampling::Sampling;
use tanksim_sim_core::sweep::{Axis, AxisValues};

use super::metric::metric_to_i32;
use super::params::param_path;
use crate::v1::{self, axis, param_distribution as pd, submit_job_request::Job};

/// `Some(x)` unless `x` is the bound an absent field stands for.
fn unless(x: f64, absent: f64) -> Option<f64> {
    (x != absent).then_some(x)
}

impl From<&SimConfig> for v1::SimConfig {
    fn from(c: &SimConfig) -> Self {
        let every = match c.record {
            Recording::None => None,
            Recording::Every(n) => Some(n),
            Recording::Full => Some(1),
        };
        v1::SimConfig {
            plant: Some(plant(&c.plant)),
            controller: Some(controller(&c.controller)),
            input: Some(profile(&c.input)),
            disturbance: c.disturbance.map(|d| v1::Disturbance {
                magnitude: d.magnitude,
                start: d.start,
                end: unless(d.end, f64::INFINITY),
            }),
            noise: c.noise.map(|n| v1::MeasurementNoise { sd: n.sd, seed: n.seed }),
            dt: c.dt,
            horizon: c.horizon,
            record: every.map(|every| v1::Recording { every }),
            settling_band: Some(c.metrics.settling_band),
        }
    }
}

fn plant(p: &Plant) -> v1::Plant {
    match *p {
        Plant::FirstOrder(p) => v1::Plant {
            kind: v1::PlantKind::FirstOrder as i32,
            gain: p.gain,
            tau: p.tau,
            h0: p.h0,
            ..Default::default()
        },
        Plant::Torricelli(p) => v1::Plant {
            kind: v1::PlantKind::Torricelli as i32,
            h0: p.h0,
            area: p.area,
            outlet: p.outlet,
            max_inflow: p.max_inflow,
            h_max: p.h_max,
            substeps: p.substeps,
            ..Default::default()
        },
    }
}

fn controller(c: &Controller) -> v1::Controller {
    let Controller::Pid(pid) = *c else {
        return v1::Controller { kind: v1::ControllerKind::OpenLoop as i32, ..Default::default() };
    };
    let (anti_windup, back_calculation_gain) = match pid.anti_windup {
        AntiWindup::None => (v1::AntiWindup::None, 0.0),
        AntiWindup::Conditional => (v1::AntiWindup::Conditional, 0.0),
        AntiWindup::BackCalculation { gain } => (v1::AntiWindup::BackCalculation, gain),
    };
    let derivative_on = match pid.derivative_on {
        DerivativeOn::Measurement => v1::DerivativeOn::Measurement,
        DerivativeOn::Error => v1::DerivativeOn::Error,
    };
    v1::Controller {
        kind: v1::ControllerKind::Pid as i32,
        kp: pid.kp,
        ki: pid.ki,
        kd: pid.kd,
        u_min: unless(pid.u_min, f64::NEG_INFINITY),
        u_max: unless(pid.u_max, f64::INFINITY),
        derivative_filter: pid.derivative_filter,
        derivative_on: derivative_on as i32,
        anti_windup: anti_windup as i32,
        back_calculation_gain,
    }
}

fn profile(p: &Profile) -> v1::Profile {
    let kind = |k: v1::ProfileKind| k as i32;
    match *p {
        Profile::Step { initial, value, at } => {
            v1::Profile { kind: kind(v1::ProfileKind::Step), initial, value, at, ..Default::default() }
        }
        Profile::Ramp { from, to, start, end } => v1::Profile {
            kind: kind(v1::ProfileKind::Ramp),
            initial: from,
            value: to,
            at: start,
            end,
            ..Default::default()
        },
        Profile::Sine { offset, amplitude, period, phase } => v1::Profile {
            kind: kind(v1::ProfileKind::Sine),
            value: offset,
            amplitude,
            period,
            phase,
            ..Default::default()
        },
        Profile::Schedule(ref points) => v1::Profile {
            kind: kind(v1::ProfileKind::Schedule),
            points: points.iter().map(|p| v1::SchedulePoint { at: p.at, value: p.value }).collect(),
            ..Default::default()
        },
    }
}

/// A job's sampling as the API spells it (random explicitly, not unset).
fn sampling(sampling: Sampling) -> i32 {
    match sampling {
        Sampling::Random => v1::Sampling::Random as i32,
        Sampling::Sobol => v1::Sampling::Sobol as i32,
        Sampling::LatinHypercube => v1::Sampling::LatinHypercube as i32,
    }
}

fn stop(stop: &Stop) -> v1::MonteCarloStop {
    use v1::monte_carlo_stop::Target as Member;
    v1::MonteCarloStop {
        metric: metric_to_i32(stop.metric),
        target: Some(match stop.target {
            Target::Absolute(h) => Member::HalfWidth(h),
            Target::Relative(r) => Member::RelativeHalfWidth(r),
        }),
        confidence_level: stop.confidence,
        batch_runs: stop.batch,
        quantile: stop.statistic.quantile().unwrap_or(0.0),
    }
}

/// The request for a job (with an empty `name`).
impl From<&JobSpec> for v1::SubmitJobRequest {
    fn from(job: &JobSpec) -> Self {
        let params = |mc: &MonteCarlo| mc.params.iter().map(param_distribution).collect();
        let mut config = v1::SimConfig::from(job.base());
        config.record = None;
        let job = match job {
            JobSpec::MonteCarlo(mc) => Job::MonteCarlo(v1::MonteCarlo {
                runs: mc.runs,
                seed: mc.seed,
                params: params(mc),
                sampling: sampling(mc.sampling),
                stop: mc.stop.as_ref().map(stop),
            }),
            JobSpec::Dataset(ds) => Job::Dataset(v1::Dataset {
                runs: ds.runs,
                seed: ds.seed,
                params: params(ds),
                sampling: sampling(ds.sampling),
                record_every: match ds.base.record {
                    Recording::None => 0,
                    Recording::Every(n) => n,
                    Recording::Full => 1,
                },
            }),
            JobSpec::Sweep(s) => Job::Sweep(v1::Sweep {
                axes: s.axes.iter().map(axis).collect(),
                objective: Some(objective_to_proto(s.objective)),
                seed: s.seed,
            }),
            JobSpec::Optimize(o) => Job::Optimize(v1::Optimize {
                params: o
                    .params
                    .iter()
                    .map(|b| v1::Bound {
                        param: param_path(b.param).to_owned(),
                        lo: b.lo,
                        hi: b.hi,
                        start: Some(b.start),
                    })
                    .collect(),
                objective: Some(objective_to_proto(o.objective)),
                population: o.population,
                max_generations: o.generations,
                seed: o.seed,
                x_tolerance: o.x_tolerance,
                initial_step: o.initial_step,
                robust: o.robust.as_ref().map(|r| v1::OptimizeRobust {
                    params: r.params.iter().map(param_distribution).collect(),
                    runs: r.runs,
                    quantile: match r.statistic {
                        Statistic::Mean => None,
                        Statistic::Quantile(q) => Some(q),
                    },
                    sampling: sampling(r.sampling),
                }),
            }),
            JobSpec::Sensitivity(sa) => Job::Sensitivity(v1::Sensitivity {
                samples: sa.samples,
                seed: sa.seed,
                params: sa.params.iter().map(param_distribution).collect(),
                metrics: sa.metrics.iter().map(|m| metric_to_i32(*m)).collect(),
                bootstrap_resamples: sa.resamples,
                confidence_level: sa.confidence,
            }),
        };
        v1::SubmitJobRequest { name: String::new(), config: Some(config), job: Some(job) }
    }
}

/// A sweep's or an optimisation's objective as the API spells it.
pub fn objective_to_proto(o: Objective) -> v1::Objective {
    v1::Objective {
        metric: metric_to_i32(o.metric),
        goal: match o.goal {
            Goal::Minimize => v1::Goal::Minimize as i32,
            Goal::Maximize => v1::Goal::Maximize as i32,
        },
    }
}

fn param_distribution(p: &ParamDist) -> v1::ParamDistribution {
    let d = match p.dist {
        Distribution::Fixed(v) => pd::Distribution::Fixed(v),
        Distribution::Uniform { lo, hi } => pd::Distribution::Uniform(v1::Uniform { lo, hi }),
        Distribution::Normal { mean, sd } => pd::Distribution::Normal(v1::Normal { mean, sd }),
        Distribution::TruncatedNormal { mean, sd, lo, hi } => {
            pd::Distribution::TruncatedNormal(v1::TruncatedNormal {
                mean,
                sd,
                lo: unless(lo, f64::NEG_INFINITY),
                hi: unless(hi, f64::INFINITY),
            })
        }
        Distribution::LogNormal { mu, sigma } => pd::Distribution::LogNormal(v1::LogNormal { mu, sigma }),
        Distribution::Triangular { lo, mode, hi } => {
            pd::Distribution::Triangular(v1::Triangular { lo, mode, hi })
        }
        Distribution::Choice { ref values, ref weights } => {
            pd::Distribution::Choice(v1::Choice { values: values.clone(), weights: weights.clone() })
        }
    };
    v1::ParamDistribution { param: param_path(p.param).to_owned(), distribution: Some(d) }
}

fn axis(a: &Axis) -> v1::Axis {
    let values = match a.values {
        AxisValues::List(ref values) => axis::Values::List(v1::ValueList { values: values.clone() }),
        AxisValues::Linspace { start, stop, num } => {
            axis::Values::Linspace(v1::Linspace { start, stop, num })
        }
        AxisValues::Logspace { start, stop, num } => {
            axis::Values::Logspace(v1::Logspace { start, stop, num })
        }
    };
    v1::Axis { param: param_path(a.param).to_owned(), values: Some(values) }
}
