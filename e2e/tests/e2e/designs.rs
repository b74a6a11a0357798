//! Jobs beyond independent draws through the deployment: a sensitivity job's Sobol' indices
//! and Sobol' / Latin hypercube datasets equal the embedded run's bit for bit, with one worker
//! and with three, one of them killed mid-job.

use tanksim_e2e::reference::Reference;
use tanksim_e2e::{Cluster, Options, api, binaries, scenario};
use tanksim_proto::v1::{JobState, Sampling, SubmitJobRequest, submit_job_request::Job};

use crate::{JOB_LIMIT, LIMIT, kill_busy_worker, mid_job};

/// Chunks of the jobs here: several rows files per job, stitched in order.
const CHUNK: u64 = 1_000;

/// examples/sensitivity-pi.yaml with `samples` base samples over a `horizon`-second step.
fn sensitivity(samples: u64, horizon: f64) -> SubmitJobRequest {
    let mut spec = api::example("sensitivity-pi.yaml");
    let Some(Job::Sensitivity(sa)) = &mut spec.job else {
        panic!("sensitivity-pi.yaml is a sensitivity job")
    };
    sa.samples = samples;
    spec.config.as_mut().expect("a config").horizon = horizon;
    spec
}

/// examples/dataset-100k.yaml with `runs` runs drawn by `sampling`.
fn dataset(runs: u64, sampling: Sampling) -> SubmitJobRequest {
    let mut spec = api::example("dataset-100k.yaml");
    let Some(Job::Dataset(ds)) = &mut spec.job else { panic!("dataset-100k.yaml is a dataset job") };
    (ds.runs, ds.sampling) = (runs, sampling as i32);
    spec
}

/// Submits `spec`, waits for success, and checks results and rows against `reference`.
async fn assert_like(client: &mut api::Client, spec: SubmitJobRequest, reference: &Reference) -> String {
    let job = api::submit(client, spec).await;
    let job = api::wait_ended(client, &job.id, JOB_LIMIT).await;
    assert_eq!(job.state(), JobState::Succeeded, "{job:?}");
    api::assert_same_results(&api::results(client, &job.id).await, &reference.results);
    let (params, rows) = api::export_runs(client, &job.id).await;
    assert_eq!(params, reference.params);
    api::assert_same_rows(&rows, &reference.rows);
    job.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sensitivity_and_structured_datasets_equal_the_embedded_run_with_one_worker() {
    scenario("sensitivity_and_structured_datasets_equal_the_embedded_run_with_one_worker", LIMIT, async {
        let small = sensitivity(512, 60.0);
        let reference = tanksim_e2e::reference::embedded(small.clone(), CHUNK).await;
        let result = reference.results.sensitivity.as_ref().expect("a sensitivity result");
        assert!(result.complete && result.metrics.len() == 3, "{result:?}");
        assert_eq!(result.params, ["plant.tau", "plant.gain", "controller.kp", "controller.ki"]);
        assert_eq!(reference.rows.len(), 512 * 6);
        let sobol = tanksim_e2e::reference::embedded(dataset(1_100, Sampling::Sobol), CHUNK).await;
        let latin = tanksim_e2e::reference::embedded(dataset(1_100, Sampling::LatinHypercube), CHUNK).await;
        // The designs really differ from independent draws.
        let random = tanksim_e2e::reference::embedded(dataset(1_100, Sampling::Random), CHUNK).await;
        assert_ne!(sobol.rows[5].params, random.rows[5].params);
        assert_ne!(latin.rows[5].params, random.rows[5].params);

        let cluster =
            Cluster::start(binaries!(), Options { workers: 1, chunk_size: CHUNK, ..Options::default() })
                .await;
        let mut client = cluster.gateway_client();
        assert_like(&mut client, small, &reference).await;
        assert_like(&mut client, dataset(1_100, Sampling::Sobol), &sobol).await;
        assert_like(&mut client, dataset(1_100, Sampling::LatinHypercube), &latin).await;
        cluster.assert_no_worker_crashes();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sensitivity_job_loses_nothing_to_a_worker_killed_mid_job_among_three() {
    scenario("a_sensitivity_job_loses_nothing_to_a_worker_killed_mid_job_among_three", LIMIT, async {
        // 4,096 x 6 = 24,576 runs of 5-minute steps in 25 chunks: long enough to kill into.
        let spec = sensitivity(4_096, 300.0);
        let reference = tanksim_e2e::reference::embedded(spec.clone(), CHUNK).await;
        let cluster =
            Cluster::start(binaries!(), Options { workers: 3, chunk_size: CHUNK, ..Options::default() })
                .await;
        let mut client = cluster.gateway_client();
        let job = api::submit(&mut client, spec).await;
        mid_job(&mut client, &job, 3).await;
        kill_busy_worker(&cluster, 0).await;
        let job = api::wait_ended(&mut client, &job.id, JOB_LIMIT).await;
        assert_eq!(job.state(), JobState::Succeeded, "{job:?}");
        let results = api::results(&mut client, &job.id).await;
        api::assert_same_results(&results, &reference.results);
        let result = results.sensitivity.expect("a sensitivity result");
        assert!(result.complete, "{result:?}");
        for m in &result.metrics {
            // Every index is a number with an interval around it.
            for index in m.first_order.iter().chain(&m.total_order) {
                assert!(index.lo <= index.value && index.value <= index.hi, "{:?}: {index:?}", m.metric());
            }
        }
        cluster.assert_no_worker_crashes();
    })
    .await;
}
