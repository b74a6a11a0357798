//! One delivered chunk, start to finish: checks before any work (delivered too often, job
//! already ended, spec unusable), the simulation on the blocking pool, the report to results
//! and, only after results confirmed it, the acknowledgement.
//!
//! Each way out leaves the entry in a definite state: acknowledged (reported, or its job had
//! ended), dead-lettered (after the failure was reported, so the job ends FAILED), handed back
//! (a fresh entry: results was unreachable for too long, or shutdown), or left pending (Redis
//! unreachable, or an unexpected refusal; retried after the visibility timeout, counting as a
//! failed delivery).

mod compute;
mod plan;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use prost::Message;
use tanksim_broker::{Delivery, JobStore, TaskQueue};
use tanksim_proto::internal::v1::results_service_client::ResultsServiceClient;
use tanksim_proto::internal::v1::{ReportChunkFailureRequest, ReportChunkRequest};
use tokio::time::Instant;
use tonic::transport::Channel;

pub(crate) use compute::{ChunkOutput, compute};
pub(crate) use plan::{JobPlan, PlanCache};

use crate::WorkerSettings;
use crate::report::{MAX_MESSAGE_BYTES, Refused, with_retries};

/// What every step needs; cheap to clone (into the task that reports a chunk).
#[derive(Clone)]
pub(crate) struct Ctx<Q, S> {
    pub(crate) queue: Q,
    pub(crate) store: S,
    pub(crate) results: ResultsServiceClient<Channel>,
    pub(crate) settings: Arc<WorkerSettings>,
}

/// A chunk that passed the checks and is to be simulated.
#[derive(Debug)]
pub(crate) struct Work {
    pub(crate) delivery: Delivery,
    plan: Arc<JobPlan>,
    /// When this worker received the entry: its idle time in the group counts from about here.
    received: Instant,
}

impl<Q: TaskQueue, S: JobStore> Ctx<Q, S> {
    /// The checks before any work. `None` when the delivery was dealt with (acknowledged,
    /// dead-lettered or left pending).
    pub(crate) async fn prepare(&self, plans: &mut PlanCache, delivery: Delivery) -> Option<Work> {
        let received = Instant::now();
        let (task, max) = (&delivery.task, self.settings.max_deliveries);
        let status = match self.store.job(&task.job_id).await {
            Ok(Some(status)) => status,
            Ok(None) => {
                // No job to fail: keep the entry where people look, and out of the stream.
                self.dead_letter(&delivery, &format!("job {} is unknown to the store", task.job_id)).await;
                return None;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the job's state; the chunk stays pending");
                return None;
            }
        };
        if status.state.is_terminal() {
            tracing::info!(state = ?status.state, "the job has ended; acknowledging its chunk without work");
            self.ack(&delivery).await;
            return None;
        }
        // Before anything that could kill this worker too.
        if delivery.deliveries > max {
            let reason = format!(
                "chunk {} of job {} was delivered {} times without completing (max {max}): the worker processing it died or failed each time",
                task.chunk, task.job_id, delivery.deliveries
            );
            self.fail(&delivery, &reason).await;
            return None;
        }
        let plan = match self.plan(plans, &task.job_id).await {
            Ok(Some(plan)) => plan,
            Ok(None) => return None,
            Err(reason) => {
                self.fail(&delivery, &format!("chunk {} of job {}: {reason}", task.chunk, task.job_id)).await;
                return None;
            }
        };
        let runs = plan.spec.runs();
        if task.run_start >= task.run_end || task.run_end > runs {
            let reason = format!(
                "chunk {} of job {} covers runs {}..{}, not a non-empty part of the job's {runs} runs",
                task.chunk, task.job_id, task.run_start, task.run_end
            );
            self.fail(&delivery, &reason).await;
            return None;
        }
        if self.settings.fault_abort_on_chunk == Some(task.chunk) {
            tracing::error!("fault hook: aborting the process on this chunk");
            std::process::abort();
        }
        Some(Work { delivery, plan, received })
    }

    /// The job's plan, from the cache or the store. `Ok(None)`: the store is unreachable (the
    /// chunk stays pending); `Err`: the spec is missing or unusable (the reason).
    async fn plan(&self, plans: &mut PlanCache, job_id: &str) -> Result<Option<Arc<JobPlan>>, String> {
        if let Some(plan) = plans.get(job_id) {
            return Ok(Some(plan));
        }
        let bytes = match self.store.spec(job_id).await {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Err("the job has no stored spec".to_owned()),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the job's spec; the chunk stays pending");
                return Ok(None);
            }
        };
        let plan = Arc::new(JobPlan::decode(&bytes)?);
        plans.insert(job_id, Arc::clone(&plan));
        Ok(Some(plan))
    }

    /// Simulates the chunk on the blocking pool. `Ok(None)` if `cancel` stopped it; `Err`
    /// with the panic message if the simulation panicked (a bug).
    pub(crate) async fn simulate(
        &self,
        work: &Work,
        cancel: Arc<AtomicBool>,
    ) -> Result<Option<ChunkOutput>, String> {
        let (plan, threads) = (Arc::clone(&work.plan), self.settings.threads);
        let runs = work.delivery.task.run_start..work.delivery.task.run_end;
        let started = Instant::now();
        let output =
            tokio::task::spawn_blocking(move || compute(&plan.spec, runs, plan.rows, threads, &cancel))
                .await
                .map_err(|e| match e.try_into_panic() {
                    Ok(panic) => panic_message(panic.as_ref()),
                    Err(e) => e.to_string(),
                })?;
        let elapsed = started.elapsed();
        if elapsed > self.settings.visibility_timeout / 2 {
            tracing::warn!(
                elapsed_ms = elapsed.as_millis(),
                "simulating the chunk took over half the visibility timeout: other workers may claim chunks \
                 still in progress; use smaller chunks or a longer visibility timeout"
            );
        }
        Ok(output)
    }

    /// Reports a simulated chunk and acknowledges it once results confirmed.
    pub(crate) async fn settle(self, work: Work, output: ChunkOutput) {
        let (delivery, task) = (&work.delivery, &work.delivery.task);
        let runs = output.summary.runs();
        let request = ReportChunkRequest {
            job_id: task.job_id.clone(),
            chunk: task.chunk,
            run_start: task.run_start,
            run_end: task.run_end,
            summary: Some((&output.summary).into()),
            rows: output.rows,
            worker: self.settings.name.clone(),
        };
        let size = request.encoded_len();
        if size > MAX_MESSAGE_BYTES {
            let reason = format!(
                "chunk {} of job {}: its report is {size} bytes, over the {MAX_MESSAGE_BYTES}-byte limit; \
                 use smaller chunks or keep fewer trajectory samples (record_every)",
                task.chunk, task.job_id
            );
            self.fail(delivery, &reason).await;
            return;
        }
        let deadline = self.retry_deadline(work.received);
        let reported = with_retries(deadline, "reporting the chunk", || {
            let (mut client, request) = (self.results.clone(), request.clone());
            async move { client.report_chunk(request).await }
        })
        .await;
        match reported {
            Ok(response) => {
                let recorded = response.into_inner().recorded;
                tracing::info!(runs, bytes = size, recorded, "chunk reported");
                self.ack(delivery).await;
            }
            Err(Refused::Transient(status)) => {
                // A fresh entry: a results outage must not count toward the dead-letter limit.
                tracing::warn!(
                    message = status.message(),
                    "results unreachable for too long; handing the chunk back"
                );
                self.hand_back(delivery).await;
            }
            Err(Refused::Permanent(status)) => {
                let reason = format!(
                    "results refused chunk {} of job {}: {:?}: {}",
                    task.chunk,
                    task.job_id,
                    status.code(),
                    status.message()
                );
                self.fail(delivery, &reason).await;
            }
            Err(Refused::Other(status)) => tracing::error!(
                code = ?status.code(),
                message = status.message(),
                "results failed the report; the chunk stays pending and is retried after the visibility timeout"
            ),
        }
    }

    /// Reports a chunk that failed for good, then dead-letters it. The failure is reported
    /// first: a dead-lettered chunk whose job never heard of it would leave the job hanging.
    pub(crate) async fn fail(&self, delivery: &Delivery, reason: &str) {
        tracing::error!(reason, "chunk failed for good; dead-lettering it and failing its job");
        let task = &delivery.task;
        let request = ReportChunkFailureRequest {
            job_id: task.job_id.clone(),
            chunk: task.chunk,
            reason: reason.to_owned(),
            deliveries: u32::try_from(delivery.deliveries).unwrap_or(u32::MAX),
        };
        let deadline = self.retry_deadline(Instant::now());
        let reported = with_retries(deadline, "reporting the failed chunk", || {
            let (mut client, request) = (self.results.clone(), request.clone());
            async move { client.report_chunk_failure(request).await }
        })
        .await;
        match reported {
            Ok(_) => {}
            Err(Refused::Permanent(status)) => {
                tracing::warn!(
                    message = status.message(),
                    "results refused the failure report; dead-lettering anyway"
                );
            }
            Err(refused) => {
                let status = refused.status();
                tracing::warn!(code = ?status.code(), message = status.message(), "cannot report the failure; the chunk stays pending");
                return;
            }
        }
        self.dead_letter(delivery, reason).await;
    }

    async fn dead_letter(&self, delivery: &Delivery, reason: &str) {
        match self.queue.dead_letter(delivery, reason).await {
            Ok(()) => tracing::warn!(reason, "chunk dead-lettered"),
            Err(e) => tracing::warn!(error = %e, "cannot dead-letter the chunk; it stays pending"),
        }
    }

    pub(crate) async fn ack(&self, delivery: &Delivery) {
        if let Err(e) = self.queue.ack(std::slice::from_ref(&delivery.entry_id)).await {
            // Redone later by whoever claims it; results counts a chunk once.
            tracing::warn!(error = %e, "cannot acknowledge the chunk; it stays pending");
        }
    }

    pub(crate) async fn hand_back(&self, delivery: &Delivery) {
        match self.queue.hand_back(delivery).await {
            Ok(()) => tracing::info!("chunk handed back"),
            Err(e) => tracing::warn!(error = %e, "cannot hand the chunk back; it stays pending"),
        }
    }

    /// Retries stop in time for the entry not to reach the visibility timeout while this
    /// worker still holds it (after that, another worker would claim it and redo it).
    fn retry_deadline(&self, received: Instant) -> Instant {
        received + self.settings.visibility_timeout * 3 / 4
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let text =
        panic.downcast_ref::<&str>().copied().or_else(|| panic.downcast_ref::<String>().map(String::as_str));
    format!("simulating the chunk panicked: {}", text.unwrap_or("(no message)"))
}
