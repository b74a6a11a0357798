//! What the designs beyond independent draws buy, measured (BENCHMARKS.md, "Sampling designs
//! and sensitivity"):
//!
//! 1. Sampling: the root-mean-square error of the mean of three tank metrics over 30 seeds, for
//!    random, scrambled Sobol' and Latin hypercube sampling at 2^8..2^14 runs, against a
//!    2^20-run Sobol' reference (the spec of examples/mc-tau-sobol.yaml).
//! 2. Sensitivity: how the 95 % intervals of the Sobol' indices of examples/sensitivity-pi.yaml
//!    narrow with the base samples, and what computing them costs (estimators plus 999
//!    bootstrap resamples) beside simulating the design's runs.
//! 3. Summaries: the share of a chunk's time spent summarising (moments and the quantile
//!    sketch) beside simulating, per run.
//! 4. Adaptive Monte Carlo: over 100 seeds per target, the runs the stopping rule takes, its
//!    waves, and how often its interval covers a 2^21-run reference mean or quantile.
//! 5. Quantiles: MC-tau's p5/p50/p95 of final level and overshoot from chunk summaries of
//!    10,000 runs, shrunk as workers report them and merged in order, against the exact sort: the error in ranks, the stated
//!    bound, and the values held.
//!
//!   cargo run --release -p tanksim-sim-core --example designs [SECTION]

use std::time::Instant;

use tanksim_sim_core::adaptive::{Statistic, Stop, Target, Wave};
use tanksim_sim_core::batch::simulate_batch;
use tanksim_sim_core::canonical::mc_tau_job;
use tanksim_sim_core::distribution::Distribution;
use tanksim_sim_core::job::{JobSpec, MonteCarlo, ParamDist, RunMap, Sensitivity};
use tanksim_sim_core::metric::RunMetrics;
use tanksim_sim_core::sampling::Sampling;
use tanksim_sim_core::sensitivity::estimate::{Bootstrap, indices};
use tanksim_sim_core::summary::{RunSummary, report_values};
use tanksim_sim_core::{Metric, Param, SimConfig};

const METRICS: [Metric; 3] = [Metric::OvershootPct, Metric::SettlingTime, Metric::Iae];

fn mc_tau_sobol(runs: u64, seed: u64, sampling: Sampling) -> JobSpec {
    let tau = Distribution::TruncatedNormal { mean: 10.0, sd: 2.0, lo: 1.0, hi: f64::INFINITY };
    JobSpec::MonteCarlo(MonteCarlo {
        base: SimConfig::mc_tau(10.0),
        runs,
        seed,
        params: vec![
            ParamDist { param: Param::Tau, dist: tau },
            ParamDist { param: Param::Kp, dist: Distribution::Uniform { lo: 1.5, hi: 2.5 } },
        ],
        sampling,
        stop: None,
    })
}

fn simulate(job: &JobSpec) -> Vec<RunMetrics> {
    let (mut configs, mut out, mut all) = (Vec::new(), Vec::new(), Vec::new());
    let runs = job.runs();
    for start in (0..runs).step_by(16_384) {
        job.configs(start..(start + 16_384).min(runs), &mut configs);
        simulate_batch(&configs, &mut out);
        all.append(&mut out);
    }
    all
}

fn means(runs: &[RunMetrics]) -> [f64; 3] {
    METRICS.map(|m| {
        let values: Vec<f64> = runs.iter().filter_map(|r| r.get(m)).collect();
        values.iter().sum::<f64>() / values.len() as f64
    })
}

fn sampling_convergence() {
    println!("## 1. RMSE of the mean over 30 seeds (mc-tau-sobol spec)\n");
    let reference = means(&simulate(&mc_tau_sobol(1 << 20, 1, Sampling::Sobol)));
    println!(
        "reference (2^20 Sobol' runs): overshoot_pct {:.6}, settling_time {:.6}, iae {:.6}\n",
        reference[0], reference[1], reference[2]
    );
    println!("| runs | metric | random | sobol | latin_hypercube | random / sobol | random / LHS |");
    println!("| ---: | --- | ---: | ---: | ---: | ---: | ---: |");
    for k in [8, 10, 12, 14] {
        let runs = 1u64 << k;
        let rmse = |sampling: Sampling| {
            let mut squares = [0.0; 3];
            for seed in 100..130 {
                let m = means(&simulate(&mc_tau_sobol(runs, seed, sampling)));
                for i in 0..3 {
                    squares[i] += (m[i] - reference[i]).powi(2);
                }
            }
            squares.map(|s| (s / 30.0).sqrt())
        };
        let (r, s, l) = (rmse(Sampling::Random), rmse(Sampling::Sobol), rmse(Sampling::LatinHypercube));
        for (i, metric) in METRICS.iter().enumerate() {
            println!(
                "| {runs} | {} | {:.3e} | {:.3e} | {:.3e} | {:.1} | {:.1} |",
                metric.name(),
                r[i],
                s[i],
                l[i],
                r[i] / s[i],
                r[i] / l[i]
            );
        }
    }
}

fn sensitivity_pi(samples: u64) -> Sensitivity {
    let uniform = |lo, hi| Distribution::Uniform { lo, hi };
    Sensitivity {
        base: SimConfig::mc_tau(10.0),
        samples,
        seed: 7,
        params: vec![
            ParamDist { param: Param::Tau, dist: uniform(5.0, 20.0) },
            ParamDist { param: Param::Gain, dist: uniform(1.5, 2.5) },
            ParamDist { param: Param::Kp, dist: uniform(0.5, 3.0) },
            ParamDist { param: Param::Ki, dist: uniform(0.05, 0.6) },
        ],
        metrics: vec![Metric::OvershootPct, Metric::SettlingTime, Metric::Ise],
        resamples: Sensitivity::DEFAULT_RESAMPLES,
        confidence: Sensitivity::DEFAULT_CONFIDENCE,
    }
}

fn sensitivity_convergence() {
    println!(
        "\n## 2. Sobol' indices of ise (sensitivity-pi spec): estimate [95 % interval] by base samples\n"
    );
    println!("| base samples | runs | S1 tau | ST tau | S1 gain | simulate (s) | indices, 3 metrics (s) |");
    println!("| ---: | ---: | --- | --- | --- | ---: | ---: |");
    for k in [8, 10, 12, 14, 16] {
        let job = sensitivity_pi(1 << k);
        let spec = JobSpec::Sensitivity(job.clone());
        let started = Instant::now();
        let runs = simulate(&spec);
        let simulated = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let bootstrap = Bootstrap { resamples: job.resamples, confidence: job.confidence, seed: job.seed };
        let all: Vec<_> = job
            .metrics
            .iter()
            .map(|m| {
                let outputs: Vec<f64> = runs.iter().map(|r| r.get(*m).unwrap_or(f64::NAN)).collect();
                indices(job.params.len(), &outputs, &bootstrap)
            })
            .collect();
        let computed = started.elapsed().as_secs_f64();
        let ise = &all[2];
        let show = |e: &tanksim_sim_core::sensitivity::estimate::Estimate| {
            format!("{:.3} [{:.3}, {:.3}]", e.value, e.lo, e.hi)
        };
        println!(
            "| {} | {} | {} | {} | {} | {simulated:.2} | {computed:.2} |",
            job.samples,
            runs.len(),
            show(&ise.first_order[0]),
            show(&ise.total_order[0]),
            show(&ise.first_order[1]),
        );
    }
}

fn summary_share() {
    println!("\n## 3. Summarising beside simulating (mc-tau, 100,000 runs, median of 5)\n");
    let job = mc_tau_sobol(100_000, 3, Sampling::Random);
    let mut simulate_s = Vec::new();
    let mut summarise_s = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let runs = simulate(&job);
        simulate_s.push(started.elapsed().as_secs_f64());
        let started = Instant::now();
        let mut summary = RunSummary::new();
        runs.iter().for_each(|r| summary.add(r));
        summarise_s.push(started.elapsed().as_secs_f64());
        std::hint::black_box(&summary);
    }
    let median = |xs: &mut Vec<f64>| {
        xs.sort_by(f64::total_cmp);
        xs[xs.len() / 2]
    };
    let (sim, sum) = (median(&mut simulate_s), median(&mut summarise_s));
    println!(
        "simulate {:.0} ns/run, summarise all 13 metrics {:.0} ns/run: {:.1} % of the simulation",
        sim * 1e4,
        sum * 1e4,
        100.0 * sum / sim
    );
}

/// examples/mc-tau-adaptive.yaml's job (random tau, a stop rule on the overshoot's mean or
/// a quantile).
fn mc_tau_adaptive(seed: u64, statistic: Statistic, relative: f64) -> (JobSpec, Stop) {
    let stop = Stop {
        metric: Metric::OvershootPct,
        statistic,
        target: Target::Relative(relative),
        confidence: 0.95,
        batch: 1_000,
    };
    let tau = Distribution::TruncatedNormal { mean: 10.0, sd: 2.0, lo: 1.0, hi: f64::INFINITY };
    let job = JobSpec::MonteCarlo(MonteCarlo {
        base: SimConfig::mc_tau(10.0),
        runs: 1_000_000,
        seed,
        params: vec![ParamDist { param: Param::Tau, dist: tau }],
        sampling: Sampling::Random,
        stop: Some(stop.clone()),
    });
    (job, stop)
}

/// Runs an adaptive job wave by wave as the pipeline does (chunks of one batch, each shrunk
/// as a worker reports it, merged in order); returns its summary and waves. `coarse`: the stop
/// metric's sketch as fine as the others' (as it was before fine sketches), for comparison.
fn run_adaptive(job: &JobSpec, stop: &Stop, coarse: bool) -> (RunSummary, u32) {
    let (mut configs, mut out, mut summary) = (Vec::new(), Vec::new(), RunSummary::new());
    let (cap, mut end, mut waves) = (job.runs(), job.first_wave(), 1);
    loop {
        while summary.runs() < end {
            let start = summary.runs();
            let chunk_end = (start + stop.batch).min(end);
            job.configs(start..chunk_end, &mut configs);
            simulate_batch(&configs, &mut out);
            let mut chunk = if coarse { RunSummary::new() } else { job.summary() };
            out.drain(..).for_each(|r| chunk.add(&r));
            job.shrink_report(&mut chunk, chunk_end - start);
            summary.merge(&chunk);
        }
        match stop.next(cap, summary.metric(stop.metric)) {
            Wave::Next(next) => (end, waves) = (next, waves + 1),
            Wave::Stop(_) => return (summary, waves),
        }
    }
}

fn adaptive_coverage() {
    println!("\n## 4. Adaptive Monte Carlo on the tank (mc-tau-adaptive spec, 100 seeds per target)\n");
    let truth_job = mc_tau_sobol(1 << 21, 1, Sampling::Random);
    let truth_job = match truth_job {
        JobSpec::MonteCarlo(mc) => JobSpec::MonteCarlo(MonteCarlo { params: mc.params[..1].to_vec(), ..mc }),
        other => other,
    };
    let mut values: Vec<f64> = simulate(&truth_job)
        .iter()
        .filter_map(|r| r.get(Metric::OvershootPct))
        .filter(|x| x.is_finite())
        .collect();
    values.sort_by(f64::total_cmp);
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = (values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let at = |q: f64| values[(q * (n - 1.0)).floor() as usize];
    println!(
        "reference over 2^21 random runs: mean overshoot_pct {mean:.5} (sd {sd:.5}, standard error {:.5}), p50 {:.5}, p95 {:.5}\n",
        sd / n.sqrt(),
        at(0.5),
        at(0.95)
    );
    println!(
        "| statistic | target (+- of it) | runs the spread calls for | runs taken (median, range) | waves (median) | covered the reference | half-width / target (mean) | rank error (median) |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let z = 1.959_964;
    let rows: [(Statistic, f64, bool); 9] = [
        (Statistic::Mean, 0.02, false),
        (Statistic::Mean, 0.01, false),
        (Statistic::Mean, 0.005, false),
        (Statistic::Quantile(0.5), 0.02, false),
        (Statistic::Quantile(0.5), 0.01, false),
        (Statistic::Quantile(0.95), 0.02, false),
        (Statistic::Quantile(0.95), 0.01, false),
        (Statistic::Quantile(0.95), 0.005, false),
        (Statistic::Quantile(0.95), 0.02, true),
    ];
    for (statistic, relative, coarse) in rows {
        let (truth, needed) = match statistic {
            Statistic::Mean => (mean, (z * sd / (relative * mean)).powi(2)),
            Statistic::Quantile(q) => {
                // The density at the quantile from the reference's order statistics 0.5 %
                // either side; the runs a known density would call for, without the sketch.
                let density = 0.01 / (at(q + 0.005) - at(q - 0.005));
                (at(q), q * (1.0 - q) * (z / (relative * at(q) * density)).powi(2))
            }
        };
        let (mut runs, mut waves, mut errors, mut covered, mut ratio) =
            (Vec::new(), Vec::new(), Vec::new(), 0, 0.0);
        for seed in 1_000..1_100 {
            let (job, stop) = mc_tau_adaptive(seed, statistic, relative);
            let (summary, w) = run_adaptive(&job, &stop, coarse);
            let p = stop.precision(summary.metric(stop.metric));
            let (lo, hi) = p.interval.unwrap_or((f64::NAN, f64::NAN));
            covered += u32::from(lo <= truth && truth <= hi);
            ratio += p.half_width.unwrap_or(f64::NAN) / p.target.unwrap_or(f64::NAN) / 100.0;
            runs.push(summary.runs());
            waves.push(w);
            errors.push(p.rank_error);
        }
        runs.sort_unstable();
        waves.sort_unstable();
        errors.sort_by(f64::total_cmp);
        let rank_error = match statistic {
            Statistic::Mean => "-".to_owned(),
            Statistic::Quantile(_) => format!("{:.3} %", 100.0 * errors[50]),
        };
        let name = match statistic {
            Statistic::Mean => "mean".to_owned(),
            Statistic::Quantile(q) if coarse => format!("p{}, coarse sketch", 100.0 * q),
            Statistic::Quantile(q) => format!("p{}", 100.0 * q),
        };
        println!(
            "| {name} | {:.1} % | {needed:.0} | {} ({}..{}) | {} | {covered} / 100 | {ratio:.3} | {rank_error} |",
            100.0 * relative,
            runs[50],
            runs[0],
            runs[99],
            waves[50],
        );
    }
}

fn main() {
    // `designs 4` runs section 4 only; no argument runs them all.
    let only = std::env::args().nth(1);
    let sections: [fn(); 5] =
        [sampling_convergence, sensitivity_convergence, summary_share, adaptive_coverage, quantile_accuracy];
    for (i, section) in sections.into_iter().enumerate() {
        if only.as_deref().is_none_or(|n| n == (i + 1).to_string()) {
            section();
        }
    }
}

/// Section 5: quantiles of jobs of 10^4..10^6 runs, merged from 10,000-run chunks as the
/// results service merges them, against the exact sort of the same values.
fn quantile_accuracy() {
    println!("\n## 5. Quantiles against the exact sort (MC-tau, chunks of 10,000 runs)\n");
    println!("| runs | metric | p5 | p50 | p95 | worst error (ranks) | stated bound (ranks) | values held |");
    println!("| ---: | --- | --- | --- | --- | ---: | ---: | ---: |");
    for runs in [10_000u64, 100_000, 1_000_000] {
        let metrics = simulate(&mc_tau_job(runs, 42));
        let mut merged = RunSummary::new();
        for chunk in metrics.chunks(10_000) {
            let mut summary = RunSummary::new();
            chunk.iter().for_each(|r| summary.add(r));
            // As a worker reports it.
            summary.shrink(report_values(runs.div_ceil(10_000)));
            merged.merge(&summary);
        }
        for metric in [Metric::FinalLevel, Metric::OvershootPct] {
            let mut sorted: Vec<f64> = metrics.iter().filter_map(|r| r.get(metric)).collect();
            sorted.sort_by(f64::total_cmp);
            let s = merged.metric(metric);
            let n = sorted.len() as u64;
            let mut worst = 0u64;
            let mut shown = Vec::new();
            for q in [0.05, 0.5, 0.95] {
                let rank = (q * (n - 1) as f64).floor() as u64;
                let v = s.quantile(q).expect("values");
                let (below, upto) =
                    (sorted.partition_point(|&x| x < v) as u64, sorted.partition_point(|&x| x <= v) as u64);
                worst = worst.max(below.saturating_sub(rank)).max((rank + 1).saturating_sub(upto));
                shown.push(format!("{v:.9}"));
            }
            println!(
                "| {runs} | {} | {} | {} | {} | {worst} ({:.3} %) | {:.0} ({:.3} %) | {} |",
                metric.name(),
                shown[0],
                shown[1],
                shown[2],
                100.0 * worst as f64 / n as f64,
                s.rank_error() * n as f64,
                100.0 * s.rank_error(),
                s.sketch_values()
            );
        }
    }
}
