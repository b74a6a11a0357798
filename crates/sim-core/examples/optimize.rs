//! What CMA-ES buys over a grid, measured (BENCHMARKS.md, "Optimisation"): the question of
//! examples/k-tau-sweep.yaml (the plant gain K in [0.5, 4] and time constant tau in [1, 50] s
//! of least ISE under the PI controller) answered
//!
//! 1. by grids of growing resolution (the sweep's 36 x 40 among them), each's best ISE and
//!    runs, against the best found anywhere;
//! 2. by the spec of examples/optimize-k-tau.yaml over 25 seeds: median runs and generations,
//!    the median and worst best ISE, and the runs the finest grid needs to do as well;
//! 3. by examples/optimize-pi-robust.yaml (robust: 90th percentile of ISE over 200 uncertain
//!    tanks per candidate), one seed: its runs, generations and best gains.
//!
//!   cargo run --release -p tanksim-sim-core --example optimize

use std::time::Instant;

use tanksim_sim_core::batch::simulate_batch;
use tanksim_sim_core::distribution::Distribution;
use tanksim_sim_core::job::{Goal, Objective, ParamDist, RunMap};
use tanksim_sim_core::optimize::{Bound, Next, Optimize, Robust, Statistic};
use tanksim_sim_core::sampling::Sampling;
use tanksim_sim_core::{Metric, Param, SimConfig};

/// The base of both examples: k-tau-sweep.yaml's configuration (SimConfig::mc_tau is it).
fn base() -> SimConfig {
    SimConfig::mc_tau(10.0)
}

fn k_tau(seed: u64) -> Optimize {
    let params = vec![
        Bound { param: Param::Gain, lo: 0.5, hi: 4.0, start: 2.25 },
        Bound { param: Param::Tau, lo: 1.0, hi: 50.0, start: 25.5 },
    ];
    Optimize {
        base: base(),
        population: Optimize::default_population(params.len()),
        params,
        objective: Objective { metric: Metric::Ise, goal: Goal::Minimize },
        generations: Optimize::DEFAULT_GENERATIONS,
        seed,
        x_tolerance: Optimize::DEFAULT_X_TOLERANCE,
        initial_step: Optimize::DEFAULT_INITIAL_STEP,
        robust: None,
    }
}

fn robust_pi(seed: u64) -> Optimize {
    let tau = Distribution::TruncatedNormal { mean: 10.0, sd: 2.0, lo: 1.0, hi: f64::INFINITY };
    let robust = Robust {
        params: vec![
            ParamDist { param: Param::Tau, dist: tau },
            ParamDist { param: Param::Gain, dist: Distribution::Uniform { lo: 1.5, hi: 2.5 } },
        ],
        runs: 200,
        statistic: Statistic::Quantile(0.9),
        sampling: Sampling::Random,
    };
    Optimize {
        params: vec![
            Bound { param: Param::Kp, lo: 0.1, hi: 10.0, start: 2.0 },
            Bound { param: Param::Ki, lo: 0.01, hi: 2.0, start: 0.5 },
        ],
        generations: 60,
        robust: Some(robust),
        ..k_tau(seed)
    }
}

/// Runs a search to its end; returns (best ISE, its point, runs, generations).
fn search(job: &Optimize) -> (f64, Vec<f64>, u64, u32) {
    let mut search = job.search();
    let (mut configs, mut metrics, mut runs) = (Vec::new(), Vec::new(), 0);
    while let Next::Generation(_) = search.next() {
        let generation = search.runs();
        generation.configs(generation.runs(), &mut configs);
        metrics.clear();
        simulate_batch(&configs, &mut metrics);
        runs += configs.len() as u64;
        let values: Vec<Option<f64>> = metrics.iter().map(|m| m.get(job.objective.metric)).collect();
        search.tell(&job.generation_values(&values));
    }
    let best = search.best().expect("a best point");
    (best.value, best.point.clone(), runs, search.generation())
}

/// The best ISE over a `k` x `t` grid (K linear, tau geometric, as the sweep spaces them).
fn grid(k: u32, t: u32) -> (f64, f64, f64) {
    let mut configs = Vec::with_capacity((k * t) as usize);
    let mut points = Vec::with_capacity((k * t) as usize);
    for i in 0..k {
        for j in 0..t {
            let gain = 0.5 + 3.5 * f64::from(i) / f64::from(k - 1);
            let tau = 50f64.powf(f64::from(j) / f64::from(t - 1));
            let mut config = base();
            Param::Gain.apply(&mut config, gain).expect("a first-order plant");
            Param::Tau.apply(&mut config, tau).expect("a first-order plant");
            configs.push(config);
            points.push((gain, tau));
        }
    }
    let mut metrics = Vec::new();
    simulate_batch(&configs, &mut metrics);
    metrics
        .iter()
        .zip(points)
        .filter_map(|(m, (g, t))| m.get(Metric::Ise).map(|v| (v, g, t)))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .expect("a finite ISE")
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { 0.5 * (v[n / 2 - 1] + v[n / 2]) }
}

fn main() {
    println!("1. Grids over K in [0.5, 4] (linear) x tau in [1, 50] s (geometric), least ISE:");
    println!("{:>12} {:>9} {:>12} {:>9} {:>9}", "grid", "runs", "best ISE", "K", "tau");
    let mut grids = Vec::new();
    for (k, t) in [(36, 40), (72, 80), (144, 160), (288, 320), (576, 640)] {
        let (v, g, tau) = grid(k, t);
        println!("{:>12} {:>9} {v:>12.6} {g:>9.4} {tau:>9.4}", format!("{k} x {t}"), k * t);
        grids.push((k * t, v));
    }

    println!("\n2. CMA-ES (examples/optimize-k-tau.yaml), 25 seeds:");
    let started = Instant::now();
    let outcomes: Vec<(f64, Vec<f64>, u64, u32)> = (0..25).map(|seed| search(&k_tau(seed))).collect();
    let values: Vec<f64> = outcomes.iter().map(|o| o.0).collect();
    let worst = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (runs, generations) = (
        median(outcomes.iter().map(|o| o.2 as f64).collect()),
        median(outcomes.iter().map(|o| f64::from(o.3)).collect()),
    );
    println!(
        "median {runs:.0} runs in {generations:.0} generations; best ISE median {:.6}, worst {worst:.6} ({:.2} s for all 25)",
        median(values.clone()),
        started.elapsed().as_secs_f64()
    );
    if std::env::args().any(|a| a == "--seeds") {
        for (seed, o) in outcomes.iter().enumerate() {
            println!(
                "  seed {seed}: ISE {:.6} at K {:.4}, tau {:.4} in {} runs, {} generations",
                o.0, o.1[0], o.1[1], o.2, o.3
            );
        }
    }
    let first = &outcomes[0];
    println!("seed 0: ISE {:.6} at K {:.4}, tau {:.4} in {} runs", first.0, first.1[0], first.1[1], first.2);
    let beaten = grids.iter().filter(|(_, v)| worst <= *v).map(|(r, _)| r).max();
    let matched = grids.iter().find(|(_, v)| *v <= worst).map(|(r, _)| *r);
    println!(
        "every seed's best is at least as good as the grids of up to {} runs; the first grid as good as the worst seed: {}",
        beaten.map_or("no".to_owned(), |r| r.to_string()),
        matched.map_or("none of these".to_owned(), |r| format!("{r} runs"))
    );

    println!("\n3. Robust PI tuning (examples/optimize-pi-robust.yaml), seed 7:");
    let started = Instant::now();
    let (v, point, runs, generations) = search(&robust_pi(7));
    println!(
        "p90 ISE {v:.6} at kp {:.4}, ki {:.4}: {runs} runs in {generations} generations ({:.2} s)",
        point[0],
        point[1],
        started.elapsed().as_secs_f64()
    );
}
