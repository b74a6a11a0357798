//! The two control loops of a cluster, on the simulated clock: KEDA's scale loop every
//! `pollingInterval` and the HPA's reconciliation every sync period, each reading the real
//! stream through the scaler (KEDA's metrics server queries the triggers afresh for every
//! HPA request) and writing the Deployment's replicas, which the pods then follow.
//!
//! Before each step the stream's real content is read with the project's own queue stats
//! (`RedisQueue::stats`), independently of the scaler, so the test can compare what KEDA
//! decided with what was there.

use std::time::Duration;

use tanksim_broker::{RedisQueue, TaskQueue};
use tokio::sync::watch;
use tokio::time::Instant;

use super::model::{Hpa, Keda, Reading, Spec, is_active};
use super::pods::Pods;
use super::scaler::Scaler;
use super::timeline::{Decision, Row, Timeline};

/// KEDA and the HPA of one ScaledObject.
#[derive(Debug)]
pub(crate) struct Controller<'a> {
    spec: Spec,
    keda: Keda,
    hpa: Hpa,
    /// The Deployment's `spec.replicas`.
    replicas: i32,
    scaler: Scaler,
    queue: RedisQueue,
    wanted: watch::Sender<i32>,
    pods: &'a Pods<'a>,
    timeline: &'a Timeline,
    /// When the ScaledObject was created (time 0 of the model).
    start: Instant,
}

impl<'a> Controller<'a> {
    /// Starts from a Deployment at 0 replicas, never active yet.
    pub(crate) fn new(
        spec: Spec,
        scaler: Scaler,
        queue: RedisQueue,
        wanted: watch::Sender<i32>,
        pods: &'a Pods<'a>,
        timeline: &'a Timeline,
        start: Instant,
    ) -> Controller<'a> {
        Controller {
            spec,
            keda: Keda::default(),
            hpa: Hpa::default(),
            replicas: 0,
            scaler,
            queue,
            wanted,
            pods,
            timeline,
            start,
        }
    }

    /// Runs both loops forever (the caller drops this future when done).
    pub(crate) async fn run(&mut self) {
        let mut next_poll = Duration::ZERO;
        // In a cluster the HPA's resync and KEDA's loop have unrelated phases; a third of a
        // sync period apart keeps the two from taking turns at the same instant.
        let mut next_sync = self.spec.hpa_sync / 3;
        loop {
            let keda_turn = next_poll <= next_sync;
            tokio::time::sleep_until(self.start + if keda_turn { next_poll } else { next_sync }).await;
            let stats = self.queue.stats().await.expect("the stream's stats");
            let pods = self.pods.count();
            let reads = self.scaler.read_all(&self.spec.triggers).await;
            let readings: Vec<Reading> = reads.iter().map(|r| r.reading.clone()).collect();
            let now = self.start.elapsed();
            let before = self.replicas;
            let decision = if keda_turn {
                next_poll += self.spec.polling;
                let active = self.spec.triggers.iter().zip(&readings).any(|(t, r)| is_active(t, r));
                let action = self.keda.poll(&self.spec, now, &readings, &mut self.replicas);
                Decision::Keda { action, active }
            } else {
                next_sync += self.spec.hpa_sync;
                Decision::Hpa(self.hpa.sync(&self.spec, now, &readings, &mut self.replicas, pods))
            };
            self.timeline.push(Row {
                at: now,
                reads,
                queued: stats.length.saturating_sub(stats.pending),
                pending: stats.pending,
                decision,
                before,
                replicas: self.replicas,
                pods,
            });
            // The pods follow; nobody listening any more only means the run is over.
            let _ = self.wanted.send(self.replicas);
        }
    }
}
