//! Variance-based sensitivity analysis: the design of a Sobol'-indices job and its estimators.
//!
//! With `d` varied parameters and `n` base samples, the job runs the Saltelli design of
//! `n·(d+2)` runs. Run `r` belongs to base sample `j = r / (d+2)` and plays the role
//! `r % (d+2)`: 0 is row `j` of matrix A, 1 row `j` of matrix B, and `2+i` row `j` of
//! AB⁽ⁱ⁾ (A with column `i` taken from B). A and B are the two halves of point `j` of a
//! `2d`-dimensional scrambled Sobol' sequence (dimensions `0..d` and `d..2d`), mapped through
//! each parameter's distribution by its inverse CDF — the layout `scipy.stats.sobol_indices`
//! uses. A run's values depend only on the seed, `n`, `d` and the run index, never on how the
//! job is split. [`estimate`] turns the runs' outputs into first-order and total indices.

pub mod estimate;

use crate::sampling::{MAX_SOBOL_DIMENSIONS, Sampling};

/// The most parameters a sensitivity job may vary: A and B take a Sobol' dimension each.
pub const MAX_PARAMS: usize = MAX_SOBOL_DIMENSIONS / 2;

/// The most bootstrap resamples a sensitivity job may ask for.
pub const MAX_BOOTSTRAP_RESAMPLES: u32 = 10_000;

/// The most metric values a sensitivity job's indices are computed from (runs × metrics):
/// the results service holds them in memory (8 bytes each, twice) to compute the indices.
pub const MAX_VALUES: u64 = 1 << 23;

/// Which matrix of the design a run's row comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    A,
    B,
    /// AB⁽ⁱ⁾: A's row with parameter `i` from B.
    Mixed(usize),
}

/// Runs per base sample: A, B and one AB⁽ⁱ⁾ per parameter.
pub const fn runs_per_sample(params: usize) -> u64 {
    params as u64 + 2
}

/// `samples·(params+2)`, or `None` when that overflows `u64`.
pub fn design_runs(samples: u64, params: usize) -> Option<u64> {
    samples.checked_mul(runs_per_sample(params))
}

/// The base sample of run `run` and its role.
pub fn layout(params: usize, run: u64) -> (u64, Role) {
    let per = runs_per_sample(params);
    let role = match run % per {
        0 => Role::A,
        1 => Role::B,
        k => Role::Mixed((k - 2) as usize),
    };
    (run / per, role)
}

/// The uniform variate in (0, 1) of parameter `k` (of `params`) in run `run` of the design
/// of `samples` base samples seeded with `seed`.
pub fn unit(seed: u64, samples: u64, params: usize, run: u64, k: usize) -> f64 {
    let (sample, role) = layout(params, run);
    let from_b = match role {
        Role::A => false,
        Role::B => true,
        Role::Mixed(i) => i == k,
    };
    let dim = if from_b { params + k } else { k };
    Sampling::Sobol.uniform(seed, samples, sample, dim, dim as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit_point(seed: u64, samples: u64, params: usize, run: u64, out: &mut Vec<f64>) {
        out.clear();
        out.extend((0..params).map(|k| unit(seed, samples, params, run, k)));
    }

    #[test]
    fn runs_walk_a_b_then_each_mixed_matrix_per_sample() {
        let roles: Vec<_> = (0..10).map(|r| layout(3, r)).collect();
        assert_eq!(
            roles,
            [
                (0, Role::A),
                (0, Role::B),
                (0, Role::Mixed(0)),
                (0, Role::Mixed(1)),
                (0, Role::Mixed(2)),
                (1, Role::A),
                (1, Role::B),
                (1, Role::Mixed(0)),
                (1, Role::Mixed(1)),
                (1, Role::Mixed(2)),
            ]
        );
        assert_eq!(design_runs(1_000, 3), Some(5_000));
        assert_eq!(design_runs(u64::MAX / 2, 1), None);
    }

    #[test]
    fn mixed_rows_take_one_column_from_b_and_the_rest_from_a() {
        let (seed, n, d) = (17, 64, 4);
        let (mut a, mut b, mut ab) = (Vec::new(), Vec::new(), Vec::new());
        for j in 0..n {
            let first = j * runs_per_sample(d);
            unit_point(seed, n, d, first, &mut a);
            unit_point(seed, n, d, first + 1, &mut b);
            assert!(a.iter().chain(&b).all(|u| *u > 0.0 && *u < 1.0));
            for i in 0..d {
                unit_point(seed, n, d, first + 2 + i as u64, &mut ab);
                for k in 0..d {
                    let want = if k == i { b[k] } else { a[k] };
                    assert_eq!(ab[k].to_bits(), want.to_bits(), "sample {j}, AB({i}), column {k}");
                }
            }
        }
    }

    #[test]
    fn a_and_b_are_one_balanced_2d_dimensional_sobol_point_set() {
        // 64 base samples: each of the 2d columns of [A | B] hits each 1/64 interval once.
        let (n, d) = (64u64, 3usize);
        let mut hits = vec![[0u8; 64]; 2 * d];
        let mut u = Vec::new();
        for j in 0..n {
            for (offset, run) in [(0, 0), (d, 1)] {
                unit_point(5, n, d, j * runs_per_sample(d) + run, &mut u);
                for (k, x) in u.iter().enumerate() {
                    hits[offset + k][(x * 64.0) as usize] += 1;
                }
            }
        }
        assert!(hits.iter().all(|column| column.iter().all(|c| *c == 1)), "{hits:?}");
    }
}
