//! Optimisations through the deployment: a robust CMA-ES search, a generation per wave whose
//! candidates workers replay from the stored history, gives the embedded run's path and best
//! point bit for bit with three workers while one is killed and Redis restarts.

use tanksim_e2e::{api, scenario};
use tanksim_proto::v1::{
    GetJobResultsResponse, OptimizeStopReason, SubmitJobRequest, submit_job_request::Job,
};

use crate::{LIMIT, waves_through_faults};

/// The configured chunk size: a generation of 6 candidates x 200 plants is 3 chunks.
const CHUNK: u64 = 400;

/// examples/optimize-pi-robust.yaml, capped at `generations`, over 5-minute steps (chunks
/// long enough to kill a worker in).
fn robust(generations: u32) -> SubmitJobRequest {
    let mut spec = api::example("optimize-pi-robust.yaml");
    let Some(Job::Optimize(opt)) = &mut spec.job else {
        panic!("optimize-pi-robust.yaml is an optimisation")
    };
    opt.max_generations = generations;
    spec.config.as_mut().expect("a config").horizon = 300.0;
    spec
}

/// The search ran every generation to the cap, and its best point improved on the start.
fn assert_searched(results: &GetJobResultsResponse, generations: u32) {
    let opt = results.optimize.as_ref().expect("an optimisation's result");
    assert_eq!(opt.path.len(), generations as usize, "{opt:?}");
    assert_eq!(
        (opt.runs, opt.stopped(), opt.complete),
        (u64::from(generations) * 1_200, OptimizeStopReason::MaxGenerations, true)
    );
    let first = opt.path[0].best.as_ref().expect("a first generation's best").objective;
    let best = opt.best.as_ref().expect("a best point");
    assert!(best.objective < first, "{} vs the first generation's {first}", best.objective);
    let progress = results.job.as_ref().and_then(|j| j.progress).expect("progress");
    assert_eq!((progress.runs_total, progress.runs_done), (opt.runs, opt.runs));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_optimisation_loses_nothing_to_a_killed_worker_and_a_redis_restart() {
    scenario("an_optimisation_loses_nothing_to_a_killed_worker_and_a_redis_restart", LIMIT, async {
        let spec = robust(8);
        let reference = tanksim_e2e::reference::embedded(spec.clone(), CHUNK).await;
        assert_searched(&reference.results, 8);
        // Worker 0 dies for good in the second generation (chunks 3..6); Redis restarts from
        // its append-only file in the fifth, with the history stored with its release.
        let results = waves_through_faults(spec, &reference.results, CHUNK, (4, 13)).await;
        assert_searched(&results, 8);
    })
    .await;
}
