//! Replicas sharing a real Redis: a watcher on one replica follows reports taken by another
//! (pub/sub across processes' connections), and a replica replaced mid-job loses nothing.

use std::time::Duration;

use prost::Message;
use tanksim_broker::{JobStore, RedisStore};
use tanksim_proto::internal::v1 as internal;
use tanksim_proto::v1::{self, JobState};
use tanksim_test_util::RedisServer;
use tokio::time::timeout;

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_over_redis_stream_progress_and_survive_a_replacement() {
    let redis = RedisServer::start();
    let connect = || async { RedisStore::connect(&redis.url()).await.expect("redis") };
    let dir = tempfile::tempdir().expect("tempdir");
    // A slow poll: only cross-replica notifications can explain prompt events.
    let poll = Duration::from_secs(60);
    let watched = Instance::start(connect().await, dir.path(), poll).await;
    let reporting = Instance::start(connect().await, dir.path(), poll).await;
    let store = connect().await;
    let layout = Layout { runs: 600, chunk_size: 100 };
    let id = create_job(&store, &monte_carlo_spec(layout.runs), layout).await;

    let mut stream = watched
        .jobs()
        .await
        .watch_job(v1::WatchJobRequest { id: id.clone() })
        .await
        .expect("watch")
        .into_inner();
    let mut next = async || {
        timeout(Duration::from_secs(10), stream.message())
            .await
            .expect("an event within 10 s")
            .expect("stream ok")
            .map(|r| r.job.expect("job"))
    };
    assert_eq!(state(&next().await.expect("first")), JobState::Queued);

    let order = shuffled(layout.chunks());
    let mut results = reporting.results().await;
    for &chunk in &order[..3] {
        results.report_chunk(report(&id, layout, chunk, metrics, None)).await.expect("report");
        let job = next().await.expect("progress");
        assert_eq!(state(&job), JobState::Running);
    }
    reporting.stop().await;

    let replacement = Instance::start(connect().await, dir.path(), poll).await;
    let mut results = replacement.results().await;
    for &chunk in &order[2..] {
        results.report_chunk(report(&id, layout, chunk, metrics, None)).await.expect("report");
    }
    let mut last = next().await.expect("progress");
    while state(&last) != JobState::Succeeded {
        last = next().await.expect("until the end");
    }
    assert_eq!(last.progress.expect("progress").runs_done, layout.runs);
    assert!(next().await.is_none(), "the stream ends");
    let (_, bytes) = store.merged(&id).await.expect("store").expect("merged");
    assert_eq!(bytes, internal::RunSummary::from(&merged_in_order(layout)).encode_to_vec());
    watched.stop().await;
    replacement.stop().await;
}
