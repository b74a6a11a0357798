//! Dataset jobs: rows written atomically per chunk, exported in run order with the right
//! values, in bounded messages; leftovers of a crash ignored and cleaned.

use std::time::{Duration, SystemTime};

use tanksim_broker::{JobStore, MemoryStore};
use tanksim_proto::v1::{self, JobState};
use tanksim_results::EXPORT_MAX_ROWS;

use crate::harness::*;

const LAYOUT: Layout = Layout { runs: 2500, chunk_size: 700 };

async fn export(
    client: &mut tanksim_proto::v1::job_service_client::JobServiceClient<tonic::transport::Channel>,
    id: &str,
) -> Vec<v1::ExportRunsResponse> {
    let mut stream =
        client.export_runs(v1::ExportRunsRequest { id: id.to_owned() }).await.expect("export").into_inner();
    let mut messages = Vec::new();
    while let Some(message) = stream.message().await.expect("export stream") {
        messages.push(message);
    }
    messages
}

#[tokio::test]
async fn rows_are_stored_per_chunk_and_exported_in_run_order() {
    let store = MemoryStore::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let service = Instance::start(store.clone(), dir.path(), Duration::from_secs(1)).await;
    let (mut results, mut jobs) = (service.results().await, service.jobs().await);
    let id = create_job(&store, &dataset_spec(LAYOUT.runs), LAYOUT).await;

    // A crash left a partial temporary file for chunk 1 behind.
    let job_dir = dir.path().join(&id);
    std::fs::create_dir_all(&job_dir).expect("job dir");
    std::fs::write(job_dir.join("chunk-000001.rows.tmp-crashed"), b"\x05partial garbage").expect("leftover");

    // Chunks 2 and 0 first: a running job exports the prefix before the first missing chunk.
    for chunk in [2, 0] {
        results.report_chunk(report(&id, LAYOUT, chunk, metrics, Some(&dataset_row))).await.expect("report");
    }
    let partial = export(&mut jobs, &id).await;
    let runs: Vec<u64> = partial.iter().flat_map(|m| m.rows.iter().map(|r| r.run)).collect();
    assert_eq!(runs, (0..700).collect::<Vec<_>>());

    for chunk in [3, 1, 2] {
        results.report_chunk(report(&id, LAYOUT, chunk, metrics, Some(&dataset_row))).await.expect("report");
    }
    assert_eq!(state(&get_job(&mut jobs, &id).await), JobState::Succeeded);
    let names: Vec<String> = std::fs::read_dir(&job_dir)
        .expect("job dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| !n.contains(".tmp-"))
        .collect();
    assert_eq!(names.len(), 4, "{names:?}");
    assert!(names.contains(&"chunk-000003.rows".to_owned()));

    let messages = export(&mut jobs, &id).await;
    assert_eq!(messages[0].params, ["plant.tau", "controller.kp"]);
    assert!(messages[1..].iter().all(|m| m.params.is_empty()));
    assert!(messages.iter().all(|m| m.rows.len() <= EXPORT_MAX_ROWS));
    assert_eq!(messages.iter().map(|m| m.rows.len()).collect::<Vec<_>>(), [1000, 1000, 500]);
    let rows: Vec<v1::RunRow> = messages.into_iter().flat_map(|m| m.rows).collect();
    assert_eq!(rows.len() as u64, LAYOUT.runs);
    for (i, row) in rows.iter().enumerate() {
        let want = dataset_row(i as u64);
        // NaN (absent metrics) is not equal to itself: compare bits.
        let bits = |r: &v1::RunRow| {
            (
                r.run,
                r.params.iter().chain(&r.metrics).map(|x| x.to_bits()).collect::<Vec<_>>(),
                r.trajectory.clone(),
            )
        };
        assert_eq!(bits(row), bits(&want), "run {i}");
    }
    assert!(rows[0].metrics[0].is_nan(), "run 0 has no overshoot (absent -> NaN)");
    service.stop().await;
}

#[tokio::test]
async fn stale_temporary_files_are_removed_at_start_and_young_ones_kept() {
    let store = MemoryStore::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let job_dir = dir.path().join("some-job");
    std::fs::create_dir_all(&job_dir).expect("job dir");
    let stale = job_dir.join("chunk-000004.rows.tmp-old");
    let young = job_dir.join("chunk-000005.rows.tmp-in-flight");
    std::fs::write(&stale, b"partial").expect("write");
    std::fs::write(&young, b"partial").expect("write");
    let day_ago = SystemTime::now() - Duration::from_secs(24 * 3600);
    std::fs::File::options().write(true).open(&stale).and_then(|f| f.set_modified(day_ago)).expect("mtime");

    let service = Instance::start(store, dir.path(), Duration::from_secs(1)).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while stale.exists() {
        assert!(tokio::time::Instant::now() < deadline, "stale temporary file still there");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(young.exists());
    service.stop().await;
}

#[tokio::test]
async fn dataset_reports_need_one_row_per_run_in_order() {
    let store = MemoryStore::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let service = Instance::start(store.clone(), dir.path(), Duration::from_secs(1)).await;
    let mut results = service.results().await;
    let id = create_job(&store, &dataset_spec(LAYOUT.runs), LAYOUT).await;

    let mut short = report(&id, LAYOUT, 1, metrics, Some(&dataset_row));
    short.rows.pop();
    assert_eq!(violated_field(&results.report_chunk(short).await.expect_err("short")), "rows");
    let mut swapped = report(&id, LAYOUT, 1, metrics, Some(&dataset_row));
    swapped.rows.swap(3, 4);
    assert_eq!(violated_field(&results.report_chunk(swapped).await.expect_err("order")), "rows");
    assert!(
        !dir.path().join(&id).join("chunk-000001.rows").exists(),
        "nothing written for a rejected report"
    );
    let job = get_job(&mut service.jobs().await, &id).await;
    assert_eq!(state(&job), JobState::Queued);
    service.stop().await;
}

#[tokio::test]
async fn a_cancelled_jobs_rows_are_deleted() {
    let store = MemoryStore::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let service = Instance::start(store.clone(), dir.path(), Duration::from_secs(1)).await;
    let (mut results, mut jobs) = (service.results().await, service.jobs().await);
    let id = create_job(&store, &dataset_spec(LAYOUT.runs), LAYOUT).await;
    let other = create_job(&store, &dataset_spec(LAYOUT.runs), LAYOUT).await;
    for job in [&id, &other] {
        for chunk in [0, 1] {
            results
                .report_chunk(report(job, LAYOUT, chunk, metrics, Some(&dataset_row)))
                .await
                .expect("report");
        }
    }
    let job_dir = dir.path().join(&id);
    assert!(job_dir.join("chunk-000001.rows").exists());

    // The dispatcher cancels (through the store); the next read here observes it.
    store.cancel(&id, "cancelled by request", 1).await.expect("cancel").expect("known job");
    assert_eq!(state(&get_job(&mut jobs, &id).await), JobState::Cancelled);
    assert!(!job_dir.exists(), "the rows of the cancelled job are deleted");
    assert!(dir.path().join(&other).join("chunk-000001.rows").exists(), "other jobs keep theirs");

    // A chunk in flight at the cancel still reports: its rows are not written.
    results.report_chunk(report(&id, LAYOUT, 2, metrics, Some(&dataset_row))).await.expect("report");
    assert!(!job_dir.exists(), "no rows written for a cancelled job");
    let messages = export(&mut jobs, &id).await;
    assert!(messages.iter().all(|m| m.rows.is_empty()), "a cancelled job exports no rows");
    service.stop().await;
}

#[tokio::test]
async fn rows_written_before_a_cancel_nobody_reads_are_swept_at_start() {
    let store = MemoryStore::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let service = Instance::start(store.clone(), dir.path(), Duration::from_secs(1)).await;
    let mut results = service.results().await;
    let id = create_job(&store, &dataset_spec(LAYOUT.runs), LAYOUT).await;
    results.report_chunk(report(&id, LAYOUT, 0, metrics, Some(&dataset_row))).await.expect("report");
    service.stop().await;
    store.cancel(&id, "cancelled by request", 1).await.expect("cancel").expect("known job");
    assert!(dir.path().join(&id).exists());

    // The next start sweeps the data directory (and again every minute).
    let service = Instance::start(store.clone(), dir.path(), Duration::from_secs(1)).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while dir.path().join(&id).exists() {
        assert!(tokio::time::Instant::now() < deadline, "the cancelled job's rows were not swept");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    service.stop().await;
}
