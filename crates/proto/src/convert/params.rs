//! A job's building blocks, proto to domain: parameter paths, distributions, sweep axes and the
//! objective, with the structural checks (unknown paths, unset oneofs and enums).
//!
//! Proto3 defaults: a truncated normal's absent `lo` / `hi` is `-inf` / `+inf` (unbounded).

use tanksim_sim_core::distribution::Distribution;
use tanksim_sim_core::job::{Goal, Objective};
use tanksim_sim_core::param::Param;
use tanksim_sim_core::sweep::{Axis, AxisValues};

use super::bounds::MAX_PARAM_PATH_BYTES;
use super::metric::metric_from_i32;
use super::violation::{Violations, not_one_of};
use crate::v1::{self, axis, param_distribution as pd};

const DISTRIBUTIONS: &[&str] =
    &["fixed", "uniform", "normal", "truncated_normal", "log_normal", "triangular", "choice"];
const AXIS_VALUES: &[&str] = &["list", "linspace", "logspace"];

/// The path of `param` as requests spell it: sim-core's [`Param::path`], except the settling
/// band, which the proto keeps at the top of `SimConfig` (`settling_band`, not
/// `metrics.settling_band`). Use it wherever a parameter is named to users (sweep results,
/// exported rows).
pub fn param_path(param: Param) -> &'static str {
    match param {
        Param::SettlingBand => "settling_band",
        other => other.path(),
    }
}

/// Parses a parameter path: every [`param_path`], and sim-core's spelling
/// `metrics.settling_band` too.
pub fn param_from_path(path: &str) -> Option<Param> {
    Param::ALL.into_iter().find(|&p| param_path(p) == path).or_else(|| Param::from_path(path))
}

/// The parameter named at `field`, or `None` after saying which paths exist.
pub(crate) fn read_param(path: &str, field: String, found: &mut Violations) -> Option<Param> {
    let param = param_from_path(path);
    if param.is_none() {
        let valid: Vec<&str> = Param::ALL.into_iter().map(param_path).collect();
        let reason = if path.is_empty() {
            format!("required: one of {}", valid.join(", "))
        } else if path.len() > MAX_PARAM_PATH_BYTES {
            format!("at most {MAX_PARAM_PATH_BYTES} bytes, got {}; one of {}", path.len(), valid.join(", "))
        } else {
            // Debug-quoted, so control characters cannot garble the message (its length is
            // bounded just above).
            format!("unknown parameter {path:?}; one of {}", valid.join(", "))
        };
        found.push(field, reason);
    }
    param
}

/// The distribution of `entry` (`monte_carlo.params[0]`), or `None` when its oneof is unset.
pub(crate) fn read_distribution(
    p: &v1::ParamDistribution,
    entry: &str,
    found: &mut Violations,
) -> Option<Distribution> {
    let Some(d) = &p.distribution else {
        found.push(format!("{entry}.distribution"), not_one_of(0, DISTRIBUTIONS));
        return None;
    };
    Some(match d {
        pd::Distribution::Fixed(v) => Distribution::Fixed(*v),
        pd::Distribution::Uniform(u) => Distribution::Uniform { lo: u.lo, hi: u.hi },
        pd::Distribution::Normal(n) => Distribution::Normal { mean: n.mean, sd: n.sd },
        pd::Distribution::TruncatedNormal(t) => Distribution::TruncatedNormal {
            mean: t.mean,
            sd: t.sd,
            lo: t.lo.unwrap_or(f64::NEG_INFINITY),
            hi: t.hi.unwrap_or(f64::INFINITY),
        },
        pd::Distribution::LogNormal(l) => Distribution::LogNormal { mu: l.mu, sigma: l.sigma },
        pd::Distribution::Triangular(t) => Distribution::Triangular { lo: t.lo, mode: t.mode, hi: t.hi },
        pd::Distribution::Choice(c) => {
            Distribution::Choice { values: c.values.clone(), weights: c.weights.clone() }
        }
    })
}

/// The oneof member a distribution is set through (`truncated_normal`), which request paths
/// name and sim-core's paths leave out.
pub(crate) fn distribution_member(d: &pd::Distribution) -> &'static str {
    match d {
        pd::Distribution::Fixed(_) => "fixed",
        pd::Distribution::Uniform(_) => "uniform",
        pd::Distribution::Normal(_) => "normal",
        pd::Distribution::TruncatedNormal(_) => "truncated_normal",
        pd::Distribution::LogNormal(_) => "log_normal",
        pd::Distribution::Triangular(_) => "triangular",
        pd::Distribution::Choice(_) => "choice",
    }
}

/// The axis at `entry` (`sweep.axes[1]`), or `None` after recording why.
pub(crate) fn read_axis(a: &v1::Axis, entry: &str, found: &mut Violations) -> Option<Axis> {
    let param = read_param(&a.param, format!("{entry}.param"), found);
    let values = match &a.values {
        None => {
            found.push(format!("{entry}.values"), not_one_of(0, AXIS_VALUES));
            None
        }
        Some(axis::Values::List(l)) => Some(AxisValues::List(l.values.clone())),
        Some(axis::Values::Linspace(l)) => {
            Some(AxisValues::Linspace { start: l.start, stop: l.stop, num: l.num })
        }
        Some(axis::Values::Logspace(l)) => {
            Some(AxisValues::Logspace { start: l.start, stop: l.stop, num: l.num })
        }
    };
    Some(Axis { param: param?, values: values? })
}

/// The oneof member an axis's values are set through.
pub(crate) fn axis_member(v: &axis::Values) -> &'static str {
    match v {
        axis::Values::List(_) => "list",
        axis::Values::Linspace(_) => "linspace",
        axis::Values::Logspace(_) => "logspace",
    }
}

/// A sweep's objective: both the metric and the goal are required.
pub(crate) fn read_objective(
    field: &str,
    o: Option<&v1::Objective>,
    found: &mut Violations,
) -> Option<Objective> {
    let Some(o) = o else {
        found.push(field, "required");
        return None;
    };
    let metric = metric_from_i32(o.metric);
    if metric.is_none() {
        let names: Vec<&str> = tanksim_sim_core::Metric::ALL.into_iter().map(|m| m.name()).collect();
        found.push(format!("{field}.metric"), not_one_of(o.metric, &names));
    }
    let goal = match v1::Goal::try_from(o.goal) {
        Ok(v1::Goal::Minimize) => Some(Goal::Minimize),
        Ok(v1::Goal::Maximize) => Some(Goal::Maximize),
        Ok(v1::Goal::Unspecified) | Err(_) => {
            found.push(format!("{field}.goal"), not_one_of(o.goal, &["minimize", "maximize"]));
            None
        }
    };
    Some(Objective { metric: metric?, goal: goal? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn param_paths_round_trip_and_accept_the_core_spelling() {
        for p in Param::ALL {
            assert_eq!(param_from_path(param_path(p)), Some(p));
            assert_eq!(param_from_path(p.path()), Some(p));
        }
        assert_eq!(param_path(Param::SettlingBand), "settling_band");
        assert_eq!(param_from_path("plant.taux"), None);
    }

    #[test]
    fn unknown_paths_list_the_valid_ones() {
        let mut found = Violations::default();
        assert_eq!(read_param("plant.taux", "sweep.axes[0].param".into(), &mut found), None);
        let v = found.into_result(Some(())).unwrap_err();
        assert_eq!(v[0].field, "sweep.axes[0].param");
        assert!(v[0].reason.starts_with("unknown parameter \"plant.taux\"; one of plant.gain, plant.tau,"));
        assert!(v[0].reason.ends_with("noise.sd, settling_band"), "{}", v[0].reason);
    }
}
