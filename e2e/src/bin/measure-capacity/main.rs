//! Capacity measurements behind docs/capacity.md, on this machine, with the real binaries and
//! code paths:
//!
//! 1. **One worker pod** (one CPU, one simulation thread, as deploy/base/worker.yaml) running
//!    MC-tau jobs through the whole deployment (private redis-server, gateway, dispatcher,
//!    results as processes, pinned to the other CPU), interleaved round by round with the
//!    sim-core kernel on the worker's CPU; the same for dataset jobs (rows written by
//!    results); optionally at other chunk sizes. Per round: runs/s (wall, from the job's own
//!    timestamps), runs per worker CPU-second, and per chunk the CPU of results, dispatcher
//!    and Redis's main thread and the Redis commands issued.
//! 2. **The task stream**: a big job enqueued by the dispatcher (entries/s, Redis CPU and
//!    memory per entry), consumers doing what workers do (`XREADGROUP` + `XACK`/`XDEL`) with 1
//!    to N concurrent consumers, and the memory of delivered-but-unacknowledged entries.
//! 3. **Job state**: the bytes a finished job leaves in Redis, and the bytes per chunk summary
//!    waiting to be merged behind a missing chunk.
//!
//! ```text
//! cargo build --release -p tanksim-e2e --bins
//! target/release/measure-capacity [--parts pod,chunks,stream] [--rounds 5] [--runs 1000000]
//!     [--dataset-runs 50000] [--dataset-rounds 3] [--chunk-sizes 1000,100000] [--sweep-rounds 3]
//!     [--stream-entries 200000] [--stream-rounds 3] [--consumers 1,8,32] [--gap-summaries 1000]
//!     [--worker process|podman] [--image ghcr.io/tanksim/tanksim-worker:local]
//!     [--worker-cpu 0] [--services-cpu 1]
//! ```
//! scripts/measure-capacity.sh builds and runs it. Progress and tables go to stderr, one JSON
//! object with every median to stdout. Needs `redis-server` and `taskset` (and podman with
//! `--worker podman`).

mod deployment;
mod kernel;
mod probe;
mod state;
mod stream;

use std::collections::BTreeMap;

use serde_json::{Value, json};
use tanksim_e2e::bench::median;

use crate::deployment::{Deployment, JobRun, Placement, WorkerMode};
use crate::kernel::{KernelRun, Kind};

/// The deployed chunk size (deploy/base/kustomization.yaml, TANKSIM_CHUNK_SIZE).
const DEPLOYED_CHUNK: u64 = 10_000;
/// Chunk size of the stream measurement's job: many entries from a job of legal size.
const STREAM_CHUNK: u64 = 100;

#[derive(Debug)]
struct Args {
    parts: Vec<String>,
    rounds: usize,
    runs: u64,
    dataset_runs: u64,
    dataset_rounds: usize,
    chunk_sizes: Vec<u64>,
    sweep_rounds: usize,
    stream_entries: u64,
    stream_rounds: usize,
    consumers: Vec<usize>,
    gap_summaries: u32,
    worker: WorkerMode,
    placement: Placement,
}

fn list<T: std::str::FromStr>(flag: &str, value: &str) -> Result<Vec<T>, String> {
    value.split(',').map(|v| v.trim().parse().map_err(|_| format!("{flag}: bad item {v:?}"))).collect()
}

fn number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value.parse().map_err(|_| format!("{flag}: not a number: {value:?}"))
}

fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut a = Args {
        parts: vec!["pod".into(), "chunks".into(), "stream".into()],
        rounds: 5,
        runs: 1_000_000,
        dataset_runs: 50_000,
        dataset_rounds: 3,
        chunk_sizes: vec![1_000, 100_000],
        sweep_rounds: 3,
        stream_entries: 200_000,
        stream_rounds: 3,
        consumers: vec![1, 8, 32],
        gap_summaries: 1_000,
        worker: WorkerMode::Process,
        placement: Placement { worker_cpu: 0, services_cpu: 1 },
    };
    let mut image = "ghcr.io/tanksim/tanksim-worker:local".to_owned();
    let mut podman = false;
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--parts" => a.parts = list(&flag, &value)?,
            "--rounds" => a.rounds = number(&flag, &value)?,
            "--runs" => a.runs = number(&flag, &value)?,
            "--dataset-runs" => a.dataset_runs = number(&flag, &value)?,
            "--dataset-rounds" => a.dataset_rounds = number(&flag, &value)?,
            "--chunk-sizes" => a.chunk_sizes = list(&flag, &value)?,
            "--sweep-rounds" => a.sweep_rounds = number(&flag, &value)?,
            "--stream-entries" => a.stream_entries = number(&flag, &value)?,
            "--stream-rounds" => a.stream_rounds = number(&flag, &value)?,
            "--consumers" => a.consumers = list(&flag, &value)?,
            "--gap-summaries" => a.gap_summaries = number(&flag, &value)?,
            "--worker" => match value.as_str() {
                "process" => podman = false,
                "podman" => podman = true,
                other => return Err(format!("--worker: process or podman, not {other:?}")),
            },
            "--image" => image = value,
            "--worker-cpu" => a.placement.worker_cpu = number(&flag, &value)?,
            "--services-cpu" => a.placement.services_cpu = number(&flag, &value)?,
            other => return Err(format!("unknown option {other}")),
        }
    }
    if podman {
        a.worker = WorkerMode::Podman { image };
    }
    if a.rounds == 0 || a.runs == 0 || a.stream_entries == 0 {
        return Err("--rounds, --runs and --stream-entries must be positive".into());
    }
    if let Some(p) = a.parts.iter().find(|p| !["pod", "chunks", "stream"].contains(&p.as_str())) {
        return Err(format!("--parts: unknown part {p:?} (pod, chunks, stream)"));
    }
    Ok(a)
}

/// Rounds a figure for the JSON (enough digits to read, not noise).
fn round(x: f64, digits: i32) -> Value {
    if !x.is_finite() {
        return Value::Null;
    }
    let scale = 10f64.powi(digits);
    json!((x * scale).round() / scale)
}

/// One round: the kernel on the worker's CPU and the same runs through the deployment, in
/// alternating order (so neither always runs first on a machine whose load drifts).
async fn round_of(
    dep: &Deployment,
    kind: Kind,
    runs: u64,
    cpu: usize,
    kernel_first: bool,
) -> (KernelRun, JobRun) {
    let kernel = || tokio::task::spawn_blocking(move || kernel::measure(kind, runs, cpu));
    if kernel_first {
        let k = kernel().await.expect("kernel task");
        (k, dep.run_job(kind.spec(runs)).await)
    } else {
        let j = dep.run_job(kind.spec(runs)).await;
        (kernel().await.expect("kernel task"), j)
    }
}

/// Medians over rounds of one workload at one chunk size.
fn pod_figures(rounds: &[(KernelRun, JobRun)]) -> Value {
    let m = |f: &dyn Fn(&KernelRun, &JobRun) -> f64| median(rounds.iter().map(|(k, j)| f(k, j)).collect());
    let per_chunk = |process: &'static str| m(&move |_, j| j.cpu_of(process) / j.chunks as f64 * 1e6);
    let last = &rounds.last().expect("at least one round").1;
    let calls: BTreeMap<&String, f64> = last
        .calls
        .iter()
        .map(|(cmd, n)| (cmd, (*n as f64 / last.chunks as f64 * 100.0).round() / 100.0))
        .collect();
    json!({
        "runs": last.runs,
        "chunk_size": last.chunk_size,
        "chunks": last.chunks,
        "rounds": rounds.len(),
        "pod_runs_per_s": round(m(&|_, j| j.per_wall_s()), 0),
        "pod_runs_per_s_steady": round(m(&|_, j| j.per_steady_s()), 0),
        "kernel_runs_per_s": round(m(&|k, _| k.per_wall_s()), 0),
        "pod_over_kernel": round(m(&|k, j| j.per_wall_s() / k.per_wall_s()), 3),
        "pod_runs_per_worker_cpu_s": round(m(&|_, j| j.runs as f64 / j.cpu_of("worker-0")), 0),
        "kernel_runs_per_cpu_s": round(m(&|k, _| k.per_cpu_s()), 0),
        "pod_cpu_efficiency_over_kernel": round(m(&|k, j| (j.runs as f64 / j.cpu_of("worker-0")) / k.per_cpu_s()), 3),
        "worker_cpu_share_of_wall": round(m(&|_, j| j.cpu_of("worker-0") / j.wall_s), 3),
        "per_chunk_cpu_us": {
            "redis_main_thread": round(m(&|_, j| j.redis_cpu() / j.chunks as f64 * 1e6), 1),
            "results": round(per_chunk("results"), 1),
            "dispatcher": round(per_chunk("dispatcher"), 1),
            "gateway": round(per_chunk("gateway"), 1),
            "worker": round(per_chunk("worker-0"), 1),
        },
        "redis_aof_bytes_per_chunk": round(m(&|_, j| j.before.aof_appended(&j.after) / j.chunks as f64), 0),
        "redis_calls_per_chunk_last_round": calls,
    })
}

fn print_round(label: &str, i: usize, k: &KernelRun, j: &JobRun) {
    eprintln!(
        "{label} round {}: kernel {:.0} runs/s ({:.0}/cpu-s); pod {:.0} runs/s (steady {:.0}), worker {:.0} runs/cpu-s, {:.2} CPU busy; ratio {:.3}; per chunk: redis {:.0} us, results {:.0} us, AOF {:.0} B",
        i + 1,
        k.per_wall_s(),
        k.per_cpu_s(),
        j.per_wall_s(),
        j.per_steady_s(),
        j.runs as f64 / j.cpu_of("worker-0"),
        j.cpu_of("worker-0") / j.wall_s,
        j.per_wall_s() / k.per_wall_s(),
        j.redis_cpu() / j.chunks as f64 * 1e6,
        j.cpu_of("results") / j.chunks as f64 * 1e6,
        j.before.aof_appended(&j.after) / j.chunks as f64,
    );
}

/// `rounds` rounds of `kind` on `dep`.
async fn rounds_of(
    dep: &Deployment,
    a: &Args,
    kind: Kind,
    runs: u64,
    rounds: usize,
) -> Vec<(KernelRun, JobRun)> {
    let label = format!("{} x{runs}", kind.name());
    let mut out = Vec::new();
    for i in 0..rounds {
        let (k, j) = round_of(dep, kind, runs, a.placement.worker_cpu, i % 2 == 0).await;
        print_round(&label, i, &k, &j);
        out.push((k, j));
    }
    out
}

/// Part 1 at the deployed chunk size: MC-tau, dataset, and the job state they leave.
async fn pod(a: &Args) -> Value {
    let dep = Deployment::start(1, DEPLOYED_CHUNK, &a.worker, a.placement).await;
    eprintln!("deployment up (worker {:?}); warming up", a.worker);
    dep.run_job(Kind::McTau.spec(100_000)).await;
    let mc = rounds_of(&dep, a, Kind::McTau, a.runs, a.rounds).await;
    let mut dataset = Vec::new();
    let mut rows_per_run = Vec::new();
    let label = format!("dataset x{}", a.dataset_runs);
    for i in 0..a.dataset_rounds {
        let (k, j) = round_of(&dep, Kind::Dataset, a.dataset_runs, a.placement.worker_cpu, i % 2 == 0).await;
        print_round(&label, i, &k, &j);
        rows_per_run.push(dep.take_rows(&j.id) as f64 / j.runs as f64);
        dataset.push((k, j));
    }
    let mc_keys = state::job_keys(&dep.redis, &mc.last().expect("a round").1.id).await;
    let ds_keys = match dataset.last() {
        Some((_, j)) => Some(state::job_keys(&dep.redis, &j.id).await),
        None => None,
    };
    let gap = state::unmerged(&dep.cluster.redis_url(), &dep.redis, a.gap_summaries).await;
    eprintln!("job state, MC-tau job of {} chunks: {mc_keys:?}; dataset: {ds_keys:?}", mc_keys.chunks_total);
    eprintln!(
        "unmerged summaries: {} x {} encoded bytes -> {} bytes in the hash ({:.0} per summary)",
        gap.summaries,
        gap.encoded_bytes,
        gap.hash_bytes,
        gap.hash_bytes as f64 / gap.summaries as f64
    );
    let keys = |k: &state::JobKeys| {
        json!({
            "chunks_total": k.chunks_total, "job_hash": k.job, "spec": k.spec, "chunks_hash": k.chunks,
            "done_bitmap": k.done, "merged": k.merged, "index_share": k.index_share, "total": k.total(),
        })
    };
    let mut dataset_json = if dataset.is_empty() { Value::Null } else { pod_figures(&dataset) };
    if let Value::Object(map) = &mut dataset_json {
        map.insert("rows_disk_bytes_per_run".into(), round(median(rows_per_run), 1));
    }
    json!({
        "mc_tau": pod_figures(&mc),
        "dataset": dataset_json,
        "job_state_bytes": {
            "mc_tau": keys(&mc_keys),
            "dataset": ds_keys.as_ref().map(keys),
            "unmerged_summary": {
                "summaries": gap.summaries,
                "encoded_bytes": gap.encoded_bytes,
                "hash_bytes_per_summary": round(gap.hash_bytes as f64 / gap.summaries as f64, 0),
            },
        },
    })
}

/// Part 1 at other chunk sizes (MC-tau only).
async fn chunk_sweep(a: &Args) -> Value {
    let mut out = Vec::new();
    for &chunk in &a.chunk_sizes {
        let dep = Deployment::start(1, chunk, &a.worker, a.placement).await;
        dep.run_job(Kind::McTau.spec(100_000)).await;
        let rounds = rounds_of(&dep, a, Kind::McTau, a.runs, a.sweep_rounds).await;
        out.push(pod_figures(&rounds));
    }
    Value::Array(out)
}

/// Part 2: the task stream.
async fn stream_limits(a: &Args) -> Value {
    let dep = Deployment::start(0, STREAM_CHUNK, &WorkerMode::Process, a.placement).await;
    let me = std::process::id();
    let (mut enqueues, mut pendings) = (Vec::new(), Vec::new());
    let mut consumes: BTreeMap<usize, Vec<stream::ConsumeRun>> = BTreeMap::new();
    for round in 0..a.stream_rounds {
        probe::pin(me, a.placement.services_cpu).expect("pinning this process");
        let e = stream::enqueue(&dep, a.stream_entries * STREAM_CHUNK).await;
        eprintln!(
            "stream round {}: enqueued {} entries in {:.2} s from SubmitJob ({:.0}/s; first to last {:.0}/s); redis {:.2} us/entry, dispatcher {:.2} us/entry; stream {:.1} B/entry, used_memory {:.1} B/entry",
            round + 1,
            e.entries,
            e.from_submit_s,
            e.entries as f64 / e.from_submit_s,
            e.entries as f64 / e.first_to_last_s,
            e.redis_cpu_s / e.entries as f64 * 1e6,
            e.dispatcher_cpu_s / e.entries as f64 * 1e6,
            e.stream_bytes as f64 / e.entries as f64,
            e.used_memory_delta as f64 / e.entries as f64,
        );
        // Consumers on the worker's CPU, Redis alone on the other.
        probe::pin(me, a.placement.worker_cpu).expect("pinning this process");
        let mut left = e.entries;
        for &n in &a.consumers {
            // A share of the backlog that takes a few seconds at that concurrency, leaving
            // entries for the next and for the pending measurement.
            let take = (5_000 * n as u64).min(left / 2);
            let c = stream::consume(&dep, n, take).await;
            left -= c.entries;
            eprintln!(
                "stream round {}: {n} consumers read+acked {} entries: {:.0}/s; redis {:.2} us/entry; client {:.2} us/entry",
                round + 1,
                c.entries,
                c.entries as f64 / c.wall_s,
                c.redis_cpu_s / c.entries as f64 * 1e6,
                c.client_cpu_s / c.entries as f64 * 1e6,
            );
            consumes.entry(n).or_default().push(c);
        }
        let p = stream::pending(&dep, left.min(10_000)).await;
        eprintln!(
            "stream round {}: {} entries delivered, not acknowledged: used_memory {:+.1} B/entry, stream key {:+.1} B/entry",
            round + 1,
            p.entries,
            p.used_memory_delta as f64 / p.entries as f64,
            p.stream_bytes_delta as f64 / p.entries as f64
        );
        pendings.push(p);
        stream::clear(&dep).await;
        enqueues.push(e);
    }
    probe::pin(me, a.placement.services_cpu).expect("pinning this process");
    let em = |f: &dyn Fn(&stream::EnqueueRun) -> f64| median(enqueues.iter().map(f).collect());
    let last = enqueues.last().expect("a round");
    let consumers: Vec<Value> = consumes
        .iter()
        .map(|(n, runs)| {
            let cm = |f: &dyn Fn(&stream::ConsumeRun) -> f64| median(runs.iter().map(f).collect());
            json!({
                "consumers": n,
                "entries_per_s": round(cm(&|c| c.entries as f64 / c.wall_s), 0),
                "redis_cpu_us_per_entry": round(cm(&|c| c.redis_cpu_s / c.entries as f64 * 1e6), 2),
                "client_cpu_us_per_entry": round(cm(&|c| c.client_cpu_s / c.entries as f64 * 1e6), 2),
            })
        })
        .collect();
    let calls: BTreeMap<&String, f64> = last
        .calls
        .iter()
        .map(|(cmd, n)| (cmd, (*n as f64 / last.entries as f64 * 1000.0).round() / 1000.0))
        .collect();
    json!({
        "entries_per_round": last.entries,
        "rounds": enqueues.len(),
        "sample_entry": last.sample_entry,
        "enqueue": {
            "entries_per_s_from_submit": round(em(&|e| e.entries as f64 / e.from_submit_s), 0),
            "entries_per_s_first_to_last": round(em(&|e| e.entries as f64 / e.first_to_last_s), 0),
            "redis_cpu_us_per_entry": round(em(&|e| e.redis_cpu_s / e.entries as f64 * 1e6), 2),
            "redis_aof_bytes_per_entry": round(em(&|e| e.aof_bytes / e.entries as f64), 1),
            "dispatcher_cpu_us_per_entry": round(em(&|e| e.dispatcher_cpu_s / e.entries as f64 * 1e6), 2),
            "redis_calls_per_entry_last_round": calls,
        },
        "memory_bytes_per_queued_entry": {
            "stream_key": round(em(&|e| e.stream_bytes as f64 / e.entries as f64), 1),
            "used_memory": round(em(&|e| e.used_memory_delta as f64 / e.entries as f64), 1),
        },
        "memory_bytes_per_pending_entry_extra": {
            "used_memory": round(median(pendings.iter().map(|p| p.used_memory_delta as f64 / p.entries as f64).collect()), 1),
            "stream_key": round(median(pendings.iter().map(|p| p.stream_bytes_delta as f64 / p.entries as f64).collect()), 1),
        },
        "read_ack": consumers,
    })
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("kernel") {
        let rest: Vec<String> = args.skip(1).collect();
        if let Err(e) = kernel::child(&rest) {
            eprintln!("measure-capacity kernel: {e}");
            std::process::exit(64);
        }
        return;
    }
    let a = match parse(args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("measure-capacity: {e}");
            std::process::exit(64);
        }
    };
    let cpus = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let load_before = load_average();
    eprintln!("measure-capacity: {cpus} CPUs, load average {load_before}; {a:?}");
    probe::pin(std::process::id(), a.placement.services_cpu).expect("pinning this process");
    let mut out = serde_json::Map::new();
    if a.parts.iter().any(|p| p == "pod") {
        out.insert("pod".into(), pod(&a).await);
    }
    if a.parts.iter().any(|p| p == "chunks") {
        out.insert("chunk_sizes".into(), chunk_sweep(&a).await);
    }
    if a.parts.iter().any(|p| p == "stream") {
        out.insert("stream".into(), stream_limits(&a).await);
    }
    out.insert(
        "machine".into(),
        json!({"cpus": cpus, "load_average_before": load_before, "load_average_after": load_average(),
               "worker": format!("{:?}", a.worker), "placement": format!("{:?}", a.placement)}),
    );
    println!("{}", Value::Object(out));
}
