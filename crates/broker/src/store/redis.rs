//! The Redis job store, shared by every replica: one hash per job, transitions as Lua scripts.
//!
//! Layout (names from [`crate::names`]): `tanksim:job:{id}` is a hash with every
//! [`JobStatus`] field (absent optionals and an empty `trace_context` are missing fields; a
//! trace context is JSON; a missing `chunks_released`, from a version before waves, reads as
//! `chunks_total`), `...:spec` the spec, `...:state` the wave state of the last release,
//! `...:chunks` a hash chunk -> summary, `...:done` a bitmap of recorded chunks, `...:merged`
//! a hash `{upto, bytes}`; `tanksim:jobs` indexes ids by submission time,
//! [`names::DISPATCHING_SET`](crate::names::DISPATCHING_SET) holds the jobs whose chunks are not all enqueued
//! and [`names::ENDED_INDEX`](crate::names::ENDED_INDEX) the ended jobs by when they ended.
//! A tenant's quota usage is [`names::tenant_usage_key`] and [`names::tenant_day_runs_key`];
//! a job's hash names the usage hash it holds a reservation in (`quota_key`) until it ends.
//!
//! Every write is one Lua script (EVALSHA, reloaded after `NOSCRIPT`, e.g. after a restart),
//! so concurrent replicas never interleave inside a transition, and every write is safe to
//! repeat: a reply lost to a timeout can be retried. Ended jobs are kept until
//! [`JobStore::expire_ended`] deletes them (the results service's retention).

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use redis::aio::{ConnectionManager, PubSubStream};
use redis::{Client, Script, Value};

use super::{
    CancelOutcome, ChunkRecorded, Ended, JobKind, JobState, JobStatus, JobStore, NewJob, StopOutcome,
};
use crate::BrokerError;
use crate::names::{self, JOBS_INDEX, events_channel, job_key, job_subkey};
use crate::quota::{self, JobQuota, QuotaExceeded, QuotaLimit, QuotaUsage};

/// A subscription whose connection dropped retries after this, doubling up to the max.
const RESUBSCRIBE_MIN_DELAY: Duration = Duration::from_millis(100);
const RESUBSCRIBE_MAX_DELAY: Duration = Duration::from_secs(5);

/// The job store on Redis. Cheap to clone.
#[derive(Debug, Clone)]
pub struct RedisStore {
    /// For pub/sub connections (a subscribed connection cannot run commands).
    client: Client,
    /// Reconnects by itself after Redis restarts; commands fail while it is away.
    conn: ConnectionManager,
    scripts: Arc<Scripts>,
}

#[derive(Debug)]
struct Scripts {
    create: Script,
    mark_enqueued: Script,
    release: Script,
    stop_early: Script,
    record_chunk: Script,
    cancel: Script,
    finish: Script,
    fail: Script,
    save_merged: Script,
    expire: Script,
}

impl Scripts {
    fn new() -> Self {
        Scripts {
            create: Script::new(include_str!("scripts/create.lua")),
            mark_enqueued: Script::new(include_str!("scripts/mark_enqueued.lua")),
            release: Script::new(include_str!("scripts/release.lua")),
            record_chunk: Script::new(include_str!("scripts/record_chunk.lua")),
            // The scripts that end a job share one definition of what ending does.
            cancel: Script::new(concat!(
                include_str!("scripts/end_job.lua"),
                include_str!("scripts/cancel.lua")
            )),
            finish: Script::new(concat!(
                include_str!("scripts/end_job.lua"),
                include_str!("scripts/finish.lua")
            )),
            fail: Script::new(concat!(include_str!("scripts/end_job.lua"), include_str!("scripts/fail.lua"))),
            stop_early: Script::new(concat!(
                include_str!("scripts/end_job.lua"),
                include_str!("scripts/stop_early.lua")
            )),
            save_merged: Script::new(include_str!("scripts/save_merged.lua")),
            expire: Script::new(include_str!("scripts/expire.lua")),
        }
    }
}

impl RedisStore {
    /// Connects to `url` (`redis://user:password@host:port/db`, or `rediss://`); fails if
    /// Redis does not answer.
    pub async fn connect(url: &str) -> Result<RedisStore, BrokerError> {
        let client = crate::connection::client(url)?;
        let conn = crate::connection::manager(&client).await?;
        Ok(RedisStore { client, conn, scripts: Arc::new(Scripts::new()) })
    }

    fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// Runs a script that may end a job (finish.lua, fail.lua: keys job, dispatching set,
    /// ended index; arguments `args` then the id), which returns nil for an unknown job
    /// (`NoSuchJob`) or `{ended, hash}`; `what` names its reply in errors.
    async fn end(
        &self,
        script: &Script,
        what: &'static str,
        id: &str,
        args: &[&[u8]],
    ) -> Result<Ended, BrokerError> {
        let mut invocation = script.key(job_key(id));
        invocation.key(names::DISPATCHING_SET).key(names::ENDED_INDEX);
        for arg in args {
            invocation.arg(*arg);
        }
        invocation.arg(id);
        let reply = invocation.invoke_async::<Value>(&mut self.conn()).await?;
        let (ended, status) =
            decode_flagged(reply, what)?.ok_or_else(|| BrokerError::NoSuchJob(id.to_owned()))?;
        Ok(Ended { ended, status })
    }

    /// Fails with `NoSuchJob` unless the job exists (for reads that would otherwise answer
    /// "nothing stored" for a job that never existed).
    fn exists_or_no_such_job(exists: bool, id: &str) -> Result<(), BrokerError> {
        if exists { Ok(()) } else { Err(BrokerError::NoSuchJob(id.to_owned())) }
    }

    /// The statuses of the jobs of `ids` that exist: a job whose hash is gone (expired, or
    /// deleted by hand) is skipped rather than failing a list.
    async fn statuses(&self, ids: &[String]) -> Result<Vec<JobStatus>, BrokerError> {
        Ok(self.jobs(ids).await?.into_iter().flatten().collect())
    }
}

impl JobStore for RedisStore {
    async fn create_job_within(&self, job: &NewJob, quota: &JobQuota) -> Result<JobStatus, BrokerError> {
        let day = quota::utc_day(job.submitted_at_ms);
        let reply: Value = self
            .scripts
            .create
            .key(job_key(&job.id))
            .key(job_subkey(&job.id, "spec"))
            .key(JOBS_INDEX)
            .key(names::DISPATCHING_SET)
            .key(names::tenant_jobs_index(&job.tenant))
            .key(names::tenant_usage_key(&job.tenant))
            .key(names::tenant_day_runs_key(&job.tenant, &day))
            .arg(&job.id)
            .arg(&job.name)
            .arg(job.kind.name())
            .arg(job.runs_total)
            .arg(job.chunk_size)
            .arg(job.chunks_total)
            .arg(job.submitted_at_ms)
            .arg(job.spec.as_slice())
            .arg(encode_trace_context(&job.trace_context))
            .arg(&job.tenant)
            .arg(quota.concurrent_jobs)
            .arg(quota.queued_runs)
            .arg(quota.runs_per_day)
            .arg(quota::DAY_COUNTER_TTL.as_secs())
            .arg(job.chunks_released.min(job.chunks_total))
            .invoke_async(&mut self.conn())
            .await?;
        match reply {
            Value::Array(mut pair) if pair.len() == 2 && pair[0] == Value::Int(1) => {
                decode_status(pair.pop().unwrap_or_default())
            }
            Value::Array(refusal) if refusal.len() == 3 && refusal[0] == Value::Int(0) => {
                let limit = text(refusal[1].clone()).as_deref().and_then(QuotaLimit::parse);
                match (limit, &refusal[2]) {
                    (Some(limit), Value::Int(used)) => Err(BrokerError::QuotaExceeded(QuotaExceeded::new(
                        &job.tenant,
                        limit,
                        u64::try_from(*used).unwrap_or(0),
                        quota,
                        job.runs_total,
                        job.submitted_at_ms,
                    ))),
                    _ => Err(corrupt("create reply", format!("{refusal:?}"))),
                }
            }
            other => Err(corrupt("create reply", format!("{other:?}"))),
        }
    }

    async fn quota_usage(&self, tenant: &str, now_ms: u64) -> Result<QuotaUsage, BrokerError> {
        let day = names::tenant_day_runs_key(tenant, &quota::utc_day(now_ms));
        let ((jobs, runs), today): ((Option<u64>, Option<u64>), Option<u64>) = redis::pipe()
            .atomic()
            .cmd("HMGET")
            .arg(names::tenant_usage_key(tenant))
            .arg("jobs")
            .arg("runs")
            .cmd("GET")
            .arg(day)
            .query_async(&mut self.conn())
            .await?;
        Ok(QuotaUsage {
            concurrent_jobs: jobs.unwrap_or(0),
            queued_runs: runs.unwrap_or(0),
            runs_today: today.unwrap_or(0),
        })
    }

    async fn job(&self, id: &str) -> Result<Option<JobStatus>, BrokerError> {
        let hash: Value = redis::cmd("HGETALL").arg(job_key(id)).query_async(&mut self.conn()).await?;
        decode_if_any(hash)
    }

    async fn jobs(&self, ids: &[String]) -> Result<Vec<Option<JobStatus>>, BrokerError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for id in ids {
            pipe.cmd("HGETALL").arg(job_key(id));
        }
        let hashes: Vec<Value> = pipe.query_async(&mut self.conn()).await?;
        hashes.into_iter().map(decode_if_any).collect()
    }

    async fn spec(&self, id: &str) -> Result<Option<Vec<u8>>, BrokerError> {
        Ok(redis::cmd("GET").arg(job_subkey(id, "spec")).query_async(&mut self.conn()).await?)
    }

    async fn list_jobs(
        &self,
        tenant: &str,
        before: Option<(u64, String)>,
        limit: usize,
    ) -> Result<Vec<JobStatus>, BrokerError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let index = names::tenant_jobs_index(tenant);
        // The index orders equal scores by id (bytewise), reversed here: newest first means
        // (score, id) descending. Jobs on the cursor's millisecond are filtered here by id
        // (Lua's string comparison follows the server's locale, Rust's is bytewise like the
        // index); then older milliseconds fill the page. One atomic round trip.
        let ids: Vec<String> = match before {
            None => {
                redis::cmd("ZREVRANGEBYSCORE")
                    .arg(&index)
                    .arg("+inf")
                    .arg("-inf")
                    .arg("LIMIT")
                    .arg(0)
                    .arg(limit)
                    .query_async(&mut self.conn())
                    .await?
            }
            Some((ms, last_id)) => {
                let (same_ms, older): (Vec<String>, Vec<String>) = redis::pipe()
                    .atomic()
                    .cmd("ZREVRANGEBYSCORE")
                    .arg(&index)
                    .arg(ms)
                    .arg(ms)
                    .cmd("ZREVRANGEBYSCORE")
                    .arg(&index)
                    .arg(format!("({ms}"))
                    .arg("-inf")
                    .arg("LIMIT")
                    .arg(0)
                    .arg(limit)
                    .query_async(&mut self.conn())
                    .await?;
                same_ms.into_iter().filter(|id| *id < last_id).chain(older).take(limit).collect()
            }
        };
        self.statuses(&ids).await
    }

    async fn mark_enqueued(&self, id: &str, chunks: u32) -> Result<(), BrokerError> {
        let reply: Value = self
            .scripts
            .mark_enqueued
            .key(job_key(id))
            .key(names::DISPATCHING_SET)
            .arg(chunks)
            .arg(id)
            .invoke_async(&mut self.conn())
            .await?;
        match reply {
            Value::Nil => Err(BrokerError::NoSuchJob(id.to_owned())),
            _ => Ok(()),
        }
    }

    async fn jobs_to_dispatch(&self) -> Result<Vec<JobStatus>, BrokerError> {
        let ids: Vec<String> =
            redis::cmd("SMEMBERS").arg(names::DISPATCHING_SET).query_async(&mut self.conn()).await?;
        let mut jobs: Vec<JobStatus> = self
            .statuses(&ids)
            .await?
            .into_iter()
            // The scripts keep the set exact; checking again costs nothing.
            .filter(|j| !j.state.is_terminal() && j.chunks_enqueued < j.chunks_total)
            .collect();
        jobs.sort_by(|a, b| (a.submitted_at_ms, &a.id).cmp(&(b.submitted_at_ms, &b.id)));
        Ok(jobs)
    }

    async fn release(&self, id: &str, chunks: u32) -> Result<Option<JobStatus>, BrokerError> {
        let mut call = self.scripts.release.key(job_key(id));
        let reply: Value =
            call.key(job_subkey(id, "state")).arg(chunks).invoke_async(&mut self.conn()).await?;
        match reply {
            Value::Nil => Ok(None),
            hash => decode_status(hash).map(Some),
        }
    }

    async fn release_with_state(
        &self,
        id: &str,
        chunks: u32,
        state: &[u8],
    ) -> Result<Option<JobStatus>, BrokerError> {
        let mut call = self.scripts.release.key(job_key(id));
        let reply: Value =
            call.key(job_subkey(id, "state")).arg(chunks).arg(state).invoke_async(&mut self.conn()).await?;
        match reply {
            Value::Nil => Ok(None),
            hash => decode_status(hash).map(Some),
        }
    }

    async fn wave_state(&self, id: &str) -> Result<Vec<u8>, BrokerError> {
        let state: Option<Vec<u8>> =
            redis::cmd("GET").arg(job_subkey(id, "state")).query_async(&mut self.conn()).await?;
        Ok(state.unwrap_or_default())
    }

    async fn stop_early(
        &self,
        id: &str,
        chunks: u32,
        runs: u64,
        now_ms: u64,
    ) -> Result<Option<StopOutcome>, BrokerError> {
        let reply: Value = self
            .scripts
            .stop_early
            .key(job_key(id))
            .key(names::DISPATCHING_SET)
            .key(names::ENDED_INDEX)
            .arg(chunks)
            .arg(runs)
            .arg(now_ms)
            .arg(id)
            .invoke_async(&mut self.conn())
            .await?;
        let outcome = decode_flagged(reply, "stop_early reply")?;
        Ok(outcome.map(|(stopped, status)| StopOutcome { stopped, status }))
    }

    async fn cancel(
        &self,
        id: &str,
        reason: &str,
        now_ms: u64,
    ) -> Result<Option<CancelOutcome>, BrokerError> {
        let reply: Value = self
            .scripts
            .cancel
            .key(job_key(id))
            .key(names::DISPATCHING_SET)
            .key(names::ENDED_INDEX)
            .arg(reason)
            .arg(now_ms)
            .arg(id)
            .invoke_async(&mut self.conn())
            .await?;
        let outcome = decode_flagged(reply, "cancel reply")?;
        Ok(outcome.map(|(cancelled, status)| CancelOutcome { cancelled, status }))
    }

    async fn record_chunk(
        &self,
        id: &str,
        chunk: u32,
        runs: u64,
        summary: &[u8],
        now_ms: u64,
    ) -> Result<ChunkRecorded, BrokerError> {
        let reply: Value = self
            .scripts
            .record_chunk
            .key(job_key(id))
            .key(job_subkey(id, "chunks"))
            .key(job_subkey(id, "done"))
            .key(job_subkey(id, "merged"))
            .arg(chunk)
            .arg(runs)
            .arg(summary)
            .arg(now_ms)
            .invoke_async(&mut self.conn())
            .await?;
        match reply {
            Value::Int(_) => Err(chunk_out_of_range(id, chunk)),
            reply => {
                let (recorded, status) = decode_flagged(reply, "record_chunk reply")?
                    .ok_or_else(|| BrokerError::NoSuchJob(id.to_owned()))?;
                Ok(ChunkRecorded { recorded, status })
            }
        }
    }

    async fn chunk_summaries(
        &self,
        id: &str,
        from: u32,
        to: u32,
    ) -> Result<Vec<Option<Vec<u8>>>, BrokerError> {
        if from >= to {
            let exists: bool = redis::cmd("EXISTS").arg(job_key(id)).query_async(&mut self.conn()).await?;
            Self::exists_or_no_such_job(exists, id)?;
            return Ok(Vec::new());
        }
        let (exists, summaries): (bool, Vec<Option<Vec<u8>>>) = redis::pipe()
            .atomic()
            .cmd("EXISTS")
            .arg(job_key(id))
            .cmd("HMGET")
            .arg(job_subkey(id, "chunks"))
            .arg((from..to).collect::<Vec<u32>>())
            .query_async(&mut self.conn())
            .await?;
        Self::exists_or_no_such_job(exists, id)?;
        Ok(summaries)
    }

    async fn save_merged(&self, id: &str, upto: u32, merged: &[u8]) -> Result<(), BrokerError> {
        let reply: Value = self
            .scripts
            .save_merged
            .key(job_key(id))
            .key(job_subkey(id, "merged"))
            .key(job_subkey(id, "chunks"))
            .arg(upto)
            .arg(merged)
            .invoke_async(&mut self.conn())
            .await?;
        match reply {
            Value::Nil => Err(BrokerError::NoSuchJob(id.to_owned())),
            Value::Int(-1) => Err(chunk_out_of_range(id, upto)),
            _ => Ok(()),
        }
    }

    async fn expire_ended(
        &self,
        ended_at_or_before_ms: u64,
        limit: usize,
    ) -> Result<Vec<String>, BrokerError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        Ok(self
            .scripts
            .expire
            .key(names::ENDED_INDEX)
            .key(JOBS_INDEX)
            .arg(ended_at_or_before_ms)
            .arg(limit)
            .arg(names::JOB_KEY_PREFIX)
            .arg(names::TENANT_KEY_PREFIX)
            .arg(super::DEFAULT_TENANT)
            .invoke_async(&mut self.conn())
            .await?)
    }

    async fn merged(&self, id: &str) -> Result<Option<(u32, Vec<u8>)>, BrokerError> {
        let (exists, (upto, bytes)): (bool, (Option<u32>, Option<Vec<u8>>)) = redis::pipe()
            .atomic()
            .cmd("EXISTS")
            .arg(job_key(id))
            .cmd("HMGET")
            .arg(job_subkey(id, "merged"))
            .arg("upto")
            .arg("bytes")
            .query_async(&mut self.conn())
            .await?;
        Self::exists_or_no_such_job(exists, id)?;
        Ok(upto.zip(bytes))
    }

    async fn finish(&self, id: &str, now_ms: u64) -> Result<Ended, BrokerError> {
        let now = now_ms.to_string();
        self.end(&self.scripts.finish, "finish reply", id, &[now.as_bytes()]).await
    }

    async fn fail(&self, id: &str, _chunk: u32, reason: &str, now_ms: u64) -> Result<Ended, BrokerError> {
        let now = now_ms.to_string();
        self.end(&self.scripts.fail, "fail reply", id, &[reason.as_bytes(), now.as_bytes()]).await
    }

    async fn notify(&self, id: &str) -> Result<(), BrokerError> {
        let _receivers: i64 =
            redis::cmd("PUBLISH").arg(events_channel(id)).arg("").query_async(&mut self.conn()).await?;
        Ok(())
    }

    /// The stream never ends by itself: when its connection drops (Redis restarting), it
    /// resubscribes on a new connection, retrying with a backoff from 100 ms to 5 s (never a
    /// tight loop), and after resubscribing yields one `()` because notifications sent
    /// meanwhile were lost. Dropping the stream closes its connection.
    async fn subscribe(&self, id: &str) -> Result<Pin<Box<dyn Stream<Item = ()> + Send>>, BrokerError> {
        let channel = events_channel(id);
        let messages = open_subscription(&self.client, &channel).await?;
        let state = Subscription { client: self.client.clone(), channel, link: Link::Up(messages) };
        Ok(Box::pin(futures_util::stream::unfold(state, Subscription::next)))
    }

    async fn ping(&self) -> Result<(), BrokerError> {
        let _pong: String = redis::cmd("PING").query_async(&mut self.conn()).await?;
        Ok(())
    }
}

/// One watcher's pub/sub connection and what to do when it drops.
struct Subscription {
    client: Client,
    channel: String,
    link: Link,
}

enum Link {
    Up(PubSubStream),
    /// Disconnected: try again after this delay.
    Down(Duration),
}

impl Subscription {
    /// The next `()` and the state after it (for `stream::unfold`); never `None`.
    async fn next(mut self) -> Option<((), Subscription)> {
        loop {
            match &mut self.link {
                Link::Up(messages) => match messages.next().await {
                    Some(_) => return Some(((), self)),
                    // The connection closed: its messages end.
                    None => self.link = Link::Down(RESUBSCRIBE_MIN_DELAY),
                },
                Link::Down(delay) => {
                    let delay = *delay;
                    tokio::time::sleep(delay).await;
                    match open_subscription(&self.client, &self.channel).await {
                        Ok(messages) => {
                            self.link = Link::Up(messages);
                            // Wake the watcher: changes during the outage went unannounced.
                            return Some(((), self));
                        }
                        Err(_) => self.link = Link::Down((delay * 2).min(RESUBSCRIBE_MAX_DELAY)),
                    }
                }
            }
        }
    }
}

/// A new connection subscribed to `channel` (confirmed by the server when this returns).
async fn open_subscription(client: &Client, channel: &str) -> Result<PubSubStream, BrokerError> {
    let connecting = async {
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(channel).await?;
        Ok::<_, redis::RedisError>(pubsub.into_on_message())
    };
    match tokio::time::timeout(
        crate::connection::CONNECT_TIMEOUT + crate::connection::RESPONSE_TIMEOUT,
        connecting,
    )
    .await
    {
        Ok(result) => Ok(result?),
        Err(_) => Err(redis::RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut)).into()),
    }
}

fn corrupt(what: &'static str, detail: String) -> BrokerError {
    BrokerError::Corrupt { what, detail }
}

/// A chunk index (or merge bound) beyond the job's chunks: a caller's bug, refused before it
/// can allocate a huge bitmap or loop over billions of fields.
fn chunk_out_of_range(id: &str, chunk: u32) -> BrokerError {
    corrupt("chunk index", format!("chunk {chunk} is outside job {id}"))
}

/// The job context as the `trace_context` field stores it: a JSON array of `[key, value]`
/// pairs (values such as `tracestate` contain `,` and `=`, so no simpler separator is safe);
/// empty for none, which stores no field.
fn encode_trace_context(fields: &[(String, String)]) -> String {
    if fields.is_empty() {
        return String::new();
    }
    serde_json::to_string(fields).unwrap_or_default()
}

/// The stored job context; none when the field is missing (a job recorded before it existed)
/// or unreadable: the context only links traces, so a bad one must not make the job unreadable.
fn decode_trace_context(stored: Option<&str>) -> Vec<(String, String)> {
    stored.and_then(|text| serde_json::from_str(text).ok()).unwrap_or_default()
}

/// The reply of a script that says whether this call changed the job (record_chunk.lua,
/// cancel.lua, stop_early.lua, finish.lua, fail.lua): `{1|0, the job hash after the call}` as
/// that flag and the status, or `None` for nil (an unknown job). `what` names the reply in the
/// error for anything else.
fn decode_flagged(reply: Value, what: &'static str) -> Result<Option<(bool, JobStatus)>, BrokerError> {
    match reply {
        Value::Nil => Ok(None),
        Value::Array(mut pair) if pair.len() == 2 => {
            let hash = pair.pop().unwrap_or_default();
            let flag = matches!(pair.pop(), Some(Value::Int(1)));
            Ok(Some((flag, decode_status(hash)?)))
        }
        other => Err(corrupt(what, format!("{other:?}"))),
    }
}

/// Whether a hash reply is empty (HGETALL of a missing key).
fn is_empty(hash: &Value) -> bool {
    match hash {
        Value::Array(items) => items.is_empty(),
        Value::Map(pairs) => pairs.is_empty(),
        Value::Nil => true,
        _ => false,
    }
}

/// A job hash as read by HGETALL: `None` when there is none (an unknown job).
fn decode_if_any(hash: Value) -> Result<Option<JobStatus>, BrokerError> {
    if is_empty(&hash) { Ok(None) } else { decode_status(hash).map(Some) }
}

/// A job hash (HGETALL as a flat array, or a RESP3 map) as a status.
fn decode_status(hash: Value) -> Result<JobStatus, BrokerError> {
    let pairs: Vec<(Value, Value)> = match hash {
        Value::Array(items) => {
            let mut items = items.into_iter();
            let mut pairs = Vec::new();
            while let (Some(k), Some(v)) = (items.next(), items.next()) {
                pairs.push((k, v));
            }
            pairs
        }
        Value::Map(pairs) => pairs,
        other => return Err(corrupt("job status", format!("not a hash: {other:?}"))),
    };
    let mut fields = HashMap::with_capacity(pairs.len());
    for (k, v) in pairs {
        match (text(k), text(v)) {
            (Some(k), Some(v)) => fields.insert(k, v),
            _ => return Err(corrupt("job status", "a field is not UTF-8 text".to_owned())),
        };
    }
    Fields(fields).status()
}

fn text(value: Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => String::from_utf8(bytes).ok(),
        Value::SimpleString(s) => Some(s),
        Value::Int(n) => Some(n.to_string()),
        _ => None,
    }
}

struct Fields(HashMap<String, String>);

impl Fields {
    fn status(mut self) -> Result<JobStatus, BrokerError> {
        let chunks_total = self.number("chunks_total")?;
        Ok(JobStatus {
            id: self.text("id")?,
            // Jobs stored before tenants existed belong to the default tenant.
            tenant: self.0.remove("tenant").unwrap_or_else(|| super::DEFAULT_TENANT.to_owned()),
            name: self.text("name")?,
            kind: JobKind::from_name(&self.text("kind")?).ok_or_else(|| self.bad("kind"))?,
            state: JobState::from_name(&self.text("state")?).ok_or_else(|| self.bad("state"))?,
            runs_total: self.number("runs_total")?,
            runs_done: self.number("runs_done")?,
            chunk_size: self.number("chunk_size")?,
            chunks_total,
            // Jobs stored before waves existed released every chunk.
            chunks_released: self.optional_number("chunks_released")?.unwrap_or(chunks_total),
            chunks_enqueued: self.number("chunks_enqueued")?,
            chunks_done: self.number("chunks_done")?,
            chunks_failed: self.number("chunks_failed")?,
            submitted_at_ms: self.number("submitted_at_ms")?,
            started_at_ms: self.optional_number("started_at_ms")?,
            finished_at_ms: self.optional_number("finished_at_ms")?,
            error: self.0.remove("error"),
            trace_context: decode_trace_context(self.0.remove("trace_context").as_deref()),
        })
    }

    fn bad(&self, field: &str) -> BrokerError {
        corrupt("job status", format!("field {field} of job {:?}", self.0.get("id")))
    }

    fn text(&mut self, field: &str) -> Result<String, BrokerError> {
        self.0.remove(field).ok_or_else(|| self.bad(field))
    }

    fn number<T: std::str::FromStr>(&mut self, field: &str) -> Result<T, BrokerError> {
        self.text(field)?.parse().map_err(|_| self.bad(field))
    }

    fn optional_number<T: std::str::FromStr>(&mut self, field: &str) -> Result<Option<T>, BrokerError> {
        match self.0.remove(field) {
            None => Ok(None),
            Some(s) => s.parse().map(Some).map_err(|_| self.bad(field)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(fields: &[(&str, &str)]) -> Value {
        Value::Array(
            fields
                .iter()
                .flat_map(|(k, v)| {
                    [Value::BulkString(k.as_bytes().to_vec()), Value::BulkString(v.as_bytes().to_vec())]
                })
                .collect(),
        )
    }

    const QUEUED: &[(&str, &str)] = &[
        ("id", "j1"),
        ("name", "tank"),
        ("kind", "sweep"),
        ("state", "queued"),
        ("runs_total", "10"),
        ("runs_done", "0"),
        ("chunk_size", "4"),
        ("chunks_total", "3"),
        ("chunks_enqueued", "0"),
        ("chunks_done", "0"),
        ("chunks_failed", "0"),
        ("submitted_at_ms", "1700000000000"),
    ];

    #[test]
    fn decodes_a_job_hash_with_missing_optionals() {
        let status = decode_status(hash(QUEUED)).unwrap();
        assert_eq!(status.kind, JobKind::Sweep);
        assert_eq!(status.state, JobState::Queued);
        assert_eq!((status.runs_total, status.chunks_total), (10, 3));
        assert_eq!((status.started_at_ms, status.finished_at_ms, status.error), (None, None, None));
        assert!(status.trace_context.is_empty(), "a job stored before trace contexts has none");
        assert_eq!(status.chunks_released, 3, "a job stored before waves released every chunk");
    }

    #[test]
    fn trace_contexts_round_trip_and_a_bad_one_reads_as_none() {
        let fields = vec![
            ("traceparent".to_owned(), "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".to_owned()),
            ("tracestate".to_owned(), "vendor=a b,other=\"c\"".to_owned()),
        ];
        let encoded = encode_trace_context(&fields);
        assert_eq!(decode_trace_context(Some(&encoded)), fields);
        assert_eq!(encode_trace_context(&[]), "");
        let mut with_field = QUEUED.to_vec();
        with_field.push(("trace_context", &encoded));
        assert_eq!(decode_status(hash(&with_field)).unwrap().trace_context, fields);
        with_field.pop();
        with_field.push(("trace_context", "traceparent=00-garbage"));
        assert!(decode_status(hash(&with_field)).unwrap().trace_context.is_empty());
    }

    /// The scripts spell the states they write themselves; each must be one `decode_status`
    /// reads, and together they must be every state.
    #[test]
    fn the_scripts_write_every_state_and_only_known_names() {
        let scripts = [
            include_str!("scripts/create.lua"),
            include_str!("scripts/mark_enqueued.lua"),
            include_str!("scripts/release.lua"),
            include_str!("scripts/stop_early.lua"),
            include_str!("scripts/record_chunk.lua"),
            include_str!("scripts/end_job.lua"),
            include_str!("scripts/cancel.lua"),
            include_str!("scripts/finish.lua"),
            include_str!("scripts/fail.lua"),
            include_str!("scripts/save_merged.lua"),
            include_str!("scripts/expire.lua"),
        ];
        let mut written = Vec::new();
        // Writes are HSET's `'state', '<name>'` pairs (HMGET lines list field names instead).
        for line in scripts.iter().flat_map(|s| s.lines()).filter(|l| !l.contains("'HMGET'")) {
            for rest in line.split("'state', '").skip(1) {
                let name = rest.split('\'').next().unwrap_or_default();
                let state = JobState::from_name(name);
                assert!(state.is_some(), "a script writes the unknown state {name:?}: {line}");
                written.extend(state);
            }
        }
        for state in JobState::ALL {
            assert!(written.contains(&state), "no script writes {state:?}");
        }
    }

    #[test]
    fn flagged_replies_decode_to_the_flag_and_the_status() {
        let pair = |flag| Value::Array(vec![Value::Int(flag), hash(QUEUED)]);
        let (flag, status) = decode_flagged(pair(1), "reply").unwrap().unwrap();
        assert!(flag);
        assert_eq!(status, decode_status(hash(QUEUED)).unwrap());
        assert!(!decode_flagged(pair(0), "reply").unwrap().unwrap().0);
        assert_eq!(decode_flagged(Value::Nil, "reply").unwrap(), None, "an unknown job");
        for other in [Value::Int(1), hash(QUEUED), Value::Array(vec![Value::Int(1)])] {
            assert!(matches!(
                decode_flagged(other, "reply"),
                Err(BrokerError::Corrupt { what: "reply", .. })
            ));
        }
    }

    #[test]
    fn a_bad_field_is_corrupt_not_a_panic() {
        let mut fields = QUEUED.to_vec();
        fields[4] = ("runs_total", "-1");
        assert!(matches!(decode_status(hash(&fields)), Err(BrokerError::Corrupt { .. })));
        fields[4] = ("runs_total", "10");
        fields[3] = ("state", "sleeping");
        assert!(matches!(decode_status(hash(&fields)), Err(BrokerError::Corrupt { .. })));
        assert!(matches!(decode_status(hash(&QUEUED[1..])), Err(BrokerError::Corrupt { .. })));
    }
}
