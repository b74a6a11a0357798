//! `tanksim.internal.v1.DispatcherService`: records a job, within its tenant's quota, and
//! answers at once; its chunks are put on the stream by the scheduler ([`crate::scheduler`]). A job over
//! the quota is refused with RESOURCE_EXHAUSTED and a retry hint, and nothing is recorded.
//!
//! Each call runs in its own span inside the gRPC server span: `dispatch_job` (whose context is
//! stored with the job as "the job context", the parent of its `enqueue` spans) and
//! `cancel_job`.

use std::sync::Arc;

use prost::Message;
use tanksim_broker::{BrokerError, JobStore, NewJob, TaskQueue};
use tanksim_proto::MAX_CHUNK_REPORT_BYTES;
use tanksim_proto::internal::v1::dispatcher_service_server::DispatcherService;
use tanksim_proto::internal::v1::{
    CancelJobRequest, CancelJobResponse, DispatchJobRequest, DispatchJobResponse,
};
use tanksim_server::job::{job_to_proto, now_ms};
use tanksim_sim_core::ChunkLayout;
use tanksim_sim_core::adaptive::chunk_size_within;
use tanksim_sim_core::job::JobSpec;
use tanksim_sim_core::validate::row_bytes;
use tanksim_telemetry::propagation;
use tokio::sync::watch;
use tonic::{Request, Response, Status};
use tracing::field::Empty;
use tracing::{Instrument, Span};

use crate::config::DispatcherSettings;
use crate::error::Error;
use crate::scheduler::{Schedule, Scheduler};
use crate::{job_metrics, quota_metrics};

/// The `error` of a job cancelled through the API.
const CANCEL_REASON: &str = "cancelled by request";

/// The dispatcher service. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Dispatcher<S> {
    inner: Arc<Inner<S>>,
}

#[derive(Debug)]
struct Inner<S> {
    settings: DispatcherSettings,
    store: S,
    scheduler: Scheduler,

    /// Tells the scheduler to stop (unfinished jobs resume on the next start).
    stop: watch::Sender<bool>,
}

impl<S: JobStore> Dispatcher<S> {
    /// The service, and its scheduler's task (which ends after [`Dispatcher::stop`]). Needs a
    /// tokio runtime.
    pub fn start<Q: TaskQueue>(
        settings: DispatcherSettings,
        queue: Q,
        store: S,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (stop, stopped) = watch::channel(false);
        let schedule = Schedule {
            backlog: settings.queue_backlog,
            batch: settings.enqueue_batch,
            quotas: settings.quotas.clone(),
        };
        let (scheduler, task) = Scheduler::start(queue, store.clone(), schedule, stopped);
        (Self { inner: Arc::new(Inner { settings, store, scheduler, stop }) }, task)
    }

    /// Schedules again every job a previous instance left with chunks not yet on the stream
    /// (a chunk enqueued twice is harmless: results count each chunk once).
    pub fn resume_unfinished(&self) {
        let this = self.clone();
        tokio::spawn(async move {
            match this.inner.store.jobs_to_dispatch().await {
                Ok(jobs) => {
                    for job in jobs {
                        tracing::info!(job_id = %job.id, from_chunk = job.chunks_enqueued, "resuming enqueue");
                        this.inner.scheduler.take(job);
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot list jobs to resume; they resume on the next start")
                }
            }
        });
    }

    /// Stops the scheduler (shutdown).
    pub fn stop(&self) {
        let _ = self.inner.stop.send(true);
    }

    /// Records the job, its context being `span`'s (the `dispatch_job` span this runs in),
    /// and starts enqueueing it.
    async fn dispatch(
        &self,
        tenant: String,
        request: DispatchJobRequest,
        span: &Span,
    ) -> Result<tanksim_proto::v1::Job, Error> {
        let spec = request.spec.ok_or(Error::InvalidArgument { field: "spec", reason: "required".into() })?;
        // The same limits as the gateway's (one set of options): a job the gateway accepted
        // is accepted here too; this guards callers that bypass the gateway.
        let limits = self.inner.settings.limits.validation();
        let valid =
            tanksim_proto::convert::job_spec_from_request(&spec, &limits).map_err(Error::InvalidJob)?;
        let job = valid.spec();
        // Load shedding, before anything is reserved: accepted jobs are never shed.
        let mark = self.inner.settings.queue_high_water;
        let waiting = self.inner.scheduler.waiting_chunks();
        if mark != 0 && waiting >= mark {
            quota_metrics::shed(&tenant, waiting, mark);
            return Err(Error::Shed { waiting, mark });
        }
        let runs = job.runs();
        let chunk_size = chunk_size_for(job, self.inner.settings.chunk_size);
        let layout = ChunkLayout::new(runs, chunk_size).ok_or_else(|| Error::InvalidArgument {
            field: "spec",
            reason: format!("{runs} runs in chunks of {chunk_size} exceed {} chunks", u32::MAX),
        })?;
        let chunks_total = layout.chunks();
        // An adaptive job's chunks are released a wave at a time (see `tanksim_sim_core::adaptive`):
        // the first wave now, the next ones by the results service.
        let chunks_released = layout.chunks_covering(job.first_wave());
        let id = uuid::Uuid::now_v7().to_string();
        span.record("job.id", id.as_str());
        span.record("job.kind", job.kind_name());
        span.record("job.runs", runs as i64);
        span.record("job.chunks", i64::from(chunks_total));
        let quota = self.inner.settings.quotas.for_tenant(&tenant);
        let new = NewJob {
            id,
            tenant,
            name: spec.name.clone(),
            kind: job.kind(),
            spec: spec.encode_to_vec(),
            runs_total: runs,
            chunk_size,
            chunks_total,
            chunks_released,
            submitted_at_ms: now_ms(),
            trace_context: propagation::inject(span),
        };
        // Checked and reserved in one atomic step: a job over its tenant's quota is not created.
        let status = match self.inner.store.create_job_within(&new, &quota.jobs).await {
            Err(BrokerError::QuotaExceeded(refusal)) => {
                quota_metrics::refused(&self.inner.settings.quotas, &refusal);
                return Err(BrokerError::QuotaExceeded(refusal).into());
            }
            created => created?,
        };
        tracing::info!(job_id = %status.id, kind = job.kind_name(), runs, chunks = chunks_total, "job accepted");
        let job = job_to_proto(&status);
        self.inner.scheduler.take(status);
        Ok(job)
    }

    async fn cancel(&self, tenant: &str, request: CancelJobRequest) -> Result<tanksim_proto::v1::Job, Error> {
        // Before the id reaches a Redis key: only ids this system could have made.
        tanksim_proto::convert::check_job_id("id", &request.id)
            .map_err(|v| Error::InvalidArgument { field: "id", reason: v.reason })?;
        // Another tenant's job is not found, exactly like a job that does not exist: the
        // answer must not reveal that the id is taken. (A job's tenant never changes, so
        // checking before cancelling is not a race.)
        match self.inner.store.job(&request.id).await? {
            Some(job) if job.tenant == tenant => {}
            _ => return Err(Error::NotFound(request.id.clone())),
        }
        let outcome = self
            .inner
            .store
            .cancel(&request.id, CANCEL_REASON, now_ms())
            .await?
            .ok_or_else(|| Error::NotFound(request.id.clone()))?;
        // Only the call that ended the job counts it (a terminal job comes back unchanged).
        if outcome.cancelled {
            self.inner.scheduler.drop_job(&request.id);
            job_metrics::job_cancelled(&outcome.status);
            tracing::info!(job_id = %request.id, "job cancelled");
        }
        self.inner.store.notify(&request.id).await?;
        Ok(job_to_proto(&outcome.status))
    }
}

/// Bytes of rows one chunk's report may carry: far below the chunk report limit
/// ([`MAX_CHUNK_REPORT_BYTES`]), so a report is quick to send, store and retry.
const ROWS_BUDGET_BYTES: u64 = 8 << 20;
const _: () = assert!(ROWS_BUDGET_BYTES < MAX_CHUNK_REPORT_BYTES as u64);

/// The chunk size for `job`: the configured one, made smaller for jobs that send per-run rows
/// so that a chunk's rows stay within [`ROWS_BUDGET_BYTES`] (a dataset run with 121 recorded
/// samples is ~4 KB: 2,000 runs per chunk). A row's size is the estimate the job's output
/// limit is checked with ([`row_bytes`]).
///
/// A job run in waves (an adaptive Monte Carlo job, an optimisation) has a chunk size that
/// divides its wave step ([`JobSpec::wave_step`]), so that every wave ends at a chunk
/// boundary.
pub fn chunk_size_for(job: &JobSpec, configured: u64) -> u64 {
    let size = match row_bytes(job) {
        0 => configured,
        bytes_per_run => configured.min((ROWS_BUDGET_BYTES / bytes_per_run).max(1)),
    };
    match job.wave_step() {
        Some(step) => chunk_size_within(step, size),
        None => size,
    }
}

#[tonic::async_trait]
impl<S: JobStore> DispatcherService for Dispatcher<S> {
    async fn dispatch_job(
        &self,
        request: Request<DispatchJobRequest>,
    ) -> Result<Response<DispatchJobResponse>, Status> {
        let span = tracing::info_span!(
            "dispatch_job",
            job.id = Empty,
            job.kind = Empty,
            job.runs = Empty,
            job.chunks = Empty
        );
        let tenant = tanksim_server::tenant::from_request(&request)?;
        let job = self.dispatch(tenant, request.into_inner(), &span).instrument(span.clone()).await?;
        Ok(Response::new(DispatchJobResponse { job: Some(job) }))
    }

    async fn cancel_job(
        &self,
        request: Request<CancelJobRequest>,
    ) -> Result<Response<CancelJobResponse>, Status> {
        let tenant = tanksim_server::tenant::from_request(&request)?;
        let request = request.into_inner();
        let span = tracing::info_span!("cancel_job", job.id = %request.id);
        let job = self.cancel(&tenant, request).instrument(span).await?;
        Ok(Response::new(CancelJobResponse { job: Some(job) }))
    }
}
