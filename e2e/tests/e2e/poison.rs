//! A chunk that kills every worker that starts it (the workers' test-only fault hook) ends in
//! the dead-letter stream, and its job ends FAILED naming the chunk, within bounded time,
//! while the harness's supervisor restarts the crashed workers as Kubernetes would.

use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use tanksim_broker::TaskQueue;
use tanksim_e2e::{Cluster, Options, api, binaries, scenario};
use tanksim_proto::v1::JobState;
use tokio::time::Instant;

use crate::{CHUNK, LIMIT, mc_tau};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_chunk_is_dead_lettered_and_fails_its_job() {
    scenario("a_poison_chunk_is_dead_lettered_and_fails_its_job", LIMIT, async {
        let options = Options {
            chunk_size: CHUNK,
            worker_env: vec![("TANKSIM_FAULT_ABORT_ON_CHUNK".into(), "3".into())],
            ..Options::default()
        };
        let max_deliveries = options.max_deliveries;
        let cluster = Cluster::start(binaries!(), options).await;
        let mut client = cluster.gateway_client();
        let submitted = Instant::now();
        let job = api::submit(&mut client, mc_tau(10 * CHUNK)).await;
        let job = api::wait_ended(&mut client, &job.id, Duration::from_secs(60)).await;
        let took = submitted.elapsed();
        assert_eq!(job.state(), JobState::Failed, "{job:?}");
        assert!(took < Duration::from_secs(60), "{took:?}");
        assert!(job.error.contains("chunk 3"), "the reason names the chunk: {:?}", job.error);
        assert!(job.progress.unwrap().chunks_failed >= 1);

        let queue = cluster.queue().await;
        let dead = queue.dead_letters(10).await.unwrap();
        assert_eq!(dead.len(), 1, "{dead:?}");
        assert_eq!((dead[0].task.job_id.as_str(), dead[0].task.chunk), (job.id.as_str(), 3));
        assert!(dead[0].deliveries > max_deliveries, "{:?}", dead[0]);

        // Every crash was the hook's abort, once per delivery of chunk 3 up to the limit.
        let crashes = cluster.worker_crashes();
        assert!(!crashes.is_empty() && crashes.len() as u64 <= max_deliveries, "{crashes:?}");
        assert!(crashes.iter().all(|(_, s)| s.signal() == Some(6)), "SIGABRT: {crashes:?}");

        // The failed job's other chunks are dropped without work: the stream empties.
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let stats = queue.stats().await.unwrap();
            if stats.length == 0 && stats.pending == 0 {
                break;
            }
            assert!(Instant::now() < deadline, "the stream did not drain: {stats:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}
