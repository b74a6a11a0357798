//! The dispatcher's settings, parsed once from the command line and environment.

use clap::Parser;

/// `tanksim-dispatcher` options.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "tanksim-dispatcher",
    version,
    about = "Turns accepted jobs into chunk tasks on the Redis stream"
)]
pub struct DispatcherArgs {
    /// Redis holding the task stream and job state.
    #[arg(long, env = "TANKSIM_REDIS_URL", default_value = "redis://127.0.0.1:6379")]
    pub redis_url: String,
    /// gRPC listen address.
    #[arg(long, env = "TANKSIM_DISPATCHER_LISTEN", default_value = "0.0.0.0:50052")]
    pub listen: std::net::SocketAddr,
    /// Runs per chunk (one stream entry, one worker task). 10,000 MC-tau runs take ~40 ms on
    /// one core: long enough that per-chunk costs (a stream round trip, a report) stay ~1 %,
    /// short enough that a killed worker loses little and progress moves smoothly.
    #[arg(long, env = "TANKSIM_CHUNK_SIZE", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub chunk_size: u64,
    /// Chunks appended per pipelined round trip.
    #[arg(long, env = "TANKSIM_ENQUEUE_BATCH", default_value_t = 1_000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub enqueue_batch: u32,
    /// Log format: json (for log agents) or pretty.
    #[arg(long, env = "TANKSIM_LOG_FORMAT", default_value = "json")]
    pub log_format: tanksim_telemetry::LogFormat,
    /// Log filter (`RUST_LOG` syntax), default `info`.
    #[arg(long, env = "RUST_LOG")]
    pub log_filter: Option<String>,
}

/// What the dispatcher needs at run time (built from [`DispatcherArgs`] or directly by the
/// embedded mode).
#[derive(Debug, Clone, Copy)]
pub struct DispatcherSettings {
    pub chunk_size: u64,
    pub enqueue_batch: u32,
}

impl Default for DispatcherSettings {
    fn default() -> Self {
        Self { chunk_size: 10_000, enqueue_batch: 1_000 }
    }
}

impl From<&DispatcherArgs> for DispatcherSettings {
    fn from(a: &DispatcherArgs) -> Self {
        Self { chunk_size: a.chunk_size, enqueue_batch: a.enqueue_batch }
    }
}
