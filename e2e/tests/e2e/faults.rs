//! Processes dying mid-job lose nothing: a worker killed with SIGKILL (its chunk claimed by
//! the other worker, or re-read by itself after a restart), a worker stopped with SIGTERM
//! (drains within its grace period and exits 0), the results service killed and restarted,
//! Redis killed and restarted (with its append-only file). Each time the job succeeds with
//! results identical to the embedded run's.

use std::time::Duration;

use tanksim_e2e::{Cluster, Options, Persistence, api, binaries, scenario};

use crate::{
    CHUNK, LIMIT, RUNS, assert_complete_and_identical, kill_busy_worker, mc_tau, mc_tau_reference, mid_job,
    worker_busy,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_killed_mid_job_lose_nothing() {
    scenario("workers_killed_mid_job_lose_nothing", LIMIT, async {
        mc_tau_reference().await;
        let cluster = Cluster::start(binaries!(), Options { chunk_size: CHUNK, ..Options::default() }).await;
        let mut client = cluster.gateway_client();
        let job = api::submit(&mut client, mc_tau(RUNS)).await;

        // Worker 0 dies for good: worker 1 claims its chunk after the visibility timeout.
        let at = mid_job(&mut client, &job, 4).await;
        kill_busy_worker(&cluster, 0).await;
        let left = cluster.pending_of_worker(0).await;
        assert!(left >= 1, "worker 0 held no chunk when killed");

        // Worker 1 dies and comes back under the same name: it re-reads its own chunks.
        mid_job(&mut client, &job, at.progress.unwrap().chunks_done + 4).await;
        worker_busy(&cluster, 1).await;
        cluster.kill_worker(1);
        cluster.start_worker(1).await;

        assert_complete_and_identical(&cluster, &mut client, &job).await;
        assert_eq!(cluster.pending_of_worker(0).await, 0, "worker 0's chunks were claimed");
        cluster.assert_no_worker_crashes();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_stopped_with_sigterm_drains_and_exits_0() {
    scenario("a_worker_stopped_with_sigterm_drains_and_exits_0", LIMIT, async {
        mc_tau_reference().await;
        let cluster = Cluster::start(binaries!(), Options { chunk_size: CHUNK, ..Options::default() }).await;
        let grace = cluster.options().shutdown_grace;
        let mut client = cluster.gateway_client();
        let job = api::submit(&mut client, mc_tau(RUNS)).await;

        mid_job(&mut client, &job, 4).await;
        worker_busy(&cluster, 0).await;
        let (status, took) = cluster.term_worker(0, grace + Duration::from_secs(10)).await;
        let status = status.unwrap_or_else(|| panic!("worker 0 still running {took:?} after SIGTERM"));
        assert_eq!(status.code(), Some(0), "{status:?}");
        assert!(took < grace + Duration::from_secs(2), "exit took {took:?}, the grace period is {grace:?}");
        // It finished or handed back what it held: nothing waits for a visibility timeout.
        assert_eq!(cluster.pending_of_worker(0).await, 0, "chunks left pending by the stopped worker");

        assert_complete_and_identical(&cluster, &mut client, &job).await;
        cluster.assert_no_worker_crashes();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_results_restart_mid_job_loses_nothing() {
    scenario("a_results_restart_mid_job_loses_nothing", LIMIT, async {
        mc_tau_reference().await;
        let mut cluster =
            Cluster::start(binaries!(), Options { chunk_size: CHUNK, ..Options::default() }).await;
        let mut client = cluster.gateway_client();
        let job = api::submit(&mut client, mc_tau(RUNS)).await;

        mid_job(&mut client, &job, 4).await;
        cluster.kill_results();
        // A worker holding two chunks has simulated one while the report of the other waits
        // for results: reports are failing now. Then results comes back.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while cluster.pending_of_worker(0).await < 2 && cluster.pending_of_worker(1).await < 2 {
            assert!(tokio::time::Instant::now() < deadline, "no worker got stuck on a report");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        cluster.start_results().await;

        assert_complete_and_identical(&cluster, &mut client, &job).await;
        cluster.assert_no_worker_crashes();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_mid_job_loses_nothing() {
    scenario("a_redis_restart_mid_job_loses_nothing", LIMIT, async {
        mc_tau_reference().await;
        let options =
            Options { chunk_size: CHUNK, persistence: Persistence::AppendOnly, ..Options::default() };
        let mut cluster = Cluster::start(binaries!(), options).await;
        let mut client = cluster.gateway_client();
        let job = api::submit(&mut client, mc_tau(RUNS)).await;

        mid_job(&mut client, &job, 4).await;
        worker_busy(&cluster, 0).await;
        cluster.restart_redis().await;

        assert_complete_and_identical(&cluster, &mut client, &job).await;
        cluster.assert_no_worker_crashes();
    })
    .await;
}
