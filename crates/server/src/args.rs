//! Parsing a service's settings: invalid configuration exits with code 64 (EX_USAGE) before
//! any port is bound; `--help` and `--version` print and exit 0.

use std::time::Duration;

use clap::Parser;

/// How long a service drains after SIGTERM unless configured otherwise: under Kubernetes'
/// default `terminationGracePeriodSeconds` (30 s), leaving time to flush telemetry and exit.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_millis(DEFAULT_SHUTDOWN_GRACE_MS);
const DEFAULT_SHUTDOWN_GRACE_MS: u64 = 20_000;

/// The shutdown option every service has (flattened into its own options).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Args)]
pub struct ShutdownArgs {
    /// Milliseconds after SIGTERM for work in flight to finish (calls; a worker's chunk, else
    /// handed back); open streams end at once with UNAVAILABLE. Keep it under the pod's
    /// terminationGracePeriodSeconds.
    #[arg(long = "shutdown-grace", env = "TANKSIM_SHUTDOWN_GRACE_MS", value_name = "MS",
          default_value_t = DEFAULT_SHUTDOWN_GRACE_MS)]
    pub shutdown_grace_ms: u64,
}

impl ShutdownArgs {
    /// The grace period (see [`crate::Shell`]).
    pub fn grace(&self) -> Duration {
        Duration::from_millis(self.shutdown_grace_ms)
    }
}

/// Exit code for invalid configuration (sysexits.h `EX_USAGE`).
pub const EXIT_CONFIG: i32 = 64;

/// Parses `T` from the command line and environment, exiting 64 on invalid input.
pub fn parse_or_exit<T: Parser>() -> T {
    match T::try_parse() {
        Ok(args) => args,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_CONFIG } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Parser)]
    struct Service {
        #[command(flatten)]
        shutdown: ShutdownArgs,
    }

    #[test]
    fn the_grace_is_in_milliseconds_and_defaults_under_kubernetes_30_s() {
        let default = Service::try_parse_from(["s"]).expect("defaults parse").shutdown.grace();
        assert_eq!(default, DEFAULT_SHUTDOWN_GRACE);
        assert!(default < Duration::from_secs(30));
        let set = Service::try_parse_from(["s", "--shutdown-grace", "2500"]).expect("parses");
        assert_eq!(set.shutdown.grace(), Duration::from_millis(2500));
        assert!(Service::try_parse_from(["s", "--shutdown-grace", "-1"]).is_err());
    }
}
