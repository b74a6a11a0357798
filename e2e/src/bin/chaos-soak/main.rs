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
//! cargo build --release -p tanksim-e2e --bins   # or `cargo test -p tanksim-e2e --no-run`: target/debug
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

// Before the `mod` lines: a `macro_rules!` macro is visible only in the code after it.
/// `eprintln!` with the seconds since the start.
macro_rules! log {
    ($($arg:tt)*) => {
        eprintln!("[{:>7.1} s] {}", $crate::since_start(), format_args!($($arg)*))
    };
}

mod drive;
mod faults;
mod jobs;
mod report;
mod verify;

use std::sync::OnceLock;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use tanksim_e2e::bench::{Rng, binaries_beside_exe, numeric_flags};
use tanksim_e2e::{Cluster, Options, Persistence};
use tokio::time::Instant;

use crate::drive::drive_jobs;
use crate::faults::inject_faults;
use crate::jobs::{JobGenerator, Kind};
use crate::report::Summary;
use crate::verify::verify_all;

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

// ----- Driving the API.

/// After `--seconds`, how long the jobs still running may take to end.
const DRAIN_LIMIT: Duration = Duration::from_secs(300);

/// API errors retried (calls and polls that hit a fault), over the whole run.
static RETRIED: AtomicU64 = AtomicU64::new(0);
/// When the run started: log lines carry the seconds since.
static START: OnceLock<Instant> = OnceLock::new();

fn since_start() -> f64 {
    START.get_or_init(Instant::now).elapsed().as_secs_f64()
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
    let args = tanksim_e2e::bench::or_exit_usage("chaos-soak", parse());
    since_start();
    let mut cluster = Cluster::start(binaries_beside_exe(), cluster_options(&args)).await;
    log!("cluster up: gateway {}, redis {}", cluster.gateway_url(), cluster.redis_url());
    let client = cluster.gateway_client();
    let mut rng = Rng::new(args.seed);
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
