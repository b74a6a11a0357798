//! The scheduler: puts the chunks of every job with chunks left on the task stream, a few at a
//! time and fairly, so that no job or tenant starves the others.
//!
//! The stream holds a bounded backlog: the scheduler keeps the entries not yet delivered to a
//! worker (the group's lag) at `--queue-backlog` chunks, refilling it as workers take chunks,
//! and chooses whose chunks fill it by weighted round robin across tenants and round robin
//! across each tenant's jobs ([`crate::fair`]). A job submitted behind a giant one waits for
//! at most the backlog, not for the giant job's millions of chunks; two tenants with work
//! queued get the workers in the ratio of their weights (the quotas file's `weight`), however
//! many jobs each has; a cancelled job leaves the rotation at once and has at most its share
//! of the backlog on the stream (workers skip those chunks). KEDA scales the workers on the
//! same lag, so the backlog must be at least the worker ScaledObject's `maxReplicaCount x
//! lagCount` for it to reach its maximum (checked on the manifests).
//!
//! An adaptive job's chunks are released in waves (`chunks_released`, raised by the results
//! service after each wave): the scheduler places the released ones, keeps the job while it
//! waits for the next wave, and re-reads such waiting jobs every [`WAVE_POLL_EVERY`] to place
//! the next wave's chunks (or drop the job, stopped early or ended).
//!
//! Each job's progress is recorded after each append (`chunks_enqueued`), so a restarted
//! dispatcher resumes every unfinished job where it stopped (a chunk appended twice is
//! harmless: results count each chunk once). Redis errors are retried with backoff until the
//! dispatcher stops. One dispatcher schedules (the Deployment has one replica).
//!
//! Each job's enqueueing is traced as one `enqueue` span from when the scheduler takes it on
//! to when its last chunk is on the stream (or it leaves), a child of the job context stored
//! with the job (a restarted dispatcher continues the same trace); `chunk.first..chunk.end`
//! are the chunks it appended, and each task carries its context, so a worker's chunk span is
//! its child.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use metrics::{counter, gauge};
use tanksim_broker::{BrokerError, JobStatus, JobStore, Task, TaskQueue};
use tanksim_server::QuotaBook;
use tanksim_telemetry::metrics::names::{
    CHUNKS_SCHEDULED_TOTAL, LABEL_TENANT, OTHER_TENANTS, SCHEDULER_CHUNKS_WAITING, SCHEDULER_JOBS,
};
use tanksim_telemetry::propagation;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tracing::Span;
use tracing::field::Empty;

use crate::fair::FairQueue;

/// How often the backlog is looked at while the scheduler has chunks to place.
const POLL_EVERY: Duration = Duration::from_millis(50);
/// How often the jobs in the rotation are re-read (a job failed by the results service leaves;
/// a tenant's changed weight applies).
const RECHECK_EVERY: Duration = Duration::from_secs(1);
/// How often they are re-read while a job waits for its next wave (an adaptive job whose
/// released chunks are all on the stream): the wait adds to every wave, and one read of a few
/// statuses a hundred times a second is nothing to Redis.
const WAVE_POLL_EVERY: Duration = Duration::from_millis(10);

/// The scheduler's settings.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// Chunks kept on the stream not yet delivered to a worker.
    pub backlog: u32,
    /// Most chunks appended in one round trip.
    pub batch: u32,
    /// Where tenants' weights come from.
    pub quotas: QuotaBook,
}

/// Hands jobs to the scheduler task. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Scheduler {
    commands: mpsc::UnboundedSender<Command>,
    /// Chunks of the jobs in the rotation not yet on the stream, as the task last counted.
    waiting: Arc<AtomicU64>,
}

#[derive(Debug)]
enum Command {
    /// A job with chunks to place (new, or resumed after a restart).
    Take(Box<JobStatus>),
    /// A job that must place no more chunks (cancelled).
    Drop(String),
}

impl Scheduler {
    /// Starts the scheduler task, which runs until `stop` says true.
    pub fn start<Q: TaskQueue, S: JobStore>(
        queue: Q,
        store: S,
        schedule: Schedule,
        stop: watch::Receiver<bool>,
    ) -> (Scheduler, tokio::task::JoinHandle<()>) {
        let (commands, received) = mpsc::unbounded_channel();
        init_metrics(&schedule.quotas);
        let waiting = Arc::new(AtomicU64::new(0));
        let state = State {
            queue,
            store,
            schedule,
            fair: FairQueue::default(),
            jobs: HashMap::new(),
            checked: Instant::now(),
            waiting: Arc::clone(&waiting),
        };
        (Scheduler { commands, waiting }, tokio::spawn(state.run(received, stop)))
    }

    /// Chunks of every job in the rotation not yet on the stream (what load shedding compares
    /// with its mark), as the scheduler counted them after its last step: a job handed over
    /// a moment ago may not be counted yet.
    pub fn waiting_chunks(&self) -> u64 {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Schedules `job`'s chunks from its `chunks_enqueued` on.
    pub fn take(&self, job: JobStatus) {
        let _ = self.commands.send(Command::Take(Box::new(job)));
    }

    /// Places no more of job `id`'s chunks.
    pub fn drop_job(&self, id: &str) {
        let _ = self.commands.send(Command::Drop(id.to_owned()));
    }
}

/// A job in the rotation.
struct Scheduled {
    job: JobStatus,
    traced: Traced,
}

struct State<Q, S> {
    queue: Q,
    store: S,
    schedule: Schedule,
    fair: FairQueue,
    jobs: HashMap<String, Scheduled>,
    /// When the jobs in the rotation were last re-read.
    checked: Instant,
    /// Where [`FairQueue::waiting`] is published for [`Scheduler::waiting_chunks`].
    waiting: Arc<AtomicU64>,
}

/// What a step did.
enum Step {
    /// Nothing to place.
    Idle,
    /// The backlog is full.
    Full,
    /// Chunks appended.
    Appended,
}

impl<Q: TaskQueue, S: JobStore> State<Q, S> {
    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>, mut stop: watch::Receiver<bool>) {
        let mut backoff = Backoff::default();
        while !*stop.borrow() {
            while let Ok(command) = commands.try_recv() {
                self.command(command);
            }
            let stepped = self.step().await;
            self.publish();
            let wait = match stepped {
                Ok(Step::Appended) => {
                    backoff = Backoff::default();
                    continue;
                }
                Ok(Step::Full) => {
                    backoff = Backoff::default();
                    Some(POLL_EVERY)
                }
                Ok(Step::Idle) if self.waiting_for_wave() => Some(WAVE_POLL_EVERY),
                Ok(Step::Idle) => None,
                Err(e) => {
                    tracing::warn!(error = %e, retry_in_ms = backoff.millis(), "scheduling failed; retrying");
                    Some(backoff.next())
                }
            };
            tokio::select! {
                command = commands.recv() => match command {
                    Some(command) => {
                        self.command(command);
                        self.publish();
                    }
                    None => break,
                },
                _ = sleep(wait) => {}
                _ = stop.changed() => {}
            }
        }
        for (_, scheduled) in self.jobs.drain() {
            scheduled.traced.finish();
        }
    }

    /// The rotation's size, for the gauges and for load shedding.
    fn publish(&self) {
        let waiting = self.fair.waiting();
        self.waiting.store(waiting, Ordering::Relaxed);
        gauge!(SCHEDULER_JOBS).set(self.jobs.len() as f64);
        gauge!(SCHEDULER_CHUNKS_WAITING).set(waiting as f64);
    }

    fn command(&mut self, command: Command) {
        match command {
            Command::Take(job) => self.insert(*job),
            Command::Drop(id) => self.remove(&id),
        }
    }

    fn insert(&mut self, job: JobStatus) {
        if job.state.is_terminal() || job.chunks_enqueued >= job.chunks_total {
            return;
        }
        let weight = self.schedule.quotas.for_tenant(&job.tenant).weight;
        // Chunks past the released ones wait for their wave (none at all, when the released
        // ones are all on the stream already).
        self.fair.insert(&job.tenant, weight, &job.id, job.chunks_enqueued, job.chunks_released);
        if !self.jobs.contains_key(&job.id) {
            let traced = Traced::new(&job);
            self.jobs.insert(job.id.clone(), Scheduled { job, traced });
        }
    }

    fn remove(&mut self, id: &str) {
        self.fair.remove(id);
        if let Some(scheduled) = self.jobs.remove(id) {
            scheduled.traced.finish();
        }
    }

    /// Whether a job in the rotation has every released chunk on the stream and more to come.
    fn waiting_for_wave(&self) -> bool {
        self.jobs.values().any(|s| s.traced.end >= s.job.chunks_released && s.traced.end < s.job.chunks_total)
    }

    /// Re-reads the jobs in the rotation, fills the backlog.
    async fn step(&mut self) -> Result<Step, BrokerError> {
        let recheck_every = if self.waiting_for_wave() { WAVE_POLL_EVERY } else { RECHECK_EVERY };
        if self.checked.elapsed() >= recheck_every {
            self.recheck().await?;
        }
        if self.fair.is_empty() {
            return Ok(Step::Idle);
        }
        // Entries no worker has taken: acknowledged entries are deleted, so the stream's length
        // less the pending ones (the group's lag, also before any worker created the group).
        let stats = self.queue.stats().await?;
        let waiting = stats.length.saturating_sub(stats.pending);
        let room =
            u64::from(self.schedule.backlog).saturating_sub(waiting).min(u64::from(self.schedule.batch));
        if room == 0 {
            return Ok(Step::Full);
        }
        let slots = self.fair.take(usize::try_from(room).unwrap_or(usize::MAX));
        // Per job: its first chunk in this batch and one past its last.
        let mut appended: HashMap<&str, (u32, u32)> = HashMap::new();
        let mut tasks = Vec::with_capacity(slots.len());
        for slot in &slots {
            let scheduled = &self.jobs[&*slot.job_id];
            tasks.push(task(&scheduled.job, slot.chunk, &scheduled.traced.context));
            let range = appended.entry(&*slot.job_id).or_insert((slot.chunk, slot.chunk));
            range.1 = slot.chunk + 1;
        }
        if let Err(e) = self.queue.enqueue(&tasks).await {
            for (id, (first, _)) in &appended {
                // A job whose last chunks were taken has left the rotation: back in it.
                if !self.fair.rewind(id, *first) {
                    let job = &self.jobs[*id].job;
                    let weight = self.schedule.quotas.for_tenant(&job.tenant).weight;
                    self.fair.insert(&job.tenant, weight, id, *first, job.chunks_released);
                }
            }
            return Err(e);
        }
        self.count(&slots);
        let ends: Vec<(String, u32)> =
            appended.into_iter().map(|(id, (_, end))| (id.to_owned(), end)).collect();
        for (id, end) in ends {
            // Not retried: a restart would append those chunks again, which is harmless.
            if let Err(e) = self.store.mark_enqueued(&id, end).await {
                tracing::warn!(job_id = %id, error = %e, "recording the job's progress failed");
            }
            let Some(scheduled) = self.jobs.get_mut(&id) else { continue };
            scheduled.traced.end = end;
            if end >= scheduled.job.chunks_total {
                tracing::debug!(job_id = %id, chunks = end, "every chunk enqueued");
                self.remove(&id);
            }
        }
        Ok(Step::Appended)
    }

    /// Counts appended chunks by tenant.
    fn count(&self, slots: &[crate::fair::Slot]) {
        let quotas = self.schedule.quotas.get();
        let mut by_tenant: HashMap<String, u64> = HashMap::new();
        for slot in slots {
            if let Some(scheduled) = self.jobs.get(&*slot.job_id) {
                *by_tenant.entry(quotas.metric_tenant(&scheduled.job.tenant)).or_default() += 1;
            }
        }
        for (tenant, chunks) in by_tenant {
            counter!(CHUNKS_SCHEDULED_TOTAL, LABEL_TENANT => tenant).increment(chunks);
        }
    }

    /// Drops the jobs that ended meanwhile (failed, cancelled elsewhere, gone, or stopped
    /// early at what is on the stream), places the chunks of waves released meanwhile and
    /// applies the tenants' current weights: one read of every job's status.
    async fn recheck(&mut self) -> Result<(), BrokerError> {
        let ids: Vec<String> = self.jobs.keys().cloned().collect();
        let statuses = self.store.jobs(&ids).await?;
        for (id, status) in ids.into_iter().zip(statuses) {
            match status {
                Some(job) if !job.state.is_terminal() => {
                    let weight = self.schedule.quotas.for_tenant(&job.tenant).weight;
                    self.fair.set_weight(&job.tenant, weight);
                    let Some(scheduled) = self.jobs.get_mut(&id) else { continue };
                    let end = scheduled.traced.end;
                    if end >= job.chunks_total {
                        tracing::debug!(job_id = %id, chunks = job.chunks_total, "the job stopped early");
                        self.remove(&id);
                        continue;
                    }
                    if job.chunks_released > scheduled.job.chunks_released {
                        tracing::debug!(job_id = %id, released = job.chunks_released, "the next wave is released");
                        self.fair.insert(&job.tenant, weight, &id, end, job.chunks_released);
                    }
                    scheduled.job.chunks_released = job.chunks_released;
                    scheduled.job.chunks_total = job.chunks_total;
                    scheduled.job.runs_total = job.runs_total;
                }
                Some(_) | None => {
                    tracing::debug!(job_id = %id, "the job ended before all its chunks were enqueued");
                    self.remove(&id);
                }
            }
        }
        self.checked = Instant::now();
        Ok(())
    }
}

/// Creates the scheduler's series at zero: the per-tenant counters of the tenants the quotas
/// file names and of all others.
fn init_metrics(quotas: &QuotaBook) {
    gauge!(SCHEDULER_JOBS).set(0.0);
    gauge!(SCHEDULER_CHUNKS_WAITING).set(0.0);
    let quotas = quotas.get();
    for tenant in std::iter::once(OTHER_TENANTS).chain(quotas.listed_tenants()) {
        counter!(CHUNKS_SCHEDULED_TOTAL, LABEL_TENANT => tenant.to_owned()).increment(0);
    }
}

async fn sleep(wait: Option<Duration>) {
    match wait {
        Some(wait) => tokio::time::sleep(wait).await,
        None => std::future::pending().await,
    }
}

/// The `enqueue` span of a job, while the scheduler has it.
struct Traced {
    span: Span,
    /// The span's context, carried by every task of the job.
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

    /// Ends the span (once: a field recorded twice would be exported twice).
    fn finish(self) {
        self.span.record("chunk.end", i64::from(self.end));
    }
}

/// The task of chunk `chunk` of `job` (its runs from the job's [`JobStatus::layout`]),
/// carrying `trace_context`. A chunk the layout lacks (a status this dispatcher never records)
/// gets no runs: workers fail such a chunk, and results would refuse its report.
fn task(job: &JobStatus, chunk: u32, trace_context: &[(String, String)]) -> Task {
    let runs =
        job.layout().and_then(|layout| layout.runs_of(chunk)).unwrap_or(job.runs_total..job.runs_total);
    Task {
        job_id: job.id.clone(),
        chunk,
        run_start: runs.start,
        run_end: runs.end,
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

    /// The current delay; the next is twice as long.
    fn next(&mut self) -> Duration {
        let delay = self.0;
        self.0 = (self.0 * 2).min(Duration::from_secs(5));
        delay
    }
}
