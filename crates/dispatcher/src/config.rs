//! The dispatcher's settings, parsed once from the command line and environment.

use std::time::Duration;

use clap::Parser;
use tanksim_telemetry::TelemetryArgs;

/// Default of `--queue-backlog`: with chunks of ~40 ms, a job behind others starts within
/// about a second on two workers.
pub const DEFAULT_QUEUE_BACKLOG: u32 = 32;
/// Default of `--queue-high-water`: a million chunks (ten billion runs in the default chunks,
/// hours of work for any fleet) waiting for the stream.
pub const DEFAULT_QUEUE_HIGH_WATER: u64 = 1_000_000;

/// `tanksim-dispatcher` options.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "tanksim-dispatcher",
    version,
    about = "Turns accepted jobs into chunk tasks on the Redis stream"
)]
pub struct DispatcherArgs {
    /// Redis holding the task stream and job state.
    /// `redis://USER:PASSWORD@HOST:PORT`, or `rediss://` for TLS (the value is not shown here).
    #[arg(long, env = "TANKSIM_REDIS_URL", default_value = "redis://127.0.0.1:6379", hide_env_values = true)]
    pub redis_url: String,
    /// gRPC listen address.
    #[arg(long, env = "TANKSIM_DISPATCHER_LISTEN", default_value = "0.0.0.0:50052")]
    pub listen: std::net::SocketAddr,
    /// Runs per chunk (one stream entry, one worker task). 10,000 MC-tau runs take ~40 ms on
    /// one core: long enough that per-chunk costs (a stream round trip, a report) stay ~1 %,
    /// short enough that a killed worker loses little and progress moves smoothly.
    #[arg(long, env = "TANKSIM_CHUNK_SIZE", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub chunk_size: u64,
    /// Most chunks appended per pipelined round trip.
    #[arg(long, env = "TANKSIM_ENQUEUE_BATCH", default_value_t = 1_000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub enqueue_batch: u32,
    /// Chunks kept on the stream waiting for a worker (the consumer group's lag), chosen
    /// fairly across tenants and jobs as workers take them. A job submitted behind others
    /// waits for about this many chunks; KEDA scales workers on this lag, so it must be at
    /// least the worker ScaledObject's `maxReplicaCount x lagCount`.
    #[arg(long, env = "TANKSIM_QUEUE_BACKLOG", default_value_t = DEFAULT_QUEUE_BACKLOG, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub queue_backlog: u32,
    /// Load shedding: while this many chunks of all tenants wait for the stream, new jobs are
    /// refused with RESOURCE_EXHAUSTED (retry in 30 s), whatever their tenants' quotas
    /// (0: never).
    #[arg(long, env = "TANKSIM_QUEUE_HIGH_WATER", value_name = "CHUNKS", default_value_t = DEFAULT_QUEUE_HIGH_WATER)]
    pub queue_high_water: u64,
    /// How often the queue gauges (`tanksim_queue_*`) are sampled from Redis, in milliseconds.
    /// Every replica samples the one shared stream, so all replicas export the same numbers.
    #[arg(long = "queue-metrics-interval", env = "TANKSIM_QUEUE_METRICS_INTERVAL_MS", value_name = "MS",
          default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub queue_metrics_interval_ms: u64,
    /// What jobs and messages may be: the same options, and in Kubernetes the same `limits`
    /// ConfigMap, as the gateway's, so the dispatcher accepts every job the gateway accepted.
    #[command(flatten)]
    pub limits: tanksim_server::LimitsArgs,
    /// What each tenant may hold: the same options, and in Kubernetes the same `quotas`
    /// ConfigMap, as the gateway's (which enforces the request rate; the dispatcher the jobs).
    #[command(flatten)]
    pub quotas: tanksim_server::QuotasArgs,
    /// How long a shutdown may take.
    #[command(flatten)]
    pub shutdown: tanksim_server::ShutdownArgs,
    /// mTLS: the dispatcher's certificate; only the gateway may call it.
    #[command(flatten)]
    pub mesh: tanksim_server::tls::MeshTlsArgs,
    /// Logs, traces and the metrics port.
    #[command(flatten)]
    pub telemetry: TelemetryArgs,
}

/// What the dispatcher needs at run time (built from [`DispatcherArgs`] or directly by the
/// embedded mode).
#[derive(Debug, Clone)]
pub struct DispatcherSettings {
    pub chunk_size: u64,
    pub enqueue_batch: u32,
    /// Chunks kept on the stream waiting for a worker.
    pub queue_backlog: u32,
    /// Chunks waiting for the stream at which new jobs are shed (0: never).
    pub queue_high_water: u64,
    /// How often the queue gauges are sampled (must not be zero).
    pub queue_metrics_interval: Duration,
    /// How long the drain after SIGTERM may take (see [`tanksim_server::Shell`]).
    pub shutdown_grace: Duration,
    /// Jobs are validated against these, and requests up to their message size accepted.
    pub limits: tanksim_server::LimitsArgs,
    /// Each tenant's job limits, checked when a job is created.
    pub quotas: tanksim_server::QuotaBook,
}

impl Default for DispatcherSettings {
    fn default() -> Self {
        Self {
            chunk_size: 10_000,
            enqueue_batch: 1_000,
            queue_backlog: DEFAULT_QUEUE_BACKLOG,
            queue_high_water: DEFAULT_QUEUE_HIGH_WATER,
            queue_metrics_interval: Duration::from_secs(5),
            shutdown_grace: tanksim_server::DEFAULT_SHUTDOWN_GRACE,
            limits: tanksim_server::LimitsArgs::default(),
            quotas: tanksim_server::QuotaBook::default(),
        }
    }
}

impl From<&DispatcherArgs> for DispatcherSettings {
    fn from(a: &DispatcherArgs) -> Self {
        Self {
            chunk_size: a.chunk_size,
            enqueue_batch: a.enqueue_batch,
            queue_backlog: a.queue_backlog,
            queue_high_water: a.queue_high_water,
            queue_metrics_interval: Duration::from_millis(a.queue_metrics_interval_ms),
            shutdown_grace: a.shutdown.grace(),
            limits: a.limits,
            quotas: a.quotas.book(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_metrics_interval_defaults_to_five_seconds_and_must_be_positive() {
        let args = DispatcherArgs::try_parse_from(["tanksim-dispatcher"]).expect("defaults parse");
        assert_eq!(DispatcherSettings::from(&args).queue_metrics_interval, Duration::from_secs(5));
        let args = DispatcherArgs::try_parse_from(["d", "--queue-metrics-interval", "250"]).expect("parses");
        assert_eq!(DispatcherSettings::from(&args).queue_metrics_interval, Duration::from_millis(250));
        assert!(DispatcherArgs::try_parse_from(["d", "--queue-metrics-interval", "0"]).is_err());
        assert!(DispatcherArgs::try_parse_from(["d", "--admin-listen", "off"]).is_ok(), "telemetry options");
    }

    #[test]
    fn the_quotas_are_the_shared_options() {
        let args = DispatcherArgs::try_parse_from(["d"]).expect("defaults parse");
        let defaults = tanksim_server::quotas::TenantQuota::DEFAULT;
        assert_eq!(DispatcherSettings::from(&args).quotas.for_tenant("acme"), defaults);
        let args = DispatcherArgs::try_parse_from(["d", "--quota-concurrent-jobs", "3"]).expect("parses");
        assert_eq!(DispatcherSettings::from(&args).quotas.for_tenant("acme").jobs.concurrent_jobs, 3);
    }

    #[test]
    fn the_limits_are_the_shared_options() {
        let args = DispatcherArgs::try_parse_from(["d"]).expect("defaults parse");
        assert_eq!(DispatcherSettings::from(&args).limits, tanksim_server::LimitsArgs::default());
        let args = DispatcherArgs::try_parse_from(["d", "--max-steps", "2000000"]).expect("parses");
        assert_eq!(DispatcherSettings::from(&args).limits.validation().max_steps_per_run, 2_000_000);
    }
}
