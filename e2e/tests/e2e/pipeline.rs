//! The happy path: results through the deployment equal the embedded run's, bit for bit;
//! dataset rows come back complete and in order; a sweep names its best point.

use tanksim_e2e::{Cluster, Options, api, binaries, scenario};
use tanksim_proto::v1::{JobState, SubmitJobRequest, submit_job_request};

use crate::{CHUNK, JOB_LIMIT, LIMIT, RUNS, assert_complete_and_identical, mc_tau, mc_tau_reference};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mc_tau_results_equal_the_embedded_run_bit_for_bit() {
    scenario("mc_tau_results_equal_the_embedded_run_bit_for_bit", LIMIT, async {
        mc_tau_reference().await;
        let cluster = Cluster::start(binaries!(), Options { chunk_size: CHUNK, ..Options::default() }).await;
        let mut client = cluster.gateway_client();
        let job = api::submit(&mut client, mc_tau(RUNS)).await;
        assert_eq!(job.state(), JobState::Queued);
        let watch = tokio::spawn(api::watch(cluster.gateway_client(), job.id.clone()));
        assert_complete_and_identical(&cluster, &mut client, &job).await;
        // Progress only grows, and the stream ends with the final state.
        let events = tokio::time::timeout(JOB_LIMIT, watch).await.expect("WatchJob ends").unwrap();
        let done: Vec<u64> = events.iter().map(|j| j.progress.unwrap_or_default().runs_done).collect();
        assert!(done.windows(2).all(|w| w[0] <= w[1]), "{done:?}");
        let last = events.last().expect("at least one event");
        assert_eq!((last.state(), done.last().copied()), (JobState::Succeeded, Some(RUNS)), "{last:?}");
        cluster.assert_no_worker_crashes();
    })
    .await;
}

/// Rows-producing jobs use small chunks, so several chunks' rows files are stitched.
const ROWS_CHUNK: u64 = 500;

fn dataset(runs: u64) -> SubmitJobRequest {
    let mut spec = api::example("dataset-100k.yaml");
    match &mut spec.job {
        Some(submit_job_request::Job::Dataset(d)) => d.runs = runs,
        other => panic!("dataset-100k.yaml is not a dataset job: {other:?}"),
    }
    spec
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dataset_rows_and_sweep_results_equal_the_embedded_run() {
    scenario("dataset_rows_and_sweep_results_equal_the_embedded_run", LIMIT, async {
        let runs = 2_100; // 5 chunks, the last one partial
        let dataset_reference = tanksim_e2e::reference::embedded(dataset(runs), ROWS_CHUNK).await;
        let sweep_reference =
            tanksim_e2e::reference::embedded(api::example("k-tau-sweep.yaml"), ROWS_CHUNK).await;
        let cluster =
            Cluster::start(binaries!(), Options { chunk_size: ROWS_CHUNK, ..Options::default() }).await;
        let mut client = cluster.gateway_client();

        let job = api::submit(&mut client, dataset(runs)).await;
        let job = api::wait_ended(&mut client, &job.id, JOB_LIMIT).await;
        assert_eq!(job.state(), JobState::Succeeded, "{job:?}");
        let (params, rows) = api::export_runs(&mut client, &job.id).await;
        assert_eq!(params, ["plant.tau", "plant.gain", "controller.kp", "controller.ki"]);
        let order: Vec<u64> = rows.iter().map(|r| r.run).collect();
        assert_eq!(order, (0..runs).collect::<Vec<_>>(), "every run once, in order");
        // 60 s every 0.5 s, both ends included.
        assert!(rows.iter().all(|r| r.trajectory.as_ref().is_some_and(|t| t.h.len() == 121)), "trajectories");
        assert_eq!(params, dataset_reference.params);
        api::assert_same_rows(&rows, &dataset_reference.rows);
        api::assert_same_results(&api::results(&mut client, &job.id).await, &dataset_reference.results);

        let job = api::submit(&mut client, api::example("k-tau-sweep.yaml")).await;
        let job = api::wait_ended(&mut client, &job.id, JOB_LIMIT).await;
        assert_eq!(job.state(), JobState::Succeeded, "{job:?}");
        let results = api::results(&mut client, &job.id).await;
        let sweep = results.sweep.as_ref().expect("a sweep result");
        assert_eq!(sweep.params, ["plant.gain", "plant.tau"]);
        assert!(sweep.complete && sweep.points.len() == 36 * 40, "{} points", sweep.points.len());
        let best = sweep.best.as_ref().expect("the best point");
        let smallest = sweep.points.iter().filter_map(|p| p.objective).fold(f64::INFINITY, f64::min);
        assert_eq!(best.objective, Some(smallest), "the best point minimises ISE");
        api::assert_same_results(&results, &sweep_reference.results);
        cluster.assert_no_worker_crashes();
    })
    .await;
}

/// Fair scheduling: a small job submitted behind a giant one (the largest a job may be, hours
/// of the two workers' time in chunks of `CHUNK`) is done while the giant one still runs. Were
/// the giant's chunks all on the stream ahead of it, the small job would wait for every one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_job_is_not_starved_by_a_giant_one() {
    scenario("a_small_job_is_not_starved_by_a_giant_one", LIMIT, async {
        let cluster = Cluster::start(binaries!(), Options { chunk_size: CHUNK, ..Options::default() }).await;
        let mut client = cluster.gateway_client();
        let giant = api::submit(&mut client, mc_tau(100_000_000)).await;
        api::wait_job(&mut client, &giant.id, JOB_LIMIT, "the giant job's first chunk", |j| {
            j.progress.as_ref().is_some_and(|p| p.chunks_done >= 1)
        })
        .await;
        let small = api::submit(&mut client, mc_tau(100)).await;
        let small = api::wait_ended(&mut client, &small.id, JOB_LIMIT).await;
        assert_eq!(small.state(), JobState::Succeeded, "{small:?}");
        let giant_now = api::get_job(&mut client, &giant.id).await.unwrap();
        assert_eq!(giant_now.state(), JobState::Running, "the giant job still runs: {giant_now:?}");
        let cancel = tanksim_proto::v1::CancelJobRequest { id: giant.id.clone() };
        client.cancel_job(cancel).await.unwrap();
        let giant = api::wait_ended(&mut client, &giant.id, JOB_LIMIT).await;
        assert_eq!(giant.state(), JobState::Cancelled, "{giant:?}");
        cluster.assert_no_worker_crashes();
    })
    .await;
}
