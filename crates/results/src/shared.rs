//! What every handler shares: the job store, the rows directory, the watch poll interval and
//! the shutdown flag; and the two steps every read starts with (check the id, load the job).

use std::time::Duration;

use tanksim_broker::{JobState, JobStatus, JobStore};
use tokio::sync::watch;

use crate::error::Error;
use crate::merge;
use crate::rows::RowsDir;

/// Shared by the handlers of one results instance.
#[derive(Debug)]
pub(crate) struct Shared<S> {
    pub(crate) store: S,
    pub(crate) rows: RowsDir,
    pub(crate) watch_poll: Duration,
    /// Becomes true when the service is stopping: open watch streams end so the server's
    /// graceful shutdown does not wait for jobs to finish.
    pub(crate) stopping: watch::Receiver<bool>,
}

impl<S: JobStore> Shared<S> {
    /// The job's status; a job whose chunks are all recorded but which is still `Running`
    /// (its last report's merge was cut short by a crash or an outage) is merged and finished
    /// first, so every read sees it end.
    pub(crate) async fn load(&self, id: &str) -> Result<JobStatus, Error> {
        let status = self.store.job(id).await?.ok_or_else(|| Error::NotFound(id.to_owned()))?;
        self.settle(status).await
    }

    /// [`Shared::load`] for a status already read.
    pub(crate) async fn settle(&self, status: JobStatus) -> Result<JobStatus, Error> {
        if status.state == JobState::Running && status.chunks_done >= status.chunks_total {
            return merge::advance(&self.store, status).await;
        }
        Ok(status)
    }
}

/// Job ids name directories in the data directory, so only path-safe ones pass: 1 to 64
/// ASCII letters, digits, `-` and `_` (the dispatcher's UUIDs always do).
pub(crate) fn check_job_id(field: &'static str, id: &str) -> Result<(), Error> {
    if id.is_empty() {
        return Err(Error::invalid(field, "required"));
    }
    let ok = id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok { Ok(()) } else { Err(Error::invalid(field, "not a job id (1-64 letters, digits, '-' or '_')")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_must_be_path_safe() {
        assert!(check_job_id("id", "0199b8a2-7c41-7e0a-9d5e-3f1f2b8c9d10").is_ok());
        for bad in ["", "..", "a/b", "a b", &"x".repeat(65)] {
            assert!(
                matches!(check_job_id("id", bad), Err(Error::InvalidArgument { field: "id", .. })),
                "{bad}"
            );
        }
    }
}
