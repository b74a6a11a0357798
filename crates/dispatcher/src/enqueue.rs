//! Appending a job's chunks to the task stream, in pipelined batches, recording after each
//! batch how far it got (`chunks_enqueued`) so a restarted dispatcher resumes there.
//!
//! Chunk `i` covers runs `[i*chunk_size, min((i+1)*chunk_size, runs))`. Between batches the
//! job is re-read: a cancelled job stops being enqueued. Redis errors are retried with
//! backoff until the dispatcher stops (then the next start resumes).
//!
//! The work is traced as one `enqueue` span per run of [`enqueue_job`], a child of the job
//! context stored with the job (not of the live request: a restarted dispatcher resuming the
//! job continues the same trace). `chunk.first..chunk.end` are the chunks it appended, and each
//! task carries its context, so a worker's chunk span is its child.

use std::time::Duration;

use tanksim_broker::{BrokerError, JobStatus, JobStore, Task, TaskQueue};
use tanksim_telemetry::propagation;
use tokio::sync::watch;
use tracing::field::Empty;
use tracing::{Instrument, Span};

/// Enqueues the remaining chunks of job `id`.
pub async fn enqueue_job<Q: TaskQueue, S: JobStore>(
    queue: &Q,
    store: &S,
    id: &str,
    batch: u32,
    stop: watch::Receiver<bool>,
) {
    // Made with the first batch, so a job with nothing left to enqueue leaves no empty span.
    let mut traced = None;
    enqueue_batches(queue, store, id, batch, stop, &mut traced).await;
    if let Some(traced) = traced {
        // Once, at the end: a field recorded twice would be exported twice.
        traced.span.record("chunk.end", i64::from(traced.end));
    }
}

/// The `enqueue` span of one run of [`enqueue_job`].
struct Traced {
    span: Span,
    /// The span's context, carried by every task it appends.
    context: Vec<(String, String)>,
    /// One past the last chunk appended so far.
    end: u32,
}

impl Traced {
    /// The span of `job`'s enqueueing from its first chunk not yet enqueued, a child of the
    /// job context.
    fn new(job: &JobStatus) -> Self {
        let span = tracing::info_span!(
            parent: None,
            "enqueue",
            job.id = %job.id,
            job.chunks = i64::from(job.chunks_total),
            chunk.first = i64::from(job.chunks_enqueued),
            chunk.end = Empty,
        );
        // Before anything is logged in the span: that would fix its parent.
        propagation::set_parent(&span, &job.trace_context);
        let context = propagation::inject(&span);
        Traced { span, context, end: job.chunks_enqueued }
    }
}

async fn enqueue_batches<Q: TaskQueue, S: JobStore>(
    queue: &Q,
    store: &S,
    id: &str,
    batch: u32,
    mut stop: watch::Receiver<bool>,
    traced: &mut Option<Traced>,
) {
    let mut backoff = Backoff::default();
    while !*stop.borrow() {
        let job = match store.job(id).await {
            Ok(Some(job)) => job,
            Ok(None) => {
                tracing::warn!(job_id = id, "job vanished before its chunks were enqueued");
                return;
            }
            Err(e) => {
                tracing::warn!(job_id = id, error = %e, retry_in_ms = backoff.millis(), "reading the job failed; retrying");
                if !backoff.wait(&mut stop).await {
                    return;
                }
                continue;
            }
        };
        if job.state.is_terminal() || job.chunks_enqueued >= job.chunks_total {
            return;
        }
        let traced = traced.get_or_insert_with(|| Traced::new(&job));
        let end = job.chunks_enqueued.saturating_add(batch).min(job.chunks_total);
        let tasks: Vec<Task> =
            (job.chunks_enqueued..end).map(|chunk| task(&job, chunk, &traced.context)).collect();
        match append(queue, store, &job, &tasks, end).instrument(traced.span.clone()).await {
            Ok(()) => {
                traced.end = end;
                if end >= job.chunks_total {
                    return;
                }
                backoff = Backoff::default();
            }
            Err(e) => {
                traced.span.in_scope(|| {
                    tracing::warn!(job_id = id, error = %e, retry_in_ms = backoff.millis(), "enqueue failed; retrying");
                });
                if !backoff.wait(&mut stop).await {
                    return;
                }
            }
        }
    }
}

/// Appends `tasks` (chunks up to `end`) and records how far the job got.
async fn append<Q: TaskQueue, S: JobStore>(
    queue: &Q,
    store: &S,
    job: &JobStatus,
    tasks: &[Task],
    end: u32,
) -> Result<(), BrokerError> {
    queue.enqueue(tasks).await?;
    store.mark_enqueued(&job.id, end).await?;
    tracing::debug!(job_id = %job.id, enqueued = end, total = job.chunks_total, "chunks enqueued");
    Ok(())
}

/// The task of chunk `chunk` of `job`, carrying `trace_context`.
pub fn task(job: &JobStatus, chunk: u32, trace_context: &[(String, String)]) -> Task {
    let start = u64::from(chunk) * job.chunk_size;
    Task {
        job_id: job.id.clone(),
        chunk,
        run_start: start,
        run_end: (start + job.chunk_size).min(job.runs_total),
        trace_context: trace_context.to_vec(),
    }
}

/// Retry delays: 100 ms doubling up to 5 s.
#[derive(Debug)]
struct Backoff(Duration);

impl Default for Backoff {
    fn default() -> Self {
        Backoff(Duration::from_millis(100))
    }
}

impl Backoff {
    fn millis(&self) -> u64 {
        u64::try_from(self.0.as_millis()).unwrap_or(u64::MAX)
    }

    /// Waits the current delay and doubles it; false if the dispatcher stopped meanwhile.
    async fn wait(&mut self, stop: &mut watch::Receiver<bool>) -> bool {
        let delay = self.0;
        self.0 = (self.0 * 2).min(Duration::from_secs(5));
        tokio::select! {
            _ = tokio::time::sleep(delay) => true,
            _ = stop.changed() => false,
        }
    }
}
