//! SIGTERM while WatchJob streams are open (Kubernetes stopping a pod in a rollout): the
//! process ends the open streams with UNAVAILABLE "server shutting down", so a client knows to
//! re-watch (through another replica), and exits promptly, not when the watched job ends.
//!
//! The job watched runs for minutes, far longer than [`EXIT_LIMIT`], and [`EXIT_LIMIT`] is
//! shorter than the services' default shutdown grace: waiting for the job, or merely cutting
//! the streams when the grace runs out, both fail.

use std::time::Duration;

use futures_util::StreamExt;
use tanksim_e2e::{Cluster, Options, api, binaries, scenario};
use tanksim_proto::v1::{Job, WatchJobRequest, WatchJobResponse};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tonic::{Code, Status, Streaming};

use crate::{CHUNK, LIMIT, mc_tau, mid_job};

/// How long a process may take to exit after SIGTERM with a watch open: a generous bound
/// for a correctness test on a shared 2-core machine, not a benchmark.
const EXIT_LIMIT: Duration = Duration::from_secs(10);
/// Runs of the watched job: 1,000 chunks, minutes of work for two workers.
const LONG_RUNS: u64 = 1_000 * CHUNK;

/// A watch stream read to its end in the background.
struct Watcher {
    task: JoinHandle<(Vec<Job>, Result<(), Status>, Instant)>,
}

impl Watcher {
    /// Opens WatchJob on `id` through the gateway and waits for its first event.
    async fn open(cluster: &Cluster, id: &str) -> Watcher {
        let mut stream = cluster
            .gateway_client()
            .watch_job(WatchJobRequest { id: id.to_owned() })
            .await
            .unwrap_or_else(|s| panic!("WatchJob({id}): {s:?}"))
            .into_inner();
        let first = stream.next().await.expect("a first event").expect("the first event is a job");
        let task = tokio::spawn(read_to_end(stream, first));
        Watcher { task }
    }

    /// The events, how the stream ended and when; fails the test if it does not end within
    /// `limit`.
    async fn ended(self, limit: Duration) -> (Vec<Job>, Result<(), Status>, Instant) {
        tokio::time::timeout(limit, self.task)
            .await
            .unwrap_or_else(|_| panic!("the watch stream did not end within {limit:?}"))
            .expect("the reader task")
    }
}

async fn read_to_end(
    mut stream: Streaming<WatchJobResponse>,
    first: WatchJobResponse,
) -> (Vec<Job>, Result<(), Status>, Instant) {
    let mut events = vec![first.job.expect("an event carries the job")];
    loop {
        match stream.next().await {
            Some(Ok(event)) => events.push(event.job.expect("an event carries the job")),
            Some(Err(status)) => return (events, Err(status), Instant::now()),
            None => return (events, Ok(()), Instant::now()),
        }
    }
}

/// The stream ended the way a client can act on: UNAVAILABLE saying the server is shutting
/// down (not a broken connection, not a clean end as if the job were over).
fn assert_ended_by_shutdown(events: &[Job], end: &Result<(), Status>) {
    let status = end.as_ref().expect_err("the stream ends with a status, not as if the job had ended");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(status.message().contains("shutting down"), "a transport error, not a shutdown: {status:?}");
    let last = events.last().expect("events");
    assert!(!api::is_terminal(last), "the job ended first (make it longer): {last:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_the_gateways_watch_streams_and_it_exits_promptly() {
    scenario("sigterm_ends_the_gateways_watch_streams_and_it_exits_promptly", LIMIT, async {
        assert!(tanksim_server::DEFAULT_SHUTDOWN_GRACE > EXIT_LIMIT, "the grace alone must not pass");
        let mut cluster =
            Cluster::start(binaries!(), Options { chunk_size: CHUNK, ..Options::default() }).await;
        let mut client = cluster.gateway_client();
        let job = api::submit(&mut client, mc_tau(LONG_RUNS)).await;
        mid_job(&mut client, &job, 2).await;
        let watchers = [Watcher::open(&cluster, &job.id).await, Watcher::open(&cluster, &job.id).await];

        let sent = Instant::now();
        let (status, took) = cluster.term_gateway(EXIT_LIMIT).await;
        let status = status.unwrap_or_else(|| panic!("the gateway still ran {took:?} after SIGTERM"));
        assert!(status.success(), "the gateway exits 0 after SIGTERM: {status:?}");
        for watcher in watchers {
            let (events, end, at) = watcher.ended(EXIT_LIMIT).await;
            assert_ended_by_shutdown(&events, &end);
            assert!(at.duration_since(sent) < EXIT_LIMIT, "the stream ended {:?} after SIGTERM", at - sent);
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_the_results_services_watch_streams_and_it_exits_promptly() {
    scenario("sigterm_ends_the_results_services_watch_streams_and_it_exits_promptly", LIMIT, async {
        assert!(tanksim_server::DEFAULT_SHUTDOWN_GRACE > EXIT_LIMIT, "the grace alone must not pass");
        let mut cluster =
            Cluster::start(binaries!(), Options { chunk_size: CHUNK, ..Options::default() }).await;
        let mut client = cluster.gateway_client();
        let job = api::submit(&mut client, mc_tau(LONG_RUNS)).await;
        mid_job(&mut client, &job, 2).await;
        // Through the gateway, which forwards the results service's stream as it ends.
        let watcher = Watcher::open(&cluster, &job.id).await;

        let sent = Instant::now();
        let (status, took) = cluster.term_results(EXIT_LIMIT).await;
        let status = status.unwrap_or_else(|| panic!("the results service still ran {took:?} after SIGTERM"));
        assert!(status.success(), "the results service exits 0 after SIGTERM: {status:?}");
        let (events, end, at) = watcher.ended(EXIT_LIMIT).await;
        assert_ended_by_shutdown(&events, &end);
        assert!(at.duration_since(sent) < EXIT_LIMIT, "the stream ended {:?} after SIGTERM", at - sent);
    })
    .await;
}
