//! Job state: each job's spec, its state machine and progress, the chunk summaries workers
//! report (recorded idempotently: a chunk reported twice counts once), the merged prefix of
//! those summaries, and change notifications for watchers.
//!
//! State machine: `Queued -> Running -> Succeeded | Failed`, and `Cancelled` from any
//! non-terminal state. Terminal states never change. Transitions are atomic in the backend
//! (Lua scripts in Redis), so several results replicas may record chunks concurrently. A job
//! holds its share of its tenant's quota ([`crate::quota`]) from its creation to the
//! transition that ends it; an ended job is kept until retention deletes it
//! ([`JobStore::expire_ended`]).
//!
//! An adaptive job runs in waves: the dispatcher enqueues only the chunks released so far, and
//! after each wave the results service releases more ([`JobStore::release`]) or stops the job
//! at the chunks done ([`JobStore::stop_early`]), giving back the runs it no longer needs.

mod memory;
mod redis;

use std::future::Future;

pub use memory::MemoryStore;
pub use redis::RedisStore;

use tanksim_sim_core::ChunkLayout;
/// What a job computes: sim-core's kinds, the one list every service uses.
pub use tanksim_sim_core::JobKind;

use crate::BrokerError;
use crate::quota::{JobQuota, QuotaUsage};

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl JobState {
    /// Every state, in the order of the API's `JobState` enum.
    pub const ALL: [JobState; 5] =
        [JobState::Queued, JobState::Running, JobState::Succeeded, JobState::Failed, JobState::Cancelled];

    pub fn is_terminal(self) -> bool {
        matches!(self, JobState::Succeeded | JobState::Failed | JobState::Cancelled)
    }

    /// `queued`, `running`, `succeeded`, `failed` or `cancelled`: the `state` field of a
    /// stored job (the Redis store's Lua scripts spell them too) and the `state` label of
    /// metrics and spans.
    pub const fn name(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    /// The state [`JobState::name`] spells as `name`.
    pub fn from_name(name: &str) -> Option<JobState> {
        JobState::ALL.into_iter().find(|state| state.name() == name)
    }
}

/// The tenant of jobs recorded without one: every job when auth is off, and jobs stored
/// before tenants existed.
pub const DEFAULT_TENANT: &str = "default";

/// A job being recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub id: String,
    /// Who submitted it: only this tenant sees, lists and cancels it.
    pub tenant: String,
    pub name: String,
    pub kind: JobKind,
    /// The submitted spec (an encoded `tanksim.v1.SubmitJobRequest`), opaque to the store.
    pub spec: Vec<u8>,
    pub runs_total: u64,
    pub chunk_size: u64,
    pub chunks_total: u32,
    /// Chunks the dispatcher may enqueue from the start: `chunks_total` for a job not run in
    /// waves, the first wave's chunks for one that is (more are released by
    /// [`JobStore::release`]). Stored clamped to `chunks_total`.
    pub chunks_released: u32,
    pub submitted_at_ms: u64,
    /// W3C trace context (`traceparent`, `tracestate`) of the span that accepted the job ("the
    /// job context"): the background enqueueing, also after a restart, continues its trace.
    /// Empty when untraced.
    pub trace_context: Vec<(String, String)>,
}

/// A job's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobStatus {
    pub id: String,
    pub tenant: String,
    pub name: String,
    pub kind: JobKind,
    pub state: JobState,
    pub runs_total: u64,
    pub runs_done: u64,
    pub chunk_size: u64,
    pub chunks_total: u32,
    /// Chunks released so far: the dispatcher enqueues chunks `0..chunks_released` only. Equal
    /// to `chunks_total` for a job not run in waves (and for jobs stored before waves existed).
    pub chunks_released: u32,
    /// Chunks the dispatcher has appended to the stream so far.
    pub chunks_enqueued: u32,
    pub chunks_done: u32,
    pub chunks_failed: u32,
    pub submitted_at_ms: u64,
    pub started_at_ms: Option<u64>,
    pub finished_at_ms: Option<u64>,
    /// Why the job failed or was cancelled.
    pub error: Option<String>,
    /// The job context as given to [`JobStore::create_job`] (empty for jobs recorded without
    /// one, or by a version that did not store it).
    pub trace_context: Vec<(String, String)>,
}

impl JobStatus {
    /// How the job's runs are cut into chunks; `None` for a status no dispatcher records (a
    /// chunk size of 0, or more than `u32::MAX` chunks).
    pub fn layout(&self) -> Option<ChunkLayout> {
        ChunkLayout::new(self.runs_total, self.chunk_size)
    }
}

/// The outcome of [`JobStore::record_chunk`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkRecorded {
    /// False when the chunk had already been recorded (nothing changed).
    pub recorded: bool,
    /// The job's status after the call.
    pub status: JobStatus,
}

/// The outcome of [`JobStore::cancel`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelOutcome {
    /// True when this call cancelled the job; false when it was terminal already (nothing
    /// changed), so exactly one of concurrent cancels sees true.
    pub cancelled: bool,
    /// The job's status after the call.
    pub status: JobStatus,
}

/// The outcome of [`JobStore::stop_early`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopOutcome {
    /// True when this call truncated the job (lowered its chunks or runs); false when it was
    /// refused or had nothing left to cut (a repeated call), so the quota is given back once.
    pub stopped: bool,
    /// The job's status after the call.
    pub status: JobStatus,
}

/// The outcome of a call that may end a job ([`JobStore::finish`], [`JobStore::fail`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    /// True when this call made the job terminal; false when it was terminal already or stays
    /// running (nothing ended), so exactly one of concurrent calls sees true.
    pub ended: bool,
    /// The job's status after the call.
    pub status: JobStatus,
}

/// Job state. Cheap to clone (clones share the connection or the memory).
pub trait JobStore: Clone + Send + Sync + 'static {
    /// Records a new job (state `Queued`) and its spec, within its tenant's `quota`; returns
    /// its status. Atomically: if the job would exceed a limit of `quota` (see
    /// [`crate::quota`]), nothing is created and the call fails with
    /// [`BrokerError::QuotaExceeded`]; otherwise the job is created and reserves its share of
    /// the tenant's usage (one job, its runs, its runs of the day) until it ends. A job that
    /// exists already is returned unchanged, reserving nothing and never refused (a create
    /// retried after a lost reply).
    fn create_job_within(
        &self,
        job: &NewJob,
        quota: &JobQuota,
    ) -> impl Future<Output = Result<JobStatus, BrokerError>> + Send;

    /// [`JobStore::create_job_within`] without limits (the job's usage is still counted).
    fn create_job(&self, job: &NewJob) -> impl Future<Output = Result<JobStatus, BrokerError>> + Send {
        self.create_job_within(job, &JobQuota::UNLIMITED)
    }

    /// What `tenant` holds of its quota: jobs not ended and their runs, and the runs it
    /// submitted on the UTC day of `now_ms`.
    fn quota_usage(
        &self,
        tenant: &str,
        now_ms: u64,
    ) -> impl Future<Output = Result<QuotaUsage, BrokerError>> + Send;

    /// A job's status, `None` if unknown.
    fn job(&self, id: &str) -> impl Future<Output = Result<Option<JobStatus>, BrokerError>> + Send;

    /// The statuses of `ids`, in order, `None` for an unknown id; one round trip to Redis.
    fn jobs(
        &self,
        ids: &[String],
    ) -> impl Future<Output = Result<Vec<Option<JobStatus>>, BrokerError>> + Send {
        async move {
            let mut statuses = Vec::with_capacity(ids.len());
            for id in ids {
                statuses.push(self.job(id).await?);
            }
            Ok(statuses)
        }
    }

    /// A job's submitted spec, `None` if unknown.
    fn spec(&self, id: &str) -> impl Future<Output = Result<Option<Vec<u8>>, BrokerError>> + Send;

    /// Up to `limit` of `tenant`'s jobs, newest first, strictly older than `before` (a
    /// `(submitted_at_ms, id)` cursor from the last job of the previous page; `None` for the
    /// first page).
    fn list_jobs(
        &self,
        tenant: &str,
        before: Option<(u64, String)>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<JobStatus>, BrokerError>> + Send;

    /// Raises the job's `chunks_enqueued` to `chunks` (never lowers it; the dispatcher enqueues
    /// no further than `chunks_released`). The job stays among [`JobStore::jobs_to_dispatch`]
    /// until every chunk of `chunks_total` is enqueued or it ends, also while it waits for its
    /// next wave.
    fn mark_enqueued(&self, id: &str, chunks: u32) -> impl Future<Output = Result<(), BrokerError>> + Send;

    /// Non-terminal jobs whose chunks are not all enqueued, oldest first: a restarted
    /// dispatcher resumes them, enqueueing up to each one's `chunks_released`. A job run in
    /// waves is listed while it waits for its next release too.
    fn jobs_to_dispatch(&self) -> impl Future<Output = Result<Vec<JobStatus>, BrokerError>> + Send;

    /// Releases the job's chunks up to `chunks`: raises `chunks_released` to
    /// `min(chunks, chunks_total)` for a non-terminal job (never lowers it); a terminal job is
    /// unchanged. Safe to repeat and to call from several replicas. Returns the status after
    /// the call, `None` for an unknown job.
    fn release(
        &self,
        id: &str,
        chunks: u32,
    ) -> impl Future<Output = Result<Option<JobStatus>, BrokerError>> + Send;

    /// [`JobStore::release`], storing `state` with the raise, in one step: what the released
    /// chunks' runs depend on (an optimisation's search history), so whoever sees a chunk
    /// released reads a state at least as new as the one it was released with. Only a call that
    /// raises `chunks_released` stores it: the state of a wave is written once, by the replica
    /// that released it, and a repeat changes nothing.
    fn release_with_state(
        &self,
        id: &str,
        chunks: u32,
        state: &[u8],
    ) -> impl Future<Output = Result<Option<JobStatus>, BrokerError>> + Send;

    /// The state stored by the last [`JobStore::release_with_state`] (empty when there was
    /// none, or the job is unknown).
    fn wave_state(&self, id: &str) -> impl Future<Output = Result<Vec<u8>, BrokerError>> + Send;

    /// Stops a job early: it needs nothing past its first `chunks` chunks (`runs` runs). For a
    /// non-terminal job with `chunks_done <= chunks <= chunks_total` and `runs <= runs_total`:
    /// `chunks_total` and `chunks_released` become `chunks` and `runs_total` becomes `runs`; the
    /// runs no longer needed are given back from the tenant's quota reservation (while the job
    /// holds one) and from its runs of the job's submission day (while that day is still
    /// counted); the job leaves the dispatching set once `chunks_enqueued >= chunks`; and, as
    /// in [`JobStore::finish`], a `Running` job whose done chunks cover it succeeds
    /// (`finished_at_ms = now_ms`, its reservation given back). Otherwise nothing changes.
    /// Repeating a call changes nothing more (`stopped: false`). `None` for an unknown job.
    ///
    /// The store counts done chunks, not which ones: call it at a wave's end, when the done
    /// chunks are `0..chunks_done`, so that none is past the cut.
    fn stop_early(
        &self,
        id: &str,
        chunks: u32,
        runs: u64,
        now_ms: u64,
    ) -> impl Future<Output = Result<Option<StopOutcome>, BrokerError>> + Send;

    /// Cancels a non-terminal job (`Cancelled`, `finished_at_ms = now_ms`, `error = reason`)
    /// and gives back its quota reservation; a terminal job is returned unchanged
    /// (`cancelled: false`). `None` if unknown.
    fn cancel(
        &self,
        id: &str,
        reason: &str,
        now_ms: u64,
    ) -> impl Future<Output = Result<Option<CancelOutcome>, BrokerError>> + Send;

    /// Records chunk `chunk` (`runs` runs) with its encoded summary, once: the first report
    /// counts (`chunks_done += 1`, `runs_done += runs`, `Queued -> Running` with
    /// `started_at_ms = now_ms`), later ones change nothing. A report for a terminal job is
    /// stored but changes no state. Errors with `NoSuchJob` for an unknown job.
    fn record_chunk(
        &self,
        id: &str,
        chunk: u32,
        runs: u64,
        summary: &[u8],
        now_ms: u64,
    ) -> impl Future<Output = Result<ChunkRecorded, BrokerError>> + Send;

    /// The stored summaries of chunks `from..to` in order (`None` for a chunk not recorded, or
    /// already merged and dropped by [`JobStore::save_merged`]).
    fn chunk_summaries(
        &self,
        id: &str,
        from: u32,
        to: u32,
    ) -> impl Future<Output = Result<Vec<Option<Vec<u8>>>, BrokerError>> + Send;

    /// Stores the merge of chunks `0..upto` and drops those chunks' individual summaries
    /// (their "recorded" marks stay, so late duplicates are still recognised). Only moves
    /// forward: a call with `upto` not above the stored one changes nothing.
    fn save_merged(
        &self,
        id: &str,
        upto: u32,
        merged: &[u8],
    ) -> impl Future<Output = Result<(), BrokerError>> + Send;

    /// The merged prefix: `(upto, merge of chunks 0..upto)`, `None` before the first save.
    fn merged(&self, id: &str) -> impl Future<Output = Result<Option<(u32, Vec<u8>)>, BrokerError>> + Send;

    /// Retention: deletes up to `limit` jobs that ended (succeeded, failed or were cancelled)
    /// at or before `ended_at_or_before_ms`, the oldest end first — status, spec, chunk
    /// summaries and their places in the listings — and returns their ids (what the caller
    /// keeps elsewhere, such as rows, is its own to delete). A job that has not ended is never
    /// deleted; a deleted job is unknown afterwards (`None`, `NoSuchJob`).
    fn expire_ended(
        &self,
        ended_at_or_before_ms: u64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<String>, BrokerError>> + Send;

    /// `Running` with every chunk recorded -> `Succeeded` (`finished_at_ms = now_ms`), giving
    /// back the job's quota reservation (`ended: true`). Otherwise unchanged (`ended: false`):
    /// of concurrent calls on a job they finish, exactly one says it ended it. Returns the
    /// status after the call; errors with `NoSuchJob` for an unknown job.
    fn finish(&self, id: &str, now_ms: u64) -> impl Future<Output = Result<Ended, BrokerError>> + Send;

    /// A chunk failed for good: a non-terminal job -> `Failed` with `error = reason`,
    /// `chunks_failed += 1`, `finished_at_ms = now_ms`, its quota reservation given back
    /// (`ended: true`); a terminal job is unchanged (`ended: false`), so of concurrent calls
    /// exactly one says it ended the job. Returns the status after the call; errors with
    /// `NoSuchJob` for an unknown job.
    fn fail(
        &self,
        id: &str,
        chunk: u32,
        reason: &str,
        now_ms: u64,
    ) -> impl Future<Output = Result<Ended, BrokerError>> + Send;

    /// Tells watchers of job `id` that its status changed (pub/sub in Redis, so watchers on
    /// other replicas wake too).
    fn notify(&self, id: &str) -> impl Future<Output = Result<(), BrokerError>> + Send;

    /// A stream that yields `()` whenever [`JobStore::notify`] is called for `id` (by any
    /// replica). Notifications may be coalesced or, across a Redis reconnect, lost: watchers
    /// also re-read the status periodically.
    fn subscribe(
        &self,
        id: &str,
    ) -> impl Future<
        Output = Result<std::pin::Pin<Box<dyn futures_util::Stream<Item = ()> + Send>>, BrokerError>,
    > + Send;

    /// Whether the backend answers (health checks).
    fn ping(&self) -> impl Future<Output = Result<(), BrokerError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_names_are_the_stored_spellings_and_round_trip() {
        let names = JobState::ALL.map(JobState::name);
        assert_eq!(names, ["queued", "running", "succeeded", "failed", "cancelled"]);
        for state in JobState::ALL {
            assert_eq!(JobState::from_name(state.name()), Some(state));
        }
        for other in ["", "sleeping", "Queued", "canceled"] {
            assert_eq!(JobState::from_name(other), None, "{other:?}");
        }
    }
}
