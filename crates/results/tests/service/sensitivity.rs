//! Sensitivity jobs: the indices of a running job use the base samples whose runs are in and
//! say they are partial; a finished job's are computed once and kept.

use std::time::Duration;

use tanksim_broker::MemoryStore;
use tanksim_proto::convert::run_row;
use tanksim_proto::v1::{self, JobState};

use crate::harness::*;

const LAYOUT: Layout = Layout { runs: 64, chunk_size: 32 };

fn row(run: u64) -> v1::RunRow {
    run_row(run, &dataset_params(run), &metrics(run), None)
}

async fn sensitivity(
    jobs: &mut v1::job_service_client::JobServiceClient<tonic::transport::Channel>,
    id: &str,
) -> v1::SensitivityResult {
    let request = v1::GetJobResultsRequest { id: id.to_owned(), ..Default::default() };
    let results = jobs.get_job_results(request).await.expect("results").into_inner();
    results.sensitivity.expect("a sensitivity result")
}

#[tokio::test]
async fn a_finished_jobs_indices_are_computed_once_and_kept() {
    let store = MemoryStore::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let service = Instance::start(store.clone(), dir.path(), Duration::from_secs(1)).await;
    let (mut results, mut jobs) = (service.results().await, service.jobs().await);
    let id = create_job(&store, &sensitivity_spec(), LAYOUT).await;

    // Half the base samples in: partial indices.
    results.report_chunk(report(&id, LAYOUT, 0, metrics, Some(&row))).await.expect("report");
    let partial = sensitivity(&mut jobs, &id).await;
    assert!(!partial.complete, "{partial:?}");
    assert_eq!(partial.metrics[0].samples_used, 8, "{partial:?}");

    results.report_chunk(report(&id, LAYOUT, 1, metrics, Some(&row))).await.expect("report");
    assert_eq!(state(&get_job(&mut jobs, &id).await), JobState::Succeeded);
    let done = sensitivity(&mut jobs, &id).await;
    assert!(done.complete && done.metrics[0].samples_used == 16, "{done:?}");
    assert_eq!(done.metrics[0].first_order.len(), 2);

    // With the rows gone, a recomputation would see no base sample: the same answer means it
    // was kept.
    std::fs::remove_dir_all(dir.path().join(&id)).expect("remove the job's rows");
    assert_eq!(sensitivity(&mut jobs, &id).await, done);
    service.stop().await;
}
