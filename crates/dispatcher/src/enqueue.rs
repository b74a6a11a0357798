//! Appending a job's chunks to the task stream, in pipelined batches, recording after each
//! batch how far it got (`chunks_enqueued`) so a restarted dispatcher resumes there.
//!
//! Chunk `i` covers runs `[i*chunk_size, min((i+1)*chunk_size, runs))`. Between batches the
//! job is re-read: a cancelled job stops being enqueued. Redis errors are retried with
//! backoff until the dispatcher stops (then the next start resumes).

use std::time::Duration;

use tanksim_broker::{JobStatus, JobStore, Task, TaskQueue};
use tokio::sync::watch;

/// Enqueues the remaining chunks of job `id`.
pub async fn enqueue_job<Q: TaskQueue, S: JobStore>(
    queue: &Q,
    store: &S,
    id: &str,
    batch: u32,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = Duration::from_millis(100);
    loop {
        if *stop.borrow() {
            return;
        }
        match step(queue, store, id, batch).await {
            Ok(Step::Done) => return,
            Ok(Step::More) => backoff = Duration::from_millis(100),
            Err(e) => {
                tracing::warn!(job_id = id, error = %e, retry_in_ms = backoff.as_millis() as u64, "enqueue failed; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = stop.changed() => return,
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}

enum Step {
    More,
    Done,
}

async fn step<Q: TaskQueue, S: JobStore>(
    queue: &Q,
    store: &S,
    id: &str,
    batch: u32,
) -> Result<Step, tanksim_broker::BrokerError> {
    let Some(job) = store.job(id).await? else {
        tracing::warn!(job_id = id, "job vanished before its chunks were enqueued");
        return Ok(Step::Done);
    };
    if job.state.is_terminal() || job.chunks_enqueued >= job.chunks_total {
        return Ok(Step::Done);
    }
    let end = job.chunks_enqueued.saturating_add(batch).min(job.chunks_total);
    let tasks: Vec<Task> = (job.chunks_enqueued..end).map(|chunk| task(&job, chunk)).collect();
    queue.enqueue(&tasks).await?;
    store.mark_enqueued(id, end).await?;
    tracing::debug!(job_id = id, enqueued = end, total = job.chunks_total, "chunks enqueued");
    Ok(if end >= job.chunks_total { Step::Done } else { Step::More })
}

/// The task of chunk `chunk` of `job`.
pub fn task(job: &JobStatus, chunk: u32) -> Task {
    let start = u64::from(chunk) * job.chunk_size;
    Task {
        job_id: job.id.clone(),
        chunk,
        run_start: start,
        run_end: (start + job.chunk_size).min(job.runs_total),
        trace_context: Vec::new(),
    }
}
