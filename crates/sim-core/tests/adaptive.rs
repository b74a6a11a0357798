//! The adaptive Monte Carlo stopping rule on values of known mean and variance: the interval
//! it stops with covers the true mean as often as its confidence level says (less the small
//! price of stopping at the first narrow-enough wave), its half-width is on target, and the
//! runs it takes are close to what the variance calls for.

use tanksim_sim_core::adaptive::{Stop, Stopped, Target, Wave};
use tanksim_sim_core::metric::Metric;
use tanksim_sim_core::rng::RunRng;
use tanksim_sim_core::special::norm_ppf;
use tanksim_sim_core::summary::MetricSummary;

/// Runs the rule the way the pipeline does (waves of runs `0..n`, decided after each) on
/// `value(run)`; returns the summary it stopped with and why.
fn run_adaptive(stop: &Stop, cap: u64, value: impl Fn(u64) -> f64) -> (MetricSummary, Stopped) {
    let mut summary = MetricSummary::new();
    let mut end = stop.first_wave(cap);
    loop {
        while summary.runs() < end {
            summary.add(Some(value(summary.runs())));
        }
        match stop.next(cap, &summary) {
            Wave::Next(next) => {
                assert!(
                    next > end && next <= cap && (next.is_multiple_of(stop.batch) || next == cap),
                    "{end} -> {next}"
                );
                end = next;
            }
            Wave::Stop(why) => return (summary, why),
        }
    }
}

struct Coverage {
    covered: u32,
    trials: u32,
    mean_runs: f64,
}

/// Over `trials` seeds: how often the stopping interval covers `truth`.
fn coverage(stop: &Stop, truth: f64, trials: u32, draw: impl Fn(f64) -> f64) -> Coverage {
    let (mut covered, mut runs) = (0, 0u64);
    for seed in 0..trials {
        let value = |run: u64| draw(RunRng::new(u64::from(seed), run, 0).next_f64());
        let (summary, why) = run_adaptive(stop, 10_000_000, value);
        assert_eq!(why, Stopped::Target, "seed {seed}");
        let precision = stop.precision(&summary);
        let (Some(mean), Some(half_width), Some(target)) =
            (precision.mean, precision.half_width, precision.target)
        else {
            panic!("seed {seed}: no interval {precision:?}")
        };
        assert!(half_width <= target, "seed {seed}: {precision:?}");
        covered += u32::from((mean - truth).abs() <= half_width);
        runs += summary.runs();
    }
    Coverage { covered, trials, mean_runs: runs as f64 / f64::from(trials) }
}

fn stop(target: Target, confidence: f64) -> Stop {
    Stop { metric: Metric::Iae, target, confidence, batch: 100 }
}

#[test]
fn the_stopping_interval_covers_a_normal_mean_at_its_level() {
    // Normal(3, 2): (1.96 * 2 / 0.1)^2 = 1,537 runs for a half-width of 0.1.
    let c = coverage(&stop(Target::Absolute(0.1), 0.95), 3.0, 1_000, |u| 3.0 + 2.0 * norm_ppf(u));
    let rate = f64::from(c.covered) / f64::from(c.trials);
    eprintln!("coverage {rate:.3} over {} trials, mean runs {:.0}", c.trials, c.mean_runs);
    // Nominal 0.95; a binomial standard error of 0.007 at 1,000 trials. A wrong z, a
    // population instead of a sample deviation, or a stop before the target would miss this.
    assert!((0.925..=0.97).contains(&rate), "coverage {rate}");
    assert!((1_537.0..2_200.0).contains(&c.mean_runs), "runs {}", c.mean_runs);
}

#[test]
fn the_stopping_interval_covers_a_skewed_mean_at_its_level() {
    // Exponential(1): mean 1, sd 1; a relative target of 2 % at 90 %: (1.645 / 0.02)^2 = 6,765.
    let c = coverage(&stop(Target::Relative(0.02), 0.90), 1.0, 600, |u| -(1.0 - u).ln());
    let rate = f64::from(c.covered) / f64::from(c.trials);
    eprintln!("coverage {rate:.3} over {} trials, mean runs {:.0}", c.trials, c.mean_runs);
    // Nominal 0.90; standard error 0.012 at 600 trials.
    assert!((0.86..=0.94).contains(&rate), "coverage {rate}");
    assert!((6_000.0..9_000.0).contains(&c.mean_runs), "runs {}", c.mean_runs);
}

#[test]
fn a_cap_below_the_need_stops_at_the_cap() {
    let s = stop(Target::Absolute(1e-4), 0.95);
    let (summary, why) = run_adaptive(&s, 5_050, |run| (run % 7) as f64);
    assert_eq!((summary.runs(), why), (5_050, Stopped::Cap));
    assert!(!s.precision(&summary).reached());
}

#[test]
fn the_same_values_stop_at_the_same_run() {
    let s = stop(Target::Absolute(0.05), 0.95);
    let value = |run: u64| norm_ppf(RunRng::new(9, run, 0).next_f64());
    let (a, _) = run_adaptive(&s, 1_000_000, value);
    let (b, _) = run_adaptive(&s, 1_000_000, value);
    assert_eq!(a.runs(), b.runs());
    assert_eq!(a.mean().map(f64::to_bits), b.mean().map(f64::to_bits));
}
