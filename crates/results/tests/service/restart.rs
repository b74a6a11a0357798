//! A new results instance over the same store loses nothing and finishes the job, including
//! a job whose last chunk was recorded just before a crash (nobody merged it).

use std::time::Duration;

use prost::Message;
use tanksim_broker::{JobStore, MemoryStore};
use tanksim_proto::internal::v1 as internal;
use tanksim_proto::v1::{self, JobState};

use crate::harness::*;

const LAYOUT: Layout = Layout { runs: 900, chunk_size: 100 };

#[tokio::test]
async fn a_restarted_instance_continues_where_the_first_stopped() {
    let store = MemoryStore::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let id = create_job(&store, &monte_carlo_spec(LAYOUT.runs), LAYOUT).await;
    let order = shuffled(LAYOUT.chunks());

    let first = Instance::start(store.clone(), dir.path(), Duration::from_secs(1)).await;
    let mut results = first.results().await;
    for &chunk in &order[..5] {
        results.report_chunk(report(&id, LAYOUT, chunk, metrics, None)).await.expect("report");
    }
    first.stop().await;

    let second = Instance::start(store.clone(), dir.path(), Duration::from_secs(1)).await;
    let mut jobs = second.jobs().await;
    let job = get_job(&mut jobs, &id).await;
    assert_eq!((state(&job), job.progress.expect("progress").chunks_done), (JobState::Running, 5));
    let mut results = second.results().await;
    // The chunk that was in flight at the restart comes again, then the rest.
    for &chunk in &order[4..] {
        results.report_chunk(report(&id, LAYOUT, chunk, metrics, None)).await.expect("report");
    }
    let job = get_job(&mut jobs, &id).await;
    assert_eq!(state(&job), JobState::Succeeded);
    assert_eq!(job.progress.expect("progress").runs_done, LAYOUT.runs);
    let (_, bytes) = store.merged(&id).await.expect("store").expect("merged");
    assert_eq!(bytes, internal::RunSummary::from(&merged_in_order(LAYOUT)).encode_to_vec());
    second.stop().await;
}

#[tokio::test]
async fn a_job_whose_last_report_was_recorded_but_never_merged_finishes_on_read() {
    let store = MemoryStore::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let id = create_job(&store, &monte_carlo_spec(LAYOUT.runs), LAYOUT).await;
    // Chunks recorded straight into the store: a replica that crashed after recording each
    // chunk and before merging it.
    for chunk in shuffled(LAYOUT.chunks()) {
        let summary = report(&id, LAYOUT, chunk, metrics, None).summary.expect("summary").encode_to_vec();
        let runs = LAYOUT.range(chunk).end - LAYOUT.range(chunk).start;
        store.record_chunk(&id, chunk, runs, &summary, 1).await.expect("record");
    }
    assert_eq!(store.job(&id).await.expect("store").expect("job").state, tanksim_broker::JobState::Running);

    let service = Instance::start(store.clone(), dir.path(), Duration::from_secs(1)).await;
    let response = service
        .jobs()
        .await
        .get_job_results(v1::GetJobResultsRequest { id: id.clone(), histogram_bins: 5, max_points: 0 })
        .await
        .expect("results")
        .into_inner();
    assert_eq!(state(&response.job.expect("job")), JobState::Succeeded);
    assert_eq!(response.metrics[0].histogram.len(), 5);
    let (upto, bytes) = store.merged(&id).await.expect("store").expect("merged");
    assert_eq!(upto, LAYOUT.chunks());
    assert_eq!(bytes, internal::RunSummary::from(&merged_in_order(LAYOUT)).encode_to_vec());
    service.stop().await;
}
