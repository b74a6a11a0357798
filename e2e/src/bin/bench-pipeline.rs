//! The job pipeline's benchmark: MC-tau through the multi-process Redis deployment (gateway,
//! dispatcher, results, 2 workers as separate processes, a private redis-server) against the
//! sim-core batch kernel on 2 threads, measured interleaved in the same run; `SubmitJob`
//! latency for 10,000,000-run jobs; resident memory of results and workers during a
//! 10,000,000-run job. Prints a table to stderr and one JSON line to stdout.
//!
//! Every process serves `/metrics` and traces (spans sampled, not exported) as deployed. With
//! `--otlp 1` a second deployment exports every span over OTLP/gRPC to a receiver in this
//! process, and its throughput is measured in the same rounds: the cost of trace export.
//!
//! ```text
//! cargo build --release -p tanksim-e2e --bins
//! target/release/bench-pipeline [--runs 1000000] [--rounds 3] [--submits 200] [--memory-runs 10000000] [--otlp 0|1]
//! ```
//! The service binaries are the `e2e-*` ones next to this executable (same build).

use std::time::{Duration, Instant};
use tanksim_sim_core::job::RunMap;

use tanksim_e2e::api;
use tanksim_e2e::bench::{
    binaries_beside_exe as binaries, mc_tau_spec as spec, median, numeric_flags, percentile,
};
use tanksim_e2e::collector::Collector;
use tanksim_e2e::{Cluster, Options};
use tanksim_proto::v1::{CancelJobRequest, JobState};
use tanksim_sim_core::batch::simulate_batch;
use tanksim_sim_core::canonical::mc_tau_job;

struct Args {
    runs: u64,
    rounds: usize,
    submits: usize,
    memory_runs: u64,
    otlp: bool,
}

fn parse() -> Result<Args, String> {
    let mut a = Args { runs: 1_000_000, rounds: 3, submits: 200, memory_runs: 10_000_000, otlp: false };
    for (flag, n) in numeric_flags()? {
        match flag.as_str() {
            "--runs" => a.runs = n,
            "--rounds" => a.rounds = n as usize,
            "--submits" => a.submits = n as usize,
            "--memory-runs" => a.memory_runs = n,
            "--otlp" => a.otlp = n != 0,
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(a)
}

/// Runs/s of the batch kernel on `threads` threads over MC-tau (sampling included, as a
/// worker does), chunks of 10,000.
fn kernel_throughput(runs: u64, threads: u64) -> f64 {
    let job = mc_tau_job(runs, 42);
    let next = std::sync::atomic::AtomicU64::new(0);
    let chunks = runs.div_ceil(10_000);
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let (mut configs, mut out) = (Vec::new(), Vec::new());
                loop {
                    let c = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if c >= chunks {
                        break;
                    }
                    job.configs(c * 10_000..((c + 1) * 10_000).min(runs), &mut configs);
                    out.clear();
                    simulate_batch(&configs, &mut out);
                    std::hint::black_box(&out);
                }
            });
        }
    });
    runs as f64 / start.elapsed().as_secs_f64()
}

/// Runs/s from SubmitJob to the job's SUCCEEDED state.
async fn pipeline_throughput(cluster: &Cluster, runs: u64) -> f64 {
    let mut client = cluster.gateway_client();
    let start = Instant::now();
    let job = api::submit(&mut client, spec(runs)).await;
    let done = api::wait_ended(&mut client, &job.id, Duration::from_secs(600)).await;
    assert_eq!(done.state(), JobState::Succeeded, "benchmark job ended {:?}: {}", done.state(), done.error);
    runs as f64 / start.elapsed().as_secs_f64()
}

/// Resident memory of a process in MiB (`VmRSS`), if it still runs.
fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 =
        status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

#[tokio::main]
async fn main() {
    let args = tanksim_e2e::bench::or_exit_usage("bench-pipeline", parse());
    let options = Options {
        workers: 2,
        chunk_size: 10_000,
        visibility_timeout: Duration::from_secs(30),
        claim_interval: Duration::from_secs(5),
        // What is measured is SubmitJob itself: the per-tenant rate quota (100 requests/s by
        // default) would refuse the back-to-back submissions and cancels.
        gateway_env: vec![("TANKSIM_QUOTA_REQUESTS_PER_SECOND".into(), "0".into())],
        ..Options::default()
    };
    let collector = if args.otlp { Some(Collector::start().await) } else { None };
    let exporting = match &collector {
        Some(c) => {
            Some(Cluster::start(binaries(), Options { otlp: Some(c.endpoint()), ..options.clone() }).await)
        }
        None => None,
    };
    let cluster = Cluster::start(binaries(), options).await;
    eprintln!("cluster up: gateway {}, redis {}", cluster.gateway_url(), cluster.redis_url());

    // Throughput: kernel and pipeline interleaved, `rounds` times each.
    let (mut kernel, mut pipeline, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let mut export_ratios = Vec::new();
    for round in 0..args.rounds {
        let k = tokio::task::spawn_blocking({
            let runs = args.runs;
            move || kernel_throughput(runs, 2)
        })
        .await
        .expect("kernel thread");
        let p = pipeline_throughput(&cluster, args.runs).await;
        eprintln!(
            "round {}: kernel 2 threads {k:.0} runs/s, pipeline {p:.0} runs/s, ratio {:.3}",
            round + 1,
            p / k
        );
        kernel.push(k);
        pipeline.push(p);
        ratios.push(p / k);
        if let Some(exporting) = &exporting {
            let e = pipeline_throughput(exporting, args.runs).await;
            eprintln!(
                "round {}: pipeline exporting spans {e:.0} runs/s, ratio to not exporting {:.3}",
                round + 1,
                e / p
            );
            export_ratios.push(e / p);
        }
    }
    if let (Some(c), Some(_)) = (&collector, &exporting) {
        eprintln!(
            "spans received: {}; exporting / not exporting, median of rounds: {:.3}",
            c.spans().len(),
            median(export_ratios.clone())
        );
    }
    drop(exporting);

    // Resident memory during a big job.
    let mut client = cluster.gateway_client();
    let pids = cluster.process_ids();
    let mut peak: std::collections::BTreeMap<String, f64> = Default::default();
    let start = Instant::now();
    let job = api::submit(&mut client, spec(args.memory_runs)).await;
    loop {
        for (name, pid) in &pids {
            if let Some(mib) = rss_mib(*pid) {
                let e = peak.entry(name.clone()).or_default();
                *e = e.max(mib);
            }
        }
        let status = api::get_job(&mut client, &job.id).await.expect("GetJob");
        if api::is_terminal(&status) {
            assert_eq!(status.state(), JobState::Succeeded, "memory job ended {:?}", status.state());
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let big_rps = args.memory_runs as f64 / start.elapsed().as_secs_f64();
    eprintln!(
        "{} runs in {:.1} s ({big_rps:.0} runs/s); peak RSS MiB: {peak:?}",
        args.memory_runs,
        start.elapsed().as_secs_f64()
    );

    // SubmitJob latency for 10M-run jobs (each cancelled at once; its chunks are acknowledged
    // without work). Measured last: the cancelled jobs' tasks would queue ahead of any later job.
    let mut latencies = Vec::new();
    for _ in 0..args.submits {
        let start = Instant::now();
        let job = api::submit(&mut client, spec(10_000_000)).await;
        latencies.push(start.elapsed().as_secs_f64() * 1000.0);
        let _ = client.cancel_job(CancelJobRequest { id: job.id }).await;
    }
    let (p50, p99) = (percentile(latencies.clone(), 50.0), percentile(latencies, 99.0));
    eprintln!(
        "SubmitJob of 10,000,000 runs: p50 {p50:.2} ms, p99 {p99:.2} ms ({} submissions)",
        args.submits
    );

    let rss: Vec<String> = peak.iter().map(|(k, v)| format!("\"{k}\":{v:.1}")).collect();
    let exporting =
        if export_ratios.is_empty() { "null".to_owned() } else { format!("{:.3}", median(export_ratios)) };
    println!(
        "{{\"runs\":{},\"rounds\":{},\"kernel_2t_runs_per_sec_median\":{:.1},\"pipeline_runs_per_sec_median\":{:.1},\"pipeline_over_kernel_median\":{:.3},\"submit_10m_p50_ms\":{p50:.3},\"submit_10m_p99_ms\":{p99:.3},\"memory_job_runs\":{},\"memory_job_runs_per_sec\":{big_rps:.1},\"peak_rss_mib\":{{{}}},\"exporting_over_not_median\":{exporting}}}",
        args.runs,
        args.rounds,
        median(kernel),
        median(pipeline),
        median(ratios),
        args.memory_runs,
        rss.join(",")
    );
}
