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
}

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
            worker_env: Vec::new(),
        }
    }
}
