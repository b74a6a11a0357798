//! WatchJob: progress as it happens, the end at the terminal state, reports through another
//! replica, and streams that end when the service stops.

use std::time::Duration;

use tanksim_broker::MemoryStore;
use tanksim_proto::internal::v1 as internal;
use tanksim_proto::v1::{self, JobState};
use tokio::time::timeout;

use crate::harness::*;

/// Long enough that only change notifications can explain a prompt event.
const SLOW_POLL: Duration = Duration::from_secs(60);

async fn next_job(stream: &mut tonic::Streaming<v1::WatchJobResponse>) -> Option<v1::Job> {
    timeout(Duration::from_secs(10), stream.message())
        .await
        .expect("an event within 10 s")
        .expect("stream ok")
        .map(|r| r.job.expect("job"))
}

#[tokio::test]
async fn watch_streams_progress_from_another_replica_and_ends_when_the_job_succeeds() {
    let store = MemoryStore::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let watched = Instance::start(store.clone(), dir.path(), SLOW_POLL).await;
    let reporting = Instance::start(store.clone(), dir.path(), SLOW_POLL).await;
    let layout = Layout { runs: 40, chunk_size: 10 };
    let id = create_job(&store, &monte_carlo_spec(layout.runs), layout).await;

    let mut stream = watched
        .jobs()
        .await
        .watch_job(v1::WatchJobRequest { id: id.clone() })
        .await
        .expect("watch")
        .into_inner();
    let first = next_job(&mut stream).await.expect("the current status at once");
    assert_eq!(state(&first), JobState::Queued);

    let mut results = reporting.results().await;
    let mut seen = Vec::new();
    for chunk in [3, 1, 0, 2] {
        results.report_chunk(report(&id, layout, chunk, metrics, None)).await.expect("report");
        let job = next_job(&mut stream).await.expect("an event per report");
        seen.push((state(&job), job.progress.expect("progress").chunks_done));
    }
    assert_eq!(
        seen,
        [(JobState::Running, 1), (JobState::Running, 2), (JobState::Running, 3), (JobState::Succeeded, 4)]
    );
    assert!(next_job(&mut stream).await.is_none(), "the stream ends after the terminal state");
    watched.stop().await;
    reporting.stop().await;
}

#[tokio::test]
async fn watch_ends_with_the_failure_and_a_finished_job_ends_at_once() {
    let store = MemoryStore::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let service = Instance::start(store.clone(), dir.path(), SLOW_POLL).await;
    let layout = Layout { runs: 20, chunk_size: 10 };
    let id = create_job(&store, &monte_carlo_spec(layout.runs), layout).await;
    let mut jobs = service.jobs().await;
    let mut stream =
        jobs.watch_job(v1::WatchJobRequest { id: id.clone() }).await.expect("watch").into_inner();
    assert_eq!(state(&next_job(&mut stream).await.expect("first")), JobState::Queued);
    let failure = internal::ReportChunkFailureRequest {
        job_id: id.clone(),
        chunk: 1,
        reason: "boom".into(),
        deliveries: 3,
    };
    service.results().await.report_chunk_failure(failure).await.expect("failure");
    let last = next_job(&mut stream).await.expect("the failure");
    assert_eq!(state(&last), JobState::Failed);
    assert!(last.error.contains("boom"));
    assert!(next_job(&mut stream).await.is_none());

    let mut again = jobs.watch_job(v1::WatchJobRequest { id }).await.expect("watch").into_inner();
    assert_eq!(state(&next_job(&mut again).await.expect("the status")), JobState::Failed);
    assert!(next_job(&mut again).await.is_none());
    service.stop().await;
}

#[tokio::test]
async fn polling_catches_changes_nobody_announced() {
    let store = MemoryStore::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let service = Instance::start(store.clone(), dir.path(), Duration::from_millis(50)).await;
    let layout = Layout { runs: 10, chunk_size: 10 };
    let id = create_job(&store, &monte_carlo_spec(layout.runs), layout).await;
    let mut stream = service
        .jobs()
        .await
        .watch_job(v1::WatchJobRequest { id: id.clone() })
        .await
        .expect("watch")
        .into_inner();
    assert_eq!(state(&next_job(&mut stream).await.expect("first")), JobState::Queued);
    // Recorded straight into the store (a replica that crashed before merging or notifying):
    // the watcher's poll finds the job complete, finishes it and ends.
    let summary =
        prost::Message::encode_to_vec(&report(&id, layout, 0, metrics, None).summary.expect("summary"));
    tanksim_broker::JobStore::record_chunk(&store, &id, 0, 10, &summary, 1).await.expect("record");
    let last = next_job(&mut stream).await.expect("polled status");
    assert_eq!(state(&last), JobState::Succeeded);
    assert!(next_job(&mut stream).await.is_none());
    service.stop().await;
}

#[tokio::test]
async fn stopping_the_service_ends_open_watches_with_unavailable() {
    let store = MemoryStore::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let service = Instance::start(store.clone(), dir.path(), SLOW_POLL).await;
    let layout = Layout { runs: 10, chunk_size: 10 };
    let id = create_job(&store, &monte_carlo_spec(layout.runs), layout).await;
    let mut stream =
        service.jobs().await.watch_job(v1::WatchJobRequest { id }).await.expect("watch").into_inner();
    assert!(next_job(&mut stream).await.is_some());
    // `stop` itself asserts that `run` returns within 10 s despite the open stream.
    service.stop().await;
    let end = timeout(Duration::from_secs(10), stream.message()).await.expect("stream ends");
    assert_eq!(end.expect_err("ends with a status").code(), tonic::Code::Unavailable);
}
