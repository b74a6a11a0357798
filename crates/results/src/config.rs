//! The results service's configuration: command-line flags with `TANKSIM_*` environment
//! fallbacks, parsed once in `main` and checked before any port is bound.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tanksim_telemetry::TelemetryArgs;

/// `service.name` of the results service's traces, and the `service` label of its metrics.
pub const SERVICE_NAME: &str = "tanksim-results";

/// How long ended jobs are kept by default: a week.
pub const DEFAULT_JOB_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

/// `tanksim-results` flags.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "tanksim-results", version, about = "tanksim's results service")]
pub struct ResultsArgs {
    /// Redis holding job state (shared by every replica).
    /// `redis://USER:PASSWORD@HOST:PORT`, or `rediss://` for TLS (the value is not shown here).
    #[arg(long, env = "TANKSIM_REDIS_URL", default_value = "redis://127.0.0.1:6379", hide_env_values = true)]
    pub redis_url: String,
    /// Address to serve gRPC on (ResultsService and the read side of JobService).
    #[arg(long, env = "TANKSIM_RESULTS_LISTEN", default_value = "0.0.0.0:50053")]
    pub listen: SocketAddr,
    /// Where per-run rows of dataset and sweep jobs are kept (created if missing; every
    /// replica must see the same directory, e.g. a ReadWriteMany volume).
    #[arg(long, env = "TANKSIM_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Watchers re-read a job's status at least this often (milliseconds), in case a change
    /// notification was lost.
    #[arg(long = "watch-poll", env = "TANKSIM_WATCH_POLL_MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub watch_poll_ms: u64,
    /// How long an ended job (succeeded, failed or cancelled) is kept, in seconds: then its
    /// status, spec, results and rows are deleted and it is unknown (NOT_FOUND). 0 keeps ended
    /// jobs forever.
    #[arg(long = "job-retention", env = "TANKSIM_JOB_RETENTION_SECONDS", value_name = "SECONDS",
          default_value_t = DEFAULT_JOB_RETENTION.as_secs())]
    pub job_retention_seconds: u64,
    /// The limits every service shares (in Kubernetes the same `limits` ConfigMap as the
    /// gateway's and the dispatcher's); this service uses the message size.
    #[command(flatten)]
    pub limits: tanksim_server::LimitsArgs,
    /// How long a shutdown may take.
    #[command(flatten)]
    pub shutdown: tanksim_server::ShutdownArgs,
    /// mTLS: the results service's certificate; only workers may report, only the gateway
    /// may read.
    #[command(flatten)]
    pub mesh: tanksim_server::tls::MeshTlsArgs,
    /// Logs, traces and the metrics port.
    #[command(flatten)]
    pub telemetry: TelemetryArgs,
}

/// What [`crate::run`] and [`crate::services`] need: plain values, no parsing.
#[derive(Debug, Clone)]
pub struct ResultsSettings {
    /// Root of the rows files (`<data_dir>/<job id>/chunk-000123.rows`); must exist and be
    /// writable (see [`ResultsSettings::new`]).
    pub data_dir: PathBuf,
    /// How often a watcher re-reads a job's status without a notification.
    pub watch_poll: Duration,
    /// How long the drain after SIGTERM may take (see [`tanksim_server::Shell`]).
    pub shutdown_grace: Duration,
    /// The largest `JobService` request or response (the edge's limit).
    pub max_message_bytes: usize,
    /// How long an ended job is kept; `None`: forever.
    pub job_retention: Option<Duration>,
}

/// A configuration the service cannot start with (`main` exits with code 64).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("data directory {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
}

impl ResultsSettings {
    /// Settings over `data_dir`, which is created if missing and must accept a file (checked
    /// now, so a read-only volume fails at start rather than on the first dataset chunk), with
    /// the default shutdown grace, message limit and retention.
    pub fn new(data_dir: impl Into<PathBuf>, watch_poll: Duration) -> Result<Self, ConfigError> {
        let data_dir = data_dir.into();
        check_writable(&data_dir)
            .map_err(|source| ConfigError::DataDir { path: data_dir.clone(), source })?;
        Ok(ResultsSettings {
            data_dir,
            watch_poll,
            shutdown_grace: tanksim_server::DEFAULT_SHUTDOWN_GRACE,
            max_message_bytes: tanksim_server::limits::DEFAULT_MAX_MESSAGE_BYTES,
            job_retention: Some(DEFAULT_JOB_RETENTION),
        })
    }
}

impl ResultsArgs {
    /// The checked settings.
    pub fn settings(&self) -> Result<ResultsSettings, ConfigError> {
        let settings = ResultsSettings::new(&self.data_dir, Duration::from_millis(self.watch_poll_ms))?;
        Ok(ResultsSettings {
            shutdown_grace: self.shutdown.grace(),
            max_message_bytes: self.limits.max_message_bytes,
            job_retention: (self.job_retention_seconds > 0)
                .then(|| Duration::from_secs(self.job_retention_seconds)),
            ..settings
        })
    }
}

fn check_writable(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let probe = dir.join(format!(".write-check-{}", uuid::Uuid::now_v7().simple()));
    std::fs::write(&probe, b"ok")?;
    std::fs::remove_file(&probe)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn defaults_and_a_missing_directory_is_created() {
        let args = ResultsArgs::try_parse_from(["tanksim-results"]).expect("defaults parse");
        assert_eq!(args.listen.port(), 50053);
        assert_eq!(args.watch_poll_ms, 1000);
        assert_eq!(args.job_retention_seconds, 7 * 24 * 3600);
        let forever =
            ResultsArgs::try_parse_from(["tanksim-results", "--job-retention", "0"]).expect("parses");
        assert_eq!(forever.job_retention_seconds, 0);
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("a/b");
        let settings = ResultsSettings::new(&dir, Duration::from_millis(5)).expect("creatable");
        assert!(settings.data_dir.is_dir());
    }

    #[test]
    fn an_unusable_directory_is_rejected() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let file = tmp.path().join("plain-file");
        std::fs::write(&file, b"x").expect("write");
        let err =
            ResultsSettings::new(file.join("sub"), Duration::from_secs(1)).expect_err("not a directory");
        assert!(err.to_string().contains("plain-file"), "{err}");
        assert!(ResultsArgs::try_parse_from(["tanksim-results", "--watch-poll", "0"]).is_err());
    }
}
