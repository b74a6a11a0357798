//! Driving the API while the faults land: `--in-flight` jobs kept running until the soak ends,
//! each polled until it ends, then the drain; calls that hit a fault retried with a backoff.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tanksim_e2e::api::{self, Client};
use tanksim_proto::v1::{Job, JobState};
use tokio::time::Instant;
use tonic::{Code, Status};

use crate::jobs::{Generated, JobGenerator};
use crate::{DRAIN_LIMIT, RETRIED};

/// How often each running job is polled (4 jobs: 16 GetJob calls a second, well within the
/// default per-tenant rate of 100).
const POLL: Duration = Duration::from_millis(250);
/// How long a call that hits a fault is retried. The longest fault, a Redis restart with
/// every service reconnecting, takes seconds.
const RETRY_LIMIT: Duration = Duration::from_secs(120);
/// First retry delay; doubled per attempt up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// One call's deadline (a 2,000-row dataset's export is ~8 MB).
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// How often the soak logs its progress.
const PROGRESS_EVERY: Duration = Duration::from_secs(15);

// ----- Calls that may hit a fault.

/// Errors a deployment shows while one of its processes or Redis is down.
fn transient(status: &Status) -> bool {
    matches!(
        status.code(),
        Code::Unavailable
            | Code::Internal
            | Code::Unknown
            | Code::DeadlineExceeded
            | Code::Cancelled
            | Code::ResourceExhausted
            | Code::Aborted
    )
}

/// `call` until it succeeds, retrying transient errors with a backoff for up to
/// [`RETRY_LIMIT`], each retry logged. `Err`: a permanent error, or still failing at the limit.
pub(crate) async fn with_retries<T, F, Fut>(what: &str, mut call: F) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Status>>,
{
    let deadline = Instant::now() + RETRY_LIMIT;
    let mut backoff = FIRST_BACKOFF;
    loop {
        let status = match tokio::time::timeout(CALL_TIMEOUT, call()).await {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(status)) => status,
            Err(_) => Status::deadline_exceeded(format!("no answer within {CALL_TIMEOUT:?}")),
        };
        if !transient(&status) {
            return Err(format!("{what}: {:?}: {}", status.code(), status.message()));
        }
        if Instant::now() + backoff > deadline {
            return Err(format!("{what}: still failing after {RETRY_LIMIT:?}: {status:?}"));
        }
        RETRIED.fetch_add(1, Ordering::Relaxed);
        log!("{what}: {:?} ({}); retrying in {backoff:?}", status.code(), status.message());
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Submits `generated`. A retried SubmitJob whose first answer was lost may have created the
/// job twice: the other copy runs unwatched, which costs only CPU. (The retried call owns its
/// client, so the driver's future is `Send` whether or not the client is `Sync`.)
async fn submit(client: &mut Client, generated: Generated) -> Result<Submitted, String> {
    let what = format!("SubmitJob({})", generated.spec.name);
    let at = Instant::now();
    let (client, spec) = (client.clone(), generated.spec.clone());
    let response = with_retries(&what, move || {
        let (mut client, spec) = (client.clone(), spec.clone());
        async move { client.submit_job(spec).await.map(tonic::Response::into_inner) }
    })
    .await?;
    let job = response.job.ok_or_else(|| format!("{what} answered without the job"))?;
    Ok(Submitted { generated, id: job.id, at, last: None })
}

// ----- The job driver.

/// A job the gateway accepted.
#[derive(Debug)]
pub(crate) struct Submitted {
    pub(crate) generated: Generated,
    pub(crate) id: String,
    /// When its SubmitJob was first sent.
    at: Instant,
    /// Its status at the last successful poll.
    pub(crate) last: Option<Job>,
}

/// A job that ended, or whose status could not be read for good (`Err`).
#[derive(Debug)]
pub(crate) struct Ended {
    pub(crate) submitted: Submitted,
    pub(crate) outcome: Result<Job, String>,
    pub(crate) latency_s: f64,
}

/// What the driver did.
#[derive(Debug, Default)]
pub(crate) struct Driven {
    pub(crate) ended: Vec<Ended>,
    /// Still not ended [`DRAIN_LIMIT`] after the soak.
    pub(crate) unfinished: Vec<Submitted>,
    /// SubmitJob calls that failed for good (submission stopped at the first).
    pub(crate) submit_errors: Vec<String>,
}

/// A stretch of failing polls, logged when it begins and ends rather than on every poll.
#[derive(Debug, Default)]
struct Outage {
    since: Option<Instant>,
}

impl Outage {
    fn failed(&mut self, status: &Status) {
        RETRIED.fetch_add(1, Ordering::Relaxed);
        if self.since.is_none() {
            log!("GetJob: {:?} ({}); polling on", status.code(), status.message());
            self.since = Some(Instant::now());
        }
    }

    fn answered(&mut self) {
        if let Some(since) = self.since.take() {
            log!("GetJob answers again after {:.2} s", since.elapsed().as_secs_f64());
        }
    }
}

/// Keeps `in_flight` jobs running until `stop_at`, then waits for them to end (at most
/// [`DRAIN_LIMIT`]).
pub(crate) async fn drive_jobs(
    mut client: Client,
    mut generator: JobGenerator,
    in_flight: usize,
    stop_at: Instant,
) -> Driven {
    let (mut driven, mut running, mut outage) = (Driven::default(), Vec::new(), Outage::default());
    let (mut submitting, mut draining) = (true, false);
    let mut next_progress = Instant::now() + PROGRESS_EVERY;
    loop {
        if submitting && Instant::now() < stop_at {
            while running.len() < in_flight {
                match submit(&mut client, generator.generate()).await {
                    Ok(submitted) => running.push(submitted),
                    Err(e) => {
                        log!("no more jobs: {e}");
                        driven.submit_errors.push(e);
                        submitting = false;
                        break;
                    }
                }
            }
        } else if running.is_empty() {
            return driven;
        } else if Instant::now() >= stop_at + DRAIN_LIMIT {
            log!("{} jobs not ended {DRAIN_LIMIT:?} after the soak", running.len());
            driven.unfinished = running;
            return driven;
        } else if !draining {
            draining = true;
            log!("no more submissions: waiting for the {} jobs still running", running.len());
        }
        running = poll(&mut client, running, &mut driven.ended, &mut outage).await;
        if Instant::now() >= next_progress {
            next_progress += PROGRESS_EVERY;
            let runs: u64 = driven.ended.iter().map(|e| e.submitted.generated.runs).sum();
            log!("{} jobs ended ({runs} runs), {} running", driven.ended.len(), running.len());
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Polls every running job once: those that ended go to `ended`, the others are returned.
async fn poll(
    client: &mut Client,
    running: Vec<Submitted>,
    ended: &mut Vec<Ended>,
    outage: &mut Outage,
) -> Vec<Submitted> {
    let mut still = Vec::with_capacity(running.len());
    for mut submitted in running {
        match api::get_job(client, &submitted.id).await {
            Ok(job) => {
                outage.answered();
                if api::is_terminal(&job) {
                    ended.push(end(submitted, Ok(job)));
                } else {
                    submitted.last = Some(job);
                    still.push(submitted);
                }
            }
            Err(status) if transient(&status) => {
                outage.failed(&status);
                still.push(submitted);
            }
            Err(status) => ended.push(end(submitted, Err(format!("GetJob: {status:?}")))),
        }
    }
    still
}

fn end(submitted: Submitted, outcome: Result<Job, String>) -> Ended {
    let latency_s = outcome
        .as_ref()
        .ok()
        .and_then(recorded_latency_s)
        .unwrap_or_else(|| submitted.at.elapsed().as_secs_f64());
    match &outcome {
        Ok(job) if job.state() != JobState::Succeeded => {
            log!(
                "job {} ({}) ended {:?}: {}",
                submitted.id,
                submitted.generated.spec.name,
                job.state(),
                job.error
            );
        }
        Ok(_) => {}
        Err(e) => log!("job {} ({}): {e}", submitted.id, submitted.generated.spec.name),
    }
    Ended { submitted, outcome, latency_s }
}

/// From the job's `submitted_at` to its `finished_at`, as the services recorded them.
fn recorded_latency_s(job: &Job) -> Option<f64> {
    let (Some(from), Some(to)) = (&job.submitted_at, &job.finished_at) else { return None };
    Some((to.seconds - from.seconds) as f64 + f64::from(to.nanos - from.nanos) * 1e-9)
}
