use super::*;
use crate::rng::RunRng;
use proptest::prelude::*;

fn of(xs: &[f64]) -> RankSketch {
    let mut s = RankSketch::default();
    xs.iter().for_each(|&x| s.add(x));
    s
}

/// `n` values from `draw`, one run's stream per seed.
fn values(seed: u64, n: usize, mut draw: impl FnMut(&mut RunRng) -> f64) -> Vec<f64> {
    let mut rng = RunRng::new(seed, 0, 0);
    (0..n).map(|_| draw(&mut rng)).collect()
}

/// The largest distance, in ranks, between the sketch's answer for ranks of `qs` and the
/// range of ranks the exact sort holds that value at.
fn worst_rank_error(s: &RankSketch, sorted: &[f64], qs: &[f64]) -> u64 {
    let n = sorted.len() as u64;
    qs.iter()
        .map(|&q| {
            let rank = ((q * (n - 1) as f64).floor() as u64).min(n - 1);
            let v = s.value_at_rank(rank).expect("rank < n");
            let below = sorted.partition_point(|&x| x < v) as u64;
            let upto = sorted.partition_point(|&x| x <= v) as u64;
            // The value occupies ranks below..upto-1; distance from `rank` to that range.
            if rank < below {
                below - rank
            } else if rank >= upto {
                rank + 1 - upto
            } else {
                0
            }
        })
        .max()
        .unwrap_or(0)
}

const QS: [f64; 7] = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99];

#[test]
fn the_99_percent_factor_is_azuma_hoeffdings() {
    assert_eq!(AZUMA_99.to_bits(), (2.0 * libm::log(2.0 / 0.01)).sqrt().to_bits());
}

#[test]
fn capacities_stay_below_the_budget_at_every_height() {
    for scale in 0..=FINE_SCALE {
        for top in 1..=MAX_LEVELS {
            let total: usize = (0..top).map(|h| capacity(h, top, scale)).sum();
            assert!(total < EXACT_VALUES << scale, "scale {scale}, {top} levels: {total}");
        }
    }
    assert_eq!(capacity(5, 6, 0), K);
    assert_eq!(capacity(5, 6, FINE_SCALE), 16 * K);
    assert_eq!(capacity(0, 64, 0), 2);
}

#[test]
fn a_fine_sketch_is_exact_longer_and_its_error_a_sixteenth() {
    let xs = values(13, 200_000, |r| r.standard_normal());
    let mut sorted = xs.clone();
    sorted.sort_by(f64::total_cmp);
    let mut fine = RankSketch::with_scale(FINE_SCALE);
    xs[..16_384].iter().for_each(|&x| fine.add(x));
    assert_eq!((fine.rank_error(), fine.held()), (0.0, 16_384));
    xs[16_384..].iter().for_each(|&x| fine.add(x));
    let coarse = of(&xs);
    assert!(fine.held() <= 16 * EXACT_VALUES);
    let ratio = coarse.rank_error() / fine.rank_error();
    assert!((12.0..20.0).contains(&ratio), "bounds {} vs {}", coarse.rank_error(), fine.rank_error());
    let bound = (fine.rank_error() * sorted.len() as f64).ceil() as u64;
    assert!(worst_rank_error(&fine, &sorted, &QS) <= bound);
    // A merge takes the finer scale, whichever side it is on; a scale over the finest is
    // refused from parts.
    let mut merged = RankSketch::default();
    merged.merge(&fine);
    assert_eq!((merged.scale(), merged.count()), (FINE_SCALE, 200_000));
    let parts = fine.to_parts();
    assert_eq!(RankSketch::from_parts(&parts), Ok(fine));
    let bad = SketchParts { scale: FINE_SCALE + 1, ..parts };
    assert_eq!(RankSketch::from_parts(&bad), Err(PartsError::SketchScale(FINE_SCALE + 1)));
}

#[test]
fn exact_up_to_its_budget() {
    let xs = values(1, EXACT_VALUES, |r| r.standard_normal());
    let s = of(&xs);
    let mut sorted = xs.clone();
    sorted.sort_by(f64::total_cmp);
    for (rank, &x) in sorted.iter().enumerate() {
        assert_eq!(s.value_at_rank(rank as u64), Some(x));
    }
    assert_eq!(s.value_at_rank(EXACT_VALUES as u64), None);
    assert_eq!((s.rank_error(), s.held(), s.count()), (0.0, EXACT_VALUES, EXACT_VALUES as u64));
    // One more value starts compacting.
    let mut s = s;
    s.add(0.0);
    assert!(s.rank_error() > 0.0 && s.held() < EXACT_VALUES);
    assert_eq!(s.count(), EXACT_VALUES as u64 + 1);
}

#[test]
fn memory_stays_bounded_and_counts_stay_exact() {
    let mut s = RankSketch::default();
    let mut rng = RunRng::new(7, 0, 0);
    for _ in 0..1_000_000 {
        s.add(rng.next_f64());
        assert!(s.held() <= EXACT_VALUES);
    }
    assert_eq!(s.count(), 1_000_000);
    assert!(s.levels.len() < 20, "{} levels", s.levels.len());
    for level in &s.levels[1..] {
        assert!(level.windows(2).all(|w| w[0] <= w[1]));
    }
}

#[test]
fn a_narrow_metric_keeps_its_spread() {
    // final_level: about 1.0 with a spread of 2e-6 (a relative-error sketch called every
    // quantile the min or the max).
    let xs = values(3, 200_000, |r| 1.0 + 1e-6 * r.standard_normal());
    let s = of(&xs);
    let mut sorted = xs.clone();
    sorted.sort_by(f64::total_cmp);
    let n = xs.len() as f64;
    let bound = (s.rank_error() * n).ceil() as u64;
    assert!(worst_rank_error(&s, &sorted, &QS) <= bound);
    let (p5, p50, p95) = (s.value_at_rank(9_999), s.value_at_rank(99_999), s.value_at_rank(189_999));
    let (p5, p50, p95) = (p5.expect("p5"), p50.expect("p50"), p95.expect("p95"));
    // The normal's 5 % and 95 % points are 1.645 sd from the middle.
    assert!((p5 - (1.0 - 1.645e-6)).abs() < 0.1e-6, "{p5}");
    assert!((p50 - 1.0).abs() < 0.05e-6, "{p50}");
    assert!((p95 - (1.0 + 1.645e-6)).abs() < 0.1e-6, "{p95}");
}

#[test]
fn the_bound_covers_the_error_and_is_not_vacuous() {
    // Over many streams, merged from chunks as the pipeline merges them, the reported 99 %
    // bound must cover the error of every checked quantile nearly always; and the bound must
    // mean something (below 2 % of the values at this size).
    let (streams, chunks, chunk) = (60, 10, 5_000);
    let mut over = 0;
    let mut worst_fraction = 0.0f64;
    for seed in 0..streams {
        let xs = values(seed, chunks * chunk, |r| {
            // Heavy right tail with ties at zero: an overshoot-like metric.
            let u = r.next_f64();
            if u < 0.2 { 0.0 } else { -(1.0 - u).ln() }
        });
        let mut merged = RankSketch::default();
        for c in xs.chunks(chunk) {
            merged.merge(&of(c));
        }
        let mut sorted = xs.clone();
        sorted.sort_by(f64::total_cmp);
        let err = worst_rank_error(&merged, &sorted, &QS) as f64 / xs.len() as f64;
        worst_fraction = worst_fraction.max(err);
        let bound = merged.rank_error();
        assert!(bound > 0.0 && bound < 0.02, "bound {bound}");
        if err > bound {
            over += 1;
        }
    }
    // Seven quantiles per stream, each covered with 99 %: a few misses at most.
    assert!(over <= 3, "{over} of {streams} streams over their bound");
    assert!(worst_fraction < 0.01, "worst error {worst_fraction}");
}

#[test]
fn same_merges_same_bits() {
    let xs = values(11, 40_000, |r| r.next_f64());
    let merge_all = || {
        let mut m = RankSketch::default();
        xs.chunks(3_000).for_each(|c| m.merge(&of(c)));
        m
    };
    let (a, b) = (merge_all(), merge_all());
    assert_eq!(a, b);
    let (pa, pb) = (a.to_parts(), b.to_parts());
    assert_eq!(pa.coins, pb.coins);
    assert_eq!(pa.error_variance.to_bits(), pb.error_variance.to_bits());
    assert_eq!(a.count(), 40_000);
    // Merging an empty sketch changes nothing.
    let mut c = a.clone();
    c.merge(&RankSketch::default());
    assert_eq!(c, a);
}

#[test]
fn parts_round_trip_and_reject_corruption() {
    let xs = values(5, 5_000, |r| r.next_f64() - 0.5);
    let s = of(&xs);
    let parts = s.to_parts();
    assert_eq!(RankSketch::from_parts(&parts), Ok(s.clone()));
    assert_eq!(RankSketch::from_parts(&SketchParts::default()), Ok(RankSketch::default()));

    let top = parts.levels.len() - 1;
    let mut bad = parts.clone();
    bad.levels[top].insert(0, 1.0);
    assert_eq!(RankSketch::from_parts(&bad), Err(PartsError::SketchLevelUnsorted { level: top }));
    let mut bad = parts.clone();
    bad.levels[0].push(f64::NAN);
    assert_eq!(RankSketch::from_parts(&bad), Err(PartsError::SketchValueNotFinite { level: 0 }));
    let mut bad = parts.clone();
    bad.levels[0].extend(std::iter::repeat_n(0.0, EXACT_VALUES));
    assert!(matches!(RankSketch::from_parts(&bad), Err(PartsError::SketchTooLarge { .. })));
    let mut bad = parts.clone();
    bad.error_variance = -1.0;
    assert!(matches!(RankSketch::from_parts(&bad), Err(PartsError::SketchErrorVariance(_))));
    let mut levels = vec![Vec::new(); MAX_LEVELS];
    levels[MAX_LEVELS - 1] = vec![1.0, 2.0];
    let bad = SketchParts { levels, ..SketchParts::default() };
    assert_eq!(RankSketch::from_parts(&bad), Err(PartsError::CountOverflow));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn merges_keep_counts_and_order(
        chunks in prop::collection::vec(prop::collection::vec(-1e6f64..1e6, 0..900), 1..6),
    ) {
        let mut merged = RankSketch::default();
        chunks.iter().for_each(|c| merged.merge(&of(c)));
        let all: Vec<f64> = chunks.concat();
        prop_assert_eq!(merged.count(), all.len() as u64);
        prop_assert!(merged.held() <= EXACT_VALUES);
        let weighted = merged.weighted_values();
        prop_assert!(weighted.windows(2).all(|w| w[0].0 <= w[1].0));
        prop_assert_eq!(weighted.iter().map(|w| w.1).sum::<u64>(), all.len() as u64);
        if all.len() <= EXACT_VALUES {
            let mut sorted = all.clone();
            sorted.sort_by(f64::total_cmp);
            let got: Vec<f64> = weighted.iter().map(|w| w.0).collect();
            prop_assert_eq!(got, sorted);
        }
    }
}

proptest! {
    #[test]
    fn keys_keep_order_and_round_trip(a in any::<f64>(), b in any::<f64>()) {
        prop_assume!(a.is_finite() && b.is_finite());
        prop_assert_eq!(value(key(a)).to_bits(), a.to_bits());
        prop_assert_eq!(key(a).cmp(&key(b)), a.total_cmp(&b));
    }
}

#[test]
fn shrinking_keeps_the_count_and_states_the_error_it_adds() {
    let xs = values(13, 10_000, |r| r.next_f64());
    let mut s = of(&xs);
    let before = s.rank_error();
    s.shrink(154);
    assert!(s.held() <= 154 && s.held() > 64, "{}", s.held());
    assert_eq!(s.count(), 10_000);
    assert!(s.rank_error() > before);
    let mut sorted = xs.clone();
    sorted.sort_by(f64::total_cmp);
    assert!(worst_rank_error(&s, &sorted, &QS) as f64 <= s.rank_error() * 10_000.0);
    // A sketch already small enough is left alone.
    let mut small = of(&xs[..100]);
    let copy = small.clone();
    small.shrink(154);
    assert_eq!(small, copy);
}

#[test]
fn shrunk_chunk_reports_cost_the_merged_quantiles_little() {
    // 100 chunks of 10,000 shrunk to report_values(100) (154 values) against the same chunks
    // merged whole: the bound grows by well under a quarter.
    let values_per_chunk = crate::summary::report_values(100);
    assert_eq!(values_per_chunk, 154);
    let (mut whole, mut shrunk) = (RankSketch::default(), RankSketch::default());
    let mut all = Vec::new();
    for c in 0..100 {
        let xs = values(1_000 + c, 10_000, |r| r.standard_normal());
        let mut chunk = of(&xs);
        whole.merge(&chunk);
        chunk.shrink(values_per_chunk);
        shrunk.merge(&chunk);
        all.extend(xs);
    }
    assert!(
        shrunk.rank_error() < 1.25 * whole.rank_error(),
        "{} vs {}",
        shrunk.rank_error(),
        whole.rank_error()
    );
    all.sort_by(f64::total_cmp);
    assert!(worst_rank_error(&shrunk, &all, &QS) as f64 <= shrunk.rank_error() * all.len() as f64);
}

#[test]
fn report_sizes_fall_with_the_chunk_count() {
    use crate::summary::{MIN_REPORT_VALUES, report_values};
    assert_eq!(report_values(0), EXACT_VALUES);
    assert_eq!(report_values(1), EXACT_VALUES);
    assert_eq!(report_values(4), 768);
    assert_eq!(report_values(1_000), MIN_REPORT_VALUES);
    assert!((1..5_000).all(|c| report_values(c + 1) <= report_values(c)));
}
