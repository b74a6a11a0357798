//! The gateway's settings, parsed once from the command line and environment.

use clap::Parser;
use tanksim_sim_core::validate::Limits;

/// `service.name` of the gateway's traces, and the `service` label of its metrics.
pub const SERVICE_NAME: &str = "tanksim-gateway";

/// `tanksim-gateway` options.
#[derive(Debug, Clone, Parser)]
#[command(name = "tanksim-gateway", version, about = "tanksim's public gRPC API")]
pub struct GatewayArgs {
    /// gRPC listen address.
    #[arg(long, env = "TANKSIM_GATEWAY_LISTEN", default_value = "0.0.0.0:50051")]
    pub listen: std::net::SocketAddr,
    /// The dispatcher's gRPC address.
    #[arg(long, env = "TANKSIM_DISPATCHER_URL", default_value = "http://127.0.0.1:50052")]
    pub dispatcher_url: String,
    /// The results service's gRPC address.
    #[arg(long, env = "TANKSIM_RESULTS_URL", default_value = "http://127.0.0.1:50053")]
    pub results_url: String,
    /// Most runs one job may have.
    #[arg(long, env = "TANKSIM_MAX_RUNS", default_value_t = 100_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_runs: u64,
    /// Most steps one run may have (horizon / dt).
    #[arg(long, env = "TANKSIM_MAX_STEPS", default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_steps: u64,
    /// Most trajectory samples one run may record (Simulate, dataset jobs).
    #[arg(long, env = "TANKSIM_MAX_TRAJECTORY", default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_trajectory: u64,
    /// Largest request or response message, in bytes.
    #[arg(long, env = "TANKSIM_MAX_MESSAGE_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_message_bytes: usize,
    /// Logs, traces and the metrics port.
    #[command(flatten)]
    pub telemetry: tanksim_telemetry::TelemetryArgs,
}

/// What the gateway needs at run time.
#[derive(Debug, Clone)]
pub struct GatewaySettings {
    pub limits: Limits,
    pub max_message_bytes: usize,
}

impl Default for GatewaySettings {
    fn default() -> Self {
        Self { limits: Limits::default(), max_message_bytes: 16 * 1024 * 1024 }
    }
}

impl From<&GatewayArgs> for GatewaySettings {
    fn from(a: &GatewayArgs) -> Self {
        Self {
            limits: Limits {
                max_steps_per_run: a.max_steps,
                max_runs: a.max_runs,
                max_recorded_samples: a.max_trajectory,
            },
            max_message_bytes: a.max_message_bytes,
        }
    }
}
