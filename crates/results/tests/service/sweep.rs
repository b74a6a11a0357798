//! Sweep jobs: the grid table in run order and the best point by the objective.

use std::time::Duration;

use tanksim_broker::MemoryStore;
use tanksim_proto::convert::run_row;
use tanksim_proto::v1::{self, JobState};
use tanksim_sim_core::RunMetrics;
use tanksim_sim_core::param::Param;

use crate::harness::*;

/// 3 x 4 grid, chunks of 5: chunk 2 holds runs 10 and 11.
const LAYOUT: Layout = Layout { runs: 12, chunk_size: 5 };

fn axis_values(run: u64) -> (f64, f64) {
    ([5.0, 10.0, 20.0][(run / 4) as usize], 1.0 + (run % 4) as f64)
}

/// ISE (the maximised objective): 9 at runs 7 and 10 (tie: 7 wins), absent at run 2,
/// infinite at run 4 (never best), below 9 elsewhere.
fn ise(run: u64) -> f64 {
    match run {
        7 | 10 => 9.0,
        2 => f64::NAN,
        4 => f64::INFINITY,
        r => 1.0 + r as f64 * 0.1,
    }
}

fn sweep_metrics(run: u64) -> RunMetrics {
    RunMetrics { ise: ise(run), ..metrics(run) }
}

fn sweep_row(run: u64) -> v1::RunRow {
    let (tau, kp) = axis_values(run);
    run_row(run, &[(Param::Tau, tau), (Param::Kp, kp)], &sweep_metrics(run), None)
}

async fn results(
    jobs: &mut v1::job_service_client::JobServiceClient<tonic::transport::Channel>,
    id: &str,
    max_points: u32,
) -> v1::SweepResult {
    jobs.get_job_results(v1::GetJobResultsRequest { id: id.to_owned(), histogram_bins: 0, max_points })
        .await
        .expect("results")
        .into_inner()
        .sweep
        .expect("a sweep result")
}

#[tokio::test]
async fn the_table_lists_the_grid_in_run_order_with_the_best_point() {
    let store = MemoryStore::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let service = Instance::start(store.clone(), dir.path(), Duration::from_secs(1)).await;
    let (mut reports, mut jobs) = (service.results().await, service.jobs().await);
    let id = create_job(&store, &sweep_spec(), LAYOUT).await;

    // Only the last chunk so far: its points, incomplete; run 10 is the best seen.
    reports.report_chunk(report(&id, LAYOUT, 2, sweep_metrics, Some(&sweep_row))).await.expect("report");
    let partial = results(&mut jobs, &id, 0).await;
    assert_eq!(partial.points.iter().map(|p| p.run).collect::<Vec<_>>(), [10, 11]);
    assert!(!partial.complete);
    assert_eq!(partial.best.expect("best so far").run, 10);

    for chunk in [1, 0] {
        reports
            .report_chunk(report(&id, LAYOUT, chunk, sweep_metrics, Some(&sweep_row)))
            .await
            .expect("report");
    }
    assert_eq!(state(&get_job(&mut jobs, &id).await), JobState::Succeeded);

    let table = results(&mut jobs, &id, 0).await;
    assert_eq!(table.params, ["plant.tau", "controller.kp"]);
    let objective = table.objective.expect("objective");
    assert_eq!((objective.metric, objective.goal), (v1::Metric::Ise as i32, v1::Goal::Maximize as i32));
    assert!(table.complete);
    assert_eq!(table.points.len(), 12);
    for (i, point) in table.points.iter().enumerate() {
        let run = i as u64;
        let (tau, kp) = axis_values(run);
        assert_eq!((point.run, point.values.as_slice()), (run, [tau, kp].as_slice()));
        match run {
            2 => assert_eq!(point.objective, None, "absent objective"),
            _ => assert_eq!(point.objective, Some(ise(run)), "run {run}"),
        }
    }
    let best = table.best.expect("best");
    assert_eq!((best.run, best.values.as_slice(), best.objective), (7, [10.0, 4.0].as_slice(), Some(9.0)));

    let capped = results(&mut jobs, &id, 5).await;
    assert_eq!(capped.points.len(), 5);
    assert!(!capped.complete);
    assert_eq!(capped.best.expect("best over every point").run, 7);

    // A sweep's rows export like a dataset's.
    let mut stream =
        jobs.export_runs(v1::ExportRunsRequest { id: id.clone() }).await.expect("export").into_inner();
    let first = stream.message().await.expect("stream").expect("a message");
    assert_eq!(first.params, ["plant.tau", "controller.kp"]);
    assert_eq!(first.rows.iter().map(|r| r.run).collect::<Vec<_>>(), (0..12).collect::<Vec<_>>());
    service.stop().await;
}
