//! [`TaskQueue`] in memory, with the Redis backend's semantics (the embedded single-process mode
//! and tests): entries with increasing ids and the time they were added, one consumer group
//! with a last-delivered id, the consumers it has seen and a pending list (owner, delivery
//! count, last delivery time), blocking reads that wake when tasks are appended.
//!
//! Times are [`tokio::time::Instant`]s, so tests with paused time control idleness.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use super::{DeadLetter, Delivery, QueueStats, Task, TaskQueue};
use crate::BrokerError;

/// The in-memory task queue. Clones share the queue.
#[derive(Debug, Clone, Default)]
pub struct MemoryQueue {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    /// Woken whenever entries are appended (blocked readers re-check).
    appended: Notify,
}

#[derive(Debug, Default)]
struct State {
    /// The last entry sequence number handed out; ids are `{seq}-0`.
    last_seq: u64,
    /// The stream: unacknowledged entries by sequence number.
    entries: BTreeMap<u64, Entry>,
    /// `None` until created, like a Redis consumer group.
    group: Option<Group>,
    dead: Vec<DeadLetter>,
}

#[derive(Debug)]
struct Entry {
    task: Task,
    /// When it was appended (what a Redis entry id's millisecond part says).
    added_at: Instant,
}

#[derive(Debug, Default)]
struct Group {
    last_delivered: u64,
    pending: BTreeMap<u64, Pending>,
    /// Every consumer that read from the group (Redis keeps them until deleted by hand).
    consumers: BTreeSet<String>,
}

#[derive(Debug)]
struct Pending {
    consumer: String,
    deliveries: u64,
    delivered_at: Instant,
}

fn entry_id(seq: u64) -> String {
    format!("{seq}-0")
}

/// The sequence number of one of our ids; anything else is unknown.
fn seq(entry_id: &str) -> Option<u64> {
    entry_id.strip_suffix("-0")?.parse().ok()
}

impl MemoryQueue {
    /// An empty queue (no stream, no group: as a fresh Redis).
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // No critical section can panic half-way, so the state is consistent even if a holder
        // panicked.
        self.shared.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    fn group(&mut self) -> &mut Group {
        self.group.get_or_insert_with(Group::default)
    }

    fn append(&mut self, task: Task) {
        self.last_seq += 1;
        self.entries.insert(self.last_seq, Entry { task, added_at: Instant::now() });
    }

    /// Up to `max` never-delivered entries, now pending on `consumer`.
    fn deliver_new(&mut self, consumer: &str, max: usize, now: Instant) -> Vec<Delivery> {
        let State { entries, group, .. } = self;
        let group = group.get_or_insert_with(Group::default);
        group.consumers.insert(consumer.to_owned());
        let fresh: Vec<(u64, Task)> = entries
            .range(group.last_delivered + 1..)
            .take(max)
            .map(|(&seq, entry)| (seq, entry.task.clone()))
            .collect();
        fresh
            .into_iter()
            .map(|(seq, task)| {
                group.last_delivered = seq;
                let owner = Pending { consumer: consumer.to_owned(), deliveries: 1, delivered_at: now };
                group.pending.insert(seq, owner);
                Delivery { entry_id: entry_id(seq), task, deliveries: 1 }
            })
            .collect()
    }

    /// Settles the delivery if it is still the entry's latest (see the Redis backend): removes
    /// the entry and returns its task.
    fn settle(&mut self, delivery: &Delivery) -> Option<Task> {
        let seq = seq(&delivery.entry_id)?;
        let group = self.group.as_mut()?;
        if group.pending.get(&seq)?.deliveries != delivery.deliveries {
            return None;
        }
        group.pending.remove(&seq);
        self.entries.remove(&seq).map(|entry| entry.task)
    }
}

impl TaskQueue for MemoryQueue {
    async fn ensure_group(&self) -> Result<(), BrokerError> {
        self.state().group();
        Ok(())
    }

    async fn enqueue(&self, tasks: &[Task]) -> Result<(), BrokerError> {
        let mut state = self.state();
        for task in tasks {
            state.append(task.clone());
        }
        drop(state);
        self.shared.appended.notify_waiters();
        Ok(())
    }

    async fn read_new(
        &self,
        consumer: &str,
        max: usize,
        block: Duration,
    ) -> Result<Vec<Delivery>, BrokerError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let deadline = Instant::now() + block;
        loop {
            // Registered before looking, so an append between the look and the wait wakes us.
            let appended = self.shared.appended.notified();
            tokio::pin!(appended);
            appended.as_mut().enable();
            let delivered = self.state().deliver_new(consumer, max, Instant::now());
            if !delivered.is_empty() || block.is_zero() {
                return Ok(delivered);
            }
            if tokio::time::timeout_at(deadline, appended).await.is_err() {
                return Ok(Vec::new());
            }
        }
    }

    /// Counts the re-read as a delivery, as Redis does.
    async fn read_own_pending(&self, consumer: &str, max: usize) -> Result<Vec<Delivery>, BrokerError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let now = Instant::now();
        let mut state = self.state();
        let State { entries, group, .. } = &mut *state;
        let group = group.get_or_insert_with(Group::default);
        group.consumers.insert(consumer.to_owned());
        let own = group.pending.iter_mut().filter(|(_, p)| p.consumer == consumer).take(max);
        Ok(own
            .filter_map(|(&seq, pending)| {
                let task = entries.get(&seq)?.task.clone();
                pending.deliveries += 1;
                pending.delivered_at = now;
                Some(Delivery { entry_id: entry_id(seq), task, deliveries: pending.deliveries })
            })
            .collect())
    }

    async fn claim_idle(
        &self,
        consumer: &str,
        min_idle: Duration,
        max: usize,
    ) -> Result<Vec<Delivery>, BrokerError> {
        let now = Instant::now();
        let mut state = self.state();
        let State { entries, group, .. } = &mut *state;
        let group = group.get_or_insert_with(Group::default);
        let idle = group.pending.iter_mut().filter(|(_, p)| now.duration_since(p.delivered_at) >= min_idle);
        let claimed: Vec<Delivery> = idle
            .take(max)
            .filter_map(|(&seq, pending)| {
                let task = entries.get(&seq)?.task.clone();
                *pending = Pending {
                    consumer: consumer.to_owned(),
                    deliveries: pending.deliveries + 1,
                    delivered_at: now,
                };
                Some(Delivery { entry_id: entry_id(seq), task, deliveries: pending.deliveries })
            })
            .collect();
        // Like Redis 7.2+: a claim that takes nothing does not create the consumer.
        if !claimed.is_empty() {
            group.consumers.insert(consumer.to_owned());
        }
        Ok(claimed)
    }

    async fn ack(&self, entry_ids: &[String]) -> Result<(), BrokerError> {
        let mut state = self.state();
        for seq in entry_ids.iter().filter_map(|id| seq(id)) {
            state.entries.remove(&seq);
            if let Some(group) = state.group.as_mut() {
                group.pending.remove(&seq);
            }
        }
        Ok(())
    }

    async fn hand_back(&self, delivery: &Delivery) -> Result<(), BrokerError> {
        let mut state = self.state();
        if state.settle(delivery).is_some() {
            state.append(delivery.task.clone());
            drop(state);
            self.shared.appended.notify_waiters();
        }
        Ok(())
    }

    async fn dead_letter(&self, delivery: &Delivery, reason: &str) -> Result<(), BrokerError> {
        let mut state = self.state();
        if state.settle(delivery).is_some() {
            let dead = DeadLetter {
                task: delivery.task.clone(),
                deliveries: delivery.deliveries,
                reason: reason.to_owned(),
            };
            state.dead.push(dead);
        }
        Ok(())
    }

    async fn dead_letters(&self, max: usize) -> Result<Vec<DeadLetter>, BrokerError> {
        Ok(self.state().dead.iter().take(max).cloned().collect())
    }

    async fn stats(&self) -> Result<QueueStats, BrokerError> {
        let now = Instant::now();
        let state = self.state();
        let length = state.entries.len() as u64;
        let dead_letters = state.dead.len() as u64;
        let Some(group) = &state.group else {
            return Ok(QueueStats { length, dead_letters, ..QueueStats::default() });
        };
        // The smallest pending sequence number is the oldest pending entry, as in Redis.
        let oldest = group.pending.keys().find_map(|seq| state.entries.get(seq));
        Ok(QueueStats {
            length,
            lag: state.entries.range(group.last_delivered + 1..).count() as u64,
            pending: group.pending.len() as u64,
            consumers: group.consumers.len() as u64,
            dead_letters,
            oldest_pending_age: oldest.map_or(Duration::ZERO, |e| now.duration_since(e.added_at)),
        })
    }

    async fn ping(&self) -> Result<(), BrokerError> {
        Ok(())
    }
}
