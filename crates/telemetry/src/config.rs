//! Telemetry settings: [`TelemetryArgs`] is flattened into every service's command line (so
//! the options and their environment variables are the same everywhere), and turned into the
//! plain [`TelemetryConfig`] that [`crate::init`] takes.

use std::net::SocketAddr;

/// The admin port's default: metrics on loopback only. In a cluster each pod binds its own
/// address (`$(POD_IP):9464` in the manifests), where Prometheus scrapes it.
pub const DEFAULT_ADMIN_LISTEN: &str = "127.0.0.1:9464";

/// How log lines are written to stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// One JSON object per line: what a log agent ships to Loki.
    #[default]
    Json,
    /// Human-readable, for a terminal.
    Pretty,
}

impl std::str::FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "json" => Ok(LogFormat::Json),
            "pretty" | "text" => Ok(LogFormat::Pretty),
            other => Err(format!("unknown log format {other:?} (expected json or pretty)")),
        }
    }
}

/// The telemetry options every service takes. Tracing export is configured by the standard
/// `OTEL_*` variables (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_TRACES_SAMPLER`,
/// `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_BSP_SCHEDULE_DELAY`, ...), read by the SDK itself.
#[derive(Debug, Clone, clap::Args)]
pub struct TelemetryArgs {
    /// Log format: json (for log agents) or pretty.
    #[arg(long, env = "TANKSIM_LOG_FORMAT", default_value = "json")]
    pub log_format: LogFormat,
    /// Log filter (`RUST_LOG` syntax); default "info".
    #[arg(long, env = "RUST_LOG")]
    pub log_filter: Option<String>,
    /// Address of the admin HTTP port serving Prometheus `/metrics`; "off" disables it.
    #[arg(long, env = "TANKSIM_ADMIN_LISTEN", default_value = DEFAULT_ADMIN_LISTEN, value_parser = parse_admin_listen)]
    pub admin_listen: AdminListen,
}

/// Where the admin port listens, if anywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdminListen(pub Option<SocketAddr>);

fn parse_admin_listen(s: &str) -> Result<AdminListen, String> {
    if s == "off" || s.is_empty() {
        return Ok(AdminListen(None));
    }
    parse_socket_addr(s)
        .map(|a| AdminListen(Some(a)))
        .ok_or_else(|| format!("{s:?} is not ip:port or \"off\""))
}

/// `ip:port`, where an IPv6 address may come without brackets (`fd00::7:9464`): what
/// `$(POD_IP):9464` becomes in a Kubernetes pod on an IPv6 network.
fn parse_socket_addr(s: &str) -> Option<SocketAddr> {
    if let Ok(addr) = s.parse() {
        return Some(addr);
    }
    let (ip, port) = s.rsplit_once(':')?;
    Some(SocketAddr::new(ip.parse::<std::net::Ipv6Addr>().ok()?.into(), port.parse().ok()?))
}

impl TelemetryArgs {
    /// The configuration of service `service` at version `version` (pass
    /// `env!("CARGO_PKG_VERSION")`).
    pub fn config(&self, service: &'static str, version: &'static str) -> TelemetryConfig {
        TelemetryConfig {
            service,
            version,
            log_format: self.log_format,
            filter: self.log_filter.clone(),
            admin_listen: self.admin_listen.0,
        }
    }
}

/// What [`crate::init`] needs to know.
#[derive(Debug, Clone)]
pub struct TelemetryConfig {
    /// `service.name` (e.g. "tanksim-worker"), also the `service` label on every metric and
    /// the `service` field of every log line.
    pub service: &'static str,
    /// `service.version` and the `version` label of `tanksim_build_info`.
    pub version: &'static str,
    pub log_format: LogFormat,
    /// The `RUST_LOG`-style filter; `None` means `info`.
    pub filter: Option<String>,
    /// Where to serve `/metrics`; `None`: no metrics recorder (the macros do nothing).
    pub admin_listen: Option<SocketAddr>,
}

impl TelemetryConfig {
    /// JSON logs at `info`, no metrics port: what tests start services with.
    pub fn new(service: &'static str, version: &'static str) -> Self {
        TelemetryConfig { service, version, log_format: LogFormat::Json, filter: None, admin_listen: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        telemetry: TelemetryArgs,
    }

    #[test]
    fn admin_listen_parses_an_address_or_off() {
        let c = Cli::try_parse_from(["x", "--admin-listen", "127.0.0.1:9000"]).expect("parses");
        assert_eq!(c.telemetry.admin_listen.0.map(|a| a.port()), Some(9000));
        let c = Cli::try_parse_from(["x", "--admin-listen", "off"]).expect("parses");
        assert_eq!(c.telemetry.admin_listen.0, None);
        let c = Cli::try_parse_from(["x", "--admin-listen", "fd00::7:9464"]).expect("parses");
        assert_eq!(c.telemetry.admin_listen.0, Some("[fd00::7]:9464".parse().unwrap()));
        let c = Cli::try_parse_from(["x"]).expect("parses");
        let default = c.telemetry.admin_listen.0.expect("on by default");
        assert!(default.ip().is_loopback(), "{default}");
        assert!(Cli::try_parse_from(["x", "--admin-listen", "nine"]).is_err());
        assert!(Cli::try_parse_from(["x", "--admin-listen", "localhost:9464"]).is_err());
        assert!(Cli::try_parse_from(["x", "--admin-listen", "10.0.0.1:99999"]).is_err());
        assert!(Cli::try_parse_from(["x", "--log-format", "xml"]).is_err());
    }
}
