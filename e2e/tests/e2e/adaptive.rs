//! Adaptive Monte Carlo through the deployment: a job that runs in waves until its metric's
//! p95 (with one worker) or mean (with three, while one of them is killed and Redis restarts)
//! is precise enough stops at the same run count with the same aggregates as the embedded run.

use tanksim_e2e::{Cluster, Options, api, binaries, scenario};
use tanksim_proto::v1::{GetJobResultsResponse, JobState, SubmitJobRequest, submit_job_request::Job};

use crate::{JOB_LIMIT, LIMIT, waves_through_faults};

/// The configured chunk size: adaptive jobs use the largest divisor of their batch within it.
const CHUNK: u64 = 400;

/// `example` (examples/mc-tau-adaptive.yaml: the mean overshoot; -p95.yaml: its p95) with
/// waves of `batch` runs towards a relative half-width of `relative`, over a `horizon`-second
/// step.
fn adaptive(example: &str, batch: u64, relative: f64, horizon: f64) -> SubmitJobRequest {
    let mut spec = api::example(example);
    let Some(Job::MonteCarlo(mc)) = &mut spec.job else { panic!("{example} is a Monte Carlo job") };
    let stop = mc.stop.as_mut().expect("a stop rule");
    stop.batch_runs = batch;
    stop.target = Some(tanksim_proto::v1::monte_carlo_stop::Target::RelativeHalfWidth(relative));
    spec.config.as_mut().expect("a config").horizon = horizon;
    spec
}

/// The job stopped on target, after more than one wave, at a wave end.
fn assert_stopped_on_target(results: &GetJobResultsResponse, batch: u64) {
    let stop = results.stop.as_ref().expect("an adaptive result");
    assert!(stop.target_reached && stop.half_width <= stop.target_half_width, "{stop:?}");
    assert!(stop.lower <= stop.estimate && stop.estimate <= stop.upper, "{stop:?}");
    assert!(stop.runs > batch && stop.runs.is_multiple_of(batch) && stop.runs < stop.max_runs, "{stop:?}");
    let progress = results.job.as_ref().and_then(|j| j.progress).expect("progress");
    assert_eq!(
        (progress.runs_total, progress.runs_done, progress.runs_released),
        (stop.runs, stop.runs, stop.runs)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_adaptive_job_on_a_quantile_stops_where_the_embedded_run_stops_with_one_worker() {
    scenario(
        "an_adaptive_job_on_a_quantile_stops_where_the_embedded_run_stops_with_one_worker",
        LIMIT,
        async {
            let spec = adaptive("mc-tau-adaptive-p95.yaml", 1_000, 0.02, 60.0);
            let reference = tanksim_e2e::reference::embedded(spec.clone(), CHUNK).await;
            assert_stopped_on_target(&reference.results, 1_000);
            let cluster =
                Cluster::start(binaries!(), Options { workers: 1, chunk_size: CHUNK, ..Options::default() })
                    .await;
            let mut client = cluster.gateway_client();
            let job = api::submit(&mut client, spec).await;
            let job = api::wait_ended(&mut client, &job.id, JOB_LIMIT).await;
            assert_eq!(job.state(), JobState::Succeeded, "{job:?}");
            let results = api::results(&mut client, &job.id).await;
            api::assert_same_results(&results, &reference.results);
            assert_stopped_on_target(&results, 1_000);
            assert_eq!(results.stop.as_ref().map(|s| s.quantile), Some(0.95));
            cluster.assert_no_worker_crashes();
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_adaptive_job_loses_nothing_to_a_killed_worker_and_a_redis_restart() {
    scenario("an_adaptive_job_loses_nothing_to_a_killed_worker_and_a_redis_restart", LIMIT, async {
        // Waves of 2,000 runs of 5-minute steps, in chunks of 400: long enough to kill into.
        let spec = adaptive("mc-tau-adaptive.yaml", 2_000, 0.004, 300.0);
        let reference = tanksim_e2e::reference::embedded(spec.clone(), CHUNK).await;
        assert_stopped_on_target(&reference.results, 2_000);
        // Worker 0 dies for good in the second wave (the first is 5 chunks); Redis restarts in
        // the third.
        let results = waves_through_faults(spec, &reference.results, CHUNK, (7, 30)).await;
        assert_stopped_on_target(&results, 2_000);
    })
    .await;
}
