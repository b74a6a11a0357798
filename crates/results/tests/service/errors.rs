//! Bad inputs get precise codes, and INVALID_ARGUMENT names the field.

use std::time::Duration;

use tanksim_broker::MemoryStore;
use tanksim_proto::v1;
use tonic::Code;

use crate::harness::*;

const LAYOUT: Layout = Layout { runs: 250, chunk_size: 100 };

#[tokio::test]
async fn reports_that_do_not_fit_the_job_are_rejected_by_field() {
    let store = MemoryStore::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let service = Instance::start(store.clone(), dir.path(), Duration::from_secs(1)).await;
    let mut results = service.results().await;
    let id = create_job(&store, &monte_carlo_spec(LAYOUT.runs), LAYOUT).await;
    let good = || report(&id, LAYOUT, 2, metrics, None);

    let mut bad = good();
    bad.chunk = 3;
    assert_eq!(violated_field(&results.report_chunk(bad).await.expect_err("chunk")), "chunk");
    let mut bad = good();
    bad.run_start = 199;
    assert_eq!(violated_field(&results.report_chunk(bad).await.expect_err("start")), "run_start");
    let mut bad = good();
    bad.run_end = 300;
    assert_eq!(violated_field(&results.report_chunk(bad).await.expect_err("end")), "run_end");
    let mut bad = good();
    bad.summary = None;
    assert_eq!(violated_field(&results.report_chunk(bad).await.expect_err("summary")), "summary");
    let mut bad = good();
    bad.summary = report(&id, LAYOUT, 0, metrics, None).summary; // 100 runs for a 50-run chunk
    assert_eq!(violated_field(&results.report_chunk(bad).await.expect_err("runs")), "summary");
    let mut bad = good();
    bad.summary.as_mut().expect("summary").metrics.pop();
    assert_eq!(violated_field(&results.report_chunk(bad).await.expect_err("metrics")), "summary");
    let mut bad = good();
    bad.rows = vec![dataset_row(200)];
    assert_eq!(violated_field(&results.report_chunk(bad).await.expect_err("rows")), "rows");
    let mut bad = good();
    bad.job_id = "../etc".into();
    assert_eq!(violated_field(&results.report_chunk(bad).await.expect_err("id")), "job_id");
    let mut bad = good();
    bad.job_id = uuid::Uuid::now_v7().to_string();
    assert_eq!(results.report_chunk(bad).await.expect_err("unknown").code(), Code::NotFound);

    let failure = tanksim_proto::internal::v1::ReportChunkFailureRequest {
        job_id: id.clone(),
        chunk: 9,
        reason: "x".into(),
        deliveries: 1,
    };
    assert_eq!(violated_field(&results.report_chunk_failure(failure).await.expect_err("chunk")), "chunk");

    // Nothing above counted.
    let job = get_job(&mut service.jobs().await, &id).await;
    assert_eq!(job.progress.expect("progress").chunks_done, 0);
    assert!(results.report_chunk(good()).await.expect("the good report").into_inner().recorded);
    service.stop().await;
}

#[tokio::test]
async fn reads_reject_bad_ids_tokens_and_sizes() {
    let store = MemoryStore::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let service = Instance::start(store.clone(), dir.path(), Duration::from_secs(1)).await;
    let mut jobs = service.jobs().await;
    let id = create_job(&store, &monte_carlo_spec(LAYOUT.runs), LAYOUT).await;

    let get = |id: &str| v1::GetJobRequest { id: id.to_owned() };
    assert_eq!(violated_field(&jobs.get_job(get("")).await.expect_err("empty")), "id");
    assert_eq!(violated_field(&jobs.get_job(get("a/b")).await.expect_err("malformed")), "id");
    let unknown = uuid::Uuid::now_v7().to_string();
    assert_eq!(jobs.get_job(get(&unknown)).await.expect_err("unknown").code(), Code::NotFound);
    let watch = jobs.watch_job(v1::WatchJobRequest { id: unknown.clone() }).await;
    assert_eq!(watch.expect_err("unknown").code(), Code::NotFound);

    let list = v1::ListJobsRequest { page_size: 10, page_token: "not-a-token".into() };
    assert_eq!(violated_field(&jobs.list_jobs(list).await.expect_err("token")), "page_token");

    let results =
        |histogram_bins, max_points| v1::GetJobResultsRequest { id: id.clone(), histogram_bins, max_points };
    assert_eq!(
        violated_field(&jobs.get_job_results(results(201, 0)).await.expect_err("bins")),
        "histogram_bins"
    );
    assert_eq!(
        violated_field(&jobs.get_job_results(results(0, 100_001)).await.expect_err("points")),
        "max_points"
    );
    assert!(jobs.get_job_results(results(200, 100_000)).await.is_ok());

    let export = jobs.export_runs(v1::ExportRunsRequest { id: id.clone() }).await.expect_err("Monte Carlo");
    assert_eq!(export.code(), Code::FailedPrecondition);
    assert!(export.message().contains("submit a dataset job"), "{}", export.message());
    let export = jobs.export_runs(v1::ExportRunsRequest { id: unknown }).await.expect_err("unknown");
    assert_eq!(export.code(), Code::NotFound);

    let submit = jobs.submit_job(monte_carlo_spec(10)).await.expect_err("not here");
    assert_eq!(submit.code(), Code::Unimplemented);
    assert!(submit.message().contains("dispatcher"));
    let cancel = jobs.cancel_job(v1::CancelJobRequest { id }).await.expect_err("not here");
    assert_eq!(cancel.code(), Code::Unimplemented);
    service.stop().await;
}
