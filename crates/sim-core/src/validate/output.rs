//! A job's output on disk: the per-run rows of a dataset, sweep, sensitivity or optimisation job (Monte
//! Carlo jobs keep summaries only), estimated before anything runs.
//!
//! Each run stays within the per-run limits, yet a dataset of 10^7 runs recording every step
//! would write ~1.9 TB; the estimate lets validation refuse it, and the dispatcher sizes its
//! chunks by the same numbers (so a chunk's report stays small), one definition for both.
//!
//! A row is the run index, the varied parameters and every metric as 8-byte doubles, and
//! t/h/u/r per recorded trajectory sample, plus a little framing: within a few percent of the
//! encoded `tanksim.v1.RunRow` the results service stores and exports.

use super::{Limits, Violations};
use crate::config::Recording;
use crate::job::JobSpec;
use crate::metric::Metric;

/// Framing of one row: the run index and the messages' tags and lengths.
const ROW_FRAMING_BYTES: u64 = 16;
/// Bytes of one trajectory sample: t, h, u and r as doubles.
const SAMPLE_BYTES: u64 = 4 * 8;

/// Samples of a run's trajectory that `record` keeps over `steps` steps: `k = 0, n, 2n, ...`
/// and always the last one (0 for `Every(0)`, which validation refuses).
pub fn recorded_samples(steps: u64, record: Recording) -> u64 {
    match record {
        Recording::None | Recording::Every(0) => 0,
        Recording::Full => steps.saturating_add(1),
        Recording::Every(n) => {
            let n = u64::from(n);
            (steps / n).saturating_add(1 + u64::from(!steps.is_multiple_of(n)))
        }
    }
}

/// Estimated bytes of one run's row (0 for a Monte Carlo job, which writes no rows).
pub fn row_bytes(job: &JobSpec) -> u64 {
    let (params, base) = match job {
        JobSpec::MonteCarlo(_) => return 0,
        JobSpec::Sweep(s) => (s.axes.len() as u64, &s.base),
        JobSpec::Dataset(d) => (d.params.len() as u64, &d.base),
        JobSpec::Sensitivity(s) => (s.params.len() as u64, &s.base),
        JobSpec::Optimize(o) => (o.varied_params().count() as u64, &o.base),
    };
    let samples = recorded_samples(base.steps(), base.record);
    fixed_row_bytes(params).saturating_add(SAMPLE_BYTES.saturating_mul(samples))
}

/// Estimated bytes of all of the job's rows: runs x [`row_bytes`], saturating.
pub fn output_bytes(job: &JobSpec) -> u64 {
    row_bytes(job).saturating_mul(job.runs())
}

/// A row without its trajectory.
fn fixed_row_bytes(params: u64) -> u64 {
    params.saturating_add(Metric::COUNT as u64).saturating_mul(8).saturating_add(ROW_FRAMING_BYTES)
}

/// Refuses a job whose rows would exceed `limits.max_job_output_bytes`, blaming what to change:
/// the recording of a dataset whose trajectories are the bulk, else its runs (a sweep's grid).
/// Only for jobs whose run count and step count are within their own limits (otherwise those
/// are reported and the estimate means nothing).
pub(super) fn check(job: &JobSpec, limits: &Limits, found: &mut Violations) {
    let runs = job.runs();
    let steps = job.base().steps();
    if runs == 0 || runs > limits.max_runs || steps > limits.max_steps_per_run {
        return;
    }
    let total = output_bytes(job);
    if total <= limits.max_job_output_bytes {
        return;
    }
    let row = row_bytes(job);
    let samples = recorded_samples(steps, job.base().record);
    let field = match job {
        JobSpec::MonteCarlo(_) => return,
        JobSpec::Sweep(_) => "sweep.axes",
        JobSpec::Sensitivity(_) => "sensitivity.samples",
        JobSpec::Optimize(_) => "optimize.max_generations",
        JobSpec::Dataset(d) => {
            let without_trajectories = fixed_row_bytes(d.params.len() as u64).saturating_mul(runs);
            if samples > 0 && without_trajectories <= limits.max_job_output_bytes {
                "record.every"
            } else {
                "dataset.runs"
            }
        }
    };
    let trajectory = if samples > 0 { format!(", {samples} trajectory samples each") } else { String::new() };
    found.push(
        field,
        format!(
            "the job's rows would take about {} ({runs} runs x {}{trajectory}), more than the limit of {}",
            human_bytes(total),
            human_bytes(row),
            human_bytes(limits.max_job_output_bytes),
        ),
    );
}

/// `123 bytes`, `4.0 KiB`, `1.7 TiB`: for messages.
pub(super) fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::super::validate_job;
    use super::*;
    use crate::config::SimConfig;
    use crate::distribution::Distribution;
    use crate::job::{Goal, MonteCarlo, Objective, ParamDist, Sweep};
    use crate::param::Param;
    use crate::sampling::Sampling;
    use crate::sweep::{Axis, AxisValues};

    fn dataset(runs: u64, record: Recording) -> JobSpec {
        let mut base = SimConfig::mc_tau(10.0); // 6000 steps
        base.record = record;
        let params = vec![ParamDist { param: Param::Tau, dist: Distribution::Uniform { lo: 5.0, hi: 15.0 } }];
        JobSpec::Dataset(MonteCarlo { base, runs, seed: 1, params, sampling: Sampling::Random, stop: None })
    }

    fn violations(job: &JobSpec, limits: &Limits) -> Vec<(String, String)> {
        match validate_job(job, limits) {
            Ok(()) => Vec::new(),
            Err(e) => e.into_violations().into_iter().map(|v| (v.field, v.reason)).collect(),
        }
    }

    #[test]
    fn samples_and_row_sizes() {
        assert_eq!(recorded_samples(6000, Recording::None), 0);
        assert_eq!(recorded_samples(6000, Recording::Full), 6001);
        assert_eq!(recorded_samples(6000, Recording::Every(1)), 6001);
        assert_eq!(recorded_samples(6000, Recording::Every(7)), 859);
        assert_eq!(recorded_samples(6000, Recording::Every(50)), 121);
        // Index, 1 parameter and 13 metrics; 6001 samples of 4 doubles.
        assert_eq!(row_bytes(&dataset(1, Recording::None)), 16 + 8 * 14);
        assert_eq!(row_bytes(&dataset(1, Recording::Every(1))), 16 + 8 * 14 + 32 * 6001);
        assert_eq!(output_bytes(&dataset(10, Recording::None)), 10 * (16 + 8 * 14));
        let JobSpec::Dataset(mc) = dataset(10, Recording::Every(1)) else { unreachable!() };
        assert_eq!(row_bytes(&JobSpec::MonteCarlo(mc)), 0, "Monte Carlo jobs write no rows");
        assert_eq!(output_bytes(&dataset(u64::MAX, Recording::Full)), u64::MAX, "saturates");
    }

    #[test]
    fn a_terabyte_dataset_is_refused_naming_its_recording() {
        // The campaign's case: 10^7 runs recording every step, each run within its limits.
        let job = dataset(10_000_000, Recording::Every(1));
        let found = violations(&job, &Limits::default());
        assert_eq!(found.len(), 1, "{found:?}");
        let (field, reason) = &found[0];
        assert_eq!(field, "record.every");
        assert_eq!(
            reason,
            "the job's rows would take about 1.7 TiB (10000000 runs x 187.7 KiB, 6001 trajectory samples \
             each), more than the limit of 8.0 GiB"
        );
        // The same runs without trajectories fit; decimated ones fit a raised limit.
        assert!(violations(&dataset(10_000_000, Recording::None), &Limits::default()).is_empty());
        let job = dataset(10_000_000, Recording::Every(50));
        assert_eq!(violations(&job, &Limits::default())[0].0, "record.every");
        let raised = Limits { max_job_output_bytes: 64 << 30, ..Limits::default() };
        assert!(violations(&job, &raised).is_empty());
    }

    #[test]
    fn runs_are_blamed_when_rows_without_trajectories_are_too_many() {
        let limits = Limits { max_job_output_bytes: 1 << 20, ..Limits::default() };
        // 128 bytes a row: 8192 rows fit in 1 MiB, 8193 do not.
        assert!(violations(&dataset(8_192, Recording::None), &limits).is_empty());
        let found = violations(&dataset(8_193, Recording::None), &limits);
        assert_eq!(found.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>(), ["dataset.runs"]);
        assert!(found[0].1.contains("(8193 runs x 128 bytes)"), "{}", found[0].1);
        // Trajectories on top of rows that are already too many: still the runs.
        assert_eq!(violations(&dataset(8_193, Recording::Every(10)), &limits)[0].0, "dataset.runs");
        // A sweep's grid.
        let axis =
            Axis { param: Param::Kp, values: AxisValues::Linspace { start: 1.0, stop: 2.0, num: 10_000 } };
        let objective = Objective { metric: Metric::Iae, goal: Goal::Minimize };
        let sweep =
            JobSpec::Sweep(Sweep { base: SimConfig::mc_tau(10.0), axes: vec![axis], objective, seed: 0 });
        assert!(violations(&sweep, &Limits::default()).is_empty());
        assert_eq!(violations(&sweep, &limits)[0].0, "sweep.axes");
    }

    #[test]
    fn jobs_over_other_limits_are_not_estimated() {
        let limits = Limits { max_job_output_bytes: 1, ..Limits::default() };
        let fields: Vec<String> =
            violations(&dataset(0, Recording::Every(1)), &limits).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["dataset.runs"]);
        let fields: Vec<String> =
            violations(&dataset(200_000_000, Recording::None), &limits).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["dataset.runs"]);
    }

    #[test]
    fn bytes_read_like_people_write_them() {
        assert_eq!(human_bytes(0), "0 bytes");
        assert_eq!(human_bytes(1023), "1023 bytes");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(8 << 30), "8.0 GiB");
        assert_eq!(human_bytes(u64::MAX), "16.0 EiB");
    }
}
