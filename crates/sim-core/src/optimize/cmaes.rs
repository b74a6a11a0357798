//! CMA-ES, the covariance matrix adaptation evolution strategy (Hansen, "The CMA Evolution
//! Strategy: A Tutorial", 2016, with its default parameters), minimising over `Rⁿ`.
//!
//! Deterministic: generation `g`'s standard normal vectors come from run-keyed streams
//! (`RunRng::new(seed, g·λ + k, CMA_STREAM)` for candidate `k`), the ranking breaks ties by
//! candidate index, and the eigendecomposition is plain arithmetic in a fixed order. So the
//! state after any list of objective values is a pure function of it, which is what lets
//! a worker and the results service each replay a search from its stored values alone.

use super::eigen;
use crate::rng::RunRng;

/// The stream of the search's own draws (parameter streams are `param as u64`, noise is
/// `1 << 63`).
const CMA_STREAM: u64 = 1 << 62;

/// A CMA-ES search between generations.
#[derive(Debug, Clone)]
pub(crate) struct Cmaes {
    n: usize,
    lambda: usize,
    weights: Vec<f64>,
    mueff: f64,
    cs: f64,
    ds: f64,
    cc: f64,
    c1: f64,
    cmu: f64,
    /// E‖N(0, I)‖.
    chi_n: f64,
    mean: Vec<f64>,
    sigma: f64,
    pc: Vec<f64>,
    ps: Vec<f64>,
    /// Covariance, row-major.
    c: Vec<f64>,
    /// Its eigenvectors (columns, row-major) and the square roots of its eigenvalues.
    b: Vec<f64>,
    d: Vec<f64>,
    generation: u32,
    seed: u64,
}

impl Cmaes {
    /// A search from `mean` with step size `sigma` and `lambda` (at least 2) candidates per
    /// generation.
    pub(crate) fn new(mean: Vec<f64>, sigma: f64, lambda: usize, seed: u64) -> Cmaes {
        let n = mean.len();
        let nf = n as f64;
        let lambda = lambda.max(2);
        let mu = lambda / 2;
        let raw: Vec<f64> = (1..=mu).map(|i| ((lambda as f64 + 1.0) / 2.0).ln() - (i as f64).ln()).collect();
        let total: f64 = raw.iter().sum();
        let weights: Vec<f64> = raw.iter().map(|w| w / total).collect();
        let mueff = 1.0 / weights.iter().map(|w| w * w).sum::<f64>();
        let cs = (mueff + 2.0) / (nf + mueff + 5.0);
        let ds = 1.0 + 2.0 * (((mueff - 1.0) / (nf + 1.0)).sqrt() - 1.0).max(0.0) + cs;
        let cc = (4.0 + mueff / nf) / (nf + 4.0 + 2.0 * mueff / nf);
        let c1 = 2.0 / ((nf + 1.3).powi(2) + mueff);
        let cmu = (1.0 - c1).min(2.0 * (mueff - 2.0 + 1.0 / mueff) / ((nf + 2.0).powi(2) + mueff));
        let chi_n = nf.sqrt() * (1.0 - 1.0 / (4.0 * nf) + 1.0 / (21.0 * nf * nf));
        Cmaes {
            n,
            lambda,
            weights,
            mueff,
            cs,
            ds,
            cc,
            c1,
            cmu,
            chi_n,
            mean,
            sigma,
            pc: vec![0.0; n],
            ps: vec![0.0; n],
            c: eigen::identity(n),
            b: eigen::identity(n),
            d: vec![1.0; n],
            generation: 0,
            seed,
        }
    }

    /// Generations told so far.
    pub(crate) fn generation(&self) -> u32 {
        self.generation
    }

    pub(crate) fn sigma(&self) -> f64 {
        self.sigma
    }

    pub(crate) fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// The search distribution's widest standard deviation along a coordinate,
    /// `σ · maxᵢ √Cᵢᵢ`: how far apart the candidates still are.
    pub(crate) fn width(&self) -> f64 {
        let widest = (0..self.n).map(|i| self.c[i * self.n + i]).fold(0.0, f64::max);
        self.sigma * widest.sqrt()
    }

    /// The covariance's condition number (∞ once it is degenerate).
    pub(crate) fn condition(&self) -> f64 {
        let (lo, hi) = self.d.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), d| (lo.min(*d), hi.max(*d)));
        if lo > 0.0 { (hi / lo).powi(2) } else { f64::INFINITY }
    }

    /// The current generation's `lambda` candidates, `m + σ·B·D·z` for its standard normal
    /// vectors `z`.
    pub(crate) fn candidates(&self) -> Vec<Vec<f64>> {
        (0..self.lambda)
            .map(|k| {
                let run = u64::from(self.generation) * self.lambda as u64 + k as u64;
                let mut rng = RunRng::new(self.seed, run, CMA_STREAM);
                let dz: Vec<f64> = self.d.iter().map(|d| d * rng.standard_normal()).collect();
                (0..self.n)
                    .map(|i| {
                        let y: f64 = (0..self.n).map(|j| self.b[i * self.n + j] * dz[j]).sum();
                        self.mean[i] + self.sigma * y
                    })
                    .collect()
            })
            .collect()
    }

    /// Moves to the next generation given the current generation's `candidates` (what
    /// [`Cmaes::candidates`] returned) and their objective values (to be minimised; NaN ranks
    /// last; ties go to the lower index).
    pub(crate) fn tell(&mut self, candidates: &[Vec<f64>], values: &[f64]) {
        let n = self.n;
        let mut order: Vec<usize> = (0..self.lambda).collect();
        let value = |k: usize| values.get(k).copied().unwrap_or(f64::NAN);
        order.sort_by(|&a, &b| match (value(a).is_nan(), value(b).is_nan()) {
            (false, false) => value(a).total_cmp(&value(b)),
            (nan_a, nan_b) => nan_a.cmp(&nan_b),
        });
        let old = self.mean.clone();
        // Steps of the selected candidates, in units of σ.
        let steps: Vec<Vec<f64>> = order[..self.weights.len()]
            .iter()
            .map(|&k| (0..n).map(|i| (candidates[k][i] - old[i]) / self.sigma).collect())
            .collect();
        let yw: Vec<f64> =
            (0..n).map(|i| self.weights.iter().zip(&steps).map(|(w, y)| w * y[i]).sum()).collect();
        for ((m, o), y) in self.mean.iter_mut().zip(&old).zip(&yw) {
            *m = o + self.sigma * y;
        }
        // C^(-1/2)·yw = B·D⁻¹·Bᵀ·yw.
        let bt_yw: Vec<f64> =
            (0..n).map(|k| (0..n).map(|i| self.b[i * n + k] * yw[i]).sum::<f64>() / self.d[k]).collect();
        let inv_sqrt_yw: Vec<f64> =
            (0..n).map(|i| (0..n).map(|k| self.b[i * n + k] * bt_yw[k]).sum()).collect();
        let cs_norm = (self.cs * (2.0 - self.cs) * self.mueff).sqrt();
        for (p, v) in self.ps.iter_mut().zip(&inv_sqrt_yw) {
            *p = (1.0 - self.cs) * *p + cs_norm * v;
        }
        let ps_norm = self.ps.iter().map(|p| p * p).sum::<f64>().sqrt();
        let generations = f64::from(self.generation + 1);
        let hsig = ps_norm / (1.0 - (1.0 - self.cs).powf(2.0 * generations)).sqrt()
            < (1.4 + 2.0 / (n as f64 + 1.0)) * self.chi_n;
        let cc_norm = (self.cc * (2.0 - self.cc) * self.mueff).sqrt();
        for (p, y) in self.pc.iter_mut().zip(&yw) {
            *p = (1.0 - self.cc) * *p + if hsig { cc_norm * y } else { 0.0 };
        }
        let lost = if hsig { 0.0 } else { self.cc * (2.0 - self.cc) };
        for i in 0..n {
            for j in 0..n {
                let rank_mu: f64 = self.weights.iter().zip(&steps).map(|(w, y)| w * y[i] * y[j]).sum();
                let cij = self.c[i * n + j];
                self.c[i * n + j] = (1.0 - self.c1 - self.cmu) * cij
                    + self.c1 * (self.pc[i] * self.pc[j] + lost * cij)
                    + self.cmu * rank_mu;
            }
        }
        self.sigma *= ((self.cs / self.ds) * (ps_norm / self.chi_n - 1.0)).exp();
        // Symmetric by construction; average the halves so rounding keeps it so exactly.
        for i in 0..n {
            for j in i + 1..n {
                let s = 0.5 * (self.c[i * n + j] + self.c[j * n + i]);
                self.c[i * n + j] = s;
                self.c[j * n + i] = s;
            }
        }
        let (values, vectors) = eigen::symmetric(&self.c, n);
        self.d = values.iter().map(|v| v.max(0.0).sqrt()).collect();
        self.b = vectors;
        self.generation += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimise(f: impl Fn(&[f64]) -> f64, start: Vec<f64>, generations: u32, seed: u64) -> Cmaes {
        let mut search = Cmaes::new(start, 0.5, 8, seed);
        while search.generation() < generations && search.width() > 1e-10 {
            let candidates = search.candidates();
            let values: Vec<f64> = candidates.iter().map(|x| f(x)).collect();
            search.tell(&candidates, &values);
        }
        search
    }

    #[test]
    fn finds_the_minimum_of_an_ill_conditioned_rotated_bowl() {
        // f(x) = (x0 + x1 - 1)² + 100·(x0 - x1 - 0.2)²: minimum at (0.6, 0.4), condition 100.
        let f = |x: &[f64]| (x[0] + x[1] - 1.0).powi(2) + 100.0 * (x[0] - x[1] - 0.2).powi(2);
        for seed in 0..5 {
            let search = minimise(f, vec![3.0, -2.0], 400, seed);
            let m = search.mean();
            assert!((m[0] - 0.6).abs() < 1e-6 && (m[1] - 0.4).abs() < 1e-6, "seed {seed}: {m:?}");
        }
    }

    #[test]
    fn finds_the_minimum_of_rosenbrock_in_four_dimensions() {
        let f = |x: &[f64]| {
            x.windows(2).map(|w| 100.0 * (w[1] - w[0] * w[0]).powi(2) + (1.0 - w[0]).powi(2)).sum::<f64>()
        };
        let search = minimise(f, vec![0.0; 4], 2_000, 1);
        assert!(search.mean().iter().all(|x| (x - 1.0).abs() < 1e-4), "{:?}", search.mean());
    }

    #[test]
    fn nan_ranks_last_and_replays_are_bit_identical() {
        let f = |x: &[f64]| if x[0] < 0.0 { f64::NAN } else { (x[0] - 1.0).powi(2) + x[1] * x[1] };
        let a = minimise(f, vec![0.5, 0.5], 60, 7);
        let b = minimise(f, vec![0.5, 0.5], 60, 7);
        assert_eq!(
            a.mean().iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            b.mean().iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
        assert!((a.mean()[0] - 1.0).abs() < 1e-3 && a.mean()[1].abs() < 1e-3, "{:?}", a.mean());
        let c = minimise(f, vec![0.5, 0.5], 60, 8);
        assert_ne!(a.mean(), c.mean());
    }
}
