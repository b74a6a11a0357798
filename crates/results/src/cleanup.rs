//! What the results service deletes, and when.
//!
//! **A cancelled job's rows**: nobody asked for them any more, and a cancelled dataset may
//! have written gigabytes before it was stopped. The dispatcher cancels (it has no data
//! directory), so this service deletes the rows where it observes the cancel:
//! - a chunk report for a cancelled job (a chunk in flight when the job was cancelled) writes
//!   no rows and removes the job's directory; a report whose rows were written just before the
//!   cancel sees the cancel in the status `record_chunk` returns and removes them;
//! - every read of a cancelled job (GetJob, WatchJob, GetJobResults, ExportRuns);
//! - a sweep of the data directory at start and every [`SWEEP_EVERY`] (a job cancelled after
//!   its last report, that nobody reads again; more often for a retention under 4 minutes,
//!   [`sweep_every`]).
//!
//! **Retention**: each sweep first deletes the jobs that ended (succeeded, failed, cancelled)
//! more than the retention ago ([`JobStore::expire_ended`]) with their rows; the job is then
//! unknown (NOT_FOUND) everywhere. Rows of a job the store does not know — expired by another
//! replica, or written by a late report racing the expiry — are deleted by the same sweep once
//! nothing was written in their directory for [`UNKNOWN_IDLE`] (rows are only written for a job
//! that exists, and a write in flight is far younger, so no job's rows are taken early).
//!
//! Removing is idempotent and safe on several replicas at once.

use std::future::Future;
use std::time::Duration;

use tanksim_broker::{JobKind, JobState, JobStatus, JobStore};
use tanksim_server::job::now_ms;

use crate::metrics;
use crate::rows::RowsDir;

/// How often the data directory is swept for cancelled jobs' rows, and ended jobs expire.
pub(crate) const SWEEP_EVERY: Duration = Duration::from_secs(60);
/// The shortest sweep period, for retentions of seconds (tests, demonstrations).
const MIN_SWEEP_EVERY: Duration = Duration::from_millis(250);

/// The sweep period for `retention`: [`SWEEP_EVERY`], or a quarter of a shorter retention, so
/// a job outlives its retention by at most a quarter of it (at least [`MIN_SWEEP_EVERY`]).
pub(crate) fn sweep_every(retention: Option<Duration>) -> Duration {
    retention.map_or(SWEEP_EVERY, |r| (r / 4).clamp(MIN_SWEEP_EVERY, SWEEP_EVERY))
}

/// Jobs deleted per store call while expiring (a bounded script run in Redis).
const EXPIRE_BATCH: usize = 500;
/// Jobs the sweep of the rows looks up per round trip to the store.
const SWEEP_BATCH: usize = 500;
/// How long nothing must have been written in an unknown job's directory before its rows are
/// deleted: the age at which a temporary rows file is taken for a crash's leftover (a write in
/// flight on another replica is far younger).
pub(crate) const UNKNOWN_IDLE: Duration = Duration::from_secs(15 * 60);

/// Deletes the job's rows if it is a cancelled dataset or sweep job. A failure is logged, not
/// returned: the sweep tries again, and the caller's own work (a read, a report) is unaffected.
pub(crate) async fn forget_if_cancelled(rows: &RowsDir, status: &JobStatus) {
    if status.state != JobState::Cancelled || status.kind == JobKind::MonteCarlo {
        return;
    }
    remove_rows(rows, &status.id, "cancelled").await;
}

/// Deletes job `id`'s rows directory (a job `why`), logging the outcome.
async fn remove_rows(rows: &RowsDir, id: &str, why: &'static str) {
    let (rows, owned) = (rows.clone(), id.to_owned());
    match tokio::task::spawn_blocking(move || rows.remove_job(&owned)).await {
        Ok(Ok(true)) => tracing::info!(job_id = id, why, "deleted a job's rows"),
        Ok(Ok(false)) => {}
        Ok(Err(e)) => tracing::warn!(job_id = id, why, error = %e, "cannot delete a job's rows"),
        Err(e) => tracing::warn!(job_id = id, why, error = %e, "cannot delete a job's rows"),
    }
}

/// Sweeps now and every `every` until `stop` resolves: ended jobs older than `retention` (if
/// any) expire, and the rows of cancelled and unknown jobs are deleted.
pub(crate) async fn sweep<S: JobStore>(
    store: S,
    rows: RowsDir,
    retention: Option<Duration>,
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
                if let Some(retention) = retention {
                    expire(&store, &rows, now_ms().saturating_sub(duration_ms(retention))).await;
                }
                sweep_once(&store, &rows).await;
            }
        }
    }
}

fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Deletes every job that ended at or before `ended_before_ms`, and its rows. Returns how many.
pub(crate) async fn expire<S: JobStore>(store: &S, rows: &RowsDir, ended_before_ms: u64) -> usize {
    let mut expired = 0;
    loop {
        let ids = match store.expire_ended(ended_before_ms, EXPIRE_BATCH).await {
            Ok(ids) => ids,
            Err(e) => {
                tracing::warn!(error = %e, "cannot expire ended jobs; next sweep");
                return expired;
            }
        };
        for id in &ids {
            remove_rows(rows, id, "expired").await;
        }
        expired += ids.len();
        metrics::jobs_expired(ids.len());
        if ids.len() < EXPIRE_BATCH {
            if expired > 0 {
                tracing::info!(jobs = expired, "ended jobs past their retention deleted");
            }
            return expired;
        }
    }
}

/// One pass over the job directories: the rows of cancelled jobs, and of jobs the store does
/// not know idle for [`UNKNOWN_IDLE`], are deleted. Returns how many jobs' rows were.
pub(crate) async fn sweep_once<S: JobStore>(store: &S, rows: &RowsDir) -> usize {
    let dir = rows.clone();
    let Ok(jobs) = tokio::task::spawn_blocking(move || dir.jobs()).await else { return 0 };
    let mut deleted = 0;
    // One round trip per batch of directories, not one per job.
    for ids in jobs.chunks(SWEEP_BATCH) {
        let statuses = match store.jobs(ids).await {
            Ok(statuses) => statuses,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read jobs to delete cancelled ones' rows; next sweep");
                return deleted;
            }
        };
        for (id, status) in ids.iter().zip(statuses) {
            match status {
                Some(status) if status.state == JobState::Cancelled => {
                    forget_if_cancelled(rows, &status).await;
                    deleted += 1;
                }
                None if rows.idle_for(id).is_some_and(|idle| idle >= UNKNOWN_IDLE) => {
                    remove_rows(rows, id, "unknown").await;
                    deleted += 1;
                }
                _ => {}
            }
        }
    }
    deleted
}

#[cfg(test)]
mod tests {
    use tanksim_broker::{JobStore, MemoryStore, NewJob};
    use tanksim_proto::v1::RunRow;

    use super::*;

    fn job(id: &str, kind: JobKind, submitted_at_ms: u64) -> NewJob {
        NewJob {
            id: id.into(),
            tenant: tanksim_broker::DEFAULT_TENANT.into(),
            name: String::new(),
            kind,
            spec: Vec::new(),
            runs_total: 1,
            chunk_size: 1,
            chunks_total: 1,
            chunks_released: 1,
            submitted_at_ms,
            trace_context: Vec::new(),
        }
    }

    #[tokio::test]
    async fn the_sweep_deletes_only_cancelled_and_unknown_jobs_rows() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let rows = RowsDir::new(tmp.path());
        let store = MemoryStore::new();
        let row = RunRow { run: 0, params: vec![], metrics: vec![], trajectory: None };
        for id in ["cancelled", "running", "unknown", "unknown-busy"] {
            rows.write_chunk(id, 0, std::slice::from_ref(&row)).expect("write");
        }
        // Nothing written in the unknown job's directory for a day; the busy one is written to.
        let day_ago = std::time::SystemTime::now() - Duration::from_secs(86_400);
        std::fs::File::open(tmp.path().join("unknown")).and_then(|d| d.set_modified(day_ago)).expect("mtime");
        store.create_job(&job("cancelled", JobKind::Dataset, 1)).await.expect("create");
        store.create_job(&job("running", JobKind::Dataset, 1)).await.expect("create");
        store.cancel("cancelled", "by test", 2).await.expect("cancel");
        assert_eq!(sweep_once(&store, &rows).await, 2);
        assert!(rows.open_chunk("cancelled", 0).expect("open").is_none());
        assert!(rows.open_chunk("running", 0).expect("open").is_some());
        assert!(rows.open_chunk("unknown", 0).expect("open").is_none(), "no status: expired or lost");
        assert!(rows.open_chunk("unknown-busy", 0).expect("open").is_some(), "written to lately: kept");
        // The background sweep runs at once, then stops when told.
        rows.write_chunk("cancelled", 0, &[row]).expect("write again");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(sweep(store, rows.clone(), None, Duration::from_secs(3600), async {
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

    #[test]
    fn short_retentions_sweep_more_often() {
        assert_eq!(sweep_every(None), SWEEP_EVERY);
        assert_eq!(sweep_every(Some(Duration::from_secs(7 * 86_400))), SWEEP_EVERY);
        assert_eq!(sweep_every(Some(Duration::from_secs(2))), Duration::from_millis(500));
        assert_eq!(sweep_every(Some(Duration::from_millis(1))), MIN_SWEEP_EVERY);
    }

    #[tokio::test]
    async fn jobs_ended_before_the_cut_expire_with_their_rows_and_no_others() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let rows = RowsDir::new(tmp.path());
        let store = MemoryStore::new();
        let row = RunRow { run: 0, params: vec![], metrics: vec![], trajectory: None };
        for (id, at) in [("old-done", 1), ("old-cancelled", 2), ("recent-done", 3), ("still-running", 4)] {
            store.create_job(&job(id, JobKind::Dataset, at)).await.expect("create");
            rows.write_chunk(id, 0, std::slice::from_ref(&row)).expect("write");
        }
        store.record_chunk("old-done", 0, 1, b"s", 10).await.expect("record");
        store.finish("old-done", 100).await.expect("finish");
        store.cancel("old-cancelled", "by test", 150).await.expect("cancel");
        store.record_chunk("recent-done", 0, 1, b"s", 10).await.expect("record");
        store.finish("recent-done", 300).await.expect("finish");
        store.record_chunk("still-running", 0, 1, b"s", 10).await.expect("record");

        assert_eq!(expire(&store, &rows, 200).await, 2);
        for gone in ["old-done", "old-cancelled"] {
            assert_eq!(store.job(gone).await.expect("read"), None, "{gone}");
            assert_eq!(store.spec(gone).await.expect("read"), None, "{gone}");
            assert!(rows.open_chunk(gone, 0).expect("open").is_none(), "{gone}");
        }
        for kept in ["recent-done", "still-running"] {
            assert!(store.job(kept).await.expect("read").is_some(), "{kept}");
            assert!(rows.open_chunk(kept, 0).expect("open").is_some(), "{kept}");
        }
        let listed: Vec<String> = store
            .list_jobs(tanksim_broker::DEFAULT_TENANT, None, 10)
            .await
            .expect("list")
            .into_iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(listed, ["still-running", "recent-done"]);
        // Far in the future: what has not ended still stays.
        assert_eq!(expire(&store, &rows, u64::MAX).await, 1);
        assert!(store.job("still-running").await.expect("read").is_some());
    }
}
