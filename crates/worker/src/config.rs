//! The worker's configuration: command-line options with `TANKSIM_*` environment fallbacks
//! (parsed once, validated before anything binds or connects), and the plain
//! [`WorkerSettings`] that [`crate::run`] takes, so the embedded mode builds them without clap.

use std::net::SocketAddr;
use std::time::Duration;

use tanksim_telemetry::{TelemetryArgs, TelemetryConfig};

use crate::Error;

/// `service.name` of the worker's traces, and the `service` label of its metrics.
pub const SERVICE_NAME: &str = "tanksim-worker";

/// Defaults, shared by the command line and [`WorkerSettings::new`].
const VISIBILITY_TIMEOUT_MS: u64 = 30_000;
const CLAIM_INTERVAL_MS: u64 = 5_000;
const MAX_DELIVERIES: u64 = 3;
const READ_BLOCK_MS: u64 = 1_000;
/// More simulation threads than this is a typo, not a machine.
const MAX_THREADS: usize = 1024;

/// `tanksim-worker`: simulates job chunks from the task stream and reports them to the
/// results service.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "tanksim-worker", version, about)]
pub struct WorkerArgs {
    /// Redis holding the task stream and the job store.
    /// `redis://USER:PASSWORD@HOST:PORT`, or `rediss://` for TLS (the value is not shown here).
    #[arg(long, env = "TANKSIM_REDIS_URL", default_value = "redis://127.0.0.1:6379", hide_env_values = true)]
    pub redis_url: String,
    /// The results service the worker reports chunks to.
    #[arg(long, env = "TANKSIM_RESULTS_URL", default_value = "http://127.0.0.1:50053")]
    pub results_url: String,
    /// Consumer name in the workers' group; must be stable across restarts of the same
    /// worker (in Kubernetes: the pod name) so its pending chunks are re-read. Default:
    /// `$HOSTNAME`, else `worker-<random>`.
    #[arg(long, env = "TANKSIM_WORKER_NAME")]
    pub name: Option<String>,
    /// The host name, the default consumer name (Kubernetes sets it to the pod name).
    #[arg(long, env = "HOSTNAME", hide = true)]
    pub hostname: Option<String>,
    /// Address of the gRPC health service (the worker serves nothing else).
    #[arg(long, env = "TANKSIM_WORKER_LISTEN", default_value = "0.0.0.0:50054")]
    pub listen: SocketAddr,
    /// Simulation threads per chunk (default: the available parallelism).
    #[arg(long, env = "TANKSIM_WORKER_THREADS")]
    pub threads: Option<usize>,
    /// Milliseconds a delivered chunk may stay unacknowledged before another worker claims it.
    #[arg(long = "visibility-timeout", env = "TANKSIM_VISIBILITY_TIMEOUT_MS", value_name = "MS", default_value_t = VISIBILITY_TIMEOUT_MS)]
    pub visibility_timeout_ms: u64,
    /// Milliseconds between looks for chunks idle longer than the visibility timeout.
    #[arg(long = "claim-interval", env = "TANKSIM_CLAIM_INTERVAL_MS", value_name = "MS", default_value_t = CLAIM_INTERVAL_MS)]
    pub claim_interval_ms: u64,
    /// Deliveries after which a chunk goes to the dead-letter stream and its job fails.
    #[arg(long, env = "TANKSIM_MAX_DELIVERIES", default_value_t = MAX_DELIVERIES)]
    pub max_deliveries: u64,
    /// After SIGTERM, how long the current chunk may take to finish before it is handed back.
    #[command(flatten)]
    pub shutdown: tanksim_server::ShutdownArgs,
    /// Milliseconds one read of the task stream waits for a new chunk (bounds how long a
    /// shutdown waits for the read in progress).
    #[arg(long = "block", env = "TANKSIM_READ_BLOCK_MS", value_name = "MS", default_value_t = READ_BLOCK_MS)]
    pub block_ms: u64,
    /// mTLS: the worker's certificate, presented to the results service (the only service
    /// that takes chunk reports from workers only). The health port stays plaintext: it
    /// serves nothing else.
    #[command(flatten)]
    pub mesh: tanksim_server::tls::MeshTlsArgs,
    /// Test-only fault hook: abort the process when starting chunk N of any job.
    #[arg(long, env = "TANKSIM_FAULT_ABORT_ON_CHUNK", value_name = "N", hide = true)]
    pub fault_abort_on_chunk: Option<u32>,
    /// Logs, traces and the metrics port.
    #[command(flatten)]
    pub telemetry: TelemetryArgs,
}

/// What [`crate::run`] needs to know, with durations: built by [`WorkerArgs::validate`] or,
/// in the embedded mode, by [`WorkerSettings::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerSettings {
    /// The consumer name in the workers' group.
    pub name: String,
    /// Simulation threads per chunk (>= 1).
    pub threads: usize,
    /// How long a delivered entry may stay unacknowledged before it is claimed by a worker.
    pub visibility_timeout: Duration,
    /// How often to look for idle entries to claim.
    pub claim_interval: Duration,
    /// An entry delivered more often than this is dead-lettered (>= 1).
    pub max_deliveries: u64,
    /// After shutdown is requested, how long the chunk in flight may take to finish.
    pub shutdown_grace: Duration,
    /// How long one read of new entries waits.
    pub block: Duration,
    /// Test-only: abort the process on starting this chunk of any job.
    pub fault_abort_on_chunk: Option<u32>,
}

impl WorkerSettings {
    /// The defaults, with consumer name `name` and one simulation thread per available core.
    pub fn new(name: impl Into<String>) -> Self {
        WorkerSettings {
            name: name.into(),
            threads: available_threads(),
            visibility_timeout: Duration::from_millis(VISIBILITY_TIMEOUT_MS),
            claim_interval: Duration::from_millis(CLAIM_INTERVAL_MS),
            max_deliveries: MAX_DELIVERIES,
            shutdown_grace: tanksim_server::DEFAULT_SHUTDOWN_GRACE,
            block: Duration::from_millis(READ_BLOCK_MS),
            fault_abort_on_chunk: None,
        }
    }

    /// Checks the settings make sense (the binary exits 64 otherwise).
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |msg: &str| Err(Error::Config(msg.to_owned()));
        if self.name.trim().is_empty() || self.name.chars().any(char::is_whitespace) {
            return bad("--name must be non-empty and without whitespace");
        }
        if !(1..=MAX_THREADS).contains(&self.threads) {
            return Err(Error::Config(format!("--threads must be in 1..={MAX_THREADS}")));
        }
        if self.max_deliveries == 0 {
            return bad("--max-deliveries must be at least 1");
        }
        // Zero would mean "block forever" to Redis, and "claim at once" or "spin" elsewhere.
        for (value, option) in [
            (self.visibility_timeout, "--visibility-timeout"),
            (self.claim_interval, "--claim-interval"),
            (self.block, "--block"),
        ] {
            if value.is_zero() {
                return Err(Error::Config(format!("{option} must be positive")));
            }
        }
        Ok(())
    }
}

/// A validated command line, split into what each part of `main` needs.
#[derive(Debug, Clone)]
pub struct Config {
    pub settings: WorkerSettings,
    pub redis_url: String,
    pub results_url: String,
    pub listen: SocketAddr,
    pub mesh: tanksim_server::tls::MeshTlsArgs,
    pub telemetry: TelemetryConfig,
}

impl WorkerArgs {
    /// Validates every option and resolves the defaults that depend on the machine.
    pub fn validate(self) -> Result<Config, Error> {
        let name = match (self.name, self.hostname) {
            (Some(name), _) => name,
            (None, Some(host)) if !host.trim().is_empty() => host,
            // Not stable across restarts: pending entries of a previous run are claimed by
            // the group after the visibility timeout instead of re-read at once.
            _ => format!("worker-{}", &uuid::Uuid::now_v7().simple().to_string()[20..]),
        };
        let settings = WorkerSettings {
            name,
            threads: self.threads.unwrap_or_else(available_threads),
            visibility_timeout: Duration::from_millis(self.visibility_timeout_ms),
            claim_interval: Duration::from_millis(self.claim_interval_ms),
            max_deliveries: self.max_deliveries,
            shutdown_grace: self.shutdown.grace(),
            block: Duration::from_millis(self.block_ms),
            fault_abort_on_chunk: self.fault_abort_on_chunk,
        };
        settings.validate()?;
        let redis_schemes = ["redis://", "rediss://", "unix://", "redis+unix://"];
        if !redis_schemes.iter().any(|s| self.redis_url.starts_with(s)) {
            let shown = tanksim_broker::url::redacted(&self.redis_url);
            return Err(Error::Config(format!("--redis-url {shown:?} is not a redis:// URL")));
        }
        tonic::transport::Endpoint::from_shared(self.results_url.clone())
            .map_err(|e| Error::Config(format!("--results-url {:?}: {e}", self.results_url)))?;
        Ok(Config {
            settings,
            redis_url: self.redis_url,
            results_url: self.results_url,
            listen: self.listen,
            mesh: self.mesh,
            telemetry: self.telemetry.config(SERVICE_NAME, env!("CARGO_PKG_VERSION")),
        })
    }
}

fn available_threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn parse(args: &[&str]) -> Result<Config, Error> {
        let mut argv = vec!["tanksim-worker", "--hostname", ""];
        argv.extend_from_slice(args);
        WorkerArgs::try_parse_from(argv).map_err(|e| Error::Config(e.to_string()))?.validate()
    }

    #[test]
    fn defaults_and_milliseconds_become_durations() {
        let c = parse(&["--name", "w1", "--visibility-timeout", "1500", "--threads", "3"]).expect("valid");
        assert_eq!(c.settings.name, "w1");
        assert_eq!(c.settings.threads, 3);
        assert_eq!(c.settings.visibility_timeout, Duration::from_millis(1500));
        assert_eq!(c.settings.max_deliveries, 3);
        assert_eq!(c.settings.block, Duration::from_secs(1));
        assert_eq!(c.listen.port(), 50054);
    }

    #[test]
    fn the_name_falls_back_to_the_host_name_then_to_a_random_one() {
        let c = WorkerArgs::try_parse_from(["tanksim-worker", "--hostname", "pod-7"]).expect("parses");
        assert_eq!(c.validate().expect("valid").settings.name, "pod-7");
        let (a, b) = (parse(&[]).expect("valid"), parse(&[]).expect("valid"));
        assert!(a.settings.name.starts_with("worker-") && a.settings.name.len() == 19);
        assert_ne!(a.settings.name, b.settings.name);
    }

    #[test]
    fn rejects_nonsense() {
        for args in [
            &["--max-deliveries", "0"][..],
            &["--threads", "0"],
            &["--block", "0"],
            &["--claim-interval", "0"],
            &["--name", "two words"],
            &["--redis-url", "http://localhost"],
            &["--results-url", "not a url"],
        ] {
            assert!(matches!(parse(args), Err(Error::Config(_))), "{args:?}");
        }
    }
}
