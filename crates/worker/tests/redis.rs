//! The worker on the production backends: a private `redis-server`, `RedisQueue` and
//! `RedisStore`, a chunk round trip (read, simulate, report, acknowledge), and health that
//! follows Redis.

mod harness;

use std::time::Duration;

use harness::{
    FakeResults, Worker, create_job, eventually, expected_summary, mc_tau, reported_summary, settings,
    summary_bits,
};
use tanksim_broker::{RedisQueue, RedisStore, TaskQueue};
use tanksim_test_util::RedisServer;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

const WAIT: Duration = Duration::from_secs(20);

async fn health(addr: std::net::SocketAddr) -> Option<ServingStatus> {
    let channel =
        tonic::transport::Endpoint::from_shared(format!("http://{addr}")).ok()?.connect().await.ok()?;
    let mut client = HealthClient::new(channel);
    let response = client.check(HealthCheckRequest { service: String::new() }).await.ok()?;
    Some(response.into_inner().status())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunks_round_trip_through_redis_and_health_follows_redis() {
    let mut redis = RedisServer::start();
    let queue = RedisQueue::connect(&redis.url()).await.expect("queue");
    let store = RedisStore::connect(&redis.url()).await.expect("store");
    let results = FakeResults::default();
    let url = results.start().await;
    let spec = mc_tau(3_000, 11);
    let tasks = create_job(&store, "redis-job", &spec, 1_000).await;
    queue.ensure_group().await.expect("group");
    queue.enqueue(&tasks).await.expect("enqueued");

    let worker = Worker::start(settings("w-redis"), queue.clone(), store, &url).await;
    eventually(WAIT, "three reports", || async { results.reports().len() == 3 }).await;
    eventually(WAIT, "all acknowledged", || async {
        queue.stats().await.is_ok_and(|s| s.length == 0 && s.pending == 0)
    })
    .await;
    let mut reports = results.reports();
    reports.sort_by_key(|r| r.chunk);
    for (report, task) in reports.iter().zip(&tasks) {
        assert_eq!((report.run_start, report.run_end), (task.run_start, task.run_end));
        assert_eq!(summary_bits(&reported_summary(report)), summary_bits(&expected_summary(&spec, task)));
    }

    let addr = worker.addr;
    eventually(WAIT, "SERVING", || async { health(addr).await == Some(ServingStatus::Serving) }).await;
    redis.kill();
    eventually(WAIT, "NOT_SERVING without Redis", || async {
        health(addr).await == Some(ServingStatus::NotServing)
    })
    .await;
    redis.restart();
    eventually(WAIT, "SERVING again", || async { health(addr).await == Some(ServingStatus::Serving) }).await;
    worker.stop().await;
}
