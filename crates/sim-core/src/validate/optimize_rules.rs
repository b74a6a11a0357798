//! The rules of an optimisation's fields: its bounded parameters (each once, applicable, a
//! finite range inside the parameter's domain, a start inside the range), the search's
//! settings, the run cap, and the robust Monte Carlo (its uncertain parameters as a Monte
//! Carlo job's, none of them a searched one).

use super::Limits;
use super::Violations;
use super::config_rules::{Source, Sources};
use super::domain::{Domain, Span};
use super::job_rules::{FirstEntry, objective, params, varies_once};
use crate::optimize::{Optimize, Statistic};
use crate::param::Param;
use crate::sampling::{MAX_STRUCTURED_RUNS, Sampling};

/// Parameters one search may move: CMA-ES learns a covariance of `n²` entries from `λ`
/// candidates a generation, and beyond a dozen dimensions needs far more generations than a
/// tank's few gains are worth.
pub const MAX_PARAMS: usize = 12;
/// Candidates per generation.
pub const MAX_POPULATION: u32 = 10_000;

pub(super) fn check(opt: &Optimize, limits: &Limits, sources: &mut Sources, found: &mut Violations) {
    if opt.params.is_empty() {
        found.push("optimize.params", "an optimisation needs at least one parameter");
    }
    if opt.params.len() > MAX_PARAMS {
        found.push("optimize.params", format!("at most {MAX_PARAMS} parameters, got {}", opt.params.len()));
    }
    let mut first: FirstEntry = [None; Param::ALL.len()];
    for (i, bound) in opt.params.iter().enumerate() {
        let entry = format!("optimize.params[{i}]");
        if !varies_once(bound.param, ("params", i), &mut first, &opt.base, &entry, found) {
            sources.set(bound.param, Source::Unknown);
            continue;
        }
        let domain = Domain::of(bound.param, &opt.base.plant);
        let mut ok = true;
        for (end, x) in [("lo", bound.lo), ("hi", bound.hi)] {
            let reason = Domain::FINITE
                .violation(x)
                .or_else(|| domain.violation(x).map(|r| format!("{} {r}", bound.param.path())));
            if let Some(reason) = reason {
                found.push(format!("{entry}.{end}"), reason);
                ok = false;
            }
        }
        if ok && bound.lo >= bound.hi {
            found.push(format!("{entry}.hi"), format!("must be above lo ({}), got {}", bound.lo, bound.hi));
            ok = false;
        }
        if ok && !(bound.lo..=bound.hi).contains(&bound.start) {
            found.push(
                format!("{entry}.start"),
                format!("must be in [{}, {}], got {}", bound.lo, bound.hi, bound.start),
            );
        }
        let source = if ok {
            Source::Varied { span: Span::closed(bound.lo, bound.hi), field: entry }
        } else {
            Source::Unknown
        };
        sources.set(bound.param, source);
    }
    if opt.population < 2 || opt.population > MAX_POPULATION {
        found.push("optimize.population", format!("must be in 2..={MAX_POPULATION}, got {}", opt.population));
    }
    if opt.generations == 0 {
        found.push("optimize.max_generations", "must be at least 1");
    }
    if !(opt.x_tolerance.is_finite() && opt.x_tolerance > 0.0 && opt.x_tolerance < 1.0) {
        found.push("optimize.x_tolerance", format!("must be in (0, 1), got {}", opt.x_tolerance));
    }
    if !(opt.initial_step.is_finite() && opt.initial_step > 0.0 && opt.initial_step <= 1.0) {
        found.push("optimize.initial_step", format!("must be in (0, 1], got {}", opt.initial_step));
    }
    objective("optimize.objective", opt.objective.metric, &opt.base, found);
    if let Some(robust) = &opt.robust {
        if robust.runs == 0 {
            found.push("optimize.robust.runs", "must be at least 1");
        }
        if robust.sampling != Sampling::Random && u64::from(robust.runs) > MAX_STRUCTURED_RUNS {
            let reason =
                format!("{} sampling covers at most {MAX_STRUCTURED_RUNS} runs", robust.sampling.name());
            found.push("optimize.robust.sampling", reason);
        }
        if let Statistic::Quantile(q) = robust.statistic
            && !(0.0..=1.0).contains(&q)
        {
            found.push("optimize.robust.quantile", format!("must be in [0, 1], got {q}"));
        }
        for (i, pd) in robust.params.iter().enumerate() {
            if let Some(j) = opt.params.iter().position(|b| b.param == pd.param) {
                let reason = format!(
                    "{} is searched by optimize.params[{j}]; it cannot also be uncertain",
                    pd.param.path()
                );
                found.push(format!("optimize.robust.params[{i}].param"), reason);
            }
        }
        params("optimize.robust", &robust.params, &opt.base, sources, found);
    }
    let per_generation = u64::from(opt.population).checked_mul(opt.runs_per_candidate());
    match per_generation.and_then(|g| g.checked_mul(u64::from(opt.generations))) {
        Some(runs) if runs <= limits.max_runs => {}
        runs => {
            let runs = runs.map_or_else(|| "more than 2^64".to_owned(), |r| r.to_string());
            let reason = format!(
                "{} generations x {} candidates x {} runs each = {runs} runs, more than the limit of {} runs",
                opt.generations,
                opt.population,
                opt.runs_per_candidate(),
                limits.max_runs
            );
            found.push("optimize.max_generations", reason);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::validate_job;
    use super::*;
    use crate::config::SimConfig;
    use crate::distribution::Distribution;
    use crate::job::{Goal, JobSpec, Objective, ParamDist};
    use crate::metric::Metric;
    use crate::optimize::{Bound, Robust};

    fn job() -> Optimize {
        Optimize {
            base: SimConfig::mc_tau(10.0),
            params: vec![
                Bound { param: Param::Kp, lo: 0.1, hi: 10.0, start: 2.0 },
                Bound { param: Param::Ki, lo: 0.01, hi: 2.0, start: 0.5 },
            ],
            objective: Objective { metric: Metric::Ise, goal: Goal::Minimize },
            population: 6,
            generations: 100,
            seed: 1,
            x_tolerance: 1e-3,
            initial_step: 0.3,
            robust: None,
        }
    }

    fn violations(opt: Optimize) -> Vec<(String, String)> {
        match validate_job(&JobSpec::Optimize(opt), &Limits::default()) {
            Ok(()) => Vec::new(),
            Err(e) => e.into_violations().into_iter().map(|v| (v.field, v.reason)).collect(),
        }
    }

    fn fields(opt: Optimize) -> Vec<String> {
        violations(opt).into_iter().map(|(field, _)| field).collect()
    }

    #[test]
    fn a_sound_search_passes() {
        assert_eq!(violations(job()), []);
        let tau = ParamDist { param: Param::Tau, dist: Distribution::Uniform { lo: 5.0, hi: 15.0 } };
        let robust = Robust {
            params: vec![tau],
            runs: 200,
            statistic: Statistic::Quantile(0.9),
            sampling: Sampling::Random,
        };
        assert_eq!(violations(Optimize { robust: Some(robust), ..job() }), []);
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut bad = job();
        bad.params[0] = Bound { param: Param::Kp, lo: 3.0, hi: 1.0, start: 2.0 };
        bad.params[1] = Bound { param: Param::Ki, lo: 0.0, hi: 1.0, start: 2.0 };
        bad.params.push(Bound { param: Param::Kp, lo: 1.0, hi: 2.0, start: 1.5 });
        bad.population = 1;
        bad.generations = 0;
        bad.x_tolerance = 0.0;
        bad.initial_step = f64::NAN;
        assert_eq!(
            fields(bad),
            [
                "optimize.params[0].hi",
                "optimize.params[1].start",
                "optimize.params[2].param",
                "optimize.population",
                "optimize.max_generations",
                "optimize.x_tolerance",
                "optimize.initial_step",
            ]
        );
        let mut outside = job();
        outside.params[1] = Bound { param: Param::Tau, lo: -1.0, hi: 5.0, start: 1.0 };
        let found = violations(outside);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "optimize.params[1].lo");
        assert!(found[0].1.contains("plant.tau"), "{}", found[0].1);
        assert_eq!(fields(Optimize { params: vec![], ..job() }), ["optimize.params"]);
    }

    #[test]
    fn a_robust_monte_carlo_is_checked_like_a_monte_carlo_job() {
        let searched = ParamDist { param: Param::Kp, dist: Distribution::Uniform { lo: 1.0, hi: 2.0 } };
        let negative = ParamDist { param: Param::Tau, dist: Distribution::Normal { mean: 10.0, sd: 2.0 } };
        let robust = Robust {
            params: vec![searched, negative],
            runs: 0,
            statistic: Statistic::Quantile(1.5),
            sampling: Sampling::Random,
        };
        assert_eq!(
            fields(Optimize { robust: Some(robust), ..job() }),
            [
                "optimize.robust.runs",
                "optimize.robust.quantile",
                "optimize.robust.params[0].param",
                "optimize.robust.params[1]",
            ]
        );
    }

    #[test]
    fn the_run_cap_is_within_the_limit() {
        let robust =
            Robust { params: vec![], runs: 100_000, statistic: Statistic::Mean, sampling: Sampling::Random };
        let big = Optimize { population: 10_000, generations: 1_000, robust: Some(robust), ..job() };
        let found = violations(big);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "optimize.max_generations");
        assert!(found[0].1.contains("1000 generations x 10000 candidates x 100000 runs"), "{}", found[0].1);
    }
}
