//! The queue gauges (`tanksim_queue_*`): the task stream's length, the workers' lag, pending
//! entries and consumers, the age of the oldest pending entry and the dead letters, sampled
//! from the queue at a fixed interval (the numbers KEDA scales workers on, next to the
//! replicas it runs).

use std::future::Future;
use std::time::Duration;

use metrics::gauge;
use tanksim_broker::{QueueStats, TaskQueue};
use tanksim_telemetry::metrics::names::{
    QUEUE_CONSUMERS, QUEUE_DEAD_LETTERS, QUEUE_LAG, QUEUE_OLDEST_PENDING_AGE_SECONDS, QUEUE_PENDING,
    QUEUE_STREAM_LENGTH,
};
use tokio::time::MissedTickBehavior;

/// Samples `queue` at once and then every `every` until `stop` resolves. A failed sample
/// (Redis away) logs a warning and leaves the gauges at their last values: a gap in the
/// numbers would read as an empty queue.
pub async fn sample<Q: TaskQueue>(queue: Q, every: Duration, stop: impl Future<Output = ()>) {
    let mut ticks = tokio::time::interval(every);
    // After a slow sample (Redis timing out) the next one waits a whole interval, not a burst.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    tokio::pin!(stop);
    loop {
        let sampled = async {
            ticks.tick().await;
            queue.stats().await
        };
        tokio::select! {
            biased;
            () = &mut stop => return,
            result = sampled => match result {
                Ok(stats) => record(&stats),
                Err(e) => tracing::warn!(error = %e, "cannot sample the queue; its gauges keep their last values"),
            },
        }
    }
}

fn record(stats: &QueueStats) {
    gauge!(QUEUE_STREAM_LENGTH).set(stats.length as f64);
    gauge!(QUEUE_LAG).set(stats.lag as f64);
    gauge!(QUEUE_PENDING).set(stats.pending as f64);
    gauge!(QUEUE_CONSUMERS).set(stats.consumers as f64);
    gauge!(QUEUE_DEAD_LETTERS).set(stats.dead_letters as f64);
    gauge!(QUEUE_OLDEST_PENDING_AGE_SECONDS).set(stats.oldest_pending_age.as_secs_f64());
}

#[cfg(test)]
mod tests {
    use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
    use tanksim_broker::{MemoryQueue, RedisQueue, Task};
    use tanksim_test_util::RedisServer;

    use super::*;

    fn task(chunk: u32) -> Task {
        Task { job_id: "j".into(), chunk, run_start: 0, run_end: 1, trace_context: Vec::new() }
    }

    /// The value of the unlabelled gauge `name` in the recorder's exposition.
    fn gauge_value(handle: &PrometheusHandle, name: &str) -> Option<f64> {
        handle.render().lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
    }

    async fn until(what: &str, mut check: impl FnMut() -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !check() {
            assert!(tokio::time::Instant::now() < deadline, "{what}: not within 20 s");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    // The recorder is thread-local: the test's single-threaded runtime runs the sampler on it.
    #[tokio::test]
    async fn samples_at_once_then_every_interval_until_stopped() {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        let _local = metrics::set_default_local_recorder(&recorder);
        let queue = MemoryQueue::new();
        queue.ensure_group().await.expect("group");
        queue.enqueue(&[task(0), task(1), task(2)]).await.expect("enqueue");
        let read = queue.read_new("w", 1, Duration::ZERO).await.expect("read");
        queue.dead_letter(&read[0], "poison").await.expect("dead letter");
        queue.read_new("w", 1, Duration::ZERO).await.expect("read");

        // An hour's interval: only the first, immediate sample can set the gauges.
        let first = until("the first sample", || gauge_value(&handle, QUEUE_STREAM_LENGTH) == Some(2.0));
        let sampler = sample(queue.clone(), Duration::from_secs(3600), first);
        tokio::time::timeout(Duration::from_secs(30), sampler).await.expect("stops when told");
        let value = |name| gauge_value(&handle, name);
        assert_eq!(value(QUEUE_LAG), Some(1.0));
        assert_eq!(value(QUEUE_PENDING), Some(1.0));
        assert_eq!(value(QUEUE_CONSUMERS), Some(1.0));
        assert_eq!(value(QUEUE_DEAD_LETTERS), Some(1.0));
        assert!(value(QUEUE_OLDEST_PENDING_AGE_SECONDS).is_some_and(|age| (0.0..10.0).contains(&age)));

        let producer = queue.clone();
        let later = async {
            producer.enqueue(&[task(3)]).await.expect("enqueue");
            until("a later sample", || gauge_value(&handle, QUEUE_STREAM_LENGTH) == Some(3.0)).await;
        };
        tokio::time::timeout(Duration::from_secs(30), sample(queue, Duration::from_millis(20), later))
            .await
            .expect("stops when told");
        assert_eq!(gauge_value(&handle, QUEUE_LAG), Some(2.0));
    }

    #[tokio::test]
    async fn a_failed_sample_keeps_the_last_values_and_sampling_goes_on() {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        let _local = metrics::set_default_local_recorder(&recorder);
        let mut server = RedisServer::start();
        let queue = RedisQueue::connect(&server.url()).await.expect("connects");
        queue.enqueue(&[task(0), task(1)]).await.expect("enqueue");
        let length = || gauge_value(&handle, QUEUE_STREAM_LENGTH);
        let outage = async {
            until("the first sample", || length() == Some(2.0)).await;
            server.kill();
            tokio::time::sleep(Duration::from_millis(500)).await;
            assert_eq!(length(), Some(2.0), "the last values stay while Redis is away");
            // Back without persistence: an empty queue, which the next samples show.
            server.restart();
            until("a sample after the restart", || length() == Some(0.0)).await;
        };
        tokio::time::timeout(Duration::from_secs(60), sample(queue, Duration::from_millis(50), outage))
            .await
            .expect("stops when told");
    }
}
