//! Fair scheduling at the dispatcher over real sockets (memory backends, a test playing the
//! workers): the stream holds a bounded backlog, a small job behind a giant one gets its
//! chunks on the stream within that backlog, tenants share by weight however many jobs each
//! has, and a cancelled job places no more chunks.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns: a failed setup step should just fail the test

#[path = "support/harness.rs"]
mod harness;

use std::collections::HashMap;
use std::time::Duration;

use harness::{as_tenant, dispatch, start, wait_for};
use tanksim_broker::{MemoryQueue, MemoryStore, TaskQueue};
use tanksim_dispatcher::DispatcherSettings;
use tanksim_proto::internal::v1::CancelJobRequest;
use tanksim_server::QuotaBook;

/// Runs per chunk: one, so a job's chunks are its runs.
fn settings(backlog: u32, quotas: QuotaBook) -> DispatcherSettings {
    // Chunks of one run: the giant job's 10^8 chunks would be far over the load-shedding mark.
    DispatcherSettings {
        chunk_size: 1,
        queue_backlog: backlog,
        queue_high_water: 0,
        quotas,
        ..DispatcherSettings::default()
    }
}

/// Plays a worker: takes up to `n` chunks off the stream (acknowledging each, as a worker does
/// once it has reported), and says whose they were, in stream order.
async fn work(queue: &MemoryQueue, n: usize) -> Vec<String> {
    let mut jobs = Vec::new();
    while jobs.len() < n {
        let batch = queue.read_new("w", (n - jobs.len()).min(4), Duration::from_secs(5)).await.unwrap();
        assert!(!batch.is_empty(), "the scheduler keeps the stream filled");
        let ids: Vec<String> = batch.iter().map(|d| d.entry_id.clone()).collect();
        jobs.extend(batch.into_iter().map(|d| d.task.job_id));
        queue.ack(&ids).await.unwrap();
    }
    jobs
}

/// Chunks on the stream no worker has taken.
async fn lag(queue: &MemoryQueue) -> u64 {
    let stats = queue.stats().await.unwrap();
    stats.length - stats.pending
}

#[tokio::test]
async fn a_small_job_is_on_the_stream_within_the_backlog_behind_a_giant_one() {
    let (queue, store) = (MemoryQueue::new(), MemoryStore::new());
    let d = start(queue.clone(), store.clone(), settings(8, QuotaBook::from_yaml("{}").unwrap())).await;
    let mut client = d.client.clone();
    let giant = client.dispatch_job(dispatch("acme", 100_000_000)).await.unwrap().into_inner().job.unwrap();
    wait_for(|| async { lag(&queue).await == 8 }).await;
    // The backlog stays at 8, not 100,000,000.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(lag(&queue).await, 8);
    assert!(work(&queue, 20).await.iter().all(|j| *j == giant.id));

    // Behind at most the backlog (and what the scheduler placed before it heard of the job).
    let small = client.dispatch_job(dispatch("acme", 3)).await.unwrap().into_inner().job.unwrap();
    let order = work(&queue, 8 + 8).await;
    let positions: Vec<usize> =
        order.iter().enumerate().filter(|(_, j)| **j == small.id).map(|(i, _)| i).collect();
    assert_eq!(positions.len(), 3, "every chunk of the small job: {order:?}");
    assert!(positions[0] < 8 + 2, "right behind the backlog: {positions:?}");
    d.stop().await;
}

#[tokio::test]
async fn tenants_share_the_workers_by_weight_not_by_their_number_of_jobs() {
    let (queue, store) = (MemoryQueue::new(), MemoryStore::new());
    let quotas = QuotaBook::from_yaml("tenants: {gamma: {weight: 2}}").unwrap();
    let d = start(queue.clone(), store.clone(), settings(16, quotas)).await;
    let mut client = d.client.clone();
    let mut tenant_of = HashMap::new();
    for (tenant, jobs) in [("alpha", 4), ("beta", 1), ("gamma", 1)] {
        for _ in 0..jobs {
            let job =
                client.dispatch_job(dispatch(tenant, 1_000_000)).await.unwrap().into_inner().job.unwrap();
            tenant_of.insert(job.id, tenant);
        }
    }
    // What was placed before the last job arrived is not a share: skip a backlog's worth.
    wait_for(|| async { lag(&queue).await == 16 }).await;
    work(&queue, 32).await;
    let mut taken: HashMap<&str, usize> = HashMap::new();
    for job in work(&queue, 800).await {
        *taken.entry(tenant_of[&job]).or_default() += 1;
    }
    let share = |tenant: &str| taken.get(tenant).copied().unwrap_or(0) as f64 / 800.0;
    assert!((share("alpha") - 0.25).abs() <= 0.025, "{taken:?}");
    assert!((share("beta") - 0.25).abs() <= 0.025, "{taken:?}");
    assert!((share("gamma") - 0.5).abs() <= 0.05, "{taken:?}");
    d.stop().await;
}

#[tokio::test]
async fn a_cancelled_job_places_no_more_chunks() {
    let (queue, store) = (MemoryQueue::new(), MemoryStore::new());
    let d = start(queue.clone(), store.clone(), settings(8, QuotaBook::from_yaml("{}").unwrap())).await;
    let mut client = d.client.clone();
    let giant = client.dispatch_job(dispatch("acme", 1_000_000)).await.unwrap().into_inner().job.unwrap();
    let other = client.dispatch_job(dispatch("beta", 1_000_000)).await.unwrap().into_inner().job.unwrap();
    wait_for(|| async { lag(&queue).await == 8 }).await;
    client.cancel_job(as_tenant("acme", CancelJobRequest { id: giant.id.clone() })).await.unwrap();
    // At most the backlog of its chunks were on the stream; after them, only the other job's.
    let order = work(&queue, 40).await;
    let last_cancelled = order.iter().rposition(|j| *j == giant.id).unwrap_or(0);
    assert!(last_cancelled < 8 + 2, "{order:?}");
    assert!(order[last_cancelled + 1..].iter().all(|j| *j == other.id), "{order:?}");
    d.stop().await;
}
