//! Every role's real operations, each as its own Redis user, in the order a job goes through
//! them: keys made and revoked (`tanksim keys`), looked up (gateway), a job recorded and its
//! chunks enqueued (dispatcher), consumed, handed back, claimed, acknowledged and dead-lettered
//! (worker), recorded, merged, finished and watched (results), the queue read as KEDA's
//! scaler reads it, Redis probed. Each operation's outcome is checked too, so an operation
//! that a refused command made silently do nothing fails where it happened.

use std::time::Duration;

use futures_util::StreamExt;
use redis::Value;
use tanksim_broker::names::{TASKS_STREAM, WORKERS_GROUP};
use tanksim_broker::quota::JobQuota;
use tanksim_broker::{
    ApiKey, BrokerError, JobKind, JobState, JobStore, KeyStore, NewJob, RedisKeys, RedisQueue, RedisStore,
    Task, TaskQueue,
};

use super::users::Users;

/// The tenant of the jobs.
const TENANT: &str = "acme";
/// A notification is seen within this.
const WAIT: Duration = Duration::from_secs(5);

/// An operation that failed: the role whose step it was, and what went wrong.
#[derive(Debug)]
pub(crate) struct Failed {
    pub(crate) role: &'static str,
    pub(crate) error: String,
}

type Step = Result<(), String>;

/// `Err(message)` unless `cond`.
fn ensure(cond: bool, message: impl FnOnce() -> String) -> Step {
    if cond { Ok(()) } else { Err(message()) }
}

fn text<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// Runs every step; the first failure, with its role.
pub(crate) async fn run_all(users: &Users) -> Result<(), Failed> {
    let at = |role: &'static str| move |error: String| Failed { role, error };
    keys_admin_makes_keys(users).await.map_err(at("keys-admin"))?;
    gateway_looks_keys_up(users).await.map_err(at("gateway"))?;
    keys_admin_revokes(users).await.map_err(at("keys-admin"))?;
    keda_reads_the_lag(users, 0).await.map_err(at("keda"))?;
    dispatcher_records_and_enqueues(users).await.map_err(at("dispatcher"))?;
    // The stream exists and no worker made the group yet: KEDA falls back to XLEN.
    keda_reads_the_lag(users, 4).await.map_err(at("keda"))?;
    worker_reads(users).await.map_err(at("worker"))?;
    dispatcher_samples_the_queue(users, (4, 2, 0)).await.map_err(at("dispatcher"))?;
    keda_reads_the_lag(users, 2).await.map_err(at("keda"))?;
    keda_reads_the_pending(users, 2).await.map_err(at("keda"))?;
    worker_settles(users).await.map_err(at("worker"))?;
    dispatcher_samples_the_queue(users, (0, 0, 1)).await.map_err(at("dispatcher"))?;
    results_records_and_finishes(users).await.map_err(at("results"))?;
    probe_pings(users).await.map_err(at("probe"))?;
    Ok(())
}

fn api_key(digit: char, name: &str) -> ApiKey {
    ApiKey {
        sha256: std::iter::repeat_n(digit, 64).collect(),
        tenant: TENANT.to_owned(),
        name: name.to_owned(),
        scopes: vec!["jobs:submit".to_owned()],
        created_at_ms: 1_700_000_000_000,
        expires_at_ms: None,
    }
}

/// `tanksim keys create` twice and `tanksim keys list`.
async fn keys_admin_makes_keys(users: &Users) -> Step {
    let keys = RedisKeys::connect(&users.url("keys-admin")).await.map_err(text)?;
    keys.put_key(&api_key('a', "ci")).await.map_err(text)?;
    keys.put_key(&api_key('b', "laptop")).await.map_err(text)?;
    let listed = keys.list_keys(Some(TENANT)).await.map_err(text)?;
    ensure(listed.len() == 2, || format!("listed {listed:?}"))
}

/// The gateway authenticating a call: the presented key's hash looked up.
async fn gateway_looks_keys_up(users: &Users) -> Step {
    let keys = RedisKeys::connect(&users.url("gateway")).await.map_err(text)?;
    let found = keys.key_by_hash(&api_key('a', "ci").sha256).await.map_err(text)?;
    ensure(found == Some(api_key('a', "ci")), || format!("looked up {found:?}"))?;
    let unknown = keys.key_by_hash(&"c".repeat(64)).await.map_err(text)?;
    ensure(unknown.is_none(), || format!("an unknown key found: {unknown:?}"))
}

/// `tanksim keys revoke`, then the revoked key no longer authenticates.
async fn keys_admin_revokes(users: &Users) -> Step {
    let keys = RedisKeys::connect(&users.url("keys-admin")).await.map_err(text)?;
    let revoked = keys.revoke_key(api_key('b', "laptop").id()).await.map_err(text)?;
    ensure(revoked == Some(api_key('b', "laptop")), || format!("revoked {revoked:?}"))?;
    let gateway = RedisKeys::connect(&users.url("gateway")).await.map_err(|e| format!("gateway: {e}"))?;
    let gone =
        gateway.key_by_hash(&api_key('b', "laptop").sha256).await.map_err(|e| format!("gateway: {e}"))?;
    ensure(gone.is_none(), || "a revoked key still authenticates".to_owned())
}

fn new_job(id: &str, chunks_total: u32) -> NewJob {
    NewJob {
        id: id.to_owned(),
        tenant: TENANT.to_owned(),
        name: format!("job {id}"),
        kind: JobKind::MonteCarlo,
        spec: format!("spec of {id}").into_bytes(),
        runs_total: u64::from(chunks_total) * 10,
        chunk_size: 10,
        chunks_total,
        chunks_released: chunks_total,
        submitted_at_ms: 1_700_000_000_000,
        trace_context: Vec::new(),
    }
}

fn task(job_id: &str, chunk: u32) -> Task {
    let run_start = u64::from(chunk) * 10;
    Task { job_id: job_id.to_owned(), chunk, run_start, run_end: run_start + 10, trace_context: Vec::new() }
}

/// SubmitJob and CancelJob as the dispatcher serves them, and its enqueueing loop.
async fn dispatcher_records_and_enqueues(users: &Users) -> Step {
    let store = RedisStore::connect(&users.url("dispatcher")).await.map_err(text)?;
    let queue = RedisQueue::connect(&users.url("dispatcher")).await.map_err(text)?;
    store.ping().await.map_err(text)?;
    queue.ping().await.map_err(text)?;
    let quota = JobQuota { concurrent_jobs: 3, queued_runs: 1_000, runs_per_day: 1_000 };
    // j1 runs in waves: its first two chunks are released, the third by results.
    let j1 = NewJob { chunks_released: 2, ..new_job("j1", 3) };
    for job in [j1, new_job("j2", 1), new_job("j3", 1)] {
        store.create_job_within(&job, &quota).await.map_err(text)?;
    }
    let refused = store.create_job_within(&new_job("j4", 1), &quota).await;
    ensure(matches!(refused, Err(BrokerError::QuotaExceeded(_))), || format!("a 4th job: {refused:?}"))?;
    let usage = store.quota_usage(TENANT, 1_700_000_000_000).await.map_err(text)?;
    ensure(usage.concurrent_jobs == 3 && usage.runs_today == 50, || format!("usage {usage:?}"))?;
    let j1 = store.job("j1").await.map_err(text)?;
    ensure(j1.is_some_and(|j| j.state == JobState::Queued), || "j1 not recorded".to_owned())?;
    let pending = store.jobs_to_dispatch().await.map_err(text)?;
    ensure(pending.len() == 3, || format!("to dispatch: {pending:?}"))?;
    queue.enqueue(&[task("j1", 0), task("j1", 1), task("j1", 2)]).await.map_err(text)?;
    store.mark_enqueued("j1", 3).await.map_err(text)?;
    queue.enqueue(&[task("j2", 0)]).await.map_err(text)?;
    store.mark_enqueued("j2", 1).await.map_err(text)?;
    let cancelled = store.cancel("j3", "cancelled by the test", 1_700_000_000_500).await.map_err(text)?;
    ensure(cancelled.is_some_and(|c| c.cancelled), || "j3 not cancelled".to_owned())?;
    store.notify("j3").await.map_err(text)?;
    let pending = store.jobs_to_dispatch().await.map_err(text)?;
    ensure(pending.is_empty(), || format!("still to dispatch: {pending:?}"))
}

/// The queue gauges: (length, pending, dead letters) as expected.
async fn dispatcher_samples_the_queue(users: &Users, want: (u64, u64, u64)) -> Step {
    let queue = RedisQueue::connect(&users.url("dispatcher")).await.map_err(text)?;
    let stats = queue.stats().await.map_err(text)?;
    ensure((stats.length, stats.pending, stats.dead_letters) == want, || format!("stats {stats:?}"))
}

/// Two chunks read by worker `w1`, their job and spec read.
async fn worker_reads(users: &Users) -> Step {
    let queue = RedisQueue::connect(&users.url("worker")).await.map_err(text)?;
    let store = RedisStore::connect(&users.url("worker")).await.map_err(text)?;
    queue.ping().await.map_err(text)?;
    store.ping().await.map_err(text)?;
    queue.ensure_group().await.map_err(text)?;
    let read = queue.read_new("w1", 2, Duration::ZERO).await.map_err(text)?;
    ensure(read.len() == 2, || format!("read {read:?}"))?;
    let job = store.job(&read[0].task.job_id).await.map_err(text)?;
    ensure(job.is_some(), || "the chunk's job is unknown".to_owned())?;
    let spec = store.spec(&read[0].task.job_id).await.map_err(text)?;
    ensure(spec.as_deref() == Some(b"spec of j1".as_slice()), || format!("spec {spec:?}"))
}

/// A restarted `w1` re-reads its chunks and hands one back; `w2` reads the rest, `w3` claims
/// everything idle, acknowledges all but one and dead-letters that one.
async fn worker_settles(users: &Users) -> Step {
    let queue = RedisQueue::connect(&users.url("worker")).await.map_err(text)?;
    let own = queue.read_own_pending("w1", 10).await.map_err(text)?;
    ensure(own.len() == 2 && own.iter().all(|d| d.deliveries == 2), || format!("own pending {own:?}"))?;
    queue.hand_back(&own[0]).await.map_err(text)?;
    let rest = queue.read_new("w2", 10, Duration::ZERO).await.map_err(text)?;
    ensure(rest.len() == 3 && rest.iter().any(|d| d.task == own[0].task), || {
        format!("after hand back {rest:?}")
    })?;
    let claimed = queue.claim_idle("w3", Duration::ZERO, 10).await.map_err(text)?;
    ensure(claimed.len() == 4, || format!("claimed {claimed:?}"))?;
    let (poison, done) = claimed.split_last().ok_or("nothing claimed")?;
    queue.ack(&done.iter().map(|d| d.entry_id.clone()).collect::<Vec<_>>()).await.map_err(text)?;
    queue.dead_letter(poison, "poison").await.map_err(text)
}

/// KEDA's `lagCount` trigger (`INFO`, `XINFO GROUPS`, else `XLEN`) reads `want`.
async fn keda_reads_the_lag(users: &Users, want: i64) -> Step {
    let mut con = users.connection("keda").await;
    let _pong: String = redis::cmd("PING").query_async(&mut con).await.map_err(text)?;
    let info: String = redis::cmd("INFO").query_async(&mut con).await.map_err(text)?;
    ensure(info.contains("redis_version:7"), || "INFO has no redis_version 7".to_owned())?;
    let groups: Result<Vec<Value>, _> =
        redis::cmd("XINFO").arg("GROUPS").arg(TASKS_STREAM).query_async(&mut con).await;
    let lag = match groups {
        // The stream does not exist yet.
        Err(e) if e.detail() == Some("no such key") => 0,
        Err(e) => return Err(e.to_string()),
        Ok(groups) => match groups.iter().find_map(group_lag) {
            Some(lag) => lag,
            None => redis::cmd("XLEN").arg(TASKS_STREAM).query_async(&mut con).await.map_err(text)?,
        },
    };
    ensure(lag == want, || format!("lag {lag}, not {want}"))
}

/// The `lag` of the workers' group in one `XINFO GROUPS` entry.
fn group_lag(group: &Value) -> Option<i64> {
    let fields: Vec<(String, Value)> =
        redis::from_redis_value::<std::collections::HashMap<String, Value>>(group.clone())
            .ok()?
            .into_iter()
            .collect();
    let name = fields.iter().find(|(k, _)| k == "name")?;
    if redis::from_redis_value::<String>(name.1.clone()).ok()? != WORKERS_GROUP {
        return None;
    }
    fields.iter().find(|(k, _)| k == "lag").and_then(|(_, v)| redis::from_redis_value(v.clone()).ok())
}

/// KEDA's `pendingEntriesCount` trigger (`XPENDING stream group`) reads `want`.
async fn keda_reads_the_pending(users: &Users, want: i64) -> Step {
    let mut con = users.connection("keda").await;
    let summary: (i64, Value, Value, Value) = redis::cmd("XPENDING")
        .arg(TASKS_STREAM)
        .arg(WORKERS_GROUP)
        .query_async(&mut con)
        .await
        .map_err(text)?;
    ensure(summary.0 == want, || format!("pending {summary:?}"))
}

/// ReportChunk for j1's chunks (merged, stopped early as an adaptive job, watched), ReportChunkFailure for j2,
/// GetJob, ListJobs (both pages' queries), the spec for exports.
async fn results_records_and_finishes(users: &Users) -> Step {
    let store = RedisStore::connect(&users.url("results")).await.map_err(text)?;
    store.ping().await.map_err(text)?;
    let mut watch = store.subscribe("j1").await.map_err(text)?;
    for chunk in 0..2 {
        let summary = format!("summary {chunk}");
        let recorded =
            store.record_chunk("j1", chunk, 10, summary.as_bytes(), 1_700_000_001_000).await.map_err(text)?;
        ensure(recorded.recorded, || format!("chunk {chunk} not recorded"))?;
    }
    let summaries = store.chunk_summaries("j1", 0, 2).await.map_err(text)?;
    ensure(summaries.iter().all(Option::is_some), || format!("summaries {summaries:?}"))?;
    store.save_merged("j1", 2, b"merged 0..2").await.map_err(text)?;
    let merged = store.merged("j1").await.map_err(text)?;
    ensure(merged == Some((2, b"merged 0..2".to_vec())), || format!("merged {merged:?}"))?;
    // A job's wave decisions: release the third chunk with the wave's state (an
    // optimisation's history), then stop at 2 chunks, giving 10 runs back to the tenant's
    // usage and day counter, which succeeds the job.
    let released = store.release_with_state("j1", 3, b"history").await.map_err(text)?;
    ensure(released.is_some_and(|j| j.chunks_released == 3), || "j1 not released".to_owned())?;
    let state = store.wave_state("j1").await.map_err(text)?;
    ensure(state == b"history", || format!("wave state {state:?}"))?;
    let released = store.release("j1", 3).await.map_err(text)?;
    ensure(released.is_some_and(|j| j.chunks_released == 3), || "j1 lowered".to_owned())?;
    let stopped = store.stop_early("j1", 2, 20, 1_700_000_002_000).await.map_err(text)?;
    ensure(stopped.as_ref().is_some_and(|s| s.stopped), || format!("stopped {stopped:?}"))?;
    // Stopping it ended it already: finishing ends nothing more.
    let finished = store.finish("j1", 1_700_000_002_000).await.map_err(text)?;
    ensure(!finished.ended && finished.status.state == JobState::Succeeded, || {
        format!("finished {finished:?}")
    })?;
    store.notify("j1").await.map_err(text)?;
    tokio::time::timeout(WAIT, watch.next()).await.map_err(|_| "no notification".to_owned())?;
    drop(watch);
    let failed = store.fail("j2", 0, "a chunk failed", 1_700_000_002_000).await.map_err(text)?;
    ensure(failed.ended && failed.status.state == JobState::Failed, || format!("failed {failed:?}"))?;
    let page = store.list_jobs(TENANT, None, 2).await.map_err(text)?;
    ensure(page.len() == 2, || format!("first page {page:?}"))?;
    let last = page.last().map(|j| (j.submitted_at_ms, j.id.clone()));
    let next = store.list_jobs(TENANT, last, 2).await.map_err(text)?;
    ensure(next.len() == 1, || format!("second page {next:?}"))?;
    let spec = store.spec("j1").await.map_err(text)?;
    ensure(spec.is_some(), || "no spec".to_owned())?;
    // Retention: the jobs that ended up to then (j3 cancelled, j1 succeeded, j2 failed) go,
    // with every key and index entry of theirs.
    let expired = store.expire_ended(1_700_000_002_000, 10).await.map_err(text)?;
    ensure(expired == ["j3", "j1", "j2"], || format!("expired {expired:?}"))?;
    let left = store.list_jobs(TENANT, None, 10).await.map_err(text)?;
    ensure(left.is_empty(), || format!("listed after expiry {left:?}"))?;
    let spec = store.spec("j1").await.map_err(text)?;
    ensure(spec.is_none(), || "j1's spec outlived it".to_owned())
}

/// The redis container's readiness probe.
async fn probe_pings(users: &Users) -> Step {
    let mut con = users.connection("probe").await;
    let pong: String = redis::cmd("PING").query_async(&mut con).await.map_err(text)?;
    ensure(pong == "PONG", || pong)
}
