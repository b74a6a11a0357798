//! Equal-width histograms drawn from a sketch after the fact, so no value range has to be
//! known before a job runs.

/// One histogram bin: `count` values in `[lo, hi)` (the last bin also includes `hi`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HistogramBin {
    pub lo: f64,
    pub hi: f64,
    pub count: u64,
}

/// `bins` equal-width bins from `min` to `max`, each weighted value counted in the bin holding
/// it (clamped to `[min, max]`). Empty when `bins == 0` or there are no values; a single bin
/// when `min == max`.
pub(super) fn equal_width(
    min: f64,
    max: f64,
    bins: usize,
    values: impl Iterator<Item = (f64, u64)>,
) -> Vec<HistogramBin> {
    let mut values = values.peekable();
    if bins == 0 || values.peek().is_none() {
        return Vec::new();
    }
    if min == max {
        let count = values.map(|(_, n)| n).sum();
        return vec![HistogramBin { lo: min, hi: max, count }];
    }
    let edges = Edges { min, max, bins };
    let mut out: Vec<HistogramBin> =
        (0..bins).map(|k| HistogramBin { lo: edges.at(k), hi: edges.at(k + 1), count: 0 }).collect();
    for (value, n) in values {
        out[edges.bin_of(value.clamp(min, max))].count += n;
    }
    out
}

/// The bin edges of `[min, max]` cut into `bins` equal parts (`min < max`, both finite).
struct Edges {
    min: f64,
    max: f64,
    bins: usize,
}

impl Edges {
    /// Edge `k` of `0..=bins`. Halving first keeps `max - min` finite even for
    /// `-f64::MAX..f64::MAX`; the ends are exact.
    fn at(&self, k: usize) -> f64 {
        match k {
            0 => self.min,
            k if k == self.bins => self.max,
            k => {
                let t = k as f64 / self.bins as f64;
                2.0 * (self.min / 2.0 + (self.max / 2.0 - self.min / 2.0) * t)
            }
        }
    }

    /// The bin of `v` in `[min, max]`, consistent with [`Edges::at`] despite rounding.
    fn bin_of(&self, v: f64) -> usize {
        let t = (v / 2.0 - self.min / 2.0) / (self.max / 2.0 - self.min / 2.0);
        // `as` saturates, so t slightly below 0 gives bin 0.
        let mut k = ((t * self.bins as f64) as usize).min(self.bins - 1);
        while k > 0 && v < self.at(k) {
            k -= 1;
        }
        while k + 1 < self.bins && v >= self.at(k + 1) {
            k += 1;
        }
        k
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_values_by_edges() {
        let values = [(0.0, 1), (0.5, 2), (1.0, 3), (2.5, 4), (4.0, 5)];
        let h = equal_width(0.0, 4.0, 4, values.into_iter());
        let bins: Vec<(f64, f64, u64)> = h.iter().map(|b| (b.lo, b.hi, b.count)).collect();
        assert_eq!(bins, [(0.0, 1.0, 3), (1.0, 2.0, 3), (2.0, 3.0, 4), (3.0, 4.0, 5)]);
    }

    #[test]
    fn clamps_values_outside_the_range() {
        let h = equal_width(1.0, 2.0, 2, [(0.99, 1), (2.01, 2)].into_iter());
        assert_eq!((h[0].count, h[1].count), (1, 2));
    }

    #[test]
    fn degenerate_cases() {
        assert!(equal_width(0.0, 1.0, 0, [(0.5, 1)].into_iter()).is_empty());
        assert!(equal_width(0.0, 1.0, 3, std::iter::empty()).is_empty());
        let single = equal_width(2.0, 2.0, 10, [(2.0, 3), (2.01, 1)].into_iter());
        assert_eq!(single, [HistogramBin { lo: 2.0, hi: 2.0, count: 4 }]);
    }

    #[test]
    fn extreme_ranges_stay_finite_and_ordered() {
        let h = equal_width(-f64::MAX, f64::MAX, 7, [(0.0, 1), (f64::MAX, 1)].into_iter());
        assert!(h.iter().all(|b| b.lo.is_finite() && b.hi.is_finite() && b.lo < b.hi));
        assert!(h.windows(2).all(|w| w[0].hi == w[1].lo));
        assert_eq!((h[3].count, h[6].count), (1, 1));
    }
}
