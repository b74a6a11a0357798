//! End-to-end test harness: tanksim deployed on this machine as separate OS processes, driven
//! through the public gRPC API.
//!
//! - [`Cluster`] ([`cluster`]): a private `redis-server` plus gateway, dispatcher, results and
//!   N workers, each its own process (the services' real `main.rs`, built by this package as
//!   `e2e-*` binaries), configured through `TANKSIM_*` environment variables, on free ports,
//!   started in dependency order and awaited until their gRPC health check says SERVING. It
//!   kills (SIGKILL) or stops (SIGTERM) a worker and starts it again, stops the gateway or
//!   results with SIGTERM, restarts results or Redis, and restarts a worker that crashed on
//!   its own (see `workers`). Logs go to files
//!   in a temporary directory; their tails are printed and the directory kept when a test
//!   fails (or always, with `TANKSIM_E2E_KEEP_LOGS=1`).
//! - [`ports`]: ports no outgoing connection can take between choosing and binding.
//! - [`api`]: submit, wait for a job condition, results, rows, bit-for-bit comparison.
//! - [`mod@reference`]: the same spec through the embedded mode, the reference for results.
//! - [`collector`]: an OTLP/gRPC trace receiver the services export to, and queries on the
//!   traces it received; [`metrics`]: scraping an admin port's `/metrics`; [`logs`]: a
//!   service's log file as JSON lines.
//! - [`manifests`]: the Kubernetes manifests of an overlay as `kubectl kustomize` renders them.
//! - [`observability`]: the dashboards, rules and PodMonitor of `deploy/observability`;
//!   [`prometheus`]: a real Prometheus scraping a cluster as the PodMonitor says, and its API.
//! - [`bench`]: what the benchmark binaries share.
//! - [`scenario`]: runs one test body alone (clusters never overlap, so timing-sensitive
//!   steps are not starved of CPU) and within a time limit, so a hang fails instead of
//!   blocking CI.
//!
//! The tests are in `tests/e2e/`; `cargo test -p tanksim-e2e` builds the service binaries.

pub mod api;
pub mod bench;
pub mod cluster;
pub mod collector;
pub mod health;
pub mod logs;
pub mod manifests;
pub mod metrics;
pub mod observability;
pub mod ports;
pub mod process;
pub mod prometheus;
pub mod reference;
mod workers;

use std::future::Future;
use std::time::Duration;

pub use cluster::{Binaries, Cluster, Options, ProcessInfo};
pub use tanksim_test_util::Persistence;

/// One scenario at a time in this test process (each starts ~6 processes on 2 cores).
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Runs `body` once no other scenario runs, failing the test if it takes longer than `limit`.
/// A timeout panics while `body` (and its [`Cluster`]) is still alive, so the cluster's drop
/// sees the failure and prints the process logs.
pub async fn scenario(name: &str, limit: Duration, body: impl Future<Output = ()>) {
    let _turn = TURN.lock().await;
    let started = tokio::time::Instant::now();
    let mut body = std::pin::pin!(body);
    tokio::select! {
        () = body.as_mut() => {}
        () = tokio::time::sleep(limit) => panic!("{name}: not finished within {limit:?}"),
    }
    eprintln!("e2e: {name} took {:.1} s", started.elapsed().as_secs_f64());
}
