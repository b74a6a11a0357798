//! A worker recovering and leaving (memory backends, a fake results service, real time):
//! its own pending entries from a previous run come first, entries of a dead consumer are
//! claimed after the visibility timeout, and shutdown finishes or hands back the chunk in
//! flight within the grace period.

mod harness;

use std::sync::atomic::Ordering;
use std::time::Duration;

use harness::{FakeResults, Worker, create_job, eventually, settings};
use tanksim_broker::{MemoryQueue, MemoryStore, TaskQueue};
use tanksim_sim_core::job::JobSpec;
use tanksim_worker::WorkerSettings;
use tokio::time::Instant;

const WAIT: Duration = Duration::from_secs(20);

/// MC-tau runs of `horizon` seconds (6,000 steps per minute): long runs make slow chunks
/// without holding many runs' metrics in memory.
fn long_runs(runs: u64, horizon: f64) -> JobSpec {
    let JobSpec::MonteCarlo(mut mc) = harness::mc_tau(runs, 5) else { unreachable!("Monte Carlo") };
    mc.base.horizon = horizon;
    JobSpec::MonteCarlo(mc)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_left_pending_by_a_previous_run_under_the_same_name_come_first() {
    let (queue, store, results) = (MemoryQueue::new(), MemoryStore::new(), FakeResults::default());
    let url = results.start().await;
    let tasks = create_job(&store, "job", &harness::mc_tau(200, 1), 100).await;
    queue.ensure_group().await.expect("group");
    // The previous "w1" read chunk 1 and died; chunk 0 was appended after.
    queue.enqueue(&tasks[1..]).await.expect("enqueued");
    assert_eq!(queue.read_new("w1", 1, Duration::ZERO).await.expect("read").len(), 1);
    queue.enqueue(&tasks[..1]).await.expect("enqueued");

    let worker = Worker::start(settings("w1"), queue.clone(), store, &url).await;
    eventually(WAIT, "both chunks reported", || async { results.reports().len() == 2 }).await;
    eventually(WAIT, "both acknowledged", || async { queue.stats().await.expect("stats").length == 0 }).await;
    worker.stop().await;
    let order: Vec<u32> = results.reports().iter().map(|r| r.chunk).collect();
    assert_eq!(order, [1, 0], "the pending chunk first");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_a_dead_consumer_left_idle_is_claimed_after_the_visibility_timeout() {
    let (queue, store, results) = (MemoryQueue::new(), MemoryStore::new(), FakeResults::default());
    let url = results.start().await;
    let tasks = create_job(&store, "job", &harness::mc_tau(100, 1), 100).await;
    queue.ensure_group().await.expect("group");
    queue.enqueue(&tasks).await.expect("enqueued");
    assert_eq!(queue.read_new("dead", 1, Duration::ZERO).await.expect("read").len(), 1);
    let read_at = Instant::now();

    let visibility = Duration::from_millis(500);
    let quick = WorkerSettings {
        visibility_timeout: visibility,
        claim_interval: Duration::from_millis(50),
        ..settings("alive")
    };
    let worker = Worker::start(quick, queue.clone(), store, &url).await;
    eventually(WAIT, "the claimed chunk reported", || async { !results.reports().is_empty() }).await;
    assert!(read_at.elapsed() >= visibility, "claimed only once idle for the visibility timeout");
    eventually(WAIT, "acknowledged", || async { queue.stats().await.expect("stats").length == 0 }).await;
    worker.stop().await;
    assert_eq!(results.reports()[0].worker, "alive");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_the_chunk_in_flight_finish_within_the_grace_period() {
    let (queue, store, results) = (MemoryQueue::new(), MemoryStore::new(), FakeResults::default());
    let url = results.start().await;
    // About a second of simulation on one thread.
    let tasks = create_job(&store, "job", &long_runs(4_000, 3_000.0), 4_000).await;
    queue.enqueue(&tasks).await.expect("enqueued");
    let worker =
        Worker::start(WorkerSettings { threads: 1, ..settings("w") }, queue.clone(), store, &url).await;
    eventually(WAIT, "the chunk taken", || async { queue.stats().await.expect("stats").pending == 1 }).await;
    assert!(results.reports().is_empty(), "still simulating when shutdown is requested");
    let took = worker.stop().await;
    assert!(took < Duration::from_secs(10), "within the grace period: {took:?}");
    assert_eq!(results.reports().len(), 1, "finished and reported");
    assert_eq!(queue.stats().await.expect("stats").length, 0, "and acknowledged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_hands_back_a_chunk_that_cannot_finish_within_the_grace_period() {
    let (queue, store, results) = (MemoryQueue::new(), MemoryStore::new(), FakeResults::default());
    let url = results.start().await;
    // Many seconds of simulation on one thread.
    let tasks = create_job(&store, "job", &long_runs(40_000, 3_000.0), 40_000).await;
    queue.enqueue(&tasks).await.expect("enqueued");
    let grace = Duration::from_millis(300);
    let short = WorkerSettings { threads: 1, shutdown_grace: grace, ..settings("w") };
    let worker = Worker::start(short, queue.clone(), store, &url).await;
    eventually(WAIT, "the chunk taken", || async { queue.stats().await.expect("stats").pending == 1 }).await;
    let took = worker.stop().await;
    assert!(
        took >= grace && took < grace + Duration::from_secs(2),
        "returned at the grace deadline: {took:?}"
    );
    assert!(results.reports().is_empty());
    let stats = queue.stats().await.expect("stats");
    assert_eq!((stats.length, stats.pending), (1, 0), "handed back as a fresh entry");
    let again = queue.read_new("next", 1, Duration::ZERO).await.expect("read");
    assert_eq!((again[0].task.clone(), again[0].deliveries), (tasks[0].clone(), 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_hands_back_a_chunk_whose_report_results_keeps_refusing() {
    let (queue, store, results) = (MemoryQueue::new(), MemoryStore::new(), FakeResults::default());
    let url = results.start().await;
    results.refuse.store(u32::MAX, Ordering::SeqCst);
    let tasks = create_job(&store, "job", &harness::mc_tau(100, 1), 100).await;
    queue.enqueue(&tasks).await.expect("enqueued");
    let grace = Duration::from_millis(300);
    let worker =
        Worker::start(WorkerSettings { shutdown_grace: grace, ..settings("w") }, queue.clone(), store, &url)
            .await;
    eventually(WAIT, "a refused report", || async { results.attempts.load(Ordering::SeqCst) >= 1 }).await;
    let took = worker.stop().await;
    assert!(took < grace + Duration::from_secs(2), "returned at the grace deadline: {took:?}");
    let stats = queue.stats().await.expect("stats");
    assert_eq!((stats.length, stats.pending), (1, 0), "handed back as a fresh entry");
}
