//! The sampling schemes keep their promises: `random` is the stream every job used before
//! (bit for bit); a Latin hypercube hits each of its `n` strata once per dimension, whatever
//! `n`; the first `2^k` scrambled Sobol' points fill every elementary interval of a dimension
//! once, and of the first two dimensions together (a (0, m, 2)-net); both spread points more
//! evenly than independent draws (L2-star discrepancy, Warnock's formula) on fixed seeds.

use tanksim_sim_core::rng::RunRng;
use tanksim_sim_core::sampling::Sampling;

/// Points `0..n` of `dims` dimensions (`stream` = dimension, as a job's parameters would have
/// distinct streams).
fn points(sampling: Sampling, seed: u64, n: u64, dims: usize) -> Vec<Vec<f64>> {
    (0..n).map(|run| (0..dims).map(|d| sampling.uniform(seed, n, run, d, d as u64 + 1)).collect()).collect()
}

/// The squared L2-star discrepancy of `points` in the unit cube (Warnock, 1972).
fn l2_star_squared(points: &[Vec<f64>]) -> f64 {
    let n = points.len() as f64;
    let d = points[0].len() as i32;
    let single: f64 = points.iter().map(|p| p.iter().map(|x| (1.0 - x * x) / 2.0).product::<f64>()).sum();
    let mut pairs = 0.0;
    for p in points {
        for q in points {
            pairs += p.iter().zip(q).map(|(x, y)| 1.0 - x.max(*y)).product::<f64>();
        }
    }
    3f64.powi(-d) - 2.0 * single / n + pairs / (n * n)
}

#[test]
fn random_is_the_per_parameter_stream_jobs_always_used() {
    for (seed, run, dim, stream) in [(42, 0, 0, 1), (7, 123_456, 3, 8), (0, 99, 1, 22)] {
        let want = RunRng::new(seed, run, stream).next_f64();
        assert_eq!(Sampling::Random.uniform(seed, 1_000_000, run, dim, stream).to_bits(), want.to_bits());
    }
}

#[test]
fn every_variate_is_inside_the_open_unit_interval() {
    for sampling in Sampling::ALL {
        for (n, run) in [(1, 0), (2, 1), (1000, 999), (u64::from(u32::MAX), u64::from(u32::MAX) - 1)] {
            for dim in [0, 1, 63, 64, 200] {
                let u = sampling.uniform(9, n, run, dim, 5);
                assert!(u > 0.0 && u < 1.0, "{sampling:?} n {n} run {run} dim {dim}: {u}");
            }
        }
    }
}

#[test]
fn a_latin_hypercube_hits_every_stratum_once() {
    for n in [1, 2, 10, 1000, 1024, 4099] {
        for seed in [1, 42] {
            for (dim, column) in transpose(&points(Sampling::LatinHypercube, seed, n, 5)).iter().enumerate() {
                let mut hits = vec![0u32; n as usize];
                for u in column {
                    hits[(u * n as f64) as usize] += 1;
                }
                assert!(hits.iter().all(|h| *h == 1), "n {n}, seed {seed}, dimension {dim}");
            }
        }
    }
}

#[test]
fn the_first_powers_of_two_of_sobol_points_fill_every_interval() {
    for k in 0..=12 {
        let n = 1u64 << k;
        for seed in [1, 42] {
            let pts = points(Sampling::Sobol, seed, n, 10);
            for (dim, column) in transpose(&pts).iter().enumerate() {
                let mut hits = vec![0u32; n as usize];
                for u in column {
                    hits[(u * n as f64) as usize] += 1;
                }
                assert!(hits.iter().all(|h| *h == 1), "2^{k} points, seed {seed}, dimension {dim}");
            }
            // Dimensions 0 and 1 form a (0, k, 2)-net: every box of 2^a x 2^(k-a) equal cells
            // holds exactly one point.
            for a in 0..=k {
                let (cols, rows) = (1u64 << a, 1u64 << (k - a));
                let mut hits = vec![0u32; n as usize];
                for p in &pts {
                    let (i, j) = ((p[0] * cols as f64) as u64, (p[1] * rows as f64) as u64);
                    hits[(i * rows + j) as usize] += 1;
                }
                assert!(hits.iter().all(|h| *h == 1), "2^{k} points, seed {seed}: boxes 2^{a} x 2^{}", k - a);
            }
        }
    }
}

#[test]
fn structured_points_are_more_even_than_random_ones() {
    let n = 1024;
    for seed in [1, 2, 3] {
        let random = l2_star_squared(&points(Sampling::Random, seed, n, 4));
        let latin = l2_star_squared(&points(Sampling::LatinHypercube, seed, n, 4));
        let sobol = l2_star_squared(&points(Sampling::Sobol, seed, n, 4));
        assert!(latin < random, "seed {seed}: latin {latin:e} vs random {random:e}");
        assert!(sobol < latin, "seed {seed}: sobol {sobol:e} vs latin {latin:e}");
        assert!(sobol < random / 10.0, "seed {seed}: sobol {sobol:e} vs random {random:e}");
    }
}

#[test]
fn seeds_scramble_differently_and_reproducibly() {
    let a = points(Sampling::Sobol, 1, 64, 3);
    assert_eq!(a, points(Sampling::Sobol, 1, 64, 3));
    assert_ne!(a, points(Sampling::Sobol, 2, 64, 3));
    let l = points(Sampling::LatinHypercube, 1, 64, 3);
    assert_ne!(l, points(Sampling::LatinHypercube, 2, 64, 3));
}

fn transpose(points: &[Vec<f64>]) -> Vec<Vec<f64>> {
    (0..points[0].len()).map(|d| points.iter().map(|p| p[d]).collect()).collect()
}
