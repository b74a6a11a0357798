//! The reference a worker pod is compared with: the sim-core kernel alone on one thread, pinned
//! to the CPU the worker gets, doing what a worker does per run minus the pipeline (sampling
//! each run's configuration and simulating it; BENCHMARKS.md's "main figure" for MC-tau).
//!
//! It runs in a child process (this executable with `kernel KIND RUNS`, started under
//! `taskset`), so its CPU time is its own and the pinning cannot leak into the parent.

use std::process::Command;
use std::time::Instant;

use tanksim_proto::v1::SubmitJobRequest;
use tanksim_proto::v1::submit_job_request::Job;
use tanksim_sim_core::batch::simulate_batch;
use tanksim_sim_core::job::{JobSpec, RunMap};
use tanksim_sim_core::simulate::simulate;

use crate::probe;

/// Runs per block of configurations (the worker's chunk for MC-tau; the size is immaterial to
/// the kernel as long as it is many lanes long).
const BLOCK: u64 = 10_000;

/// The workloads measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// examples/mc-tau.yaml: summaries only, batch kernel.
    McTau,
    /// examples/dataset-100k.yaml: a row per run with a decimated trajectory; recording runs
    /// take the one-run kernel (crates/worker/src/chunk/compute.rs).
    Dataset,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::McTau => "mc-tau",
            Kind::Dataset => "dataset",
        }
    }

    fn parse(text: &str) -> Option<Kind> {
        [Kind::McTau, Kind::Dataset].into_iter().find(|k| k.name() == text)
    }

    /// The example spec of this workload with `runs` runs.
    pub(crate) fn spec(self, runs: u64) -> SubmitJobRequest {
        let mut spec = tanksim_e2e::api::example(match self {
            Kind::McTau => "mc-tau.yaml",
            Kind::Dataset => "dataset-100k.yaml",
        });
        match &mut spec.job {
            Some(Job::MonteCarlo(mc)) => mc.runs = runs,
            Some(Job::Dataset(d)) => d.runs = runs,
            other => panic!("unexpected example job {other:?}"),
        }
        spec.name = format!("capacity-{}-{runs}", self.name());
        spec
    }
}

/// One kernel measurement.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KernelRun {
    pub(crate) runs: u64,
    pub(crate) wall_s: f64,
    pub(crate) cpu_s: f64,
}

impl KernelRun {
    pub(crate) fn per_wall_s(&self) -> f64 {
        self.runs as f64 / self.wall_s
    }

    pub(crate) fn per_cpu_s(&self) -> f64 {
        self.runs as f64 / self.cpu_s
    }
}

/// The child's side: `kernel KIND RUNS`; prints `runs wall_s cpu_s`.
pub(crate) fn child(args: &[String]) -> Result<(), String> {
    let [kind, runs] = args else { return Err("usage: measure-capacity kernel mc-tau|dataset RUNS".into()) };
    let kind = Kind::parse(kind).ok_or_else(|| format!("unknown kind {kind}"))?;
    let runs: u64 = runs.parse().map_err(|e| format!("RUNS: {e}"))?;
    let spec = JobSpec::try_from(&kind.spec(runs)).map_err(|v| format!("example spec: {v:?}"))?;
    let pid = std::process::id();
    let cpu_before = probe::cpu_seconds(pid).ok_or("no /proc")?;
    let start = Instant::now();
    let (mut configs, mut metrics) = (Vec::new(), Vec::new());
    let mut first = 0;
    while first < runs {
        let end = (first + BLOCK).min(runs);
        spec.configs(first..end, &mut configs);
        metrics.clear();
        match kind {
            Kind::McTau => simulate_batch(&configs, &mut metrics),
            Kind::Dataset => {
                for config in &configs {
                    let run = simulate(config);
                    metrics.push(run.metrics);
                    std::hint::black_box(&run.trajectory);
                }
            }
        }
        std::hint::black_box(&metrics);
        first = end;
    }
    let wall_s = start.elapsed().as_secs_f64();
    let cpu_s = probe::cpu_seconds(pid).ok_or("no /proc")? - cpu_before;
    println!("{runs} {wall_s} {cpu_s}");
    Ok(())
}

/// Runs the kernel over `runs` runs of `kind` in a child pinned to `cpu`.
pub(crate) fn measure(kind: Kind, runs: u64, cpu: usize) -> KernelRun {
    let exe = std::env::current_exe().expect("this executable's path");
    let out = Command::new("taskset")
        .arg("-c")
        .arg(cpu.to_string())
        .arg(exe)
        .args(["kernel", kind.name(), &runs.to_string()])
        .output()
        .expect("running the kernel child under taskset");
    assert!(out.status.success(), "kernel child failed: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let parts: Vec<f64> = text.split_whitespace().filter_map(|p| p.parse().ok()).collect();
    let [runs, wall_s, cpu_s] = parts[..] else { panic!("kernel child printed {text:?}") };
    KernelRun { runs: runs as u64, wall_s, cpu_s }
}
