//! The task queue: a Redis Stream consumed by a consumer group of workers.
//!
//! Delivery is at-least-once. A worker reads new entries ([`TaskQueue::read_new`]), and on
//! start first re-reads its own pending ones ([`TaskQueue::read_own_pending`]); entries a dead
//! worker left pending longer than the visibility timeout are claimed by the others
//! ([`TaskQueue::claim_idle`]). An entry is removed when acknowledged ([`TaskQueue::ack`]:
//! `XACK` + `XDEL`), so the stream holds only unfinished work and never needs trimming that
//! could drop unacknowledged entries. An entry delivered too often goes to the dead-letter
//! stream ([`TaskQueue::dead_letter`]).

mod memory;
mod redis;

use std::future::Future;
use std::time::Duration;

pub use memory::MemoryQueue;
pub use redis::RedisQueue;

use crate::BrokerError;

/// One chunk of a job: runs `[run_start, run_end)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub job_id: String,
    pub chunk: u32,
    pub run_start: u64,
    pub run_end: u64,
    /// W3C trace context of the dispatching span (`traceparent`, `tracestate`), so each
    /// chunk's span joins the job's trace.
    pub trace_context: Vec<(String, String)>,
}

/// A task as delivered to one consumer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The stream entry id (what [`TaskQueue::ack`] takes).
    pub entry_id: String,
    pub task: Task,
    /// How many times the entry has been delivered, this delivery included (>= 1).
    pub deliveries: u64,
}

/// The numbers KEDA scales on and dashboards show (the dispatcher exports them as the
/// `tanksim_queue_*` gauges). A missing stream or group counts as empty: zeros.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueStats {
    /// Entries in the task stream (not yet acknowledged, since acknowledged entries are deleted).
    pub length: u64,
    /// Entries never delivered to the workers' group (the group's `lag`).
    pub lag: u64,
    /// Entries delivered to a consumer and not acknowledged.
    pub pending: u64,
    /// Consumers (worker names) the group knows, including ones that have gone away.
    pub consumers: u64,
    /// Entries in the dead-letter stream.
    pub dead_letters: u64,
    /// How long ago the oldest pending entry was added to the stream (zero when nothing is
    /// pending). Claims do not reset it, so a growing age means work stranded or retried.
    pub oldest_pending_age: Duration,
}

/// A dead-lettered task, as the dead-letter stream keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub task: Task,
    pub deliveries: u64,
    pub reason: String,
}

/// The task queue. Cheap to clone (clones share the connection or the memory).
pub trait TaskQueue: Clone + Send + Sync + 'static {
    /// Creates the stream and the consumer group if missing (idempotent).
    fn ensure_group(&self) -> impl Future<Output = Result<(), BrokerError>> + Send;

    /// Appends tasks in order, pipelined (one round trip for the batch).
    fn enqueue(&self, tasks: &[Task]) -> impl Future<Output = Result<(), BrokerError>> + Send;

    /// Up to `max` never-delivered entries for `consumer`, waiting up to `block` for the
    /// first. Recreates the group if it vanished (Redis restarted without persistence).
    fn read_new(
        &self,
        consumer: &str,
        max: usize,
        block: Duration,
    ) -> impl Future<Output = Result<Vec<Delivery>, BrokerError>> + Send;

    /// Up to `max` entries delivered to `consumer` and not acknowledged (after a restart).
    fn read_own_pending(
        &self,
        consumer: &str,
        max: usize,
    ) -> impl Future<Output = Result<Vec<Delivery>, BrokerError>> + Send;

    /// Claims for `consumer` up to `max` entries pending on any consumer for longer than
    /// `min_idle` (`XAUTOCLAIM`); their delivery counts go up by one.
    fn claim_idle(
        &self,
        consumer: &str,
        min_idle: Duration,
        max: usize,
    ) -> impl Future<Output = Result<Vec<Delivery>, BrokerError>> + Send;

    /// Acknowledges and deletes entries (atomically per call). Unknown ids are ignored.
    fn ack(&self, entry_ids: &[String]) -> impl Future<Output = Result<(), BrokerError>> + Send;

    /// Puts a delivered task back at the end of the stream for another consumer and removes
    /// this delivery, atomically (a worker shutting down hands back its unfinished chunk).
    fn hand_back(&self, delivery: &Delivery) -> impl Future<Output = Result<(), BrokerError>> + Send;

    /// Moves a delivered task to the dead-letter stream with `reason`, atomically with its
    /// acknowledgement and deletion.
    fn dead_letter(
        &self,
        delivery: &Delivery,
        reason: &str,
    ) -> impl Future<Output = Result<(), BrokerError>> + Send;

    /// Up to `max` dead letters, oldest first.
    fn dead_letters(&self, max: usize) -> impl Future<Output = Result<Vec<DeadLetter>, BrokerError>> + Send;

    /// Length, lag, pending, consumers, dead letters, age of the oldest pending entry.
    fn stats(&self) -> impl Future<Output = Result<QueueStats, BrokerError>> + Send;

    /// Whether the backend answers (health checks).
    fn ping(&self) -> impl Future<Output = Result<(), BrokerError>> + Send;
}
