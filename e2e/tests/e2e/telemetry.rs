//! What the observability tests share: a small Monte Carlo job (a few chunks, seconds of
//! work), a cluster started for it, and stopping that cluster gracefully so every process
//! flushes its spans and its last log lines before the test reads them.

use std::time::Duration;

use tanksim_e2e::collector::Collector;
use tanksim_e2e::{Cluster, Options, api, binaries};
use tanksim_proto::v1::{Job, JobState};

use crate::{JOB_LIMIT, mc_tau};

/// Runs of the job the observability tests submit.
pub(crate) const RUNS: u64 = 8_000;
/// Runs per chunk: [`CHUNKS`] chunks.
pub(crate) const CHUNK: u64 = 2_000;
pub(crate) const CHUNKS: u64 = RUNS / CHUNK;
/// How long spans may take to reach the collector after the processes stopped.
pub(crate) const SPAN_LIMIT: Duration = Duration::from_secs(10);
/// How long a SIGTERMed process may take to exit (an idle worker exits at once).
const STOP_LIMIT: Duration = Duration::from_secs(20);

/// `service.name` of each service.
pub(crate) const GATEWAY: &str = "tanksim-gateway";
pub(crate) const DISPATCHER: &str = "tanksim-dispatcher";
pub(crate) const WORKER: &str = "tanksim-worker";
pub(crate) const RESULTS: &str = "tanksim-results";
pub(crate) const SERVICES: [&str; 4] = [GATEWAY, DISPATCHER, WORKER, RESULTS];

/// A cluster of `workers` workers for the small job, exporting spans to `collector` if given,
/// sampling queue gauges fast if `metrics`.
pub(crate) async fn start(collector: Option<&Collector>, metrics: bool, workers: usize) -> Cluster {
    let options = Options {
        workers,
        chunk_size: CHUNK,
        otlp: collector.map(Collector::endpoint),
        metrics,
        ..Options::default()
    };
    Cluster::start(binaries!(), options).await
}

/// Submits the small job and waits until it succeeded.
pub(crate) async fn run_job(cluster: &Cluster) -> Job {
    let mut client = cluster.gateway_client();
    let job = api::submit(&mut client, mc_tau(RUNS)).await;
    let job = api::wait_ended(&mut client, &job.id, JOB_LIMIT).await;
    assert_eq!(job.state(), JobState::Succeeded, "{job:?}");
    let p = job.progress.unwrap_or_default();
    assert_eq!((p.runs_done, u64::from(p.chunks_done)), (RUNS, CHUNKS), "{p:?}");
    job
}

/// SIGTERM to every process; each must exit cleanly (that is when the guard flushes spans).
pub(crate) async fn stop(cluster: &mut Cluster) {
    let stopped = cluster.stop(STOP_LIMIT).await;
    let unclean: Vec<_> = stopped.iter().filter(|(_, status)| !status.is_some_and(|s| s.success())).collect();
    assert!(unclean.is_empty(), "processes that did not exit cleanly on SIGTERM: {unclean:?}");
}
