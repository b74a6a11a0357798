//! Count, mean, sum of squared deviations, min and max of a stream of finite values, updated
//! one value at a time (Welford) and merged pairwise (Chan, Golub, LeVeque 1979).
//!
//! Both updates avoid the catastrophic cancellation of `sum(x^2) - n * mean^2`, so the variance
//! of values like 1e6 + noise keeps its digits. Merging is exact in count, min and max; mean and
//! `m2` depend on the merge order only through rounding.

/// Running moments of finite values.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Moments {
    pub(super) count: u64,
    pub(super) mean: f64,
    pub(super) m2: f64,
    pub(super) min: f64,
    pub(super) max: f64,
}

impl Default for Moments {
    fn default() -> Self {
        // The identities of min and max, so the first value replaces both without a branch on
        // emptiness.
        Moments { count: 0, mean: 0.0, m2: 0.0, min: f64::INFINITY, max: f64::NEG_INFINITY }
    }
}

impl Moments {
    /// Adds one finite value (the caller filters out NaN and infinities).
    pub(super) fn add(&mut self, x: f64) {
        debug_assert!(x.is_finite());
        self.count += 1;
        let delta = x - self.mean;
        self.mean += delta / self.count as f64;
        self.m2 += delta * (x - self.mean);
        if x < self.min {
            self.min = x;
        }
        if x > self.max {
            self.max = x;
        }
    }

    /// Adds every value `other` has seen.
    pub(super) fn merge(&mut self, other: &Moments) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            // Copy rather than compute, so merging into an empty summary is exact.
            *self = other.clone();
            return;
        }
        let (na, nb) = (self.count as f64, other.count as f64);
        let n = na + nb;
        let delta = other.mean - self.mean;
        self.mean += delta * (nb / n);
        self.m2 += other.m2 + delta * delta * (na * nb / n);
        self.count += other.count;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// Sample variance (divisor `n - 1`); `None` below two values.
    pub(super) fn variance(&self) -> Option<f64> {
        (self.count >= 2).then(|| self.m2 / (self.count - 1) as f64)
    }

    /// Checks what `from_parts` received, and canonicalises an empty state.
    pub(super) fn from_raw(
        count: u64,
        mean: f64,
        m2: f64,
        min: f64,
        max: f64,
    ) -> Result<Moments, &'static str> {
        if count == 0 {
            // A serialiser may fill an empty summary's floats with zeros; nothing depends on
            // them, so accept anything and store the canonical empty state.
            return Ok(Moments::default());
        }
        if !(min.is_finite() && max.is_finite()) {
            return Err("min and max must be finite");
        }
        if min > max {
            return Err("min exceeds max");
        }
        if mean.is_nan() {
            return Err("mean is NaN");
        }
        // `m2` may be +inf (squared deviations beyond f64::MAX), never negative or NaN.
        if m2.is_nan() || m2 < 0.0 {
            return Err("m2 must be non-negative");
        }
        if count == 1 && m2 != 0.0 {
            return Err("m2 must be 0 for a single value");
        }
        Ok(Moments { count, mean, m2, min, max })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(xs: &[f64]) -> Moments {
        let mut m = Moments::default();
        xs.iter().for_each(|&x| m.add(x));
        m
    }

    #[test]
    fn matches_two_pass_formulas() {
        let xs = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        let m = of(&xs);
        assert_eq!(m.count, 8);
        assert_eq!(m.mean, 5.0);
        // Sum of squared deviations is 32; sample variance 32 / 7.
        assert!((m.variance().expect("n >= 2") - 32.0 / 7.0).abs() < 1e-14);
        assert_eq!((m.min, m.max), (2.0, 9.0));
    }

    #[test]
    fn keeps_digits_of_a_large_offset() {
        // `sum(x^2) - n * mean^2` cancels sums near 1e21 (rounding error ~1e5) down to ~666;
        // Welford is off by about 1e-9.
        // 333 each of 1e9, 1e9 + 1, 1e9 + 2: squared deviations sum to 666 over 999 values.
        let xs: Vec<f64> = (0..999).map(|i| 1e9 + (i % 3) as f64).collect();
        let exact = 666.0 / 998.0;
        let v = of(&xs).variance().expect("n >= 2");
        assert!((v - exact).abs() < 1e-7, "{v} vs {exact}");
    }

    #[test]
    fn merge_equals_sequential_and_identity_is_exact() {
        let xs: Vec<f64> = (0..101).map(|i| (i as f64 * 0.37).sin() * 10.0).collect();
        let whole = of(&xs);
        let mut merged = of(&xs[..40]);
        merged.merge(&of(&xs[40..]));
        assert_eq!(merged.count, whole.count);
        assert_eq!((merged.min, merged.max), (whole.min, whole.max));
        assert!((merged.mean - whole.mean).abs() < 1e-13);
        assert!((merged.m2 - whole.m2).abs() < 1e-10 * whole.m2);

        let mut into_empty = Moments::default();
        into_empty.merge(&whole);
        assert_eq!(into_empty, whole);
        let mut with_empty = whole.clone();
        with_empty.merge(&Moments::default());
        assert_eq!(with_empty, whole);
    }

    #[test]
    fn variance_needs_two_values() {
        assert_eq!(of(&[]).variance(), None);
        assert_eq!(of(&[3.0]).variance(), None);
        assert_eq!(of(&[3.0, 5.0]).variance(), Some(2.0));
    }

    #[test]
    fn from_raw_rejects_inconsistent_state() {
        assert!(Moments::from_raw(2, 1.0, 1.0, 0.0, 2.0).is_ok());
        assert!(Moments::from_raw(2, 1.0, -1.0, 0.0, 2.0).is_err());
        assert!(Moments::from_raw(2, 1.0, f64::NAN, 0.0, 2.0).is_err());
        assert!(Moments::from_raw(2, f64::NAN, 1.0, 0.0, 2.0).is_err());
        assert!(Moments::from_raw(2, 1.0, 1.0, 3.0, 2.0).is_err());
        assert!(Moments::from_raw(2, 1.0, 1.0, f64::NEG_INFINITY, 2.0).is_err());
        assert!(Moments::from_raw(1, 1.0, 1.0, 1.0, 1.0).is_err());
        // An empty state is canonical whatever floats came with it.
        assert_eq!(Moments::from_raw(0, 0.0, 0.0, 0.0, 0.0), Ok(Moments::default()));
    }
}
