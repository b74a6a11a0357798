//! Throughput of the simulation core on the MC-tau workload, as one JSON line.
//!
//! ```text
//! cargo run --release -p tanksim-sim-core --example mc_tau -- --runs 100000 --threads 1
//! {"runs":100000,"threads":1,"seconds":...,"runs_per_sec":...,"mean_overshoot_pct":...}
//! ```
//! Options: `--kernel batch|single` (the batch kernel, or the one-run kernel run by run),
//! `--isa auto|portable|avx2|avx512` (batch kernel instruction set), `--seed N`.
//! Runs are split into fixed chunks of 4,096 handed to `--threads` threads; each chunk samples
//! its configurations (as a worker does) and simulates them. The mean is summed per chunk and
//! the chunk sums added in chunk order, so it does not depend on the thread count.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use tanksim_sim_core::job::RunMap;

use tanksim_sim_core::batch::{Isa, simulate_batch_with};
use tanksim_sim_core::canonical::mc_tau_job;
use tanksim_sim_core::simulate::simulate;

const CHUNK: u64 = 4096;

struct Args {
    runs: u64,
    threads: usize,
    seed: u64,
    single: bool,
    isa: Isa,
}

fn parse() -> Result<Args, String> {
    let mut args = Args { runs: 100_000, threads: 1, seed: 42, single: false, isa: Isa::Auto };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--runs" => args.runs = value()?.parse().map_err(|e| format!("--runs: {e}"))?,
            "--threads" => args.threads = value()?.parse().map_err(|e| format!("--threads: {e}"))?,
            "--seed" => args.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--kernel" => {
                args.single = match value()?.as_str() {
                    "batch" => false,
                    "single" => true,
                    other => return Err(format!("--kernel: expected batch or single, got {other}")),
                }
            }
            "--isa" => {
                args.isa = match value()?.as_str() {
                    "auto" => Isa::Auto,
                    "portable" => Isa::Portable,
                    "avx2" => Isa::Avx2,
                    "avx512" => Isa::Avx512,
                    other => {
                        return Err(format!("--isa: expected auto, portable, avx2 or avx512, got {other}"));
                    }
                }
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    if args.threads == 0 || args.runs == 0 {
        return Err("--runs and --threads must be at least 1".into());
    }
    Ok(args)
}

fn main() {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("mc_tau: {e}");
            std::process::exit(64);
        }
    };
    let job = mc_tau_job(args.runs, args.seed);
    let chunks = args.runs.div_ceil(CHUNK);
    let sums: Vec<AtomicU64> = (0..chunks).map(|_| AtomicU64::new(0)).collect();
    let next = AtomicU64::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..args.threads {
            s.spawn(|| {
                let (mut configs, mut metrics) = (Vec::new(), Vec::new());
                loop {
                    let c = next.fetch_add(1, Ordering::Relaxed);
                    if c >= chunks {
                        break;
                    }
                    let range = c * CHUNK..((c + 1) * CHUNK).min(args.runs);
                    job.configs(range, &mut configs);
                    metrics.clear();
                    if args.single {
                        metrics.extend(configs.iter().map(|cfg| simulate(cfg).metrics));
                    } else {
                        simulate_batch_with(&configs, args.isa, &mut metrics);
                    }
                    let sum: f64 = metrics.iter().map(|m| m.overshoot_pct.unwrap_or(0.0)).sum();
                    sums[c as usize].store(sum.to_bits(), Ordering::Relaxed);
                }
            });
        }
    });
    let seconds = start.elapsed().as_secs_f64();
    let total: f64 = sums.iter().map(|s| f64::from_bits(s.load(Ordering::Relaxed))).sum();
    println!(
        "{{\"runs\":{},\"threads\":{},\"seconds\":{:.6},\"runs_per_sec\":{:.1},\"mean_overshoot_pct\":{}}}",
        args.runs,
        args.threads,
        seconds,
        args.runs as f64 / seconds,
        total / args.runs as f64
    );
}
