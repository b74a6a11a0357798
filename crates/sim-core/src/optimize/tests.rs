use super::*;
use crate::batch::simulate_batch;
use crate::config::{Controller, MeasurementNoise, Plant};
use crate::distribution::Distribution;
use crate::job::JobSpec;
use crate::metric::Metric;

fn job(params: Vec<Bound>, goal: Goal, robust: Option<Robust>) -> Optimize {
    let mut base = SimConfig::mc_tau(10.0);
    base.horizon = 40.0;
    Optimize {
        base,
        population: Optimize::default_population(params.len()),
        params,
        objective: Objective { metric: Metric::Ise, goal },
        generations: 200,
        seed: 11,
        x_tolerance: 1e-4,
        initial_step: Optimize::DEFAULT_INITIAL_STEP,
        robust,
    }
}

fn gains() -> Vec<Bound> {
    vec![
        Bound { param: Param::Kp, lo: 0.1, hi: 10.0, start: 1.0 },
        Bound { param: Param::Ki, lo: 0.01, hi: 2.0, start: 0.1 },
    ]
}

/// Runs the search to its end on the tank; returns it and the runs it took.
fn run(job: &Optimize) -> (Search<'_>, u64, Stopped) {
    let mut search = job.search();
    let (mut configs, mut metrics, mut runs) = (Vec::new(), Vec::new(), 0);
    loop {
        match search.next() {
            Next::Generation(_) => {}
            Next::Stop(why) => return (search, runs, why),
        }
        let generation = search.runs();
        generation.configs(generation.runs(), &mut configs);
        metrics.clear();
        simulate_batch(&configs, &mut metrics);
        let values: Vec<Option<f64>> = metrics.iter().map(|m| m.get(job.objective.metric)).collect();
        runs += configs.len() as u64;
        search.tell(&job.generation_values(&values));
    }
}

/// The smallest ISE over an `n`×`n` grid of the gains' bounds.
fn grid_minimum(job: &Optimize, n: u32) -> (f64, f64, f64) {
    let mut configs = Vec::new();
    for i in 0..n {
        for j in 0..n {
            let kp = 0.1 + 9.9 * f64::from(i) / f64::from(n - 1);
            let ki = 0.01 + 1.99 * f64::from(j) / f64::from(n - 1);
            let mut config = job.base.clone();
            Param::Kp.apply(&mut config, kp).expect("a PID");
            Param::Ki.apply(&mut config, ki).expect("a PID");
            configs.push((config, kp, ki));
        }
    }
    let mut metrics = Vec::new();
    simulate_batch(&configs.iter().map(|c| c.0.clone()).collect::<Vec<_>>(), &mut metrics);
    metrics
        .iter()
        .zip(&configs)
        .filter_map(|(m, c)| m.get(Metric::Ise).map(|v| (v, c.1, c.2)))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .expect("a finite ISE")
}

#[test]
fn finds_the_gains_of_least_ise_on_the_tank_in_fewer_runs_than_a_grid() {
    let job = job(gains(), Goal::Minimize, None);
    let (search, runs, why) = run(&job);
    let best = search.best().expect("a best point").clone();
    let (grid_best, kp, ki) = grid_minimum(&job, 100);
    eprintln!(
        "CMA-ES: ISE {:.6} at kp {:.4} ki {:.4} in {runs} runs ({why:?}); grid 100x100: {grid_best:.6} at kp {kp:.4} ki {ki:.4}",
        best.value, best.point[0], best.point[1]
    );
    assert_eq!(why, Stopped::Converged);
    assert!(best.value <= grid_best * (1.0 + 1e-6), "{} vs the grid's {grid_best}", best.value);
    assert!(runs < 10_000, "{runs} runs");
    // Every candidate ran inside its bounds.
    let inside =
        |b: &Best| b.point.iter().zip(&job.params).all(|(v, bound)| (bound.lo..=bound.hi).contains(v));
    assert!(search.path().iter().all(|s| s.best.as_ref().is_some_and(inside)));
}

#[test]
fn maximising_finds_the_same_point_as_minimising_the_negation() {
    // The worst ISE within the bounds is at the smallest gains: a corner.
    let job = job(gains(), Goal::Maximize, None);
    let (search, _, _) = run(&job);
    let best = search.best().expect("a best point");
    assert!(best.point[0] < 0.1 + 1e-2 && best.point[1] < 0.01 + 1e-2, "{:?}", best.point);
    assert!(search.path().iter().all(|s| s.best.as_ref().is_some_and(|b| b.value.is_finite())));
}

#[test]
fn a_replayed_history_gives_the_same_search_bit_for_bit() {
    let job = job(gains(), Goal::Minimize, None);
    // Build the history generation by generation, then replay it whole.
    let mut live = job.search();
    let mut history = Vec::new();
    let (mut configs, mut metrics) = (Vec::new(), Vec::new());
    for _ in 0..6 {
        let generation = live.runs();
        generation.configs(generation.runs(), &mut configs);
        metrics.clear();
        simulate_batch(&configs, &mut metrics);
        let values = job.generation_values(&metrics.iter().map(|m| m.get(Metric::Ise)).collect::<Vec<_>>());
        history.extend_from_slice(&values);
        live.tell(&values);
    }
    let replayed = job.replay(&history);
    assert_eq!(replayed.generation(), 6);
    assert_eq!(replayed.runs(), live.runs());
    assert_eq!(replayed.path(), live.path());
    assert_eq!(replayed.best(), live.best());
    let bytes = history_to_bytes(&history);
    assert_eq!(history_from_bytes(&bytes).map(|h| job.replay(&h).runs()), Some(live.runs()));
    assert_eq!(history_from_bytes(&bytes[1..]), None);
    // A partial generation is not a generation.
    assert_eq!(job.replay(&history[..history.len() - 1]).generation(), 5);
}

#[test]
fn robust_runs_share_their_plants_across_candidates_and_generations() {
    let tau = ParamDist {
        param: Param::Tau,
        dist: Distribution::TruncatedNormal { mean: 10.0, sd: 2.0, lo: 1.0, hi: f64::INFINITY },
    };
    let robust = Robust {
        params: vec![tau],
        runs: 5,
        statistic: Statistic::Quantile(0.9),
        sampling: Sampling::Random,
    };
    let mut job = job(gains(), Goal::Minimize, Some(robust));
    job.base.noise = Some(MeasurementNoise { sd: 0.01, seed: 0 });
    assert_eq!((job.runs_per_candidate(), job.runs_per_generation()), (5, 30));
    assert_eq!(job.varied_params().collect::<Vec<_>>(), [Param::Kp, Param::Ki, Param::Tau]);
    let first = job.search().runs();
    let second = job.replay(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).runs();
    assert_eq!((first.runs(), second.runs()), (0..30, 30..60));
    let plant = |config: &SimConfig| match (config.plant, config.noise) {
        (Plant::FirstOrder(p), Some(noise)) => (p.tau.to_bits(), noise.seed),
        other => panic!("a noisy first-order plant, not {other:?}"),
    };
    let gains_of = |config: &SimConfig| match config.controller {
        Controller::Pid(pid) => (pid.kp, pid.ki),
        other => panic!("a PID, not {other:?}"),
    };
    let mut params = Vec::new();
    for (generation, offset) in [(&first, 0), (&second, 30)] {
        for candidate in 0..6u64 {
            for sample in 0..5u64 {
                let run = offset + candidate * 5 + sample;
                let config = generation.run_config(run);
                assert_eq!(plant(&config), plant(&first.run_config(sample)), "run {run}");
                let point = &generation.points()[candidate as usize];
                assert_eq!(gains_of(&config), (point[0], point[1]), "run {run}");
                generation.run_params(run, &mut params);
                assert_eq!(params.len(), 3);
            }
        }
    }
    assert_ne!(first.points(), second.points());
    // Outside its generation a run has no values.
    first.run_params(30, &mut params);
    assert!(params.is_empty());
    // The spec maps the first generation.
    assert_eq!(JobSpec::Optimize(job.clone()).run_config(7), first.run_config(7));
}

#[test]
fn objectives_are_the_statistic_over_finite_runs_or_nan() {
    let mut job = job(gains(), Goal::Minimize, None);
    assert_eq!(job.objective_value(&[Some(2.5)]), 2.5);
    assert!(job.objective_value(&[None]).is_nan());
    assert!(job.objective_value(&[Some(f64::INFINITY)]).is_nan());
    assert!(job.objective_value(&[]).is_nan());
    let robust = Robust { params: vec![], runs: 4, statistic: Statistic::Mean, sampling: Sampling::Random };
    job.robust = Some(robust.clone());
    let values = job.generation_values(&[
        Some(1.0),
        Some(2.0),
        Some(3.0),
        Some(6.0),
        Some(1.0),
        None,
        Some(1.0),
        Some(1.0),
    ]);
    assert_eq!((values.len(), values[0]), (2, 3.0));
    assert!(values[1].is_nan(), "an absent run spoils its candidate");
    job.robust = Some(Robust { statistic: Statistic::Quantile(0.9), ..robust });
    // NumPy: np.quantile([1, 2, 3, 6], 0.9) = 5.1.
    assert!((job.objective_value(&[Some(3.0), Some(1.0), Some(6.0), Some(2.0)]) - 5.1).abs() < 1e-12);
    assert_eq!(quantile(vec![4.0], 0.5), 4.0);
    assert_eq!(quantile(vec![1.0, 3.0], 1.0), 3.0);
}

#[test]
fn an_optimum_in_a_corner_of_the_bounds_is_hit_exactly() {
    // k-tau-sweep.yaml's question: the least ISE over K in [0.5, 4] and tau in [1, 50] is at
    // the corner (4, 1), which candidates projected onto the bounds reach exactly.
    let params = vec![
        Bound { param: Param::Gain, lo: 0.5, hi: 4.0, start: 2.25 },
        Bound { param: Param::Tau, lo: 1.0, hi: 50.0, start: 25.5 },
    ];
    let job = Optimize {
        base: SimConfig::mc_tau(10.0),
        seed: 3,
        x_tolerance: 1e-3,
        ..job(params, Goal::Minimize, None)
    };
    let (search, runs, why) = run(&job);
    let best = search.best().expect("a best point");
    let mut corner = job.base.clone();
    Param::Gain.apply(&mut corner, 4.0).expect("a first-order plant");
    Param::Tau.apply(&mut corner, 1.0).expect("a first-order plant");
    let mut metrics = Vec::new();
    simulate_batch(&[corner], &mut metrics);
    assert_eq!(
        (best.point.as_slice(), Some(best.value)),
        ([4.0, 1.0].as_slice(), metrics[0].get(Metric::Ise))
    );
    assert_eq!(why, Stopped::Converged);
    assert!(runs < 1_440, "{runs} runs, more than the sweep's grid");
}
