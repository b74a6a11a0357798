//! A cancelled job's rows are deleted: nobody asked for them any more, and a cancelled dataset
//! may have written gigabytes before it was stopped.
//!
//! The dispatcher cancels (it has no data directory), so this service deletes the rows where it
//! observes the cancel:
//! - a chunk report for a cancelled job (a chunk in flight when the job was cancelled) writes
//!   no rows and removes the job's directory; a report whose rows were written just before the
//!   cancel sees the cancel in the status `record_chunk` returns and removes them;
//! - every read of a cancelled job (GetJob, WatchJob, GetJobResults, ExportRuns);
//! - a sweep of the data directory at start and every [`SWEEP_EVERY`] (a job cancelled after
//!   its last report, that nobody reads again).
//!
//! Removing is idempotent and safe on several replicas at once.

use std::future::Future;
use std::time::Duration;

use tanksim_broker::{JobKind, JobState, JobStatus, JobStore};

use crate::rows::RowsDir;

/// How often the data directory is swept for cancelled jobs' rows.
pub(crate) const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// Deletes the job's rows if it is a cancelled dataset or sweep job. A failure is logged, not
/// returned: the sweep tries again, and the caller's own work (a read, a report) is unaffected.
pub(crate) async fn forget_if_cancelled(rows: &RowsDir, status: &JobStatus) {
    if status.state != JobState::Cancelled || status.kind == JobKind::MonteCarlo {
        return;
    }
    let (rows, id) = (rows.clone(), status.id.clone());
    match tokio::task::spawn_blocking(move || rows.remove_job(&id)).await {
        Ok(Ok(true)) => tracing::info!(job_id = %status.id, "deleted the rows of a cancelled job"),
        Ok(Ok(false)) => {}
        Ok(Err(e)) => tracing::warn!(job_id = %status.id, error = %e, "cannot delete a cancelled job's rows"),
        Err(e) => tracing::warn!(job_id = %status.id, error = %e, "cannot delete a cancelled job's rows"),
    }
}

/// Sweeps the data directory now and every `every` until `stop` resolves: the rows of every
/// cancelled job found there are deleted.
pub(crate) async fn sweep<S: JobStore>(
    store: S,
    rows: RowsDir,
    every: Duration,
    stop: impl Future<Output = ()>,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => return,
            _ = tick.tick() => {
                sweep_once(&store, &rows).await;
            }
        }
    }
}

/// One pass over the job directories. Returns how many jobs' rows were deleted.
pub(crate) async fn sweep_once<S: JobStore>(store: &S, rows: &RowsDir) -> usize {
    let dir = rows.clone();
    let Ok(jobs) = tokio::task::spawn_blocking(move || dir.jobs()).await else { return 0 };
    let mut deleted = 0;
    for id in jobs {
        match store.job(&id).await {
            Ok(Some(status)) if status.state == JobState::Cancelled => {
                forget_if_cancelled(rows, &status).await;
                deleted += 1;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "cannot read jobs to delete cancelled ones' rows; next sweep");
                return deleted;
            }
        }
    }
    deleted
}

#[cfg(test)]
mod tests {
    use tanksim_broker::{MemoryStore, NewJob};
    use tanksim_proto::v1::RunRow;

    use super::*;

    fn job(id: &str, kind: JobKind) -> NewJob {
        NewJob {
            id: id.into(),
            tenant: tanksim_broker::DEFAULT_TENANT.into(),
            name: String::new(),
            kind,
            spec: Vec::new(),
            runs_total: 1,
            chunk_size: 1,
            chunks_total: 1,
            submitted_at_ms: 1,
            trace_context: Vec::new(),
        }
    }

    #[tokio::test]
    async fn the_sweep_deletes_only_cancelled_jobs_rows() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let rows = RowsDir::new(tmp.path());
        let store = MemoryStore::new();
        let row = RunRow { run: 0, params: vec![], metrics: vec![], trajectory: None };
        for id in ["cancelled", "running", "unknown"] {
            rows.write_chunk(id, 0, std::slice::from_ref(&row)).expect("write");
        }
        store.create_job(&job("cancelled", JobKind::Dataset)).await.expect("create");
        store.create_job(&job("running", JobKind::Dataset)).await.expect("create");
        store.cancel("cancelled", "by test", 2).await.expect("cancel");
        assert_eq!(sweep_once(&store, &rows).await, 1);
        assert!(rows.open_chunk("cancelled", 0).expect("open").is_none());
        assert!(rows.open_chunk("running", 0).expect("open").is_some());
        assert!(rows.open_chunk("unknown", 0).expect("open").is_some(), "no status: kept");
        // The background sweep runs at once, then stops when told.
        rows.write_chunk("cancelled", 0, &[row]).expect("write again");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(sweep(store, rows.clone(), Duration::from_secs(3600), async {
            let _ = rx.await;
        }));
        for _ in 0..500 {
            if rows.open_chunk("cancelled", 0).expect("open").is_none() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(rows.open_chunk("cancelled", 0).expect("open").is_none());
        let _ = tx.send(());
        task.await.expect("the sweep stops");
    }
}
