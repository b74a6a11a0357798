//! The task stream's limits, through the real code paths: the dispatcher appending a big job's
//! chunk tasks in its pipelined `MULTI XADD… EXEC` batches (`TANKSIM_ENQUEUE_BATCH`, 1,000), and
//! consumers doing exactly what a worker does per chunk with the broker's own [`RedisQueue`]
//! (`XREADGROUP COUNT 1`, then `MULTI XACK XDEL EXEC`), with 1 to N concurrent consumers.
//!
//! Throughput on this shared 2-core machine is what it is; the figure that carries over to a
//! real server is Redis's main-thread CPU per entry (the single thread every command runs on),
//! read from `INFO cpu`, and the memory per entry, read from `MEMORY USAGE` and `INFO memory`.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use tanksim_broker::names::{TASKS_STREAM, job_key};
use tanksim_broker::{RedisQueue, TaskQueue};
use tanksim_e2e::api;
use tanksim_proto::v1::CancelJobRequest;

use crate::deployment::Deployment;
use crate::kernel::Kind;
use crate::probe::{self, Calls, Snapshot};

/// How long consumers wait for an entry before deciding the stream is empty.
const BLOCK: Duration = Duration::from_millis(200);

/// One big job's enqueueing.
#[derive(Debug, Clone)]
pub(crate) struct EnqueueRun {
    pub(crate) entries: u64,
    /// From `SubmitJob` (the job's `submitted_at_ms`) to the last entry's id (its ms part is
    /// when Redis appended it).
    pub(crate) from_submit_s: f64,
    /// From the first entry to the last.
    pub(crate) first_to_last_s: f64,
    pub(crate) redis_cpu_s: f64,
    pub(crate) dispatcher_cpu_s: f64,
    /// `MEMORY USAGE tanksim:tasks` with every entry counted.
    pub(crate) stream_bytes: u64,
    pub(crate) used_memory_delta: i64,
    /// Bytes appended to Redis's AOF (NaN if it was rewritten meanwhile).
    pub(crate) aof_bytes: f64,
    pub(crate) calls: Calls,
    /// The entry as stored: its fields and values.
    pub(crate) sample_entry: Vec<(String, String)>,
}

/// Consumers draining the stream like workers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConsumeRun {
    pub(crate) entries: u64,
    pub(crate) wall_s: f64,
    pub(crate) redis_cpu_s: f64,
    /// This process's CPU (the consumers' client side).
    pub(crate) client_cpu_s: f64,
}

/// Entries delivered and not acknowledged (the pending entries list).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PendingRun {
    pub(crate) entries: u64,
    pub(crate) used_memory_delta: i64,
    pub(crate) stream_bytes_delta: i64,
}

/// The ms part of a stream entry id.
fn entry_ms(id: &str) -> u64 {
    id.split_once('-').map_or(id, |(ms, _)| ms).parse().unwrap_or(0)
}

/// The first (`XRANGE`) or last (`XREVRANGE`) entry: id and fields.
async fn end_entry(redis: &probe::Redis, last: bool) -> (String, Vec<(String, String)>) {
    let mut cmd = redis::cmd(if last { "XREVRANGE" } else { "XRANGE" });
    if last {
        cmd.arg(TASKS_STREAM).arg("+").arg("-");
    } else {
        cmd.arg(TASKS_STREAM).arg("-").arg("+");
    }
    cmd.arg("COUNT").arg(1);
    let entries: Vec<(String, Vec<(String, String)>)> = redis.query(&cmd).await.expect("XRANGE");
    entries.into_iter().next().expect("the stream has entries")
}

/// Submits an MC-tau job of `runs` runs to a deployment without workers and measures its
/// enqueueing until every chunk is on the stream.
pub(crate) async fn enqueue(dep: &Deployment, runs: u64) -> EnqueueRun {
    let (redis, pids) = (&dep.redis, &dep.pids);
    let before = Snapshot::take(redis, pids).await.expect("counters");
    let stream_before = redis.memory_usage(TASKS_STREAM).await.expect("MEMORY USAGE");
    let mut client = dep.cluster.gateway_client();
    let job = api::submit(&mut client, Kind::McTau.spec(runs)).await;
    let mut polls = 0;
    let (total, submitted) = loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut cmd = redis::cmd("HMGET");
        cmd.arg(job_key(&job.id)).arg(&["chunks_enqueued", "chunks_total", "submitted_at_ms"]);
        let f: Vec<u64> = redis.query(&cmd).await.expect("HMGET");
        polls += 1;
        if f[0] >= f[1] {
            break (f[1], f[2]);
        }
    };
    let after = Snapshot::take(redis, pids).await.expect("counters");
    let (first, _) = end_entry(redis, false).await;
    let (last, sample_entry) = end_entry(redis, true).await;
    let stream_bytes = redis.memory_usage(TASKS_STREAM).await.expect("MEMORY USAGE") - stream_before;
    let mut calls = probe::without_probe(probe::calls_between(&before.calls, &after.calls));
    if let Some(n) = calls.get_mut("hmget") {
        *n = n.saturating_sub(polls);
    }
    // Cancelled so nothing resumes it; its entries stay for the consumers below.
    let _ = client.cancel_job(CancelJobRequest { id: job.id }).await;
    EnqueueRun {
        entries: total,
        from_submit_s: entry_ms(&last).saturating_sub(submitted) as f64 / 1000.0,
        first_to_last_s: entry_ms(&last).saturating_sub(entry_ms(&first)) as f64 / 1000.0,
        redis_cpu_s: after.redis_cpu - before.redis_cpu,
        dispatcher_cpu_s: before.cpu_of(&after, "dispatcher"),
        stream_bytes,
        used_memory_delta: after.used_memory as i64 - before.used_memory as i64,
        aof_bytes: before.aof_appended(&after),
        calls,
        sample_entry,
    }
}

/// `consumers` concurrent consumers (each with its own [`RedisQueue`], as each worker pod has)
/// read one entry at a time and acknowledge it, until `entries` are done.
pub(crate) async fn consume(dep: &Deployment, consumers: usize, entries: u64) -> ConsumeRun {
    let mut queues = Vec::with_capacity(consumers);
    for _ in 0..consumers {
        queues.push(RedisQueue::connect(&dep.cluster.redis_url()).await.expect("RedisQueue"));
    }
    let me = std::process::id();
    let left = Arc::new(AtomicI64::new(i64::try_from(entries).unwrap_or(i64::MAX)));
    let redis_before = dep.redis.main_thread_cpu().await.expect("INFO cpu");
    let client_before = probe::cpu_seconds(me).unwrap_or(f64::NAN);
    let start = Instant::now();
    let tasks: Vec<_> = queues
        .into_iter()
        .enumerate()
        .map(|(i, queue)| {
            let left = Arc::clone(&left);
            tokio::spawn(async move {
                let name = format!("capacity-consumer-{i}");
                let mut done = 0u64;
                while left.fetch_sub(1, Ordering::Relaxed) > 0 {
                    let got = queue.read_new(&name, 1, BLOCK).await.expect("XREADGROUP");
                    if got.is_empty() {
                        break;
                    }
                    let ids: Vec<String> = got.into_iter().map(|d| d.entry_id).collect();
                    queue.ack(&ids).await.expect("XACK");
                    done += ids.len() as u64;
                }
                done
            })
        })
        .collect();
    let mut done = 0;
    for task in tasks {
        done += task.await.expect("consumer task");
    }
    let wall_s = start.elapsed().as_secs_f64();
    ConsumeRun {
        entries: done,
        wall_s,
        redis_cpu_s: dep.redis.main_thread_cpu().await.expect("INFO cpu") - redis_before,
        client_cpu_s: probe::cpu_seconds(me).unwrap_or(f64::NAN) - client_before,
    }
}

/// Reads `entries` entries without acknowledging them and measures what the pending entries
/// list costs on top of the entries themselves; then acknowledges them.
pub(crate) async fn pending(dep: &Deployment, entries: u64) -> PendingRun {
    let queue = RedisQueue::connect(&dep.cluster.redis_url()).await.expect("RedisQueue");
    let (used_before, stream_before) = (
        dep.redis.used_memory().await.expect("INFO memory"),
        dep.redis.memory_usage(TASKS_STREAM).await.expect("MEMORY USAGE"),
    );
    let mut ids = Vec::new();
    while (ids.len() as u64) < entries {
        let want = usize::try_from(entries - ids.len() as u64).unwrap_or(usize::MAX).min(1_000);
        let got = queue.read_new("capacity-holder", want, BLOCK).await.expect("XREADGROUP");
        if got.is_empty() {
            break;
        }
        ids.extend(got.into_iter().map(|d| d.entry_id));
    }
    let (used_after, stream_after) = (
        dep.redis.used_memory().await.expect("INFO memory"),
        dep.redis.memory_usage(TASKS_STREAM).await.expect("MEMORY USAGE"),
    );
    for batch in ids.chunks(1_000) {
        queue.ack(batch).await.expect("XACK");
    }
    PendingRun {
        entries: ids.len() as u64,
        used_memory_delta: used_after as i64 - used_before as i64,
        stream_bytes_delta: stream_after as i64 - stream_before as i64,
    }
}

/// Empties the stream (what is left of a measurement) and recreates the group.
pub(crate) async fn clear(dep: &Deployment) {
    let _: () = dep.redis.query(redis::cmd("DEL").arg(TASKS_STREAM)).await.expect("DEL");
    let queue = RedisQueue::connect(&dep.cluster.redis_url()).await.expect("RedisQueue");
    queue.ensure_group().await.expect("XGROUP CREATE");
}
