//! What a test chooses about its cluster: the service executables and how the deployment is
//! sized and tuned.

use std::path::PathBuf;
use std::time::Duration;

use tanksim_test_util::Persistence;

/// The service executables. Cargo tells only integration tests where it built them: get
/// this with [`crate::binaries!`] in the test.
#[derive(Debug, Clone)]
pub struct Binaries {
    pub gateway: PathBuf,
    pub dispatcher: PathBuf,
    pub results: PathBuf,
    pub worker: PathBuf,
}

/// [`Binaries`] as this package builds them (`e2e-*`); use in integration tests only.
#[macro_export]
macro_rules! binaries {
    () => {
        $crate::cluster::Binaries {
            gateway: env!("CARGO_BIN_EXE_e2e-gateway").into(),
            dispatcher: env!("CARGO_BIN_EXE_e2e-dispatcher").into(),
            results: env!("CARGO_BIN_EXE_e2e-results").into(),
            worker: env!("CARGO_BIN_EXE_e2e-worker").into(),
        }
    };
}

/// How to size and tune the cluster.
#[derive(Debug, Clone)]
pub struct Options {
    pub workers: usize,
    /// Runs per chunk (`TANKSIM_CHUNK_SIZE` on the dispatcher).
    pub chunk_size: u64,
    /// [`Persistence::AppendOnly`] when the test restarts Redis and expects its data back.
    pub persistence: Persistence,
    /// Short, so a killed worker's chunk is claimed by another one quickly.
    pub visibility_timeout: Duration,
    pub claim_interval: Duration,
    pub max_deliveries: u64,
    pub shutdown_grace: Duration,
    /// Extra environment for every worker (e.g. the fault hook).
    pub worker_env: Vec<(String, String)>,
    /// Extra environment for the gateway, the dispatcher and results alike (e.g. raised
    /// `TANKSIM_MAX_*` limits, as the shared `limits` ConfigMap gives them).
    pub service_env: Vec<(String, String)>,
    /// Extra environment for the gateway alone, after `service_env` (e.g. its auth options:
    /// auth is off unless `TANKSIM_AUTH` or a credential source is set here).
    pub gateway_env: Vec<(String, String)>,
    /// The gateway looks API keys up in the cluster's Redis (`tanksim keys create` keys).
    pub keys_in_redis: bool,
    /// Where every process exports its spans (`OTEL_EXPORTER_OTLP_ENDPOINT`, e.g.
    /// [`crate::collector::Collector::endpoint`]), with a short batch delay so spans arrive
    /// within a fraction of a second. `None`: spans are created but not exported.
    pub otlp: Option<String>,
    /// Sample the dispatcher's queue gauges every [`QUEUE_METRICS_INTERVAL`] instead of the
    /// default 5 s, for a test that scrapes them. (Every process always serves `/metrics` on
    /// its own admin port: see [`crate::Cluster::processes`].)
    pub metrics: bool,
    /// mTLS between the services: a test CA ([`crate::Cluster::pki`]) signs each service's
    /// role certificate; the services call each other over `https://`, and the kubelet-style
    /// health checks go to their plaintext probe ports. The gateway's public port stays
    /// plaintext.
    pub mtls: bool,
}

/// The dispatcher's queue sampling interval when [`Options::metrics`] is set.
pub const QUEUE_METRICS_INTERVAL: Duration = Duration::from_millis(200);
/// `OTEL_BSP_SCHEDULE_DELAY` when [`Options::otlp`] is set: spans are exported this often.
pub const SPAN_EXPORT_DELAY: Duration = Duration::from_millis(200);

impl Default for Options {
    fn default() -> Self {
        Options {
            workers: 2,
            chunk_size: 2_000,
            persistence: Persistence::None,
            visibility_timeout: Duration::from_millis(2_000),
            claim_interval: Duration::from_millis(500),
            max_deliveries: 3,
            shutdown_grace: Duration::from_secs(10),
            mtls: false,
            worker_env: Vec::new(),
            service_env: Vec::new(),
            gateway_env: Vec::new(),
            keys_in_redis: false,
            otlp: None,
            metrics: false,
        }
    }
}
