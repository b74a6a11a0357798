//! The in-memory job store (embedded single-process mode and tests): the Redis store's
//! semantics over maps behind one mutex, notifications over a broadcast channel per job.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};

use futures_util::{Stream, StreamExt};
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;

use super::{CancelOutcome, ChunkRecorded, Ended, JobState, JobStatus, JobStore, NewJob, StopOutcome};
use crate::BrokerError;
use crate::quota::{self, JobQuota, QuotaExceeded, QuotaUsage};

/// Buffered notifications per job; a watcher further behind sees them coalesced into one.
const NOTIFY_BUFFER: usize = 16;

/// The job store in memory. Cheap to clone (clones share the jobs).
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    jobs: HashMap<String, Job>,
    /// `(submitted_at_ms, id)` of every job: newest first is this order reversed.
    index: BTreeSet<(u64, String)>,
    /// `(submitted_at_ms, id)` of non-terminal jobs with chunks left to enqueue, oldest first.
    dispatching: BTreeSet<(u64, String)>,
    /// Senders of jobs someone subscribed to.
    watchers: HashMap<String, broadcast::Sender<()>>,
    /// Per tenant: jobs not ended and their runs (like the Redis usage hash).
    usage: HashMap<String, QuotaUsage>,
    /// Runs submitted per tenant and UTC day (`YYYY-MM-DD`); days before yesterday are
    /// dropped, as the Redis counters expire.
    day_runs: HashMap<(String, String), u64>,
}

#[derive(Debug)]
struct Job {
    status: JobStatus,
    spec: Vec<u8>,
    /// Summaries not yet merged away.
    chunks: BTreeMap<u32, Vec<u8>>,
    /// Every chunk ever recorded (outlives the summaries, like the Redis bitmap).
    done: HashSet<u32>,
    merged: Option<(u32, Vec<u8>)>,
    /// The state stored by the last release that raised `chunks_released` with one.
    wave_state: Vec<u8>,
    /// Whether the job still holds its share of its tenant's quota (until it ends).
    reserved: bool,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a half-applied transition (each one
        // checks before it writes), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Inner {
    fn job_mut(&mut self, id: &str) -> Result<&mut Job, BrokerError> {
        self.jobs.get_mut(id).ok_or_else(|| BrokerError::NoSuchJob(id.to_owned()))
    }

    fn job(&self, id: &str) -> Result<&Job, BrokerError> {
        self.jobs.get(id).ok_or_else(|| BrokerError::NoSuchJob(id.to_owned()))
    }

    /// Keeps `dispatching` in step with the job's state and enqueued count.
    fn update_dispatching(&mut self, id: &str) {
        if let Some(job) = self.jobs.get(id) {
            let s = &job.status;
            let key = (s.submitted_at_ms, s.id.clone());
            if s.state.is_terminal() || s.chunks_enqueued >= s.chunks_total {
                self.dispatching.remove(&key);
            } else {
                self.dispatching.insert(key);
            }
        }
    }

    /// Applies a terminal transition to a non-terminal job; returns whether it did and the
    /// status after it.
    fn end(&mut self, id: &str, change: impl FnOnce(&mut JobStatus)) -> Option<(bool, JobStatus)> {
        let job = self.jobs.get_mut(id)?;
        let ended = !job.status.state.is_terminal();
        if ended {
            change(&mut job.status);
        }
        let status = job.status.clone();
        self.update_dispatching(id);
        if ended {
            self.release_quota(id);
        }
        Some((ended, status))
    }

    /// `Running` with every chunk recorded -> `Succeeded` (`finished_at_ms = now_ms`), giving
    /// back the job's reservation (like finish.lua); returns whether it did and the status
    /// after it.
    fn succeed_if_done(&mut self, id: &str, now_ms: u64) -> Result<Ended, BrokerError> {
        let s = &mut self.job_mut(id)?.status;
        let succeeded = s.state == JobState::Running && s.chunks_done >= s.chunks_total;
        if succeeded {
            s.state = JobState::Succeeded;
            s.finished_at_ms = Some(now_ms);
        }
        let status = s.clone();
        self.update_dispatching(id);
        if succeeded {
            self.release_quota(id);
        }
        Ok(Ended { ended: succeeded, status })
    }

    /// Truncates job `id` to its first `chunks` chunks (`runs` runs) if it may be (see
    /// [`JobStore::stop_early`]), giving back the runs no longer needed; returns whether it cut
    /// anything, or `None` when the job may not be truncated so.
    fn truncate(&mut self, id: &str, chunks: u32, runs: u64) -> Result<Option<bool>, BrokerError> {
        let job = self.job_mut(id)?;
        let s = &job.status;
        let fits = !s.state.is_terminal()
            && s.chunks_done <= chunks
            && chunks <= s.chunks_total
            && runs <= s.runs_total;
        if !fits {
            return Ok(None);
        }
        let unneeded = s.runs_total - runs;
        let cut = chunks < s.chunks_total || unneeded > 0;
        let s = &mut job.status;
        (s.chunks_total, s.chunks_released, s.runs_total) = (chunks, chunks, runs);
        let (tenant, day) = (s.tenant.clone(), quota::utc_day(s.submitted_at_ms));
        if job.reserved
            && let Some(held) = self.usage.get_mut(&tenant)
        {
            held.queued_runs = held.queued_runs.saturating_sub(unneeded);
        }
        // Only a day still counted (like the Redis counter, which is never recreated).
        if let Some(day_runs) = self.day_runs.get_mut(&(tenant, day)) {
            *day_runs = day_runs.saturating_sub(unneeded);
        }
        self.update_dispatching(id);
        Ok(Some(cut))
    }

    /// What `tenant` holds, with its runs on `day`.
    fn usage(&self, tenant: &str, day: &str) -> QuotaUsage {
        let held = self.usage.get(tenant).copied().unwrap_or_default();
        let today = self.day_runs.get(&(tenant.to_owned(), day.to_owned())).copied().unwrap_or(0);
        QuotaUsage { runs_today: today, ..held }
    }

    /// Reserves a new job's share of its tenant's quota.
    fn reserve_quota(&mut self, job: &NewJob, day: String) {
        let held = self.usage.entry(job.tenant.clone()).or_default();
        held.concurrent_jobs += 1;
        held.queued_runs += job.runs_total;
        // Older days can no longer be asked about (their Redis counters expire).
        let yesterday = quota::utc_day(job.submitted_at_ms.saturating_sub(86_400_000));
        self.day_runs.retain(|(_, d), _| *d >= yesterday);
        *self.day_runs.entry((job.tenant.clone(), day)).or_default() += job.runs_total;
    }

    /// Gives back what job `id` reserved, once (like end_job.lua).
    fn release_quota(&mut self, id: &str) {
        let Some(job) = self.jobs.get_mut(id) else { return };
        if !std::mem::take(&mut job.reserved) {
            return;
        }
        let (tenant, runs) = (job.status.tenant.clone(), job.status.runs_total);
        if let Some(held) = self.usage.get_mut(&tenant) {
            held.concurrent_jobs = held.concurrent_jobs.saturating_sub(1);
            held.queued_runs = held.queued_runs.saturating_sub(runs);
        }
    }
}

impl MemoryStore {
    /// `release.lua`: raises `chunks_released` of a non-terminal job, storing `state` only
    /// when it raises.
    fn raise(&self, id: &str, chunks: u32, state: Option<&[u8]>) -> Option<JobStatus> {
        let mut inner = self.lock();
        let job = inner.jobs.get_mut(id)?;
        let s = &mut job.status;
        let chunks = chunks.min(s.chunks_total);
        if !s.state.is_terminal() && chunks > s.chunks_released {
            s.chunks_released = chunks;
            if let Some(state) = state {
                job.wave_state = state.to_vec();
            }
        }
        Some(job.status.clone())
    }
}

fn chunk_out_of_range(id: &str, chunk: u32) -> BrokerError {
    BrokerError::Corrupt { what: "chunk index", detail: format!("chunk {chunk} is outside job {id}") }
}

impl JobStore for MemoryStore {
    async fn create_job_within(&self, job: &NewJob, quota: &JobQuota) -> Result<JobStatus, BrokerError> {
        let mut inner = self.lock();
        // Like Redis: an existing job is returned unchanged (a retried create resets nothing).
        if let Some(existing) = inner.jobs.get(&job.id) {
            return Ok(existing.status.clone());
        }
        // Checked and reserved under the one lock: concurrent creates never pass together.
        let day = quota::utc_day(job.submitted_at_ms);
        let usage = inner.usage(&job.tenant, &day);
        if let Some(limit) = usage.exceeded(quota, job.runs_total) {
            return Err(BrokerError::QuotaExceeded(QuotaExceeded::new(
                &job.tenant,
                limit,
                usage.used(limit),
                quota,
                job.runs_total,
                job.submitted_at_ms,
            )));
        }
        let status = JobStatus {
            id: job.id.clone(),
            tenant: job.tenant.clone(),
            name: job.name.clone(),
            kind: job.kind,
            state: JobState::Queued,
            runs_total: job.runs_total,
            runs_done: 0,
            chunk_size: job.chunk_size,
            chunks_total: job.chunks_total,
            chunks_released: job.chunks_released.min(job.chunks_total),
            chunks_enqueued: 0,
            chunks_done: 0,
            chunks_failed: 0,
            submitted_at_ms: job.submitted_at_ms,
            started_at_ms: None,
            finished_at_ms: None,
            error: None,
            trace_context: job.trace_context.clone(),
        };
        let stored = Job {
            status: status.clone(),
            spec: job.spec.clone(),
            chunks: BTreeMap::new(),
            done: HashSet::new(),
            merged: None,
            wave_state: Vec::new(),
            reserved: true,
        };
        inner.jobs.insert(job.id.clone(), stored);
        inner.index.insert((job.submitted_at_ms, job.id.clone()));
        inner.update_dispatching(&job.id);
        inner.reserve_quota(job, day);
        Ok(status)
    }

    async fn quota_usage(&self, tenant: &str, now_ms: u64) -> Result<QuotaUsage, BrokerError> {
        Ok(self.lock().usage(tenant, &quota::utc_day(now_ms)))
    }

    async fn job(&self, id: &str) -> Result<Option<JobStatus>, BrokerError> {
        Ok(self.lock().jobs.get(id).map(|j| j.status.clone()))
    }

    async fn spec(&self, id: &str) -> Result<Option<Vec<u8>>, BrokerError> {
        Ok(self.lock().jobs.get(id).map(|j| j.spec.clone()))
    }

    async fn list_jobs(
        &self,
        tenant: &str,
        before: Option<(u64, String)>,
        limit: usize,
    ) -> Result<Vec<JobStatus>, BrokerError> {
        let inner = self.lock();
        let newest_first: Box<dyn Iterator<Item = &(u64, String)>> = match before {
            None => Box::new(inner.index.iter().rev()),
            Some(cursor) => Box::new(inner.index.range(..cursor).rev()),
        };
        // One index for every tenant, filtered: the embedded mode has one tenant in practice.
        Ok(newest_first
            .filter_map(|(_, id)| inner.jobs.get(id))
            .filter(|j| j.status.tenant == tenant)
            .take(limit)
            .map(|j| j.status.clone())
            .collect())
    }

    async fn mark_enqueued(&self, id: &str, chunks: u32) -> Result<(), BrokerError> {
        let mut inner = self.lock();
        let job = inner.job_mut(id)?;
        job.status.chunks_enqueued = job.status.chunks_enqueued.max(chunks);
        inner.update_dispatching(id);
        Ok(())
    }

    async fn jobs_to_dispatch(&self) -> Result<Vec<JobStatus>, BrokerError> {
        let inner = self.lock();
        Ok(inner
            .dispatching
            .iter()
            .filter_map(|(_, id)| inner.jobs.get(id))
            .map(|j| j.status.clone())
            .collect())
    }

    async fn release(&self, id: &str, chunks: u32) -> Result<Option<JobStatus>, BrokerError> {
        Ok(self.raise(id, chunks, None))
    }

    async fn release_with_state(
        &self,
        id: &str,
        chunks: u32,
        state: &[u8],
    ) -> Result<Option<JobStatus>, BrokerError> {
        Ok(self.raise(id, chunks, Some(state)))
    }

    async fn wave_state(&self, id: &str) -> Result<Vec<u8>, BrokerError> {
        Ok(self.lock().jobs.get(id).map(|j| j.wave_state.clone()).unwrap_or_default())
    }

    async fn stop_early(
        &self,
        id: &str,
        chunks: u32,
        runs: u64,
        now_ms: u64,
    ) -> Result<Option<StopOutcome>, BrokerError> {
        let mut inner = self.lock();
        if !inner.jobs.contains_key(id) {
            return Ok(None);
        }
        let outcome = match inner.truncate(id, chunks, runs)? {
            Some(stopped) => StopOutcome { stopped, status: inner.succeed_if_done(id, now_ms)?.status },
            // Refused: nothing changes, not even a job that could finish.
            None => StopOutcome { stopped: false, status: inner.job(id)?.status.clone() },
        };
        Ok(Some(outcome))
    }

    async fn cancel(
        &self,
        id: &str,
        reason: &str,
        now_ms: u64,
    ) -> Result<Option<CancelOutcome>, BrokerError> {
        let ended = self.lock().end(id, |s| {
            s.state = JobState::Cancelled;
            s.finished_at_ms = Some(now_ms);
            s.error = Some(reason.to_owned());
        });
        Ok(ended.map(|(cancelled, status)| CancelOutcome { cancelled, status }))
    }

    async fn record_chunk(
        &self,
        id: &str,
        chunk: u32,
        runs: u64,
        summary: &[u8],
        now_ms: u64,
    ) -> Result<ChunkRecorded, BrokerError> {
        let mut inner = self.lock();
        let job = inner.job_mut(id)?;
        if chunk >= job.status.chunks_total {
            return Err(chunk_out_of_range(id, chunk));
        }
        if !job.done.insert(chunk) {
            return Ok(ChunkRecorded { recorded: false, status: job.status.clone() });
        }
        // Inside the merged prefix the bytes are already in the merge.
        if job.merged.as_ref().is_none_or(|(upto, _)| chunk >= *upto) {
            job.chunks.insert(chunk, summary.to_vec());
        }
        let s = &mut job.status;
        if !s.state.is_terminal() {
            s.chunks_done += 1;
            s.runs_done += runs;
            if s.state == JobState::Queued {
                s.state = JobState::Running;
                s.started_at_ms = Some(now_ms);
            }
        }
        Ok(ChunkRecorded { recorded: true, status: s.clone() })
    }

    async fn chunk_summaries(
        &self,
        id: &str,
        from: u32,
        to: u32,
    ) -> Result<Vec<Option<Vec<u8>>>, BrokerError> {
        let inner = self.lock();
        let job = inner.job(id)?;
        Ok((from..to).map(|c| job.chunks.get(&c).cloned()).collect())
    }

    async fn save_merged(&self, id: &str, upto: u32, merged: &[u8]) -> Result<(), BrokerError> {
        let mut inner = self.lock();
        let job = inner.job_mut(id)?;
        if upto > job.status.chunks_total {
            return Err(chunk_out_of_range(id, upto));
        }
        if job.merged.as_ref().is_some_and(|(stored, _)| upto <= *stored) {
            return Ok(());
        }
        job.merged = Some((upto, merged.to_vec()));
        // Keep only the unmerged tail: the merged chunks' bytes live on in the merge.
        job.chunks = job.chunks.split_off(&upto);
        Ok(())
    }

    async fn expire_ended(
        &self,
        ended_at_or_before_ms: u64,
        limit: usize,
    ) -> Result<Vec<String>, BrokerError> {
        let mut inner = self.lock();
        let mut ended: Vec<(u64, String)> = inner
            .jobs
            .values()
            .map(|job| &job.status)
            .filter(|s| s.state.is_terminal())
            .filter_map(|s| {
                s.finished_at_ms.filter(|&at| at <= ended_at_or_before_ms).map(|at| (at, s.id.clone()))
            })
            .collect();
        ended.sort_unstable();
        ended.truncate(limit);
        for (_, id) in &ended {
            if let Some(job) = inner.jobs.remove(id) {
                inner.index.remove(&(job.status.submitted_at_ms, job.status.id));
            }
            inner.watchers.remove(id);
        }
        Ok(ended.into_iter().map(|(_, id)| id).collect())
    }

    async fn merged(&self, id: &str) -> Result<Option<(u32, Vec<u8>)>, BrokerError> {
        Ok(self.lock().job(id)?.merged.clone())
    }

    async fn finish(&self, id: &str, now_ms: u64) -> Result<Ended, BrokerError> {
        self.lock().succeed_if_done(id, now_ms)
    }

    async fn fail(&self, id: &str, _chunk: u32, reason: &str, now_ms: u64) -> Result<Ended, BrokerError> {
        self.lock()
            .end(id, |s| {
                s.state = JobState::Failed;
                s.chunks_failed += 1;
                s.finished_at_ms = Some(now_ms);
                s.error = Some(reason.to_owned());
            })
            .map(|(ended, status)| Ended { ended, status })
            .ok_or_else(|| BrokerError::NoSuchJob(id.to_owned()))
    }

    async fn notify(&self, id: &str) -> Result<(), BrokerError> {
        let mut inner = self.lock();
        if let Some(sender) = inner.watchers.get(id) {
            // No receivers left: forget the sender so finished jobs do not pile up.
            if sender.send(()).is_err() {
                inner.watchers.remove(id);
            }
        }
        Ok(())
    }

    async fn subscribe(&self, id: &str) -> Result<Pin<Box<dyn Stream<Item = ()> + Send>>, BrokerError> {
        let receiver = self
            .lock()
            .watchers
            .entry(id.to_owned())
            .or_insert_with(|| broadcast::channel(NOTIFY_BUFFER).0)
            .subscribe();
        // A lagging receiver gets an error carrying how many it missed: one wake-up covers them.
        Ok(Box::pin(BroadcastStream::new(receiver).map(|_| ())))
    }

    async fn ping(&self) -> Result<(), BrokerError> {
        Ok(())
    }
}
