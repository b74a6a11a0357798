//! The end of a simulated chunk: the report to results (retried while results is briefly
//! away), then the acknowledgement; or, for a chunk that failed for good, the failure report
//! and the dead letter.

use prost::Message;
use tanksim_broker::{Delivery, JobStore, TaskQueue};
use tanksim_proto::MAX_CHUNK_REPORT_BYTES;
use tanksim_proto::internal::v1::{ReportChunkFailureRequest, ReportChunkRequest};
use tokio::time::Instant;

use super::{ChunkOutput, Ctx, Work};
use crate::metrics::{self, Outcome};
use crate::report::{Refused, with_retries};

impl<Q: TaskQueue, S: JobStore> Ctx<Q, S> {
    /// Reports a simulated chunk and acknowledges it once results confirmed.
    pub(crate) async fn settle(self, work: Work, output: ChunkOutput) {
        let (delivery, task, kind) = (&work.delivery, &work.delivery.task, Some(work.kind()));
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
        if size > MAX_CHUNK_REPORT_BYTES {
            let reason = format!(
                "chunk {} of job {}: its report is {size} bytes, over the {MAX_CHUNK_REPORT_BYTES}-byte limit; \
                 use smaller chunks or keep fewer trajectory samples (record_every)",
                task.chunk, task.job_id
            );
            self.fail(delivery, kind, &reason).await;
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
                metrics::chunk(kind, Outcome::Succeeded);
            }
            Err(Refused::Transient(status)) => {
                // A fresh entry: a results outage must not count toward the dead-letter limit.
                tracing::warn!(
                    message = status.message(),
                    "results unreachable for too long; handing the chunk back"
                );
                self.hand_back(delivery, kind).await;
            }
            Err(Refused::Permanent(status)) => {
                let reason = format!(
                    "results refused chunk {} of job {}: {:?}: {}",
                    task.chunk,
                    task.job_id,
                    status.code(),
                    status.message()
                );
                self.fail(delivery, kind, &reason).await;
            }
            Err(Refused::Other(status)) => {
                tracing::error!(
                    code = ?status.code(),
                    message = status.message(),
                    "results failed the report; the chunk stays pending and is retried after the visibility timeout"
                );
                metrics::chunk(kind, Outcome::Failed);
            }
        }
    }

    /// Reports a chunk (of a `kind` job, if known) that failed for good, then dead-letters it.
    /// The failure is reported first: a dead-lettered chunk whose job never heard of it would
    /// leave the job hanging.
    pub(crate) async fn fail(&self, delivery: &Delivery, kind: Option<&'static str>, reason: &str) {
        tracing::error!(reason, "chunk failed for good; dead-lettering it and failing its job");
        metrics::chunk(kind, Outcome::Failed);
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

    pub(super) async fn dead_letter(&self, delivery: &Delivery, reason: &str) {
        match self.queue.dead_letter(delivery, reason).await {
            Ok(()) => {
                tracing::warn!(reason, "chunk dead-lettered");
                metrics::dead_lettered();
            }
            Err(e) => tracing::warn!(error = %e, "cannot dead-letter the chunk; it stays pending"),
        }
    }

    pub(crate) async fn ack(&self, delivery: &Delivery) {
        if let Err(e) = self.queue.ack(std::slice::from_ref(&delivery.entry_id)).await {
            // Redone later by whoever claims it; results counts a chunk once.
            tracing::warn!(error = %e, "cannot acknowledge the chunk; it stays pending");
        }
    }

    /// Gives the chunk (of a `kind` job, if known) back to the stream as a fresh entry.
    pub(crate) async fn hand_back(&self, delivery: &Delivery, kind: Option<&'static str>) {
        metrics::chunk(kind, Outcome::HandedBack);
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
