//! `SubmitJobRequest` to sim-core's [`JobSpec`], checked: structural errors from the
//! conversion, value errors from sim-core's `validate_job` with their paths rewritten to the
//! request's (`monte_carlo.params[0].sd` -> `monte_carlo.params[0].truncated_normal.sd`,
//! `plant.tau` -> `config.plant.tau`).
//!
//! Recording: a job's runs record what the job asks for, not `config.record` (which only
//! `Simulate` reads, as the proto says): a dataset's base configuration records every
//! `record_every`-th sample (none for 0), Monte Carlo and sweep runs record nothing.

use tanksim_sim_core::adaptive::{Stop, Target};
use tanksim_sim_core::config::Recording;
use tanksim_sim_core::job::{JobKind, JobSpec, MonteCarlo, ParamDist, Sensitivity, Sweep};
use tanksim_sim_core::optimize::{Bound, Optimize, Robust, Statistic};
use tanksim_sim_core::sampling::Sampling;
use tanksim_sim_core::validate::{Limits, validate_job};

use super::bounds::{MAX_NAME_BYTES, too_long};
use super::config::{read_config, request_path};
use super::metric::metric_from_i32;
use super::params::{
    axis_member, distribution_member, read_axis, read_distribution, read_objective, read_param,
};
use super::violation::{FieldViolation, Violations, not_one_of};
use crate::v1::{self, submit_job_request::Job};

/// A job that converted and passed sim-core's validation: what services may dispatch.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidJob(JobSpec);

impl ValidJob {
    pub fn spec(&self) -> &JobSpec {
        &self.0
    }

    pub fn into_spec(self) -> JobSpec {
        self.0
    }
}

/// Converts a job without checking its values (structural checks only; request paths).
impl TryFrom<&v1::SubmitJobRequest> for JobSpec {
    type Error = Vec<FieldViolation>;

    fn try_from(request: &v1::SubmitJobRequest) -> Result<Self, Self::Error> {
        let mut found = Violations::default();
        let spec = read_job(request, &mut found);
        found.into_result(spec)
    }
}

/// Converts a job and validates it against `limits` (and the name's length, see
/// [`MAX_NAME_BYTES`]). Every violation names a field of the request by its snake_case proto
/// path (`name`, `config.plant.tau`, `monte_carlo.runs`,
/// `sweep.axes[1].linspace.stop`, `dataset.record_every`); at most
/// [`MAX_VIOLATIONS`](super::MAX_VIOLATIONS) are reported (plus one saying how many more).
/// Never panics, whatever the numbers.
pub fn job_spec_from_request(
    request: &v1::SubmitJobRequest,
    limits: &Limits,
) -> Result<ValidJob, Vec<FieldViolation>> {
    let mut found = Violations::default();
    // A bound on what is accepted, not on what decodes: a stored spec (read back by workers
    // and the results service with `decode_stored_spec`) is never refused for its name.
    found.extend(too_long("name", &request.name, MAX_NAME_BYTES));
    let spec = match JobSpec::try_from(request) {
        Ok(spec) => spec,
        Err(structural) => {
            found.extend(structural);
            return found.into_result(None);
        }
    };
    let Err(e) = validate_job(&spec, limits) else {
        return found.into_result(Some(ValidJob(spec)));
    };
    found.extend(e.into_violations().into_iter().map(|v| FieldViolation {
        // The conversion succeeded, so the job is set.
        field: request.job.as_ref().map_or_else(|| v.field.clone(), |job| job_request_path(job, &v.field)),
        reason: v.reason,
    }));
    found.into_result(None)
}

fn read_job(request: &v1::SubmitJobRequest, found: &mut Violations) -> Option<JobSpec> {
    let base = match &request.config {
        Some(config) => read_config(config, "config.", found),
        None => {
            found.push("config", "required");
            None
        }
    };
    let Some(job) = &request.job else {
        let kinds: Vec<&str> = JobKind::ALL.into_iter().map(JobKind::name).collect();
        found.push("job", format!("required: one of {}", kinds.join(", ")));
        return None;
    };
    match job {
        Job::MonteCarlo(mc) => {
            let params = read_params("monte_carlo", &mc.params, found);
            let sampling = read_sampling("monte_carlo", mc.sampling, found);
            let mut base = base?;
            base.record = Recording::None;
            let stop = match &mc.stop {
                Some(stop) => Some(Some(read_stop(stop, found)?)),
                None => Some(None),
            };
            let (params, sampling, stop) = (params?, sampling?, stop?);
            Some(JobSpec::MonteCarlo(MonteCarlo {
                base,
                runs: mc.runs,
                seed: mc.seed,
                params,
                sampling,
                stop,
            }))
        }
        Job::Dataset(ds) => {
            let params = read_params("dataset", &ds.params, found);
            let sampling = read_sampling("dataset", ds.sampling, found);
            let mut base = base?;
            base.record = match ds.record_every {
                0 => Recording::None,
                n => Recording::Every(n),
            };
            let (params, sampling) = (params?, sampling?);
            Some(JobSpec::Dataset(MonteCarlo {
                base,
                runs: ds.runs,
                seed: ds.seed,
                params,
                sampling,
                stop: None,
            }))
        }
        Job::Sweep(sweep) => {
            let mut axes = Some(Vec::with_capacity(sweep.axes.len().min(64)));
            for (i, a) in sweep.axes.iter().enumerate() {
                let axis = read_axis(a, &format!("sweep.axes[{i}]"), found);
                axes = axes.zip(axis).map(|(mut all, axis)| {
                    all.push(axis);
                    all
                });
            }
            let objective = read_objective("sweep.objective", sweep.objective.as_ref(), found);
            let mut base = base?;
            base.record = Recording::None;
            Some(JobSpec::Sweep(Sweep { base, axes: axes?, objective: objective?, seed: sweep.seed }))
        }
        Job::Sensitivity(sa) => {
            let params = read_params("sensitivity", &sa.params, found);
            let metrics = read_metrics("sensitivity.metrics", &sa.metrics, found);
            let mut base = base?;
            base.record = Recording::None;
            Some(JobSpec::Sensitivity(Sensitivity {
                base,
                samples: sa.samples,
                seed: sa.seed,
                params: params?,
                metrics: metrics?,
                resamples: match sa.bootstrap_resamples {
                    0 => Sensitivity::DEFAULT_RESAMPLES,
                    n => n,
                },
                confidence: if sa.confidence_level == 0.0 {
                    Sensitivity::DEFAULT_CONFIDENCE
                } else {
                    sa.confidence_level
                },
            }))
        }
        Job::Optimize(opt) => {
            let bounds = read_bounds(&opt.params, found);
            let objective = read_objective("optimize.objective", opt.objective.as_ref(), found);
            let robust = match &opt.robust {
                Some(r) => {
                    let params = read_params("optimize.robust", &r.params, found);
                    let sampling = read_sampling("optimize.robust", r.sampling, found);
                    let statistic = r.quantile.map_or(Statistic::Mean, Statistic::Quantile);
                    params
                        .zip(sampling)
                        .map(|(params, sampling)| Some(Robust { params, runs: r.runs, statistic, sampling }))
                }
                None => Some(None),
            };
            let mut base = base?;
            base.record = Recording::None;
            let params = bounds?;
            Some(JobSpec::Optimize(Optimize {
                base,
                population: match opt.population {
                    0 => Optimize::default_population(params.len()),
                    n => n,
                },
                params,
                objective: objective?,
                generations: match opt.max_generations {
                    0 => Optimize::DEFAULT_GENERATIONS,
                    n => n,
                },
                seed: opt.seed,
                x_tolerance: if opt.x_tolerance == 0.0 {
                    Optimize::DEFAULT_X_TOLERANCE
                } else {
                    opt.x_tolerance
                },
                initial_step: if opt.initial_step == 0.0 {
                    Optimize::DEFAULT_INITIAL_STEP
                } else {
                    opt.initial_step
                },
                robust: robust?,
            }))
        }
    }
}

/// Every entry of an optimisation's `params` (all checked, even after a bad one); a bound
/// without a start starts in its middle.
fn read_bounds(bounds: &[v1::Bound], found: &mut Violations) -> Option<Vec<Bound>> {
    let mut out = Some(Vec::with_capacity(bounds.len().min(64)));
    for (i, b) in bounds.iter().enumerate() {
        let param = read_param(&b.param, format!("optimize.params[{i}].param"), found);
        let start = b.start.unwrap_or(0.5 * b.lo + 0.5 * b.hi);
        out = out.zip(param).map(|(mut all, param)| {
            all.push(Bound { param, lo: b.lo, hi: b.hi, start });
            all
        });
    }
    out
}

/// Every entry of a list of metrics (all checked, even after a bad one).
fn read_metrics(
    field: &str,
    values: &[i32],
    found: &mut Violations,
) -> Option<Vec<tanksim_sim_core::Metric>> {
    let mut out = Some(Vec::with_capacity(values.len().min(64)));
    for (i, &value) in values.iter().enumerate() {
        let metric = metric_from_i32(value);
        if metric.is_none() {
            let names: Vec<&str> = tanksim_sim_core::Metric::ALL.into_iter().map(|m| m.name()).collect();
            found.push(format!("{field}[{i}]"), not_one_of(value, &names));
        }
        out = out.zip(metric).map(|(mut all, metric)| {
            all.push(metric);
            all
        });
    }
    out
}

/// A Monte Carlo job's `stop` (its numbers are checked by validation).
fn read_stop(stop: &v1::MonteCarloStop, found: &mut Violations) -> Option<Stop> {
    let metric = metric_from_i32(stop.metric);
    if metric.is_none() {
        let names: Vec<&str> = tanksim_sim_core::Metric::ALL.into_iter().map(|m| m.name()).collect();
        found.push("monte_carlo.stop.metric", not_one_of(stop.metric, &names));
    }
    let target = match stop.target {
        Some(v1::monte_carlo_stop::Target::HalfWidth(h)) => Some(Target::Absolute(h)),
        Some(v1::monte_carlo_stop::Target::RelativeHalfWidth(r)) => Some(Target::Relative(r)),
        None => {
            found.push("monte_carlo.stop.target", "required: one of half_width, relative_half_width");
            None
        }
    };
    Some(Stop {
        metric: metric?,
        // 0 is the mean; anything else a quantile, which validation checks is in (0, 1).
        statistic: if stop.quantile == 0.0 { Statistic::Mean } else { Statistic::Quantile(stop.quantile) },
        target: target?,
        confidence: if stop.confidence_level == 0.0 {
            Stop::DEFAULT_CONFIDENCE
        } else {
            stop.confidence_level
        },
        batch: match stop.batch_runs {
            0 => Stop::DEFAULT_BATCH,
            n => n,
        },
    })
}

/// A Monte Carlo or dataset job's `sampling` (unset: random).
fn read_sampling(kind: &str, value: i32, found: &mut Violations) -> Option<Sampling> {
    match v1::Sampling::try_from(value) {
        Ok(v1::Sampling::Unspecified | v1::Sampling::Random) => Some(Sampling::Random),
        Ok(v1::Sampling::Sobol) => Some(Sampling::Sobol),
        Ok(v1::Sampling::LatinHypercube) => Some(Sampling::LatinHypercube),
        Err(_) => {
            let names: Vec<&str> = Sampling::ALL.into_iter().map(Sampling::name).collect();
            found.push(format!("{kind}.sampling"), not_one_of(value, &names));
            None
        }
    }
}

/// Every entry of a Monte Carlo or dataset `params` list (all checked, even after a bad one).
fn read_params(
    kind: &str,
    params: &[v1::ParamDistribution],
    found: &mut Violations,
) -> Option<Vec<ParamDist>> {
    let mut out = Some(Vec::with_capacity(params.len().min(64)));
    for (i, p) in params.iter().enumerate() {
        let entry = format!("{kind}.params[{i}]");
        let param = read_param(&p.param, format!("{entry}.param"), found);
        let dist = read_distribution(p, &entry, found);
        out = match (out, param, dist) {
            (Some(mut all), Some(param), Some(dist)) => {
                all.push(ParamDist { param, dist });
                Some(all)
            }
            _ => None,
        };
    }
    out
}

/// The kind of job a request's `job` member asks for (named, like the member, by
/// [`JobKind::name`]).
pub fn job_kind(job: &Job) -> JobKind {
    match job {
        Job::MonteCarlo(_) => JobKind::MonteCarlo,
        Job::Sweep(_) => JobKind::Sweep,
        Job::Dataset(_) => JobKind::Dataset,
        Job::Sensitivity(_) => JobKind::Sensitivity,
        Job::Optimize(_) => JobKind::Optimize,
    }
}

/// The request path of a path sim-core's job validation reports for `job`.
fn job_request_path(job: &Job, core: &str) -> String {
    let kind = job_kind(job).name();
    if let Some(rest) = core.strip_prefix(kind).and_then(|r| r.strip_prefix('.')) {
        return entry_path(job, kind, rest);
    }
    match (job, core) {
        // Only a dataset's runs record, through the dataset's own field.
        (Job::Dataset(_), "record.every") => "dataset.record_every".to_owned(),
        _ => request_path(core, "config."),
    }
}

/// `rest` is a job path after `<kind>.`: entries of `params` / `axes` gain the oneof member
/// their values are set through (`params[0].sd` -> `params[0].normal.sd`; a fixed value's
/// `params[0].value` is `params[0].fixed`); every other path is already the request's.
fn entry_path(job: &Job, kind: &str, rest: &str) -> String {
    let keep = || format!("{kind}.{rest}");
    if let Job::Optimize(opt) = job {
        // The bounds' paths are the request's; the uncertain parameters' gain their member.
        let robust = Job::MonteCarlo(v1::MonteCarlo {
            params: opt.robust.as_ref().map(|r| r.params.clone()).unwrap_or_default(),
            ..Default::default()
        });
        return match rest.strip_prefix("robust.") {
            Some(inner) => entry_path(&robust, "optimize.robust", inner),
            None => keep(),
        };
    }
    let list = if matches!(job, Job::Sweep(_)) { "axes" } else { "params" };
    let Some((index, tail)) =
        rest.strip_prefix(list).and_then(|r| r.strip_prefix('[')).and_then(|r| r.split_once(']'))
    else {
        return keep();
    };
    let Ok(i) = index.parse::<usize>() else { return keep() };
    let member = match job {
        Job::MonteCarlo(mc) => {
            mc.params.get(i).and_then(|p| p.distribution.as_ref()).map(distribution_member)
        }
        Job::Dataset(ds) => ds.params.get(i).and_then(|p| p.distribution.as_ref()).map(distribution_member),
        Job::Sensitivity(sa) => {
            sa.params.get(i).and_then(|p| p.distribution.as_ref()).map(distribution_member)
        }
        Job::Sweep(s) => s.axes.get(i).and_then(|a| a.values.as_ref()).map(axis_member),
        Job::Optimize(_) => None,
    };
    match (member, tail) {
        (None, _) | (_, "" | ".param") => keep(),
        (Some("fixed"), ".value") => format!("{kind}.{list}[{i}].fixed"),
        (Some(member), tail) => format!("{kind}.{list}[{i}].{member}{tail}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v1::{axis, param_distribution as pd};

    fn mc(dist: pd::Distribution) -> Job {
        let param = v1::ParamDistribution { param: "plant.tau".into(), distribution: Some(dist) };
        Job::MonteCarlo(v1::MonteCarlo { runs: 1, seed: 0, params: vec![param], ..Default::default() })
    }

    #[test]
    fn each_member_is_its_kind() {
        let jobs = [
            Job::MonteCarlo(v1::MonteCarlo::default()),
            Job::Sweep(v1::Sweep::default()),
            Job::Dataset(v1::Dataset::default()),
            Job::Sensitivity(v1::Sensitivity::default()),
            Job::Optimize(v1::Optimize::default()),
        ];
        assert_eq!(jobs.each_ref().map(job_kind), JobKind::ALL);
    }

    #[test]
    fn core_paths_become_request_paths() {
        let normal = mc(pd::Distribution::Normal(v1::Normal { mean: 1.0, sd: -1.0 }));
        let cases = [
            ("monte_carlo.params[0].sd", "monte_carlo.params[0].normal.sd"),
            ("monte_carlo.params[0]", "monte_carlo.params[0]"),
            ("monte_carlo.params[0].param", "monte_carlo.params[0].param"),
            ("monte_carlo.params[7].sd", "monte_carlo.params[7].sd"),
            ("monte_carlo.runs", "monte_carlo.runs"),
            ("plant.tau", "config.plant.tau"),
            ("metrics.settling_band", "config.settling_band"),
            ("record.every", "config.record.every"),
            ("input.points[2].at", "config.input.points[2].at"),
        ];
        for (core, request) in cases {
            assert_eq!(job_request_path(&normal, core), request);
        }
        let fixed = mc(pd::Distribution::Fixed(f64::NAN));
        assert_eq!(job_request_path(&fixed, "monte_carlo.params[0].value"), "monte_carlo.params[0].fixed");
        let list = v1::Axis {
            param: "controller.kp".into(),
            values: Some(axis::Values::List(v1::ValueList::default())),
        };
        let lin = v1::Axis { values: Some(axis::Values::Linspace(v1::Linspace::default())), ..list.clone() };
        let sweep = Job::Sweep(v1::Sweep { axes: vec![list, lin], objective: None, seed: 0 });
        assert_eq!(job_request_path(&sweep, "sweep.axes[0].values[2]"), "sweep.axes[0].list.values[2]");
        assert_eq!(job_request_path(&sweep, "sweep.axes[1].stop"), "sweep.axes[1].linspace.stop");
        assert_eq!(job_request_path(&sweep, "sweep.axes"), "sweep.axes");
        assert_eq!(job_request_path(&sweep, "sweep.objective"), "sweep.objective");
        let dataset = Job::Dataset(v1::Dataset::default());
        assert_eq!(job_request_path(&dataset, "record.every"), "dataset.record_every");
    }
}
