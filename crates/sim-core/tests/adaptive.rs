//! The adaptive Monte Carlo stopping rule on values of known distribution: the interval it
//! stops with covers the true mean or quantile as often as its confidence level says (less the
//! small price of stopping at the first narrow-enough wave; more where the quantile sketch's
//! error bound widens it), its half-width is on target, and the runs it takes are close to
//! what the spread calls for.

use tanksim_sim_core::adaptive::{Statistic, Stop, Stopped, Target, Wave};
use tanksim_sim_core::metric::Metric;
use tanksim_sim_core::rng::RunRng;
use tanksim_sim_core::special::norm_ppf;
use tanksim_sim_core::summary::MetricSummary;

/// Runs the rule the way the pipeline does (waves of runs `0..n`, decided after each) on
/// `value(run)`; returns the summary it stopped with and why.
fn run_adaptive(stop: &Stop, cap: u64, value: impl Fn(u64) -> f64) -> (MetricSummary, Stopped) {
    // A rule on a quantile reads a fine sketch, as the job's summary gives its stop metric.
    let mut summary = match stop.statistic {
        Statistic::Mean => MetricSummary::new(),
        Statistic::Quantile(_) => MetricSummary::fine(),
    };
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

impl Coverage {
    /// The share of intervals that covered the truth (printed with the runs, for
    /// `--nocapture`).
    fn rate(&self) -> f64 {
        let rate = f64::from(self.covered) / f64::from(self.trials);
        eprintln!("coverage {rate:.3} over {} trials, mean runs {:.0}", self.trials, self.mean_runs);
        rate
    }
}

/// Over `trials` seeds: how often the stopping interval covers `truth`.
fn coverage(stop: &Stop, truth: f64, trials: u32, draw: impl Fn(f64) -> f64) -> Coverage {
    let (mut covered, mut runs) = (0, 0u64);
    for seed in 0..trials {
        let value = |run: u64| draw(RunRng::new(u64::from(seed), run, 0).next_f64());
        let (summary, why) = run_adaptive(stop, 10_000_000, value);
        assert_eq!(why, Stopped::Target, "seed {seed}");
        let precision = stop.precision(&summary);
        let (Some((lo, hi)), Some(half_width), Some(target)) =
            (precision.interval, precision.half_width, precision.target)
        else {
            panic!("seed {seed}: no interval {precision:?}")
        };
        assert!(half_width <= target, "seed {seed}: {precision:?}");
        covered += u32::from(lo <= truth && truth <= hi);
        runs += summary.runs();
    }
    Coverage { covered, trials, mean_runs: runs as f64 / f64::from(trials) }
}

fn stop(target: Target, confidence: f64) -> Stop {
    Stop { metric: Metric::Iae, statistic: Statistic::Mean, target, confidence, batch: 100 }
}

fn quantile(q: f64, target: Target, confidence: f64) -> Stop {
    Stop { statistic: Statistic::Quantile(q), ..stop(target, confidence) }
}

#[test]
fn the_stopping_interval_covers_a_normal_mean_at_its_level() {
    // Normal(3, 2): (1.96 * 2 / 0.1)^2 = 1,537 runs for a half-width of 0.1.
    let c = coverage(&stop(Target::Absolute(0.1), 0.95), 3.0, 1_000, |u| 3.0 + 2.0 * norm_ppf(u));
    let rate = c.rate();
    // Nominal 0.95; a binomial standard error of 0.007 at 1,000 trials. A wrong z, a
    // population instead of a sample deviation, or a stop before the target would miss this.
    assert!((0.925..=0.97).contains(&rate), "coverage {rate}");
    assert!((1_537.0..2_200.0).contains(&c.mean_runs), "runs {}", c.mean_runs);
}

#[test]
fn the_stopping_interval_covers_a_skewed_mean_at_its_level() {
    // Exponential(1): mean 1, sd 1; a relative target of 2 % at 90 %: (1.645 / 0.02)^2 = 6,765.
    let c = coverage(&stop(Target::Relative(0.02), 0.90), 1.0, 600, |u| -(1.0 - u).ln());
    let rate = c.rate();
    // Nominal 0.90; standard error 0.012 at 600 trials.
    assert!((0.86..=0.94).contains(&rate), "coverage {rate}");
    assert!((6_000.0..9_000.0).contains(&c.mean_runs), "runs {}", c.mean_runs);
}

#[test]
fn the_stopping_interval_covers_an_exact_median_at_its_level() {
    // Exponential(1): median ln 2, density 1/2 there; a half-width of 0.08 needs the rank
    // half-width 0.04: 0.25 * (1.96 / 0.04)^2 = 600 values, all held exactly by the sketch.
    let c = coverage(&quantile(0.5, Target::Absolute(0.08), 0.95), 2f64.ln(), 1_000, |u| -(1.0 - u).ln());
    let rate = c.rate();
    // Order statistics' intervals are discrete: a little above nominal where they are exact.
    // A normal interval around the estimate, the wrong ranks (nq without the spread's sqrt, or
    // q(1-q) left out) or a population quantile in place of the sample's would miss this.
    assert!((0.925..=0.98).contains(&rate), "coverage {rate}");
    assert!((600.0..900.0).contains(&c.mean_runs), "runs {}", c.mean_runs);
}

#[test]
fn the_stopping_interval_covers_a_sketched_p90_at_least_at_its_level() {
    // Normal(3, 2): p90 = 3 + 2 * 1.28155 = 5.5631, density 0.0877 there. A half-width of 0.04
    // needs a rank half-width of 0.0035: 0.09 * (1.96 / 0.0035)^2 = 28,000 values, past the
    // 16,384 a fine sketch holds exactly, so the interval carries the sketch's error bound.
    let truth = 3.0 + 2.0 * norm_ppf(0.9);
    let stop = quantile(0.9, Target::Absolute(0.04), 0.95);
    let c = coverage(&stop, truth, 300, |u| 3.0 + 2.0 * norm_ppf(u));
    let rate = c.rate();
    // The sketch's bound holds with 99 % and is loose: coverage at or above nominal (the
    // binomial standard error is 0.013 at 300 trials).
    assert!(rate >= 0.92, "coverage {rate}");
    assert!((28_000.0..40_000.0).contains(&c.mean_runs), "runs {}", c.mean_runs);
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
