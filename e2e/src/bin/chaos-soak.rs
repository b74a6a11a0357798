//! A bounded chaos soak: many jobs through the multi-process Redis deployment (gateway,
//! dispatcher, results, N workers, a private redis-server with its append-only file) for
//! `--seconds`, while workers, results, the dispatcher and Redis are killed at random. Then every
//! job must have SUCCEEDED with aggregates bit-identical to the embedded run of the same spec
//! with the same chunk size (`tanksim_e2e::reference`), and, for sweeps and datasets, every
//! exported row too. Prints a table to stderr and one JSON line to stdout; exits 0 only if every
//! job succeeded and was identical, 1 otherwise (listing the offending jobs), 64 on a bad
//! command line.
//!
//! What it proves: over hundreds of jobs and dozens of faults landing at arbitrary moments (not
//! the few chosen moments of `tests/e2e/faults.rs`), no fault loses a chunk, counts one twice,
//! changes the order summaries merge in, or leaves a job hanging; and the API's clients only
//! ever see errors worth retrying.
//!
//! The jobs: MC-tau with 20,000-400,000 runs, k-tau sweeps over grids of 6-36 x 10-40 points,
//! datasets of 200-2,000 rows, each with a seed of its own. `--in-flight` of them run at once, a
//! new one submitted as soon as one ends, until `--seconds`; then the jobs still running are
//! awaited (at most 5 minutes). A job's latency is from its `submitted_at` to its
//! `finished_at`, as the services recorded them.
//!
//! The faults, one every `--fault-every-ms` on average (each gap uniform in 0.5-1.5 times it),
//! one at a time, each undone before the next (so at most one worker is ever down, for 0-2 s
//! and its restart): SIGKILL a worker (20 %) or SIGTERM it (20 %) and start it again after
//! 0-2 s; SIGKILL results (20 %) or the dispatcher (20 %) and start it again after 0-2 s;
//! SIGKILL Redis and start it again on its append-only file (20 %). Calls to the gateway that
//! hit a fault (UNAVAILABLE and the like) are retried with a short backoff.
//!
//! `--seed` seeds the one PRNG every choice comes from: the same seed submits the same jobs and
//! injects the same faults, in the same order, with the same gaps (where a fault lands within
//! the jobs depends on timing).
//!
//! ```text
//! cargo build --release -p tanksim-e2e --bins
//! target/release/chaos-soak --seconds 300   # --workers 3 --seed 1 --in-flight 4 --fault-every-ms 4000
//! ```
//! The service binaries are the `e2e-*` ones next to this executable (same build). Set
//! `TANKSIM_E2E_KEEP_LOGS=1` to keep the processes' logs.
//!
//! What a run costs: `--seconds` with both cores busy, the drain (seconds, usually), then one
//! embedded reference run per job, one at a time, which redoes all the soak's simulation
//! in-process: budget about twice `--seconds` of wall clock, and up to about a gigabyte of disk
//! in temporary directories (dataset rows in results' data directory, Redis' append-only file),
//! removed at the end. It is not part of the test command (`cargo test` does not run it).

use std::future::Future;
use std::ops::RangeInclusive;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::json;
use tanksim_e2e::api::{self, Client};
use tanksim_e2e::bench::{binaries_beside_exe, median, numeric_flags};
use tanksim_e2e::{Cluster, Options, Persistence, reference};
use tanksim_proto::v1::{
    ExportRunsRequest, GetJobResultsRequest, GetJobResultsResponse, Job, JobState, RunRow, SubmitJobRequest,
    axis, submit_job_request,
};
use tokio::time::Instant;
use tonic::{Code, Status};

// ----- The command line's defaults.

const DEFAULT_SECONDS: u64 = 300;
const DEFAULT_WORKERS: usize = 3;
const DEFAULT_SEED: u64 = 1;
const DEFAULT_IN_FLIGHT: usize = 4;
const DEFAULT_FAULT_EVERY_MS: u64 = 4_000;

// ----- The cluster.

/// Runs per chunk: small, so an MC-tau job has 40-800 chunks and a sweep or dataset several,
/// and a fault nearly always lands between some job's first and last chunk. Also the embedded
/// references' chunk size: chunking decides the order summaries are merged in.
const CHUNK_SIZE: u64 = 500;
/// How long a delivered chunk may stay unacknowledged before another worker claims it: a
/// killed worker's chunks are redone within seconds, and a chunk (milliseconds of work) never
/// comes near it.
const VISIBILITY_TIMEOUT: Duration = Duration::from_secs(3);
/// How often the workers look for chunks idle past the visibility timeout.
const CLAIM_INTERVAL: Duration = Duration::from_millis(500);
/// Deliveries after which a chunk is dead-lettered and its job fails. Every SIGKILL of a
/// worker, and every Redis restart, leaves the chunks then in flight pending, to be delivered
/// once more; with the default of 3, a few faults catching the same chunk would fail a healthy
/// job, a failure of the harness rather than a bug. At 10, a chunk of a few milliseconds would
/// have to be caught by 10 faults seconds apart in a row: only a chunk that itself breaks
/// every worker that takes it gets there. (A results outage does not count: a worker that
/// cannot report hands the chunk back as a fresh entry.)
const MAX_DELIVERIES: u64 = 10;

// ----- The jobs.

/// Every job kind and how often it is chosen (weights, in percent).
const KIND_WEIGHTS: [(Kind, u64); 3] = [(Kind::MonteCarlo, 50), (Kind::Sweep, 20), (Kind::Dataset, 30)];
/// Runs of an MC-tau job.
const MC_RUNS: RangeInclusive<u64> = 20_000..=400_000;
/// Points of a sweep's gain axis (linear) and time-constant axis (geometric).
const SWEEP_GAINS: RangeInclusive<u64> = 6..=36;
const SWEEP_TAUS: RangeInclusive<u64> = 10..=40;
/// Runs (rows) of a dataset job.
const DATASET_RUNS: RangeInclusive<u64> = 200..=2_000;
/// Each job's seed.
const SEEDS: RangeInclusive<u64> = 1..=1_000_000;

// ----- The faults.

/// Every fault and how often it is chosen (weights, in percent): workers 40 %, results 20 %,
/// dispatcher 20 %, Redis 20 %.
const FAULT_WEIGHTS: [(Fault, u64); 5] = [
    (Fault::KillWorker, 20),
    (Fault::TermWorker, 20),
    (Fault::KillResults, 20),
    (Fault::KillDispatcher, 20),
    (Fault::RestartRedis, 20),
];
/// How long a killed or stopped process stays down before it is started again: uniform in
/// 0..=this.
const MAX_DOWNTIME_MS: u64 = 2_000;
/// How long a worker stopped with SIGTERM may take to exit beyond its shutdown grace, before
/// it is killed.
const TERM_SLACK: Duration = Duration::from_secs(5);

// ----- Driving the API.

/// How often each running job is polled (4 jobs: 16 GetJob calls a second, well within the
/// default per-tenant rate of 100).
const POLL: Duration = Duration::from_millis(250);
/// After `--seconds`, how long the jobs still running may take to end.
const DRAIN_LIMIT: Duration = Duration::from_secs(300);
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
/// How often the verification logs its progress, in jobs.
const VERIFY_PROGRESS_EVERY: usize = 25;

/// API errors retried (calls and polls that hit a fault), over the whole run.
static RETRIED: AtomicU64 = AtomicU64::new(0);
/// When the run started: log lines carry the seconds since.
static START: OnceLock<Instant> = OnceLock::new();

fn since_start() -> f64 {
    START.get_or_init(Instant::now).elapsed().as_secs_f64()
}

/// `eprintln!` with the seconds since the start.
macro_rules! log {
    ($($arg:tt)*) => {
        eprintln!("[{:>7.1} s] {}", since_start(), format_args!($($arg)*))
    };
}

struct Args {
    seconds: u64,
    workers: usize,
    seed: u64,
    in_flight: usize,
    fault_every_ms: u64,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        seconds: DEFAULT_SECONDS,
        workers: DEFAULT_WORKERS,
        seed: DEFAULT_SEED,
        in_flight: DEFAULT_IN_FLIGHT,
        fault_every_ms: DEFAULT_FAULT_EVERY_MS,
    };
    let count = |n: u64| usize::try_from(n).map(|n| n.max(1)).map_err(|e| e.to_string());
    for (flag, n) in numeric_flags()? {
        match flag.as_str() {
            "--seconds" => a.seconds = n.max(1),
            "--workers" => a.workers = count(n)?,
            "--seed" => a.seed = n,
            "--in-flight" => a.in_flight = count(n)?,
            "--fault-every-ms" => a.fault_every_ms = n.max(1),
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(a)
}

/// SplitMix64: a tiny, fast PRNG, plenty for choosing jobs and faults; a seed gives the same
/// sequence on every machine.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A generator seeded from this one. The job and fault loops each get their own, so the
    /// jobs submitted do not depend on how many faults came between them.
    fn split(&mut self) -> Rng {
        Rng(self.next_u64())
    }

    /// Uniform in `0..n`, `n > 0` (multiply-shift: the bias is below 2^-32 for any `n` here).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `range` (both ends included).
    fn within(&mut self, range: &RangeInclusive<u64>) -> u64 {
        range.start() + self.below(range.end() - range.start() + 1)
    }

    /// Uniform in `0..len`, `len > 0`.
    fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// One of `choices`, each as likely as its weight.
    fn weighted<T: Copy>(&mut self, choices: &[(T, u64)]) -> T {
        let mut x = self.below(choices.iter().map(|(_, w)| w).sum());
        for &(choice, weight) in choices {
            if x < weight {
                return choice;
            }
            x -= weight;
        }
        unreachable!("x is below the sum of the weights")
    }
}

// ----- The jobs.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    MonteCarlo,
    Sweep,
    Dataset,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::MonteCarlo => "monte_carlo",
            Kind::Sweep => "sweep",
            Kind::Dataset => "dataset",
        }
    }

    /// Whether the job's runs are exported as rows (compared with the reference's too).
    fn has_rows(self) -> bool {
        self != Kind::MonteCarlo
    }
}

/// A job to submit.
#[derive(Debug, Clone)]
struct Generated {
    /// 1 for the first job generated, and so on.
    number: u64,
    kind: Kind,
    runs: u64,
    spec: SubmitJobRequest,
}

/// The seeded sequence of jobs: the examples with runs, grid and seed varied.
struct JobGenerator {
    rng: Rng,
    made: u64,
    mc_tau: SubmitJobRequest,
    sweep: SubmitJobRequest,
    dataset: SubmitJobRequest,
}

impl JobGenerator {
    fn new(rng: Rng) -> Self {
        JobGenerator {
            rng,
            made: 0,
            mc_tau: api::example("mc-tau.yaml"),
            sweep: api::example("k-tau-sweep.yaml"),
            dataset: api::example("dataset-100k.yaml"),
        }
    }

    fn generate(&mut self) -> Generated {
        let kind = self.rng.weighted(&KIND_WEIGHTS);
        let seed = self.rng.within(&SEEDS);
        let (mut spec, runs) = match kind {
            Kind::MonteCarlo => {
                let runs = self.rng.within(&MC_RUNS);
                (monte_carlo(&self.mc_tau, runs, seed), runs)
            }
            Kind::Sweep => {
                let (gains, taus) = (self.rng.within(&SWEEP_GAINS), self.rng.within(&SWEEP_TAUS));
                (sweep(&self.sweep, gains as u32, taus as u32, seed), gains * taus)
            }
            Kind::Dataset => {
                let runs = self.rng.within(&DATASET_RUNS);
                (dataset(&self.dataset, runs, seed), runs)
            }
        };
        self.made += 1;
        spec.name = format!("soak-{}-{}", kind.name(), self.made);
        Generated { number: self.made, kind, runs, spec }
    }
}

/// mc-tau.yaml with `runs` runs and `seed`.
fn monte_carlo(template: &SubmitJobRequest, runs: u64, seed: u64) -> SubmitJobRequest {
    let mut spec = template.clone();
    match &mut spec.job {
        Some(submit_job_request::Job::MonteCarlo(mc)) => (mc.runs, mc.seed) = (runs, seed),
        other => panic!("mc-tau.yaml is not a Monte Carlo job: {other:?}"),
    }
    spec
}

/// k-tau-sweep.yaml over `gains` x `taus` points, with `seed`.
fn sweep(template: &SubmitJobRequest, gains: u32, taus: u32, seed: u64) -> SubmitJobRequest {
    let mut spec = template.clone();
    let sweep = match &mut spec.job {
        Some(submit_job_request::Job::Sweep(sweep)) => sweep,
        other => panic!("k-tau-sweep.yaml is not a sweep: {other:?}"),
    };
    sweep.seed = seed;
    let [gain_axis, tau_axis] = &mut sweep.axes[..] else {
        panic!("k-tau-sweep.yaml does not have two axes");
    };
    let (Some(axis::Values::Linspace(gain)), Some(axis::Values::Logspace(tau))) =
        (&mut gain_axis.values, &mut tau_axis.values)
    else {
        panic!("k-tau-sweep.yaml's axes are not a linspace and a logspace");
    };
    (gain.num, tau.num) = (gains, taus);
    spec
}

/// dataset-100k.yaml with `runs` runs and `seed`.
fn dataset(template: &SubmitJobRequest, runs: u64, seed: u64) -> SubmitJobRequest {
    let mut spec = template.clone();
    match &mut spec.job {
        Some(submit_job_request::Job::Dataset(ds)) => (ds.runs, ds.seed) = (runs, seed),
        other => panic!("dataset-100k.yaml is not a dataset job: {other:?}"),
    }
    spec
}

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
async fn with_retries<T, F, Fut>(what: &str, mut call: F) -> Result<T, String>
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

async fn fetch_results(client: &Client, id: &str) -> Result<GetJobResultsResponse, String> {
    with_retries(&format!("GetJobResults({id})"), || {
        let mut client = client.clone();
        let request = GetJobResultsRequest { id: id.to_owned(), ..Default::default() };
        async move { client.get_job_results(request).await.map(tonic::Response::into_inner) }
    })
    .await
}

async fn fetch_rows(client: &Client, id: &str) -> Result<(Vec<String>, Vec<RunRow>), String> {
    with_retries(&format!("ExportRuns({id})"), || export_runs(client.clone(), id.to_owned())).await
}

/// Every row ExportRuns streams, with the parameter names of its first message (like
/// `api::export_runs`, but an error is returned instead of panicking).
async fn export_runs(mut client: Client, id: String) -> Result<(Vec<String>, Vec<RunRow>), Status> {
    let mut stream = client.export_runs(ExportRunsRequest { id }).await?.into_inner();
    let (mut params, mut rows) = (None, Vec::new());
    while let Some(message) = stream.message().await? {
        params.get_or_insert(message.params);
        rows.extend(message.rows);
    }
    Ok((params.unwrap_or_default(), rows))
}

// ----- The job driver.

/// A job the gateway accepted.
#[derive(Debug)]
struct Submitted {
    generated: Generated,
    id: String,
    /// When its SubmitJob was first sent.
    at: Instant,
    /// Its status at the last successful poll.
    last: Option<Job>,
}

/// A job that ended, or whose status could not be read for good (`Err`).
#[derive(Debug)]
struct Ended {
    submitted: Submitted,
    outcome: Result<Job, String>,
    latency_s: f64,
}

/// What the driver did.
#[derive(Debug, Default)]
struct Driven {
    ended: Vec<Ended>,
    /// Still not ended [`DRAIN_LIMIT`] after the soak.
    unfinished: Vec<Submitted>,
    /// SubmitJob calls that failed for good (submission stopped at the first).
    submit_errors: Vec<String>,
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
async fn drive_jobs(
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

// ----- The fault loop.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    KillWorker = 0,
    TermWorker = 1,
    KillResults = 2,
    KillDispatcher = 3,
    RestartRedis = 4,
}

impl Fault {
    /// Its name in the summary (the index of its count is `self as usize`).
    const NAMES: [&'static str; FAULT_WEIGHTS.len()] =
        ["kill_worker", "term_worker", "kill_results", "kill_dispatcher", "restart_redis"];
}

/// What the fault loop did.
#[derive(Debug, Default)]
struct Faults {
    /// Faults injected, by [`Fault`].
    counts: [u64; FAULT_WEIGHTS.len()],
    /// Workers stopped with SIGTERM that did not exit 0 within their grace (and slack).
    unclean_terms: u64,
}

impl Faults {
    fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
}

/// Injects faults one at a time, each undone before the next, until `stop_at`.
async fn inject_faults(cluster: &mut Cluster, mut rng: Rng, mean_gap_ms: u64, stop_at: Instant) -> Faults {
    let gaps = mean_gap_ms / 2..=mean_gap_ms.saturating_mul(3) / 2;
    let mut faults = Faults::default();
    loop {
        let at = Instant::now() + Duration::from_millis(rng.within(&gaps));
        if at >= stop_at {
            return faults;
        }
        tokio::time::sleep_until(at).await;
        let fault = rng.weighted(&FAULT_WEIGHTS);
        let started = Instant::now();
        let what = inject(cluster, fault, &mut rng, &mut faults).await;
        faults.counts[fault as usize] += 1;
        log!(
            "fault {}: {what}; all serving again after {:.2} s",
            faults.total(),
            started.elapsed().as_secs_f64()
        );
    }
}

/// Injects `fault` and undoes it (the process started again and SERVING); describes it.
async fn inject(cluster: &mut Cluster, fault: Fault, rng: &mut Rng, faults: &mut Faults) -> String {
    let down = Duration::from_millis(rng.within(&(0..=MAX_DOWNTIME_MS)));
    let downtime = format!("down {:.2} s", down.as_secs_f64());
    match fault {
        Fault::KillWorker => {
            let i = rng.index(cluster.options().workers);
            let status = cluster.kill_worker(i);
            tokio::time::sleep(down).await;
            cluster.start_worker(i).await;
            format!("SIGKILL {} ({status}), {downtime}", cluster.worker_name(i))
        }
        Fault::TermWorker => {
            let i = rng.index(cluster.options().workers);
            let limit = cluster.options().shutdown_grace + TERM_SLACK;
            let (status, took) = cluster.term_worker(i, limit).await;
            let exit = match status {
                Some(status) if status.success() => format!("exited 0 after {:.2} s", took.as_secs_f64()),
                Some(status) => {
                    faults.unclean_terms += 1;
                    format!("exited with {status} after {:.2} s", took.as_secs_f64())
                }
                None => {
                    faults.unclean_terms += 1;
                    format!("still running {limit:?} after it: killed")
                }
            };
            tokio::time::sleep(down).await;
            cluster.start_worker(i).await;
            format!("SIGTERM {}: {exit}, {downtime}", cluster.worker_name(i))
        }
        Fault::KillResults => {
            cluster.kill_results();
            tokio::time::sleep(down).await;
            cluster.start_results().await;
            format!("SIGKILL results, {downtime}")
        }
        Fault::KillDispatcher => {
            cluster.kill_dispatcher();
            tokio::time::sleep(down).await;
            cluster.start_dispatcher().await;
            format!("SIGKILL dispatcher, {downtime}")
        }
        Fault::RestartRedis => {
            cluster.restart_redis().await;
            "SIGKILL Redis, started again on its append-only file".to_owned()
        }
    }
}

// ----- Verification.

/// Whether `ended` succeeded with its aggregates (and rows) identical to the embedded run's;
/// `Err` says how not. Reads the cluster's output first, then runs the reference.
async fn verify(client: &Client, ended: &Ended) -> Result<(), String> {
    let job = ended.outcome.as_ref().map_err(Clone::clone)?;
    let generated = &ended.submitted.generated;
    if job.state() != JobState::Succeeded {
        return Err(format!("ended {:?}: {}", job.state(), job.error));
    }
    let done = job.progress.as_ref().map(|p| (p.runs_done, p.runs_total)).unwrap_or_default();
    if done != (generated.runs, generated.runs) {
        return Err(format!("runs done / total {done:?}, the job has {} runs", generated.runs));
    }
    let results = fetch_results(client, &job.id).await?;
    let rows = if generated.kind.has_rows() { Some(fetch_rows(client, &job.id).await?) } else { None };
    let reference = reference::embedded(generated.spec.clone(), CHUNK_SIZE).await;
    api::same_results(&results, &reference.results)?;
    if let Some((params, rows)) = rows {
        if params != reference.params {
            return Err(format!("exported parameters {params:?}, the reference's {:?}", reference.params));
        }
        api::same_rows(&rows, &reference.rows)?;
    }
    Ok(())
}

/// Each ended job's verdict, in order, one reference run at a time (they are CPU-heavy).
async fn verify_all(client: &Client, ended: &[Ended]) -> Vec<Result<(), String>> {
    let mut verdicts = Vec::with_capacity(ended.len());
    for (i, job) in ended.iter().enumerate() {
        let verdict = verify(client, job).await;
        if let Err(reason) = &verdict {
            log!("job {} ({}): {reason}", job.submitted.id, job.submitted.generated.spec.name);
        }
        if (i + 1).is_multiple_of(VERIFY_PROGRESS_EVERY) {
            log!("verified {} of {} jobs", i + 1, ended.len());
        }
        verdicts.push(verdict);
    }
    verdicts
}

// ----- The summary.

/// The numbers of a run, for the table and the JSON line.
struct Summary {
    soak_s: f64,
    verify_s: f64,
    jobs_by_kind: Vec<(Kind, u64)>,
    jobs_total: usize,
    runs_total: u64,
    faults: Faults,
    identical: usize,
    unfinished: usize,
    latency_s_median: f64,
    latency_s_max: f64,
    retried: u64,
    worker_crashes: usize,
    /// Every job that did not succeed identically, and every submission that failed for good.
    offending: Vec<String>,
}

impl Summary {
    /// `timings`: the soak's seconds (with the drain) and the verification's.
    fn new(
        driven: &Driven,
        verdicts: &[Result<(), String>],
        faults: Faults,
        cluster: &Cluster,
        (soak_s, verify_s): (f64, f64),
    ) -> Summary {
        let submitted: Vec<&Submitted> =
            driven.ended.iter().map(|e| &e.submitted).chain(&driven.unfinished).collect();
        let jobs_by_kind = KIND_WEIGHTS
            .iter()
            .map(|&(kind, _)| (kind, submitted.iter().filter(|s| s.generated.kind == kind).count() as u64))
            .collect();
        let latencies: Vec<f64> =
            driven.ended.iter().filter(|e| e.outcome.is_ok()).map(|e| e.latency_s).collect();
        let mut offending: Vec<String> = driven
            .ended
            .iter()
            .zip(verdicts)
            .filter_map(|(e, v)| v.as_ref().err().map(|reason| describe(&e.submitted, reason)))
            .collect();
        offending.extend(driven.unfinished.iter().map(|s| {
            let last = match &s.last {
                Some(job) => {
                    let chunks =
                        job.progress.as_ref().map(|p| (p.chunks_done, p.chunks_total)).unwrap_or_default();
                    format!("{:?} with {} of {} chunks done", job.state(), chunks.0, chunks.1)
                }
                None => "never".to_owned(),
            };
            describe(s, &format!("not ended {DRAIN_LIMIT:?} after the soak; last seen {last}"))
        }));
        offending.extend(driven.submit_errors.iter().map(|e| format!("submission failed: {e}")));
        Summary {
            soak_s,
            verify_s,
            jobs_by_kind,
            jobs_total: submitted.len(),
            runs_total: submitted.iter().map(|s| s.generated.runs).sum(),
            faults,
            identical: verdicts.iter().filter(|v| v.is_ok()).count(),
            unfinished: driven.unfinished.len(),
            latency_s_median: median(latencies.clone()),
            latency_s_max: latencies.iter().copied().fold(f64::NAN, f64::max),
            retried: RETRIED.load(Ordering::Relaxed),
            worker_crashes: cluster.worker_crashes().len(),
            offending,
        }
    }

    /// Every job submitted ended SUCCEEDED and identical, and there was at least one.
    fn passed(&self) -> bool {
        self.offending.is_empty() && self.jobs_total > 0 && self.identical == self.jobs_total
    }

    fn json(&self, args: &Args) -> serde_json::Value {
        let jobs: serde_json::Map<String, serde_json::Value> =
            self.jobs_by_kind.iter().map(|(kind, n)| (kind.name().to_owned(), json!(n))).collect();
        let faults: serde_json::Map<String, serde_json::Value> = Fault::NAMES
            .iter()
            .zip(self.faults.counts)
            .map(|(name, n)| ((*name).to_owned(), json!(n)))
            .collect();
        json!({
            "seconds": args.seconds,
            "seed": args.seed,
            "workers": args.workers,
            "in_flight": args.in_flight,
            "fault_every_ms": args.fault_every_ms,
            "chunk_size": CHUNK_SIZE,
            "soak_s": self.soak_s,
            "verify_s": self.verify_s,
            "jobs_total": self.jobs_total,
            "jobs": jobs,
            "runs_total": self.runs_total,
            "faults_total": self.faults.total(),
            "faults": faults,
            "sigterm_not_exit_0": self.faults.unclean_terms,
            "worker_crashes": self.worker_crashes,
            "api_errors_retried": self.retried,
            "jobs_identical": self.identical,
            "jobs_unfinished": self.unfinished,
            "latency_s_median": self.latency_s_median,
            "latency_s_max": self.latency_s_max,
            "passed": self.passed(),
        })
    }

    fn print_table(&self, args: &Args) {
        let by_kind: Vec<String> =
            self.jobs_by_kind.iter().map(|(k, n)| format!("{} {n}", k.name())).collect();
        let faults: Vec<String> =
            Fault::NAMES.iter().zip(self.faults.counts).map(|(name, n)| format!("{name} {n}")).collect();
        eprintln!(
            "chaos soak {} s: seed {}, {} workers, {} jobs in flight, a fault every ~{} ms",
            args.seconds, args.seed, args.workers, args.in_flight, args.fault_every_ms
        );
        eprintln!("  soak (with the drain)    {:.1} s", self.soak_s);
        eprintln!("  chunk size               {CHUNK_SIZE} runs");
        eprintln!("  reference runs           {:.1} s", self.verify_s);
        eprintln!("  jobs                     {} ({})", self.jobs_total, by_kind.join(", "));
        eprintln!("  runs                     {}", self.runs_total);
        eprintln!("  faults                   {} ({})", self.faults.total(), faults.join(", "));
        eprintln!("  SIGTERM, not exit 0      {}", self.faults.unclean_terms);
        eprintln!("  worker crashes           {}", self.worker_crashes);
        eprintln!("  API errors retried       {}", self.retried);
        eprintln!("  identical / total        {} / {}", self.identical, self.jobs_total);
        eprintln!(
            "  job latency              median {:.2} s, max {:.2} s",
            self.latency_s_median, self.latency_s_max
        );
        for line in &self.offending {
            eprintln!("  FAILED: {line}");
        }
        eprintln!("  verdict                  {}", if self.passed() { "PASS" } else { "FAIL" });
    }
}

fn describe(s: &Submitted, reason: &str) -> String {
    let g = &s.generated;
    format!("job {} (#{} {}, {} runs, {}): {reason}", s.id, g.number, g.kind.name(), g.runs, g.spec.name)
}

// ----- The run.

fn cluster_options(args: &Args) -> Options {
    Options {
        workers: args.workers,
        chunk_size: CHUNK_SIZE,
        // Redis restarts keep every acknowledged write.
        persistence: Persistence::AppendOnly,
        visibility_timeout: VISIBILITY_TIMEOUT,
        claim_interval: CLAIM_INTERVAL,
        max_deliveries: MAX_DELIVERIES,
        ..Options::default()
    }
}

#[tokio::main]
async fn main() {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("chaos-soak: {e}");
            std::process::exit(64);
        }
    };
    since_start();
    let mut cluster = Cluster::start(binaries_beside_exe(), cluster_options(&args)).await;
    log!("cluster up: gateway {}, redis {}", cluster.gateway_url(), cluster.redis_url());
    let client = cluster.gateway_client();
    let mut rng = Rng(args.seed);
    let (jobs_rng, faults_rng) = (rng.split(), rng.split());

    let started = Instant::now();
    let stop_at = started + Duration::from_secs(args.seconds);
    let driver =
        tokio::spawn(drive_jobs(client.clone(), JobGenerator::new(jobs_rng), args.in_flight, stop_at));
    let faults = inject_faults(&mut cluster, faults_rng, args.fault_every_ms, stop_at).await;
    log!("{} faults injected; no more", faults.total());
    let driven = driver.await.expect("the job driver panicked");
    let soak_s = started.elapsed().as_secs_f64();

    log!("verifying {} jobs against the embedded run, one at a time", driven.ended.len());
    let verifying = Instant::now();
    let verdicts = verify_all(&client, &driven.ended).await;
    let timings = (soak_s, verifying.elapsed().as_secs_f64());
    let summary = Summary::new(&driven, &verdicts, faults, &cluster, timings);

    summary.print_table(&args);
    println!("{}", summary.json(&args));
    if !summary.passed() {
        eprintln!("===== chaos-soak: failed; process logs (tails):{}", cluster.report());
        // Exiting skips destructors: stop the cluster's processes first.
        drop(cluster);
        std::process::exit(1);
    }
}
