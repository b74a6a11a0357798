//! Why telemetry could not start.

/// Telemetry start-up failures (the service exits: running blind is worse than not running).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot bind the admin port {addr}: {source}")]
    AdminBind { addr: std::net::SocketAddr, source: std::io::Error },
    #[error("cannot build the OTLP span exporter: {0}")]
    Exporter(String),
    #[error("cannot build the metrics recorder: {0}")]
    Metrics(String),
}
