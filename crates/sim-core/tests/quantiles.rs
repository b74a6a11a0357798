//! Quantiles of the tank's own metrics, merged from chunk summaries as the results service
//! merges them, against the exact sort of the same runs. `final_level` is the case a
//! relative-error sketch got wrong: values about 1.0 with a spread of a few 1e-6, where 0.5 %
//! of the value is a thousand times the spread and p5 = p50 = p95.

use tanksim_sim_core::Metric;
use tanksim_sim_core::batch::simulate_batch;
use tanksim_sim_core::canonical::mc_tau_job;
use tanksim_sim_core::job::RunMap;
use tanksim_sim_core::metric::RunMetrics;
use tanksim_sim_core::summary::{EXACT_VALUES, RunSummary};

const RUNS: u64 = 40_000;
const CHUNK: usize = 4_000;

fn runs() -> Vec<RunMetrics> {
    let job = mc_tau_job(RUNS, 7);
    let (mut configs, mut out) = (Vec::new(), Vec::new());
    job.configs(0..RUNS, &mut configs);
    simulate_batch(&configs, &mut out);
    out
}

fn merged(runs: &[RunMetrics]) -> RunSummary {
    let mut merged = RunSummary::new();
    for chunk in runs.chunks(CHUNK) {
        let mut summary = RunSummary::new();
        chunk.iter().for_each(|r| summary.add(r));
        merged.merge(&summary);
    }
    merged
}

/// Distance in ranks from `rank` to the ranks `v` occupies in `sorted`.
fn rank_distance(sorted: &[f64], rank: usize, v: f64) -> usize {
    let (below, upto) = (sorted.partition_point(|&x| x < v), sorted.partition_point(|&x| x <= v));
    below.saturating_sub(rank).max((rank + 1).saturating_sub(upto))
}

#[test]
fn final_level_and_overshoot_quantiles_are_within_their_stated_rank_error() {
    let runs = runs();
    let summary = merged(&runs);
    for metric in [Metric::FinalLevel, Metric::OvershootPct] {
        let mut sorted: Vec<f64> = runs.iter().filter_map(|r| r.get(metric)).collect();
        sorted.sort_by(f64::total_cmp);
        let s = summary.metric(metric);
        assert_eq!(s.count(), sorted.len() as u64);
        assert!(sorted.len() > EXACT_VALUES, "{metric:?}: the sketch must be compacting");
        let bound = s.rank_error();
        assert!(bound > 0.0 && bound < 0.02, "{metric:?}: bound {bound}");
        let n = sorted.len();
        let mut quantiles = Vec::new();
        for q in [0.05, 0.25, 0.5, 0.75, 0.95] {
            let rank = (q * (n - 1) as f64).floor() as usize;
            let v = s.quantile(q).expect("values");
            let off = rank_distance(&sorted, rank, v);
            assert!(off as f64 <= bound * n as f64, "{metric:?} q {q}: {off} ranks off, bound {bound}");
            quantiles.push(v);
        }
        // Distinct and ordered: the spread shows, whatever the metric's scale.
        assert!(quantiles.windows(2).all(|w| w[0] < w[1]), "{metric:?}: {quantiles:?}");
        // The histogram's counts add up, and each bin is within the bound at both its edges
        // of the exact count of its range.
        let histogram = s.histogram(20);
        assert_eq!(histogram.iter().map(|b| b.count).sum::<u64>(), n as u64);
        for (k, bin) in histogram.iter().enumerate() {
            let upto = |x: f64| sorted.partition_point(|&v| v < x);
            let hi = if k + 1 == histogram.len() { n } else { upto(bin.hi) };
            let exact = (hi - upto(bin.lo)) as f64;
            assert!(
                (bin.count as f64 - exact).abs() <= 2.0 * bound * n as f64 + 1.0,
                "{metric:?} bin {k}: {} vs {exact}",
                bin.count
            );
        }
    }
    // final_level's spread is tiny: p95 - p5 is a few parts in a million.
    let level = summary.metric(Metric::FinalLevel);
    let (p5, p95) = (level.quantile(0.05).expect("p5"), level.quantile(0.95).expect("p95"));
    assert!(p95 - p5 < 1e-3 && p95 > p5, "{p5} {p95}");
}
