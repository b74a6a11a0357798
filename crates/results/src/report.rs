//! `tanksim.internal.v1.ResultsService`: what workers report. A chunk's report is checked
//! against the job's chunk layout, its rows (dataset and sweep jobs) are written to disk
//! first, then its summary is recorded (once per chunk, however often it is reported) and the
//! job's merged prefix advanced. A worker acknowledges its task only after an OK here, so any
//! failure on the way makes it report again, and every step is safe to repeat.
//!
//! Both calls run in a `report_chunk` span (`job.id`, `chunk.index`, `chunk.recorded`,
//! `job.state` after the call; `chunk.failed` for a failure report) under the call's
//! `grpc.server` span, itself a child of the worker's chunk span: the chunk's trace goes on here.

use std::sync::Arc;

use tanksim_broker::{JobKind, JobState, JobStatus, JobStore};
use tanksim_proto::internal::v1::results_service_server::ResultsService;
use tanksim_proto::internal::v1::{
    ReportChunkFailureRequest, ReportChunkFailureResponse, ReportChunkRequest, ReportChunkResponse,
};
use tanksim_proto::v1::RunRow;
use tanksim_server::job::now_ms;
use tonic::{Request, Response, Status};
use tracing::Instrument;
use tracing::field::Empty;

use crate::codec;
use crate::error::Error;
use crate::shared::{Shared, check_job_id};
use crate::{cleanup, merge, metrics};

/// The `ResultsService` handler.
#[derive(Debug)]
pub struct ReportHandler<S> {
    shared: Arc<Shared<S>>,
}

impl<S> ReportHandler<S> {
    pub(crate) fn new(shared: Arc<Shared<S>>) -> Self {
        ReportHandler { shared }
    }
}

#[tonic::async_trait]
impl<S: JobStore> ResultsService for ReportHandler<S> {
    async fn report_chunk(
        &self,
        request: Request<ReportChunkRequest>,
    ) -> Result<Response<ReportChunkResponse>, Status> {
        let req = request.into_inner();
        let span = tracing::info_span!(
            "report_chunk",
            job.id = %req.job_id,
            chunk.index = i64::from(req.chunk),
            chunk.recorded = Empty,
            job.state = Empty,
        );
        let recorded = report_chunk(&self.shared, req).instrument(span).await?;
        Ok(Response::new(ReportChunkResponse { recorded }))
    }

    async fn report_chunk_failure(
        &self,
        request: Request<ReportChunkFailureRequest>,
    ) -> Result<Response<ReportChunkFailureResponse>, Status> {
        let req = request.into_inner();
        let span = tracing::info_span!(
            "report_chunk",
            job.id = %req.job_id,
            chunk.index = i64::from(req.chunk),
            chunk.failed = true,
            job.state = Empty,
        );
        report_failure(&self.shared, req).instrument(span).await?;
        Ok(Response::new(ReportChunkFailureResponse {}))
    }
}

async fn report_chunk<S: JobStore>(shared: &Shared<S>, mut req: ReportChunkRequest) -> Result<bool, Error> {
    check_job_id("job_id", &req.job_id)?;
    let id = req.job_id.as_str();
    let status = shared.store.job(id).await?.ok_or_else(|| Error::NotFound(id.to_owned()))?;
    let runs = check_layout(&status, &req)?;
    let summary = req.summary.as_ref().ok_or_else(|| Error::invalid("summary", "required"))?;
    let summary = codec::summary_from_report(summary).map_err(|reason| Error::invalid("summary", reason))?;
    if summary.runs() != runs {
        return Err(Error::invalid(
            "summary",
            format!("covers {} runs; the chunk has {runs}", summary.runs()),
        ));
    }
    if status.kind != JobKind::MonteCarlo && req.rows.len() as u64 != runs {
        return Err(Error::invalid("rows", format!("{} rows for the chunk's {runs} runs", req.rows.len())));
    }
    match status.kind {
        JobKind::MonteCarlo if !req.rows.is_empty() => {
            return Err(Error::invalid("rows", "Monte Carlo jobs keep summaries only; send no rows"));
        }
        JobKind::MonteCarlo => {}
        // A chunk in flight when its job was cancelled: its rows are not wanted (see `cleanup`).
        JobKind::Dataset | JobKind::Sweep | JobKind::Sensitivity | JobKind::Optimize
            if status.state == JobState::Cancelled =>
        {
            cleanup::forget_if_cancelled(&shared.rows, &status).await;
        }
        JobKind::Dataset | JobKind::Sweep | JobKind::Sensitivity | JobKind::Optimize => {
            let rows = std::mem::take(&mut req.rows);
            write_rows(shared, id, req.chunk, req.run_start, rows).await?;
        }
    }
    let outcome =
        shared.store.record_chunk(id, req.chunk, runs, &codec::encode_summary(&summary), now_ms()).await?;
    // Cancelled after the status above was read: the rows just written go too.
    cleanup::forget_if_cancelled(&shared.rows, &outcome.status).await;
    tracing::info!(job_id = id, chunk = req.chunk, worker = %req.worker, recorded = outcome.recorded, "chunk reported");
    let before = outcome.status.clone();
    // Advance even for a duplicate: the first report's merge may have been cut short.
    let after = merge::advance(shared, outcome.status).await?;
    let span = tracing::Span::current();
    span.record("chunk.recorded", outcome.recorded);
    span.record("job.state", after.state.name());
    if outcome.recorded || after != before {
        notify(shared, id).await;
    }
    Ok(outcome.recorded)
}

/// The chunk's number of runs, if `chunk`, `run_start` and `run_end` match the job's layout
/// ([`JobStatus::layout`]).
fn check_layout(status: &JobStatus, req: &ReportChunkRequest) -> Result<u64, Error> {
    let runs = status.layout().and_then(|layout| layout.runs_of(req.chunk));
    let Some(std::ops::Range { start, end }) = runs.filter(|_| req.chunk < status.chunks_total) else {
        let reason = format!("chunk {} of a job with {} chunks", req.chunk, status.chunks_total);
        return Err(Error::invalid("chunk", reason));
    };
    if req.chunk >= status.chunks_released {
        let reason =
            format!("chunk {} of a job with {} chunks released so far", req.chunk, status.chunks_released);
        return Err(Error::invalid("chunk", reason));
    }
    if req.run_start != start {
        return Err(Error::invalid("run_start", format!("chunk {} starts at run {start}", req.chunk)));
    }
    if req.run_end != end {
        return Err(Error::invalid("run_end", format!("chunk {} ends at run {end}", req.chunk)));
    }
    Ok(end - start)
}

/// Checks that the rows are the chunk's runs in order, then writes them (off the async
/// threads: fsync takes milliseconds).
async fn write_rows<S: JobStore>(
    shared: &Shared<S>,
    job: &str,
    chunk: u32,
    run_start: u64,
    rows: Vec<RunRow>,
) -> Result<(), Error> {
    if let Some((i, row)) = rows.iter().enumerate().find(|(i, row)| row.run != run_start + *i as u64) {
        return Err(Error::invalid(
            "rows",
            format!("row {i} is run {}; expected run {}", row.run, run_start + i as u64),
        ));
    }
    let (rows_dir, owned_job) = (shared.rows.clone(), job.to_owned());
    let written = tokio::task::spawn_blocking(move || rows_dir.write_chunk(&owned_job, chunk, &rows))
        .await
        .map_err(|e| Error::io(shared.rows.chunk_path(job, chunk), std::io::Error::other(e)))??;
    tracing::debug!(job_id = job, chunk, written, "rows stored");
    Ok(())
}

async fn report_failure<S: JobStore>(
    shared: &Shared<S>,
    req: ReportChunkFailureRequest,
) -> Result<(), Error> {
    check_job_id("job_id", &req.job_id)?;
    let id = req.job_id.as_str();
    let status = shared.store.job(id).await?.ok_or_else(|| Error::NotFound(id.to_owned()))?;
    if req.chunk >= status.chunks_total {
        let reason = format!("chunk {} of a job with {} chunks", req.chunk, status.chunks_total);
        return Err(Error::invalid("chunk", reason));
    }
    let detail = if req.reason.is_empty() { "no reason given" } else { clip(&req.reason) };
    let reason = format!("chunk {} failed after {} deliveries: {detail}", req.chunk, req.deliveries);
    let outcome = shared.store.fail(id, req.chunk, &reason, now_ms()).await?;
    if outcome.ended {
        metrics::job_ended(&outcome.status);
    }
    let after = outcome.status;
    tracing::Span::current().record("job.state", after.state.name());
    tracing::warn!(
        job_id = id,
        chunk = req.chunk,
        deliveries = req.deliveries,
        reason = clip(&req.reason),
        "chunk failed"
    );
    if after != status {
        notify(shared, id).await;
    }
    Ok(())
}

/// Wakes watchers; a lost notification only delays them until their next poll, so a failure
/// here does not fail the report (which would make the worker report again for nothing).
async fn notify<S: JobStore>(shared: &Shared<S>, id: &str) {
    if let Err(e) = shared.store.notify(id).await {
        tracing::warn!(job_id = id, error = %e, "could not notify watchers");
    }
}

/// Bytes of a worker's failure reason kept in the job's `error` (every ListJobs response
/// carries it; a panic message with a long backtrace must not make those large).
const MAX_REASON_BYTES: usize = 2048;

/// `reason` cut to [`MAX_REASON_BYTES`] on a character boundary.
fn clip(reason: &str) -> &str {
    let mut end = reason.len().min(MAX_REASON_BYTES);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    &reason[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_reasons_are_cut_on_a_character_boundary() {
        assert_eq!(clip("short"), "short");
        let long = "\u{e9}".repeat(MAX_REASON_BYTES);
        assert_eq!(clip(&long).len(), MAX_REASON_BYTES);
        let odd = format!("x{long}");
        assert_eq!(clip(&odd).len(), MAX_REASON_BYTES - 1);
    }
}
