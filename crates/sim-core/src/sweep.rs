//! Sweep grids: axes of values over parameters, and the pure mapping between a run index and
//! a grid point (so sweeps split into chunks exactly like Monte Carlo jobs).

use crate::param::Param;

/// One axis of a sweep grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub param: Param,
    pub values: AxisValues,
}

/// The values along one axis.
#[derive(Debug, Clone, PartialEq)]
pub enum AxisValues {
    List(Vec<f64>),
    /// `num` evenly spaced values from `start` to `stop`, both included.
    Linspace {
        start: f64,
        stop: f64,
        num: u32,
    },
    /// `num` geometrically spaced values from `start` to `stop` (both > 0), both included.
    Logspace {
        start: f64,
        stop: f64,
        num: u32,
    },
}

impl AxisValues {
    /// Number of values on the axis.
    pub fn len(&self) -> u64 {
        match self {
            AxisValues::List(values) => values.len() as u64,
            AxisValues::Linspace { num, .. } | AxisValues::Logspace { num, .. } => u64::from(*num),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`-th value (`i < len()`; NaN past the end, never a panic).
    ///
    /// The ends are exactly `start` and `stop`, and every value lies between them even after
    /// rounding, so checking the ends checks the whole axis (validation relies on this).
    pub fn value(&self, i: u64) -> f64 {
        match *self {
            AxisValues::List(ref values) => {
                usize::try_from(i).ok().and_then(|i| values.get(i)).copied().unwrap_or(f64::NAN)
            }
            AxisValues::Linspace { start, stop, num } => {
                spaced(start, stop, num, i, |i, last| {
                    let span = stop - start;
                    // Finite ends far apart can overflow the span; the blend cannot.
                    if span.is_finite() {
                        start + span * i / last
                    } else {
                        let t = i / last;
                        start * (1.0 - t) + stop * t
                    }
                })
            }
            AxisValues::Logspace { start, stop, num } => {
                let (ln_start, ln_stop) = (start.ln(), stop.ln());
                spaced(start, stop, num, i, |i, last| (ln_start + (ln_stop - ln_start) * i / last).exp())
            }
        }
    }
}

/// Shared shape of linspace and logspace: exact ends, interior `interp(i, num - 1)` kept
/// within `[start, stop]`.
fn spaced(start: f64, stop: f64, num: u32, i: u64, interp: impl Fn(f64, f64) -> f64) -> f64 {
    let last = u64::from(num).saturating_sub(1);
    if num == 0 || i > last {
        f64::NAN
    } else if i == 0 {
        start
    } else if i == last {
        stop
    } else {
        let v = interp(i as f64, last as f64);
        // `max`/`min` rather than `clamp`: `clamp` panics on NaN or reversed bounds.
        v.max(start.min(stop)).min(start.max(stop))
    }
}

/// Number of grid points: the product of the axis lengths, `None` on overflow. An empty list
/// of axes spans one point (the empty product).
pub fn grid_len(axes: &[Axis]) -> Option<u64> {
    axes.iter().try_fold(1u64, |n, axis| n.checked_mul(axis.values.len()))
}

/// Decomposes a run index into one coordinate per axis (mixed radix, the first axis varies
/// slowest). `out.len()` must equal `axes.len()`; an `index` past the grid wraps around, and an
/// axis of length 0 gets coordinate 0 (such grids have no points).
pub fn grid_point(axes: &[Axis], index: u64, out: &mut [u64]) {
    debug_assert_eq!(axes.len(), out.len());
    for ((_, coord), slot) in digits_last_first(axes, index).zip(out.iter_mut().rev()) {
        *slot = coord;
    }
}

/// Appends the parameter values of grid point `index` to `out`, in axis order: what
/// [`grid_point`] and [`AxisValues::value`] give, without a coordinate buffer.
pub fn grid_values(axes: &[Axis], index: u64, out: &mut Vec<(Param, f64)>) {
    let first = out.len();
    out.extend(digits_last_first(axes, index).map(|(axis, c)| (axis.param, axis.values.value(c))));
    out[first..].reverse();
}

/// The mixed-radix digits of `index`, last axis first (the order they fall out of `%` / `/`).
fn digits_last_first(axes: &[Axis], index: u64) -> impl Iterator<Item = (&Axis, u64)> {
    let mut rest = index;
    axes.iter().rev().map(move |axis| {
        let len = axis.values.len();
        let coord = rest.checked_rem(len).unwrap_or(0);
        rest = rest.checked_div(len).unwrap_or(0);
        (axis, coord)
    })
}

/// The inverse of [`grid_point`]: the run index of a grid point (coordinates past an axis
/// wrap; never panics).
pub fn grid_index(axes: &[Axis], coords: &[u64]) -> u64 {
    debug_assert_eq!(axes.len(), coords.len());
    axes.iter()
        .zip(coords)
        .fold(0u64, |index, (axis, &c)| index.wrapping_mul(axis.values.len()).wrapping_add(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn axis(values: AxisValues) -> Axis {
        Axis { param: Param::Kp, values }
    }

    #[test]
    fn linspace_has_exact_ends_and_even_steps() {
        let v = AxisValues::Linspace { start: 0.1, stop: 0.7, num: 7 };
        assert_eq!(v.len(), 7);
        let got: Vec<f64> = (0..7).map(|i| v.value(i)).collect();
        assert_eq!(got[0], 0.1);
        assert_eq!(got[6], 0.7);
        for (i, x) in got.iter().enumerate() {
            assert!((x - (0.1 + 0.1 * i as f64)).abs() < 1e-15, "{i}: {x}");
        }
        assert!(v.value(7).is_nan());
    }

    #[test]
    fn linspace_descending_and_single_point() {
        let v = AxisValues::Linspace { start: 4.0, stop: 1.0, num: 4 };
        assert_eq!((0..4).map(|i| v.value(i)).collect::<Vec<_>>(), [4.0, 3.0, 2.0, 1.0]);
        let one = AxisValues::Linspace { start: 2.5, stop: 9.0, num: 1 };
        assert_eq!(one.value(0), 2.5);
        assert_eq!(AxisValues::Linspace { start: 0.0, stop: 1.0, num: 0 }.len(), 0);
    }

    #[test]
    fn linspace_spanning_most_of_f64_stays_finite() {
        let v = AxisValues::Linspace { start: -f64::MAX, stop: f64::MAX, num: 3 };
        assert_eq!(v.value(1), 0.0);
        assert_eq!(v.value(2), f64::MAX);
    }

    #[test]
    fn logspace_is_geometric_with_exact_ends() {
        let v = AxisValues::Logspace { start: 0.001, stop: 1000.0, num: 7 };
        let got: Vec<f64> = (0..7).map(|i| v.value(i)).collect();
        assert_eq!(got[0], 0.001);
        assert_eq!(got[6], 1000.0);
        for (i, x) in got.iter().enumerate() {
            let want = 10f64.powi(i as i32 - 3);
            assert!((x / want - 1.0).abs() < 1e-12, "{i}: {x} vs {want}");
        }
        assert_eq!(AxisValues::Logspace { start: 3.0, stop: 30.0, num: 1 }.value(0), 3.0);
    }

    #[test]
    fn list_values_in_order() {
        let v = AxisValues::List(vec![3.0, -1.0]);
        assert_eq!((v.len(), v.value(0), v.value(1)), (2, 3.0, -1.0));
        assert!(v.value(2).is_nan() && v.value(u64::MAX).is_nan());
    }

    #[test]
    fn first_axis_varies_slowest() {
        let axes = [axis(AxisValues::List(vec![1.0, 2.0])), axis(AxisValues::List(vec![1.0, 2.0, 3.0]))];
        assert_eq!(grid_len(&axes), Some(6));
        let mut c = [0u64; 2];
        let points: Vec<[u64; 2]> = (0..6)
            .map(|i| {
                grid_point(&axes, i, &mut c);
                c
            })
            .collect();
        assert_eq!(points, [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]]);
    }

    #[test]
    fn grid_len_detects_overflow_and_empty_axes() {
        let big = axis(AxisValues::Linspace { start: 0.0, stop: 1.0, num: u32::MAX });
        assert_eq!(grid_len(&[big.clone(), big.clone()]), Some(u64::from(u32::MAX).pow(2)));
        assert_eq!(grid_len(&[big.clone(), big.clone(), big.clone()]), None);
        assert_eq!(grid_len(&[big, axis(AxisValues::List(vec![]))]), Some(0));
        assert_eq!(grid_len(&[]), Some(1));
    }

    #[test]
    fn empty_axis_never_panics() {
        let axes = [axis(AxisValues::List(vec![])), axis(AxisValues::List(vec![1.0]))];
        let mut c = [9u64; 2];
        grid_point(&axes, 5, &mut c);
        assert_eq!(c, [0, 0]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn index_coords_index_round_trip(lens in prop::collection::vec(1u32..50, 0..5), pick in any::<u64>()) {
            let axes: Vec<Axis> = lens.iter()
                .map(|&num| axis(AxisValues::Linspace { start: 0.0, stop: 1.0, num }))
                .collect();
            let n = grid_len(&axes).unwrap();
            let index = pick % n;
            let mut coords = vec![0u64; axes.len()];
            grid_point(&axes, index, &mut coords);
            for (c, &len) in coords.iter().zip(&lens) {
                prop_assert!(*c < u64::from(len));
            }
            prop_assert_eq!(grid_index(&axes, &coords), index);
            let mut values = vec![(Param::Tau, 0.0)];
            grid_values(&axes, index, &mut values);
            prop_assert_eq!(values.len(), axes.len() + 1);
            for ((axis, &c), &(param, v)) in axes.iter().zip(&coords).zip(&values[1..]) {
                prop_assert_eq!((param, v), (axis.param, axis.values.value(c)));
            }
        }

        #[test]
        fn spaced_values_stay_between_the_ends(
            start in -1e6f64..1e6, stop in -1e6f64..1e6, num in 1u32..1000, pick in any::<u64>(),
        ) {
            let i = pick % u64::from(num);
            let (lo, hi) = (start.min(stop), start.max(stop));
            let v = AxisValues::Linspace { start, stop, num }.value(i);
            prop_assert!(lo <= v && v <= hi);
            let (a, b) = (start.abs() + 1e-9, stop.abs() + 1e-9);
            let w = AxisValues::Logspace { start: a, stop: b, num }.value(i);
            prop_assert!(a.min(b) <= w && w <= a.max(b));
        }
    }
}
