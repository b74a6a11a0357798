//! Criterion benches of the simulation core on the MC-tau workload: the one-run kernel, the
//! batch kernel per instruction set, sampling run configurations, and summarising metrics.
//!
//! `cargo bench -p tanksim-sim-core --bench kernel`. Throughput is reported in runs
//! (elements) per second; compare figures from the same invocation only.

use std::hint::black_box;
use std::time::Duration;
use tanksim_sim_core::job::RunMap;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use tanksim_sim_core::SimConfig;
use tanksim_sim_core::batch::{Isa, simulate_batch_with};
use tanksim_sim_core::canonical::mc_tau_job;
use tanksim_sim_core::simulate::simulate;
use tanksim_sim_core::summary::RunSummary;

const RUNS: u64 = 256;

fn mc_tau_configs(runs: u64) -> Vec<SimConfig> {
    let mut configs = Vec::new();
    mc_tau_job(runs, 42).configs(0..runs, &mut configs);
    configs
}

fn kernels(c: &mut Criterion) {
    let configs = mc_tau_configs(RUNS);
    let mut group = c.benchmark_group("mc_tau");
    group.throughput(Throughput::Elements(1));
    group.bench_function("one_run_kernel", |b| b.iter(|| simulate(black_box(&configs[0])).metrics));
    group.throughput(Throughput::Elements(RUNS));
    for (name, isa) in [
        ("batch_auto", Isa::Auto),
        ("batch_avx512", Isa::Avx512),
        ("batch_avx2", Isa::Avx2),
        ("batch_portable", Isa::Portable),
    ] {
        let mut out = Vec::with_capacity(configs.len());
        group.bench_function(name, |b| {
            b.iter(|| {
                out.clear();
                simulate_batch_with(black_box(&configs), isa, &mut out);
                out.len()
            })
        });
    }
    group.finish();
}

fn around_the_kernel(c: &mut Criterion) {
    let job = mc_tau_job(1 << 20, 42);
    let mut group = c.benchmark_group("per_run_overhead");
    group.throughput(Throughput::Elements(4096));
    let mut configs = Vec::new();
    group.bench_function("sample_configs", |b| b.iter(|| job.configs(black_box(0..4096), &mut configs)));
    let mut metrics = Vec::new();
    simulate_batch_with(&mc_tau_configs(4096), Isa::Auto, &mut metrics);
    group.bench_function("summarise_metrics", |b| {
        b.iter(|| {
            let mut summary = RunSummary::new();
            metrics.iter().for_each(|m| summary.add(m));
            summary
        })
    });
    let chunk = {
        let mut s = RunSummary::new();
        metrics.iter().for_each(|m| s.add(m));
        s
    };
    group.throughput(Throughput::Elements(1));
    group.bench_function("merge_chunk_summary", |b| {
        b.iter_batched(RunSummary::new, |mut acc| acc.merge(black_box(&chunk)), BatchSize::SmallInput)
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = kernels, around_the_kernel
}
criterion_main!(benches);
