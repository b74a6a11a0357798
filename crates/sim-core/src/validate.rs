//! Checks configurations and jobs before anything runs, naming every offending field and why.
//!
//! Field paths: a configuration's fields are unprefixed (`plant.tau`, `controller.u_max`,
//! `input.points[2].at`, `dt`, `record.every`), spelled by [`Param::path`](crate::Param::path)
//! for the fields a job may vary (so a ramp's `to` is `input.value`, its `start` `input.at`);
//! a job's fields are under its kind (`monte_carlo.runs`, `monte_carlo.params[0].sd`,
//! `sweep.axes[1].stop`, `sweep.objective`, `dataset.params[1].param`).
//!
//! A job is valid when every one of its runs is: a varied parameter is checked over the
//! whole range its distribution's support or its axis covers (so `plant.tau ~ normal(10, 2)`
//! is refused, since it can sample `tau <= 0`), and rules between two fields (`u_min < u_max`,
//! `h0 <= h_max`) against the worst case of both ranges. Validation never panics and reports
//! every violation, not only the first.

mod config_rules;
mod domain;
mod job_rules;
mod optimize_rules;
mod output;

use std::fmt;

pub use optimize_rules::{MAX_PARAMS as MAX_OPTIMIZE_PARAMS, MAX_POPULATION};
pub use output::{output_bytes, recorded_samples, row_bytes};

use crate::config::SimConfig;
use crate::job::JobSpec;

/// Resource limits a configuration or job must stay within. Every service that validates
/// must use the same values (they come from one set of settings: `tanksim_server::limits`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `round(horizon / dt)`.
    pub max_steps_per_run: u64,
    /// Monte Carlo and dataset `runs`; sweep grid points.
    pub max_runs: u64,
    /// Trajectory samples one run may record.
    pub max_recorded_samples: u64,
    /// Bytes of per-run rows one job may write, as [`output_bytes`] estimates them (the
    /// per-run limits alone allow a dataset of terabytes).
    pub max_job_output_bytes: u64,
}

impl Limits {
    /// The defaults, as a `const` so command-line defaults can name them.
    pub const DEFAULT: Limits = Limits {
        max_steps_per_run: 1_000_000,
        max_runs: 100_000_000,
        max_recorded_samples: 100_000,
        max_job_output_bytes: 8 << 30,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// One invalid field: its path and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldViolation {
    pub field: String,
    pub reason: String,
}

/// Every violation found in a configuration or job (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValidationError {
    violations: Vec<FieldViolation>,
}

impl ValidationError {
    /// The violations, in the order they were found (at least one).
    pub fn violations(&self) -> &[FieldViolation] {
        &self.violations
    }

    pub fn into_violations(self) -> Vec<FieldViolation> {
        self.violations
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, v) in self.violations.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{v}")?;
        }
        Ok(())
    }
}

/// Checks one run's configuration.
pub fn validate_config(config: &SimConfig, limits: &Limits) -> Result<(), ValidationError> {
    let mut found = Violations::default();
    config_rules::check(config, limits, &config_rules::Sources::fixed(), &mut found);
    found.into_result()
}

/// Checks a job: its own fields, and every run's configuration (the base configuration with
/// each varied parameter over its whole range).
pub fn validate_job(job: &JobSpec, limits: &Limits) -> Result<(), ValidationError> {
    let mut found = Violations::default();
    let sources = job_rules::check(job, limits, &mut found);
    output::check(job, limits, &mut found);
    config_rules::check(job.base(), limits, &sources, &mut found);
    found.into_result()
}

/// The violations found so far.
#[derive(Debug, Default)]
struct Violations(Vec<FieldViolation>);

impl Violations {
    fn push(&mut self, field: impl Into<String>, reason: impl Into<String>) {
        self.0.push(FieldViolation { field: field.into(), reason: reason.into() });
    }

    fn into_result(self) -> Result<(), ValidationError> {
        if self.0.is_empty() { Ok(()) } else { Err(ValidationError { violations: self.0 }) }
    }
}

#[cfg(test)]
mod tests;
