//! What every handler shares: the job store, the rows directory, the watch poll interval and
//! the finished sensitivity jobs' indices; and the two steps every read starts with (check the
//! id, load the job, which also deletes a cancelled job's rows).

use std::time::Duration;

use tanksim_broker::{JobState, JobStatus, JobStore};

use crate::error::Error;
use crate::rows::RowsDir;
use crate::{cleanup, merge, sensitivity};

/// Shared by the handlers of one results instance.
#[derive(Debug)]
pub(crate) struct Shared<S> {
    pub(crate) store: S,
    pub(crate) rows: RowsDir,
    pub(crate) watch_poll: Duration,
    /// Finished sensitivity jobs' indices.
    pub(crate) sensitivity: sensitivity::Cache,
}

impl<S: JobStore> Shared<S> {
    /// The job's status; a job whose chunks are all recorded but which is still `Running`
    /// (its last report's merge was cut short by a crash or an outage) is merged and finished
    /// first, so every read sees it end.
    ///
    /// A job of another tenant is NOT_FOUND, exactly like one that does not exist, so the
    /// answer never reveals that an id is taken.
    pub(crate) async fn load(&self, tenant: &str, id: &str) -> Result<JobStatus, Error> {
        let status = match self.store.job(id).await? {
            Some(status) if status.tenant == tenant => status,
            _ => return Err(Error::NotFound(id.to_owned())),
        };
        self.settle(status).await
    }

    /// [`Shared::load`] for a status already read. A cancelled job's rows are deleted here,
    /// where a read observes the cancel (see `cleanup`).
    pub(crate) async fn settle(&self, status: JobStatus) -> Result<JobStatus, Error> {
        if status.state == JobState::Running && status.chunks_done >= status.chunks_total {
            return merge::advance(self, status).await;
        }
        cleanup::forget_if_cancelled(&self.rows, &status).await;
        Ok(status)
    }
}

/// Job ids name directories in the data directory and Redis keys, so only path- and
/// glob-safe ones pass ([`tanksim_proto::convert::check_job_id`]: 1 to 64 ASCII letters,
/// digits, `-` and `_`; the dispatcher's UUIDs always do).
pub(crate) fn check_job_id(field: &'static str, id: &str) -> Result<(), Error> {
    tanksim_proto::convert::check_job_id(field, id).map_err(|v| Error::invalid(field, v.reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_must_be_path_and_glob_safe() {
        assert!(check_job_id("id", "0199b8a2-7c41-7e0a-9d5e-3f1f2b8c9d10").is_ok());
        for bad in ["", "..", "a/b", "a b", "*", "a?", "[a]", "../x", &"x".repeat(65)] {
            assert!(
                matches!(check_job_id("id", bad), Err(Error::InvalidArgument { field: "id", .. })),
                "{bad}"
            );
        }
    }
}
