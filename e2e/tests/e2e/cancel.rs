//! Cancelling a job mid-way: it ends CANCELLED, its remaining chunks are dropped without work
//! (the stream drains), and progress stops moving.

use std::time::Duration;

use tanksim_broker::TaskQueue;
use tanksim_e2e::{Cluster, Options, api, binaries, scenario};
use tanksim_proto::v1::{CancelJobRequest, JobState};
use tokio::time::Instant;

use crate::{CHUNK, JOB_LIMIT, LIMIT, mc_tau, mid_job};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_mid_job_stops_the_work() {
    scenario("cancel_mid_job_stops_the_work", LIMIT, async {
        let cluster = Cluster::start(binaries!(), Options { chunk_size: CHUNK, ..Options::default() }).await;
        let mut client = cluster.gateway_client();
        let runs = 200 * CHUNK; // far more than runs before the cancel lands
        let job = api::submit(&mut client, mc_tau(runs)).await;
        mid_job(&mut client, &job, 3).await;

        let cancelled =
            client.cancel_job(CancelJobRequest { id: job.id.clone() }).await.unwrap().into_inner();
        let state = cancelled.job.unwrap().state();
        assert!(matches!(state, JobState::Cancelled), "CancelJob answered {state:?}");
        let ended = api::wait_ended(&mut client, &job.id, JOB_LIMIT).await;
        assert_eq!(ended.state(), JobState::Cancelled, "{ended:?}");

        // The queued chunks are acknowledged without work: the stream empties quickly.
        let queue = cluster.queue().await;
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let stats = queue.stats().await.unwrap();
            if stats.length == 0 && stats.pending == 0 {
                assert_eq!(stats.dead_letters, 0, "{stats:?}");
                break;
            }
            assert!(Instant::now() < deadline, "the stream did not drain after the cancel: {stats:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // With nothing left to run, progress is final; watch it for a while to be sure.
        let settled = api::get_job(&mut client, &job.id).await.unwrap().progress.unwrap();
        let until = Instant::now() + Duration::from_millis(1500);
        while Instant::now() < until {
            let now = api::get_job(&mut client, &job.id).await.unwrap();
            assert_eq!(now.progress.unwrap().runs_done, settled.runs_done, "work went on after the drain");
            assert_eq!(now.state(), JobState::Cancelled);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(settled.runs_done < runs / 2, "most of the job should have been skipped: {settled:?}");
        cluster.assert_no_worker_crashes();
    })
    .await;
}
