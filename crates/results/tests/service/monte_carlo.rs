//! Monte Carlo jobs: bit-identical merging whatever the order, state machine, idempotence,
//! failures, several replicas reporting at once.

use std::time::Duration;

use prost::Message;
use tanksim_broker::{JobStore, MemoryStore};
use tanksim_proto::convert::metric_summaries;
use tanksim_proto::internal::v1 as internal;
use tanksim_proto::v1::{self, JobState};

use crate::harness::*;

const LAYOUT: Layout = Layout { runs: 1250, chunk_size: 100 };

#[tokio::test]
async fn shuffled_and_duplicated_reports_merge_bit_identically_in_chunk_order() {
    let store = MemoryStore::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let service = Instance::start(store.clone(), dir.path(), Duration::from_secs(1)).await;
    let (mut results, mut jobs) = (service.results().await, service.jobs().await);
    let id = create_job(&store, &monte_carlo_spec(LAYOUT.runs), LAYOUT).await;

    let order = shuffled(LAYOUT.chunks());
    assert_ne!(order, (0..LAYOUT.chunks()).collect::<Vec<_>>(), "the order must actually be shuffled");
    for (i, &chunk) in order.iter().enumerate() {
        let first = results.report_chunk(report(&id, LAYOUT, chunk, metrics, None)).await.expect("report");
        assert!(first.into_inner().recorded, "chunk {chunk}");
        // Every other chunk is reported again (a worker that died before acknowledging).
        if i % 2 == 0 {
            let again =
                results.report_chunk(report(&id, LAYOUT, chunk, metrics, None)).await.expect("report");
            assert!(!again.into_inner().recorded, "duplicate of chunk {chunk}");
        }
    }

    let job = get_job(&mut jobs, &id).await;
    assert_eq!(state(&job), JobState::Succeeded);
    let progress = job.progress.expect("progress");
    assert_eq!((progress.runs_done, progress.chunks_done), (LAYOUT.runs, LAYOUT.chunks()));

    let expected = merged_in_order(LAYOUT);
    // Arrival order would give other bits: the test can tell the difference.
    let mut in_arrival_order = tanksim_sim_core::summary::RunSummary::new();
    for &chunk in &order {
        in_arrival_order.merge(&chunk_summary(LAYOUT.range(chunk), metrics));
    }
    let encoded = |s| internal::RunSummary::from(s).encode_to_vec();
    assert_ne!(encoded(&in_arrival_order), encoded(&expected));
    let (upto, bytes) = store.merged(&id).await.expect("store").expect("merged");
    assert_eq!(upto, LAYOUT.chunks());
    assert_eq!(bytes, encoded(&expected), "merged summary bits");

    let response = jobs
        .get_job_results(v1::GetJobResultsRequest { id: id.clone(), histogram_bins: 0, max_points: 0 })
        .await
        .expect("results")
        .into_inner();
    let want = metric_summaries(&expected, 20);
    assert_eq!(response.metrics.len(), 13);
    assert_eq!(response.metrics[0].histogram.len(), 20);
    let encode = |m: &[v1::MetricSummary]| m.iter().map(Message::encode_to_vec).collect::<Vec<_>>();
    assert_eq!(encode(&response.metrics), encode(&want), "public summaries bits");
    assert!(response.sweep.is_none());
    service.stop().await;
}

#[tokio::test]
async fn state_goes_queued_running_succeeded_and_duplicates_count_once() {
    let store = MemoryStore::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let service = Instance::start(store.clone(), dir.path(), Duration::from_secs(1)).await;
    let (mut results, mut jobs) = (service.results().await, service.jobs().await);
    let layout = Layout { runs: 30, chunk_size: 10 };
    let id = create_job(&store, &monte_carlo_spec(layout.runs), layout).await;

    let job = get_job(&mut jobs, &id).await;
    assert_eq!(state(&job), JobState::Queued);
    assert!(job.started_at.is_none() && job.submitted_at.is_some());

    for _ in 0..3 {
        results.report_chunk(report(&id, layout, 1, metrics, None)).await.expect("report");
    }
    let job = get_job(&mut jobs, &id).await;
    assert_eq!(state(&job), JobState::Running);
    assert!(job.started_at.is_some() && job.finished_at.is_none());
    let progress = job.progress.expect("progress");
    assert_eq!((progress.runs_done, progress.chunks_done, progress.chunks_total), (10, 1, 3));

    for chunk in [2, 0] {
        results.report_chunk(report(&id, layout, chunk, metrics, None)).await.expect("report");
    }
    let job = get_job(&mut jobs, &id).await;
    assert_eq!(state(&job), JobState::Succeeded);
    assert!(job.finished_at.is_some());
    assert_eq!(job.progress.expect("progress").runs_done, 30);
    // A late duplicate of a merged chunk changes nothing.
    let late =
        results.report_chunk(report(&id, layout, 0, metrics, None)).await.expect("report").into_inner();
    assert!(!late.recorded);
    assert_eq!(get_job(&mut jobs, &id).await, job);
    service.stop().await;
}

#[tokio::test]
async fn a_failed_chunk_fails_the_job_with_the_reason() {
    let store = MemoryStore::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let service = Instance::start(store.clone(), dir.path(), Duration::from_secs(1)).await;
    let (mut results, mut jobs) = (service.results().await, service.jobs().await);
    let layout = Layout { runs: 30, chunk_size: 10 };
    let id = create_job(&store, &monte_carlo_spec(layout.runs), layout).await;
    results.report_chunk(report(&id, layout, 0, metrics, None)).await.expect("report");
    results
        .report_chunk_failure(internal::ReportChunkFailureRequest {
            job_id: id.clone(),
            chunk: 2,
            reason: "worker panicked: injected fault".into(),
            deliveries: 5,
        })
        .await
        .expect("failure report");
    let job = get_job(&mut jobs, &id).await;
    assert_eq!(state(&job), JobState::Failed);
    assert!(
        job.error.contains("worker panicked: injected fault") && job.error.contains("chunk 2"),
        "{}",
        job.error
    );
    assert_eq!(job.progress.expect("progress").chunks_failed, 1);
    // Later reports are kept but do not revive it.
    results.report_chunk(report(&id, layout, 1, metrics, None)).await.expect("report");
    results.report_chunk(report(&id, layout, 2, metrics, None)).await.expect("report");
    assert_eq!(state(&get_job(&mut jobs, &id).await), JobState::Failed);
    service.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_taking_reports_concurrently_merge_bit_identically() {
    let store = MemoryStore::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let a = Instance::start(store.clone(), dir.path(), Duration::from_secs(1)).await;
    let b = Instance::start(store.clone(), dir.path(), Duration::from_secs(1)).await;
    let layout = Layout { runs: 4000, chunk_size: 50 };
    let id = create_job(&store, &monte_carlo_spec(layout.runs), layout).await;

    let mut tasks = Vec::new();
    for (i, chunk) in shuffled(layout.chunks()).into_iter().enumerate() {
        let mut client = if i % 2 == 0 { a.results().await } else { b.results().await };
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            client.report_chunk(report(&id, layout, chunk, metrics, None)).await.expect("report");
        }));
    }
    for task in tasks {
        task.await.expect("reporter");
    }
    let job = get_job(&mut a.jobs().await, &id).await;
    assert_eq!(state(&job), JobState::Succeeded);
    let (_, bytes) = store.merged(&id).await.expect("store").expect("merged");
    assert_eq!(bytes, internal::RunSummary::from(&merged_in_order(layout)).encode_to_vec());
    a.stop().await;
    b.stop().await;
}
