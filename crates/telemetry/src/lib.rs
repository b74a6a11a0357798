//! Telemetry for every tanksim process, initialised once at start: `init` installs the
//! `tracing` subscriber (level from `RUST_LOG`, JSON lines for log agents or a human-readable
//! format for local runs) and returns a guard to keep until exit.
//!
//! OpenTelemetry export and Prometheus metrics plug in here (the observability milestone);
//! services only ever call [`init`] and use `tracing` macros.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// How log lines are written to stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// One JSON object per line (timestamp, level, target, message, fields, span): what a log
    /// agent ships to Loki.
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

/// What [`init`] needs to know.
#[derive(Debug, Clone)]
pub struct TelemetryConfig {
    /// `service.name` (e.g. "tanksim-worker").
    pub service: &'static str,
    pub log_format: LogFormat,
    /// The `RUST_LOG`-style filter; `None` means `info`.
    pub filter: Option<String>,
}

/// Keeps telemetry alive; [`Guard::shutdown`] flushes what is buffered.
#[derive(Debug)]
#[must_use = "dropping the guard stops telemetry export"]
pub struct Guard {
    service: &'static str,
}

impl Guard {
    /// Flushes and stops telemetry (call last, within the shutdown grace period).
    pub fn shutdown(self) {
        tracing::debug!(service = self.service, "telemetry shut down");
    }
}

/// Installs a human-readable subscriber writing to stderr, for command-line tools whose
/// stdout is their output (default level `warn`; `filter` overrides).
pub fn init_stderr(service: &'static str, filter: Option<&str>) -> Guard {
    let filter = filter.and_then(|f| EnvFilter::try_new(f).ok()).unwrap_or_else(|| EnvFilter::new("warn"));
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(tracing_subscriber::fmt::layer().compact().with_writer(std::io::stderr))
        .try_init();
    Guard { service }
}

/// Installs the global subscriber. A second call in the same process (tests starting several
/// services) keeps the first subscriber and still returns a guard.
pub fn init(config: &TelemetryConfig) -> Guard {
    let filter = config
        .filter
        .as_deref()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match config.log_format {
        LogFormat::Json => registry
            .with(tracing_subscriber::fmt::layer().json().flatten_event(true).with_current_span(true))
            .try_init(),
        LogFormat::Pretty => registry.with(tracing_subscriber::fmt::layer().compact()).try_init(),
    };
    Guard { service: config.service }
}
