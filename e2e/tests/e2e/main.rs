//! End-to-end tests: every service as its own process against a private Redis (see the
//! `tanksim_e2e` harness), driven through the public API.
//!
//! Sizing (measured on the 2-core machine, test profile): an MC-tau run costs ~5 µs on one
//! core, so a 20,000-run chunk takes ~0.1-0.2 s and the 800,000-run job ~3 s on two workers:
//! long enough that a fault injected after a few chunks lands mid-job, short enough for the
//! whole suite to take well under a minute. Faults are triggered by observed progress, never
//! by elapsed time.
//!
//! The observability tests (`trace_structure`, `metrics_scrape`, `log_lines`) run a small job
//! of a few chunks: they check what the services record, not throughput.
//!
//! `autoscaling` plays KEDA and the HPA, as the worker's ScaledObject in the rendered `prod`
//! overlay configures them, against real jobs, with worker processes following the replicas
//! it decides (~25 s; needs kubectl for `kubectl kustomize`).

#![allow(clippy::unwrap_used)] // a failed step should just fail the test

mod adaptive;
mod autoscaling;
mod cancel;
mod designs;
mod faults;
mod hostile;
mod log_lines;
mod mesh;
mod metrics_scrape;
mod optimize;
mod pipeline;
mod poison;
mod prometheus;
mod security;
mod shutdown;
mod storage;
mod telemetry;
mod trace_structure;
mod validation;

use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use tanksim_broker::TaskQueue;
use tanksim_e2e::reference::Reference;
use tanksim_e2e::{Cluster, Options, Persistence, api, binaries};
use tanksim_proto::v1::{GetJobResultsResponse, Job, JobState, SubmitJobRequest, submit_job_request};
use tokio::sync::OnceCell;

/// Runs per chunk in every cluster and reference run of the MC-tau job.
const CHUNK: u64 = 20_000;
/// Runs of the MC-tau job (40 chunks).
const RUNS: u64 = 800_000;
/// The limit of one scenario.
const LIMIT: Duration = Duration::from_secs(120);
/// How long a job may take to finish once submitted (or after a fault).
const JOB_LIMIT: Duration = Duration::from_secs(90);

/// The MC-tau example with `runs` runs.
fn mc_tau(runs: u64) -> SubmitJobRequest {
    let mut spec = api::example("mc-tau.yaml");
    match &mut spec.job {
        Some(submit_job_request::Job::MonteCarlo(mc)) => mc.runs = runs,
        other => panic!("mc-tau.yaml is not a Monte Carlo job: {other:?}"),
    }
    spec
}

/// The embedded mode's output for `mc_tau(RUNS)`, computed once per test process.
async fn mc_tau_reference() -> &'static Reference {
    static REFERENCE: OnceCell<Reference> = OnceCell::const_new();
    REFERENCE.get_or_init(|| tanksim_e2e::reference::embedded(mc_tau(RUNS), CHUNK)).await
}

/// Waits until `job` has at least `chunks` chunks done and checks it has not ended: the
/// moment to inject a fault mid-job.
async fn mid_job(client: &mut api::Client, job: &Job, chunks: u32) -> Job {
    let what = format!("{chunks} chunks done");
    let now = api::wait_job(client, &job.id, JOB_LIMIT, &what, |j| {
        j.progress.as_ref().is_some_and(|p| p.chunks_done >= chunks) || api::is_terminal(j)
    })
    .await;
    let p = now.progress.unwrap_or_default();
    assert!(
        !api::is_terminal(&now) && p.chunks_done < p.chunks_total,
        "the job ended before the fault could be injected (make it longer): {now:?}"
    );
    now
}

/// Waits until worker `i` holds at least one delivered, unacknowledged chunk (so a fault
/// injected now interrupts real work).
async fn worker_busy(cluster: &Cluster, i: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while cluster.pending_of_worker(i).await == 0 {
        assert!(tokio::time::Instant::now() < deadline, "worker {i} never held a chunk");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A job that runs in waves, through faults: `spec` on three workers in chunks of `chunk`,
/// Redis persisting to its append-only file; worker 0 SIGKILLed once `kill_at` chunks are
/// done, Redis restarted once `restart_at` are. Checks the job succeeded with the results of
/// the embedded run (`reference`) bit for bit, and returns them.
async fn waves_through_faults(
    spec: SubmitJobRequest,
    reference: &GetJobResultsResponse,
    chunk: u64,
    (kill_at, restart_at): (u32, u32),
) -> GetJobResultsResponse {
    let options =
        Options { workers: 3, chunk_size: chunk, persistence: Persistence::AppendOnly, ..Options::default() };
    let mut cluster = Cluster::start(binaries!(), options).await;
    let mut client = cluster.gateway_client();
    let job = api::submit(&mut client, spec).await;
    mid_job(&mut client, &job, kill_at).await;
    kill_busy_worker(&cluster, 0).await;
    // Released chunks on the stream, a wave decision possibly in flight, the dispatcher polling.
    mid_job(&mut client, &job, restart_at).await;
    cluster.restart_redis().await;
    let job = api::wait_ended(&mut client, &job.id, JOB_LIMIT).await;
    assert_eq!(job.state(), JobState::Succeeded, "{job:?}");
    let results = api::results(&mut client, &job.id).await;
    api::assert_same_results(&results, reference);
    cluster.assert_no_worker_crashes();
    results
}

/// SIGKILLs worker `i` while it holds a chunk (once it holds one).
async fn kill_busy_worker(cluster: &Cluster, i: usize) {
    worker_busy(cluster, i).await;
    let status = cluster.kill_worker(i);
    assert_eq!(status.signal(), Some(9), "{status:?}");
}

/// Checks a finished MC-tau job of `RUNS` runs: SUCCEEDED, every chunk counted once, results
/// equal to the embedded run's bit for bit, nothing left on the stream.
async fn assert_complete_and_identical(cluster: &Cluster, client: &mut api::Client, job: &Job) {
    let job = api::wait_ended(client, &job.id, JOB_LIMIT).await;
    assert_eq!(job.state(), JobState::Succeeded, "{job:?}");
    let p = job.progress.unwrap();
    assert_eq!((p.runs_done, p.runs_total), (RUNS, RUNS), "{p:?}");
    assert_eq!((p.chunks_done, p.chunks_total, p.chunks_failed), (40, 40, 0), "{p:?}");
    let results = api::results(client, &job.id).await;
    for m in &results.metrics {
        assert_eq!(m.count + m.absent + m.non_finite, RUNS, "{m:?}");
    }
    api::assert_same_results(&results, &mc_tau_reference().await.results);
    // An entry may outlive its job briefly: a worker whose acknowledgement failed (Redis full,
    // restarting) leaves it pending until a worker claims it after the visibility timeout and
    // acknowledges it without work; a chunk delivered twice may still be in its second
    // worker's hands. Nothing may stay on the stream past that.
    let queue = cluster.queue().await;
    let deadline = tokio::time::Instant::now() + DRAIN_LIMIT;
    loop {
        let stats = queue.stats().await.unwrap();
        if (stats.length, stats.pending, stats.dead_letters) == (0, 0, 0) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the stream did not drain: {stats:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// How long a finished job's last redundant delivery may take to be acknowledged.
const DRAIN_LIMIT: Duration = Duration::from_secs(15);
