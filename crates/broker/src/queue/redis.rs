//! [`TaskQueue`] on a Redis Stream read by a consumer group (production: every replica shares
//! it).
//!
//! Commands go through one [`ConnectionManager`] (multiplexed, reconnects by itself); a command
//! that fails because the connection dropped is sent once more, on the new connection, so
//! callers do not see a reconnection (after a Redis restart, say). Every operation tolerates
//! that repeat: most are idempotent, and a repeated read or enqueue at worst delivers a task
//! twice, which at-least-once delivery allows anyway.
//!
//! Blocking reads (`XREADGROUP … BLOCK`) do not use that connection: Redis answers a
//! connection's commands in order, so a blocked read would hold up every other command of the
//! process for the whole block. They run on dedicated connections from a small pool instead,
//! one per concurrent reader, reused across reads, and dropped when they fail or when the read
//! is cancelled (Redis would go on blocking that connection until the block ends).

mod entry;
mod settle;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ::redis::aio::{ConnectionManager, MultiplexedConnection};
use ::redis::streams::{StreamInfoGroupsReply, StreamPendingCountReply, StreamPendingReply};
use ::redis::{AsyncConnectionConfig, Client, ErrorKind, RedisError, RedisResult, Value};

use self::entry::RawEntry;
use super::{DeadLetter, Delivery, QueueStats, Task, TaskQueue};
use crate::BrokerError;
use crate::names::{DEAD_LETTER_STREAM, TASKS_STREAM, WORKERS_GROUP};

// The shared connection's reply time is generous (`connection::RESPONSE_TIMEOUT`): a batch of
// thousands of entries on a busy server can take long, and a timed-out write leaves the
// caller not knowing whether it happened.
/// How much longer than its `BLOCK` a blocking read may take before its connection is
/// considered dead (Redis wakes blocked clients on a 100 ms timer).
const BLOCK_GRACE: Duration = Duration::from_secs(5);
/// Idle dedicated read connections kept for reuse (one per concurrently reading task).
const MAX_IDLE_READERS: usize = 8;
/// Entries `XAUTOCLAIM` may claim per call (Redis scans ten times as many).
const CLAIM_BATCH: usize = 1000;

/// The Redis task queue. Clones share the connections.
#[derive(Clone)]
pub struct RedisQueue {
    client: Client,
    manager: ConnectionManager,
    /// Idle dedicated connections for blocking reads.
    readers: Arc<Mutex<Vec<MultiplexedConnection>>>,
}

impl std::fmt::Debug for RedisQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisQueue").field("client", &self.client).finish_non_exhaustive()
    }
}

impl RedisQueue {
    /// Connects to `url` (`redis://user:password@host:port/db`, or `rediss://`); fails if
    /// Redis does not answer.
    pub async fn connect(url: &str) -> Result<Self, BrokerError> {
        Self::new(crate::connection::client(url)?).await
    }

    /// Connects with `client`; fails if Redis does not answer.
    pub async fn new(client: Client) -> Result<Self, BrokerError> {
        let manager = crate::connection::manager(&client).await?;
        Ok(RedisQueue { client, manager, readers: Arc::default() })
    }

    /// Runs `op` on the shared connection, once more if the connection dropped under it.
    async fn retrying<T, F, Fut>(&self, op: F) -> Result<T, BrokerError>
    where
        F: Fn(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        match op(self.manager.clone()).await {
            Err(e) if e.is_connection_dropped() => Ok(op(self.manager.clone()).await?),
            other => Ok(other?),
        }
    }

    async fn query<T: ::redis::FromRedisValue>(&self, cmd: &::redis::Cmd) -> Result<T, BrokerError> {
        self.retrying(move |mut con| async move { cmd.query_async(&mut con).await }).await
    }

    async fn query_pipe<T: ::redis::FromRedisValue>(
        &self,
        pipe: &::redis::Pipeline,
    ) -> Result<T, BrokerError> {
        self.retrying(move |mut con| async move { pipe.query_async(&mut con).await }).await
    }

    /// `XREADGROUP … >` on a dedicated connection, the raw reply.
    async fn read_group(&self, consumer: &str, max: usize, block: Duration) -> RedisResult<Value> {
        let mut cmd = ::redis::cmd("XREADGROUP");
        cmd.arg("GROUP").arg(WORKERS_GROUP).arg(consumer).arg("COUNT").arg(max);
        // `BLOCK 0` would wait forever: a zero block means "do not wait".
        let block_ms = u64::try_from(block.as_millis()).unwrap_or(u64::MAX);
        if block_ms > 0 {
            cmd.arg("BLOCK").arg(block_ms);
        }
        cmd.arg("STREAMS").arg(TASKS_STREAM).arg(">");
        let limit = block.saturating_add(BLOCK_GRACE);

        let pooled = self.readers.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let was_pooled = pooled.is_some();
        let mut con = match pooled {
            Some(con) => con,
            None => self.open_reader().await?,
        };
        let mut result = read_within(&mut con, &cmd, limit).await;
        if was_pooled && result.as_ref().is_err_and(RedisError::is_connection_dropped) {
            // The idle connection died with the server it was connected to (a restart): try
            // once on a new one. Had the read happened with only its reply lost, its entries
            // would stay pending on this consumer, recovered like any unacknowledged delivery.
            con = self.open_reader().await?;
            result = read_within(&mut con, &cmd, limit).await;
        }
        if result.as_ref().map_or_else(server_replied, |_| true) {
            let mut idle = self.readers.lock().unwrap_or_else(PoisonError::into_inner);
            if idle.len() < MAX_IDLE_READERS {
                idle.push(con);
            }
        }
        result
    }

    async fn open_reader(&self) -> RedisResult<MultiplexedConnection> {
        // No response timeout on the connection: each read sets its own from its block.
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(crate::connection::CONNECT_TIMEOUT))
            .set_response_timeout(None);
        self.client.get_multiplexed_async_connection_with_config(&config).await
    }

    /// Turns entries (each with its delivery count) into deliveries. An entry that does not
    /// parse goes to the dead-letter stream ("malformed entry: …") and is skipped: returning an
    /// error instead would wedge the consumer, which would read the same entry again forever.
    /// An entry deleted from the stream while pending is acknowledged and skipped.
    async fn deliver(&self, entries: Vec<(RawEntry, u64)>) -> Vec<Delivery> {
        let mut deliveries = Vec::with_capacity(entries.len());
        let mut vanished = Vec::new();
        for (raw, count) in entries {
            let Some(fields) = raw.fields else {
                vanished.push(raw.id);
                continue;
            };
            match entry::parse_task(&fields) {
                Ok(task) => deliveries.push(Delivery { entry_id: raw.id, task, deliveries: count }),
                Err(detail) => {
                    let reason = format!("malformed entry: {detail}");
                    let args = entry::dead_letter_args(entry::raw_args(fields), &reason, count);
                    // Cleanup failures are not the caller's problem (its good deliveries must
                    // not be lost): the entry stays pending, and whoever claims it retries.
                    let _ = self.settle(DEAD_LETTER_STREAM, &raw.id, count, args).await;
                }
            }
        }
        if !vanished.is_empty() {
            let mut cmd = ::redis::cmd("XACK");
            cmd.arg(TASKS_STREAM).arg(WORKERS_GROUP).arg(&vanished);
            let _ = self.query::<()>(&cmd).await;
        }
        deliveries
    }

    /// Moves delivery `entry_id` to `target` as `fields` if it is still pending with `count`
    /// deliveries (see [`settle`]); whether it did.
    async fn settle(
        &self,
        target: &str,
        entry_id: &str,
        count: u64,
        fields: Vec<Vec<u8>>,
    ) -> Result<bool, BrokerError> {
        let script = settle::script();
        let mut call = script.key(TASKS_STREAM);
        call.key(target).arg(WORKERS_GROUP).arg(entry_id).arg(count).arg(fields);
        let call = &call;
        self.retrying(move |mut con| async move { call.invoke_async::<bool>(&mut con).await }).await
    }
}

/// Whether the server answered `error` (so the connection is fine), as opposed to the
/// connection failing.
fn server_replied(error: &RedisError) -> bool {
    matches!(error.kind(), ErrorKind::Server(_) | ErrorKind::Extension)
}

/// Whether `error` (from a command or a transaction) carries the Redis error code `code`.
fn has_code(error: &RedisError, code: &str) -> bool {
    error.code() == Some(code)
        || error
            .clone()
            .into_server_errors()
            .is_some_and(|errors| errors.iter().any(|(_, e)| e.code() == code))
}

fn is_no_group(error: &BrokerError) -> bool {
    matches!(error, BrokerError::Redis(e) if has_code(e, "NOGROUP"))
}

async fn read_within(
    con: &mut MultiplexedConnection,
    cmd: &::redis::Cmd,
    limit: Duration,
) -> RedisResult<Value> {
    match tokio::time::timeout(limit, cmd.query_async(con)).await {
        Ok(result) => result,
        Err(_) => {
            Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "XREADGROUP outlived its BLOCK").into())
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// The millisecond part of a stream entry id (`<ms>-<seq>`): when Redis added the entry.
fn entry_ms(id: &str) -> Option<u64> {
    id.split_once('-').map_or(id, |(ms, _)| ms).parse().ok()
}

impl TaskQueue for RedisQueue {
    /// `XGROUP CREATE … 0 MKSTREAM`. From id `0`, not `$`: a group created after tasks were
    /// appended (first start, or Redis restarted and the dispatcher got there first) must
    /// still deliver them. Since acknowledged entries are deleted, `0` never re-delivers
    /// finished work.
    async fn ensure_group(&self) -> Result<(), BrokerError> {
        let mut cmd = ::redis::cmd("XGROUP");
        cmd.arg("CREATE").arg(TASKS_STREAM).arg(WORKERS_GROUP).arg("0").arg("MKSTREAM");
        match self.query::<()>(&cmd).await {
            Err(BrokerError::Redis(e)) if has_code(&e, "BUSYGROUP") => Ok(()),
            other => other,
        }
    }

    /// One `MULTI … EXEC` of `XADD`s: one round trip, and all or nothing, so a caller retrying
    /// after a dropped connection does not duplicate a prefix of the batch.
    async fn enqueue(&self, tasks: &[Task]) -> Result<(), BrokerError> {
        if tasks.is_empty() {
            return Ok(());
        }
        let mut pipe = ::redis::pipe();
        pipe.atomic();
        for task in tasks {
            pipe.cmd("XADD").arg(TASKS_STREAM).arg("*").arg(entry::task_args(task)).ignore();
        }
        self.query_pipe::<()>(&pipe).await
    }

    async fn read_new(
        &self,
        consumer: &str,
        max: usize,
        block: Duration,
    ) -> Result<Vec<Delivery>, BrokerError> {
        // `COUNT 0` means "no limit" to Redis.
        if max == 0 {
            return Ok(Vec::new());
        }
        let reply = match self.read_group(consumer, max, block).await.map_err(BrokerError::from) {
            Err(e) if is_no_group(&e) => {
                self.ensure_group().await?;
                self.read_group(consumer, max, block).await?
            }
            other => other?,
        };
        let entries = entry::read_reply(reply)?;
        Ok(self.deliver(entries.into_iter().map(|e| (e, 1)).collect()).await)
    }

    /// `XREADGROUP … 0` (this consumer's pending entries) and `XPENDING` for their delivery
    /// counts, in one transaction. Redis counts this re-read as a delivery (verified on 7.0).
    async fn read_own_pending(&self, consumer: &str, max: usize) -> Result<Vec<Delivery>, BrokerError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let mut pipe = ::redis::pipe();
        pipe.atomic()
            .cmd("XREADGROUP")
            .arg("GROUP")
            .arg(WORKERS_GROUP)
            .arg(consumer)
            .arg("COUNT")
            .arg(max)
            .arg("STREAMS")
            .arg(TASKS_STREAM)
            .arg("0")
            .cmd("XPENDING")
            .arg(TASKS_STREAM)
            .arg(WORKERS_GROUP)
            .arg("-")
            .arg("+")
            .arg(max)
            .arg(consumer);
        let (reply, pending) = match self.query_pipe::<(Value, StreamPendingCountReply)>(&pipe).await {
            // No group, nothing pending: recreate it for the reads that follow.
            Err(e) if is_no_group(&e) => return self.ensure_group().await.map(|()| Vec::new()),
            other => other?,
        };
        let counts: HashMap<String, u64> =
            pending.ids.into_iter().map(|p| (p.id, p.times_delivered as u64)).collect();
        let entries = entry::read_reply(reply)?;
        let counted = entries.into_iter().filter_map(|e| counts.get(&e.id).map(|&n| (e, n)));
        Ok(self.deliver(counted.collect()).await)
    }

    /// `XAUTOCLAIM` from the start of the pending list, following its cursor until `max`
    /// entries are claimed or the list is scanned, then `XPENDING` for each claimed entry's
    /// delivery count. An entry claimed away in between (only possible with a `min_idle` of
    /// almost zero) is no longer ours and is left out.
    async fn claim_idle(
        &self,
        consumer: &str,
        min_idle: Duration,
        max: usize,
    ) -> Result<Vec<Delivery>, BrokerError> {
        let mut claimed = Vec::new();
        let mut cursor = String::from("0-0");
        while claimed.len() < max {
            let mut cmd = ::redis::cmd("XAUTOCLAIM");
            cmd.arg(TASKS_STREAM)
                .arg(WORKERS_GROUP)
                .arg(consumer)
                .arg(millis(min_idle))
                .arg(&cursor)
                .arg("COUNT")
                .arg((max - claimed.len()).min(CLAIM_BATCH));
            let reply = match self.query::<Value>(&cmd).await {
                Err(e) if is_no_group(&e) => return self.ensure_group().await.map(|()| Vec::new()),
                other => other?,
            };
            let (next, entries) = entry::autoclaim_reply(reply)?;
            claimed.extend(entries);
            if next == "0-0" {
                break;
            }
            cursor = next;
        }
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = ::redis::pipe();
        for entry in &claimed {
            pipe.cmd("XPENDING")
                .arg(TASKS_STREAM)
                .arg(WORKERS_GROUP)
                .arg(&entry.id)
                .arg(&entry.id)
                .arg(1)
                .arg(consumer);
        }
        let counts: Vec<StreamPendingCountReply> = self.query_pipe(&pipe).await?;
        let counted = claimed
            .into_iter()
            .zip(counts)
            .filter_map(|(e, reply)| reply.ids.first().map(|p| (e, p.times_delivered as u64)));
        Ok(self.deliver(counted.collect()).await)
    }

    /// `MULTI XACK XDEL EXEC` (idempotent).
    async fn ack(&self, entry_ids: &[String]) -> Result<(), BrokerError> {
        let ids: Vec<&str> =
            entry_ids.iter().map(String::as_str).filter(|id| entry::is_entry_id(id)).collect();
        if ids.is_empty() {
            return Ok(());
        }
        let mut pipe = ::redis::pipe();
        pipe.atomic();
        pipe.cmd("XACK").arg(TASKS_STREAM).arg(WORKERS_GROUP).arg(&ids).ignore();
        pipe.cmd("XDEL").arg(TASKS_STREAM).arg(&ids).ignore();
        self.query_pipe::<()>(&pipe).await
    }

    /// Atomic (a script), and only if `delivery` is still the entry's latest: once another
    /// consumer has claimed the entry, or it was acknowledged, this does nothing (and so is
    /// safe to repeat).
    async fn hand_back(&self, delivery: &Delivery) -> Result<(), BrokerError> {
        let fields = entry::task_args(&delivery.task);
        self.settle(TASKS_STREAM, &delivery.entry_id, delivery.deliveries, fields).await.map(drop)
    }

    /// Atomic (a script), and only if `delivery` is still the entry's latest, as
    /// [`RedisQueue::hand_back`]: a task is dead-lettered once even if two consumers decide to.
    async fn dead_letter(&self, delivery: &Delivery, reason: &str) -> Result<(), BrokerError> {
        let fields = entry::dead_letter_args(entry::task_args(&delivery.task), reason, delivery.deliveries);
        self.settle(DEAD_LETTER_STREAM, &delivery.entry_id, delivery.deliveries, fields).await.map(drop)
    }

    async fn dead_letters(&self, max: usize) -> Result<Vec<DeadLetter>, BrokerError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let mut cmd = ::redis::cmd("XRANGE");
        cmd.arg(DEAD_LETTER_STREAM).arg("-").arg("+").arg("COUNT").arg(max);
        let entries = entry::range_reply(self.query(&cmd).await?)?;
        Ok(entries.into_iter().filter_map(|e| e.fields).map(entry::parse_dead_letter).collect())
    }

    /// One transaction: `XLEN` of both streams, `XINFO GROUPS` (lag, pending, consumers), the
    /// `XPENDING` summary (its smallest id: when the oldest pending entry was added) and `TIME`
    /// (the server's clock, which made that id, so clocks of other hosts do not matter).
    ///
    /// Redis reports the group's lag as nil when it cannot tell it from its counters (entries
    /// deleted between the group's last delivered id and the stream's end, or a group created
    /// at an arbitrary id). Acknowledged entries are deleted here, so every entry left is either
    /// pending or never delivered, and the lag is then `length - pending` (entries deleted while
    /// still pending count as pending but not in the length, hence the saturation).
    async fn stats(&self) -> Result<QueueStats, BrokerError> {
        let mut pipe = ::redis::pipe();
        pipe.atomic().ignore_errors();
        pipe.cmd("XLEN").arg(TASKS_STREAM);
        pipe.cmd("XLEN").arg(DEAD_LETTER_STREAM);
        pipe.cmd("XINFO").arg("GROUPS").arg(TASKS_STREAM);
        pipe.cmd("XPENDING").arg(TASKS_STREAM).arg(WORKERS_GROUP);
        pipe.cmd("TIME");
        type Reply = (
            RedisResult<u64>,
            RedisResult<u64>,
            RedisResult<StreamInfoGroupsReply>,
            RedisResult<StreamPendingReply>,
            RedisResult<(u64, u64)>,
        );
        let (length, dead_letters, groups, summary, time) = self.query_pipe::<Reply>(&pipe).await?;
        let (length, dead_letters) = (length?, dead_letters?);
        let without_group = QueueStats { length, dead_letters, ..QueueStats::default() };
        let groups = match groups {
            Ok(groups) => groups.groups,
            // No stream (`ERR no such key`), so no group.
            Err(_) if length == 0 => return Ok(without_group),
            Err(e) => return Err(e.into()),
        };
        let Some(group) = groups.into_iter().find(|g| g.name == WORKERS_GROUP) else {
            return Ok(without_group);
        };
        let pending = group.pending as u64;
        let oldest_pending_age = match summary? {
            StreamPendingReply::Data(data) => {
                let (secs, micros) = time?;
                let now_ms = secs.saturating_mul(1000).saturating_add(micros / 1000);
                entry_ms(&data.start_id)
                    .map_or(Duration::ZERO, |added| Duration::from_millis(now_ms.saturating_sub(added)))
            }
            // Nothing pending (`Empty`).
            _ => Duration::ZERO,
        };
        Ok(QueueStats {
            length,
            lag: group.lag.map_or_else(|| length.saturating_sub(pending), |lag| lag as u64),
            pending,
            consumers: group.consumers as u64,
            dead_letters,
            oldest_pending_age,
        })
    }

    async fn ping(&self) -> Result<(), BrokerError> {
        self.query::<()>(&::redis::cmd("PING")).await
    }
}
