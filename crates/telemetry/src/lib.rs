//! Telemetry for every tanksim process, initialised once at start by [`init`]:
//!
//! - [`logs`]: one JSON object per line on stdout (timestamp, level, service, target, message,
//!   fields, and `trace_id` / `span_id` inside a span), or a human-readable format; the level
//!   comes from `RUST_LOG`.
//! - [`traces`]: OpenTelemetry spans from `tracing` spans, exported over OTLP/gRPC when
//!   `OTEL_EXPORTER_OTLP_ENDPOINT` is set (sampler from `OTEL_TRACES_SAMPLER`, resource from
//!   `OTEL_RESOURCE_ATTRIBUTES`), W3C trace context propagation.
//! - [`propagation`]: trace context into and out of carriers that are not gRPC metadata (the
//!   task stream entry, the job record).
//! - [`metrics`]: the Prometheus recorder and the admin HTTP port serving `/metrics`; every
//!   metric name in [`metrics::names`], described once at start; process and build info.
//! - [`grpc`]: tower layers that trace and meter every gRPC call, on servers and clients, with
//!   the conventional `grpc_server_*` / `grpc_client_*` metrics and context in metadata.
//!
//! Services call [`init`] once, keep the [`Guard`] until exit, and otherwise use `tracing` and
//! `metrics` macros with the names in [`metrics::names`].

pub mod config;
pub mod error;
pub mod grpc;
pub mod logs;
pub mod metrics;
pub mod propagation;
pub mod traces;

mod guard;

pub use config::{LogFormat, TelemetryArgs, TelemetryConfig};
pub use error::Error;
pub use guard::Guard;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs logging, tracing and (when `config.admin_listen` is set) the metrics endpoint.
///
/// Must run inside a Tokio runtime (the OTLP exporter and the admin port live on it). A second
/// call in the same process (tests running several services) keeps the first subscriber and
/// the first metrics recorder, and still serves metrics on its own admin port.
pub fn init(config: &TelemetryConfig) -> Result<Guard, Error> {
    traces::install_propagator();
    let provider = traces::provider(config)?;
    let filter = config
        .filter
        .as_deref()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let otel = tracing_opentelemetry::layer()
        .with_tracer(opentelemetry::trace::TracerProvider::tracer(&provider, config.service))
        .with_tracked_inactivity(false);
    let registry = tracing_subscriber::registry().with(filter).with(otel);
    let _ = match config.log_format {
        LogFormat::Json => registry.with(logs::json_layer(config.service)).try_init(),
        LogFormat::Pretty => registry.with(tracing_subscriber::fmt::layer().compact()).try_init(),
    };
    let admin = match config.admin_listen {
        Some(addr) => Some(metrics::serve_admin(addr, config.service, config.version)?),
        None => None,
    };
    Ok(Guard::new(config.service, Some(provider), admin))
}

/// Installs a human-readable subscriber writing to stderr, for command-line tools whose
/// stdout is their output (default level `warn`; `filter` overrides). No export.
pub fn init_stderr(service: &'static str, filter: Option<&str>) -> Guard {
    let filter = filter.and_then(|f| EnvFilter::try_new(f).ok()).unwrap_or_else(|| EnvFilter::new("warn"));
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(tracing_subscriber::fmt::layer().compact().with_writer(std::io::stderr))
        .try_init();
    Guard::new(service, None, None)
}
