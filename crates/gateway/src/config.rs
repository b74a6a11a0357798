//! The gateway's settings, parsed once from the command line and environment.

use clap::Parser;
use tanksim_server::LimitsArgs;
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
    /// What jobs and messages may be: the same options, and in Kubernetes the same `limits`
    /// ConfigMap, as the dispatcher's and the results service's.
    #[command(flatten)]
    pub limits: LimitsArgs,
    /// What each tenant may use: the same options, and in Kubernetes the same `quotas`
    /// ConfigMap, as the dispatcher's (the gateway enforces the request rate, the dispatcher
    /// the job limits).
    #[command(flatten)]
    pub quotas: tanksim_server::QuotasArgs,
    /// How long a shutdown may take.
    #[command(flatten)]
    pub shutdown: tanksim_server::ShutdownArgs,
    /// TLS on the public port.
    #[command(flatten)]
    pub tls: tanksim_server::tls::TlsArgs,
    /// mTLS: the gateway's certificate for its calls to the dispatcher and the results service
    /// (then `https://` URLs), and the plaintext probe port when the public port is TLS.
    #[command(flatten)]
    pub mesh: tanksim_server::tls::MeshTlsArgs,
    /// Who may call: API keys, OIDC JWTs (auth is required unless `--auth disabled`).
    #[command(flatten)]
    pub auth: tanksim_auth::AuthArgs,
    /// Logs, traces and the metrics port.
    #[command(flatten)]
    pub telemetry: tanksim_telemetry::TelemetryArgs,
}

/// What the gateway needs at run time.
#[derive(Debug, Clone)]
pub struct GatewaySettings {
    /// What jobs and `Simulate` configurations are validated against.
    pub limits: Limits,
    /// The largest request or response (larger requests get RESOURCE_EXHAUSTED).
    pub max_message_bytes: usize,
    /// How long the drain after SIGTERM may take (see [`tanksim_server::Shell`]).
    pub shutdown_grace: std::time::Duration,
    /// Who may call (built from [`GatewayArgs::auth`] at start, which reads files and may
    /// fetch the issuer's keys; disabled by default, for tests and the embedded mode).
    pub auth: tanksim_auth::Authenticator,
    /// Each tenant's request rate (and job limits, which the dispatcher enforces).
    pub quotas: tanksim_server::QuotaBook,
}

impl Default for GatewaySettings {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            max_message_bytes: tanksim_server::limits::DEFAULT_MAX_MESSAGE_BYTES,
            shutdown_grace: tanksim_server::DEFAULT_SHUTDOWN_GRACE,
            auth: tanksim_auth::Authenticator::disabled(),
            quotas: tanksim_server::QuotaBook::default(),
        }
    }
}

impl From<&GatewayArgs> for GatewaySettings {
    fn from(a: &GatewayArgs) -> Self {
        Self {
            limits: a.limits.validation(),
            max_message_bytes: a.limits.max_message_bytes,
            shutdown_grace: a.shutdown.grace(),
            auth: tanksim_auth::Authenticator::disabled(),
            quotas: a.quotas.book(),
        }
    }
}

impl GatewaySettings {
    /// The default settings with `limits` (the embedded mode, which shares them with its
    /// dispatcher).
    pub fn with_limits(limits: &LimitsArgs) -> Self {
        Self { limits: limits.validation(), max_message_bytes: limits.max_message_bytes, ..Self::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limits_are_the_shared_options() {
        let args =
            GatewayArgs::try_parse_from(["g", "--max-steps", "2000000", "--max-message-bytes", "4096"])
                .expect("parses");
        let settings = GatewaySettings::from(&args);
        assert_eq!(
            settings.limits,
            LimitsArgs { max_steps: 2_000_000, ..LimitsArgs::default() }.validation()
        );
        assert_eq!(settings.max_message_bytes, 4096);
        let defaults = GatewaySettings::from(&GatewayArgs::try_parse_from(["g"]).expect("defaults parse"));
        assert_eq!(defaults.limits, Limits::DEFAULT);
        assert_eq!(defaults.max_message_bytes, GatewaySettings::default().max_message_bytes);
    }
}
