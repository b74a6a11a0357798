//! One delivered chunk, start to finish: checks before any work (delivered too often, job
//! already ended, spec unusable), the simulation on the blocking pool, the report to results
//! and, only after results confirmed it, the acknowledgement.
//!
//! Each way out leaves the entry in a definite state: acknowledged (reported, or its job had
//! ended), dead-lettered (after the failure was reported, so the job ends FAILED), handed back
//! (a fresh entry: results was unreachable for too long, or shutdown), or left pending (Redis
//! unreachable, or an unexpected refusal; retried after the visibility timeout, counting as a
//! failed delivery).
//!
//! Runs in the chunk's span (see `consume`): `job.kind` is recorded on it once the job is
//! read, and the simulation gets a `simulate` span of its own.

mod compute;
mod plan;
mod settle;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use tanksim_broker::{Delivery, JobStore, TaskQueue};
use tanksim_sim_core::job::JobSpec;
use tanksim_sim_core::optimize::{Optimize, history_from_bytes};
use tokio::time::Instant;
use tracing::Instrument;

pub(crate) use compute::{ChunkOutput, compute};
pub(crate) use plan::{JobPlan, PlanCache};

use crate::WorkerSettings;
use crate::metrics::{self, Outcome};
use crate::report::ResultsClient;

/// What every step needs; cheap to clone (into the task that reports a chunk).
#[derive(Clone)]
pub(crate) struct Ctx<Q, S> {
    pub(crate) queue: Q,
    pub(crate) store: S,
    pub(crate) results: ResultsClient,
    pub(crate) settings: Arc<WorkerSettings>,
}

/// A chunk that passed the checks and is to be simulated.
#[derive(Debug)]
pub(crate) struct Work {
    pub(crate) delivery: Delivery,
    pub(crate) plan: Arc<JobPlan>,
    /// An optimisation's search history before the chunk's generation (its candidates
    /// depend on it); empty for other jobs.
    pub(crate) history: Vec<f64>,
    /// When this worker received the entry: its idle time in the group counts from about here.
    pub(crate) received: Instant,
}

impl Work {
    /// The job's kind (the `kind` label of the metrics).
    pub(crate) fn kind(&self) -> &'static str {
        self.plan.spec.kind_name()
    }
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
        let kind = status.kind.name();
        tracing::Span::current().record("job.kind", kind);
        if status.state.is_terminal() {
            tracing::info!(state = ?status.state, "the job has ended; acknowledging its chunk without work");
            self.ack(&delivery).await;
            metrics::chunk(Some(kind), Outcome::Skipped);
            return None;
        }
        // Before anything that could kill this worker too.
        if delivery.deliveries > max {
            let reason = format!(
                "chunk {} of job {} was delivered {} times without completing (max {max}): the worker processing it died or failed each time",
                task.chunk, task.job_id, delivery.deliveries
            );
            self.fail(&delivery, Some(kind), &reason).await;
            return None;
        }
        let plan = match self.plan(plans, &task.job_id).await {
            Ok(Some(plan)) => plan,
            Ok(None) => return None,
            Err(reason) => {
                let reason = format!("chunk {} of job {}: {reason}", task.chunk, task.job_id);
                self.fail(&delivery, Some(kind), &reason).await;
                return None;
            }
        };
        let runs = plan.spec.runs();
        if task.run_start >= task.run_end || task.run_end > runs {
            let reason = format!(
                "chunk {} of job {} covers runs {}..{}, not a non-empty part of the job's {runs} runs",
                task.chunk, task.job_id, task.run_start, task.run_end
            );
            self.fail(&delivery, Some(kind), &reason).await;
            return None;
        }
        let history = match &plan.spec {
            JobSpec::Optimize(opt) => match self.history(opt, &delivery).await {
                Ok(Some(history)) => history,
                Ok(None) => return None,
                Err(reason) => {
                    self.fail(&delivery, Some(kind), &reason).await;
                    return None;
                }
            },
            _ => Vec::new(),
        };
        if self.settings.fault_abort_on_chunk == Some(task.chunk) {
            tracing::error!("fault hook: aborting the process on this chunk");
            std::process::abort();
        }
        Some(Work { delivery, plan, history, received })
    }

    /// The history an optimisation's chunk needs: the objective values of the generations
    /// before its own, from the job's wave state (stored with the release of the chunk's
    /// generation, so never shorter than that). `Ok(None)`: the store is unreachable (the
    /// chunk stays pending); `Err`: the chunk or the state is inconsistent (the reason).
    async fn history(&self, opt: &Optimize, delivery: &Delivery) -> Result<Option<Vec<f64>>, String> {
        let task = &delivery.task;
        let per = opt.runs_per_generation().max(1);
        let generation = task.run_start / per;
        if task.run_end > (generation + 1) * per {
            return Err(format!(
                "chunk {} of job {} covers runs {}..{}, across the end of generation {generation} (runs {}..{})",
                task.chunk,
                task.job_id,
                task.run_start,
                task.run_end,
                generation * per,
                (generation + 1) * per
            ));
        }
        let bytes = match self.store.wave_state(&task.job_id).await {
            Ok(bytes) => bytes,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the job's wave state; the chunk stays pending");
                return Ok(None);
            }
        };
        let needed = usize::try_from(generation * u64::from(opt.population)).unwrap_or(usize::MAX);
        match history_from_bytes(&bytes) {
            Some(mut history) if history.len() >= needed => {
                history.truncate(needed);
                Ok(Some(history))
            }
            Some(history) => Err(format!(
                "chunk {} of job {} is in generation {generation}, but the job's search history holds {} values (generation {generation} needs {needed})",
                task.chunk,
                task.job_id,
                history.len()
            )),
            None => Err(format!(
                "the wave state of job {} is {} bytes, not a list of doubles",
                task.job_id,
                bytes.len()
            )),
        }
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

    /// Simulates the chunk on the blocking pool, in a `simulate` span. `Ok(None)` if
    /// `cancel` stopped it; `Err` with the panic message if the simulation panicked (a bug).
    pub(crate) async fn simulate(
        &self,
        work: &Work,
        cancel: Arc<AtomicBool>,
    ) -> Result<Option<ChunkOutput>, String> {
        let (plan, threads) = (Arc::clone(&work.plan), self.settings.threads);
        let runs = work.delivery.task.run_start..work.delivery.task.run_end;
        let count = runs.end - runs.start;
        // The threads of the blocking pool are outside any span: the span covers the wait
        // for them, which is the simulation's wall time.
        let span = tracing::info_span!("simulate", runs = count as i64, threads = threads as i64);
        let started = Instant::now();
        let history = work.history.clone();
        let output = tokio::task::spawn_blocking(move || {
            let mut output = match &plan.spec {
                // The chunk's generation: the search replayed from the generations before it.
                JobSpec::Optimize(opt) => compute(
                    &opt.replay(&history).runs(),
                    &plan.spec.summary(),
                    runs,
                    plan.rows,
                    threads,
                    &cancel,
                ),
                spec => compute(spec, &spec.summary(), runs, plan.rows, threads, &cancel),
            };
            // The report keeps fewer sketch values the more chunks the job has (sim-core's
            // `shrink_report`): small reports, the same bits from every worker.
            if let Some(output) = &mut output {
                plan.spec.shrink_report(&mut output.summary, count);
            }
            output
        })
        .instrument(span)
        .await
        .map_err(|e| match e.try_into_panic() {
            Ok(panic) => panic_message(panic.as_ref()),
            Err(e) => e.to_string(),
        })?;
        let elapsed = started.elapsed();
        if output.is_some() {
            metrics::simulated(work.kind(), count, elapsed);
        }
        if elapsed > self.settings.visibility_timeout / 2 {
            tracing::warn!(
                elapsed_ms = elapsed.as_millis(),
                "simulating the chunk took over half the visibility timeout: other workers may claim chunks \
                 still in progress; use smaller chunks or a longer visibility timeout"
            );
        }
        Ok(output)
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let text =
        panic.downcast_ref::<&str>().copied().or_else(|| panic.downcast_ref::<String>().map(String::as_str));
    format!("simulating the chunk panicked: {}", text.unwrap_or("(no message)"))
}
