//! Sobol' indices from the outputs of a Saltelli design ([`super`]), computed as
//! `scipy.stats.sobol_indices` computes them, with BCa bootstrap confidence intervals as its
//! `bootstrap()` gives them:
//!
//! - the outputs are centred on the mean of A's and B's outputs (Sobol' and Levitan, 1999);
//! - `V` is the variance (ddof 0) of A's and B's outputs together;
//! - first order (Saltelli et al., 2010): `Sᵢ = mean(f_B·(f_AB⁽ⁱ⁾ − f_A)) / V`;
//! - total (Jansen, 1999): `S_Tᵢ = mean((f_A − f_AB⁽ⁱ⁾)²) / (2V)`;
//! - a constant output (`V = 0`) has every index 0;
//! - the intervals resample base samples with replacement (the same resamples for every
//!   index and every metric of a job), bias-corrected and accelerated (Efron and Tibshirani,
//!   1993, 14.3): `z₀` from the fraction of resampled estimates below the estimate (ties
//!   count half), the acceleration from the jackknife, the bounds linearly interpolated
//!   quantiles of the resampled estimates.
//!
//! A base sample with a non-finite output in any of its runs (e.g. a rise time the run never
//! reached) is left out whole, and counted. Everything is a pure function of the outputs and
//! the bootstrap's seed: the same job gives the same bits.

use super::runs_per_sample;
use crate::rng::RunRng;
use crate::special::{norm_cdf, norm_ppf};

/// An index with its confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub value: f64,
    pub lo: f64,
    pub hi: f64,
}

/// How the confidence intervals are resampled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bootstrap {
    /// Resamples of the base samples (0: no intervals, `lo` and `hi` are NaN).
    pub resamples: u32,
    /// Two-sided confidence level in (0, 1).
    pub confidence: f64,
    pub seed: u64,
}

/// One output's indices with respect to each parameter, in the parameters' order.
#[derive(Debug, Clone, PartialEq)]
pub struct Indices {
    /// Base samples whose every run has a finite output: the ones the indices use.
    pub samples_used: u64,
    /// Base samples left out for a non-finite output.
    pub samples_dropped: u64,
    /// The output's variance over A's and B's runs (ddof 0).
    pub variance: f64,
    pub first_order: Vec<Estimate>,
    pub total_order: Vec<Estimate>,
}

/// Keeps the bootstrap's resampling stream apart from every run stream of the job's seed.
const BOOTSTRAP_KEY: u64 = 0xb007_57a9_0000_0001;

/// The indices of an output of a design with `params` parameters, from its values `outputs`
/// in run order (base sample after base sample; a trailing incomplete base sample is ignored).
pub fn indices(params: usize, outputs: &[f64], bootstrap: &Bootstrap) -> Indices {
    let design = Design::new(params, outputs);
    let total = design.sums(0..design.samples());
    let mut point = vec![0.0; 2 * params];
    total.indices(&mut point);
    let variance = total.variance();
    let (lo, hi) = if bootstrap.resamples == 0 || design.samples() == 0 {
        (vec![f64::NAN; 2 * params], vec![f64::NAN; 2 * params])
    } else {
        design.bca(&total, &point, bootstrap)
    };
    let estimate = |k: usize| Estimate { value: point[k], lo: lo[k], hi: hi[k] };
    Indices {
        samples_used: design.samples() as u64,
        samples_dropped: design.dropped,
        variance: if design.samples() == 0 { f64::NAN } else { variance },
        first_order: (0..params).map(estimate).collect(),
        total_order: (params..2 * params).map(estimate).collect(),
    }
}

/// The centred outputs of the kept base samples.
struct Design {
    params: usize,
    a: Vec<f64>,
    b: Vec<f64>,
    /// AB⁽ⁱ⁾ of sample `j` at `j·params + i`.
    ab: Vec<f64>,
    dropped: u64,
}

impl Design {
    fn new(params: usize, outputs: &[f64]) -> Design {
        let per = runs_per_sample(params) as usize;
        let mut design = Design { params, a: Vec::new(), b: Vec::new(), ab: Vec::new(), dropped: 0 };
        for sample in outputs.chunks_exact(per) {
            if sample.iter().all(|y| y.is_finite()) {
                design.a.push(sample[0]);
                design.b.push(sample[1]);
                design.ab.extend_from_slice(&sample[2..]);
            } else {
                design.dropped += 1;
            }
        }
        let n = design.a.len();
        if n > 0 {
            let mean = (design.a.iter().sum::<f64>() + design.b.iter().sum::<f64>()) / (2 * n) as f64;
            for y in design.a.iter_mut().chain(&mut design.b).chain(&mut design.ab) {
                *y -= mean;
            }
        }
        design
    }

    fn samples(&self) -> usize {
        self.a.len()
    }

    fn sums(&self, samples: impl Iterator<Item = usize>) -> Sums {
        let mut sums = Sums::new(self.params);
        for j in samples {
            sums.add(self, j, 1.0);
        }
        sums
    }

    /// BCa bounds of every index (first orders, then totals).
    fn bca(&self, total: &Sums, point: &[f64], bootstrap: &Bootstrap) -> (Vec<f64>, Vec<f64>) {
        let (n, k) = (self.samples(), point.len());
        let resamples = bootstrap.resamples as usize;
        // Resampled estimates, index-major: replicate `r` of index `i` at `i·resamples + r`.
        let mut replicates = vec![0.0; k * resamples];
        let mut estimate = vec![0.0; k];
        let mut sums = Sums::new(self.params);
        for r in 0..resamples {
            let mut rng = RunRng::new(bootstrap.seed ^ BOOTSTRAP_KEY, r as u64, 0);
            sums.clear();
            for _ in 0..n {
                // Multiply-shift: uniform on 0..n to within n/2^64.
                let j = ((u128::from(rng.next_u64()) * n as u128) >> 64) as usize;
                sums.add(self, j, 1.0);
            }
            sums.indices(&mut estimate);
            for (i, value) in estimate.iter().enumerate() {
                replicates[i * resamples + r] = *value;
            }
        }
        // Jackknife: each base sample left out in turn.
        let mut jackknife = vec![0.0; k * n];
        let mut without = total.clone();
        for j in 0..n {
            without.add(self, j, -1.0);
            without.indices(&mut estimate);
            without.add(self, j, 1.0);
            for (i, value) in estimate.iter().enumerate() {
                jackknife[i * n + j] = *value;
            }
        }
        let z_alpha = norm_ppf((1.0 - bootstrap.confidence) / 2.0);
        let mut lo = Vec::with_capacity(k);
        let mut hi = Vec::with_capacity(k);
        for i in 0..k {
            let boot = &mut replicates[i * resamples..(i + 1) * resamples];
            let (l, h) = bca_bounds(point[i], boot, &jackknife[i * n..(i + 1) * n], z_alpha);
            lo.push(l);
            hi.push(h);
        }
        (lo, hi)
    }
}

/// The sums the estimators are ratios of, over a multiset of base samples.
#[derive(Debug, Clone)]
struct Sums {
    count: f64,
    a: f64,
    b: f64,
    aa: f64,
    bb: f64,
    /// Σ f_B·(f_AB⁽ⁱ⁾ − f_A) per parameter.
    first: Vec<f64>,
    /// Σ (f_A − f_AB⁽ⁱ⁾)² per parameter.
    total: Vec<f64>,
}

impl Sums {
    fn new(params: usize) -> Sums {
        Sums {
            count: 0.0,
            a: 0.0,
            b: 0.0,
            aa: 0.0,
            bb: 0.0,
            first: vec![0.0; params],
            total: vec![0.0; params],
        }
    }

    fn clear(&mut self) {
        (self.count, self.a, self.b, self.aa, self.bb) = (0.0, 0.0, 0.0, 0.0, 0.0);
        self.first.fill(0.0);
        self.total.fill(0.0);
    }

    /// Adds (`sign` 1) or removes (`sign` -1) base sample `j`.
    fn add(&mut self, design: &Design, j: usize, sign: f64) {
        let (a, b) = (design.a[j], design.b[j]);
        self.count += sign;
        self.a += sign * a;
        self.b += sign * b;
        self.aa += sign * a * a;
        self.bb += sign * b * b;
        let mixed = &design.ab[j * design.params..(j + 1) * design.params];
        for ((first, total), x) in self.first.iter_mut().zip(&mut self.total).zip(mixed) {
            *first += sign * b * (x - a);
            *total += sign * (a - x) * (a - x);
        }
    }

    fn variance(&self) -> f64 {
        let n2 = 2.0 * self.count;
        let mean = (self.a + self.b) / n2;
        ((self.aa + self.bb) / n2 - mean * mean).max(0.0)
    }

    /// First orders then totals; 0 where the variance is (scipy's "null variance means null
    /// indices").
    fn indices(&self, out: &mut [f64]) {
        let variance = self.variance();
        let (first, total) = out.split_at_mut(self.first.len());
        let ratio = |x: f64| if x.is_finite() { x } else { 0.0 };
        for (o, s) in first.iter_mut().zip(&self.first) {
            *o = ratio(s / self.count / variance);
        }
        for (o, s) in total.iter_mut().zip(&self.total) {
            *o = ratio(0.5 * s / self.count / variance);
        }
    }
}

/// The BCa interval of an estimate `theta` from its resampled values `boot` (sorted here) and
/// its jackknife values; `z_alpha` is the lower tail's normal quantile.
fn bca_bounds(theta: f64, boot: &mut [f64], jackknife: &[f64], z_alpha: f64) -> (f64, f64) {
    let below = boot.iter().filter(|x| **x < theta).count() + boot.iter().filter(|x| **x <= theta).count();
    let z0 = norm_ppf(below as f64 / (2 * boot.len()) as f64);
    let mean = jackknife.iter().sum::<f64>() / jackknife.len() as f64;
    let (cubes, squares) = jackknife.iter().fold((0.0, 0.0), |(c, s), x| {
        let u = mean - x;
        (c + u * u * u, s + u * u)
    });
    // A degenerate jackknife (every value equal) has no skew to correct.
    let accel = if squares > 0.0 { cubes / (6.0 * squares.powf(1.5)) } else { 0.0 };
    boot.sort_by(f64::total_cmp);
    let level = |z: f64| {
        let shifted = z0 + z;
        norm_cdf(z0 + shifted / (1.0 - accel * shifted))
    };
    let (p_lo, p_hi) = if z0.is_finite() { (level(z_alpha), level(-z_alpha)) } else { (f64::NAN, f64::NAN) };
    (quantile(boot, p_lo), quantile(boot, p_hi))
}

/// The linearly interpolated `p`-quantile of sorted `xs` (NumPy's default); NaN for NaN `p`.
fn quantile(xs: &[f64], p: f64) -> f64 {
    if !(0.0..=1.0).contains(&p) || xs.is_empty() {
        return f64::NAN;
    }
    let pos = p * (xs.len() - 1) as f64;
    let below = pos.floor() as usize;
    let above = (below + 1).min(xs.len() - 1);
    xs[below] + (pos - below as f64) * (xs[above] - xs[below])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let xs = [1.0, 2.0, 4.0, 8.0];
        assert_eq!(quantile(&xs, 0.0), 1.0);
        assert_eq!(quantile(&xs, 1.0), 8.0);
        assert_eq!(quantile(&xs, 0.5), 3.0);
        assert!((quantile(&xs, 0.9) - 6.8).abs() < 1e-12);
        assert!(quantile(&xs, f64::NAN).is_nan());
    }

    #[test]
    fn a_constant_output_has_zero_indices_and_incomplete_samples_are_dropped() {
        let mut outputs = vec![3.0; 4 * 50];
        outputs[7] = f64::NAN;
        outputs.push(1.0); // a trailing partial sample
        let bootstrap = Bootstrap { resamples: 50, confidence: 0.95, seed: 1 };
        let got = indices(2, &outputs, &bootstrap);
        assert_eq!((got.samples_used, got.samples_dropped, got.variance), (49, 1, 0.0));
        for e in got.first_order.iter().chain(&got.total_order) {
            assert_eq!((e.value, e.lo, e.hi), (0.0, 0.0, 0.0));
        }
        let none = indices(2, &[f64::NAN; 4], &bootstrap);
        assert_eq!((none.samples_used, none.samples_dropped), (0, 1));
        assert!(none.variance.is_nan() && none.first_order[0].lo.is_nan());
    }

    #[test]
    fn the_same_seed_gives_the_same_bits_and_another_seed_other_intervals() {
        let outputs: Vec<f64> = (0..5 * 200).map(|i| ((i * 7919) % 1013) as f64 / 1013.0).collect();
        let at = |seed| indices(3, &outputs, &Bootstrap { resamples: 200, confidence: 0.9, seed });
        assert_eq!(at(4), at(4));
        assert_eq!(at(4).first_order[0].value, at(5).first_order[0].value);
        assert_ne!(at(4).first_order[0].lo, at(5).first_order[0].lo);
    }
}
