//! The limits every service enforces, as one set of options: the gateway validates jobs with
//! them at the edge, the dispatcher re-validates with the same values (limits raised on the
//! gateway alone made the dispatcher refuse jobs the gateway had accepted), and every server
//! and client hop sizes its messages by the same message limit. `#[command(flatten)]` them into
//! a service's options; in Kubernetes one `limits` ConfigMap feeds every service.

use clap::Args;
use clap::builder::RangedU64ValueParser;
use tanksim_sim_core::validate::Limits;

/// Default of `--max-message-bytes`: 16 MiB.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 16 << 20;

/// What an internal hop accepts beyond the edge's limit: an internal request wraps the public
/// one (`DispatchJobRequest { spec }` adds a tag and a length), so a request just under the
/// edge's limit must still pass the hop behind it.
pub const INTERNAL_HEADROOM_BYTES: usize = 1 << 10;

/// The limits' options (`TANKSIM_MAX_*`). The defaults are [`Limits::DEFAULT`] and
/// [`DEFAULT_MAX_MESSAGE_BYTES`]; `docs/security.md` ("Limits") lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Args)]
pub struct LimitsArgs {
    /// Most runs one job may have (Monte Carlo and dataset runs, sweep grid points).
    #[arg(long, env = "TANKSIM_MAX_RUNS", default_value_t = Limits::DEFAULT.max_runs,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_runs: u64,
    /// Most steps one run may have (horizon / dt).
    #[arg(long, env = "TANKSIM_MAX_STEPS", default_value_t = Limits::DEFAULT.max_steps_per_run,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_steps: u64,
    /// Most trajectory samples one run may record (Simulate, dataset jobs).
    #[arg(long, env = "TANKSIM_MAX_TRAJECTORY", default_value_t = Limits::DEFAULT.max_recorded_samples,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_trajectory: u64,
    /// Most bytes of per-run rows one job may write (dataset and sweep jobs: runs x the bytes
    /// of a row, its recorded trajectory included).
    #[arg(long, env = "TANKSIM_MAX_JOB_OUTPUT_BYTES", default_value_t = Limits::DEFAULT.max_job_output_bytes,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_job_output_bytes: u64,
    /// Largest request or response message, in bytes: enforced at the gateway, and accepted by
    /// every hop behind it. A larger request is refused with RESOURCE_EXHAUSTED.
    #[arg(long, env = "TANKSIM_MAX_MESSAGE_BYTES", default_value_t = DEFAULT_MAX_MESSAGE_BYTES,
          value_parser = RangedU64ValueParser::<usize>::new().range(1024..=1 << 30))]
    pub max_message_bytes: usize,
}

impl Default for LimitsArgs {
    fn default() -> Self {
        let l = Limits::DEFAULT;
        LimitsArgs {
            max_runs: l.max_runs,
            max_steps: l.max_steps_per_run,
            max_trajectory: l.max_recorded_samples,
            max_job_output_bytes: l.max_job_output_bytes,
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
        }
    }
}

impl LimitsArgs {
    /// What jobs and configurations are validated against.
    pub fn validation(&self) -> Limits {
        Limits {
            max_steps_per_run: self.max_steps,
            max_runs: self.max_runs,
            max_recorded_samples: self.max_trajectory,
            max_job_output_bytes: self.max_job_output_bytes,
        }
    }

    /// The message limit of internal hops: the edge's plus [`INTERNAL_HEADROOM_BYTES`].
    pub fn internal_message_bytes(&self) -> usize {
        self.max_message_bytes.saturating_add(INTERNAL_HEADROOM_BYTES)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        limits: LimitsArgs,
    }

    #[test]
    fn the_defaults_are_the_shared_constants() {
        let parsed = Cli::try_parse_from(["t"]).expect("defaults parse").limits;
        assert_eq!(parsed, LimitsArgs::default());
        assert_eq!(parsed.validation(), Limits::DEFAULT);
        assert_eq!(parsed.max_message_bytes, 16 << 20);
        assert_eq!(parsed.internal_message_bytes(), (16 << 20) + 1024);
    }

    #[test]
    fn flags_set_every_limit_and_nonsense_is_refused() {
        let args = [
            "t",
            "--max-runs=5",
            "--max-steps=6",
            "--max-trajectory=7",
            "--max-job-output-bytes=8",
            "--max-message-bytes=4096",
        ];
        let l = Cli::try_parse_from(args).expect("parses").limits;
        let want =
            Limits { max_runs: 5, max_steps_per_run: 6, max_recorded_samples: 7, max_job_output_bytes: 8 };
        assert_eq!(l.validation(), want);
        assert_eq!(l.max_message_bytes, 4096);
        for bad in ["--max-runs=0", "--max-job-output-bytes=0", "--max-message-bytes=10", "--max-steps=-1"] {
            assert!(Cli::try_parse_from(["t", bad]).is_err(), "{bad}");
        }
    }
}
