//! The rules of a job's own fields: run counts, varied parameters (each once, applicable to
//! the base, over a range inside its domain), sweep axes and grid size, the objective.

use super::config_rules::{Source, Sources};
use super::domain::{Domain, Span};
use super::{Limits, Violations};
use crate::adaptive::{MIN_BATCH as MIN_STOP_BATCH, Statistic, Stop, Target};
use crate::config::{Controller, Plant, SimConfig};
use crate::distribution::Distribution;
use crate::job::{JobKind, JobSpec, MonteCarlo, ParamDist, Sensitivity, Sweep};
use crate::metric::Metric;
use crate::param::Param;
use crate::sampling::{MAX_SOBOL_DIMENSIONS, MAX_STRUCTURED_RUNS, Sampling};
use crate::sensitivity::{self as sa, MAX_BOOTSTRAP_RESAMPLES, design_runs};
use crate::sweep::{AxisValues, grid_len};

/// Checks the job's fields; the range of each varied parameter, for the configuration rules.
pub(super) fn check(job: &JobSpec, limits: &Limits, found: &mut Violations) -> Sources {
    let mut sources = Sources::fixed();
    match job {
        JobSpec::MonteCarlo(mc) | JobSpec::Dataset(mc) => {
            monte_carlo(job.kind_name(), mc, limits, &mut sources, found)
        }
        JobSpec::Sweep(sweep) => self::sweep(sweep, limits, &mut sources, found),
        JobSpec::Sensitivity(s) => sensitivity(s, limits, &mut sources, found),
        JobSpec::Optimize(opt) => super::optimize_rules::check(opt, limits, &mut sources, found),
    }
    sources
}

// Every parameter varies at most once, so a job has a Sobol' dimension for each, and a
// sensitivity job two (its A and B matrices).
const _: () = assert!(Param::ALL.len() <= MAX_SOBOL_DIMENSIONS);
const _: () = assert!(Param::ALL.len() <= sa::MAX_PARAMS);

fn monte_carlo(kind: &str, mc: &MonteCarlo, limits: &Limits, sources: &mut Sources, found: &mut Violations) {
    if mc.runs == 0 || mc.runs > limits.max_runs {
        found.push(format!("{kind}.runs"), format!("must be in 1..={}, got {}", limits.max_runs, mc.runs));
    }
    if mc.sampling != Sampling::Random && mc.runs > MAX_STRUCTURED_RUNS {
        found.push(
            format!("{kind}.sampling"),
            format!(
                "{} sampling covers at most {MAX_STRUCTURED_RUNS} runs, got {}",
                mc.sampling.name(),
                mc.runs
            ),
        );
    }
    params(kind, &mc.params, &mc.base, sources, found);
    if let Some(stop) = &mc.stop {
        stop_rule(kind, stop, mc, found);
    }
}

/// An adaptive Monte Carlo job's stopping rule ([`crate::adaptive`]).
fn stop_rule(kind: &str, stop: &Stop, mc: &MonteCarlo, found: &mut Violations) {
    let field = |name: &str| format!("{kind}.stop.{name}");
    if kind != JobKind::MonteCarlo.name() {
        found.push(format!("{kind}.stop"), "only Monte Carlo jobs stop early");
    }
    match stop.target {
        Target::Absolute(h) if !(h.is_finite() && h > 0.0) => {
            found.push(field("half_width"), format!("must be a finite number > 0, got {h}"))
        }
        Target::Relative(r) if !(r.is_finite() && r > 0.0) => {
            found.push(field("relative_half_width"), format!("must be a finite number > 0, got {r}"))
        }
        Target::Absolute(_) | Target::Relative(_) => {}
    }
    if let Statistic::Quantile(q) = stop.statistic
        && !(q > 0.0 && q < 1.0)
    {
        found.push(field("quantile"), format!("must be in (0, 1) (0 or unset: the mean), got {q}"));
    }
    let c = stop.confidence;
    if !(c > 0.0 && c < 1.0) {
        found.push(field("confidence_level"), format!("must be in (0, 1), got {c}"));
    }
    if stop.batch < MIN_STOP_BATCH || stop.batch > mc.runs.max(MIN_STOP_BATCH) {
        let reason = format!("must be in {MIN_STOP_BATCH}..=runs ({}), got {}", mc.runs, stop.batch);
        found.push(field("batch_runs"), reason);
    }
    if mc.sampling != Sampling::Random {
        let reason = format!(
            "a stop rule needs random sampling (its interval assumes independent runs), got {}",
            mc.sampling.name()
        );
        found.push(format!("{kind}.sampling"), reason);
    }
}

fn sensitivity(s: &Sensitivity, limits: &Limits, sources: &mut Sources, found: &mut Violations) {
    let d = s.params.len();
    match design_runs(s.samples, d) {
        _ if s.samples < 2 => {
            found.push("sensitivity.samples", format!("must be at least 2, got {}", s.samples))
        }
        Some(runs) if runs <= limits.max_runs && s.samples <= MAX_STRUCTURED_RUNS => {
            let values = runs.saturating_mul(s.metrics.len() as u64);
            if values > sa::MAX_VALUES {
                let reason = format!(
                    "{runs} runs x {} metrics = {values} values, more than the {} a sensitivity job's indices are computed from",
                    s.metrics.len(),
                    sa::MAX_VALUES
                );
                found.push("sensitivity.samples", reason);
            }
        }
        runs => {
            let runs = runs.map_or_else(|| "more than 2^64".to_owned(), |r| r.to_string());
            let reason = format!(
                "{} samples x ({d} params + 2) = {runs} runs, more than the limit of {} runs",
                s.samples,
                limits.max_runs.min(MAX_STRUCTURED_RUNS)
            );
            found.push("sensitivity.samples", reason);
        }
    }
    if s.params.is_empty() {
        found.push("sensitivity.params", "a sensitivity job needs at least one parameter");
    }
    params("sensitivity", &s.params, &s.base, sources, found);
    if s.metrics.is_empty() {
        found.push("sensitivity.metrics", "a sensitivity job needs at least one metric");
    }
    for (i, metric) in s.metrics.iter().enumerate() {
        if let Some(j) = s.metrics[..i].iter().position(|m| m == metric) {
            found.push(
                format!("sensitivity.metrics[{i}]"),
                format!("{} is already listed as metrics[{j}]", metric.name()),
            );
        }
    }
    if s.resamples > MAX_BOOTSTRAP_RESAMPLES {
        let reason = format!("must be at most {MAX_BOOTSTRAP_RESAMPLES}, got {}", s.resamples);
        found.push("sensitivity.bootstrap_resamples", reason);
    }
    if !(s.confidence > 0.0 && s.confidence < 1.0) {
        found.push("sensitivity.confidence_level", format!("must be in (0, 1), got {}", s.confidence));
    }
}

/// Each entry of a Monte Carlo, dataset or sensitivity `params` list: varies one parameter
/// once, over a valid distribution whose support is inside the parameter's domain.
pub(super) fn params(
    kind: &str,
    list: &[ParamDist],
    base: &SimConfig,
    sources: &mut Sources,
    found: &mut Violations,
) {
    let mut first = [None; Param::ALL.len()];
    for (i, pd) in list.iter().enumerate() {
        let entry = format!("{kind}.params[{i}]");
        if !varies_once(pd.param, ("params", i), &mut first, base, &entry, found) {
            sources.set(pd.param, Source::Unknown);
            continue;
        }
        if let Err(e) = pd.dist.check() {
            found.push(format!("{entry}.{}", e.field), e.reason);
            sources.set(pd.param, Source::Unknown);
            continue;
        }
        let span = Span::support(pd.dist.support());
        let domain = Domain::of(pd.param, &base.plant);
        if domain.admits(span) {
            sources.set(pd.param, Source::Varied { span, field: entry });
        } else {
            let hint = if matches!(pd.dist, Distribution::Normal { .. }) {
                domain.truncation_hint(span)
            } else {
                String::new()
            };
            let reason = format!(
                "{} must be {} but a {} distribution can sample {}{hint}",
                pd.param.path(),
                domain.describe(),
                pd.dist.name(),
                span.describe(),
            );
            found.push(entry, reason);
            sources.set(pd.param, Source::Unknown);
        }
    }
}

fn sweep(sweep: &Sweep, limits: &Limits, sources: &mut Sources, found: &mut Violations) {
    if sweep.axes.is_empty() {
        found.push("sweep.axes", "a sweep needs at least one axis");
    }
    let mut first = [None; Param::ALL.len()];
    for (i, axis) in sweep.axes.iter().enumerate() {
        let entry = format!("sweep.axes[{i}]");
        if !varies_once(axis.param, ("axes", i), &mut first, &sweep.base, &entry, found) {
            sources.set(axis.param, Source::Unknown);
            continue;
        }
        let domain = Domain::of(axis.param, &sweep.base.plant);
        let source = match axis_span(axis.param, &axis.values, domain, &entry, found) {
            Some(span) => Source::Varied { span, field: entry },
            None => Source::Unknown,
        };
        sources.set(axis.param, source);
    }
    if sweep.axes.iter().all(|a| !a.values.is_empty()) {
        match grid_len(&sweep.axes) {
            None => found.push("sweep.axes", "the grid has more points than a 64-bit run index can count"),
            Some(n) if n > limits.max_runs => {
                let sizes: Vec<String> = sweep.axes.iter().map(|a| a.values.len().to_string()).collect();
                let reason = format!(
                    "the grid has {} = {n} points, more than the limit of {} runs",
                    sizes.join(" x "),
                    limits.max_runs
                );
                found.push("sweep.axes", reason);
            }
            Some(_) => {}
        }
    }
    objective("sweep.objective", sweep.objective.metric, &sweep.base, found);
}

/// Refuses objectives (`field`) that are the same for every run by construction, so "the
/// best point" would be an arbitrary one.
pub(super) fn objective(field: &str, metric: Metric, base: &SimConfig, found: &mut Violations) {
    let constant = match (metric, &base.plant, &base.controller) {
        (Metric::Overflow, Plant::FirstOrder(_), _) => Some("a first-order tank never overflows"),
        (Metric::SaturatedFraction, _, Controller::OpenLoop) => Some("an open-loop run never saturates"),
        _ => None,
    };
    if let Some(why) = constant {
        found.push(field, format!("{} is 0 in every run: {why}", metric.name()));
    }
}

/// Which entry of a job's `params` or `axes` list first varies each parameter.
pub(super) type FirstEntry = [Option<usize>; Param::ALL.len()];

/// Checks that entry `i` of a `params` or `axes` list varies a parameter no earlier entry
/// does, and one `base` has. False when it does not.
pub(super) fn varies_once(
    param: Param,
    (list, i): (&str, usize),
    first: &mut FirstEntry,
    base: &SimConfig,
    entry: &str,
    found: &mut Violations,
) -> bool {
    if let Some(j) = first[param as usize] {
        found.push(format!("{entry}.param"), format!("{} is already varied by {list}[{j}]", param.path()));
        return false;
    }
    first[param as usize] = Some(i);
    if let Err(e) = param.apply(&mut base.clone(), 0.0) {
        found.push(format!("{entry}.param"), format!("{} cannot be varied here: {}", param.path(), e.reason));
        return false;
    }
    true
}

/// Checks an axis's values (each inside `domain`); the range they cover when all are valid.
fn axis_span(
    param: Param,
    values: &AxisValues,
    domain: Domain,
    entry: &str,
    found: &mut Violations,
) -> Option<Span> {
    let path = param.path();
    match *values {
        AxisValues::List(ref list) => {
            if list.is_empty() {
                found.push(format!("{entry}.values"), "must list at least one value");
                return None;
            }
            let mut ok = true;
            for (j, &x) in list.iter().enumerate() {
                if let Some(reason) = domain.violation(x) {
                    found.push(format!("{entry}.values[{j}]"), format!("{path} {reason}"));
                    ok = false;
                }
            }
            let lo = list.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = list.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            ok.then(|| Span::closed(lo, hi))
        }
        AxisValues::Linspace { start, stop, num } | AxisValues::Logspace { start, stop, num } => {
            let log = matches!(values, AxisValues::Logspace { .. });
            let mut ok = true;
            if num == 0 {
                found.push(format!("{entry}.num"), "must be >= 1, got 0");
                ok = false;
            }
            for (end, x) in [("start", start), ("stop", stop)] {
                // Spaced axes need finite ends (interpolating an infinity gives nothing
                // useful) and positive ones for a logarithmic spacing, whatever the domain.
                let own = if log { Domain::POSITIVE } else { Domain::FINITE };
                let reason = match own.violation(x) {
                    Some(reason) if log => Some(format!("logspace ends {reason}")),
                    Some(reason) => Some(reason),
                    None => domain.violation(x).map(|reason| format!("{path} {reason}")),
                };
                if let Some(reason) = reason {
                    found.push(format!("{entry}.{end}"), reason);
                    ok = false;
                }
            }
            // `AxisValues::value` keeps every value between the ends, and one value is `start`.
            let used_stop = if num > 1 { stop } else { start };
            ok.then(|| Span::closed(start.min(used_stop), start.max(used_stop)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Limits, validate_job};
    use crate::config::*;
    use crate::distribution::Distribution;
    use crate::job::*;
    use crate::metric::Metric;
    use crate::param::Param;
    use crate::sampling::Sampling;
    use crate::sweep::{Axis, AxisValues};

    fn fields(job: &JobSpec) -> Vec<String> {
        match validate_job(job, &Limits::default()) {
            Ok(()) => Vec::new(),
            Err(e) => e.into_violations().into_iter().map(|v| v.field).collect(),
        }
    }

    fn reason(job: &JobSpec, field: &str) -> String {
        let err = validate_job(job, &Limits::default()).unwrap_err();
        let v = err.violations().iter().find(|v| v.field == field);
        v.unwrap_or_else(|| panic!("no violation of {field} in {err}")).reason.clone()
    }

    fn pd(param: Param, dist: Distribution) -> ParamDist {
        ParamDist { param, dist }
    }

    fn mc(params: Vec<ParamDist>) -> MonteCarlo {
        MonteCarlo {
            base: SimConfig::mc_tau(10.0),
            runs: 10_000,
            seed: 42,
            params,
            sampling: Sampling::Random,
            stop: None,
        }
    }

    fn truncated(mean: f64, sd: f64, lo: f64, hi: f64) -> Distribution {
        Distribution::TruncatedNormal { mean, sd, lo, hi }
    }

    fn sweep(axes: Vec<Axis>) -> Sweep {
        let objective = Objective { metric: Metric::Iae, goal: Goal::Minimize };
        Sweep { base: SimConfig::mc_tau(10.0), axes, objective, seed: 0 }
    }

    fn axis(param: Param, values: AxisValues) -> Axis {
        Axis { param, values }
    }

    fn lin(start: f64, stop: f64, num: u32) -> AxisValues {
        AxisValues::Linspace { start, stop, num }
    }

    #[test]
    fn canonical_mc_tau_job_is_valid() {
        let job = JobSpec::MonteCarlo(mc(vec![pd(Param::Tau, truncated(10.0, 2.0, 1.0, f64::INFINITY))]));
        assert_eq!(validate_job(&job, &Limits::default()), Ok(()));
    }

    #[test]
    fn a_stop_rule_names_each_bad_field() {
        use crate::adaptive::{Statistic, Stop, Target};
        let good = Stop {
            metric: Metric::Iae,
            statistic: Statistic::Mean,
            target: Target::Relative(0.01),
            confidence: 0.95,
            batch: 1_000,
        };
        let with = |stop: Stop, sampling| {
            JobSpec::MonteCarlo(MonteCarlo { stop: Some(stop), sampling, ..mc(Vec::new()) })
        };
        assert_eq!(validate_job(&with(good.clone(), Sampling::Random), &Limits::default()), Ok(()));
        let p95 = Stop { statistic: Statistic::Quantile(0.95), ..good.clone() };
        assert_eq!(validate_job(&with(p95, Sampling::Random), &Limits::default()), Ok(()));
        let bad = Stop {
            statistic: Statistic::Quantile(1.0),
            target: Target::Absolute(-1.0),
            confidence: 1.0,
            batch: 20_000,
            ..good.clone()
        };
        let err = validate_job(&with(bad, Sampling::LatinHypercube), &Limits::default()).unwrap_err();
        let fields: Vec<&str> = err.violations().iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "monte_carlo.stop.half_width",
                "monte_carlo.stop.quantile",
                "monte_carlo.stop.confidence_level",
                "monte_carlo.stop.batch_runs",
                "monte_carlo.sampling"
            ],
            "{err}"
        );
        assert_eq!(err.violations()[1].reason, "must be in (0, 1) (0 or unset: the mean), got 1");
        assert!(err.violations()[4].reason.contains("needs random sampling"), "{err}");
        let nan_q = with(Stop { statistic: Statistic::Quantile(f64::NAN), ..good.clone() }, Sampling::Random);
        assert_eq!(
            reason(&nan_q, "monte_carlo.stop.quantile"),
            "must be in (0, 1) (0 or unset: the mean), got NaN"
        );
        let nan =
            with(Stop { target: Target::Relative(f64::NAN), batch: 10, ..good.clone() }, Sampling::Random);
        assert_eq!(
            reason(&nan, "monte_carlo.stop.relative_half_width"),
            "must be a finite number > 0, got NaN"
        );
        assert_eq!(reason(&nan, "monte_carlo.stop.batch_runs"), "must be in 100..=runs (10000), got 10");
        let dataset = JobSpec::Dataset(MonteCarlo { stop: Some(good), ..mc(Vec::new()) });
        assert_eq!(reason(&dataset, "dataset.stop"), "only Monte Carlo jobs stop early");
    }

    #[test]
    fn structured_sampling_covers_at_most_2_to_the_32_runs() {
        let limits = Limits { max_runs: u64::MAX, ..Limits::default() };
        for sampling in [Sampling::Sobol, Sampling::LatinHypercube] {
            let job = |runs| JobSpec::MonteCarlo(MonteCarlo { runs, sampling, ..mc(Vec::new()) });
            assert_eq!(validate_job(&job(1 << 32), &limits), Ok(()));
            let err = validate_job(&job((1 << 32) + 1), &limits).unwrap_err();
            let fields: Vec<&str> = err.violations().iter().map(|v| v.field.as_str()).collect();
            assert_eq!(fields, ["monte_carlo.sampling"], "{err}");
        }
        let random = JobSpec::MonteCarlo(MonteCarlo { runs: (1 << 32) + 1, ..mc(Vec::new()) });
        assert_eq!(validate_job(&random, &limits), Ok(()));
    }

    fn sensitivity(params: Vec<ParamDist>, metrics: Vec<Metric>) -> Sensitivity {
        Sensitivity {
            base: SimConfig::mc_tau(10.0),
            samples: 1024,
            seed: 1,
            params,
            metrics,
            resamples: Sensitivity::DEFAULT_RESAMPLES,
            confidence: Sensitivity::DEFAULT_CONFIDENCE,
        }
    }

    #[test]
    fn sensitivity_rules_name_their_fields() {
        let kp = pd(Param::Kp, Distribution::Uniform { lo: 0.5, hi: 3.0 });
        let tau = pd(Param::Tau, Distribution::Uniform { lo: 5.0, hi: 20.0 });
        let good = sensitivity(vec![kp.clone(), tau.clone()], vec![Metric::Iae, Metric::OvershootPct]);
        assert_eq!(fields(&JobSpec::Sensitivity(good.clone())), Vec::<String>::new());
        assert_eq!(JobSpec::Sensitivity(good.clone()).runs(), 1024 * 4);

        let empty = sensitivity(Vec::new(), Vec::new());
        assert_eq!(fields(&JobSpec::Sensitivity(empty)), ["sensitivity.params", "sensitivity.metrics"]);
        let twice = sensitivity(vec![kp.clone(), kp.clone()], vec![Metric::Iae, Metric::Ise, Metric::Iae]);
        let job = JobSpec::Sensitivity(twice);
        assert_eq!(fields(&job), ["sensitivity.params[1].param", "sensitivity.metrics[2]"]);
        assert_eq!(reason(&job, "sensitivity.metrics[2]"), "iae is already listed as metrics[0]");
        let negative_tau = pd(Param::Tau, Distribution::Uniform { lo: -1.0, hi: 20.0 });
        let job = JobSpec::Sensitivity(sensitivity(vec![negative_tau], vec![Metric::Iae]));
        assert_eq!(fields(&job), ["sensitivity.params[0]"]);

        let one = JobSpec::Sensitivity(Sensitivity { samples: 1, ..good.clone() });
        assert_eq!(reason(&one, "sensitivity.samples"), "must be at least 2, got 1");
        let big = JobSpec::Sensitivity(Sensitivity { samples: 30_000_000, ..good.clone() });
        assert_eq!(
            reason(&big, "sensitivity.samples"),
            "30000000 samples x (2 params + 2) = 120000000 runs, more than the limit of 100000000 runs"
        );
        let many = JobSpec::Sensitivity(Sensitivity { samples: 1 << 21, ..good.clone() });
        assert_eq!(
            reason(&many, "sensitivity.samples"),
            "8388608 runs x 2 metrics = 16777216 values, more than the 8388608 a sensitivity job's indices are computed from"
        );
        let overflow = JobSpec::Sensitivity(Sensitivity { samples: u64::MAX, ..good.clone() });
        assert!(reason(&overflow, "sensitivity.samples").contains("more than 2^64 runs"));
        let resamples = JobSpec::Sensitivity(Sensitivity { resamples: 10_001, ..good.clone() });
        assert_eq!(fields(&resamples), ["sensitivity.bootstrap_resamples"]);
        for confidence in [0.0, 1.0, -0.5, f64::NAN, f64::INFINITY] {
            let job = JobSpec::Sensitivity(Sensitivity { confidence, ..good.clone() });
            assert_eq!(fields(&job), ["sensitivity.confidence_level"], "{confidence}");
        }
    }

    #[test]
    fn run_counts() {
        let mut spec = mc(vec![]);
        spec.runs = 0;
        assert_eq!(fields(&JobSpec::MonteCarlo(spec.clone())), ["monte_carlo.runs"]);
        spec.runs = 100_000_001;
        assert_eq!(fields(&JobSpec::Dataset(spec.clone())), ["dataset.runs"]);
        assert_eq!(
            reason(&JobSpec::Dataset(spec.clone()), "dataset.runs"),
            "must be in 1..=100000000, got 100000001"
        );
        spec.runs = 100_000_000;
        assert!(fields(&JobSpec::MonteCarlo(spec.clone())).is_empty());
        // A dataset that many runs long passes the run limit but not the output limit (its
        // rows would take ~12 GiB; see `output`).
        assert_eq!(fields(&JobSpec::Dataset(spec)), ["dataset.runs"]);
    }

    #[test]
    fn a_parameter_varied_twice_is_refused() {
        let kp = || pd(Param::Kp, Distribution::Uniform { lo: 1.0, hi: 2.0 });
        let job = JobSpec::MonteCarlo(mc(vec![kp(), pd(Param::Ki, Distribution::Fixed(0.1)), kp()]));
        assert_eq!(fields(&job), ["monte_carlo.params[2].param"]);
        assert_eq!(
            reason(&job, "monte_carlo.params[2].param"),
            "controller.kp is already varied by params[0]"
        );
        let job =
            JobSpec::Sweep(sweep(vec![axis(Param::Ki, lin(0.1, 1.0, 3)), axis(Param::Ki, lin(0.1, 1.0, 3))]));
        assert_eq!(fields(&job), ["sweep.axes[1].param"]);
    }

    #[test]
    fn parameters_must_exist_in_the_base() {
        let job = JobSpec::Dataset(mc(vec![
            pd(Param::Tau, Distribution::Fixed(5.0)),
            pd(Param::HMax, Distribution::Fixed(5.0)),
            pd(Param::NoiseSd, Distribution::Fixed(0.1)),
        ]));
        assert_eq!(fields(&job), ["dataset.params[1].param", "dataset.params[2].param"]);
        assert_eq!(
            reason(&job, "dataset.params[1].param"),
            "plant.h_max cannot be varied here: only the Torricelli plant has it"
        );
    }

    #[test]
    fn distribution_errors_name_the_distribution_field() {
        let job = JobSpec::MonteCarlo(mc(vec![
            pd(Param::Kp, Distribution::Fixed(1.0)),
            pd(Param::Tau, Distribution::Normal { mean: 10.0, sd: -1.0 }),
        ]));
        assert_eq!(fields(&job), ["monte_carlo.params[1].sd"]);
    }

    #[test]
    fn supports_must_lie_in_the_parameter_domain() {
        let job = JobSpec::MonteCarlo(mc(vec![pd(Param::Tau, Distribution::Normal { mean: 10.0, sd: 2.0 })]));
        assert_eq!(fields(&job), ["monte_carlo.params[0]"]);
        assert_eq!(
            reason(&job, "monte_carlo.params[0]"),
            "plant.tau must be > 0 but a normal distribution can sample any value; use truncated_normal with lo > 0"
        );
        let job = JobSpec::MonteCarlo(mc(vec![pd(
            Param::SettlingBand,
            Distribution::Uniform { lo: 0.5, hi: 1.5 },
        )]));
        assert_eq!(fields(&job), ["monte_carlo.params[0]"]);
        assert!(
            reason(&job, "monte_carlo.params[0]")
                .starts_with("metrics.settling_band must be in (0, 1) but a uniform")
        );
        // Unbounded but finite samples suit a parameter that only needs to be finite.
        let job = JobSpec::MonteCarlo(mc(vec![pd(Param::Kp, Distribution::Normal { mean: 2.0, sd: 0.5 })]));
        assert!(fields(&job).is_empty());
    }

    #[test]
    fn a_varied_parameter_replaces_the_base_value() {
        // The base tau is invalid, but every run gets a sampled one.
        let mut spec = mc(vec![pd(Param::Tau, Distribution::Uniform { lo: 1.0, hi: 2.0 })]);
        spec.base = SimConfig::mc_tau(-1.0);
        assert!(fields(&JobSpec::MonteCarlo(spec)).is_empty());
    }

    #[test]
    fn cross_field_rules_use_the_worst_case_of_the_ranges() {
        // u_min in [0, 0.5] against the base u_max = 1: fine; up to 1.5: not.
        let job = JobSpec::MonteCarlo(mc(vec![pd(Param::UMin, Distribution::Uniform { lo: 0.0, hi: 0.5 })]));
        assert!(fields(&job).is_empty());
        let job = JobSpec::MonteCarlo(mc(vec![pd(Param::UMin, Distribution::Uniform { lo: 0.0, hi: 1.5 })]));
        assert_eq!(fields(&job), ["monte_carlo.params[0]"]);
        assert_eq!(
            reason(&job, "monte_carlo.params[0]"),
            "controller.u_min must be < controller.u_max in every run, but controller.u_min is as high as 1.5 \
             and controller.u_max is 1.0"
        );
        // Both varied: the blamed side is u_max.
        let job = JobSpec::MonteCarlo(mc(vec![
            pd(Param::UMin, Distribution::Uniform { lo: 0.0, hi: 0.5 }),
            pd(Param::UMax, Distribution::Uniform { lo: 0.4, hi: 2.0 }),
        ]));
        assert_eq!(fields(&job), ["monte_carlo.params[1]"]);
        // h0 on a Torricelli tank: the axis reaches past h_max = 4.
        let mut s = sweep(vec![axis(Param::H0, lin(0.0, 5.0, 6))]);
        s.base.plant = Plant::Torricelli(Torricelli {
            area: 1.0,
            outlet: 0.5,
            max_inflow: 1.0,
            h_max: 4.0,
            h0: 0.0,
            substeps: 2,
        });
        assert_eq!(fields(&JobSpec::Sweep(s.clone())), ["sweep.axes[0]"]);
        s.axes = vec![axis(Param::H0, lin(0.0, 4.0, 5)), axis(Param::HMax, AxisValues::List(vec![4.0, 6.0]))];
        assert!(fields(&JobSpec::Sweep(s)).is_empty());
        // The ramp start against its fixed end.
        let mut spec = mc(vec![pd(Param::InputAt, Distribution::Uniform { lo: 0.0, hi: 10.0 })]);
        spec.base.input = Profile::Ramp { from: 0.0, to: 1.0, start: 0.0, end: 5.0 };
        assert_eq!(fields(&JobSpec::MonteCarlo(spec)), ["monte_carlo.params[0]"]);
    }

    #[test]
    fn sweep_axes_fields() {
        let job = JobSpec::Sweep(sweep(vec![]));
        assert_eq!(fields(&job), ["sweep.axes"]);
        let job = JobSpec::Sweep(sweep(vec![
            axis(Param::Kp, lin(0.0, f64::INFINITY, 0)),
            axis(Param::Tau, AxisValues::List(vec![1.0, 0.0, f64::NAN])),
            axis(Param::Ki, AxisValues::List(vec![])),
            axis(Param::Kd, AxisValues::Logspace { start: -1.0, stop: 1.0, num: 3 }),
        ]));
        assert_eq!(
            fields(&job),
            [
                "sweep.axes[0].num",
                "sweep.axes[0].stop",
                "sweep.axes[1].values[1]",
                "sweep.axes[1].values[2]",
                "sweep.axes[2].values",
                "sweep.axes[3].start"
            ]
        );
        assert_eq!(reason(&job, "sweep.axes[1].values[1]"), "plant.tau must be > 0, got 0.0");
        assert_eq!(reason(&job, "sweep.axes[3].start"), "logspace ends must be > 0, got -1.0");
        // Ends inside the spacing's own rules but outside the parameter's domain.
        let job = JobSpec::Sweep(sweep(vec![
            axis(Param::Ki, lin(0.0, 1.0, 3)),
            axis(Param::Tau, lin(5.0, -1.0, 3)),
        ]));
        assert_eq!(fields(&job), ["sweep.axes[1].stop"]);
        assert_eq!(reason(&job, "sweep.axes[1].stop"), "plant.tau must be > 0, got -1.0");
        // A single-point axis still has its stop checked.
        let job = JobSpec::Sweep(sweep(vec![axis(Param::Tau, lin(5.0, f64::NAN, 1))]));
        assert_eq!(fields(&job), ["sweep.axes[0].stop"]);
    }

    #[test]
    fn sweep_grid_size() {
        let big = || axis(Param::Kp, lin(1.0, 2.0, u32::MAX));
        let job = JobSpec::Sweep(sweep(vec![big(), axis(Param::Ki, lin(1.0, 2.0, 2))]));
        assert_eq!(fields(&job), ["sweep.axes"]);
        assert_eq!(
            reason(&job, "sweep.axes"),
            "the grid has 4294967295 x 2 = 8589934590 points, more than the limit of 100000000 runs"
        );
        let huge = || axis(Param::Kd, lin(1.0, 2.0, u32::MAX));
        let job = JobSpec::Sweep(sweep(vec![big(), huge(), axis(Param::Ki, lin(1.0, 2.0, u32::MAX))]));
        assert_eq!(reason(&job, "sweep.axes"), "the grid has more points than a 64-bit run index can count");
        let job = JobSpec::Sweep(sweep(vec![
            axis(Param::Kp, lin(1.0, 2.0, 10_000)),
            axis(Param::Ki, lin(1.0, 2.0, 10_000)),
        ]));
        // Within the run limit; its 10^8 rows are over the default output limit.
        let unbounded_output = Limits { max_job_output_bytes: u64::MAX, ..Limits::default() };
        assert_eq!(validate_job(&job, &unbounded_output), Ok(()));
        assert!(reason(&job, "sweep.axes").contains("more than the limit of 8.0 GiB"));
    }

    #[test]
    fn sweep_objective_must_vary() {
        let mut s = sweep(vec![axis(Param::Tau, lin(1.0, 2.0, 2))]);
        s.objective.metric = Metric::Overflow;
        assert_eq!(fields(&JobSpec::Sweep(s.clone())), ["sweep.objective"]);
        assert_eq!(
            reason(&JobSpec::Sweep(s.clone()), "sweep.objective"),
            "overflow is 0 in every run: a first-order tank never overflows"
        );
        s.objective.metric = Metric::SaturatedFraction;
        assert!(fields(&JobSpec::Sweep(s.clone())).is_empty());
        s.base.controller = Controller::OpenLoop;
        s.base.input = Profile::Step { initial: 0.0, value: 0.5, at: 0.0 };
        assert_eq!(fields(&JobSpec::Sweep(s)), ["sweep.objective"]);
    }

    #[test]
    fn base_violations_are_reported_with_job_ones() {
        let mut spec = mc(vec![pd(Param::Kp, Distribution::Normal { mean: 1.0, sd: -1.0 })]);
        spec.runs = 0;
        spec.base.dt = -1.0;
        assert_eq!(
            fields(&JobSpec::MonteCarlo(spec)),
            ["monte_carlo.runs", "monte_carlo.params[0].sd", "dt"]
        );
    }
}
