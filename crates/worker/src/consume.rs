//! The consume loop: join the workers' group, first finish what this consumer left pending
//! (a restart under the same name), then read new chunks one at a time (so every worker shares
//! the backlog) and, every claim interval, claim chunks a dead worker left idle longer than the
//! visibility timeout.
//!
//! A chunk's report runs in its own task while the next chunk is read and simulated: the worker
//! holds at most two entries, one simulating and one reporting (a prefetch of one chunk).
//!
//! Shutdown: no new reads; an entry read meanwhile is handed back; the chunk in flight and the
//! report in flight get until the grace deadline, after which they are handed back.
//!
//! Each delivery is handled in a `chunk` span whose parent is the trace context carried in the
//! task entry (the dispatcher's `enqueue` span, in the job's trace): one span per delivery, so
//! a redelivered chunk shows as a second attempt under the same parent. Its report runs in it.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tanksim_broker::{Delivery, JobStore, TaskQueue};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::Instrument;
use tracing::field::Empty;

use crate::chunk::{Ctx, PlanCache};

/// Shutdown as the loop sees it: `None` until requested, then the deadline for work in flight.
pub(crate) type Stop = watch::Receiver<Option<Instant>>;

/// Own pending entries re-read per call at start.
const PENDING_BATCH: usize = 16;
/// Jobs whose plans are kept (a few dozen jobs run at once at most; a plan is small).
const PLAN_CACHE: usize = 64;
/// Pause after a failed queue read, doubled up to the maximum while Redis stays down.
const FIRST_PAUSE: Duration = Duration::from_millis(100);
const MAX_PAUSE: Duration = Duration::from_secs(5);

/// Consumes until `stop` is set, then drains within the deadline it carries.
pub(crate) async fn consume<Q: TaskQueue, S: JobStore>(ctx: Ctx<Q, S>, stop: Stop) {
    let mut consumer = Consumer {
        ctx,
        stop,
        plans: PlanCache::new(PLAN_CACHE),
        cancel: Arc::new(AtomicBool::new(false)),
        in_flight: None,
        pause: FIRST_PAUSE,
    };
    tracing::info!(consumer = %consumer.ctx.settings.name, "worker consuming");
    if consumer.ensure_group().await {
        consumer.own_pending().await;
        consumer.new_and_claimed().await;
    }
    consumer.drain().await;
    tracing::info!("worker stopped consuming");
}

struct Consumer<Q, S> {
    ctx: Ctx<Q, S>,
    stop: Stop,
    plans: PlanCache,
    /// Raised when the grace deadline passes, so simulation threads stop early.
    cancel: Arc<AtomicBool>,
    /// The report task of the previous chunk, with its delivery (to hand back if it must be
    /// abandoned at shutdown).
    in_flight: Option<(Delivery, JoinHandle<()>)>,
    pause: Duration,
}

impl<Q: TaskQueue, S: JobStore> Consumer<Q, S> {
    fn stopping(&self) -> bool {
        self.stop.borrow().is_some()
    }

    /// After a queue error: waits (growing while errors repeat) unless shutdown comes first.
    async fn pause_after(&mut self, error: &tanksim_broker::BrokerError, what: &str) {
        tracing::warn!(error = %error, retry_in_ms = self.pause.as_millis(), "{what} failed");
        let mut stop = self.stop.clone();
        tokio::select! {
            () = tokio::time::sleep(self.pause) => {}
            _ = stop.wait_for(Option::is_some) => {}
        }
        self.pause = (self.pause * 2).min(MAX_PAUSE);
    }

    /// Creates the group if needed, retrying while Redis is down. False if shut down first.
    async fn ensure_group(&mut self) -> bool {
        while !self.stopping() {
            match self.ctx.queue.ensure_group().await {
                Ok(()) => {
                    self.pause = FIRST_PAUSE;
                    return true;
                }
                Err(e) => self.pause_after(&e, "creating the consumer group").await,
            }
        }
        false
    }

    /// Processes the entries this consumer name holds from a previous run, oldest first.
    async fn own_pending(&mut self) {
        let mut seen = HashSet::new();
        while !self.stopping() {
            // Re-reading counts as a delivery: let the last report finish first, so an entry
            // being acknowledged right now is not counted (or re-read) once more.
            let stop = self.stop.clone();
            tokio::select! {
                () = self.wait_in_flight() => {}
                () = grace_over(stop) => return,
            }
            let batch = match self.ctx.queue.read_own_pending(&self.ctx.settings.name, PENDING_BATCH).await {
                Ok(batch) => batch,
                Err(e) => {
                    self.pause_after(&e, "reading own pending chunks").await;
                    continue;
                }
            };
            // Entries left pending after their turn (for a retry after the visibility timeout)
            // come back in the next batch: done when only those remain.
            let fresh: Vec<Delivery> =
                batch.into_iter().filter(|d| seen.insert(d.entry_id.clone())).collect();
            if fresh.is_empty() {
                return;
            }
            tracing::info!(count = fresh.len(), "resuming chunks left pending by this worker's previous run");
            for delivery in fresh {
                self.handle(delivery).await;
            }
        }
    }

    /// New entries one at a time, and idle entries claimed every claim interval.
    async fn new_and_claimed(&mut self) {
        let settings = Arc::clone(&self.ctx.settings);
        let mut next_claim = Instant::now();
        while !self.stopping() {
            let claiming = Instant::now() >= next_claim;
            let read = if claiming {
                self.ctx.queue.claim_idle(&settings.name, settings.visibility_timeout, 1).await
            } else {
                self.ctx.queue.read_new(&settings.name, 1, settings.block).await
            };
            let deliveries = match read {
                Ok(deliveries) => deliveries,
                Err(e) => {
                    self.pause_after(
                        &e,
                        if claiming { "claiming idle chunks" } else { "reading new chunks" },
                    )
                    .await;
                    continue;
                }
            };
            self.pause = FIRST_PAUSE;
            if claiming {
                // Claim again at once after a success: a dead worker may have left several.
                if deliveries.is_empty() {
                    next_claim = Instant::now() + settings.claim_interval;
                }
                for d in &deliveries {
                    tracing::info!(job_id = %d.task.job_id, chunk = d.task.chunk, deliveries = d.deliveries, "claimed an idle chunk");
                }
            }
            for delivery in deliveries {
                self.handle(delivery).await;
            }
        }
    }

    /// The kind of job `job_id`, if its plan is at hand (for counting a chunk handed back
    /// before or while it was processed).
    fn kind(&mut self, job_id: &str) -> Option<&'static str> {
        self.plans.get(job_id).map(|plan| plan.spec.kind_name())
    }

    /// One delivery, in its span, bounded by the grace deadline once shutdown is requested.
    async fn handle(&mut self, delivery: Delivery) {
        let task = &delivery.task;
        let span = tracing::info_span!(
            "chunk",
            job.id = %task.job_id,
            job.kind = Empty,
            chunk.index = i64::from(task.chunk),
            chunk.runs = task.run_end.saturating_sub(task.run_start) as i64,
            chunk.delivery_attempt = delivery.deliveries as i64,
            entry = %delivery.entry_id,
        );
        // Before anything enters the span or logs in it (that starts it, with the parent it
        // has then).
        tanksim_telemetry::propagation::set_parent(&span, &task.trace_context);
        async {
            if self.stopping() {
                let kind = self.kind(&delivery.task.job_id);
                self.ctx.hand_back(&delivery, kind).await;
                return;
            }
            let stop = self.stop.clone();
            let finished = tokio::select! {
                () = self.process(delivery.clone()) => true,
                () = grace_over(stop) => false,
            };
            if !finished {
                self.cancel.store(true, Ordering::Relaxed);
                tracing::warn!("shutdown grace period over before the chunk finished; handing it back");
                let kind = self.kind(&delivery.task.job_id);
                self.ctx.hand_back(&delivery, kind).await;
            }
        }
        .instrument(span)
        .await;
    }

    /// Checks, simulates, and starts the report (after the previous one completed).
    async fn process(&mut self, delivery: Delivery) {
        // A redelivered chunk may be what killed a worker: settle the previous chunk's report
        // first, so a crash on this one cannot take an innocent chunk's delivery count along.
        if delivery.deliveries > 1 {
            self.wait_in_flight().await;
        }
        let Some(work) = self.ctx.prepare(&mut self.plans, delivery).await else { return };
        match self.ctx.simulate(&work, Arc::clone(&self.cancel)).await {
            Ok(Some(output)) => {
                self.wait_in_flight().await;
                let delivery = work.delivery.clone();
                let settle = self.ctx.clone().settle(work, output).in_current_span();
                self.in_flight = Some((delivery, tokio::spawn(settle)));
            }
            // Cancelled: only once the grace deadline has passed.
            Ok(None) => self.ctx.hand_back(&work.delivery, Some(work.kind())).await,
            Err(reason) => {
                let task = &work.delivery.task;
                let reason = format!("chunk {} of job {}: {reason}", task.chunk, task.job_id);
                self.ctx.fail(&work.delivery, Some(work.kind()), &reason).await;
            }
        }
    }

    /// Waits for the previous chunk's report. Cancel-safe: the task stays recorded until it
    /// has completed.
    async fn wait_in_flight(&mut self) {
        if let Some((_, handle)) = &mut self.in_flight {
            if let Err(e) = handle.await {
                tracing::error!(error = %e, "the report task failed");
            }
            self.in_flight = None;
        }
    }

    /// At shutdown: lets the last report finish until the deadline, else hands its chunk back.
    async fn drain(&mut self) {
        let Some((delivery, mut handle)) = self.in_flight.take() else { return };
        let deadline = self.stop.borrow().unwrap_or_else(Instant::now);
        if tokio::time::timeout_at(deadline, &mut handle).await.is_ok() {
            return;
        }
        handle.abort();
        // It may have completed between the timeout and the abort: then nothing is owed.
        if handle.await.is_err() {
            tracing::warn!(job_id = %delivery.task.job_id, chunk = delivery.task.chunk, "shutdown grace period over before the chunk's report; handing it back");
            let kind = self.kind(&delivery.task.job_id);
            self.ctx.hand_back(&delivery, kind).await;
        }
    }
}

/// Resolves when the grace deadline after a shutdown request has passed (never if the
/// sender is gone without a request).
async fn grace_over(mut stop: Stop) {
    match stop.wait_for(Option::is_some).await.map(|deadline| *deadline) {
        Ok(deadline) => tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now)).await,
        Err(_) => std::future::pending().await,
    }
}
