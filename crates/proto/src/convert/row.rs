//! One run's outcome over the wire: metric lists in `Metric` order (absent values NaN),
//! trajectories, and the per-run rows of dataset and sweep jobs.

use tanksim_sim_core::param::Param;
use tanksim_sim_core::simulate::Trajectory;
use tanksim_sim_core::{Metric, RunMetrics};

use crate::v1;

/// A run's metrics in `Metric` order (proto numbers 1..=13), an absent value as NaN: the
/// `metrics` of `RunRow` and `SimulateResponse`.
pub fn metric_values(metrics: &RunMetrics) -> Vec<f64> {
    Metric::ALL.into_iter().map(|m| metrics.get(m).unwrap_or(f64::NAN)).collect()
}

/// The inverse of [`metric_values`]. A NaN of a metric that may be absent (overshoot, rise
/// time, settling time) reads as absent; entries missing from a short list read as absent
/// (NaN for the always-present metrics); extra entries are ignored.
pub fn metrics_from_values(values: &[f64]) -> RunMetrics {
    let at = |m: Metric| values.get(m.index()).copied().unwrap_or(f64::NAN);
    let optional = |m: Metric| Some(at(m)).filter(|v| !v.is_nan());
    RunMetrics {
        overshoot_pct: optional(Metric::OvershootPct),
        rise_time: optional(Metric::RiseTime),
        settling_time: optional(Metric::SettlingTime),
        peak: at(Metric::Peak),
        peak_time: at(Metric::PeakTime),
        steady_state_error: at(Metric::SteadyStateError),
        iae: at(Metric::Iae),
        ise: at(Metric::Ise),
        itae: at(Metric::Itae),
        control_effort: at(Metric::ControlEffort),
        saturated_fraction: at(Metric::SaturatedFraction),
        final_level: at(Metric::FinalLevel),
        overflow: at(Metric::Overflow),
    }
}

/// The row of run `run`: its varied parameters' values in the job's order (their paths go
/// once per export, in `ExportRunsResponse.params`), its metrics as [`metric_values`], and its
/// trajectory when it recorded one.
pub fn run_row(
    run: u64,
    params: &[(Param, f64)],
    metrics: &RunMetrics,
    trajectory: Option<&Trajectory>,
) -> v1::RunRow {
    v1::RunRow {
        run,
        params: params.iter().map(|&(_, v)| v).collect(),
        metrics: metric_values(metrics),
        trajectory: trajectory.map(v1::Trajectory::from),
    }
}

/// The metrics of a row (see [`metrics_from_values`]).
pub fn metrics_from_row(row: &v1::RunRow) -> RunMetrics {
    metrics_from_values(&row.metrics)
}

impl From<&Trajectory> for v1::Trajectory {
    fn from(t: &Trajectory) -> Self {
        v1::Trajectory { t: t.t.clone(), h: t.h.clone(), u: t.u.clone(), r: t.r.clone() }
    }
}

impl From<&v1::Trajectory> for Trajectory {
    fn from(t: &v1::Trajectory) -> Self {
        Trajectory { t: t.t.clone(), h: t.h.clone(), u: t.u.clone(), r: t.r.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics() -> RunMetrics {
        RunMetrics {
            overshoot_pct: Some(4.5),
            rise_time: None,
            settling_time: Some(12.0),
            peak: 1.045,
            peak_time: 3.0,
            steady_state_error: -0.0,
            iae: 2.0,
            ise: f64::INFINITY,
            itae: 9.0,
            control_effort: 30.0,
            saturated_fraction: 0.1,
            final_level: 1.0,
            overflow: 0.0,
        }
    }

    #[test]
    fn rows_carry_metrics_in_metric_order_with_nan_for_absent() {
        let t = Trajectory { t: vec![0.0, 1.0], h: vec![0.0, 0.5], u: vec![1.0, 1.0], r: vec![1.0, 1.0] };
        let row = run_row(7, &[(Param::Tau, 9.5), (Param::Kp, 2.0)], &metrics(), Some(&t));
        assert_eq!((row.run, row.params.as_slice()), (7, &[9.5, 2.0][..]));
        assert_eq!(row.metrics.len(), 13);
        assert_eq!(row.metrics[0], 4.5);
        assert!(row.metrics[1].is_nan());
        assert_eq!(row.metrics[7], f64::INFINITY);
        assert_eq!(Trajectory::from(row.trajectory.as_ref().expect("recorded")), t);
        let back = metrics_from_row(&row);
        assert_eq!(back, metrics());
        assert!(back.steady_state_error.is_sign_negative());
        assert_eq!(run_row(0, &[], &metrics(), None).trajectory, None);
    }

    #[test]
    fn short_lists_read_as_absent() {
        let m = metrics_from_values(&[1.0]);
        assert_eq!((m.overshoot_pct, m.rise_time), (Some(1.0), None));
        assert!(m.peak.is_nan() && m.overflow.is_nan());
    }
}
